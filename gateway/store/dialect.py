"""What the gateway does differently on SQLite and PostgreSQL, behind one small interface.

Responsible for ``SQLDialect``, the operations whose SQL depends on the database (claiming
queued rows, locking rows for the rest of a transaction, inserting rows that may exist
already, reading one consistent snapshot), and ``dialect_of``, which picks the
implementation: ``gateway.store.sqlite`` or ``gateway.store.postgresql``, one module per
database. Callers ask for the operation, never for the database's name, so a third
database would be one more module. ``tests/gateway/test_store_dialects.py`` runs the same
contract cases on both.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import URL, Select
from sqlalchemy.orm import Session

from gateway.store.models import FinishedMessage, StoredMessage
from gateway.store.postgresql import POSTGRESQL
from gateway.store.sqlite import SQLITE

__all__ = ["Q", "SQLDialect", "dialect_of"]

# A SELECT of any row shape: claiming or locking keeps the shape.
Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


class SQLDialect(Protocol):
    """The database-specific operations of the gateway's queues, locks and upserts."""

    name: str
    # Whether SELECT ... FOR UPDATE locks rows. When False (SQLite) a writing transaction
    # holds the database's write lock from its first statement (BEGIN IMMEDIATE), which
    # already keeps every other writer out until it ends.
    locks_rows: bool
    # Whether every statement's answer costs a network round trip (a database server), so
    # that saving a statement on a guess, checked by the database, is worth it.
    remote: bool

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

    def insert(self, table: Any) -> Any:
        """An INSERT construct with ``on_conflict_do_nothing`` for ``table`` (a mapped
        class or a ``Table``)."""
        ...

    def notify(self, session: Session, channel: str, payload: str) -> None:
        """Tell every process listening on ``channel``, on any host, at the commit of
        ``session``'s transaction (never if it rolls back); a no-op where the database
        has no notifications (processes of one host share a stamp file instead)."""
        ...

    def listen_conninfo(self, url: URL) -> str | None:
        """The driver connection string a listener for ``notify`` connects with, or None
        where the database has no notifications."""
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


def dialect_of(name: str) -> SQLDialect:
    """The implementation for a SQLAlchemy dialect name (``sqlite``, ``postgresql``)."""
    found = _DIALECTS.get(name)
    if found is None:
        raise ValueError(f"unsupported database: {name!r} (edigate runs on SQLite and "
                         "PostgreSQL)")
    return found


_DIALECTS: dict[str, SQLDialect] = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
