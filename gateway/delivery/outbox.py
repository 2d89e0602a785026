"""The one leased outbox: every outbound channel's due work, claimed, sent and finished
the same way under one retry policy.

A channel (webhook deliveries, AS2 sends of documents and acknowledgments, asynchronous
MDNs owed to partners) keeps its rows in its own table, each with the outbox columns of
``OutboxRow``, and says through ``Channel`` which rows are pending, what one attempt sends
and what each outcome writes. This module owns the rest, identically for all of them:

- **claim**: the oldest due row (``next_attempt_at`` reached) in its own transaction,
  ``SQLDialect.claimable`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's
  transaction holds the write lock), one more attempt counted, ``locked_by`` set to a
  token of this claim and ``next_attempt_at`` moved to the end of the lease. A worker
  that dies mid-attempt therefore leaves a row that falls due again by itself.
- **resume**: a due row that still carries a token is a lease its worker never reported
  on; the outcome of that attempt is unknown, so it is ledgered as a failed try (or the
  last one) and the row is sent again: delivery is at least once, never lost.
- **finish**: in a second transaction, only while the row still carries this claim's
  token (a late result of a taken-over claim changes nothing): done, retried after
  ``backoff`` (or the receiver's longer ``Retry-After``, up to the backoff's cap), or
  given up (failed or dead, for an operator) — at once when the error is
  final (the egress policy refuses the URL, the configuration cannot work), else after
  ``Settings.outbox_max_attempts`` tries. Every transition is a ledger entry in the same
  transaction; the channel names the events.
- **claim_job**: what ``gateway.runtime.workers`` dispatches on the ``OutboundPool``.

An attempt's lease must outlast its deadline, else another worker could send the same
item while this one still waits: the egress deadline is at most half the lease.
It must not know what a channel sends, nor about FastAPI.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.delivery.egress import Destination, Egress, Job
from gateway.ledger.chain import Ledger
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.db import Database

__all__ = [
    "Channel",
    "Claimed",
    "Outbox",
    "OutboxRow",
    "Outcome",
    "Undeliverable",
    "backoff",
    "retry_after",
]

log = logging.getLogger("edigate.outbox")

_ERROR_MAX = 4000


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try, for every channel: base, 2 base,
    4 base, ... (``outbox_backoff_seconds``), never more than ``outbox_backoff_cap_seconds``.

    No jitter: retries of different items already spread with their creation times, and a
    deterministic schedule is what an operator (and a test) can reason about.
    """
    seconds = settings.outbox_backoff_seconds * 2.0 ** min(max(attempts - 1, 0), 40)
    return timedelta(seconds=min(seconds, settings.outbox_backoff_cap_seconds))


