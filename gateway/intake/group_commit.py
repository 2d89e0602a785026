"""Group commit for intake: many waiting messages stored in one durable transaction.

Responsible for the write half of ``Pipeline.receive``: a request hands over a checked
message (``Pending``) and gets a future; one writer thread per pipeline takes everything
that is waiting, stores it in ONE transaction (payload rows, message rows, their search
terms and dashboard counts, one ledger head lock for all the RECEIVED and DUPLICATE
entries) and resolves each future only after that transaction has committed. Durability
per message is unchanged (nothing is answered before its commit); what changes is that a
commit, the ledger lock and the fsync are paid once per batch instead of once per
message, the classic group commit of database logs.

Duplicates are decided inside the batch transaction: against stored messages (the same
bytes, or the same sender and control number, from the same partner) and against earlier
messages of the same batch. If a batch fails (for example a concurrent process on the same
PostgreSQL database stored the same interchange first and a unique constraint fires) every
message of it is retried alone, so one bad message never fails the others. A message that
cannot be stored is answered ``IntakeUnavailable`` (503, send again): its cause, often a
database's or driver's text, goes to the log under an incident id, never to the sender.

On PostgreSQL a writer that is the ledger's lone appender (workers defer to intake bursts)
sends each batch in one round trip: it skips the lookup of stored duplicates, leaving them
to the unique constraints, and chains the ledger entries onto the head its previous batch
left (``gateway.ledger.chain.HeadCache``). When either guess is wrong the transaction fails and
rolls back, and the batch is stored again the careful way: lookup, head read under lock.

It must not decide what is acceptable (the pipeline checks envelopes before submitting)
and must not process messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError, IntegrityError

from gateway.errors import GatewayError
from gateway.ledger.chain import EntryDraft, HeadCache, Ledger
from gateway.store.base import utcnow
from gateway.store.bulk import RawInsert, driver_cursor, pipelined
from gateway.store.db import Database
from gateway.store.models import Message, MessageStatus, Payload, StoredMessage
from gateway.store.rollups import Move, add_moves
from gateway.store.search import INSERT_TERM_ROWS, TermValues, terms_of

__all__ = ["IntakeUnavailable", "IntakeWriter", "Pending", "ReceiveResult"]

log = logging.getLogger("edigate.intake")

# Large enough that a burst is one transaction, small enough that one batch's rows and
# payloads stay a few MB (bodies are limited by EDIGATE_MAX_BODY_BYTES).
MAX_BATCH = 256
MAX_BATCH_BYTES = 32 * 1024 * 1024
IDLE_EXIT_SECONDS = 2.0

PAYLOADS: Table = Payload.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]

# Driver SQL, not Core: the writer's statements are few and fixed, and SQLAlchemy's
# execution machinery cost more per message than the database did (see bench/README.md).


class _PayloadValues(NamedTuple):
    """A received payload as intake inserts it: the fields are the columns."""

    sha256: str
    size: int
    data: bytes
    created_at: object  # the batch's time as the driver binds it (``RawInsert.bind``)


class _MessageValues(NamedTuple):
    """A received message as intake inserts it: the fields are the columns."""

    id: str
    partner_id: str
    direction: str
    transport: str
    standard: str
    status: str
    payload_sha256: str
    size: int
    received_at: object  # the batch's time as the driver binds it (``RawInsert.bind``)
    updated_at: object
    interchange_sender: str | None
    interchange_receiver: str | None
    interchange_control: str | None
    search_text: str | None
    attempts: int


_INSERT_PAYLOADS = RawInsert(PAYLOADS, _PayloadValues, on_conflict_do_nothing=("sha256",))
_INSERT_MESSAGES = RawInsert(MESSAGES, _MessageValues)

class IntakeUnavailable(GatewayError):
    """The message may not be stored (a failed transaction, a lost writer process): 503,
    send it again. ``reason`` is for the log only: the detail a partner sees is generic
    and names ``incident``, under which the reason is logged (``log``)."""

    def __init__(self, reason: str, incident: str | None = None) -> None:
        self.reason = reason
        self.incident = incident or str(uuid.uuid4())
        super().__init__(503, "intake-unavailable", "Intake temporarily unavailable",
                         f"the message could not be stored just now: send it again (a "
                         f"message that was stored is answered as a duplicate with its id); "
                         f"incident {self.incident}", incident=self.incident)

    def log(self, logger: logging.Logger, messages: int = 1, *,
            exc_info: BaseException | None = None) -> None:
        """Log the reason under the incident id, with how many messages were answered."""
        logger.error("intake incident %s: %s; %d message(s) answered 503", self.incident,
                     self.reason, messages, exc_info=exc_info)


def _message_id() -> str:
    """A new message id: a UUIDv7 (RFC 9562 §5.7), 48 bits of Unix time in milliseconds
    before 74 random bits.

    Time first, so the ids of a batch sort together: the indexes keyed by message id
    (the messages' primary key, the search terms', the ledger's) take a batch's rows on a
    page or two each instead of one random page per message, and a commit has fewer pages
    to write to the WAL and to checkpoint (bench/README.md has the writer's CPU). The id says
    nothing the message's ``received_at`` does not.
    """
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64
             | 0b10 << 62 | rand & _LOW_62)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_LOW_62 = (1 << 62) - 1


@dataclass(slots=True)
class Pending:
    """A message that passed the envelope checks, waiting to be stored."""

    partner_id: str
    transport: str
    standard: str
    body: bytes
    digest: str
    sender: str
    receiver: str
    control: str
    actor: str
    evidence: dict[str, Any]
    # Exactly one way back: a concurrent future (blocking callers) or an asyncio future
    # on its event loop (async routes; settled with one loop wake-up per batch).
    future: Future[ReceiveResult] | None = None
    waiter: asyncio.Future[ReceiveResult] | None = None


@dataclass(frozen=True, slots=True)
class ReceiveResult:
    """The outcome: the message id, and whether it was a duplicate of a stored message."""

    message_id: str
    duplicate: bool
    status: str


def _settle(settled: list[tuple[Pending, ReceiveResult | BaseException]]) -> None:
    """Hand each outcome back: concurrent futures directly, asyncio futures with ONE
    ``call_soon_threadsafe`` per event loop (a wake-up per message would cost the loop
    more than the message)."""
    by_loop: dict[asyncio.AbstractEventLoop,
                  list[tuple[asyncio.Future[ReceiveResult], ReceiveResult | BaseException]]] = {}
    for item, outcome in settled:
        if item.waiter is not None:
            by_loop.setdefault(item.waiter.get_loop(), []).append((item.waiter, outcome))
        elif item.future is not None:
            if isinstance(outcome, ReceiveResult):
                item.future.set_result(outcome)
            else:
                item.future.set_exception(outcome)
    for loop, pairs in by_loop.items():
        # A closed loop's requests are gone; their messages are stored all the same.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, pairs)


def take_batch(queue: deque[Pending]) -> list[Pending]:
    """Take the next batch off ``queue``: up to MAX_BATCH messages and MAX_BATCH_BYTES of
    bodies (a single larger body still makes a batch of one)."""
    batch: list[Pending] = []
    size = 0
    while queue and len(batch) < MAX_BATCH:
        if batch and size + len(queue[0].body) > MAX_BATCH_BYTES:
            break
        item = queue.popleft()
        size += len(item.body)
        batch.append(item)
    return batch


def notify_stored(callback: Callable[[Pending, ReceiveResult], None] | None,
                  pending: Pending, result: ReceiveResult) -> None:
    """Run the writer's ``on_stored`` callback; metrics must never fail an acknowledged
    message, so an exception is logged, not raised."""
    if callback is None:
        return
    try:
        callback(pending, result)
    except Exception:
        log.exception("intake callback failed")


def _unavailable(exc: BaseException) -> IntakeUnavailable:
    """What the sender of a message that could not be stored is answered; the cause is
    logged (with its traceback) under the answer's incident id."""
    failure = IntakeUnavailable(f"storing a received message failed: "
                                f"{type(exc).__name__}: {exc}")
    failure.log(log, exc_info=exc)
    return failure


def _resolve(pairs: list[tuple[asyncio.Future[ReceiveResult],
                              ReceiveResult | BaseException]]) -> None:
    for waiter, outcome in pairs:
        if waiter.done():
            continue
        if isinstance(outcome, ReceiveResult):
            waiter.set_result(outcome)
        else:
            waiter.set_exception(outcome)


class IntakeWriter:
    """One writer thread per database that stores pending messages in group commits.

    The thread starts on the first ``submit`` and exits after ``IDLE_EXIT_SECONDS`` without
    work, so pipelines built by tests and CLI commands leave no threads behind.
    """

    def __init__(self, db: Database, ledger: Ledger,
                 on_stored: Callable[[Pending, ReceiveResult], None] | None = None,
                 on_batch: Callable[[int, float], None] | None = None) -> None:
        self.db = db
        self.ledger = ledger
        self.on_stored = on_stored
        self.on_batch = on_batch
        self._queue: deque[Pending] = deque()
        self._cond = threading.Condition()
        self._running = False
        self._closed = False
        self._thread: threading.Thread | None = None
        # The writer thread's connection, kept from one batch to the next while there is
        # work (a checkout per batch costs the pool's bookkeeping and, on SQLite, two
        # PRAGMAs: each driver call is a GIL hand-off, see ``Database.held_connection``).
        self._held: contextlib.ExitStack | None = None
        self._connection: Connection | None = None
        self.batches = 0  # for diagnostics and tests: how many transactions were used
        # The ledger head this writer's last batch left (PostgreSQL; see ``_store_on``).
        self._head = HeadCache()
        self.optimistic_batches = 0  # of them, sent in one round trip
        self.optimistic_misses = 0  # one-round-trip attempts rolled back and done again

    def submit(self, pending: Pending) -> Future[ReceiveResult]:
        """Queue ``pending``; the future resolves after the commit that stores it."""
        future: Future[ReceiveResult] = Future()
        pending.future = future
        self._enqueue(pending)
        return future

    async def store(self, pending: Pending) -> ReceiveResult:
        """Queue ``pending`` and wait, without a thread, until its batch has committed."""
        pending.waiter = asyncio.get_running_loop().create_future()
        self._enqueue(pending)
        # A client that disconnects cancels this wait; the writer then skips the settled
        # future, and the message is stored all the same.
        return await pending.waiter

    def start(self) -> None:
        """Start the writer thread now rather than on the first message."""
        with self._cond:
            if not self._running and not self._closed:
                self._start_thread()

    def _enqueue(self, pending: Pending) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the intake writer is closed")
            self._queue.append(pending)
            if not self._running:
                self._start_thread()
            else:
                self._cond.notify()

    def _start_thread(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._run, name="edigate-intake", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking work and wait (up to ``timeout``) until what is queued is stored."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _take(self) -> list[Pending] | None:
        with self._cond:
            while not self._queue:
                idle = self._closed or not self._cond.wait(IDLE_EXIT_SECONDS)
                if idle and not self._queue:
                    self._running = False
                    return None
            return take_batch(self._queue)

    def _run(self) -> None:
        try:
            while (batch := self._take()) is not None:
                self._commit(batch)
        finally:
            self._release()

    def _connect(self) -> Connection:
        if self._connection is None:
            self._held = contextlib.ExitStack()
            self._connection = self._held.enter_context(self.db.held_connection())
        return self._connection

    def _release(self, *, invalidate: bool = False) -> None:
        """Give the held connection back (``invalidate``: discard it, it may be broken)."""
        connection, held = self._connection, self._held
        self._connection = self._held = None
        if connection is not None and invalidate:
            with contextlib.suppress(Exception):
                connection.invalidate()
        if held is not None:
            with contextlib.suppress(Exception):
                held.close()

    def _commit(self, batch: list[Pending]) -> None:
        settled = self.store_batch(batch)
        for item, outcome in settled:
            if isinstance(outcome, ReceiveResult):
                notify_stored(self.on_stored, item, outcome)
        _settle(settled)

    def store_batch(self, batch: list[Pending]
                    ) -> list[tuple[Pending, ReceiveResult | BaseException]]:
        """Store ``batch`` (in one transaction, or each message alone after a failure) and
        return every message's outcome; what the writer thread does with each batch."""
        settled: list[tuple[Pending, ReceiveResult | BaseException]] = []
        self._store_isolating(batch, settled)
        return settled

    def _store_isolating(self, batch: list[Pending],
                         settled: list[tuple[Pending, ReceiveResult | BaseException]],
                         attempts: int = 3) -> None:
        started = time.perf_counter()
        try:
            results = self._store(batch)
        except IntegrityError as exc:
            # Another process stored one of these interchanges (or bytes) between our
            # lookup and our insert: alone, the next round finds it and answers duplicate.
            if len(batch) > 1:
                for item in batch:
                    self._store_isolating([item], settled)
            elif attempts > 1:
                self._store_isolating(batch, settled, attempts - 1)
            else:
                settled.append((batch[0], _unavailable(exc)))
            return
        except Exception as exc:
            if len(batch) > 1:
                for item in batch:  # isolate the cause: each message in its own transaction
                    self._store_isolating([item], settled, attempts=1)
                return
            settled.append((batch[0], _unavailable(exc)))
            return
        self.batches += 1
        if self.on_batch is not None:
            self.on_batch(len(batch), time.perf_counter() - started)
        settled.extend(zip(batch, results, strict=True))

    def _store(self, batch: Sequence[Pending]) -> list[ReceiveResult]:
        try:
            if self._head.expected is not None:
                try:
                    return self._store_on(self._connect(), batch)
                except DBAPIError as exc:
                    if exc.connection_invalidated:
                        raise
                    # Another process appended to the ledger, or a message duplicates a
                    # stored one: rolled back; again the careful way, which finds both.
                    self.optimistic_misses += 1
                    log.debug("optimistic intake batch rolled back: %s", exc.orig)
            return self._store_on(self._connect(), batch)
        except IntegrityError:
            raise  # a rolled-back transaction: the connection is fine
        except BaseException:
            # Whatever failed may have broken the connection: the next batch takes a new one.
            self._release(invalidate=True)
            raise

    def _store_on(self, held: Connection, batch: Sequence[Pending]) -> list[ReceiveResult]:
        # PostgreSQL: the whole transaction in one pipeline (see ``pipelined``). While this
        # writer is the ledger's lone appender (``HeadCache``) the pipeline is sent in one
        # round trip: no lookup of stored duplicates (the unique constraints on the
        # messages' keys fail the transaction instead) and no read of the ledger head.
        optimistic = self._head.expected is not None
        try:
            results = self._store_in_transaction(held, batch, optimistic)
        except BaseException:
            self._head.discard()
            raise
        self._head.committed()
        self.optimistic_batches += optimistic
        return results

    def _store_in_transaction(self, held: Connection, batch: Sequence[Pending],
                              optimistic: bool) -> list[ReceiveResult]:
        with pipelined(held), self.db.eager_transaction(held) as connection:
            dialect = connection.dialect
            found: Sequence[StoredMessage] = ()
            if not optimistic:
                with driver_cursor(connection) as lookup:
                    found = self.db.dialect.find_stored(
                        lookup, partners={p.partner_id for p in batch},
                        digests={p.digest for p in batch}, senders={p.sender for p in batch},
                        controls={p.control for p in batch})
            by_payload: dict[tuple[str, str], tuple[str, str]] = {}
            by_control: dict[tuple[str, str, str], tuple[str, str]] = {}
            for row in found:
                # A row found by either half is a stored message under both keys.
                by_payload[(row.partner_id, row.payload_sha256)] = (row.id, row.status)
                by_control[(row.partner_id, row.interchange_sender or "",
                            row.interchange_control or "")] = (row.id, row.status)
            new_payloads: set[str] = set()

            results: list[ReceiveResult] = []
            payload_rows: list[_PayloadValues] = []
            message_rows: list[_MessageValues] = []
            term_batch: list[TermValues] = []
            drafts: list[EntryDraft] = []
            now = utcnow()
            # Bound once for the batch: the driver value Core would bind for each row.
            at = _INSERT_MESSAGES.bind(dialect, "received_at", now)
            received = MessageStatus.RECEIVED
            for p in batch:
                original = by_payload.get((p.partner_id, p.digest)) or by_control.get(
                    (p.partner_id, p.sender, p.control))
                if original is not None:
                    results.append(ReceiveResult(original[0], True, original[1]))
                    drafts.append(EntryDraft(
                        event="DUPLICATE", actor=p.actor, message_id=original[0], details={
                            "transport": p.transport, "payload_sha256": p.digest,
                            "same_payload": (p.partner_id, p.digest) in by_payload,
                            "interchange_control": p.control}))
                    continue
                message_id = _message_id()
                size = len(p.body)
                # Another partner may have sent the same bytes: ON CONFLICT DO NOTHING.
                if p.digest not in new_payloads:
                    new_payloads.add(p.digest)
                    payload_rows.append(_PayloadValues(
                        sha256=p.digest, size=size, data=p.body, created_at=at))
                message_rows.append(_MessageValues(
                    id=message_id, partner_id=p.partner_id, direction="inbound",
                    transport=p.transport, standard=p.standard, status=received,
                    payload_sha256=p.digest, size=size, received_at=at, updated_at=at,
                    interchange_sender=p.sender, interchange_receiver=p.receiver,
                    interchange_control=p.control, search_text=p.control, attempts=0))
                # The log's search index: the terms of search_text (the control number).
                term_batch += [TermValues(term, at, message_id)
                               for term in sorted(terms_of(p.control))]
                # Later messages of this batch are duplicates of this one.
                by_payload[(p.partner_id, p.digest)] = (message_id, received)
                by_control[(p.partner_id, p.sender, p.control)] = (message_id, received)
                results.append(ReceiveResult(message_id, False, received))
                drafts.append(EntryDraft(
                    event="RECEIVED", actor=p.actor, message_id=message_id, details={
                        "transport": p.transport, "size": size,
                        "payload_sha256": p.digest, **p.evidence}))

            # The dashboard's counts: each new message is a RECEIVED one of the batch's hour.
            counted = [Move(now, row.partner_id, "inbound", None, (received, None))
                       for row in message_rows]

            def write(c: Connection) -> None:
                with driver_cursor(c) as cursor:
                    _INSERT_PAYLOADS.execute(cursor, dialect, payload_rows)
                    _INSERT_MESSAGES.execute(cursor, dialect, message_rows)
                    INSERT_TERM_ROWS.execute(cursor, dialect, term_batch)
                    add_moves(cursor, dialect, counted)

            # One ledger head lock, taken last so that it is held briefly (worker processes
            # append too); the rows go out with the ledger's own writes.
            self.ledger.append_many(connection, drafts, also_write=write, cache=self._head)
        return results
