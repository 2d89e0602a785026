"""Processing: claim waiting messages, translate them, store what came out.

Responsible for the second half of the pipeline (``gateway.intake.pipeline`` receives): the
state machine RECEIVED -> PROCESSING -> PROCESSED | REJECTED | FAILED with leases, so that
a crashed worker's messages are resumed and never processed twice, and for storing each
message's records, acknowledgments and ledger entries atomically with its final state.

Work goes in batches, as intake's does. A worker claims up to ``limit`` waiting messages
in ONE transaction (their rows, payloads and PROCESSING entries: one ledger head lock),
translates each outside any transaction, and finishes the batch in ONE transaction: every
message's final state, acknowledgments, search terms, records, webhook deliveries and
ledger entries, with one head lock and one commit. A message at a time, a worker paid
three transactions, two head locks and some twenty statements per message, which cost
more than translating it (bench/README.md, intake, fifth round). If finishing a batch
fails, each of its messages is finished alone, so one message's fault never fails the
others; a message whose lease was taken over is left to the worker that holds it.

It must not receive messages and must not know about HTTP or AS2.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, Dialect, Select, Table, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.delivery import webhooks
from gateway.ledger.chain import EntryDraft, Ledger
from gateway.orders.book import Joining, OrderBook, partner_rules
from gateway.orders.demand import DEMAND_KINDS, store_points
from gateway.orders.story import ORDER_DOCUMENT_KINDS
from gateway.processing.guides import guides_for
from gateway.processing.numbers import (
    DocumentNumbers,
    edifact_numbers,
    record_numbers,
    x12_numbers,
)
from gateway.processing.reconcile import reconcile, reconcile_ta1
from gateway.runtime.metrics import Metrics
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.bulk import RawInsert, RawSelect, Write, driver_cursor, pipelined
from gateway.store.counters import take_numbers
from gateway.store.db import Database
from gateway.store.dialect import dialect_for
from gateway.store.models import (
    Acknowledgment,
    FinishedMessage,
    Message,
    MessageStatus,
    Payload,
    RecordRow,
)
from gateway.store.rollups import FINISH_COLUMNS, add_moves, moves_of_finish
from gateway.store.search import INSERT_TERM_ROWS, MessageTerm, TermValues, terms_of
from partners import PartnerProfile, PartnerRegistry
from translators.edifact.contrl import CONTRLOptions, build_contrl
from translators.edifact.pipeline import (
    EDIFACTGroupOutcome,
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.errors import EDISyntaxError
from translators.record_data import RecordData, record_json
from translators.x12.ack import AckOptions, acknowledge
from translators.x12.pipeline import (
    TransactionOutcome,
    X12GroupOutcome,
    X12InterchangeOutcome,
    translate_x12,
)

__all__ = ["Claimed", "Inline", "Outbound", "ProcessResult", "Processor", "claim_queries",
           "interchange_identity", "is_x12_identity_of", "storable"]

log = logging.getLogger("edigate.pipeline")

MESSAGES: Table = Message.__table__  # type: ignore[assignment]


class _AckValues(NamedTuple):
    """An acknowledgment as a batch finish inserts it: the fields are the columns."""

    id: str
    message_id: str
    kind: str
    control_number: str
    content: str
    created_at: object  # the batch's time as the driver binds it (``RawInsert.bind``)


class _RecordValues(NamedTuple):
    """A canonical record as a batch finish inserts it: the fields are the columns."""

    id: str
    message_id: str
    partner_id: str
    kind: str
    standard: str
    transaction_type: str
    transaction_control: str
    business_number: str | None
    status: str
    data: str
    created_at: object  # the batch's time as the driver binds it (``RawInsert.bind``)


_INSERT_ACKS = RawInsert(Acknowledgment.__table__, _AckValues)  # type: ignore[arg-type]
_INSERT_RECORDS = RawInsert(RecordRow.__table__, _RecordValues)  # type: ignore[arg-type]


class Outbound(Protocol):
    """A transport that sends documents to partners (see ``gateway.delivery.as2_sending``)."""

    def wants_as2(self, partner: PartnerProfile | None) -> bool: ...

    def enqueue(self, session: Session, partner: PartnerProfile, payload: bytes, *,
                kind: str, message_id: str | None, actor: str,
                content_type: str = ...) -> object: ...


@dataclass(slots=True)
class ProcessResult:
    message_id: str
    status: str
    transactions: list[dict[str, Any]] = field(default_factory=list)
    acknowledgments: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message a worker holds the lease of, with its payload."""

    id: str
    partner_id: str
    standard: str
    received_at: datetime
    interchange_control: str | None
    body: bytes


def interchange_identity(qualifier: str, value: str) -> str:
    """``qualifier:id`` of an interchange party, as the gateway names senders."""
    return f"{qualifier.strip()}:{value.strip()}"


