"""The SQLite side of ``gateway.store.dialect.SQLDialect``.

SQLite has no row locks: a writing transaction of the gateway begins with BEGIN IMMEDIATE
(``gateway.store.db``) and holds the database's write lock until it ends, so a claim, a
lock or a check-then-insert inside it cannot race another writer, and the queries go out
unchanged. A reading transaction sees one snapshot (WAL) already.

Every connection runs in WAL mode with ``synchronous=FULL`` (a message is on disk before
intake says "received"), foreign keys on and a 30 s busy timeout; SQLAlchemy, not the
sqlite3 module, decides where transactions begin. The intake writer, which must not doze
in SQLite's busy handler (it sleeps 1, 2, 5, 10, ... ms between tries) while a worker
process finishes a short transaction, polls for the write lock instead (``holding``,
``begin_eagerly``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import time
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import URL, Connection, Engine, Select, String, Subquery, column, event, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gateway.store import driver
from gateway.store.driver import DriverErrors, InsertTarget, UpdateTarget, driver_connection
from gateway.store.models import STORED_MESSAGE_SELECT, FinishedMessage, StoredMessage

__all__ = ["SQLITE", "SQLiteDialect"]

# The columns a batch finish sets, after the id (``FinishedMessage``).
_FINISHED = FinishedMessage._fields[1:]
# One executemany: sqlite3 steps the statement once per row without leaving C.
_FINISH = ("UPDATE messages SET " + ", ".join(f"{c} = ?" for c in _FINISHED)
           + ", locked_by = NULL, locked_until = NULL, updated_at = ? WHERE id = ?")
# Stored messages a batch duplicates: per-column IN lists, not row values (SQLite plans
# ``(a, b) IN (VALUES ...)`` as a full scan but ``a IN (...) AND b IN (...)`` as searches of
# the unique indexes); rows of other combinations are ignored by the caller.
_FOUND = STORED_MESSAGE_SELECT

Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


class SQLiteDialect:
    name = "sqlite"
    locks_rows = False
    remote = False

    def engine_options(self, url: URL) -> dict[str, Any]:
        if not self.process_local(url):
            Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}

    def configure_engine(self, engine: Engine) -> None:
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)

    def process_local(self, url: URL) -> bool:
        return url.database in (None, "", ":memory:")

    @contextlib.contextmanager
    def holding(self, connection: Connection) -> Iterator[None]:
        raw = driver_connection(connection)
        raw.execute("PRAGMA busy_timeout=0")
        try:
            yield
        finally:
            if not connection.invalidated:
                with contextlib.suppress(sqlite3.Error):
                    raw.execute(f"PRAGMA busy_timeout={_BUSY_MS}")

    def begin_eagerly(self, connection: Connection) -> None:
        raw = driver_connection(connection)
        deadline = time.monotonic() + _BUSY_MS / 1000
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or \
                        time.monotonic() > deadline:
                    raise
                time.sleep(0.0002)

    def free_bytes(self, url: URL) -> int | None:
        if self.process_local(url):
            return None
        stats = os.statvfs(Path(str(url.database)).resolve().parent)
        return stats.f_bavail * stats.f_frsize

    def driver_errors(self) -> DriverErrors:
        # A missing file, a full disk, a read-only file and a lock held too long are all
        # OperationalError.
        return DriverErrors(sqlite3.Error, (sqlite3.OperationalError, sqlite3.InterfaceError))

    def json_pairs(self, name: str) -> Subquery:
        return text(f"SELECT json_extract(value, '$[0]') AS a, json_extract(value, '$[1]') "
                    f"AS b FROM json_each(:{name})").columns(
            column("a", String), column("b", String)).subquery()

    def json_values(self, name: str) -> Subquery:
        return text(f"SELECT value FROM json_each(:{name})").columns(
            column("value", String)).subquery()

    def insert_rows(self, cursor: Any, target: InsertTarget,
                    rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        # VALUES lists: one statement of up to MAX_PARAMETERS parameters, its text kept
        # per row count (a few hundred distinct counts at most).
        returned: list[tuple[Any, ...]] = []
        per_statement = max(1, driver.MAX_PARAMETERS // len(target.columns))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            sql = target.texts.get(len(chunk))
            if sql is None:
                sql = target.values_sql(len(chunk))
                if len(target.texts) < 1024:
                    target.texts[len(chunk)] = sql
            cursor.execute(sql, list(itertools.chain.from_iterable(chunk)))
            if target.returning_sql:
                returned += cursor.fetchall()
        return returned

    def update_rows(self, cursor: Any, target: UpdateTarget,
                    rows: Sequence[Sequence[Any]]) -> None:
        # No round trips to save: one prepared statement stepped for each row.
        sql = target.texts.get("by_key")
        if sql is None:
            sql = target.texts["by_key"] = target.by_key_sql()
        cursor.executemany(sql, [(*row[1:], row[0]) for row in rows])

    def pipeline(self, connection: Connection) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    def update_or_fail(self, cursor: Any, qmark_sql: str, params: Sequence[Any]) -> None:
        cursor.execute(qmark_sql, params)
        if cursor.rowcount == 0:
            raise sqlite3.DataError("the expected row was not found: nothing was updated")

    def claimable(self, query: Q) -> Q:
        return query

    def locked(self, query: Q) -> Q:
        return query

    def locking(self, sql: str) -> str:
        return sql

    def insert(self, table: Any) -> Any:
        return sqlite_insert(table)

    def notify(self, session: Session, channel: str, payload: str) -> None:
        return None

    def listener(self, url: URL, channel: str) -> None:
        return None

    def read_snapshot(self, session: Session) -> None:
        return None

    def finish_messages(self, cursor: Any, rows: Sequence[FinishedMessage], *,
                        now: datetime, at: Any) -> None:
        cursor.executemany(_FINISH, [(*(getattr(row, c) for c in _FINISHED), at, row.id)
                                     for row in rows])

    def find_stored(self, cursor: Any, *, partners: Collection[str], digests: Collection[str],
                    senders: Collection[str], controls: Collection[str]
                    ) -> list[StoredMessage]:
        lists = [_padded(list(partners)), _padded(list(digests)), _padded(list(partners)),
                 _padded(list(senders)), _padded(list(controls))]
        marks = [",".join("?" * len(values)) for values in lists]
        sql = (f"{_FOUND}partner_id IN ({marks[0]}) AND payload_sha256 IN ({marks[1]}) "
               f"UNION ALL {_FOUND}partner_id IN ({marks[2]}) AND interchange_sender IN "
               f"({marks[3]}) AND interchange_control IN ({marks[4]})")
        cursor.execute(sql, [v for values in lists for v in values])
        return [StoredMessage(*row) for row in cursor.fetchall()]



SQLITE = SQLiteDialect()

_BUSY_MS = 30000


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # durable before we say "received"
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
    cursor.close()


def _on_begin(connection: Connection) -> None:
    # Writers take the write lock up front; readers (``Database.read``, whose engine has
    # the ``edigate_readonly`` option) must not, or every lookup would queue behind every
    # writer.
    if driver_connection(connection).in_transaction:
        return  # begun by ``begin_eagerly``, lock held
    readonly = connection.get_execution_options().get("edigate_readonly", False)
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _padded(values: list[str]) -> list[str]:
    """``values`` repeated up to a power of two: IN lists of a few lengths keep the SQL
    texts few, so SQLite's statement cache serves them instead of parsing each batch's."""
    size = 1
    while size < len(values):
        size *= 2
    return values + values[-1:] * (size - len(values))
