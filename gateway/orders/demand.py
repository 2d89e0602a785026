"""Demand signals: what partners report of forecasts, sales and stock, per product over time.

Responsible for ``demand_points`` (a planning schedule's scheduled quantities, a product
activity report's activities in total and per location, an inventory report's
quantities, each as one point of one product, period and location), storing them in the
processing transaction (``store_points``; a reprocessed message's points go with
``forget_message``), and reading them back as series (``demand_series``: per signal,
measure, location and unit, the newest report's figure for each period, so a revised
forecast replaces the one it revises) and as the list of a partner's products
(``demand_products``). Planners see these beside the orders (``gateway.orders``).
It must not change orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.orders.lines import decimal_of, product_keys
from gateway.store.orders import DemandPointRow

__all__ = ["DEMAND_KINDS", "DemandPoint", "demand_points", "demand_products", "demand_series",
           "forget_message", "product_key", "store_points"]

DEMAND_KINDS: Final = frozenset({"planning_schedule", "product_activity", "inventory_report"})

# Which identifier names a product, best first: a GTIN is global, the others are the
# partner's or ours.
_KEY_ORDER: Final = ("gtin", "buyer_item", "vendor_item", "sku", "model",
                     "manufacturer_part", "isbn")


class DemandPoint(NamedTuple):
    product: str
    description: str | None
    signal: str
    measure: str
    location: str | None
    period_start: str
    period_end: str | None
    quantity: str
    unit: str | None


def product_key(item_ids: Mapping[str, Any] | None) -> str | None:
    """The one key a product is filed under (``gtin:00012345678905``, ``buyer_item:B-1``),
    the same for a UPC, an EAN and a GTIN of one product; ``None`` without any id."""
    keys = dict(sorted(product_keys(item_ids)))
    for kind in _KEY_ORDER:
        if kind in keys:
            return f"{kind}:{keys[kind]}"[:120]
    if keys:
        kind, value = min(keys.items())
        return f"{kind}:{value}"[:120]
    return None


def _text(value: Any, size: int) -> str | None:
    return str(value)[:size] if isinstance(value, str) and value else None


def _first_date(*candidates: Any) -> str | None:
    for value in candidates:
        if isinstance(value, str) and value:
            return value[:19]
    return None


def _quantity(value: Any) -> str | None:
    number = decimal_of(value)
    return None if number is None else format(number.normalize(), "f")


def demand_points(kind: str, data: Mapping[str, Any]) -> list[DemandPoint]:
    """The points of one record of ``DEMAND_KINDS`` (none for a line without a product
    id, a quantity or a period: nothing to chart)."""
    points: list[DemandPoint] = []

    def add(line: Mapping[str, Any], signal: str, measure: Any, location: Any,
            start: str | None, end: Any, quantity: Any, unit: Any) -> None:
        product = product_key(line.get("item_ids"))
        amount = _quantity(quantity)
        if product is None or amount is None or start is None:
            return
        points.append(DemandPoint(
            product, _text(line.get("description"), 2000), signal,
            _text(measure, 40) or "quantity", _text(location, 80), start,
            _first_date(end), amount, _text(unit, 8)))

    if kind == "planning_schedule":
        signal = "schedule" if data.get("schedule_type") == "shipping" else "forecast"
        for line in data.get("lines") or ():
            for q in line.get("quantities") or ():
                add(line, signal, q.get("type"), None,
                    _first_date(q.get("start"), data.get("horizon_start"),
                                data.get("document_date")),
                    q.get("end"), q.get("quantity"),
                    q.get("unit_rec20") or q.get("unit") or line.get("unit"))
    elif kind == "product_activity":
        start = _first_date(data.get("period_start"), data.get("report_date"))
        for line in data.get("lines") or ():
            places: list[tuple[Any, Iterable[Mapping[str, Any]]]] = [
                (None, line.get("activities") or ())]
            places += [(loc.get("location"), loc.get("activities") or ())
                       for loc in line.get("locations") or ()]
            for location, activities in places:
                for a in activities:
                    dates = a.get("dates") or {}
                    add(line, "activity", a.get("activity"), location,
                        _first_date(dates.get("period_start"), start),
                        dates.get("period_end") or data.get("period_end"), a.get("quantity"),
                        a.get("unit_rec20") or a.get("unit"))
    elif kind == "inventory_report":
        for item in data.get("items") or ():
            for q in item.get("quantities") or ():
                dates = q.get("dates") or {}
                add(item, "inventory", q.get("type"), q.get("location"),
                    _first_date(*dates.values(), data.get("report_date")), None,
                    q.get("quantity"), q.get("unit_rec20") or q.get("unit") or item.get("unit"))
    return points


def store_points(session: Session, records: Sequence[tuple[str, str, str, str, datetime,
                                                             Mapping[str, Any]]]) -> int:
    """Store the points of ``records`` (partner, record id, message id, kind, received at,
    data) in the caller's transaction; how many."""
    rows = [DemandPointRow(partner_id=partner, record_id=record_id, message_id=message_id,
                           reported_at=at, **point._asdict())
            for partner, record_id, message_id, kind, at, data in records
            for point in demand_points(kind, data)]
    session.add_all(rows)
    return len(rows)


def forget_message(session: Session, message_id: str) -> None:
    """Drop the points of a message that is processed again."""
    session.execute(delete(DemandPointRow).where(DemandPointRow.message_id == message_id))


def demand_products(session: Session, partner_id: str, limit: int = 500
                    ) -> list[dict[str, Any]]:
    """The partner's products with demand data: key, a description, how many points, the
    first and last period, newest reported first."""
    rows = session.execute(
        select(DemandPointRow.product, func.max(DemandPointRow.description), func.count(),
               func.min(DemandPointRow.period_start), func.max(DemandPointRow.period_start),
               func.max(DemandPointRow.reported_at))
        .where(DemandPointRow.partner_id == partner_id)
        .group_by(DemandPointRow.product)
        .order_by(func.max(DemandPointRow.reported_at).desc(), DemandPointRow.product)
        .limit(limit))
    return [{"product": product, "description": description, "points": count,
             "first_period": first, "last_period": last,
             "last_reported_at": reported.isoformat() if reported else None}
            for product, description, count, first, last, reported in rows]


def demand_series(session: Session, partner_id: str, product: str, *,
                  since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    """The product's series: one per (signal, measure, location, unit), each point the
    newest report's figure for its period, periods in order. ``since``/``until`` bound the
    period start (ISO dates, ``until`` exclusive)."""
    query = select(DemandPointRow).where(DemandPointRow.partner_id == partner_id,
                                         DemandPointRow.product == product)
    if since:
        query = query.where(DemandPointRow.period_start >= since)
    if until:
        query = query.where(DemandPointRow.period_start < until)
    newest: dict[tuple[Any, ...], DemandPointRow] = {}
    for row in session.scalars(query.order_by(DemandPointRow.reported_at,
                                              DemandPointRow.seq)):
        newest[(row.signal, row.measure, row.location, row.unit, row.period_start)] = row
    series: dict[tuple[Any, ...], list[DemandPointRow]] = {}
    for key, row in newest.items():
        series.setdefault(key[:4], []).append(row)
    return [{"signal": signal, "measure": measure, "location": location, "unit": unit,
             "points": [{"period_start": r.period_start, "period_end": r.period_end,
                         "quantity": r.quantity, "record_id": r.record_id,
                         "reported_at": r.reported_at.isoformat()}
                        for r in sorted(rows, key=lambda r: r.period_start)]}
            for (signal, measure, location, unit), rows in sorted(
                series.items(), key=lambda item: tuple(str(v) for v in item[0]))]
