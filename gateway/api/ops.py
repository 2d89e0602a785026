"""Operations endpoints: health probes, Prometheus metrics and ledger verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import State, require
from gateway.keys import Caller
from gateway.ledger import verify_ledger

__all__ = ["router"]

router = APIRouter(tags=["operations"])

ViewerCaller = Annotated[Caller, Depends(require(ops_role="viewer"))]


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: database reachable, ledger head verified")
async def readyz(state: State) -> Response:
    def check() -> dict[str, Any]:
        with state.db.read() as session:
            session.execute(text("SELECT 1"))
            head = state.ledger.check_head(session)
        return head

    try:
        head = await run_in_threadpool(check)
    except Exception as exc:  # readiness reports any failure instead of raising
        return JSONResponse({"status": "unavailable", "detail": f"{type(exc).__name__}: {exc}"},
                            status_code=503)
    status = 200 if head.get("ok") else 503
    return JSONResponse({"status": "ready" if status == 200 else "unavailable",
                         "ledger": head}, status_code=status)


@router.get("/metrics", summary="Prometheus metrics")
def metrics(state: State) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/ledger/verify", summary="Recompute the ledger chain and checkpoints")
async def verify(state: State, caller: ViewerCaller) -> Response:
    def run() -> dict[str, Any]:
        # One consistent snapshot, so appends during the walk cannot look like gaps.
        return verify_ledger(state.db, state.signer).as_dict()

    report = await run_in_threadpool(run)
    return JSONResponse(report, status_code=200)
