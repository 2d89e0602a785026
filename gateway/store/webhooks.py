"""The webhook tables: subscriptions of internal systems and the delivery of each record.

Responsible for the persistent shape of ``webhooks`` (where to POST which record kinds,
with which signing secret) and ``deliveries`` (one row per record and subscription, the
unit of the at-least-once work queue). The queue logic lives in ``gateway.delivery.webhooks``.

The signing secret is stored as is: the gateway must compute HMAC-SHA256 with it for
every request, so a one-way hash (as for API keys) cannot work. It is shown once at
creation and never returned by the API afterwards; whoever can read the database can sign
as the gateway, so the database is to be protected like the ledger key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["DeliveryStatus", "Webhook", "WebhookDelivery"]


class DeliveryStatus:
    """pending -> delivered | dead; an operator's retry puts dead back to pending."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    ALL = frozenset({PENDING, DELIVERED, DEAD})


class Webhook(Base):
    """A subscription: records of ``kinds`` are POSTed to ``url``, signed with ``secret``."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    kinds: Mapped[str] = mapped_column(String(400))  # comma list of record kinds, sorted
    secret: Mapped[str] = mapped_column(String(100))  # plaintext: it must sign (see above)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_set(self) -> frozenset[str]:
        return self.kinds_of(self.kinds)

    @staticmethod
    def kinds_of(kinds: str) -> frozenset[str]:
        """The record kinds of a stored ``kinds`` value."""
        return frozenset(k for k in kinds.split(",") if k)


class WebhookDelivery(Base):
    """One record to one webhook: attempts, the next due time and the last outcome.

    There is no foreign key to ``records``: a reprocess deletes the records of the earlier
    run, and the delivery (with its history) must outlive them. ``locked_by`` names the
    claim of the attempt in flight; while it runs, ``next_attempt_at`` is the end of its
    lease, so a worker that dies leaves a delivery that falls due again by itself.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # A record is enqueued once per webhook, whatever happens later.
        UniqueConstraint("webhook_id", "record_id", name="uq_deliveries_webhook_record"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id"))  # uq_ index leads
    # What is delivered: a record (RecordRow.id and its feed cursor) or, with subject
    # "event", an event (Event.id and Event.seq).
    subject: Mapped[str] = mapped_column(String(8), default="record", server_default="record")
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    record_seq: Mapped[int] = mapped_column(Integer)
    # For the ledger, even after a reprocess; indexed for retention, which deletes a
    # message's deliveries with it.
    message_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
