"""/v1/documents: internal systems submit records that edigate sends partners as EDI.

A consumer key issued with the send permission (``edigate consumers issue-key --send``)
or an operator posts canonical records, the same JSON the records feed carries, for one
partner; edigate writes them as one interchange in the partner's standard, stores and
ledgers it, and queues it on the partner's transport. Records that are not records of the
schema get a 422 naming each offending field by JSON pointer, and nothing is stored;
records that do not generate (no form in the standard, a validation error in what was
written) are held with their errors (422, the held message named) and never sent.
``GET /v1/documents`` lists what was sent with its acknowledgment state, newest first,
keyset-paginated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from gateway.api.api_keys import Caller
from gateway.api.cursors import decode_keyset, encode_keyset
from gateway.api.deps import State, require
from gateway.api.inputs import CURSOR_MAX, ID_MAX, SHORT_MAX, utc_param
from gateway.api.problems import Problem
from gateway.processing.outbound import RecordsInvalid, Submitted
from gateway.store.models import Message, MessageStatus
from gateway.store.outbound import AckState, SentDocument
from gateway.store.search import keyset_before

__all__ = ["router"]

router = APIRouter(tags=["documents"])

SenderCaller = Annotated[Caller, Depends(require(consumer=True, ops_role="operator"))]
ReaderCaller = Annotated[Caller, Depends(require(consumer=True, ops_role="viewer"))]
OperatorCaller = Annotated[Caller, Depends(require(ops_role="operator"))]

_SUBMISSION_EXAMPLE = {
    "partner_id": "acme-retail",
    "records": [{"kind": "order_response", "po_number": "PO-4711", "ack_type": "accepted",
                 "ack_type_code": "AC", "po_date": "2024-03-01",
                 "lines": [{"line_number": "1", "quantity": "10", "unit": "EA",
                            "item_ids": {"vendor": "V-100"}}]}],
}


def _may_send(caller: Caller) -> None:
    if caller.kind == "consumer" and not caller.can_send:
        raise Problem(403, "forbidden", "Not allowed",
                      "this consumer key may read records but not send documents; issue one "
                      "with `edigate consumers issue-key --send`")


@router.post("/v1/documents", status_code=202,
             summary="Send records to a partner as EDI (generated, validated, queued)",
             responses={409: {"description": "the partner is switched off"},
                        422: {"description": "records invalid, or held: not sent"}})
async def submit_documents(
    state: State, caller: SenderCaller,
    body: Annotated[dict[str, Any], Body(examples=[_SUBMISSION_EXAMPLE])],
) -> dict[str, Any]:
    """Write ``records`` as one interchange for ``partner_id`` and queue it. A record's
    ``source`` may be left out (the envelope fills it in)."""
    _may_send(caller)
    service = state.outbound
    partner_id = body.get("partner_id")
    if not isinstance(partner_id, str) or not partner_id:
        raise Problem(422, "invalid-document", "Invalid submission",
                      "/partner_id: must be a partner id",
                      errors=[{"pointer": "/partner_id", "message": "must be a partner id"}])
    partner = state.registry.get(partner_id)
    if partner is None:
        raise Problem(404, "not-found", "No such partner", f"partner {partner_id} not found")
    if not partner.active:
        raise Problem(409, "partner-inactive", "Partner inactive",
                      f"partner {partner_id} is switched off (active = false)")
    records = body.get("records")

    def submit() -> Submitted:
        assert partner is not None
        return service.submit(partner, records, actor=caller.actor)

    try:
        result = await run_in_threadpool(submit)
    except RecordsInvalid as exc:
        raise Problem(422, "invalid-document", "Invalid records",
                      f"{len(exc.errors)} problem(s): {exc}",
                      errors=[e.as_dict() for e in exc.errors]) from exc
    if result.status == MessageStatus.HELD:
        raise Problem(422, "document-held", "Held: the records do not generate",
                      f"message {result.message_id} is held and will not be sent: "
                      + "; ".join(f"{e.location or e.pointer}: {e.message}"
                                  for e in result.errors[:5]),
                      message_id=result.message_id,
                      errors=[e.as_dict() for e in result.errors])
    return result.as_dict()


@router.get("/v1/documents", summary="Documents sent to partners with their acknowledgment "
                                     "state, newest first")
def list_documents(
    state: State, caller: ReaderCaller,
    partner: Annotated[str | None, Query(max_length=ID_MAX)] = None,
    ack_status: Annotated[str | None, Query(max_length=SHORT_MAX,
                                            description=", ".join(AckState.ALL))] = None,
    kind: Annotated[str | None, Query(max_length=SHORT_MAX)] = None,
    business_number: Annotated[str | None, Query(max_length=80)] = None,
    since: Annotated[datetime | None, Query(description="UTC when without offset")] = None,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    since = utc_param("since", since)
    if ack_status is not None and ack_status not in AckState.ALL:
        raise Problem(422, "invalid-parameter", "Unknown acknowledgment state",
                      f"ack_status must be one of {', '.join(AckState.ALL)}")
    query = select(SentDocument)
    if partner:
        query = query.where(SentDocument.partner_id == partner)
    if ack_status:
        query = query.where(SentDocument.ack_status == ack_status)
    if kind:
        query = query.where(SentDocument.kind == kind)
    if business_number:
        query = query.where(SentDocument.business_number == business_number)
    if since:
        query = query.where(SentDocument.created_at >= since)
    if cursor:
        at, last_id = decode_keyset(cursor)
        query = query.where(keyset_before(SentDocument.created_at, SentDocument.id, at, last_id))
    query = query.order_by(SentDocument.created_at.desc(), SentDocument.id.desc()).limit(limit + 1)
    with state.db.read() as session:
        rows = list(session.scalars(query))
    page = rows[:limit]
    more = len(rows) > limit
    return {"items": [r.as_dict() for r in page],
            "next_cursor": encode_keyset(page[-1].created_at, page[-1].id) if more else None}


@router.get("/v1/documents/{document_id}", summary="One sent document, its record and its "
                                                  "acknowledgment state")
def get_document(document_id: Annotated[str, Path(max_length=ID_MAX)], state: State,
                 caller: ReaderCaller) -> dict[str, Any]:
    with state.db.read() as session:
        row = session.get(SentDocument, document_id)
    if row is None:
        raise Problem(404, "not-found", "No such document", f"document {document_id} not found")
    return row.as_dict(record=True)


@router.post("/v1/messages/{message_id}/resend", status_code=202,
             summary="Send a generated outbound message again (operator)",
             responses={409: {"description": "not a generated outbound message, or the "
                                             "partner has no transport to send it on"}})
def resend(message_id: Annotated[str, Path(max_length=ID_MAX)], state: State,
           caller: OperatorCaller) -> dict[str, Any]:
    service = state.outbound
    with state.db.read() as session:
        message = session.get(Message, message_id)
    if message is None:
        raise Problem(404, "not-found", "No such message", f"message {message_id} not found")
    if message.direction != "outbound" or message.status != MessageStatus.GENERATED:
        raise Problem(409, "not-resendable", "Not a generated outbound message",
                      f"message {message_id} is {message.direction} and {message.status}; "
                      "only generated outbound messages are sent again")
    partner = state.registry.get(message.partner_id)
    if partner is None:
        raise Problem(409, "no-partner", "The partner's profile is gone",
                      f"partner {message.partner_id} has no profile now")
    transfer = service.resend(message_id, partner, caller.actor)
    if transfer is None:
        raise Problem(409, "no-transport", "The partner has no transport to send on",
                      f"partner {partner.id} has no AS2 URL (or the gateway no AS2 identity) "
                      "and no [https] table; the interchange waits for pickup at "
                      "/v1/messages/{id}/raw")
    return {"message_id": message_id, "transfer_id": transfer}
