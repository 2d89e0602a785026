"""The order book: orders kept up to date in the transaction that processes their documents.

Responsible for joining documents to their orders (``join``: a translated record or a
document edigate sent, by partner and PO number; a ship notice joins every order it
carries), telling each touched order's story again from all of its documents
(``gateway.orders.story``) and storing it (status, lines, findings, flags, milestones),
and for the events and ledger entries an order's change makes: ``order.created``,
``order.acknowledged``, ``order.shipped``, ``order.invoiced``, ``order.discrepancy``,
``order.late`` and ``order.cancelled``, each delivered to the webhooks (and brokers)
subscribed to it. A reprocessed message's documents leave their orders first
(``forget_message``); orders whose time rules fall due with nothing arriving are told
again by the worker's clock (``retell_due``).
Because a story is a pure function of its documents, telling it again after any of
these gives the same order whatever happened in between.
It must not translate documents or deliver events: the processor and the outboxes do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, NamedTuple

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from gateway.delivery.webhooks import enqueue_events
from gateway.ledger.chain import EntryDraft, Ledger
from gateway.orders.story import ORDER_DOCUMENT_KINDS, Document, Rules, Story, po_numbers, tell
from gateway.store.db import Database
from gateway.store.dialect import dialect_for
from gateway.store.events import Event
from gateway.store.models import Message, RecordRow
from gateway.store.orders import OrderDocumentRow, OrderFindingRow, OrderLineRow, OrderRow
from gateway.store.outbound import SentDocument
from partners import PartnerRegistry

__all__ = ["Joining", "OrderBook", "document_number", "partner_rules"]

# The number each kind of document is known by, beside the PO number it joins on.
_OWN_NUMBER: Final[Mapping[str, str]] = {
    "purchase_order": "po_number", "purchase_order_change": "change_sequence",
    "order_response": "seller_order_number", "ship_notice": "shipment_id",
    "invoice": "invoice_number", "inventory_report": "report_id"}


def document_number(kind: str, data: Mapping[str, Any]) -> str | None:
    """The document's own number (an invoice's invoice number, a ship notice's shipment
    id), cut to the 80 characters the column holds."""
    value = data.get(_OWN_NUMBER.get(kind, ""))
    return value[:80] if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class Joining:
    """A document that joins its orders: ``document`` is ``record:<id>`` or
    ``sent:<id>``; ``at`` when edigate received or generated it."""

    partner_id: str
    document: str
    message_id: str
    kind: str
    direction: str
    at: datetime
    data: Mapping[str, Any]


def partner_rules(registry: PartnerRegistry) -> Callable[[str], Rules]:
    """A partner's order rules as its profile's ``[orders]`` table states them (the
    defaults for a partner without a profile)."""

    def rules_of(partner_id: str) -> Rules:
        profile = registry.get(partner_id)
        if profile is None:
            return Rules()
        table = profile.orders
        return Rules(
            expect_acknowledgment=table.expect_acknowledgment,
            ack_due_hours=table.ack_due_hours, asn_due_hours=table.asn_due_hours,
            asn_before_delivery=table.asn_before_delivery,
            quantity_tolerance_percent=table.quantity_tolerance_percent,
            price_tolerance_percent=table.price_tolerance_percent,
            amount_tolerance=table.amount_tolerance)

    return rules_of


# The columns of an order no document has told yet.
_EMPTY_ORDER: Final[Mapping[str, Any]] = {
    "ordered_amount": "0", "invoiced_amount": "0", "line_count": 0, "document_count": 0,
    "finding_count": 0, "has_discrepancy": False, "late": False, "lines_live": 0,
    "lines_filled": 0, "asn_count": 0, "asn_late": 0, "invoice_count": 0,
    "invoice_flagged": 0}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class OrderBook:
    """Joins documents to orders and keeps each order's stored story current.

    ``rules_of`` gives a partner's ``Rules`` (from its profile's ``[orders]`` table)."""

    def __init__(self, rules_of: Callable[[str], Rules]) -> None:
        self.rules_of = rules_of

    # -- entry points -----------------------------------------------------------------
    def join(self, session: Session, documents: Iterable[Joining], now: datetime,
             actor: str, *, quiet: bool = False) -> list[EntryDraft]:
        """Join ``documents`` to their orders (creating orders as needed) and tell each
        touched order again; the ledger entries of what changed. ``quiet`` makes no
        events (a rebuild tells history, not news)."""
        touched: dict[str, tuple[OrderRow, bool]] = {}
        fresh: dict[str, list[Joining]] = {}
        known: dict[str, Mapping[str, Any]] = {}
        for doc in documents:
            if doc.kind not in ORDER_DOCUMENT_KINDS:
                continue
            for po in po_numbers(doc.kind, doc.data):
                order, created = self._order(session, doc.partner_id, po, now)
                if order.id not in touched:
                    touched[order.id] = (order, created)
                session.merge(OrderDocumentRow(
                    order_id=order.id, document=doc.document, message_id=doc.message_id,
                    kind=doc.kind, direction=doc.direction,
                    number=document_number(doc.kind, doc.data), at=doc.at, superseded=False))
                fresh.setdefault(order.id, []).append(doc)
                known[doc.document] = doc.data
        drafts: list[EntryDraft] = []
        for order, created in touched.values():
            drafts += self._retell(session, order, now, actor, created=created,
                                   fresh=fresh.get(order.id, []), known=known, quiet=quiet)
        return drafts

    def forget_message(self, session: Session, message_id: str, now: datetime,
                       actor: str) -> list[EntryDraft]:
        """Take a message's documents out of their orders (it is being reprocessed, or
        its records were replaced) and tell those orders again."""
        ids = list(session.scalars(select(OrderDocumentRow.order_id).where(
            OrderDocumentRow.message_id == message_id).distinct()))
        if not ids:
            return []
        session.execute(delete(OrderDocumentRow).where(
            OrderDocumentRow.message_id == message_id))
        drafts: list[EntryDraft] = []
        for order in session.scalars(select(OrderRow).where(OrderRow.id.in_(ids))):
            drafts += self._retell(session, order, now, actor)
        return drafts

    def retell_due(self, session: Session, now: datetime, actor: str, limit: int = 200
                   ) -> list[EntryDraft]:
        """Tell again the orders whose time rules fell due (``due_at`` passed)."""
        query = (select(OrderRow).where(OrderRow.due_at <= now).order_by(OrderRow.due_at)
                 .limit(limit))
        drafts: list[EntryDraft] = []
        for order in session.scalars(dialect_for(session).claimable(query)):
            drafts += self._retell(session, order, now, actor)
        return drafts

    def sweep(self, db: Database, ledger: Ledger, now: datetime, actor: str) -> int:
        """``retell_due`` in a transaction of its own, its ledger entries appended; how
        many orders changed (the worker runs it on a clock)."""
        with db.transaction() as session:
            drafts = self.retell_due(session, now, actor)
            for draft in drafts:
                ledger.append(session, event=draft.event, actor=draft.actor,
                              message_id=draft.message_id, details=draft.details)
        return len(drafts)

    def rebuild(self, db: Database, ledger: Ledger, now: datetime, actor: str, *,
                partner_id: str | None = None, batch: int = 200) -> int:
        """Join every stored order document (of ``partner_id``, else of every partner) to
        its order, without events: for a database whose documents came before the order
        tables (``edigate orders rebuild``). Idempotent; how many documents it read."""
        count = 0
        after: tuple[datetime, str] | None = None
        while True:  # translated records, by message arrival
            query = (select(RecordRow.id, RecordRow.partner_id, RecordRow.message_id,
                            RecordRow.kind, RecordRow.data, Message.received_at)
                     .join(Message, Message.id == RecordRow.message_id)
                     .where(RecordRow.kind.in_(sorted(ORDER_DOCUMENT_KINDS)))
                     .order_by(Message.received_at, RecordRow.id).limit(batch))
            if partner_id is not None:
                query = query.where(RecordRow.partner_id == partner_id)
            if after is not None:
                query = query.where(tuple_(Message.received_at, RecordRow.id) > after)
            with db.transaction() as session:
                rows = session.execute(query).all()
                self.join(session, [
                    Joining(partner, f"record:{record_id}", message_id, kind, "inbound", at,
                            json.loads(data))
                    for record_id, partner, message_id, kind, data, at in rows],
                    now, actor, quiet=True)
            if not rows:
                break
            count += len(rows)
            after = (rows[-1].received_at, rows[-1].id)
        after = None
        while True:  # documents edigate generated
            sent = (select(SentDocument).where(SentDocument.kind.in_(
                sorted(ORDER_DOCUMENT_KINDS))).order_by(SentDocument.created_at,
                                                        SentDocument.id).limit(batch))
            if partner_id is not None:
                sent = sent.where(SentDocument.partner_id == partner_id)
            if after is not None:
                sent = sent.where(tuple_(SentDocument.created_at, SentDocument.id) > after)
            with db.transaction() as session:
                documents = list(session.scalars(sent))
                self.join(session, [
                    Joining(d.partner_id, f"sent:{d.id}", d.message_id, d.kind, "outbound",
                            d.created_at, json.loads(d.record)) for d in documents],
                    now, actor, quiet=True)
                if documents:
                    after = (documents[-1].created_at, documents[-1].id)
            if not documents:
                break
            count += len(documents)
        with db.transaction() as session:
            ledger.append(session, event="ORDERS_REBUILT", actor=actor,
                          details={"partner_id": partner_id, "documents": count})
        return count

    # -- storing ----------------------------------------------------------------------
    def _order(self, session: Session, partner_id: str, po_number: str, now: datetime
               ) -> tuple[OrderRow, bool]:
        """The order of ``po_number``, created if new, locked for this transaction."""
        po_number = po_number[:80]
        query = select(OrderRow).where(OrderRow.partner_id == partner_id,
                                       OrderRow.po_number == po_number)
        dialect = dialect_for(session)
        order = session.scalars(dialect.locked(query)).first()
        if order is not None:
            return order, False
        if dialect.locks_rows:
            # Two workers may both see no order yet (SQLite's write lock rules that out):
            # one inserts it, the other finds it on the unique key and waits for its lock.
            new_id = str(uuid.uuid4())
            session.execute(dialect.insert(OrderRow).values(
                id=new_id, partner_id=partner_id, po_number=po_number, status="open",
                created_at=now, updated_at=now, **_EMPTY_ORDER).on_conflict_do_nothing(
                    index_elements=["partner_id", "po_number"]))
            order = session.scalars(dialect.locked(query)).one()
            return order, order.id == new_id
        order = OrderRow(id=str(uuid.uuid4()), partner_id=partner_id, po_number=po_number,
                         status="open", created_at=now, updated_at=now, **_EMPTY_ORDER)
        session.add(order)
        session.flush()
        return order, True

    def _documents(self, session: Session, order: OrderRow,
                   known: Mapping[str, Mapping[str, Any]]) -> tuple[list[Document],
                                                                    list[OrderDocumentRow]]:
        rows = list(session.scalars(select(OrderDocumentRow).where(
            OrderDocumentRow.order_id == order.id)))
        keys = {r.document for r in rows}
        data: dict[str, Mapping[str, Any]] = {k: v for k, v in known.items() if k in keys}
        wanted = [r.document for r in rows if r.document not in data]
        records = [w.removeprefix("record:") for w in wanted if w.startswith("record:")]
        sent = [w.removeprefix("sent:") for w in wanted if w.startswith("sent:")]
        if records:
            for record_id, text in session.execute(select(RecordRow.id, RecordRow.data).where(
                    RecordRow.id.in_(records))):
                data[f"record:{record_id}"] = json.loads(text)
        if sent:
            for sent_id, text in session.execute(select(SentDocument.id, SentDocument.record)
                                                 .where(SentDocument.id.in_(sent))):
                data[f"sent:{sent_id}"] = json.loads(text)
        documents = [Document(r.document, r.message_id, r.kind,
                              "outbound" if r.direction == "outbound" else "inbound", r.at,
                              data[r.document])
                     for r in rows if r.document in data]
        return documents, rows

    def _retell(self, session: Session, order: OrderRow, now: datetime, actor: str, *,
                created: bool = False, fresh: Sequence[Joining] = (),
                known: Mapping[str, Mapping[str, Any]] | None = None, quiet: bool = False
                ) -> list[EntryDraft]:
        documents, rows = self._documents(session, order, known or {})
        story = tell(documents, self.rules_of(order.partner_id), now)
        found_at: dict[str, datetime] = {
            fingerprint: at for fingerprint, at in session.execute(
                select(OrderFindingRow.fingerprint, OrderFindingRow.found_at)
                .where(OrderFindingRow.order_id == order.id))}
        before = _Before(None if created else order.status, order.acknowledged_at,
                         frozenset(found_at))
        session.execute(delete(OrderLineRow).where(OrderLineRow.order_id == order.id))
        session.execute(delete(OrderFindingRow).where(OrderFindingRow.order_id == order.id))
        for row in rows:
            row.superseded = row.document in story.superseded
        session.add_all(OrderLineRow(
            order_id=order.id, position=n, key=line.key[:120],
            line_number=(line.line_number or None) and line.line_number[:40],
            item_ids=json.dumps(line.item_ids, ensure_ascii=False),
            description=line.description, unit=(line.unit or None) and line.unit[:8],
            status=line.status, ordered=_text(line.ordered) or "0",
            confirmed=_text(line.confirmed), shipped=_text(line.shipped) or "0",
            invoiced=_text(line.invoiced) or "0", ordered_price=_text(line.ordered_price),
            invoiced_price=_text(line.invoiced_price),
            invoiced_amount=_text(line.invoiced_amount) or "0")
            for n, line in enumerate(story.lines))
        session.add_all(OrderFindingRow(
            order_id=order.id, position=n, code=f.code, category=f.category,
            message=f.message, line_key=f.line_key and f.line_key[:120],
            documents=json.dumps(list(f.documents)),
            values=json.dumps(dict(f.values), ensure_ascii=False),
            fingerprint=f.fingerprint, found_at=found_at.get(f.fingerprint, now))
            for n, f in enumerate(story.findings))
        _store(order, story, len(documents), now)
        session.flush()
        if quiet:
            return []
        return self._events(session, order, story, before, created, fresh, now, actor)

    # -- events -----------------------------------------------------------------------
    def _events(self, session: Session, order: OrderRow, story: Story, before: _Before,
                created: bool, fresh: Sequence[Joining], now: datetime, actor: str
                ) -> list[EntryDraft]:
        happened: list[tuple[str, dict[str, Any]]] = []
        if created:
            happened.append(("order.created", {}))
        if before.acknowledged_at is None and story.acknowledged_at is not None:
            happened.append(("order.acknowledged", {}))
        for doc in fresh:
            if doc.document in story.superseded:
                continue
            if doc.kind == "ship_notice":
                happened.append(("order.shipped", {
                    "document": doc.document, "shipment_id": doc.data.get("shipment_id")}))
            elif doc.kind == "invoice":
                happened.append(("order.invoiced", {
                    "document": doc.document, "invoice_number": doc.data.get("invoice_number")}))
        new = [f for f in story.findings if f.fingerprint not in before.findings]
        for category, kind in (("discrepancy", "order.discrepancy"), ("timing", "order.late")):
            listed = [{"code": f.code, "message": f.message, "line": f.line_key,
                       "documents": list(f.documents), "values": dict(f.values)}
                      for f in new if f.category == category]
            if listed:
                happened.append((kind, {"findings": listed}))
        if story.status == "cancelled" and before.status != "cancelled":
            happened.append(("order.cancelled", {}))
        if not happened:
            return []
        message_id = fresh[-1].message_id if fresh else None
        events = [Event(id=str(uuid.uuid4()), type=kind, partner_id=order.partner_id,
                        message_id=message_id, created_at=now,
                        data=json.dumps({**_summary(order), **extra}, ensure_ascii=False))
                  for kind, extra in happened]
        session.add_all(events)
        session.flush()  # the events' seq, which their deliveries carry
        enqueue_events(session, events)
        # An order's entry is the order's, not the message's: the message's own history
        # (RECEIVED ... PROCESSED) stays what it was; the message is named in the details.
        return [EntryDraft(event="ORDER_UPDATED", actor=actor, message_id=None,
                           details={"order_id": order.id, "partner_id": order.partner_id,
                                    "message_id": message_id,
                                    "po_number": order.po_number, "status": order.status,
                                    "previous_status": before.status,
                                    "events": [kind for kind, _ in happened]})]


class _Before(NamedTuple):
    """What an order said before it was told again: its status (``None`` for a new
    order), when it was acknowledged and its findings' fingerprints."""

    status: str | None
    acknowledged_at: datetime | None
    findings: frozenset[str]


