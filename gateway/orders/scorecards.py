"""Partner scorecards: how reliable a trading partner is over a period.

Responsible for ``scorecard``: for one partner and the orders edigate first saw in
[``since``, ``until``), the acknowledgment latency (PO to order response: mean and
slowest, and the share answered within the partner's ``ack_due_hours``), the fill rate
(order lines shipped in full over the lines to ship, of the orders with a ship notice),
the on-time ship notice rate, invoice accuracy (invoices no discrepancy names), the
orders with discrepancies or broken time rules, rejected documents (the partner's
messages edigate rejected, the documents it sent that the partner's acknowledgments
rejected) and volumes (messages each way, orders, ordered amounts per currency). Every
figure is one aggregate over the stored orders (``gateway.orders.book`` keeps the counts
each one adds), the sent documents or the hourly message rollups (messages counted by the
hour they were received in): no document is read.
It must not change anything.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, case, cast, func, select
from sqlalchemy.orm import Session

from gateway.store.orders import OrderRow
from gateway.store.outbound import AckState, SentDocument
from gateway.store.rollups import MessageRollup, hour_of

__all__ = ["scorecard"]


def _rate(part: int | None, whole: int | None) -> float | None:
    """``part / whole`` rounded to four places; ``None`` when there is nothing to rate."""
    if not whole:
        return None
    return round((part or 0) / whole, 4)


def scorecard(session: Session, partner_id: str, since: datetime, until: datetime,
              ack_due_hours: int) -> dict[str, Any]:
    """The partner's scorecard for orders first seen in [``since``, ``until``)."""
    in_period = and_(OrderRow.partner_id == partner_id, OrderRow.created_at >= since,
                     OrderRow.created_at < until)
    acknowledged = OrderRow.ack_seconds.is_not(None)
    shipped = OrderRow.asn_count > 0
    row = session.execute(select(
        func.count(),
        func.sum(case((OrderRow.status == "cancelled", 1), else_=0)),
        func.sum(case((OrderRow.has_discrepancy, 1), else_=0)),
        func.sum(case((OrderRow.late, 1), else_=0)),
        func.sum(case((acknowledged, 1), else_=0)),
        func.avg(OrderRow.ack_seconds),
        func.max(OrderRow.ack_seconds),
        func.sum(case((and_(acknowledged, OrderRow.ack_seconds <= ack_due_hours * 3600), 1),
                      else_=0)),
        func.sum(case((shipped, OrderRow.lines_live), else_=0)),
        func.sum(case((shipped, OrderRow.lines_filled), else_=0)),
        func.sum(OrderRow.asn_count), func.sum(OrderRow.asn_late),
        func.sum(OrderRow.invoice_count), func.sum(OrderRow.invoice_flagged),
    ).where(in_period)).one()
    (orders, cancelled, discrepant, late, acked, ack_mean, ack_max, ack_on_time, lines_live,
     lines_filled, asns, asns_late, invoices, invoices_flagged) = row
    amounts = {currency or "": str(Decimal(total).normalize()) if total is not None else "0"
               for currency, total in session.execute(
                   select(OrderRow.currency,
                          func.sum(cast(OrderRow.ordered_amount, Numeric(20, 6))))
                   .where(in_period).group_by(OrderRow.currency))}
    # Volumes from the dashboard's hourly rollups (counts kept as messages are stored and
    # finished), by the hour a message was received in: a day of a partner is a few dozen
    # rows, where its messages would be thousands.
    r = MessageRollup
    volumes = {direction: (int(total or 0), int(rejected or 0))
               for direction, total, rejected in session.execute(
                   select(r.direction, func.sum(r.messages), func.sum(r.rejected))
                   .where(r.partner_id == partner_id, r.hour >= hour_of(since),
                          r.hour < until)
                   .group_by(r.direction))}
    sent_rejected = session.scalar(select(func.count()).select_from(SentDocument).where(
        SentDocument.partner_id == partner_id, SentDocument.created_at >= since,
        SentDocument.created_at < until, SentDocument.ack_status == AckState.REJECTED)) or 0
    return {
        "partner_id": partner_id, "since": since.isoformat(), "until": until.isoformat(),
        "acknowledgment": {
            "acknowledged_orders": acked or 0,
            "mean_hours": round(float(ack_mean) / 3600, 2) if ack_mean is not None else None,
            "slowest_hours": round(ack_max / 3600, 2) if ack_max is not None else None,
            "within_due_rate": _rate(ack_on_time, acked), "due_hours": ack_due_hours,
        },
        "fill_rate": _rate(lines_filled, lines_live),
        "lines_to_ship": lines_live or 0, "lines_filled": lines_filled or 0,
        "ship_notices": asns or 0,
        "on_time_ship_notice_rate": _rate((asns or 0) - (asns_late or 0), asns),
        "invoices": invoices or 0,
        "invoice_accuracy": _rate((invoices or 0) - (invoices_flagged or 0), invoices),
        "orders": orders, "cancelled_orders": cancelled or 0,
        "orders_with_discrepancy": discrepant or 0, "late_orders": late or 0,
        "ordered_amount": dict(sorted(amounts.items())),
        "rejected": {"received": volumes.get("inbound", (0, 0))[1], "sent": sent_rejected},
        "volumes": {"received": volumes.get("inbound", (0, 0))[0],
                    "sent": volumes.get("outbound", (0, 0))[0]},
    }
