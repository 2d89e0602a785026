"""/v1/records: the canonical records feed for internal CRM and SCM systems.

Records come in ``seq`` order, which is commit order (see ``gateway.intake.pipeline``), so a
consumer that resumes ``after`` the last cursor it processed sees every record at least
once. Consumer keys are scoped to the kinds their side of the business needs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import BigInteger, literal, select

from gateway.api.api_keys import Caller
from gateway.api.deps import State, require
from gateway.api.inputs import ID_MAX, SHORT_MAX
from gateway.api.problems import Problem
from gateway.store.models import RecordRow
from gateway.store.scopes import SCOPES

__all__ = ["SCOPES", "router"]

router = APIRouter(prefix="/v1/records", tags=["records"])

# The largest cursor: seq is at most a signed 64-bit integer on every database.
_SEQ_MAX = 2**63 - 1

ReaderCaller = Annotated[Caller, Depends(require(consumer=True, ops_role="viewer"))]


def _kinds_for(caller: Caller) -> frozenset[str]:
    if caller.kind == "ops":
        return SCOPES["all"]
    return SCOPES.get(caller.scope or "", frozenset())


def _item(row: RecordRow) -> dict[str, Any]:
    return {"id": row.id, "cursor": str(row.seq), "kind": row.kind,
            "message_id": row.message_id, "partner_id": row.partner_id,
            "business_number": row.business_number, "status": row.status,
            "created_at": row.created_at.isoformat(), "record": json.loads(row.data)}


@router.get("", summary="Records after a cursor, oldest first")
def feed(state: State, caller: ReaderCaller,
         after: Annotated[str | None, Query(description="cursor of the last record seen",
                                            pattern="^[0-9]*$", max_length=19)] = None,
         kind: Annotated[str | None, Query(max_length=SHORT_MAX)] = None,
         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    kinds = _kinds_for(caller)
    if kind is not None:
        if kind not in kinds:
            raise Problem(403, "forbidden", "Kind not in scope",
                          f"records of kind {kind!r} are not in this key's scope")
        kinds = frozenset({kind})
    start = int(after) if after else 0
    if start > _SEQ_MAX:
        raise Problem(422, "bad-cursor", "Invalid cursor", "cursors are the 'cursor' "
                      "values this feed returns", parameter="after")
    # Bound as BIGINT: the column is INTEGER on PostgreSQL, whose cast of a larger
    # cursor would fail; an int4 column compares with an int8 value on its index.
    query = (select(RecordRow).where(RecordRow.seq > literal(start, BigInteger()),
                                     RecordRow.kind.in_(sorted(kinds)))
             .order_by(RecordRow.seq).limit(limit))
    with state.db.read() as session:
        rows = list(session.scalars(query))
    items = [_item(r) for r in rows]
    return {"items": items, "next_cursor": items[-1]["cursor"] if items else (after or "0")}


@router.get("/{record_id}", summary="One record")
def get_record(record_id: Annotated[str, Path(max_length=ID_MAX)], state: State,
               caller: ReaderCaller) -> dict[str, Any]:
    with state.db.read() as session:
        row = session.scalars(select(RecordRow).where(RecordRow.id == record_id)).first()
    if row is None or row.kind not in _kinds_for(caller):
        raise Problem(404, "not-found", "No such record", f"record {record_id} not found")
    return _item(row)
