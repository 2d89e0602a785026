"""The SFTP upload table: each outbound interchange or acknowledgment uploaded to a
partner's SFTP server.

Responsible for the persistent shape of ``sftp_transfers``: one row per queued upload of
a payload (content-addressed in ``payloads``) to the ``[sftp] outbound_path`` of a
partner, with the outbox columns of ``gateway.delivery.outbox.OutboxRow``, its status and
the remote name it is (or was) written under. It holds no credentials. The logic lives in
``gateway.delivery.sftp_sending``; inbound polling keeps no rows of its own (what it
downloads is a message, stored by intake).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["SFTPStatus", "SFTPTransfer"]


class SFTPStatus:
    """pending -> delivered | failed; a failed transfer is final (a resend queues a new
    row)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    ALL = frozenset({PENDING, DELIVERED, FAILED})


class SFTPTransfer(Base):
    """One payload to one partner's ``[sftp] outbound_path``. While a claim is out,
    ``locked_by`` is its token and ``next_attempt_at`` the end of its lease."""

    __tablename__ = "sftp_transfers"
    __table_args__ = (
        Index("ix_sftp_transfers_due", "status", "next_attempt_at"),
        Index("ix_sftp_transfers_partner", "partner_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    # The message whose interchange (document) or acknowledgment (ack) this is.
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The final remote path (directory and name) of the last attempt.
    remote_path: Mapped[str] = mapped_column(String(600))
    # Indexed: a purge deletes a payload only when no row refers to it.
    payload_sha256: Mapped[str] = mapped_column(ForeignKey("payloads.sha256"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SFTPStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
