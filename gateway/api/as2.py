"""POST /as2: AS2 (RFC 4130) intake, and GET /v1/partners with certificates for ops.

The route reads the body within the size limit, hands headers and bytes to the AS2
service (unwrapping runs off the event loop: RSA and AES are CPU work), feeds the payload
through the same group-commit intake as HTTPS and answers only after the commit, with the
MDN in the response (synchronous) or queued for the partner's URL (asynchronous). Every
refusal is an MDN with an error disposition, never a 500; only a gateway without an AS2
identity answers 503 problem+json.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import State, require
from gateway.api.messages import read_body
from gateway.as2 import AS2Failure
from gateway.as2_service import AS2Reply, is_mdn
from gateway.keys import Caller
from gateway.pipeline import IntakeRejected
from gateway.problems import Problem

__all__ = ["router"]

router = APIRouter(tags=["as2"])

ViewerCaller = Annotated[Caller, Depends(require(ops_role="viewer"))]


def _response(reply: AS2Reply) -> Response:
    return Response(content=reply.body, status_code=reply.status, headers=reply.headers)


@router.post("/as2", summary="Receive an AS2 message (RFC 4130) or an asynchronous MDN",
             response_class=Response,
             responses={200: {"description": "the MDN (synchronous) or an empty body"},
                        503: {"description": "this gateway has no AS2 identity"}})
async def receive_as2(request: Request, state: State) -> Response:
    service = state.as2
    if service is None or service.identity is None:
        raise Problem(503, "as2-not-configured", "AS2 is not configured",
                      f"this gateway does not receive AS2: "
                      f"{service.problem if service else 'no AS2 service'}")
    body = await read_body(request, state.settings.max_body_bytes)
    headers = dict(request.headers)
    if is_mdn(headers, body):
        return _response(await run_in_threadpool(service.receive_mdn, headers, body))
    partner, outcome = await run_in_threadpool(service.unwrap, headers, body)
    actor = f"as2:{partner.id}" if partner is not None else "as2:unknown"
    if isinstance(outcome, AS2Failure):
        return _response(await run_in_threadpool(service.reject, headers, body, partner,
                                                 outcome, actor))
    assert partner is not None
    delivery, original = await run_in_threadpool(service.accept, partner, outcome, body, actor)
    if original is not None:
        return _response(await run_in_threadpool(service.duplicate, headers, partner, outcome,
                                                 actor, original))
    try:
        pending = await run_in_threadpool(state.pipeline.prepare, delivery, actor)
    except IntakeRejected as exc:
        return _response(await run_in_threadpool(service.intake_refused, headers, partner,
                                                 outcome, delivery, actor, exc))
    # RFC 4130 receive-before-acknowledge: "processed" only after this commit.
    received = await state.pipeline.store(pending)
    return _response(await run_in_threadpool(service.stored, headers, body, partner, outcome,
                                             received, actor))


@router.get("/v1/partners", summary="Partner profiles, identities and certificates (ops)")
def list_partners(state: State, caller: ViewerCaller) -> dict[str, Any]:
    certificates = state.as2.certificates() if state.as2 is not None else {}
    items = []
    for partner in state.registry.all():
        items.append({
            "id": partner.id, "name": partner.name, "active": partner.active,
            "transactions": list(partner.transactions),
            "x12": partner.x12.model_dump(mode="json") if partner.x12 else None,
            "edifact": partner.edifact.model_dump(mode="json") if partner.edifact else None,
            "as2": partner.as2.model_dump(mode="json") if partner.as2 else None,
            "certificates": [c.as_dict() for c in certificates.get(partner.id, [])],
        })
    gateway = [c.as_dict() for c in certificates.get("edigate", [])]
    return {"items": items, "gateway": {"as2_id": state.settings.as2_id,
                                        "certificates": gateway}}
