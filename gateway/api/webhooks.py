"""/v1/webhooks and /v1/deliveries: subscriptions and their dead letters, for operations.

Viewers may look; operators subscribe, deactivate and retry. A webhook's secret is in the
response that creates it and nowhere else. A URL the egress policy refuses (loopback,
link-local, private addresses unless EDIGATE_EGRESS_ALLOW lets them through) is a 422.
Deliveries are listed newest first with the same keyset cursor as the message log,
filtered by status and webhook.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select

from gateway.api.api_keys import Caller
from gateway.api.cursors import decode_keyset, encode_keyset
from gateway.api.deps import State, require
from gateway.api.problems import Problem
from gateway.delivery import webhooks
from gateway.delivery.egress import EgressPolicy
from gateway.store.webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])

ViewerCaller = Annotated[Caller, Depends(require(ops_role="viewer"))]
OperatorCaller = Annotated[Caller, Depends(require(ops_role="operator"))]


class WebhookIn(BaseModel):
    """A subscription request: where to POST, and which record kinds."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$",  # no controls
                     examples=["https://crm.example.internal/edigate"])
    kinds: list[str] | str = Field(
        description="record kinds, as a list or a comma-separated string",
        examples=[["purchase_order", "invoice"]])


def _webhook(row: Webhook) -> dict[str, Any]:
    return {"id": row.id, "url": row.url, "kinds": sorted(row.kind_set), "active": row.active,
            "created_at": row.created_at.isoformat()}


def _delivery(row: WebhookDelivery) -> dict[str, Any]:
    # ``record_id`` holds the event's id for an event delivery (``subject``), as the
    # column does; the name stays for the consumers that read it.
    return {
        "id": row.id, "webhook_id": row.webhook_id, "subject": row.subject,
        "record_id": row.record_id,
        "record_cursor": str(row.record_seq), "message_id": row.message_id,
        "status": row.status, "attempts": row.attempts,
        "next_attempt_at": (row.next_attempt_at.isoformat()
                            if row.status == DeliveryStatus.PENDING else None),
        "last_status_code": row.last_status_code, "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
    }


@router.get("/v1/webhooks", summary="Webhook subscriptions (secrets are never listed)")
def list_webhooks(state: State, caller: ViewerCaller,
                  active: bool | None = None) -> dict[str, Any]:
    query = select(Webhook).order_by(Webhook.created_at, Webhook.id)
    if active is not None:
        query = query.where(Webhook.active.is_(active))
    with state.db.transaction() as session:
        rows = list(session.scalars(query))
    return {"items": [_webhook(r) for r in rows]}


@router.post("/v1/webhooks", status_code=201,
             summary="Subscribe a URL to record kinds; the answer carries the secret, once")
def create_webhook(body: WebhookIn, state: State, caller: OperatorCaller) -> JSONResponse:
    with state.db.transaction() as session:
        row = webhooks.create_webhook(session, state.ledger, url=body.url,
                                      kinds=body.kinds, actor=caller.actor,
                                      policy=EgressPolicy.from_settings(state.settings))
    return JSONResponse({**_webhook(row), "secret": row.secret}, status_code=201,
                        headers={"Location": f"/v1/webhooks/{row.id}",
                                 "Cache-Control": "no-store"})


@router.get("/v1/webhooks/{webhook_id}", summary="One webhook subscription")
def get_webhook(webhook_id: str, state: State, caller: ViewerCaller) -> dict[str, Any]:
    with state.db.transaction() as session:
        row = session.get(Webhook, webhook_id)
    if row is None:
        raise Problem(404, "not-found", "No such webhook", f"webhook {webhook_id} not found")
    return _webhook(row)


@router.delete("/v1/webhooks/{webhook_id}",
               summary="Deactivate a webhook: no new deliveries, pending ones become dead")
def deactivate_webhook(webhook_id: str, state: State, caller: OperatorCaller) -> dict[str, Any]:
    with state.db.transaction() as session:
        row = webhooks.deactivate_webhook(session, state.ledger, webhook_id, caller.actor)
    return _webhook(row)


@router.get("/v1/deliveries", summary="Webhook deliveries, newest first")
def list_deliveries(
    state: State, caller: ViewerCaller,
    status: Annotated[str | None, Query(description="pending, delivered or dead")] = None,
    webhook: Annotated[str | None, Query(description="a webhook id")] = None,
    record: Annotated[str | None, Query(description="a record id")] = None,
    cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    query = select(WebhookDelivery)
    if status is not None:
        if status.lower() not in DeliveryStatus.ALL:
            raise Problem(422, "invalid-request", "Unknown delivery status",
                          f"status must be one of {', '.join(sorted(DeliveryStatus.ALL))}")
        query = query.where(WebhookDelivery.status == status.lower())
    if webhook is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook)
    if record is not None:
        query = query.where(WebhookDelivery.record_id == record)
    if cursor:
        at, last_id = decode_keyset(cursor)
        query = query.where(or_(WebhookDelivery.created_at < at,
                                and_(WebhookDelivery.created_at == at,
                                     WebhookDelivery.id < last_id)))
    query = query.order_by(WebhookDelivery.created_at.desc(),
                           WebhookDelivery.id.desc()).limit(limit + 1)
    with state.db.transaction() as session:
        rows = list(session.scalars(query))
    page = rows[:limit]
    more = len(rows) > limit
    return {"items": [_delivery(r) for r in page],
            "next_cursor": encode_keyset(page[-1].created_at, page[-1].id) if more else None}


@router.get("/v1/deliveries/{delivery_id}", summary="One delivery")
def get_delivery(delivery_id: str, state: State, caller: ViewerCaller) -> dict[str, Any]:
    with state.db.transaction() as session:
        row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise Problem(404, "not-found", "No such delivery", f"delivery {delivery_id} not found")
    return _delivery(row)


@router.post("/v1/deliveries/{delivery_id}/retry", status_code=202,
             summary="Send a dead delivery again, with a fresh set of attempts",
             responses={409: {"description": "the delivery is not dead, or its webhook is "
                                             "inactive"}})
def retry_delivery(delivery_id: str, state: State, caller: OperatorCaller) -> dict[str, Any]:
    with state.db.transaction() as session:
        row = webhooks.retry_delivery(session, state.ledger, delivery_id, caller.actor)
    return _delivery(row)