def is_x12_identity_of(registry: PartnerRegistry, partner_id: str, qualifier: str,
                       sender_id: str) -> bool:
    """Whether ISA05/ISA06 is one of the partner's X12 identities."""
    found = registry.by_x12(qualifier.strip(), sender_id.strip())
    return found is not None and found.id == partner_id


_CLAIM_COLUMNS = (Message.id, Message.partner_id, Message.standard, Message.status,
                  Message.attempts, Message.payload_sha256, Message.received_at,
                  Message.interchange_control, Message.size)
# A batch's payloads stay a few tens of MB however large the messages (one is always
# taken, whatever its size: EDIGATE_MAX_BODY_BYTES bounds it).
MAX_BATCH_BYTES = 32 * 1024 * 1024


# id, partner_id, standard, status, attempts, payload_sha256, received_at, control, size
_ClaimQuery = Select[str, str, str, str, int, str, datetime, str | None, int]


def claim_queries(now: datetime, message_ids: Sequence[str] | None = None, limit: int = 1
                  ) -> list[_ClaimQuery]:
    """What ``Processor.claim`` asks, in order, until ``limit`` messages are found.

    For any message: expired leases first (their messages are older than any RECEIVED
    one), then the oldest RECEIVED messages. Two queries, each a walk of
    ix_messages_status_received in received order that stops after the rows it can lock:
    one OR over both statuses was planned as a scan of every waiting message and a sort,
    whose cost grew with the backlog (bench/README.md; tests/gateway/test_query_plans.py
    pins the plan).
    """
    expired = (Message.status == MessageStatus.PROCESSING) & (Message.locked_until < now)
    received = Message.status == MessageStatus.RECEIVED
    if message_ids is not None:
        return [select(*_CLAIM_COLUMNS).where(Message.id.in_(message_ids), received | expired)
                .order_by(Message.received_at, Message.id)]
    return [select(*_CLAIM_COLUMNS).where(where).order_by(Message.received_at, Message.id)
            .limit(limit) for where in (expired, received)]


_PAYLOADS: dict[str, RawSelect] = {}


def _payloads(dialect: Dialect) -> RawSelect:
    """The read of the payloads whose digests are bound to ``digests`` (a JSON array of
    them), built once per dialect: (digest, data) rows. Each is looked up by its key (a
    correlated subquery): as a join, PostgreSQL took the list for a hundred rows and
    scanned a table of a few thousand payloads (tests/gateway/test_query_plans.py)."""
    found = _PAYLOADS.get(dialect.name)
    if found is None:
        digests = dialect_for(dialect).json_values("digests")
        found = _PAYLOADS[dialect.name] = RawSelect(select(
            digests.c.value, select(Payload.data).where(
                Payload.sha256 == digests.c.value).scalar_subquery()))
    return found


@dataclass(slots=True)
class _Tx:
    """One X12 transaction set or EDIFACT message, as the pipeline stores it."""

    set_id: str
    control_number: str
    group_control: str
    status: str  # A accepted, E accepted with errors noted, R rejected
    errors: list[Any]
    data: dict[str, Any] | None  # the canonical record as plain data
    # Its own and its orders' numbers: from the record, else from the raw segments.
    numbers: DocumentNumbers = field(default_factory=DocumentNumbers)


@dataclass(slots=True)
class _Group:
    control_number: str
    status: str
    counts: bool  # for the message's ack status (X12 groups of acks do not)


@dataclass(slots=True)
class _Work:
    """What translating one message produced, whatever its standard."""

    standard: str = "x12"
    transactions: list[_Tx] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    interchanges: list[X12InterchangeOutcome | EDIFACTInterchangeOutcome] = field(
        default_factory=list)
    foreign: list[str] = field(default_factory=list)
    syntax_error: str | None = None
    ack_kind: str = "auto"
    ta1: str = "auto"
    contrl: str = "errors"
    seconds: float = 0.0  # spent translating


@dataclass(slots=True)
class _Failed:
    """Translating raised: a bug must not lose the message, it becomes FAILED."""

    error: str
    seconds: float = 0.0


@dataclass(slots=True)
class _Outcome:
    """One message's part of a batch's writes, built before the batch's transaction."""

    message: Claimed
    work: _Work | _Failed
    result: ProcessResult
    finished: FinishedMessage | None = None  # the message row's new values
    records: list[_RecordValues] = field(default_factory=list)
    new_records: list[webhooks.NewRecord] = field(default_factory=list)
    terms: list[TermValues] = field(default_factory=list)
    drafts: list[EntryDraft] = field(default_factory=list)  # before the acknowledgments'
    final: EntryDraft | None = None  # the state the message ends in
    # The functional acknowledgments it holds (record data) and the TA1s (TA101, TA104,
    # TA105): matched to what was sent.
    functional_acks: list[dict[str, Any]] = field(default_factory=list)
    interchange_acks: list[tuple[str, str, str]] = field(default_factory=list)
    # Its order documents (POs, changes, responses, ship notices, invoices), and its
    # demand reports (partner, record id, message id, kind, received at, data).
    joinings: list[Joining] = field(default_factory=list)
    demand: list[tuple[str, str, str, str, datetime, dict[str, Any]]] = field(
        default_factory=list)


