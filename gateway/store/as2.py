"""The AS2 table: every AS2 message in either direction, with its receipt (MDN).

Responsible for the persistent shape of ``as2_messages``: one row per AS2 Message-ID and
partner and direction. Inbound rows keep the transport evidence (signer certificate,
algorithms, MIC), the MDN edigate answered with, and, for asynchronous receipts, the queue
state of delivering that MDN. Outbound rows (acknowledgments and documents edigate sends)
are the work queue of the AS2 sender: attempts, the next due time, the lease, and the MDN
that came back. Together with the ledger entries they are the non-repudiation record.
The logic lives in ``gateway.intake.as2`` (in) and ``gateway.delivery.as2_sending`` (out,
on the one outbox of ``gateway.delivery.outbox``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["AS2Message", "AS2Status"]


class AS2Status:
    """Inbound: received | rejected. Outbound: pending -> delivered | failed, with
    awaiting-mdn between for asynchronous receipts. MDN delivery (inbound, async):
    mdn_status pending -> sent | failed."""

    RECEIVED = "received"
    REJECTED = "rejected"
    PENDING = "pending"
    AWAITING_MDN = "awaiting-mdn"
    DELIVERED = "delivered"
    FAILED = "failed"
    SENT = "sent"


def _digest_index(column: str) -> Index:
    """An index of the rows that name a payload in ``column``: a purge asks whether any row
    still refers to a payload it would delete. Partial, as inbound rows have no
    ``payload_sha256`` and outbound ones no ``raw_sha256``: counted, their NULLs made an
    analyzed SQLite scan the table rather than look the digest up."""
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_as2_messages_{column}", column, postgresql_where=where,
                 sqlite_where=where)


class AS2Message(Base):
    __tablename__ = "as2_messages"
    __table_args__ = (
        # RFC 4130 §5.3.3: a Message-ID identifies the message; a partner resending it is
        # answered as a duplicate, never taken in twice.
        UniqueConstraint("partner_id", "direction", "as2_message_id", name="uq_as2_message"),
        Index("ix_as2_due", "status", "next_attempt_at"),
        Index("ix_as2_mdn_due", "mdn_status", "next_attempt_at"),
        _digest_index("payload_sha256"),
        _digest_index("raw_sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    partner_id: Mapped[str] = mapped_column(String(64))
    as2_message_id: Mapped[str] = mapped_column(String(255))
    # The gateway message this AS2 message carried (in) or answers (out: its ack).
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="document")  # document | ack
    url: Mapped[str | None] = mapped_column(String(2000))
    # Outbound: the payload to send (content-addressed like inbound payloads).
    payload_sha256: Mapped[str | None] = mapped_column(ForeignKey("payloads.sha256"))
    content_type: Mapped[str | None] = mapped_column(String(120))
    # The raw request as received (inbound), kept as evidence: content-addressed.
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    mic: Mapped[str | None] = mapped_column(String(200))  # "value, algorithm"
    evidence: Mapped[str | None] = mapped_column(Text)  # JSON
    mdn_mode: Mapped[str | None] = mapped_column(String(8))  # sync | async | none
    mdn_url: Mapped[str | None] = mapped_column(String(2000))  # async receipt address
    mdn_status: Mapped[str | None] = mapped_column(String(16))
    mdn_disposition: Mapped[str | None] = mapped_column(String(200))
    mdn_message_id: Mapped[str | None] = mapped_column(String(255))
    mdn_headers: Mapped[str | None] = mapped_column(Text)  # JSON object
    mdn_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
