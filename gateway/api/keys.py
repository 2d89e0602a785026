"""/v1/keys: list and revoke API keys (partner, consumer and ops keys), for operations.

Operators and admins may list keys and revoke them; viewers may not even list them: the
inventory of who holds access (labels name systems and people) is reconnaissance material,
and an operator who has to act on a leaked key must be able to find it. Revoking only ever
takes access away, so operators, who act on incidents, may do it without waiting for an
admin, except for admin keys: an operator must not be able to lock the admins out.
Keys are issued with the CLI only (``edigate partners|consumers|ops issue-key``), so that
the API never returns a key. A key's hash is never shown.

Revoking is idempotent: revoking a revoked key answers 200 with the same ``revoked_at`` and
writes nothing; the first revocation writes ``revoked_at`` and a ``KEY_REVOKED`` ledger
entry, and every process stops accepting the key before its next request (``gateway.api.api_keys``).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from gateway.api.api_keys import Caller, key_view, list_keys, revoke_key
from gateway.api.deps import State, require
from gateway.api.problems import Problem
from gateway.store.models import ApiKey

__all__ = ["router"]

router = APIRouter(tags=["keys"])
log = logging.getLogger("edigate.keys")

OperatorCaller = Annotated[Caller, Depends(require(ops_role="operator"))]
_ROLE_RANK = {"viewer": 1, "operator": 2, "admin": 3}
# Key ids are UUIDs: anything longer, or with characters a database may refuse (NUL), is
# simply not a key.
_ID_MAX = 36


@router.get("/v1/keys", summary="API keys (never their hashes), oldest first")
async def get_keys(
    state: State, caller: OperatorCaller,
    kind: Annotated[str | None, Query(pattern="^(partner|consumer|ops)$")] = None,
    partner: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._@:-]+$",
                                         description="a partner id")] = None,
    revoked: Annotated[bool | None, Query(description="only revoked (true) or active "
                                                      "(false) keys")] = None,
) -> dict[str, Any]:
    def run() -> list[dict[str, Any]]:
        with state.db.read() as session:
            return [key_view(row) for row in
                    list_keys(session, kind=kind, partner_id=partner, revoked=revoked)]

    return {"items": await run_in_threadpool(run)}


@router.post("/v1/keys/{key_id}/revoke",
             summary="Revoke a key: it stops working at once, in every process")
async def post_revoke(key_id: str, state: State, caller: OperatorCaller) -> dict[str, Any]:
    if len(key_id) > _ID_MAX or not key_id.isprintable():
        raise Problem(404, "not-found", "No such key", "no API key has this id")

    def run() -> dict[str, Any]:
        with state.db.transaction() as session:
            target = session.get(ApiKey, key_id)
            if target is None:
                raise Problem(404, "not-found", "No such key", f"no API key {key_id}")
            if target.kind == "ops" and \
                    _ROLE_RANK.get(target.role or "", 3) > _ROLE_RANK.get(caller.role or "", 0):
                raise Problem(403, "forbidden", "Not allowed",
                              f"a {caller.role} key may not revoke a {target.role} key")
            found = revoke_key(session, state.ledger, key_id, actor=caller.actor)
            assert found is not None  # read just above, in the same transaction
            row, _ = found
        # Announced even when it already was revoked: see gateway.api.api_keys.revoke_key.
        problem = state.keys.revoked()
        if problem is not None:
            log.warning("key %s revoked, but this host's other processes could not be told "
                        "(%s): they may accept it until their cache entry expires", key_id,
                        problem)
        return key_view(row)

    return await run_in_threadpool(run)
