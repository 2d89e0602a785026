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

import orjson
from sqlalchemy import (
    Connection,
    Dialect,
    Result,
    Select,
    Table,
    bindparam,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from gateway.delivery.webhooks import Subscriptions, enqueue_events, subscriptions
from gateway.ledger.chain import EntryDraft, Ledger
from gateway.orders.story import (
    ORDER_DOCUMENT_KINDS,
    Document,
    Rules,
    Story,
    StoryLine,
    po_numbers,
    tell,
)
from gateway.store.bulk import (
    MultiRowInsert,
    MultiRowUpdate,
    RawSelect,
    Write,
    driver_cursor,
    pipelined,
)
from gateway.store.db import Database
from gateway.store.dialect import dialect_for
from gateway.store.events import Event
from gateway.store.models import Message, RecordRow
from gateway.store.orders import (
    OrderDocumentRow,
    OrderFindingRow,
    OrderLineRow,
    OrderRow,
    linked_record,
)
from gateway.store.outbound import SentDocument
from partners import PartnerRegistry

__all__ = ["Joining", "OrderBook", "document_number", "partner_rules"]

_LINKS: Table = OrderDocumentRow.__table__  # type: ignore[assignment]
_LINES: Table = OrderLineRow.__table__  # type: ignore[assignment]
_ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
_FINDINGS: Table = OrderFindingRow.__table__  # type: ignore[assignment]
# One multi-row statement each (gateway.store.bulk): a batch's links, lines and findings
# go in with SQLAlchemy's bind processing, without its per-row statement machinery. A
# document joined again (a rebuild) keeps its link. An order told again writes its lines
# and findings over the rows at the same positions (an update in place: no delete, no
# new index entries or foreign-key checks for a line that was there); rows past its new
# counts are deleted.
_INSERT_LINKS: Final = MultiRowInsert(_LINKS, [c.name for c in _LINKS.columns],
                                      on_conflict_do_nothing=["order_id", "document"])
_WRITE_LINES: Final = MultiRowInsert(_LINES, [c.name for c in _LINES.columns],
                                     on_conflict_replace=["order_id", "position"])
_WRITE_FINDINGS: Final = MultiRowInsert(_FINDINGS, [c.name for c in _FINDINGS.columns],
                                        on_conflict_replace=["order_id", "position"])

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


# What telling an order stores in its row (``_stored``): one statement for a batch's
# orders (gateway.store.bulk).
_UPDATE_ORDERS: Final = MultiRowUpdate(_ORDERS, "id", [
    "status", "role", "order_date", "currency", "ordered_amount", "invoiced_amount",
    "line_count", "document_count", "finding_count", "has_discrepancy", "late",
    "lines_live", "lines_filled", "asn_count", "asn_late", "invoice_count",
    "invoice_flagged", "ordered_at", "ack_seconds", "acknowledged_at", "shipped_at",
    "invoiced_at", "due_at", "updated_at"])

def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class OrderBook:
    """Joins documents to orders and keeps each order's stored story current.

    ``rules_of`` gives a partner's ``Rules`` (from its profile's ``[orders]`` table)."""

    def __init__(self, rules_of: Callable[[str], Rules]) -> None:
        self.rules_of = rules_of

    # -- entry points -----------------------------------------------------------------
    def join(self, session: Session, documents: Iterable[Joining], now: datetime,
             actor: str, *, quiet: bool = False, subscribed: Subscriptions | None = None,
             writes: list[Write] | None = None) -> list[EntryDraft]:
        """Join ``documents`` to their orders (creating orders as needed) and tell each
        touched order again; the ledger entries of what changed. ``quiet`` makes no
        events (a rebuild tells history, not news); ``subscribed`` says which events
        something takes (read here when not given). A batch's documents cost a handful
        of statements together, not per document: this runs in the processing
        transaction, which intake's batches wait for. The order tables' writes need no
        answer: given ``writes``, they are added there for the caller to send with its
        own (``pipelined``: one round trip for all), else sent before this returns."""
        wanted: dict[tuple[str, str], list[Joining]] = {}
        for doc in documents:
            if doc.kind in ORDER_DOCUMENT_KINDS:
                # Two PO numbers alike in their first 80 characters (the column's) are
                # one order: the document joins it once.
                for po in dict.fromkeys(po[:80] for po in po_numbers(doc.kind, doc.data)):
                    wanted.setdefault((doc.partner_id, po), []).append(doc)
        if not wanted:
            return []
        orders, created, known = self._orders(session, list(wanted), now)
        fresh = {orders[key].id: docs for key, docs in wanted.items()}
        return self._retell(session, list(orders.values()), now, actor, created=created,
                            known=known, fresh=fresh, quiet=quiet, subscribed=subscribed,
                            writes=writes)

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
        orders = [_Order(*r) for r in _read(session, _HELD_BY_ID, ids=ids, locked=True)]
        return self._retell(session, orders, now, actor)

    def retell_due(self, session: Session, now: datetime, actor: str, limit: int = 200
                   ) -> list[EntryDraft]:
        """Tell again the orders whose time rules fell due (``due_at`` passed)."""
        query = (select(*_HELD).where(_ORDERS.c.due_at <= now).order_by(_ORDERS.c.due_at)
                 .limit(limit))
        orders = [_Order(*r) for r in session.execute(dialect_for(session).claimable(query))]
        return self._retell(session, orders, now, actor)

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
    def _orders(self, session: Session, keys: Sequence[tuple[str, str]], now: datetime
                ) -> tuple[dict[tuple[str, str], _Order], set[str], _Known]:
        """The orders of (partner, PO number) ``keys``, created where new, locked for this
        transaction; the ids of those created; and what telling them reads: their stored
        links with their records' text, their findings' first-found times. One round trip
        on PostgreSQL: the upsert and the reads go in one pipeline (the reads, statements
        of their own, see what a transaction the upsert waited for committed)."""
        # In key order, as every locker of orders takes them: two workers that both see
        # no order of a key yet (SQLite's write lock rules that out) insert it one after
        # the other; the second finds it and waits for the first's transaction. An order
        # is ours when it is read back with the id proposed here.
        proposed = {key: str(uuid.uuid4()) for key in sorted(keys)}
        session.flush()
        connection = session.connection()
        dialect = connection.dialect
        reads = _by_key(dialect)
        keys_json = json.dumps(list(proposed))
        with driver_cursor(connection) as cursor, driver_cursor(connection) as findings:
            with pipelined(connection):
                _MAKE_OR_LOCK_ORDERS.execute(connection, [
                    {"id": order_id, "partner_id": key[0], "po_number": key[1],
                     "status": "open", "created_at": now, "updated_at": now, **_EMPTY_ORDER}
                    for key, order_id in proposed.items()])
                reads.with_links.send(cursor, dialect, {"keys": keys_json})
                reads.found_at.send(findings, dialect, {"keys": keys_json})
            rows = reads.with_links.rows(cursor, dialect)
            first_found = reads.found_at.rows(findings, dialect)
        found: dict[tuple[str, str], _Order] = {}
        stored: list[_Stored] = []
        for row in rows:
            order = _Order(*row[:_HELD_WIDTH])
            key = (order.partner_id, order.po_number)
            found.setdefault(key, order)
            if row[_HELD_WIDTH] is not None:  # a link (an order without any: one row)
                stored.append(_Stored(_Link(order.id, *row[_HELD_WIDTH:-1]), row[-1]))
        created = {o.id for key, o in found.items() if proposed[key] == o.id}
        return found, created, _Known(stored, first_found)

    def _documents(self, orders: Sequence[_Order], stored: Iterable[_Stored],
                   fresh: Mapping[str, Sequence[Joining]]
                   ) -> tuple[dict[str, list[tuple[Document, bool]]], list[dict[str, Any]]]:
        """Each order's documents (with the superseded flag stored for each): its
        ``stored`` links with their records' text, then ``fresh`` (documents joining now,
        by order id); and the links the fresh ones need (a document already linked, as in
        a rebuild, keeps its link)."""
        found: dict[str, list[tuple[Document, bool]]] = {o.id: [] for o in orders}
        linked: set[tuple[str, str]] = set()
        for link, text in stored:
            linked.add((link.order_id, link.document))
            if text is not None:  # a record deleted by a reprocess has left the order
                found[link.order_id].append((_document(link, _record(text)),
                                             link.superseded))
        links: list[dict[str, Any]] = []
        for order_id, docs in fresh.items():
            for doc in docs:
                if (order_id, doc.document) in linked:
                    continue
                link = _Link(order_id, doc.document, doc.message_id, doc.kind, doc.direction,
                             doc.at, False)
                links.append({**link._asdict(),
                              "number": document_number(doc.kind, doc.data)})
                found[order_id].append((_document(link, doc.data), False))
        return found, links

    def _retell(self, session: Session, orders: Sequence[_Order], now: datetime,
                actor: str, *, created: set[str] | None = None, known: _Known | None = None,
                fresh: Mapping[str, Sequence[Joining]] | None = None, quiet: bool = False,
                subscribed: Subscriptions | None = None, writes: list[Write] | None = None
                ) -> list[EntryDraft]:
        """Tell ``orders`` again from their documents (the stored ones ``known`` from the
        orders' read, else read here, and ``fresh`` ones joining now) and store what they
        say now: their lines and findings replaced, the order rows updated (added to
        ``writes`` when given, see ``join``), the events of what changed (none when
        ``quiet``)."""
        if not orders:
            return []
        ids = [o.id for o in orders]
        if known is None:
            # The stored counts (kept with the rows, in the same transactions) say which
            # orders have findings to read.
            with_findings = [o.id for o in orders if o.finding_count]
            known = _Known([_Stored(_Link(*columns), text) for *columns, text in
                          _read(session, _STORED_DOCUMENTS, ids=ids)],
                         list(_read(session, _FOUND_AT, ids=with_findings))
                         if with_findings else [])
        documents, links = self._documents(orders, known.stored, fresh or {})
        found_at: dict[str, dict[str, datetime]] = {i: {} for i in ids}
        for order_id, fingerprint, at in known.found_at:
            found_at[order_id][fingerprint] = at
        lines: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        flags: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        fewer_lines: list[dict[str, Any]] = []
        fewer_findings: list[dict[str, Any]] = []
        told: list[tuple[_Order, Story, _Before]] = []
        for order in orders:
            docs = documents[order.id]
            story = tell([d for d, _ in docs], self.rules_of(order.partner_id), now)
            known_findings = found_at[order.id]
            told.append((order, story, _Before(
                None if created and order.id in created else order.status,
                order.acknowledged_at, frozenset(known_findings))))
            flags += [{"o": order.id, "d": d.key, "s": d.key in story.superseded}
                      for d, was in docs if was != (d.key in story.superseded)]
            lines += [_line_row(order.id, n, line) for n, line in enumerate(story.lines)]
            findings += [{
                "order_id": order.id, "position": n, "code": f.code, "category": f.category,
                "message": f.message, "line_key": f.line_key and f.line_key[:120],
                "documents": json.dumps(list(f.documents)),
                "values": json.dumps(dict(f.values), ensure_ascii=False),
                "fingerprint": f.fingerprint,
                "found_at": known_findings.get(f.fingerprint, now)}
                for n, f in enumerate(story.findings)]
            values = _stored(story, len(docs), now)
            updates.append({"id": order.id, **values})
            if order.line_count > len(story.lines):
                fewer_lines.append({"o": order.id, "n": len(story.lines)})
            if order.finding_count > len(story.findings):
                fewer_findings.append({"o": order.id, "n": len(story.findings)})
            order.status, order.role = story.status, story.role
            order.has_discrepancy, order.late = story.has_discrepancy, story.late
        if not quiet and subscribed is None:
            subscribed = subscriptions(session)

        def write(connection: Connection) -> None:
            _INSERT_LINKS.execute(connection, links)
            # Every order told is updated, whatever changed in each.
            _UPDATE_ORDERS.execute(connection, updates)
            _WRITE_LINES.execute(connection, lines)
            _WRITE_FINDINGS.execute(connection, findings)
            for table, fewer in ((_LINES, fewer_lines), (_FINDINGS, fewer_findings)):
                if fewer:
                    connection.execute(delete(table).where(
                        table.c.order_id == bindparam("o"), table.c.position >= bindparam("n")),
                        fewer)
            if flags:
                connection.execute(update(_LINKS).where(
                    _LINKS.c.order_id == bindparam("o"), _LINKS.c.document == bindparam("d"))
                    .values(superseded=bindparam("s")), flags)

        # Everything read, the writes need no answer: on PostgreSQL they travel together
        # (one round trip), with the caller's when it sends them.
        if writes is not None:
            writes.append(write)
        else:
            connection = session.connection()
            with pipelined(connection):
                write(connection)
        if quiet or subscribed is None:
            return []
        return self._events(session, told, fresh or {}, subscribed, now, actor)

    # -- events -----------------------------------------------------------------------
    def _events(self, session: Session, told: Sequence[tuple[_Order, Story, _Before]],
                fresh: Mapping[str, Sequence[Joining]], subscribed: Subscriptions,
                now: datetime, actor: str) -> list[EntryDraft]:
        """The events and ledger entries of the orders ``told``; only the event types
        something is ``subscribed`` to are made (an event is an outbox row: one nothing
        takes would be stored for nobody)."""
        wanted = subscribed.event_types
        events: list[Event] = []
        drafts: list[EntryDraft] = []
        for order, story, before in told:
            arrived = fresh.get(order.id, ())
            happened = _happened(story, before, arrived)
            if not happened:
                continue
            message_id = arrived[-1].message_id if arrived else None
            events += [Event(id=str(uuid.uuid4()), type=kind, partner_id=order.partner_id,
                             message_id=message_id, created_at=now,
                             data=json.dumps({**_summary(order), **extra}, ensure_ascii=False))
                       for kind, extra in happened if kind in wanted]
            # An order's entry is the order's, not the message's: the message's own history
            # (RECEIVED ... PROCESSED) stays what it was; "from_message" names the message.
            drafts.append(EntryDraft(
                event="ORDER_UPDATED", actor=actor, message_id=None,
                details={"order_id": order.id, "partner_id": order.partner_id,
                         "from_message": message_id, "po_number": order.po_number,
                         "status": order.status, "previous_status": before.status,
                         "events": [kind for kind, _ in happened]}))
        if events:
            session.add_all(events)
            session.flush()  # the events' seq, which their deliveries carry
            enqueue_events(session, events, subscribed)
        return drafts


def _happened(story: Story, before: _Before, arrived: Sequence[Joining]
              ) -> list[tuple[str, dict[str, Any]]]:
    """The events of an order told again: what is new since ``before``."""
    happened: list[tuple[str, dict[str, Any]]] = []
    if before.status is None:
        happened.append(("order.created", {}))
    if before.acknowledged_at is None and story.acknowledged_at is not None:
        happened.append(("order.acknowledged", {}))
    for doc in arrived:
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
    return happened


def _line_row(order_id: str, position: int, line: StoryLine) -> dict[str, Any]:
    return {
        "order_id": order_id, "position": position, "key": line.key[:120],
        "line_number": (line.line_number or None) and line.line_number[:40],
        "item_ids": json.dumps(line.item_ids, ensure_ascii=False),
        "description": line.description, "unit": (line.unit or None) and line.unit[:8],
        "status": line.status, "ordered": _text(line.ordered) or "0",
        "confirmed": _text(line.confirmed), "shipped": _text(line.shipped) or "0",
        "invoiced": _text(line.invoiced) or "0", "ordered_price": _text(line.ordered_price),
        "invoiced_price": _text(line.invoiced_price),
        "invoiced_amount": _text(line.invoiced_amount) or "0"}


@dataclass(slots=True)
class _Order:
    """What telling an order again needs of its stored row (``_HELD``, in that order);
    the status and flags are the new ones once told."""

    id: str
    partner_id: str
    po_number: str
    status: str
    role: str | None
    acknowledged_at: datetime | None
    line_count: int
    finding_count: int
    has_discrepancy: bool
    late: bool


# A new order's row as ``_EMPTY_ORDER`` and the key give it, or the order of that key as
# it stands (another worker may have made it first) locked: making and locking a batch's
# orders is one statement.
_MAKE_OR_LOCK_ORDERS: Final = MultiRowInsert(
    _ORDERS, ["id", "partner_id", "po_number", "status", "created_at", "updated_at",
              *_EMPTY_ORDER], on_conflict_keep=["partner_id", "po_number"])


_HELD: Final = tuple(getattr(_ORDERS.c, name) for name in _Order.__slots__)
# The orders of ``ids`` in key order: every locker of orders takes them in (partner, PO
# number) order, as ``_MAKE_OR_LOCK_ORDERS`` does, so that no two wait for each other in
# turn.
_HELD_BY_ID: Final = select(*_HELD).where(
    _ORDERS.c.id.in_(bindparam("ids", expanding=True))).order_by(
    _ORDERS.c.partner_id, _ORDERS.c.po_number)
# When each finding of the orders of ``ids`` was first found, by its fingerprint.
_FOUND_AT: Final = select(_FINDINGS.c.order_id, _FINDINGS.c.fingerprint,
                          _FINDINGS.c.found_at).where(
    _FINDINGS.c.order_id.in_(bindparam("ids", expanding=True)))


class _Link(NamedTuple):
    """A document's link to an order, as telling the order reads it."""

    order_id: str
    document: str
    message_id: str
    kind: str
    direction: str
    at: datetime
    superseded: bool


_LINK_COLUMNS: Final = tuple(getattr(_LINKS.c, name) for name in _Link._fields)
# A link's document's record text: the record or sent document it names
# (``linked_record``), else the copy a retention purge left in the link (``kept``); NULL
# for a record a reprocess deleted.
_LINKED_TEXT: Final = func.coalesce(linked_record(), _LINKS.c.kept)
# The stored links of the orders of ``ids``, each with ``_LINKED_TEXT``.
_STORED_DOCUMENTS: Final = select(*_LINK_COLUMNS, _LINKED_TEXT).where(
    _LINKS.c.order_id.in_(bindparam("ids", expanding=True)))
_HELD_WIDTH: Final = len(_HELD)


class _Stored(NamedTuple):
    """A stored link and its document's record text (None: the record is gone)."""

    link: _Link
    text: str | None


class _Known(NamedTuple):
    """What telling orders reads of them: their stored links, and (order id,
    fingerprint, first found) of their stored findings."""

    stored: Sequence[_Stored]
    found_at: Sequence[Sequence[Any]]


class _ByKey(NamedTuple):
    """The reads of a batch's orders named by the (partner, PO number) pairs bound to
    ``keys`` (a JSON array, ``SQLDialect.json_pairs``), sent with the upsert that locks
    them."""

    # Each order with its links and their records' text as ``_STORED_DOCUMENTS`` reads
    # them (an order without links: one row, its link's columns NULL).
    with_links: RawSelect
    # ``_FOUND_AT`` of those orders.
    found_at: RawSelect


_BY_KEY: dict[str, _ByKey] = {}


def _by_key(dialect: Dialect) -> _ByKey:
    """The ``_ByKey`` reads on ``dialect`` (built once per dialect)."""
    found = _BY_KEY.get(dialect.name)
    if found is None:
        keys = dialect_for(dialect).json_pairs("keys")
        named = tuple_(_ORDERS.c.partner_id, _ORDERS.c.po_number).in_(
            select(keys.c.a, keys.c.b))
        found = _BY_KEY[dialect.name] = _ByKey(
            RawSelect(select(*_HELD, *_LINK_COLUMNS[1:], _LINKED_TEXT)
                      .select_from(_ORDERS.outerjoin(_LINKS, _LINKS.c.order_id == _ORDERS.c.id))
                      .where(named)),
            RawSelect(select(*_FOUND_AT.selected_columns)
                      .join(_ORDERS, _ORDERS.c.id == _FINDINGS.c.order_id).where(named)))
    return found


_Read = Select[*tuple[Any, ...]]
_LOCKING: Final[dict[tuple[str, _Read], _Read]] = {}


def _read(session: Session, query: _Read, *, locked: bool = False,
          **values: Sequence[Any]) -> Result[*tuple[Any, ...]]:
    """``query`` (one of the reads above, its rows locked for the transaction when
    ``locked``) run with ``values`` for its parameters, after the session's pending
    changes (a reprocess deletes records through it). The statements are built once, as
    Core (not ORM) statements run on the connection: one built anew for each batch, or run
    through the session's ORM layer, costs SQLAlchemy more than the database's work on a
    batch's few rows."""
    session.flush()
    connection = session.connection()
    if locked:
        key = (connection.dialect.name, query)
        if key not in _LOCKING:
            _LOCKING[key] = dialect_for(connection).locked(query)
        query = _LOCKING[key]
    return connection.execute(query, values)


def _record(text: str) -> Mapping[str, Any]:
    """A stored record's JSON text as telling reads it. orjson parses it, in C; it reads
    the text as the standard library does but for integers beyond 64 bits (a float where
    json gives an int: no field telling reads is a number, amounts are text), and refuses
    what json takes (NaN, a lone surrogate): those are left to json."""
    try:
        record: Mapping[str, Any] = orjson.loads(text)
    except orjson.JSONDecodeError:
        record = json.loads(text)
    return record


def _document(link: _Link, record: Mapping[str, Any]) -> Document:
    return Document(link.document, link.message_id, link.kind,
                    "outbound" if link.direction == "outbound" else "inbound", link.at,
                    record)


class _Before(NamedTuple):
    """What an order said before it was told again: its status (``None`` for a new
    order), when it was acknowledged and its findings' fingerprints."""

    status: str | None
    acknowledged_at: datetime | None
    findings: frozenset[str]


def _stored(story: Story, documents: int, now: datetime) -> dict[str, Any]:
    """The order row's columns as ``story`` tells them."""
    return {
        "status": story.status, "role": story.role,
        "order_date": (story.order_date or None) and str(story.order_date)[:10],
        "currency": (story.currency or None) and str(story.currency)[:3],
        "ordered_amount": _text(story.ordered_amount) or "0",
        "invoiced_amount": _text(story.invoiced_amount) or "0",
        "line_count": len(story.lines), "document_count": documents,
        "finding_count": len(story.findings), "has_discrepancy": story.has_discrepancy,
        "late": story.late, "lines_live": story.lines_live,
        "lines_filled": story.lines_filled, "asn_count": story.asn_count,
        "asn_late": story.asn_late, "invoice_count": story.invoice_count,
        "invoice_flagged": story.invoice_flagged, "ordered_at": story.ordered_at,
        "ack_seconds": story.ack_seconds, "acknowledged_at": story.acknowledged_at,
        "shipped_at": story.shipped_at, "invoiced_at": story.invoiced_at,
        "due_at": story.due_at, "updated_at": now}


def _summary(order: _Order) -> dict[str, Any]:
    """What every order event says of its order."""
    return {"order_id": order.id, "partner_id": order.partner_id,
            "po_number": order.po_number, "status": order.status, "role": order.role,
            "has_discrepancy": order.has_discrepancy, "late": order.late}
