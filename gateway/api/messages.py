"""/v1/messages: HTTPS intake for partners, the message log for operations staff.

Intake reads the body within the size limit, hands it to the pipeline and answers only
after the pipeline has committed it. The log is keyset-paginated (newest first) so that a
page costs an index range scan however many messages there are.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gateway.api.api_keys import Caller
from gateway.api.cursors import decode_keyset, encode_keyset
from gateway.api.deps import State, admit, caller_of, get_state, require
from gateway.api.inputs import CURSOR_MAX, ID_MAX, SHORT_MAX, utc_param
from gateway.api.problems import Problem
from gateway.intake.pipeline import Delivery, IntakeRejected, ReceiveResult
from gateway.retention import purge
from gateway.store.as2 import AS2Message
from gateway.store.base import utcnow
from gateway.store.holds import LegalHold
from gateway.store.models import Acknowledgment, Message, Payload, RecordRow
from gateway.store.search import keyset_before, search_clause

__all__ = ["router"]

router = APIRouter(prefix="/v1/messages", tags=["messages"])

_INLINE_PREPARE_BYTES = 256 * 1024

ViewerCaller = Annotated[Caller, Depends(require(partner=True, ops_role="viewer"))]
OperatorCaller = Annotated[Caller, Depends(require(ops_role="operator"))]


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "too-large", "Message too large",
                      f"the body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "too-large", "Message too large",
                          f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_SUBMIT_OPENAPI: dict[str, Any] = {
    "parameters": [{
        "name": "sync", "in": "query", "required": False,
        "schema": {"type": "boolean", "default": False},
        "description": "process before answering; the response carries per-transaction "
                       "outcomes, record ids and the acknowledgment text",
    }],
    "requestBody": {"required": True, "content": {
        "application/edi-x12": {"schema": {"type": "string", "format": "binary"}},
        "application/edifact": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    }},
    "responses": {
        "200": {"description": "a duplicate (original id), or processed with sync=true"},
        "202": {"description": "stored durably; processing follows"},
        "401": {"description": "no or unknown key"},
        "403": {"description": "not a partner key, or ISA05/06 (UNB) is another sender"},
        "413": {"description": "body over the limit"},
        "422": {"description": "not EDI, or not addressed to this gateway"},
        "503": {"description": "the intake writer process failed before the commit was "
                               "confirmed: send again (a stored message is answered as a "
                               "duplicate with its id)"},
    },
}
_FLAGS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}


@router.post("", status_code=202, summary="Submit an EDI interchange",
             openapi_extra=_SUBMIT_OPENAPI)
async def submit(request: Request) -> Response:
    """Store the raw EDI body durably and answer 202 with the message id.

    With ``sync=true`` the message is processed before answering and the response carries
    per-transaction outcomes, record ids and the acknowledgment text.

    The hottest route: it takes no injected dependencies (FastAPI's dependency solving
    costs more than the rest of the request) and authenticates through the key cache.
    """
    state = await get_state(request)
    caller = admit(await caller_of(request, state), partner=True)
    # Most posts carry no query string: do not build a parsed one for them.
    sync = _FLAGS.get(request.query_params.get("sync", "false").lower()) \
        if request.scope.get("query_string") else False
    if sync is None:
        raise Problem(422, "invalid-parameter", "Invalid query parameter",
                      "sync must be true or false")
    body = await read_body(request, state.settings.max_body_bytes)
    assert caller.partner_id is not None
    delivery = Delivery(caller.partner_id, "https", body, {
        "remote": request.client.host if request.client else None,
        "content_type": request.headers.get("content-type"),
    })
    pipeline = state.pipeline
    try:
        # The envelope check reads at most the first 4 KB; hashing a large body is
        # moved off the event loop.
        if len(body) > _INLINE_PREPARE_BYTES:
            pending = await run_in_threadpool(pipeline.prepare, delivery, caller.actor)
        else:
            pending = pipeline.prepare(delivery, caller.actor)
    except IntakeRejected as exc:
        # Rendered as problem+json by the GatewayError handler, after it is ledgered.
        await run_in_threadpool(pipeline.record_rejection, delivery, caller.actor, exc)
        raise
    # Group commit: resolves once the batch holding this message has committed.
    received: ReceiveResult = await pipeline.store(pending)
    location = {"Location": f"/v1/messages/{received.message_id}"}
    if received.duplicate:
        return _received(received, 200, location)
    if not sync:
        return _received(received, 202, location)
    result = await run_in_threadpool(state.pipeline.inline.process, received.message_id)
    payload: dict[str, Any] = {"message_id": received.message_id, "duplicate": False}
    if result is None:
        # Another worker claimed it first; it is processed all the same.
        payload["status"] = "PROCESSING"
        return JSONResponse(payload, status_code=202, headers=location)
    payload.update(status=result.status, transactions=result.transactions,
                   acknowledgments=result.acknowledgments, error=result.error)
    return JSONResponse(payload, status_code=200, headers=location)


def _received(received: ReceiveResult, status_code: int, headers: dict[str, str]) -> Response:
    """``{"message_id", "duplicate", "status"}`` as JSONResponse renders it, written
    directly: on the hottest answer the generic rendering costs more than the JSON."""
    body = (f'{{"message_id":{_json_string(received.message_id)},"duplicate":'
            f'{"true" if received.duplicate else "false"},"status":'
            f'{_json_string(received.status)}}}')
    return Response(body.encode("utf-8"), status_code=status_code, headers=headers,
                    media_type="application/json")


# JSONResponse's string encoding (ensure_ascii=False): the C scanner's, not a copy of it.
_json_string = json.encoder.encode_basestring


def _summary(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "partner_id": m.partner_id, "direction": m.direction,
        "transport": m.transport, "standard": m.standard,
        "transaction_types": m.transaction_types.split(",") if m.transaction_types else [],
        "interchange_sender": m.interchange_sender, "interchange_control": m.interchange_control,
        "status": m.status, "ack_status": m.ack_status, "size": m.size,
        "received_at": m.received_at.isoformat(), "updated_at": m.updated_at.isoformat(),
        "error": m.error,
    }


Short = Annotated[str | None, Query(max_length=SHORT_MAX)]
MessageId = Annotated[str, Path(max_length=ID_MAX)]


@router.get("", summary="The message log, newest first")
def list_messages(
    state: State, caller: ViewerCaller,
    partner: Annotated[str | None, Query(max_length=ID_MAX)] = None, status: Short = None,
    standard: Short = None, transaction_type: Short = None,
    since: Annotated[datetime | None, Query(description="UTC when without offset")] = None,
    until: Annotated[datetime | None, Query(description="UTC when without offset")] = None,
    q: Annotated[str | None, Query(max_length=80)] = None,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    since, until = utc_param("since", since), utc_param("until", until)
    query = select(Message)
    if caller.kind == "partner":
        query = query.where(Message.partner_id == caller.partner_id)
    elif partner:
        query = query.where(Message.partner_id == partner)
    if status:
        query = query.where(Message.status == status.upper())
    if standard:
        query = query.where(Message.standard == standard.lower())
    if transaction_type:
        query = query.where(Message.transaction_types.contains(transaction_type))
    at_column: Any = Message.received_at
    id_column: Any = Message.id
    if q:  # index-backed term search; its key orders the page (see gateway.store.search)
        query, at_column, id_column = search_clause(query, q)
    if since:
        query = query.where(at_column >= since)
    if until:
        query = query.where(at_column < until)
    if cursor:
        at, last_id = decode_keyset(cursor)
        query = query.where(keyset_before(at_column, id_column, at, last_id))
    query = query.order_by(at_column.desc(), id_column.desc()).limit(limit + 1)
    with state.db.read() as session:
        rows = list(session.scalars(query))
    page = rows[:limit]
    more = len(rows) > limit
    return {"items": [_summary(m) for m in page],
            "next_cursor": encode_keyset(page[-1].received_at, page[-1].id) if more else None}


def _visible(state: State, caller: Caller, message_id: str) -> Message:
    with state.db.read() as session:
        message = session.get(Message, message_id)
    if message is None or (caller.kind == "partner" and message.partner_id != caller.partner_id):
        raise Problem(404, "not-found", "No such message", f"message {message_id} not found")
    return message


@router.get("/{message_id}", summary="One message: status, errors, acks, records, ledger")
def get_message(message_id: MessageId, state: State, caller: ViewerCaller) -> dict[str, Any]:
    message = _visible(state, caller, message_id)
    with state.db.read() as session:
        acks = session.scalars(select(Acknowledgment).where(
            Acknowledgment.message_id == message_id)).all()
        records = session.scalars(select(RecordRow).where(
            RecordRow.message_id == message_id).order_by(RecordRow.seq)).all()
        trail = state.ledger.trail(session, message_id)
        transfers = session.scalars(select(AS2Message).where(
            AS2Message.message_id == message_id).order_by(AS2Message.created_at)).all()
        hold = _hold_json(session, message_id)
    detail = _summary(message)
    detail["summary"] = json.loads(message.summary) if message.summary else None
    detail["acknowledgments"] = [{"id": a.id, "kind": a.kind, "content": a.content,
                                  "created_at": a.created_at.isoformat()} for a in acks]
    detail["records"] = [{"id": r.id, "kind": r.kind, "business_number": r.business_number,
                          "status": r.status} for r in records]
    detail["ledger"] = trail
    # AS2 evidence: the inbound transfer and its MDN; acknowledgments sent back and theirs.
    detail["as2"] = [{"direction": t.direction, "kind": t.kind,
                      "as2_message_id": t.as2_message_id, "status": t.status,
                      "mic": t.mic, "mdn_mode": t.mdn_mode, "mdn_status": t.mdn_status,
                      "mdn_disposition": t.mdn_disposition,
                      "mdn_message_id": t.mdn_message_id, "attempts": t.attempts,
                      "last_error": t.last_error, "created_at": t.created_at.isoformat()}
                     for t in transfers]
    detail["raw_url"] = f"/v1/messages/{message_id}/raw"
    detail["legal_hold"] = hold
    return detail


class HoldIn(BaseModel):
    """Why the message is held (for the ledger and the next operator)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000,
                               pattern=r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$",  # no controls
                               examples=["dispute with Acme over PO 4711"])


