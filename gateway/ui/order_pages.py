"""The ops UI's order pages under /ui: the order list, one order, a product's demand.

Responsible for ``/ui/orders`` (search and filter orders: partner, status, role,
discrepancies, lateness, PO number; newest first, keyset pages), ``/ui/orders/{partner}/
{po}`` (the order's lines with matched quantities, its findings and the timeline of its
documents, each linked to its message) and ``/ui/partners/{partner}/demand/{product}``
(a product's forecasts, activity and stock as a chart and a table). They read what
``gateway.orders`` keeps; nothing here changes anything.
It must not compute an order: the stored story is the one the API serves too.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from gateway.api.cursors import decode_keyset, encode_keyset
from gateway.api.deps import State
from gateway.api.problems import Problem
from gateway.orders.demand import demand_series
from gateway.orders.queries import OrderFilters, order_page, order_view
from gateway.orders.story import STATUSES
from gateway.ui.charts import line_chart
from gateway.ui.web import Refused, SecureRoute, User, render

__all__ = ["router"]

router = APIRouter(prefix="/ui", route_class=SecureRoute, include_in_schema=False)

PAGE_SIZE = 50
_FLAGS = {"yes": True, "no": False}


@router.get("/orders")
def orders(request: Request, user: User, state: State, cursor: str | None = None) -> Response:
    params = request.query_params
    raw = {k: params.get(k, "").strip()[:80] for k in
           ("partner", "status", "role", "discrepancy", "late", "po")}
    filters = OrderFilters(
        partner=raw["partner"] or None,
        status=raw["status"] if raw["status"] in STATUSES else None,
        role=raw["role"] if raw["role"] in ("sell", "buy") else None,
        has_discrepancy=_FLAGS.get(raw["discrepancy"]), late=_FLAGS.get(raw["late"]),
        po_number=raw["po"] or None)
    try:
        after = decode_keyset(cursor) if cursor else None
    except Problem:
        raise Refused("that page link is not valid any more", status=400) from None
    with state.db.read() as session:
        rows, more = order_page(session, filters, cursor=after, limit=PAGE_SIZE)
    query = {k: v for k, v in raw.items() if v}
    next_url = ("/ui/orders?" + urlencode({**query, "cursor": encode_keyset(
        rows[-1].created_at, rows[-1].id)})) if more else None
    return render(request, "orders.html", {
        "rows": rows, "raw": raw, "next_url": next_url, "statuses": STATUSES,
        "partners": [p.id for p in state.registry.all()]})


@router.get("/orders/{partner_id}/{po_number:path}")
def order(request: Request, partner_id: str, po_number: str, user: User,
          state: State) -> Response:
    with state.db.read() as session:
        view = order_view(session, partner_id[:64], po_number[:80])
    if view is None:
        raise Refused(f"no order {po_number!r} of partner {partner_id!r}", status=404)
    numbers = {d["document"]: d for d in view["documents"]}
    return render(request, "order.html", {"o": view, "documents_by_key": numbers,
                                          "partner": state.registry.get(partner_id)})


@router.get("/partners/{partner_id}/demand/{product:path}")
def demand(request: Request, partner_id: str, product: str, user: User,
           state: State) -> Response:
    if state.registry.get(partner_id) is None:
        raise Refused("no such partner", status=404)
    with state.db.read() as session:
        series = demand_series(session, partner_id[:64], product[:120])
    periods = sorted({p["period_start"][:10] for s in series for p in s["points"]})
    charts = []
    for signal in sorted({s["signal"] for s in series}):
        lines = {f"{s['measure']}{' @ ' + s['location'] if s['location'] else ''}"
                 f" ({s['unit'] or 'no unit'})": {p["period_start"][:10]: Decimal(p["quantity"])
                                                  for p in s["points"]}
                 for s in series if s["signal"] == signal}
        charts.append(line_chart(f"{signal.capitalize()} of {product}", periods, lines))
    return render(request, "demand.html", {"partner_id": partner_id, "product": product,
                                           "series": series, "charts": charts})
