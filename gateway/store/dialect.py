"""What the gateway does differently on SQLite and PostgreSQL, behind one small interface.

Responsible for ``SQLDialect``, the operations whose SQL or driver use depends on the
database (setting up the engine and its connections, taking the write lock, claiming
queued rows, locking rows for the rest of a transaction, inserting rows that may exist
already, bulk inserts and pipelining on the driver, reading one consistent snapshot, the
driver's errors), and ``dialect_of`` / ``dialect_for``, which pick the implementation:
``gateway.store.sqlite`` or ``gateway.store.postgresql``, one module per database. Callers
ask for the operation, never for the database's name, so a third database would be one
more module. ``tests/gateway/test_store_dialects.py`` runs the same contract cases on both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import URL, Connection, Dialect, Engine, Select, Subquery
from sqlalchemy.orm import Session

from gateway.store.driver import DriverErrors, InsertTarget, UpdateTarget
from gateway.store.models import FinishedMessage, StoredMessage
from gateway.store.postgresql import POSTGRESQL
from gateway.store.sqlite import SQLITE

__all__ = ["DriverErrors", "Listening", "Q", "SQLDialect", "dialect_for", "dialect_of",
           "driver_errors"]

# A SELECT of any row shape: claiming or locking keeps the shape.
Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


class Listening(Protocol):
    """An open connection listening on one channel; a context manager that closes it."""

    def __enter__(self) -> Listening: ...

    def __exit__(self, *exc: object) -> None: ...

    def wait(self, timeout: float) -> int:
        """The number of notifications received within ``timeout`` seconds (0 when none);
        raises when the connection is broken, so that the caller connects again."""
        ...


class SQLDialect(Protocol):
    """The database-specific operations of the gateway's engine, queues, locks, upserts
    and bulk writes."""

    name: str
    # Whether SELECT ... FOR UPDATE locks rows. When False (SQLite) a writing transaction
    # holds the database's write lock from its first statement (BEGIN IMMEDIATE), which
    # already keeps every other writer out until it ends.
    locks_rows: bool
    # Whether every statement's answer costs a network round trip (a database server), so
    # that saving a statement on a guess, checked by the database, is worth it.
    remote: bool

    # -- the engine and its connections (``gateway.store.db.Database``)

    def engine_options(self, url: URL) -> dict[str, Any]:
        """Keyword arguments of ``create_engine`` for ``url``; prepares what the database's
        location needs (the directory of a SQLite file)."""
        ...

    def configure_engine(self, engine: Engine) -> None:
        """Set up every connection ``engine`` opens and every transaction it begins as the
        gateway needs them (SQLite: WAL, durable commits, foreign keys, a writing
        transaction takes the write lock at BEGIN)."""
        ...

    def process_local(self, url: URL) -> bool:
        """Whether the database at ``url`` exists in this process only (no other process,
        such as an intake writer child, can open it)."""
        ...

    def holding(self, connection: Connection) -> AbstractContextManager[None]:
        """``connection`` kept by one thread for a stream of short write transactions,
        each begun with ``begin_eagerly``: while held, nothing waits in the driver for the
        write lock (``begin_eagerly`` polls for it instead)."""
        ...

    def begin_eagerly(self, connection: Connection) -> None:
        """Begin a writing transaction on ``connection`` that holds the database's write
        lock from now on, polling for it every 0.2 ms for up to 30 s while another process
        holds it (under ``holding``); nothing where writers take row locks as they go. The
        caller then opens ``connection.begin()``, which takes this transaction over."""
        ...

    def free_bytes(self, url: URL) -> int | None:
        """Bytes an unprivileged writer may still use where the database at ``url`` keeps
        its data, or None where the gateway cannot tell (a server reports a full disk as a
        failed write; an in-memory database)."""
        ...

    def driver_errors(self) -> DriverErrors:
        """The driver's exception classes (imported when asked for, not before)."""
        ...

    # -- the work queue and locks

    def claimable(self, query: Q) -> Q:
        """``query`` over queued rows as a claim runs it: rows another transaction is
        claiming are skipped, not waited for, and the rows found stay locked."""
        ...

    def locked(self, query: Q) -> Q:
        """``query`` with its rows locked until the transaction ends."""
        ...

    def locking(self, sql: str) -> str:
        """A plain ``SELECT`` statement's text with its rows locked until the transaction
        ends (for statements sent on a driver cursor, where ``locked`` cannot apply)."""
        ...

    def json_pairs(self, name: str) -> Subquery:
        """The rows (columns ``a`` and ``b``, text) of the JSON array of two-element
        arrays bound to the parameter ``name`` as text: a statement that names rows by
        such pairs has one text however many there are (it is built, and prepared by
        the driver, once)."""
        ...

    def json_values(self, name: str) -> Subquery:
        """The rows (column ``value``, text) of the JSON array of strings bound to the
        parameter ``name`` as text: ``json_pairs`` for rows named by one value."""
        ...

    # -- writes on driver cursors (``gateway.store.bulk``, the intake store, the ledger)

    def insert_rows(self, cursor: Any, target: InsertTarget,
                    rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Insert ``rows`` (driver-ready values in ``target.columns`` order, at least one
        row) through ``cursor``, a driver cursor, in as few statements as the database
        allows; stored values and errors (a string too long for its column, a unique
        violation not skipped by ``target``) are those of a plain INSERT of each row. The
        driver's values of ``target``'s RETURNING columns for each row inserted (none
        without a RETURNING clause; reading them waits for the answer)."""
        ...

    def update_rows(self, cursor: Any, target: UpdateTarget,
                    rows: Sequence[Sequence[Any]]) -> None:
        """Update the rows of ``target``'s table found by its key (each row: driver-ready
        values, the key's first, at least one row, no key twice) through ``cursor``, a
        driver cursor, in as few statements as the database allows; stored values and
        errors are those of a plain UPDATE of each row. A key that matches no row updates
        nothing. The answer need not be waited for (inside ``pipeline``)."""
        ...

    def pipeline(self, connection: Connection) -> AbstractContextManager[None]:
        """Statements sent on ``connection``'s driver cursors inside go out without waiting
        for each answer where the driver can (one network round trip for a batch of
        writes); elsewhere a no-op. Reading a result inside sends what is queued and waits
        for it. A transaction begun inside and failing there is rolled back on the way
        out; the driver's errors leave it as SQLAlchemy's (``sqlalchemy_error``)."""
        ...

    def update_or_fail(self, cursor: Any, qmark_sql: str, params: Sequence[Any]) -> None:
        """Run ``qmark_sql``, an UPDATE whose WHERE states what the caller expects (``?``
        for each parameter and nowhere else), on the driver ``cursor``; when it matches no
        row, the statement fails (``sqlalchemy.exc.DataError`` on the way out of
        ``driver_cursor`` or ``pipeline``) and with it the transaction. The answer need
        not be waited for: inside ``pipeline`` the failure may surface at the commit."""
        ...

    def insert(self, table: Any) -> Any:
        """An INSERT construct with ``on_conflict_do_nothing`` for ``table`` (a mapped
        class or a ``Table``)."""
        ...

    def notify(self, session: Session, channel: str, payload: str) -> None:
        """Tell every process listening on ``channel``, on any host, at the commit of
        ``session``'s transaction (never if it rolls back); a no-op where the database
        has no notifications (processes of one host share a stamp file instead)."""
        ...

    def listener(self, url: URL, channel: str) -> Callable[[], Listening] | None:
        """What opens a connection that receives ``notify``'s messages on ``channel`` (of
        the database at ``url``), or None where the database has no notifications."""
        ...

    def read_snapshot(self, session: Session) -> None:
        """Make ``session``'s transaction, not yet begun, read one consistent snapshot and
        write nothing (the ledger's verify)."""
        ...

    def finish_messages(self, cursor: Any, rows: Sequence[FinishedMessage], *,
                        now: datetime, at: Any) -> None:
        """Set each row's columns on its message, release its claim and stamp it updated
        at ``now`` (``at``: the same time as the driver binds it), on a driver cursor of
        the batch's transaction (``gateway.store.bulk.driver_cursor``)."""
        ...

    def find_stored(self, cursor: Any, *, partners: Collection[str], digests: Collection[str],
                    senders: Collection[str], controls: Collection[str]
                    ) -> list[StoredMessage]:
        """Stored messages a batch may duplicate (intake's lookup, on a driver cursor): those
        of ``partners`` with one of ``digests``, or with one of ``senders`` and one of
        ``controls``. It may return rows of other combinations too: the caller matches
        each message's own keys."""
        ...


def dialect_for(bind: Dialect | Connection | Engine | Session) -> SQLDialect:
    """The implementation for what ``bind`` runs on (a session's bind, a connection, an
    engine or SQLAlchemy's dialect)."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return dialect_of((bind if isinstance(bind, Dialect) else bind.dialect).name)


def driver_errors() -> tuple[DriverErrors, ...]:
    """The exception classes of every supported database's driver."""
    return tuple(dialect.driver_errors() for dialect in _DIALECTS.values())


def dialect_of(name: str) -> SQLDialect:
    """The implementation for a SQLAlchemy dialect name (``sqlite``, ``postgresql``)."""
    found = _DIALECTS.get(name)
    if found is None:
        raise ValueError(f"unsupported database: {name!r} (edigate runs on SQLite and "
                         "PostgreSQL)")
    return found


_DIALECTS: dict[str, SQLDialect] = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