_LONGEST_WAIT = 10 * 365 * 86400


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """The wait a ``Retry-After`` header asks for (RFC 9110 section 10.2.3: a number of
    seconds, or an HTTP date), None when there is none or it cannot be read; a date in the
    past asks for no wait."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # Beyond any cap the outbox applies, and within what a timedelta holds.
        return timedelta(seconds=min(int(text), _LONGEST_WAIT))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": a date in UTC
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


class OutboxRow(Protocol):
    """The columns every outbox table has. While a claim is out, ``locked_by`` is its token
    and ``next_attempt_at`` the end of its lease."""

    @property
    def id(self) -> str: ...

    @property
    def attempts(self) -> int: ...

    @attempts.setter
    def attempts(self, value: int) -> None: ...

    # A datetime; nullable where the table also holds rows that are no outbox work.
    next_attempt_at: Any

    @property
    def locked_by(self) -> str | None: ...

    @locked_by.setter
    def locked_by(self, value: str | None) -> None: ...

    @property
    def last_error(self) -> str | None: ...

    @last_error.setter
    def last_error(self, value: str | None) -> None: ...


class Undeliverable(Exception):
    """Raised by ``Channel.prepare``: this row can never be sent as it is (its subscription
    is gone, the partner has no usable profile or certificate, ...). The row is given up
    at once, with this message as its one-line error; nothing is retried."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt: ``error`` None when it succeeded; ``final`` when sending
    again cannot help (give up now, whatever the attempts left); ``detail`` is the
    channel's own (a status code, an AS2 send result), passed back to its hooks;
    ``wait`` the least wait before the next try the receiver asked for (its
    ``Retry-After``)."""

    error: str | None = None
    final: bool = False
    detail: Any = None
    wait: timedelta | None = None


R = TypeVar("R", bound=OutboxRow)
W = TypeVar("W")


@dataclass(frozen=True, slots=True)
class Claimed(Generic[W]):
    """One claimed attempt: the row, this claim's token, the attempt number, where it goes
    and what the channel prepared to send."""

    row_id: str
    token: str
    number: int
    destination: Destination
    work: W


class Channel(ABC, Generic[R, W]):
    """What differs per outbound channel; see the module docstring for what does not.

    Hooks that take a ``session`` run inside the outbox's transaction with the row
    locked; they set the channel's own status columns and append its ledger entries.
    ``attempt`` is the number of the try the entry is about.
    """

    model: type[R]
    #: For the log and the egress's User-Agent.
    name: str = "outbox"
    user_agent: str = "edigate"

    @abstractmethod
    def pending(self) -> ColumnElement[bool]:
        """The rows of ``model`` that wait for an attempt (due or not)."""

    def order(self) -> tuple[InstrumentedAttribute[Any], ...]:
        """Tie-breakers after ``next_attempt_at`` (oldest first)."""
        return (self.model.id,)  # type: ignore[return-value]

    def skip_busy(self, session: Session, query: Select[R],
                  busy: Collection[Destination]) -> Select[R]:
        """``query`` without the rows bound for ``busy`` destinations."""
        return query

    @abstractmethod
    def prepare(self, session: Session, row: R) -> tuple[Destination, W]:
        """Where the attempt goes and what it sends; ``Undeliverable`` when it never can."""

    @abstractmethod
    def send(self, work: W, egress: Egress, at: datetime) -> Outcome:
        """One attempt, outside any transaction; every failure is an ``Outcome``."""

    @abstractmethod
    def succeeded(self, session: Session, row: R, attempt: int, outcome: Outcome,
                  at: datetime, actor: str) -> None: ...

    @abstractmethod
    def retrying(self, session: Session, row: R, attempt: int, outcome: Outcome,
                 actor: str) -> None:
        """A failed try with another to come at ``row.next_attempt_at``."""

    @abstractmethod
    def gave_up(self, session: Session, row: R, attempt: int, outcome: Outcome,
                actor: str) -> None:
        """The terminal failure: set the row's status to failed/dead and ledger it."""

    def state(self, row: R) -> str:
        """The row's status after a finish, as ``Outbox.send`` returns it."""
        return str(getattr(row, "status", ""))