@dataclass(slots=True)
class _Rows:
    """What finishing a batch writes, gathered before the first write."""

    finished: list[FinishedMessage] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    acks: list[_AckValues] = field(default_factory=list)
    terms: list[TermValues] = field(default_factory=list)
    records: list[_RecordValues] = field(default_factory=list)
    new_records: list[webhooks.NewRecord] = field(default_factory=list)
    drafts: list[EntryDraft] = field(default_factory=list)
    send_back: list[tuple[PartnerProfile, bytes, str, str]] = field(default_factory=list)


class Processor:
    """Claims, translates and finishes messages for one database, registry and ledger."""

    def __init__(self, settings: Settings, db: Database, registry: PartnerRegistry,
                 ledger: Ledger, metrics: Metrics, lease: timedelta, *,
                 outbound: Outbound | None = None) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        self.ledger = ledger
        self.metrics = metrics
        self.lease = lease
        # Sends acknowledgments back to partners whose profile names a transport for it
        # (AS2, or SFTP: ``gateway.delivery.sftp_sending.AckTransports``).
        self.outbound = outbound
        self.orders = OrderBook(partner_rules(registry))

    # -- claim --------------------------------------------------------------------------
    def claim(self, worker: str, *, limit: int = 1, message_ids: Sequence[str] | None = None
              ) -> list[Claimed]:
        """Take up to ``limit`` waiting messages, or those of ``message_ids`` that are
        waiting, for ``worker``.

        Waiting means RECEIVED, or PROCESSING with an expired lease (its worker died).
        Uses SKIP LOCKED on PostgreSQL so several processes share the work. The messages'
        payloads are read in the same transaction.
        """
        now = utcnow()
        with self.db.transaction() as session:
            connection = session.connection()
            rows: list[Any] = []
            for query in claim_queries(now, message_ids, limit):
                if len(rows) >= limit and message_ids is None:
                    break
                if message_ids is None:
                    query = query.limit(limit - len(rows))
                rows += connection.execute(self.db.dialect.claimable(query)).all()
            if not rows:
                return []
            total = 0
            for n, row in enumerate(rows):
                total += row.size
                if n and total > MAX_BATCH_BYTES:
                    del rows[n:]  # still locked until the commit, but left unclaimed
                    break
            ids = [row.id for row in rows]
            payloads = _payloads(connection.dialect)
            # The lease, the payloads' read and the ledger's head lock in one round trip
            # on PostgreSQL (the lock's answer is waited for; the others travel with it).
            with driver_cursor(connection) as cursor, pipelined(connection):
                connection.execute(update(MESSAGES).where(MESSAGES.c.id.in_(ids)).values(
                    status=MessageStatus.PROCESSING, locked_by=worker,
                    locked_until=now + self.lease, attempts=MESSAGES.c.attempts + 1,
                    updated_at=now))
                payloads.send(cursor, connection.dialect, {"digests": json.dumps(
                    sorted({row.payload_sha256 for row in rows}))})
                self.ledger.append_many(connection, [EntryDraft(
                    event="PROCESSING", actor=worker, message_id=row.id,
                    details={"attempt": row.attempts + 1,
                             "resumed": row.status == MessageStatus.PROCESSING})
                    for row in rows])
                bodies = dict(payloads.rows(cursor, connection.dialect))
            return [Claimed(row.id, row.partner_id, row.standard, row.received_at,
                            row.interchange_control, bytes(bodies[row.payload_sha256]))
                    for row in rows]

    def held(self, message_id: str, worker: str) -> Claimed | None:
        """The message if ``worker`` holds its lease (read again, e.g. after a claim made
        elsewhere), else None."""
        with self.db.read() as session:
            message = session.get(Message, message_id)
            if message is None or message.locked_by != worker or \
                    message.status != MessageStatus.PROCESSING:
                return None
            payload = session.get(Payload, message.payload_sha256)
            assert payload is not None
            return Claimed(message.id, message.partner_id, message.standard,
                           message.received_at, message.interchange_control,
                           bytes(payload.data))

    # -- process ------------------------------------------------------------------------
    def process(self, claimed: Sequence[Claimed], worker: str) -> list[ProcessResult | None]:
        """Translate claimed messages and finish them; None for a message whose lease
        ``worker`` no longer holds (another worker's result stands)."""
        done: list[tuple[Claimed, _Work | _Failed]] = []
        for message in claimed:
            started = time.perf_counter()
            work: _Work | _Failed
            try:
                work = self._translate(message)
            except Exception as exc:  # a bug must not lose the message: it becomes FAILED
                log.exception("processing %s failed", message.id)
                work = _Failed(storable(f"{type(exc).__name__}: {exc}"))
            work.seconds = time.perf_counter() - started
            done.append((message, work))
        started = time.perf_counter()
        results = self._finish_isolating(done, worker)
        finishing = time.perf_counter() - started
        for (message, work), result in zip(done, results, strict=True):
            if result is None:
                continue
            # A message's processing time: its translation and the commit that stored it.
            self.metrics.processing_seconds.observe(work.seconds + finishing)
            types = {t["set_id"] for t in result.transactions} or {"none"}
            for set_id in types:
                self.metrics.messages.labels(message.partner_id, message.standard, set_id,
                                             result.status).inc()
        return results

    def _translate(self, message: Claimed) -> _Work:
        partner = self.registry.get(message.partner_id)
        edifact = message.standard == "edifact"
        work = _Work(standard="edifact" if edifact else "x12")
        hook = _source_hook(message.id, message.partner_id)
        accepts = partner.accepts if partner is not None else None
        relax = partner.validation.relax_code_lists if partner is not None else ()
        guides = guides_for(self.registry, message.partner_id, outbound=False)
        try:
            if edifact:
                self._collect_edifact(work, message.partner_id, translate_edifact(
                    message.body, source_hook=hook, accepts=accepts, relax_code_lists=relax,
                    guides=guides))
            else:
                self._collect_x12(work, message.partner_id, translate_x12(
                    message.body, source_hook=hook, accepts=accepts, relax_code_lists=relax,
                    guides=guides))
        except EDISyntaxError as exc:
            work.syntax_error = f"{exc.message} (at byte offset {exc.offset})"
        if edifact:
            work.contrl = partner.edifact.contrl if partner is not None and partner.edifact \
                else "errors"
        else:
            work.ack_kind = partner.x12.ack if partner is not None and partner.x12 else "auto"
            work.ta1 = partner.x12.ta1 if partner is not None and partner.x12 else "auto"
        return work

    def _collect_x12(
            self, work: _Work, partner_id: str,
            outcomes: Iterator[TransactionOutcome | X12GroupOutcome | X12InterchangeOutcome]
    ) -> None:
        """Add what ``translate_x12`` yields to ``work`` (a syntax error stops it)."""
        for outcome in outcomes:
            if isinstance(outcome, TransactionOutcome):
                tx = outcome.document
                work.transactions.append(_Tx(
                    tx.set_id, tx.control_number, tx.group.control_number,
                    outcome.status, outcome.errors, outcome.data,
                    record_numbers(outcome.data) if outcome.data is not None
                    else x12_numbers(tx.set_id, tx.segments)))
            elif isinstance(outcome, X12GroupOutcome):
                work.groups.append(_Group(outcome.header.control_number, outcome.status,
                                          outcome.header.functional_id != "FA"))
            elif isinstance(outcome, X12InterchangeOutcome):
                isa = outcome.header
                if not is_x12_identity_of(self.registry, partner_id, isa.sender_qualifier,
                                          isa.sender_id):
                    work.foreign.append(interchange_identity(isa.sender_qualifier,
                                                             isa.sender_id))
                work.interchanges.append(outcome)

    def _collect_edifact(
            self, work: _Work, partner_id: str,
            outcomes: Iterator[MessageOutcome | EDIFACTGroupOutcome | EDIFACTInterchangeOutcome]
    ) -> None:
        """Add what ``translate_edifact`` yields to ``work`` (a syntax error stops it)."""
        for outcome in outcomes:
            if isinstance(outcome, MessageOutcome):
                m = outcome.document
                # CONTRL action 4 rejects the message; 7 accepts it (ISO 9735 0083).
                status = "R" if outcome.action == "4" else ("E" if outcome.issues else "A")
                work.transactions.append(_Tx(
                    m.type, m.reference, m.group.control_reference if m.group else "",
                    status, outcome.errors, outcome.data,
                    record_numbers(outcome.data) if outcome.data is not None
                    else edifact_numbers(m.segments)))
            elif isinstance(outcome, EDIFACTGroupOutcome):
                work.groups.append(_Group(outcome.header.control_reference,
                                          "R" if outcome.action == "4" else "A", True))
            elif isinstance(outcome, EDIFACTInterchangeOutcome):
                unb = outcome.header
                found = self.registry.by_edifact(unb.sender.id, unb.sender.qualifier or None)
                if found is None or found.id != partner_id:
                    work.foreign.append(interchange_identity(unb.sender.qualifier,
                                                             unb.sender.id))
                work.interchanges.append(outcome)

    # -- finish -------------------------------------------------------------------------
    def _finish_isolating(self, done: list[tuple[Claimed, _Work | _Failed]], worker: str
                          ) -> list[ProcessResult | None]:
        try:
            return self._finish(done, worker)
        except Exception as exc:
            if len(done) > 1:
                log.warning("finishing a batch of %d failed (%s); finishing each alone",
                            len(done), exc)
                return [self._finish_isolating([item], worker)[0] for item in done]
            message = done[0][0]
            incident = str(uuid.uuid4())
            log.exception("storing the outcome of %s failed (incident %s)", message.id,
                          incident)
            if isinstance(exc, SQLAlchemyError):
                # The message's error is shown to its partner: a database's or driver's
                # text goes to the log only, under the incident id the error names.
                error = f"storing the outcome failed (incident {incident})"
            else:
                error = storable(f"{type(exc).__name__}: {exc}")
            return self._finish([(message, _Failed(error))], worker)

    def _finish(self, done: list[tuple[Claimed, _Work | _Failed]], worker: str
                ) -> list[ProcessResult | None]:
        """Store the outcomes of a batch in one transaction (see the module's text).

        Everything but the acknowledgments (which need the partners' next control numbers)
        is built before the transaction begins: on SQLite it holds the write lock that
        intake's batches wait for, on PostgreSQL the counters' row locks.
        """
        now = utcnow()
        # ``now`` as the driver binds a UTCDateTime: the acknowledgments' and records'
        # created_at, and on SQLite the messages' updated_at.
        at = _INSERT_ACKS.bind(self.db.engine.dialect, "created_at", now)
        outcomes = [self._outcome(message, work, worker, at) for message, work in done]
        with self.db.transaction() as session:
            connection = session.connection()
            dialect = connection.dialect
            # The rows still held, locked, with what the dashboard's counts need of them.
            query = select(*FINISH_COLUMNS).where(
                Message.id.in_([message.id for message, _ in done]),
                Message.locked_by == worker, Message.status == MessageStatus.PROCESSING)
            stored = connection.execute(self.db.dialect.locked(query)).all()
            held = {row.id for row in stored}
            outcomes = [o for o in outcomes if o.result.message_id in held]
            numbers = self._reserve_controls(session, Counter(
                name for o in outcomes if isinstance(o.work, _Work)
                for name in _control_names(o.message.partner_id, o.work)))
            rows = _Rows()
            for outcome in outcomes:
                self._gather(outcome, worker, numbers, rows, at)
                if isinstance(outcome.work, _Failed) or outcome.work.foreign:
                    continue
                if outcome.functional_acks:
                    rows.drafts += reconcile(session, outcome.message.partner_id,
                                             outcome.message.id, outcome.functional_acks,
                                             now, worker)
                if outcome.interchange_acks:
                    rows.drafts += reconcile_ta1(session, outcome.message.partner_id,
                                                 outcome.message.id, outcome.interchange_acks,
                                                 now, worker)
            done_here = [o for o in outcomes if isinstance(o.work, _Work) and not o.work.foreign]
            # One read of who takes records and events serves the batch's order events
            # and its record deliveries.
            subscribed = webhooks.subscriptions(session)
            order_writes: list[Write] = []
            rows.drafts += self.orders.join(
                session, [j for o in done_here for j in o.joinings], now, worker,
                subscribed=subscribed, writes=order_writes)
            store_points(session, [d for o in done_here for d in o.demand])
            # The dashboard's counts move with the statuses.
            moves = moves_of_finish(stored, {
                row.id: (row.status, row.transaction_types) for row in rows.finished},
                failed=[message_id for message_id, _ in rows.failed])

            def under_head_lock(c: Connection) -> None:
                with driver_cursor(c) as cursor:
                    _INSERT_RECORDS.execute(cursor, c.dialect, rows.records)
                    add_moves(cursor, c.dialect, moves)

            # Writes that need no answer, the order book's among them, then the ledger's:
            # on PostgreSQL two round trips for all (see below).
            with driver_cursor(connection) as cursor, pipelined(connection):
                if rows.finished:
                    self.db.dialect.finish_messages(cursor, rows.finished, now=now, at=at)
                for message_id, error in rows.failed:
                    connection.execute(update(MESSAGES).where(MESSAGES.c.id == message_id)
                                       .values(status=MessageStatus.FAILED,
                                               error=storable(error)[:4000],
                                               locked_by=None, locked_until=None,
                                               updated_at=now))
                finished_ids = [row.id for row in rows.finished]
                if finished_ids:
                    connection.execute(delete(MessageTerm).where(
                        MessageTerm.message_id.in_(finished_ids)))
                INSERT_TERM_ROWS.execute(cursor, dialect, rows.terms)
                _INSERT_ACKS.execute(cursor, dialect, rows.acks)
                for write in order_writes:
                    write(connection)
                # The ledger's head lock serialises every writer of the chain, intake's
                # batches included, and workers run niced: it is taken last (it travels
                # with the writes above) and held only while the ledger's writes and then
                # the COMMIT go out. The records are inserted under it so that they get
                # their feed sequence numbers in commit order (see RecordRow.seq), and the
                # dashboard's counts move under it as intake's do (gateway.store.rollups),
                # with the ledger's writes.
                self.ledger.append_many(connection, rows.drafts,
                                        also_write=under_head_lock)
            webhooks.enqueue(session, rows.new_records, subscribed)
            for partner, ack, message_id, standard in rows.send_back:
                assert self.outbound is not None
                self.outbound.enqueue(
                    session, partner, ack, kind="ack", message_id=message_id, actor=worker,
                    content_type="application/edifact" if standard == "edifact"
                    else "application/edi-x12")
        results = {o.result.message_id: o.result for o in outcomes}
        return [results.get(message.id) for message, _ in done]

    def _outcome(self, message: Claimed, work: _Work | _Failed, worker: str, at: Any
                 ) -> _Outcome:
        """What finishing one message writes, but its acknowledgments."""
        if isinstance(work, _Failed):
            return _Outcome(message, work, ProcessResult(
                message.id, MessageStatus.FAILED, error=work.error), final=EntryDraft(
                    event=MessageStatus.FAILED, actor=worker, message_id=message.id,
                    details={"error": work.error[:500]}))
        message_id = message.id
        result = ProcessResult(message_id, MessageStatus.PROCESSED)
        outcome = _Outcome(message, work, result)
        accepted = 0
        search_numbers: list[str] = [message.interchange_control or ""]
        outcome.drafts.append(EntryDraft(
            event="TRANSLATED", actor=worker, message_id=message_id,
            details={"transactions": len(work.transactions),
                     "interchanges": len(work.interchanges)}))
        for tx in work.transactions:
            entry: dict[str, Any] = {
                "set_id": tx.set_id, "control_number": tx.control_number,
                "group_control": tx.group_control, "status": tx.status,
                "errors": [i.as_dict() for i in tx.errors][:50],
                "record_id": None,
                # What the message log shows the document by (rejected ones too).
                "document_number": tx.numbers.own and storable(tx.numbers.own),
            }
            # Its numbers are searchable whatever its status: a rejected invoice is
            # looked up by the invoice number its sender quotes.
            search_numbers += [tx.control_number, tx.group_control, *tx.numbers.all]
            data = tx.data
            if data is not None and tx.status != "R" and not work.foreign:
                business = business_number(data)
                if business:
                    business = storable(business)
                    search_numbers.append(business)
                record_id = str(uuid.uuid4())
                # Columns of received text: see ``storable`` (the JSON escapes its own).
                outcome.records.append(_RecordValues(
                    id=record_id, message_id=message_id, partner_id=message.partner_id,
                    kind=storable(data["kind"]), standard=work.standard,
                    transaction_type=storable(tx.set_id),
                    transaction_control=storable(tx.control_number),
                    business_number=business, status=tx.status, data=record_json(data),
                    created_at=at))
                outcome.new_records.append(webhooks.NewRecord(record_id, data["kind"],
                                                              message_id))
                if data["kind"] == "functional_ack":
                    outcome.functional_acks.append(data)
                elif data["kind"] in ORDER_DOCUMENT_KINDS:
                    outcome.joinings.append(Joining(
                        message.partner_id, f"record:{record_id}", message_id, data["kind"],
                        "inbound", message.received_at, data))
                elif data["kind"] in DEMAND_KINDS:
                    outcome.demand.append((message.partner_id, record_id, message_id,
                                           data["kind"], message.received_at, data))
                entry["record_id"] = record_id
                entry["business_number"] = business
                accepted += 1
            result.transactions.append(entry)
        problems: list[str] = []
        if work.syntax_error:
            problems.append(work.syntax_error)
        if work.foreign:
            problems.append("interchange sender(s) not of this partner: "
                            + ", ".join(sorted(set(work.foreign))))
        if not work.transactions and not work.interchanges:
            problems.append("no interchange could be read")
        outcome.interchange_acks = [
            (ta1[1], ta1[4], ta1[5]) for interchange in work.interchanges
            if isinstance(interchange, X12InterchangeOutcome)
            for ta1 in (found.segment for found in interchange.received_ta1)
            if ta1.tag == "TA1"]
        # A partner's TA1 alone (an interchange acknowledgment, no groups) is a message
        # that was read and matched, not one that was refused.
        answers_only = bool(outcome.interchange_acks) and not work.transactions and \
            not any(interchange.errors for interchange in work.interchanges)
        if work.foreign or (accepted == 0 and not answers_only):
            result.status = MessageStatus.REJECTED
        result.error = storable("; ".join(problems)) or None
        search_text = storable(" ".join(sorted({n for n in search_numbers if n}))[:4000])
        outcome.finished = FinishedMessage(
            id=message_id, status=result.status, error=result.error,
            transaction_types=storable(
                ",".join(sorted({t["set_id"] for t in result.transactions}))[:200]) or None,
            search_text=search_text,
            summary=json.dumps({"transactions": result.transactions,
                                "groups": [{"control_number": g.control_number,
                                            "status": g.status} for g in work.groups]}),
            ack_status=_ack_status(work))
        received = INSERT_TERM_ROWS.bind(self.db.engine.dialect, "received_at",
                                      message.received_at)
        outcome.terms = [TermValues(term, received, message_id)
                         for term in sorted(terms_of(search_text))]
        outcome.final = EntryDraft(event=result.status, actor=worker, message_id=message_id,
                                   details={"accepted": accepted,
                                            "rejected": len(work.transactions) - accepted,
                                            "error": result.error})
        return outcome

    def _gather(self, outcome: _Outcome, worker: str, numbers: dict[str, Iterator[int]],
                rows: _Rows, at: Any) -> None:
        """Add a held message's outcome to the batch's rows, building its acknowledgments
        with the numbers reserved for them."""
        message, work = outcome.message, outcome.work
        rows.drafts += outcome.drafts
        if isinstance(work, _Failed):
            rows.failed.append((message.id, work.error))
        else:
            assert outcome.finished is not None
            rows.finished.append(outcome.finished)
            rows.records += outcome.records
            rows.new_records += outcome.new_records
            rows.terms += outcome.terms
            partner = self.registry.get(message.partner_id)
            as2 = self.outbound is not None and self.outbound.wants_as2(partner)
            for ack, kind, acked_control in self._acknowledgments(message.partner_id, work,
                                                                  numbers):
                text = ack.decode("latin-1" if work.standard == "edifact" else "ascii",
                                  "replace")
                ack_id = str(uuid.uuid4())
                rows.acks.append(_AckValues(
                    id=ack_id, message_id=message.id, kind=kind,
                    control_number=storable(acked_control)[:20], content=storable(text),
                    created_at=at))
                outcome.result.acknowledgments.append({"id": ack_id, "kind": kind,
                                                       "content": text})
                rows.drafts.append(EntryDraft(
                    event="ACK_BUILT", actor=worker, message_id=message.id,
                    details={"ack_id": ack_id, "kind": kind,
                             "sha256": hashlib.sha256(ack).hexdigest()}))
                if as2:
                    assert partner is not None
                    rows.send_back.append((partner, ack, message.id, work.standard))
        assert outcome.final is not None
        rows.drafts.append(outcome.final)

    def _acknowledgments(self, partner_id: str, work: _Work,
                         numbers: dict[str, Iterator[int]]
                         ) -> Iterator[tuple[bytes, str, str]]:
        """(acknowledgment, kind, acknowledged interchange control) per interchange.

        None for a message holding an interchange from another sender (intake refuses such
        bodies; one stored before it did may be reprocessed): the message is rejected as a
        whole, so an acknowledgment would either tell the partner that a refused
        interchange was accepted or go to a sender that did not send the message."""
        if work.foreign:
            return
        for outcome in work.interchanges:
            if isinstance(outcome, X12InterchangeOutcome):
                ack = acknowledge(outcome, AckOptions(
                    kind=work.ack_kind,  # type: ignore[arg-type]
                    ta1=work.ta1,  # type: ignore[arg-type]
                    control_number=str(next(numbers[_x12_counter(partner_id)])
                                       % 1_000_000_000),
                    sender=(self.settings.x12_qualifier, self.settings.x12_sender_id),
                ))
                if ack is None:
                    continue
                yield ack.interchange, "+".join(ack.kinds), outcome.header.control_number
            elif _contrl_wanted(work, outcome):
                reference = str(next(numbers[_edifact_counter(partner_id)]))
                qualifier, _, ours = self.settings.edifact_id.rpartition(":")
                contrl = build_contrl(outcome, CONTRLOptions(
                    report="all" if work.contrl == "always" else "errors",
                    control_reference=reference, message_reference=reference,
                    sender=(ours, qualifier)))
                if contrl is not None:
                    yield contrl, "CONTRL", outcome.header.control_reference

    def _reserve_controls(self, session: Session, counts: Counter[str]
                          ) -> dict[str, Iterator[int]]:
        """The next ``counts[name]`` numbers of each control counter, taken in name order
        (two workers never wait on each other's counters crosswise)."""
        return {name: itertools.count(self.next_control(session, name, counts[name]))
                for name in sorted(counts)}

    def next_control(self, session: Session, name: str, count: int = 1) -> int:
        """Take ``count`` numbers of a control counter in the caller's transaction (its
        row stays locked until commit); the first of them."""
        return take_numbers(session, self.db.dialect, name, count)


