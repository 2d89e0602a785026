"""The order tables: every PO as an order, with its lines, documents and findings.

Responsible for the persistent shape of what ``gateway.orders.book`` maintains in the
processing transaction: ``orders`` (one row per partner and PO number: status, flags,
amounts, milestones, when it must be looked at again), ``order_lines`` (per line the
ordered, confirmed, shipped and invoiced quantities), ``order_documents`` (which
documents joined the order, each a record edigate translated or a document it sent) and
``order_findings`` (discrepancies and broken time rules). Quantities and amounts are
Decimal text: exact on every database.
It must not decide what an order's status or findings are (``gateway.orders.story``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow
from gateway.store.models import RecordRow
from gateway.store.outbound import SentDocument

__all__ = ["DemandPointRow", "OrderDocumentRow", "OrderFindingRow", "OrderLineRow", "OrderRow",
           "linked_record"]


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("partner_id", "po_number", name="uq_orders_partner_po"),
        # The order list pages newest first, by partner or across partners.
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_partner_created", "partner_id", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_due", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    po_number: Mapped[str] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(4))  # sell | buy
    status: Mapped[str] = mapped_column(String(20))
    order_date: Mapped[str | None] = mapped_column(String(10))
    currency: Mapped[str | None] = mapped_column(String(3))
    ordered_amount: Mapped[str] = mapped_column(String(40), default="0")
    invoiced_amount: Mapped[str] = mapped_column(String(40), default="0")
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    document_count: Mapped[int] = mapped_column(Integer, default=0)
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    has_discrepancy: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the partner scorecards add up (gateway.orders.story.Story has their meaning).
    lines_live: Mapped[int] = mapped_column(Integer, default=0)
    lines_filled: Mapped[int] = mapped_column(Integer, default=0)
    asn_count: Mapped[int] = mapped_column(Integer, default=0)
    asn_late: Mapped[int] = mapped_column(Integer, default=0)
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)
    invoice_flagged: Mapped[int] = mapped_column(Integer, default=0)
    ack_seconds: Mapped[int | None] = mapped_column(Integer)  # PO to order response
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the standing PO's
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invoiced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a time rule breaks if nothing arrives first: the worker retells the order then.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderLineRow(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    line_number: Mapped[str | None] = mapped_column(String(40))
    item_ids: Mapped[str] = mapped_column(Text)  # JSON object, the order line's ids
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    ordered: Mapped[str] = mapped_column(String(40))
    confirmed: Mapped[str | None] = mapped_column(String(40))
    shipped: Mapped[str] = mapped_column(String(40))
    invoiced: Mapped[str] = mapped_column(String(40))
    ordered_price: Mapped[str | None] = mapped_column(String(40))
    invoiced_price: Mapped[str | None] = mapped_column(String(40))
    invoiced_amount: Mapped[str] = mapped_column(String(40))


class OrderDocumentRow(Base):
    __tablename__ = "order_documents"
    __table_args__ = (Index("ix_order_documents_message", "message_id"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    # record:<records.id> for a translated document, sent:<sent_documents.id> for one
    # edigate generated.
    document: Mapped[str] = mapped_column(String(48), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    number: Mapped[str | None] = mapped_column(String(80))  # the document's own number
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    # The document's record data (JSON), kept here when a retention purge deletes its
    # record or sent document, so that the order is told again from the same documents.
    kept: Mapped[str | None] = mapped_column(Text)


def linked_record() -> ColumnElement[str | None]:
    """The record data (JSON text) an ``order_documents`` row names, in a statement on
    that table: its translated record's (``record:<id>``) or its sent document's
    (``sent:<id>``), NULL when that is gone. Each is a correlated lookup by the unique
    id, one index probe a link whatever the tables' statistics say (a join was planned as
    hash joins over whole tables until they were analyzed)."""
    links: Table = OrderDocumentRow.__table__  # type: ignore[assignment]
    records: Table = RecordRow.__table__  # type: ignore[assignment]
    sent: Table = SentDocument.__table__  # type: ignore[assignment]
    return func.coalesce(
        select(records.c.data).where(links.c.document.startswith("record:"),
                                     records.c.id == func.substr(links.c.document, 8))
        .scalar_subquery(),
        select(sent.c.record).where(links.c.document.startswith("sent:"),
                                    sent.c.id == func.substr(links.c.document, 6))
        .scalar_subquery())


class OrderFindingRow(Base):
    __tablename__ = "order_findings"
    __table_args__ = (Index("ix_order_findings_code", "code"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(12))
    message: Mapped[str] = mapped_column(Text)
    line_key: Mapped[str | None] = mapped_column(String(120))
    documents: Mapped[str] = mapped_column(Text)  # JSON array of document keys
    values: Mapped[str] = mapped_column(Text)  # JSON object
    fingerprint: Mapped[str] = mapped_column(Text)
    # When this finding was first told: kept across retellings by its fingerprint.
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemandPointRow(Base):
    """One demand or inventory figure a partner reported: a forecast or scheduled
    quantity (830/DELFOR, 862/DELJIT), an activity such as units sold (852/SLSRPT) or a
    stock level (846/INVRPT), for one product, period and location."""

    __tablename__ = "demand_points"
    __table_args__ = (
        Index("ix_demand_points_product", "partner_id", "product", "period_start"),
        Index("ix_demand_points_message", "message_id"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(36))
    message_id: Mapped[str] = mapped_column(String(36))
    # gtin:<14 digits>, buyer_item:<id>, vendor_item:<id>, ...: one product whatever the
    # document calls it (gateway.orders.lines.product_keys picks the same).
    product: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    signal: Mapped[str] = mapped_column(String(20))  # forecast, schedule, activity, inventory
    measure: Mapped[str] = mapped_column(String(40))  # what was counted, as the record names it
    location: Mapped[str | None] = mapped_column(String(80))
    period_start: Mapped[str] = mapped_column(String(19))  # a date or date-time, as reported
    period_end: Mapped[str | None] = mapped_column(String(19))
    quantity: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(8))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
