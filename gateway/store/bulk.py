"""Multi-row INSERT statements for the group-commit write path.

Responsible for writing many rows of one table in ONE statement (``INSERT ... VALUES
(...), (...)``) with SQLAlchemy's own bind processing per column type, so stored values
are byte-for-byte what an ORM or Core insert would store. One statement instead of an
``executemany`` matters on the intake path: the sqlite3 driver releases and re-takes the
GIL for every row it steps, and under load each re-take waits behind the event loop.

It must not be used for anything but plain inserts of known columns (no defaults are
applied here: callers pass every column they want set; the rest are NULL).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

__all__ = ["MultiRowInsert", "pipelined"]

# SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766 (since 3.32), PostgreSQL's 65535.
_MAX_PARAMETERS = 32000


class _Compiled(NamedTuple):
    head: str  # INSERT INTO t (a, b) VALUES
    row: str  # (?, ?)
    tail: str  # ON CONFLICT ... or ""
    processors: Sequence[Callable[[Any], Any] | None]


class MultiRowInsert:
    """``INSERT INTO table (columns) VALUES ...`` for a fixed list of columns."""

    def __init__(self, table: Table, columns: Sequence[str], *,
                 on_conflict_do_nothing: Sequence[str] | None = None) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.conflict = tuple(on_conflict_do_nothing) if on_conflict_do_nothing else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _prepare(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        found = self._by_dialect.get(dialect.name)
        if found is None:
            preparer = dialect.identifier_preparer
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            head = (f"INSERT INTO {preparer.format_table(self.table)} ("
                    + ", ".join(preparer.quote(c) for c in self.columns) + ") VALUES ")
            row = "(" + ", ".join([marker] * len(self.columns)) + ")"
            if self.conflict:
                tail = (" ON CONFLICT (" + ", ".join(preparer.quote(c) for c in self.conflict)
                        + ") DO NOTHING")
            else:
                tail = ""
            processors = [self.table.c[c].type._cached_bind_processor(dialect)
                          for c in self.columns]
            found = _Compiled(head, row, tail, processors)
            self._by_dialect[dialect.name] = found
        return found

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (mappings by column name; missing keys are NULL)."""
        if not rows:
            return
        head, row_sql, tail, processors = self._prepare(connection)
        per_statement = max(1, _MAX_PARAMETERS // len(self.columns))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            params: list[Any] = []
            for values in chunk:
                for name, process in zip(self.columns, processors, strict=True):
                    value = values.get(name)
                    params.append(process(value) if process is not None and value is not None
                                  else value)
            sql = head + ", ".join([row_sql] * len(chunk)) + tail
            connection.exec_driver_sql(sql, tuple(params))


@contextlib.contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """Statements inside are sent without waiting for each answer when the driver can
    (psycopg 3's pipeline mode on PostgreSQL: one network round trip for a batch of
    writes); elsewhere a no-op. Only for statements whose results nobody reads inside."""
    raw = connection.connection.dbapi_connection
    pipeline = getattr(raw, "pipeline", None) if connection.dialect.name == "postgresql" \
        else None
    if pipeline is None:
        yield
        return
    dbapi = connection.dialect.dbapi
    try:
        with pipeline():
            yield
    except dbapi.Error as exc:  # type: ignore[union-attr]
        # Errors of pipelined statements surface here, outside SQLAlchemy's execute: wrap
        # them as it would (a unique violation must stay an IntegrityError for callers).
        raise DBAPIError.instance(None, None, exc, dbapi.Error) from exc  # type: ignore[union-attr]
