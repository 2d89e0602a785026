"""The SQLite side of ``gateway.store.dialect.SQLDialect``.

SQLite has no row locks: a writing transaction of the gateway begins with BEGIN IMMEDIATE
(``gateway.store.db``) and holds the database's write lock until it ends, so a claim, a
lock or a check-then-insert inside it cannot race another writer, and the queries go out
unchanged. A reading transaction sees one snapshot (WAL) already.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import URL, Select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

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

    def listen_conninfo(self, url: URL) -> str | None:
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


def _padded(values: list[str]) -> list[str]:
    """``values`` repeated up to a power of two: IN lists of a few lengths keep the SQL
    texts few, so SQLite's statement cache serves them instead of parsing each batch's."""
    size = 1
    while size < len(values):
        size *= 2
    return values + values[-1:] * (size - len(values))