class Inline:
    """Processing for callers that wait for the outcome (``sync=true`` posts), combined.

    Each caller queues its message and takes a turn; whoever has the turn processes every
    message queued by then as one batch (a claim and a finish for all of them) and hands
    each caller its result. One turn at a time per process: inline processings contend
    for the GIL and the database's write lock anyway, and on SQLite a thread that finds
    the lock taken sleeps in the driver's busy handler (1, 2, 5, ... 100 ms); under a
    burst of sync posts that made the slowest answers take seconds.
    """

    def __init__(self, processor: Processor, worker: str) -> None:
        self.processor = processor
        self.worker = worker
        self._turn = threading.Lock()
        self._guard = threading.Lock()
        self._queued: dict[str, Future[ProcessResult | None]] = {}

    def process(self, message_id: str) -> ProcessResult | None:
        """Process a stored message now; None when another worker holds it (it is
        processed all the same)."""
        future: Future[ProcessResult | None] = Future()
        with self._guard:
            self._queued[message_id] = future
        with self._turn:
            if not future.done():
                with self._guard:
                    batch, self._queued = self._queued, {}
                self._run(batch)
        return future.result()

    def _run(self, batch: dict[str, Future[ProcessResult | None]]) -> None:
        pending = dict(batch)
        try:
            while pending:
                claimed = self.processor.claim(self.worker, limit=len(pending),
                                               message_ids=sorted(pending))
                if not claimed:
                    break
                results = self.processor.process(claimed, self.worker)
                for message, result in zip(claimed, results, strict=True):
                    pending.pop(message.id).set_result(result)
            for future in pending.values():
                future.set_result(None)  # claimed by a worker meanwhile
        except BaseException as exc:
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)


