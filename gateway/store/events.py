"""The events table: things that happened which internal systems may subscribe to.

Responsible for the persistent shape of ``events``: one row per event, such as a sent
document the partner rejected (``document.rejected``) or did not acknowledge in time
(``document.overdue``), with its type, partner, message and data. Webhooks subscribe to
event types beside record kinds; a delivery of an event is a ``deliveries`` row whose
``subject`` is ``event``, and one to a message broker a ``broker_deliveries`` row
(``gateway.store.brokers``); ``gateway.delivery.webhooks.enqueue_events`` adds both.
``EVENT_TYPES`` names every type there is.
It must not decide when an event happens: the stage that sees it does
(``gateway.processing.reconcile``, ``gateway.orders.book``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["EVENT_TYPES", "Event"]

EVENT_TYPES: Final = frozenset({
    "document.rejected",  # a partner's 997/999/CONTRL rejected a document edigate sent
    "document.overdue",  # a sent document's acknowledgment did not come by its due time
    # An order's story changed (gateway.orders.book): first seen, answered, shipped,
    # invoiced, documents that disagree, a time rule broken, cancelled or rejected.
    "order.created",
    "order.acknowledged",
    "order.shipped",
    "order.invoiced",
    "order.discrepancy",
    "order.late",
    "order.cancelled",
})


class Event(Base):
    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[str] = mapped_column(Text)  # JSON object
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