class Outbox(Generic[R, W]):
    """Works one channel's rows: claim, send, finish (see the module docstring).

    Thread-safe: :meth:`claim` and :meth:`send` of different attempts may run on different
    threads at once (``gateway.runtime.workers`` claims on one thread and sends on a pool's),
    each claim carrying its own token. ``now`` (every method takes it) replaces the clock,
    so tests can walk the retry schedule; by default it is the current time.
    """

    def __init__(self, channel: Channel[R, W], db: Database, ledger: Ledger,
                 settings: Settings, *, lease: timedelta | None = None,
                 worker: str | None = None, timeout: float | None = None) -> None:
        self.channel = channel
        self.db = db
        self.ledger = ledger
        self.settings = settings
        self.lease = lease or timedelta(seconds=settings.lease_seconds)
        self.worker = (worker or f"{channel.name}:{settings.worker_id}")[:120]
        self.max_attempts = settings.outbox_max_attempts
        deadline = self.lease.total_seconds() / 2
        self.egress = Egress.from_settings(
            settings, user_agent=channel.user_agent,
            deadline_seconds=min(deadline, timeout) if timeout is not None else deadline)

    def close(self) -> None:
        self.egress.close()

    def __enter__(self) -> Outbox[R, W]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def run_once(self, now: datetime | None = None, *, limit: int = 100) -> int:
        """Attempt due items one after the other until none is left (or ``limit``); how
        many were tried."""
        tried = 0
        while tried < limit:
            claimed = self.claim(now)
            if claimed is None:
                break
            self.send(claimed, now)
            tried += 1
        return tried

    def claim_job(self, busy: Collection[Destination] = (), now: datetime | None = None
                  ) -> Job | None:
        """For ``gateway.delivery.egress.OutboundPool``: claim an attempt not bound for
        ``busy`` destinations, and the call that sends it."""
        claimed = self.claim(now, busy=busy)
        if claimed is None:
            return None
        return claimed.destination, lambda: self.send(claimed, now)

    def claim(self, now: datetime | None = None, *,
              busy: Collection[Destination] = ()) -> Claimed[W] | None:
        """Take the next due row for one attempt, or None when nothing is due. A lost
        lease is resumed; a row that can never be sent is given up on the way."""
        model = self.channel.model
        while True:
            at = now or utcnow()
            with self.db.transaction() as session:
                query = (select(model)
                         .where(self.channel.pending(), model.next_attempt_at <= at)
                         .order_by(model.next_attempt_at, *self.channel.order())
                         .limit(1))
                if busy:
                    query = self.channel.skip_busy(session, query, busy)
                row = session.scalars(self.db.dialect.claimable(query)).first()
                if row is None:
                    return None
                if row.locked_by is not None and not self._resume_lost(session, row, at):
                    continue
                try:
                    target, work = self.channel.prepare(session, row)
                except Undeliverable as exc:
                    self._give_up(session, row, row.attempts, Outcome(str(exc), final=True))
                    continue
                row.attempts += 1
                row.locked_by = f"{uuid.uuid4().hex[:12]}@{self.worker}"[:120]
                row.next_attempt_at = at + self.lease
                return Claimed(row.id, row.locked_by, row.attempts, target, work)

    def _resume_lost(self, session: Session, row: R, at: datetime) -> bool:
        """Record the attempt whose worker never reported; False when that was the last."""
        outcome = Outcome(f"no result from {row.locked_by} before its lease ended: the "
                          "outcome is unknown")
        row.locked_by = None
        row.last_error = outcome.error
        if row.attempts >= self.max_attempts:
            self._give_up(session, row, row.attempts, outcome)
            return False
        row.next_attempt_at = at
        self.channel.retrying(session, row, row.attempts, outcome, self.worker)
        return True

    def send(self, claimed: Claimed[W], now: datetime | None = None) -> str:
        """Make one claimed attempt and record its outcome; the row's new status (or
        ``"lost"`` when the claim was taken over meanwhile and nothing is recorded)."""
        try:
            outcome = self.channel.send(claimed.work, self.egress, now or utcnow())
        except Exception as exc:  # a bug of ours: the row is retried, the trace kept
            log.exception("%s %s: attempt %d failed", self.channel.name, claimed.row_id,
                          claimed.number)
            outcome = Outcome(f"{type(exc).__name__}: {exc}")
        return self.finish(claimed, outcome, now or utcnow())

    def finish(self, claimed: Claimed[W], outcome: Outcome, at: datetime) -> str:
        """Record ``outcome`` of a claimed attempt (see ``send``)."""
        with self.db.transaction() as session:
            row = session.get(self.channel.model, claimed.row_id,
                              with_for_update=self.db.dialect.locks_rows)
            if row is None or row.locked_by != claimed.token:
                log.warning("%s %s: attempt %d finished after its lease was taken over",
                            self.channel.name, claimed.row_id, claimed.number)
                return "lost"
            row.locked_by = None
            row.last_error = outcome.error[:_ERROR_MAX] if outcome.error else None
            if outcome.error is None:
                self.channel.succeeded(session, row, claimed.number, outcome, at, self.worker)
            elif outcome.final or row.attempts >= self.max_attempts:
                self._give_up(session, row, claimed.number, outcome)
            else:
                row.next_attempt_at = at + self._wait(row.attempts, outcome.wait)
                self.channel.retrying(session, row, claimed.number, outcome, self.worker)
            return self.channel.state(row)

    def _wait(self, attempts: int, asked: timedelta | None) -> timedelta:
        """The wait before the next try: the backoff, or longer where the receiver asked
        for longer (its ``Retry-After``), but never past the backoff's cap, so that a
        receiver cannot park an item for days."""
        wait = backoff(self.settings, attempts)
        if asked is not None:
            cap = timedelta(seconds=self.settings.outbox_backoff_cap_seconds)
            wait = max(wait, min(asked, cap))
        return wait

    def _give_up(self, session: Session, row: R, attempt: int, outcome: Outcome) -> None:
        row.locked_by = None
        row.last_error = outcome.error[:_ERROR_MAX] if outcome.error else None
        if outcome.final:
            # One located line: the cause is a setting or a profile, not this attempt, and
            # a traceback would say nothing more.
            log.error("%s %s: given up after %d attempt(s): %s", self.channel.name, row.id,
                      attempt, outcome.error)
        self.channel.gave_up(session, row, attempt, outcome, self.worker)