def storable(text: str) -> str:
    """``text`` with every NUL replaced by U+FFFD, for a text column: PostgreSQL text cannot
    hold NUL, and the same value is stored on SQLite so that both databases show the same
    thing. Received values reach columns (control numbers, search terms, errors) even when
    the translators have rejected them for their control characters."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _x12_counter(partner_id: str) -> str:
    return f"x12:isa13:{partner_id}"


def _edifact_counter(partner_id: str) -> str:
    return f"edifact:unb0020:{partner_id}"


def _contrl_wanted(work: _Work, outcome: EDIFACTInterchangeOutcome) -> bool:
    """Whether the partner's CONTRL setting asks for one for this interchange."""
    if work.contrl == "never":
        return False
    has_errors = bool(outcome.errors) or any(
        t.status == "R" or t.errors for t in work.transactions)
    return work.contrl == "always" or outcome.header.ack_requested or (
        work.contrl == "errors" and has_errors)


def _control_names(partner_id: str, work: _Work) -> Iterator[str]:
    """A counter name for each control number finishing ``work`` takes: every X12
    interchange takes one (whether or not an acknowledgment is built for it), an EDIFACT
    interchange when a CONTRL is wanted; none for a message acknowledged with nothing (an
    interchange from another sender, see ``Processor._acknowledgments``)."""
    if work.foreign:
        return
    for outcome in work.interchanges:
        if isinstance(outcome, X12InterchangeOutcome):
            yield _x12_counter(partner_id)
        elif _contrl_wanted(work, outcome):
            yield _edifact_counter(partner_id)


