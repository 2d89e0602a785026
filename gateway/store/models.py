"""The gateway's tables (the ledger's own tables live in ``gateway.ledger.chain``).

Responsible for the persistent shape of messages, their content-addressed payloads, the
canonical records and acknowledgments produced from them, API keys and control-number
counters. ORM rows stay here; API shapes are separate pydantic models in ``gateway.api``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = [
    "Acknowledgment",
    "ApiKey",
    "ControlCounter",
    "FinishedMessage",
    "Message",
    "MessageStatus",
    "Payload",
    "RecordRow",
    "StoredMessage",
    "add_payload",
]


class MessageStatus:
    """Inbound: RECEIVED -> PROCESSING -> PROCESSED | REJECTED | FAILED. Outbound (written
    by edigate from internal systems' records): GENERATED (stored, sent on the partner's
    transport) or HELD (did not generate; stored with its errors, never sent)."""

    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    PROCESSED = "PROCESSED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    GENERATED = "GENERATED"
    HELD = "HELD"
    FINAL = frozenset({PROCESSED, REJECTED, FAILED, GENERATED, HELD})


class FinishedMessage(NamedTuple):
    """A processed or rejected message's new values, as a batch finish writes them (see
    ``SQLDialect.finish_messages``): the fields are the ``messages`` columns they set."""

    id: str
    status: str
    error: str | None
    transaction_types: str | None
    search_text: str
    summary: str
    ack_status: str | None


class StoredMessage(NamedTuple):
    """A stored message as intake's duplicate lookup finds it (see
    ``SQLDialect.find_stored``): the fields are the ``messages`` columns read."""

    id: str
    status: str
    partner_id: str
    payload_sha256: str
    interchange_sender: str | None
    interchange_control: str | None



# The start of the duplicate lookup's queries in both dialects: the columns are
# StoredMessage's fields, so the row shape and the SQL cannot drift apart.
STORED_MESSAGE_SELECT = f"SELECT {', '.join(StoredMessage._fields)} FROM messages WHERE "

class Payload(Base):
    """Raw bytes as received, stored once per distinct content (sha256)."""

    __tablename__ = "payloads"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def add_payload(session: Session, data: bytes, at: datetime | None = None) -> str:
    """Store ``data`` (at ``at``, default now) in the caller's transaction unless a
    payload of the same content is stored already; its sha256, which rows refer to it by."""
    digest = hashlib.sha256(data).hexdigest()
    if session.get(Payload, digest) is None:
        session.add(Payload(sha256=digest, size=len(data), data=data,
                            created_at=at or utcnow()))
        session.flush()
    return digest


class Message(Base):
    """What a partner sent over a transport, and where it is in the pipeline."""

    __tablename__ = "messages"
    __table_args__ = (
        # Duplicate detection: the same interchange (sender + control number) or the same
        # bytes from the same partner is one message. NULLs (unreadable input) never clash.
        # The digest and the control number lead: intake's PostgreSQL lookup probes them
        # without the partner (checked on the rows found), so ix_messages_partner_received
        # cannot be mistaken for a fit (migration 0005; SQLite databases migrated from 0001
        # keep the partner first).
        UniqueConstraint("interchange_control", "interchange_sender", "partner_id",
                         name="uq_messages_interchange"),
        UniqueConstraint("payload_sha256", "partner_id", name="uq_messages_payload"),
        # SQLite's uq_messages_payload keeps the partner first (see above), so the digest
        # alone, which a purge asks about for every payload it would delete, needs an
        # index of its own there (migration 0016).
        Index("ix_messages_payload_sha256", "payload_sha256").ddl_if(dialect="sqlite"),
        Index("ix_messages_received", "received_at", "id"),
        Index("ix_messages_partner_received", "partner_id", "received_at"),
        # The work queue (claims take the oldest RECEIVED one; migration 0005) and the
        # message log's status filter, both in received order.
        Index("ix_messages_status_received", "status", "received_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8), default="inbound")
    transport: Mapped[str] = mapped_column(String(16))
    standard: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    payload_sha256: Mapped[str] = mapped_column(ForeignKey("payloads.sha256"))
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    interchange_sender: Mapped[str | None] = mapped_column(String(40))
    interchange_receiver: Mapped[str | None] = mapped_column(String(40))
    interchange_control: Mapped[str | None] = mapped_column(String(20))
    transaction_types: Mapped[str | None] = mapped_column(String(200))
    # Control and business numbers (PO, invoice, shipment) for the message log's search.
    search_text: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)  # JSON: per-transaction outcomes
    error: Mapped[str | None] = mapped_column(Text)
    ack_status: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecordRow(Base):
    """One canonical record; ``seq`` orders the records feed (see
    ``gateway.processing.processor``)."""

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_kind_seq", "kind", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    standard: Mapped[str] = mapped_column(String(10))
    transaction_type: Mapped[str] = mapped_column(String(10))
    transaction_control: Mapped[str] = mapped_column(String(20))
    business_number: Mapped[str | None] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(2))  # A, E (accepted with errors noted)
    data: Mapped[str] = mapped_column(Text)  # the record's JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Acknowledgment(Base):
    """An acknowledgment edigate built for a message (997, 999, TA1, CONTRL)."""

    __tablename__ = "acknowledgments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    control_number: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """An API key: only its sha256 is stored. Keys are 256-bit random, so a fast hash is
    enough; ``prefix`` finds the row and the hash is compared in constant time."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))  # partner | consumer | ops
    partner_id: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str | None] = mapped_column(String(10))  # consumers: crm | scm | all
    role: Mapped[str | None] = mapped_column(String(10))  # ops: viewer | operator
    label: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consumers only: may submit documents to send (POST /v1/documents).
    can_send: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ControlCounter(Base):
    """Monotonic counters for outbound control numbers (ISA13 of acknowledgments, ...)."""

    __tablename__ = "control_counters"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
