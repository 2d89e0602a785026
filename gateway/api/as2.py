"""POST /as2: AS2 (RFC 4130) intake, and GET /v1/partners with certificates for ops.

The route first checks the headers a receipt must repeat (AS2-From, Message-ID: a request
no MDN can answer is a 400 problem+json, before any body is read), then reads the body
within the size limit (a small one, ``as2_unknown_max_bytes``, while the AS2-From names no
partner), hands headers and bytes to the AS2 service (unwrapping runs off the event loop:
RSA and AES are CPU work), feeds the payload through the same group-commit intake as HTTPS
and answers only after the commit, with the MDN in the response (synchronous) or queued for
one of the partner's receipt URLs (asynchronous, only for an authenticated partner). Every
other refusal is an MDN with an error disposition, never a 500; a gateway without an AS2
identity answers 503 problem+json.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.api_keys import Caller
from gateway.api.deps import State, require
from gateway.api.messages import read_body
from gateway.api.problems import Problem
from gateway.as2 import AS2Failure
from gateway.as2.message import AS2HeaderError, read_addressing
from gateway.intake.as2 import AS2Reply, is_mdn
from gateway.intake.pipeline import IntakeRejected
from gateway.store.as2 import AS2Message

__all__ = ["router"]

router = APIRouter(tags=["as2"])

ViewerCaller = Annotated[Caller, Depends(require(ops_role="viewer"))]


def _response(reply: AS2Reply) -> Response:
    return Response(content=reply.body, status_code=reply.status, headers=reply.headers)


@router.post("/as2", summary="Receive an AS2 message (RFC 4130) or an asynchronous MDN",
             response_class=Response,
             responses={200: {"description": "the MDN (synchronous) or an empty body"},
                        503: {"description": "this gateway has no AS2 identity, or the "
                                             "intake writer process failed: send again"}})
async def receive_as2(request: Request, state: State) -> Response:
    service = state.as2
    if service is None or service.identity is None:
        raise Problem(503, "as2-not-configured", "AS2 is not configured",
                      f"this gateway does not receive AS2: "
                      f"{service.problem if service else 'no AS2 service'}")
    headers = dict(request.headers)
    try:
        addressing = read_addressing(headers)
    except AS2HeaderError as exc:
        await run_in_threadpool(service.refuse_headers, headers, exc)
        raise Problem(400, "invalid-as2-header", "Invalid AS2 header",
                      f"{exc}; no receipt (MDN) can answer this request") from exc
    # Until the AS2-From is known, a body is only what an error MDN needs to answer.
    settings = state.settings
    limit = settings.max_body_bytes if service.known_partner(addressing.as2_from) else \
        min(settings.as2_unknown_max_bytes, settings.max_body_bytes)
    body = await read_body(request, limit)
    if is_mdn(headers, body):
        reply = await run_in_threadpool(service.receive_mdn, headers, body)
        if reply.status >= 400:
            raise Problem(reply.status, f"as2-mdn-{reply.outcome}",
                          "Asynchronous MDN not accepted", reply.detail)
        return _response(reply)
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
    certificates = state.as2.partners.certificates() if state.as2 is not None else {}
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


OperatorCaller = Annotated[Caller, Depends(require(ops_role="operator"))]


def _transfer(row: AS2Message) -> dict[str, Any]:
    return {"id": row.id, "direction": row.direction, "partner_id": row.partner_id,
            "kind": row.kind, "as2_message_id": row.as2_message_id,
            "message_id": row.message_id, "status": row.status, "url": row.url,
            "mic": row.mic, "mdn_mode": row.mdn_mode, "mdn_disposition": row.mdn_disposition,
            "attempts": row.attempts, "last_error": row.last_error,
            "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at
            else None, "created_at": row.created_at.isoformat()}


@router.post("/v1/partners/{partner_id}/as2", status_code=202,
             summary="Send a document to a partner over AS2 (queued; operator)")
async def send_document(partner_id: str, request: Request, state: State,
                        caller: OperatorCaller) -> dict[str, Any]:
    """Queue the request body for the partner's AS2 URL: signed, encrypted and compressed
    per its profile, retried with backoff, its receipt verified. ``GET /v1/as2/{id}``
    shows the outcome."""
    service = state.as2
    partner = state.registry.get(partner_id)
    if partner is None:
        raise Problem(404, "not-found", "No such partner", f"partner {partner_id} not found")
    if service is None or not service.outbox.wants_as2(partner):
        raise Problem(409, "no-as2", "The partner cannot be reached over AS2",
                      "the gateway has no AS2 identity or the partner's profile no [as2] url")
    body = await read_body(request, state.settings.max_body_bytes)
    if not body:
        raise Problem(422, "empty-body", "Empty document", "the request body is empty")
    content_type = request.headers.get("content-type") or "application/octet-stream"

    def queue() -> AS2Message:
        assert service is not None and partner is not None
        with state.db.transaction() as session:
            return service.outbox.enqueue(session, partner, body, kind="document", message_id=None,
                                   actor=caller.actor, content_type=content_type[:120])

    return _transfer(await run_in_threadpool(queue))


@router.get("/v1/as2/{transfer_id}", summary="An AS2 transfer and its receipt (ops)")
def get_transfer(transfer_id: str, state: State, caller: ViewerCaller) -> dict[str, Any]:
    with state.db.read() as session:
        row = session.get(AS2Message, transfer_id)
    if row is None:
        raise Problem(404, "not-found", "No such AS2 transfer", f"{transfer_id} not found")
    return _transfer(row)
