"""Multi-row INSERT (and UPDATE) statements and driver cursors for the write paths that
store a batch at a time: intake's group commit, the batch finish, the order book.

Responsible for writing many rows of one table in ONE statement with SQLAlchemy's own
bind processing per column type, so stored values are byte-for-byte what an ORM or Core
insert would store. One statement instead of an ``executemany`` matters on the intake
path: a driver that steps an ``executemany`` row by row from Python releases and re-takes
the GIL for every row, and under load each re-take waits behind the event loop.

Two levels: ``MultiRowInsert`` takes rows as mappings and runs every value through its
column type's bind processor; ``RawInsert`` takes rows as named tuples (one NamedTuple type
per insert, whose field names are the columns) of values that are already what the driver
binds (plain ``str``/``int``/``bytes``/``None``, and values of other types made once with
``RawInsert.bind``). Both run on a driver cursor from ``driver_cursor``, and how the rows
travel to the database is the dialect's (``SQLDialect.insert_rows``). The intake writer
uses the raw level: SQLAlchemy's statement execution and per-value processing cost more
than the rest of storing a message.

It must not be used for anything but plain inserts of known columns (no defaults are
applied here: callers pass every column they want set; the rest are NULL), optionally
skipping or replacing the row of a unique key that exists, and ``MultiRowUpdate``'s
updates of known columns by key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import Connection, Dialect, LargeBinary, Select, Table
from sqlalchemy.types import TypeEngine

from gateway.store.dialect import dialect_for
from gateway.store.driver import InsertTarget, UpdateTarget, driver_cursor

__all__ = ["MultiRowInsert", "MultiRowUpdate", "RawInsert", "RawSelect", "Write",
           "driver_cursor", "pipelined"]

# Writes that need no answer, run on a connection: a caller collects them to send several
# in one ``pipelined`` block (one round trip on PostgreSQL) instead of one each.
Write = Callable[[Connection], None]

class MultiRowInsert:
    """``INSERT INTO table (columns) ...`` of rows given as mappings by column name, every
    value run through its column type's bind processor, then sent as ``RawInsert`` sends
    its rows (``SQLDialect.insert_rows``: a fixed statement text on PostgreSQL, VALUES
    lists on SQLite). A row whose ``on_conflict_do_nothing`` key exists is skipped; one
    whose ``on_conflict_replace`` key exists replaces that row's other columns; one whose
    ``on_conflict_keep`` key exists leaves that row as it is, locked for the transaction
    (no two rows of one call may share the key).
    ``returning`` columns come back as Core would give them (each through its column
    type's result processor)."""

    def __init__(self, table: Table, columns: Sequence[str], *,
                 on_conflict_do_nothing: Sequence[str] | None = None,
                 on_conflict_replace: Sequence[str] | None = None,
                 on_conflict_keep: Sequence[str] | None = None,
                 returning: Sequence[str] | None = None) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.conflict = tuple(on_conflict_do_nothing) if on_conflict_do_nothing else None
        self.replace = tuple(on_conflict_replace) if on_conflict_replace else None
        self.keep = tuple(on_conflict_keep) if on_conflict_keep else None
        self.returning = tuple(returning) if returning else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _prepare(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            target = InsertTarget.of(dialect, self.table, self.columns, self.conflict,
                                     self.returning, replace=self.replace, keep=self.keep)
            found = self._by_dialect[dialect.name] = _Compiled(
                target, _processed(self.table, self.columns, dialect),
                _results((self.table.c[c].type for c in self.returning or ()), dialect))
        return found

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]
                ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` (mappings by column name; missing keys are NULL); the driver's
        values of the ``returning`` columns of each row inserted (none without them)."""
        if not rows:
            return []
        target, processed, results = self._prepare(connection.dialect)
        values = [_converted(list(map(row.get, self.columns)), processed) for row in rows]
        with driver_cursor(connection) as cursor:
            returned = dialect_for(connection.dialect).insert_rows(cursor, target, values)
        if results:
            returned = [tuple(_converted(list(row), results)) for row in returned]
        return returned


# The positions in a row of the columns whose type has a bind processor, each with it.
_Processed = tuple[tuple[int, Callable[[Any], Any]], ...]


class _Compiled(NamedTuple):
    target: InsertTarget
    processed: _Processed
    results: _Processed  # the returning columns' result processors, by position


def _processed(table: Table, columns: Sequence[str], dialect: Dialect) -> _Processed:
    """The columns (by position) with a ``_bind_processor`` on ``dialect``, and theirs:
    most columns (text, numbers) have none, and their values are bound as they are."""
    found = ((n, _bind_processor(table.c[c].type, dialect)) for n, c in enumerate(columns))
    return tuple((n, process) for n, process in found if process is not None)


def _results(types: Iterable[TypeEngine[Any]], dialect: Dialect) -> _Processed:
    """The columns (by position, of these ``types``) whose driver values SQLAlchemy
    converts when it reads them on ``dialect`` (a datetime stored as text on SQLite),
    each with its converter."""
    found = ((n, column_type.dialect_impl(dialect).result_processor(dialect, None))
             for n, column_type in enumerate(types))
    return tuple((n, process) for n, process in found if process is not None)


def _converted(values: list[Any], processed: _Processed) -> list[Any]:
    """A row's values (a list of the row's own, changed in place), each through its
    column's processor (None stays None): as the driver binds them (bind processors),
    or as Core reads them back (result processors)."""
    for position, process in processed:
        value = values[position]
        if value is not None:
            values[position] = process(value)
    return values


class MultiRowUpdate:
    """``UPDATE table SET columns WHERE key = ...`` of rows given as mappings by column
    name (the key and every column, nothing else: an update does not guess a missing
    value, nor drop one it has no column for), every value run
    through its column type's bind processor, in as few statements as the dialect sends
    them (``SQLDialect.update_rows``: one on PostgreSQL, a prepared statement stepped per
    row on SQLite). No two rows may name the same key."""

    def __init__(self, table: Table, key: str, columns: Sequence[str]) -> None:
        self.table = table
        self.key = key
        self.columns = tuple(columns)
        self._by_dialect: dict[str, tuple[UpdateTarget, _Processed]] = {}

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Update the rows named by ``rows``' keys to their values."""
        if not rows:
            return
        dialect = connection.dialect
        found = self._by_dialect.get(dialect.name)
        if found is None:
            target = UpdateTarget.of(dialect, self.table, self.key, self.columns)
            found = self._by_dialect[dialect.name] = (target, _processed(
                self.table, (self.key, *self.columns), dialect))
        target, processed = found
        names = (self.key, *self.columns)
        expected = set(names)
        for row in rows:
            if row.keys() != expected:
                unknown = sorted(set(row) - expected)
                raise ValueError(f"{self.table.name}: no column {', '.join(unknown)} in "
                                 "this update" if unknown else
                                 f"{self.table.name}: an update row without "
                                 f"{', '.join(n for n in names if n not in row)}")
        values = [_converted([row[name] for name in names], processed) for row in rows]
        with driver_cursor(connection) as cursor:
            dialect_for(dialect).update_rows(cursor, target, values)


class RawInsert:
    """``INSERT INTO table (columns) ...`` on a driver cursor, for rows of driver-ready
    values given as ``row`` tuples: a NamedTuple type whose field names are the columns,
    so the column list is the row type's and cannot drift from the values.

    A value is driver-ready when the column type has no bind processor for the dialect
    (strings, integers) or when it is ``bytes`` for a binary column (the processor only
    wraps it); anything else (datetimes) must go through ``bind`` first, which applies the
    column type's own processor, so the stored value is the one Core would store. Callers
    bind a value shared by many rows (the batch's timestamp) once.
    """

    def __init__(self, table: Table, row: type[tuple[Any, ...]], *,
                 on_conflict_do_nothing: Sequence[str] | None = None) -> None:
        self.table = table
        self.columns: tuple[str, ...] = tuple(row._fields)  # type: ignore[attr-defined]
        self.conflict = tuple(on_conflict_do_nothing) if on_conflict_do_nothing else None
        unknown = [c for c in (*self.columns, *(self.conflict or ())) if c not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
        self._targets: dict[str, InsertTarget] = {}

    def bind(self, dialect: Dialect, column: str, value: Any) -> Any:
        """``value`` as the driver binds it for ``column`` (the column type's processor)."""
        process = _bind_processor(self.table.c[column].type, dialect)
        return process(value) if process is not None and value is not None else value

    def target(self, dialect: Dialect) -> InsertTarget:
        """This insert's table and columns on ``dialect`` (built once per dialect)."""
        found = self._targets.get(dialect.name)
        if found is None:
            found = self._targets[dialect.name] = InsertTarget.of(
                dialect, self.table, self.columns, self.conflict)
        return found

    def execute(self, cursor: Any, dialect: Dialect, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` through ``cursor``, a driver cursor on ``dialect``, in as few
        statements as the dialect sends them (``SQLDialect.insert_rows``)."""
        if rows:
            dialect_for(dialect).insert_rows(cursor, self.target(dialect), rows)


class RawSelect:
    """A Core SELECT run on a driver cursor: sent (``send``), its rows read later
    (``rows``), so that inside ``pipelined`` it travels with the writes sent before it
    in one round trip, where Core's execution waits for each statement's answer as it
    sends it. Compiled once per dialect, so its parameters are plain binds (no expanding
    IN: a list goes as one parameter, e.g. ``SQLDialect.json_pairs``); its rows come
    back as Core gives them (each column through its type's result processor)."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._by_dialect: dict[str, tuple[Any, _Processed]] = {}

    def send(self, cursor: Any, dialect: Dialect, values: Mapping[str, Any]) -> None:
        """Execute the statement with ``values`` on ``cursor``, a driver cursor."""
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = (
                self.statement.compile(dialect=dialect),
                _results((c.type for c in self.statement.selected_columns), dialect))
        compiled, _ = found
        params = compiled.construct_params(dict(values))
        order = compiled.positiontup
        cursor.execute(compiled.string, params if order is None
                       else tuple(params[name] for name in order))

    def rows(self, cursor: Any, dialect: Dialect) -> list[tuple[Any, ...]]:
        """The rows of the statement last sent on ``cursor``."""
        _, results = self._by_dialect[dialect.name]
        return [tuple(_converted(list(row), results)) for row in cursor.fetchall()]


def _bind_processor(column_type: TypeEngine[Any], dialect: Dialect
                    ) -> Callable[[Any], Any] | None:
    """What SQLAlchemy applies to a value of ``column_type`` before the driver binds it on
    ``dialect`` (None: nothing), through its public API, except for binary columns: bytes
    are what every dialect's bulk insert binds (the type's processor only wraps them in the
    driver's Binary). The inserts here call it once per column and dialect;
    ``tests/gateway/test_bulk.py`` pins the stored values to a Core insert's, so a change
    in the library fails a test rather than a write."""
    if isinstance(column_type, LargeBinary):
        return None
    return column_type.dialect_impl(dialect).bind_processor(dialect)


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """Statements inside are sent without waiting for each answer where the database's
    driver can (``SQLDialect.pipeline``: psycopg's pipeline mode on PostgreSQL, one
    network round trip for a batch of writes); elsewhere a no-op."""
    with dialect_for(connection.dialect).pipeline(connection):
        yield
