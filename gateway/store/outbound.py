"""The table of documents edigate generated and sent, and the acknowledgments they await.

Responsible for the persistent shape of ``sent_documents``: one row per transaction set
(X12 ST) or message (EDIFACT UNH) edigate generated from an internal system's record,
with the control numbers that enveloped it, the record as submitted, and the state of the
functional acknowledgment the partner owes for it. The outbound interchange itself is a
``messages`` row (direction ``outbound``) holding the payload, so the message log,
the raw download and the ledger treat both directions alike.
The logic lives in ``gateway.processing.outbound``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["AckState", "SentDocument"]


class AckState:
    """What is known of a sent document's functional acknowledgment.

    ``PENDING`` until the partner's 997/999/CONTRL names it, then ``ACCEPTED``,
    ``ACCEPTED_WITH_ERRORS`` or ``REJECTED``; ``OVERDUE`` once ``ack_due_at`` passed
    without one; ``NOT_EXPECTED`` when the partner owes none (an EDIFACT interchange that
    did not ask for a CONTRL, an X12 partner whose profile says ``ack = "none"``).
    """

    PENDING = "pending"
    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted-with-errors"
    REJECTED = "rejected"
    OVERDUE = "overdue"
    NOT_EXPECTED = "not-expected"
    ALL = (PENDING, ACCEPTED, ACCEPTED_WITH_ERRORS, REJECTED, OVERDUE, NOT_EXPECTED)


class SentDocument(Base):
    __tablename__ = "sent_documents"
    __table_args__ = (
        # Inbound acknowledgments are matched by partner and control numbers.
        Index("ix_sent_documents_controls", "partner_id", "interchange_control",
              "group_control", "transaction_control"),
        Index("ix_sent_documents_ack_due", "ack_status", "ack_due_at"),
        Index("ix_sent_documents_partner_seq", "partner_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    standard: Mapped[str] = mapped_column(String(10))  # x12 | edifact
    kind: Mapped[str] = mapped_column(String(32))  # the record kind, purchase_order, ...
    document_type: Mapped[str] = mapped_column(String(10))  # ST01 or UNH 0065
    version: Mapped[str] = mapped_column(String(12))  # GS08 or the UNH directory
    interchange_control: Mapped[str] = mapped_column(String(20))
    group_control: Mapped[str | None] = mapped_column(String(20))
    transaction_control: Mapped[str] = mapped_column(String(20))
    # The order's number (PO) as the message log finds documents by, and the document's
    # own number (invoice, shipment, ...) as a partner's APERAK may name it.
    business_number: Mapped[str | None] = mapped_column(String(80), index=True)
    document_number: Mapped[str | None] = mapped_column(String(80))
    record: Mapped[str] = mapped_column(Text)  # the record's JSON, as submitted
    ack_status: Mapped[str] = mapped_column(String(24))
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # X12 only, when ISA14 asked for one: the interchange acknowledgment (TA1) awaited,
    # then accepted, accepted-with-errors, rejected or overdue; None when none was asked.
    ta1_status: Mapped[str | None] = mapped_column(String(24))
    # The inbound message whose acknowledgment settled ack_status, and what it said.
    ack_message_id: Mapped[str | None] = mapped_column(String(36))
    ack_detail: Mapped[str | None] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def as_dict(self, *, record: bool = False) -> dict[str, Any]:
        """The document as the API shows it (``record``: with the record as sent)."""
        out: dict[str, Any] = {
            "id": self.id, "message_id": self.message_id, "partner_id": self.partner_id,
            "standard": self.standard, "kind": self.kind, "document_type": self.document_type,
            "version": self.version, "interchange_control": self.interchange_control,
            "group_control": self.group_control,
            "transaction_control": self.transaction_control,
            "business_number": self.business_number, "document_number": self.document_number,
            "ack_status": self.ack_status, "ta1_status": self.ta1_status,
            "ack_due_at": self.ack_due_at.isoformat() if self.ack_due_at else None,
            "ack_message_id": self.ack_message_id,
            "ack_detail": json.loads(self.ack_detail) if self.ack_detail else None,
            "created_at": self.created_at.isoformat()}
        if record:
            out["record"] = json.loads(self.record)
        return out