def _store(order: OrderRow, story: Story, documents: int, now: datetime) -> None:
    order.status = story.status
    order.role = story.role
    order.order_date = (story.order_date or None) and str(story.order_date)[:10]
    order.currency = (story.currency or None) and str(story.currency)[:3]
    order.ordered_amount = _text(story.ordered_amount) or "0"
    order.invoiced_amount = _text(story.invoiced_amount) or "0"
    order.line_count = len(story.lines)
    order.document_count = documents
    order.finding_count = len(story.findings)
    order.has_discrepancy = story.has_discrepancy
    order.late = story.late
    order.lines_live = story.lines_live
    order.lines_filled = story.lines_filled
    order.asn_count = story.asn_count
    order.asn_late = story.asn_late
    order.invoice_count = story.invoice_count
    order.invoice_flagged = story.invoice_flagged
    order.ordered_at = story.ordered_at
    order.ack_seconds = story.ack_seconds
    order.acknowledged_at = story.acknowledged_at
    order.shipped_at = story.shipped_at
    order.invoiced_at = story.invoiced_at
    order.due_at = story.due_at
    order.updated_at = now


def _summary(order: OrderRow) -> dict[str, Any]:
    """What every order event says of its order."""
    return {"order_id": order.id, "partner_id": order.partner_id,
            "po_number": order.po_number, "status": order.status, "role": order.role,
            "has_discrepancy": order.has_discrepancy, "late": order.late}
