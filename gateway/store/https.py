"""The HTTPS transfer table: each outbound interchange POSTed to a partner over HTTPS.

Responsible for the persistent shape of ``https_transfers``: one row per queued send of
a payload (content-addressed in ``payloads``) to a partner whose profile has an
``[https]`` table, with the outbox columns of ``gateway.delivery.outbox.OutboxRow``
(attempts, the next due time or the end of a claim's lease, the claim's token, the last
error), its status and the last HTTP status the partner answered. It holds no
credentials: the partner's secret is read from the environment at each attempt and never
stored. The logic lives in ``gateway.delivery.https_sending``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["HTTPSStatus", "HTTPSTransfer"]


class HTTPSStatus:
    """pending -> delivered | failed; a failed transfer is final (a resend queues a new
    row)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    ALL = frozenset({PENDING, DELIVERED, FAILED})


class HTTPSTransfer(Base):
    """One payload to one partner's ``[https] url``. While a claim is out, ``locked_by``
    is its token and ``next_attempt_at`` the end of its lease."""

    __tablename__ = "https_transfers"
    __table_args__ = (
        Index("ix_https_transfers_due", "status", "next_attempt_at"),
        Index("ix_https_transfers_partner", "partner_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    # The outbound message whose interchange this is.
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), index=True)
    # Where the last attempt went (the profile's url then; see https_sending).
    url: Mapped[str] = mapped_column(String(2000))
    # Indexed: a purge deletes a payload only when no row refers to it.
    payload_sha256: Mapped[str] = mapped_column(ForeignKey("payloads.sha256"), index=True)
    content_type: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=HTTPSStatus.PENDING)
    http_status: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
