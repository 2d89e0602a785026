"""Reading orders: the order list and one order, for the API and the ops console alike.

Responsible for ``OrderFilters`` and ``order_page`` (newest first by when edigate first
saw the order, keyset-paged; each filter an index range or a column test on the stored
order, never a scan of documents), and ``order_view`` (one order with its lines, its
documents in arrival order with each one's acknowledgment state, and its findings) as
JSON-ready dicts, Decimal values as text.
It must not change orders: ``gateway.orders.book`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.store.models import Message
from gateway.store.orders import OrderDocumentRow, OrderFindingRow, OrderLineRow, OrderRow
from gateway.store.outbound import SentDocument
from gateway.store.search import keyset_before

__all__ = ["OrderFilters", "order_json", "order_page", "order_view", "orders_of_message"]


@dataclass(frozen=True, slots=True)
class OrderFilters:
    partner: str | None = None
    status: str | None = None
    role: str | None = None
    has_discrepancy: bool | None = None
    late: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    po_number: str | None = None


def _filtered(filters: OrderFilters) -> Select[OrderRow]:
    query = select(OrderRow)
    if filters.partner:
        query = query.where(OrderRow.partner_id == filters.partner)
    if filters.status:
        query = query.where(OrderRow.status == filters.status)
    if filters.role:
        query = query.where(OrderRow.role == filters.role)
    if filters.has_discrepancy is not None:
        query = query.where(OrderRow.has_discrepancy == filters.has_discrepancy)
    if filters.late is not None:
        query = query.where(OrderRow.late == filters.late)
    if filters.since:
        query = query.where(OrderRow.created_at >= filters.since)
    if filters.until:
        query = query.where(OrderRow.created_at < filters.until)
    if filters.po_number:
        query = query.where(OrderRow.po_number == filters.po_number)
    return query


def order_page(session: Session, filters: OrderFilters, *,
               cursor: tuple[datetime, str] | None = None, limit: int = 50
               ) -> tuple[list[OrderRow], bool]:
    """A page of orders, newest first, and whether there is a next one."""
    query = _filtered(filters)
    if cursor is not None:
        query = query.where(keyset_before(OrderRow.created_at, OrderRow.id, *cursor))
    query = query.order_by(OrderRow.created_at.desc(), OrderRow.id.desc()).limit(limit + 1)
    rows = list(session.scalars(query))
    return rows[:limit], len(rows) > limit


def order_json(order: OrderRow) -> dict[str, Any]:
    """An order as the list shows it."""
    return {
        "id": order.id, "partner_id": order.partner_id, "po_number": order.po_number,
        "role": order.role, "status": order.status, "order_date": order.order_date,
        "currency": order.currency, "ordered_amount": order.ordered_amount,
        "invoiced_amount": order.invoiced_amount, "line_count": order.line_count,
        "document_count": order.document_count, "finding_count": order.finding_count,
        "has_discrepancy": order.has_discrepancy, "late": order.late,
        "ordered_at": _iso(order.ordered_at), "acknowledged_at": _iso(order.acknowledged_at),
        "ack_seconds": order.ack_seconds, "shipped_at": _iso(order.shipped_at),
        "invoiced_at": _iso(order.invoiced_at), "due_at": _iso(order.due_at),
        "created_at": _iso(order.created_at), "updated_at": _iso(order.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_view(session: Session, partner_id: str, po_number: str) -> dict[str, Any] | None:
    """One order with its lines, documents and findings; ``None`` when there is none."""
    order = session.scalars(select(OrderRow).where(
        OrderRow.partner_id == partner_id, OrderRow.po_number == po_number)).first()
    if order is None:
        return None
    lines = session.scalars(select(OrderLineRow).where(OrderLineRow.order_id == order.id)
                            .order_by(OrderLineRow.position))
    documents = list(session.scalars(select(OrderDocumentRow).where(
        OrderDocumentRow.order_id == order.id).order_by(OrderDocumentRow.at,
                                                        OrderDocumentRow.document)))
    findings = session.scalars(select(OrderFindingRow).where(
        OrderFindingRow.order_id == order.id).order_by(OrderFindingRow.position))
    acks = _acknowledgments(session, documents)
    return {
        **order_json(order),
        "lines": [{
            "key": line.key, "line_number": line.line_number,
            "item_ids": json.loads(line.item_ids), "description": line.description,
            "unit": line.unit, "status": line.status, "ordered": line.ordered,
            "confirmed": line.confirmed, "shipped": line.shipped,
            "invoiced": line.invoiced, "ordered_price": line.ordered_price,
            "invoiced_price": line.invoiced_price, "invoiced_amount": line.invoiced_amount,
        } for line in lines],
        "documents": [{
            "document": doc.document, "kind": doc.kind, "direction": doc.direction,
            "number": doc.number, "message_id": doc.message_id, "at": _iso(doc.at),
            "superseded": doc.superseded,
            # Its message was purged by retention; the order keeps the record's data.
            "purged": doc.kept is not None,
            "functional_ack": acks.get(doc.document),
        } for doc in documents],
        "findings": [{
            "code": f.code, "category": f.category, "message": f.message,
            "line": f.line_key, "documents": json.loads(f.documents),
            "values": json.loads(f.values), "found_at": _iso(f.found_at),
        } for f in findings],
    }


def _acknowledgments(session: Session, documents: list[OrderDocumentRow]
                     ) -> dict[str, str | None]:
    """Each document's functional acknowledgment state: for what edigate received, the
    one it sent back (its message's); for what it sent, the partner's."""
    inbound = {d.message_id: d.document for d in documents if d.direction == "inbound"}
    sent = {d.document.removeprefix("sent:"): d.document for d in documents
            if d.document.startswith("sent:")}
    found: dict[str, str | None] = {}
    if inbound:
        states: dict[str, str | None] = {
            message_id: state for message_id, state in session.execute(
                select(Message.id, Message.ack_status).where(Message.id.in_(list(inbound))))}
        for d in documents:
            if d.direction == "inbound":
                found[d.document] = states.get(d.message_id)
    if sent:
        for sent_id, state in session.execute(select(SentDocument.id, SentDocument.ack_status)
                                              .where(SentDocument.id.in_(list(sent)))):
            found[sent[sent_id]] = state
    return found


def orders_of_message(session: Session, message_id: str) -> list[OrderRow]:
    """The orders a message's documents joined (a ship notice may join several)."""
    return list(session.scalars(
        select(OrderRow).join(OrderDocumentRow, OrderDocumentRow.order_id == OrderRow.id)
        .where(OrderDocumentRow.message_id == message_id).distinct()
        .order_by(OrderRow.po_number)))