def _ack_status(work: _Work) -> str | None:
    codes = [g.status for g in work.groups if g.counts]
    if work.standard == "edifact" and not codes:
        codes = ["R" if t.status == "R" else "A" for t in work.transactions]
    if not codes:
        return None
    if all(c == "A" for c in codes):
        return "accepted"
    if all(c == "R" for c in codes):
        return "rejected"
    return "partial" if "P" in codes or "R" in codes else "accepted_with_errors"


# A planning schedule's PO number (BFR11, RFF+ON) links it to the order when it has one.
_BUSINESS_KEYS = (
    "po_number", "invoice_number", "shipment_id", "report_id", "document_number",
)


def _source_hook(message_id: str, partner_id: str) -> Callable[[RecordData], RecordData]:
    """What the translators call with each record's source: the gateway's ids added."""

    def hook(source: RecordData) -> RecordData:
        source["message_id"] = message_id
        source["partner_id"] = partner_id
        return source

    return hook


def business_number(data: dict[str, Any]) -> str | None:
    """The number the message log finds a record's document by (a PO's for every document
    of an order, else the document's own)."""
    return first_number(data, _BUSINESS_KEYS)


def first_number(data: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    """The first non-empty text of ``keys`` in a record, cut to the 80 characters the
    number columns hold."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value[:80]
    return None
