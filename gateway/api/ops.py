"""Operations endpoints: health probes, Prometheus metrics and ledger verification.

The probes need no key, so they say no more than a generic reason: the database's host,
port, name and the driver's text go to the log. ``/metrics`` names partners and their
volumes: it needs an ops key, unless ``metrics_bind`` serves it on a listener of its own
(``gateway.runtime.metrics.MetricsServer``), in which case the API has no ``/metrics``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.api.api_keys import Caller
from gateway.api.deps import State, admit, caller_of, require
from gateway.api.problems import RETRY_AFTER_SECONDS, describe_database_error
from gateway.ledger.anchor import anchor_path, verify_with_anchor
from gateway.ledger.chain import verify_ledger
from gateway.runtime.state import GatewayState
from gateway.store.health import free_bytes, write_heartbeat

__all__ = ["router"]

router = APIRouter(tags=["operations"])
log = logging.getLogger("edigate.api")

ViewerCaller = Annotated[Caller, Depends(require(ops_role="viewer"))]


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _not_ready(state: GatewayState) -> str | None:
    """Why the gateway cannot take messages now (a generic reason), or None when it can."""
    try:
        with state.db.read() as session:
            session.execute(text("SELECT 1"))
            head = state.ledger.check_head(session)
    except Exception as exc:  # readiness reports any failure instead of raising
        log.warning("readiness: database unreachable: %s", describe_database_error(exc))
        return "database unreachable"
    if not head.get("ok"):
        log.warning("readiness: ledger head mismatch: %s", head.get("reason"))
        return "ledger head mismatch"
    try:
        free = free_bytes(state.db)
    except OSError as exc:  # the database's directory is gone
        log.warning("readiness: database unreachable: %s", exc)
        return "database unreachable"
    if free is not None and free < state.settings.readyz_min_free_bytes:
        log.warning("readiness: %d bytes free beside the SQLite database, fewer than "
                    "readyz_min_free_bytes (%d)", free, state.settings.readyz_min_free_bytes)
        return "database disk full"
    try:
        # A SELECT succeeds on a read-only file, in read-only transaction mode and on a
        # full disk: only a committed write shows that intake can store.
        write_heartbeat(state.db, state.settings.worker_id)
    except Exception as exc:
        log.warning("readiness: database not writable: %s", describe_database_error(exc))
        return "database not writable"
    return None


@router.get("/readyz", summary="Readiness: database reachable and writable, ledger head "
                               "verified, workers starting",
            responses={503: {"description": "not ready; 'reason' says which check failed"}})
async def readyz(request: Request, state: State) -> Response:
    workers = getattr(request.app.state, "workers", None)  # set while the app runs
    reason = workers.failing() if workers is not None else None
    if reason is None:
        reason = await run_in_threadpool(_not_ready, state)
    if reason is None:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@router.get("/metrics", summary="Prometheus metrics (ops key, viewer or above)",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}},
                       401: {"description": "no or unknown key"},
                       403: {"description": "not an ops key"},
                       404: {"description": "served on metrics_bind instead"}})
async def metrics(request: Request, state: State) -> Response:
    if state.settings.metrics_bind:
        raise StarletteHTTPException(404, "Not Found")
    admit(await caller_of(request, state), ops_role="viewer")
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/ledger/verify", summary="Recompute the ledger chain and checkpoints, and "
                                         "check the ledger against its anchor file")
async def verify(state: State, caller: ViewerCaller) -> Response:
    def run() -> dict[str, Any]:
        # One consistent snapshot, so appends during the walk cannot look like gaps.
        anchor = anchor_path(state.settings.var_dir)
        if anchor.exists():  # the signed head outside the database protects the tail
            return verify_with_anchor(state.db, state.signer, anchor).as_dict()
        return verify_ledger(state.db, state.signer).as_dict()

    report = await run_in_threadpool(run)
    return JSONResponse(report, status_code=200)