def _hold_json(session: Session, message_id: str) -> dict[str, Any] | None:
    found = session.get(LegalHold, message_id)
    if found is None:
        return None
    return {"held_by": found.actor, "reason": found.reason,
            "held_at": found.held_at.isoformat()}


@router.put("/{message_id}/hold", summary="Keep a message whatever its retention (legal hold)",
            responses={200: {"description": "the message was held already (kept as it was)"},
                       201: {"description": "the hold is placed"}})
def put_hold(message_id: MessageId, state: State, caller: OperatorCaller,
             body: HoldIn | None = None) -> JSONResponse:
    _visible(state, caller, message_id)
    placed = purge.hold(state.db, state.ledger, message_id, actor=caller.actor,
                        reason=body.reason if body is not None else None, now=utcnow())
    with state.db.read() as session:
        held = _hold_json(session, message_id)
    return JSONResponse({"message_id": message_id, "legal_hold": held},
                        status_code=201 if placed else 200)


@router.delete("/{message_id}/hold", status_code=204, response_class=Response,
               summary="Release a message's legal hold",
               responses={404: {"description": "no such message, or it is not held"}})
def delete_hold(message_id: MessageId, state: State, caller: OperatorCaller) -> Response:
    _visible(state, caller, message_id)
    if not purge.release(state.db, state.ledger, message_id, actor=caller.actor):
        raise Problem(404, "not-held", "No legal hold", f"message {message_id} is not held")
    return Response(status_code=204)


@router.get("/{message_id}/raw", summary="The raw bytes as received", response_class=Response,
            responses={200: {"content": {"application/edi-x12": {}, "application/octet-stream": {}},
                             "description": "the body as received, X12 or not"}})
def get_raw(message_id: MessageId, state: State, caller: ViewerCaller) -> Response:
    message = _visible(state, caller, message_id)
    with state.db.read() as session:
        payload = session.get(Payload, message.payload_sha256)
    assert payload is not None
    return Response(payload.data, media_type="application/edi-x12" if message.standard == "x12"
                    else "application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{message_id}.edi"',
                             "Digest": f"sha-256={payload.sha256}"})


@router.post("/{message_id}/reprocess", status_code=202, summary="Run a message again",
             responses={409: {"description": "an outbound message: resend it instead"}})
def reprocess(message_id: MessageId, state: State, caller: OperatorCaller) -> dict[str, Any]:
    if not state.pipeline.reprocess(message_id, caller.actor):
        raise Problem(404, "not-found", "No such message", f"message {message_id} not found")
    return {"message_id": message_id, "status": "RECEIVED"}
