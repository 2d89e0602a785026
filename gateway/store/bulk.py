"""Multi-row INSERT statements and driver cursors for the group-commit write path.

Responsible for writing many rows of one table in ONE statement (``INSERT ... VALUES
(...), (...)``) with SQLAlchemy's own bind processing per column type, so stored values
are byte-for-byte what an ORM or Core insert would store. One statement instead of an
``executemany`` matters on the intake path: the sqlite3 driver releases and re-takes the
GIL for every row it steps, and under load each re-take waits behind the event loop.

Two levels: ``MultiRowInsert`` takes rows as mappings and runs every value through its
column type's bind processor; ``RawInsert`` takes rows as tuples that are already what the
driver binds (plain ``str``/``int``/``bytes``/``None``, and values of other types made once
with ``RawInsert.bind``) and runs them on a driver cursor from ``driver_cursor``. The intake
writer uses the raw level: SQLAlchemy's statement execution and per-value processing cost
more than the rest of storing a message.

It must not be used for anything but plain inserts of known columns (no defaults are
applied here: callers pass every column they want set; the rest are NULL).
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, DateTime, Dialect, LargeBinary, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine

__all__ = ["MultiRowInsert", "RawInsert", "driver_cursor", "pipelined"]

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
            head, row, tail = _insert_parts(dialect, self.table, self.columns, self.conflict)
            processors = [_bind_processor(self.table.c[c].type, dialect)
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


class RawInsert:
    """``INSERT INTO table (columns) VALUES ...`` on a driver cursor, for rows given as
    tuples of driver-ready values in ``columns`` order.

    A value is driver-ready when the column type has no bind processor for the dialect
    (strings, integers) or when it is ``bytes`` for a binary column (the processor only
    wraps it); anything else (datetimes) must go through ``bind`` first, which applies the
    column type's own processor, so the stored value is the one Core would store. Callers
    bind a value shared by many rows (the batch's timestamp) once.
    """

    def __init__(self, table: Table, columns: Sequence[str], *,
                 on_conflict_do_nothing: Sequence[str] | None = None) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.conflict = tuple(on_conflict_do_nothing) if on_conflict_do_nothing else None
        self._sql: dict[tuple[str, int], str] = {}
        self._parts: dict[str, tuple[str, str, str]] = {}
        self._json: tuple[tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]] | None \
            = None

    def bind(self, dialect: Dialect, column: str, value: Any) -> Any:
        """``value`` as the driver binds it for ``column`` (the column type's processor)."""
        process = _bind_processor(self.table.c[column].type, dialect)
        return process(value) if process is not None and value is not None else value

    def _json_columns(self, dialect: Dialect
                      ) -> tuple[tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]:
        if self._json is None:
            self._json = (self.columns, tuple(_json_converter(self.table.c[c].type)
                                              for c in self.columns))
        return self._json

    def statement(self, dialect: Dialect, rows: int) -> str:
        """The SQL text for ``rows`` rows (cached per dialect and row count; on PostgreSQL
        one text for any number of rows, see ``execute``)."""
        key = (dialect.name, 0 if dialect.name == "postgresql" else rows)
        sql = self._sql.get(key)
        if sql is None:
            parts = self._parts.get(dialect.name)
            if parts is None:
                parts = self._parts[dialect.name] = _insert_parts(
                    dialect, self.table, self.columns, self.conflict)
            head, row, tail = parts
            if dialect.name == "postgresql":
                names = head[head.index("(") + 1:head.rindex(")")]
                table = dialect.identifier_preparer.format_table(self.table)
                sql = head.replace(" VALUES ", f" SELECT {names} FROM json_populate_recordset"
                                   f"(NULL::{table}, %s::json)") + tail
            else:
                sql = head + ", ".join([row] * rows) + tail
            if len(self._sql) < 1024:
                self._sql[key] = sql
        return sql

    def execute(self, cursor: Any, dialect: Dialect, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` through ``cursor`` (several statements if the parameters of one
        would exceed what a statement may bind)."""
        if not rows:
            return
        if dialect.name == "postgresql":
            # The rows as ONE json parameter (``INSERT ... SELECT ... FROM
            # json_populate_recordset(NULL::table, %s)``): a fixed text that psycopg parses
            # once and prepares, and one C-encoded string to send. A VALUES list of rows x
            # columns placeholders is parsed anew for every batch (psycopg caches queries
            # of up to 50 parameters) and arrays a column are escaped element by element in
            # Python (bench/README.md has the cost). Each value goes through
            # the column type's input function, so a string too long for its varchar fails
            # as in a plain insert.
            names, convert = self._json_columns(dialect)
            document = _JSON.encode([
                {name: value if to_json is None or value is None else to_json(value)
                 for name, to_json, value in zip(names, convert, row, strict=True)}
                for row in rows])
            cursor.execute(self.statement(dialect, len(rows)), (document,))
            return
        per_statement = max(1, _MAX_PARAMETERS // len(self.columns))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            cursor.execute(self.statement(dialect, len(chunk)),
                           list(itertools.chain.from_iterable(chunk)))


def _bytea_text(value: bytes) -> str:
    return "\\x" + value.hex()  # bytea's hex input format


def _json_converter(column_type: Any) -> Callable[[Any], Any] | None:
    """How a driver value of a column travels in JSON to ``json_populate_recordset``:
    bytes as bytea's hex text, datetimes as ISO 8601 (microseconds and offset kept);
    strings, numbers and None as they are."""
    python_type = getattr(column_type, "impl", column_type)
    if isinstance(python_type, LargeBinary):
        return _bytea_text
    if isinstance(python_type, DateTime):
        return datetime.isoformat
    return None


_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _insert_parts(dialect: Dialect, table: Table, columns: Sequence[str],
                  conflict: Sequence[str] | None) -> tuple[str, str, str]:
    preparer = dialect.identifier_preparer
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    head = (f"INSERT INTO {preparer.format_table(table)} ("
            + ", ".join(preparer.quote(c) for c in columns) + ") VALUES ")
    row = "(" + ", ".join([marker] * len(columns)) + ")"
    tail = (" ON CONFLICT (" + ", ".join(preparer.quote(c) for c in conflict)
            + ") DO NOTHING") if conflict else ""
    return head, row, tail


def _bind_processor(column_type: TypeEngine[Any], dialect: Dialect
                    ) -> Callable[[Any], Any] | None:
    """What SQLAlchemy applies to a value of ``column_type`` before the driver binds it on
    ``dialect`` (None: nothing), through its public API. The inserts here call it once per
    column and dialect; ``tests/gateway/test_bulk.py`` pins the stored values to a Core
    insert's, so a change in the library fails a test rather than a write."""
    return column_type.dialect_impl(dialect).bind_processor(dialect)


@contextlib.contextmanager
def driver_cursor(connection: Connection) -> Iterator[Any]:
    """A cursor of the driver connection under ``connection``, in its transaction.

    Statements on it skip SQLAlchemy's execution machinery (a fixed cost per statement);
    the driver's errors are raised as SQLAlchemy's (a unique violation is an
    ``IntegrityError`` as usual), so callers handle them in one way whichever level ran
    the statement.
    """
    raw = connection.connection.dbapi_connection
    assert raw is not None
    dbapi = connection.dialect.dbapi
    cursor = raw.cursor()
    try:
        yield cursor
    except dbapi.Error as exc:  # type: ignore[union-attr]
        raise DBAPIError.instance(None, None, exc, dbapi.Error,  # type: ignore[union-attr]
                                  dialect=connection.dialect) from exc
    finally:
        cursor.close()


@contextlib.contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """Statements inside are sent without waiting for each answer when the driver can
    (psycopg 3's pipeline mode on PostgreSQL: one network round trip for a batch of
    writes); elsewhere a no-op.

    Reading a result inside (``fetchall``) sends what is queued and waits for it. A
    transaction begun inside queues its BEGIN with the first statement, and one committed
    inside sends its COMMIT with the writes queued before it: the intake writer's batch
    costs three round trips (BEGIN and the lookup, the ledger head lock, the writes and
    the COMMIT) instead of five, and one while the writer is the ledger's lone appender
    (``gateway.ledger.chain.HeadCache``).

    A transaction begun inside that fails there is rolled back on the way out. The error
    of a queued statement may surface only at the COMMIT, or at a later sync, after the
    transaction's owner has given up on it; the server skips everything queued after an
    error until the pipeline's next sync, a ROLLBACK included, so the connection would
    stay in the aborted transaction and fail its next one."""
    raw = connection.connection.dbapi_connection
    pipeline = getattr(raw, "pipeline", None) if connection.dialect.name == "postgresql" \
        else None
    if pipeline is None or raw.pgconn.pipeline_status:  # type: ignore[union-attr]
        # Not PostgreSQL, or already inside a pipeline: an inner one would end in a sync
        # (a round trip) where the outer one may still queue more, the COMMIT included.
        yield
        return
    dbapi = connection.dialect.dbapi
    # Only a transaction begun inside is this block's to end; one open before it belongs
    # to the caller, who rolls it back.
    outside = raw.info.transaction_status != _IDLE  # type: ignore[union-attr]
    try:
        with pipeline():
            yield
    except BaseException as exc:
        if not outside and raw.info.transaction_status != _IDLE:  # type: ignore[union-attr]
            with contextlib.suppress(Exception):  # a broken connection fails what follows
                raw.rollback()  # type: ignore[union-attr]
        if isinstance(exc, dbapi.Error):  # type: ignore[union-attr]
            # Errors of pipelined statements surface here, outside SQLAlchemy's execute:
            # wrap them as it would (a unique violation must stay an IntegrityError).
            raise DBAPIError.instance(None, None, exc, dbapi.Error) from exc  # type: ignore[union-attr]
        raise


_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE
