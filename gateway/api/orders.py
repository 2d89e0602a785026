"""/v1/orders: each PO as one story, for the CRM and supply-chain sides.

Every purchase order edigate receives or sends is an order that its changes, responses,
ship notices and invoices join as they are processed (``gateway.orders``). ``GET
/v1/orders`` lists them newest first (when edigate first saw the order), keyset-paged,
filtered by partner, status, role (``sell``: the partner orders from us; ``buy``: we
order from it), discrepancies, lateness and a date range; ``GET
/v1/orders/{partner}/{po}`` gives one with its lines (ordered, confirmed, shipped,
invoiced), documents and findings. A PO number may hold any character: ``/`` included
(the rest of the path is the number), others percent-encoded.
``GET /v1/partners/{partner}/scorecard`` rates a partner over a period: acknowledgment
latency, fill rate, on-time ship notices, invoice accuracy, rejected documents, volumes.
Every consumer scope reads orders and scorecards, as do operators and viewers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from gateway.api.api_keys import Caller
from gateway.api.cursors import decode_keyset, encode_keyset
from gateway.api.deps import State, require
from gateway.api.inputs import CURSOR_MAX, ID_MAX, utc_param
from gateway.api.problems import Problem
from gateway.orders.queries import OrderFilters, order_json, order_page, order_view
from gateway.orders.scorecards import scorecard
from gateway.orders.story import STATUSES
from gateway.store.base import utcnow

__all__ = ["router"]

router = APIRouter(tags=["orders"])

ReaderCaller = Annotated[Caller, Depends(require(consumer=True, ops_role="viewer"))]


@router.get("/v1/orders", summary="Orders (each PO with its documents), newest first")
def list_orders(
    state: State, caller: ReaderCaller,
    partner: Annotated[str | None, Query(max_length=ID_MAX)] = None,
    status: Annotated[str | None, Query(max_length=20,
                                        description=", ".join(STATUSES))] = None,
    role: Annotated[Literal["sell", "buy"] | None,
                    Query(description="sell: the partner orders from us; buy: we order "
                                      "from the partner")] = None,
    has_discrepancy: bool | None = None,
    late: Annotated[bool | None, Query(description="a time rule is broken")] = None,
    since: Annotated[datetime | None, Query(description="first seen at or after (UTC when "
                                                        "without offset)")] = None,
    until: Annotated[datetime | None, Query(description="first seen before (UTC when "
                                                        "without offset)")] = None,
    po_number: Annotated[str | None, Query(max_length=80)] = None,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    if status is not None and status not in STATUSES:
        raise Problem(422, "invalid-parameter", "Unknown order status",
                      f"status must be one of {', '.join(STATUSES)}")
    filters = OrderFilters(partner=partner, status=status, role=role,
                           has_discrepancy=has_discrepancy, late=late,
                           since=utc_param("since", since), until=utc_param("until", until),
                           po_number=po_number)
    with state.db.read() as session:
        page, more = order_page(session, filters, limit=limit,
                                cursor=decode_keyset(cursor) if cursor else None)
        items = [order_json(order) for order in page]
    return {"items": items,
            "next_cursor": encode_keyset(page[-1].created_at, page[-1].id) if more else None}


@router.get("/v1/orders/{partner}/{po_number:path}",
            summary="One order: lines with ordered, confirmed, shipped and invoiced "
                    "quantities, its documents and findings")
def get_order(partner: Annotated[str, Path(max_length=ID_MAX)],
              po_number: Annotated[str, Path(min_length=1, max_length=80)],
              state: State, caller: ReaderCaller) -> dict[str, Any]:
    with state.db.read() as session:
        view = order_view(session, partner, po_number)
    if view is None:
        raise Problem(404, "not-found", "No such order",
                      f"partner {partner} has no order with PO number {po_number!r}")
    return view


@router.get("/v1/partners/{partner}/scorecard",
            summary="A partner's scorecard over a period (default the last 30 days)")
def get_scorecard(
    partner: Annotated[str, Path(max_length=ID_MAX)], state: State, caller: ReaderCaller,
    since: Annotated[datetime | None, Query(description="orders first seen at or after (UTC "
                                                        "when without offset)")] = None,
    until: Annotated[datetime | None, Query(description="orders first seen before (UTC "
                                                        "when without offset)")] = None,
) -> dict[str, Any]:
    profile = state.registry.get(partner)
    if profile is None:
        raise Problem(404, "not-found", "No such partner", f"no partner {partner!r}")
    end = utc_param("until", until) or utcnow()
    start = utc_param("since", since) or end - timedelta(days=30)
    if start >= end:
        raise Problem(422, "invalid-parameter", "Empty period",
                      f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
    with state.db.read() as session:
        return scorecard(session, partner, start, end, profile.orders.ack_due_hours)
