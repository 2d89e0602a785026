"""The driver level under SQLAlchemy, as the hot write paths and the dialect modules use it.

Responsible for the driver connection under a SQLAlchemy ``Connection``, driver cursors in
its transaction, raising a driver's error as the SQLAlchemy error Core would have raised
(the one place that relies on a SQLAlchemy API outside its documented surface,
``DBAPIError.instance``: ``tests/gateway/test_store_dialects.py`` fails when the library
changes it), and ``InsertTarget`` and ``UpdateTarget``, the text pieces of a plain INSERT
and of an UPDATE by key that each dialect's bulk writes build on. It must not know which
database it runs on: what differs goes in ``gateway.store.sqlite`` and
``gateway.store.postgresql``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError

__all__ = ["MAX_PARAMETERS", "DriverErrors", "InsertTarget", "UpdateTarget", "driver_connection",
           "driver_cursor", "sqlalchemy_error"]

# What one statement may bind: SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766
# (since 3.32), PostgreSQL's limit 65535.
MAX_PARAMETERS = 32000


class DriverErrors(NamedTuple):
    """The exception classes of a database's driver."""

    # Every error the driver raises.
    base: type[Exception]
    # Those that say the database cannot be reached or cannot take a statement just now
    # (connection refused or lost, disk full, read-only, locked too long), as opposed to a
    # statement it refused: the API answers 503 and the client retries.
    unavailable: tuple[type[Exception], ...]


def driver_connection(connection: Connection) -> Any:
    """The DB-API connection of the driver under ``connection``."""
    raw = connection.connection.dbapi_connection
    if raw is None:
        raise RuntimeError("the connection has no driver connection (it was closed)")
    return raw


def sqlalchemy_error(exc: BaseException, dialect: Dialect) -> BaseException:
    """``exc``, an error the driver raised outside SQLAlchemy's execution (on a driver
    cursor, or at the sync of a psycopg pipeline), as the SQLAlchemy error Core would have
    raised for it: a unique violation is an ``IntegrityError``, a lost connection an
    ``OperationalError``, so callers handle them in one way whichever level ran the
    statement.

    ``DBAPIError.instance`` is how SQLAlchemy itself wraps driver errors; it is not part of
    its documented API, hence this one function and the test that pins its result."""
    dbapi = dialect.dbapi
    assert dbapi is not None
    return DBAPIError.instance(None, None, exc, dbapi.Error, dialect=dialect)


@contextlib.contextmanager
def driver_cursor(connection: Connection) -> Iterator[Any]:
    """A cursor of the driver connection under ``connection``, in its transaction.

    Statements on it skip SQLAlchemy's execution machinery (a fixed cost per statement);
    the driver's errors are raised as SQLAlchemy's (``sqlalchemy_error``).
    """
    cursor = driver_connection(connection).cursor()
    dbapi = connection.dialect.dbapi
    assert dbapi is not None
    try:
        yield cursor
    except dbapi.Error as exc:
        raise sqlalchemy_error(exc, connection.dialect) from exc
    finally:
        cursor.close()


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class InsertTarget:
    """A plain INSERT of fixed columns into one table, for one SQLAlchemy dialect: the
    quoted names and the driver's parameter marker, from which a dialect's bulk insert
    builds its statements (``SQLDialect.insert_rows``).

    ``texts`` belongs to the dialect that inserts through this target: the statements it
    built, kept so that each is built once."""

    table: Table
    columns: tuple[str, ...]
    table_sql: str  # the table's name, quoted as needed
    columns_sql: str  # "a, b, c", quoted as needed
    marker: str  # "?" or "%s"
    conflict_sql: str  # " ON CONFLICT (a) DO NOTHING" (or DO UPDATE SET ...), or ""
    returning_sql: str = ""  # " RETURNING a, b", or ""
    texts: dict[Any, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, dialect: Dialect, table: Table, columns: Sequence[str],
           conflict: Sequence[str] | None = None,
           returning: Sequence[str] | None = None, *,
           replace: Sequence[str] | None = None,
           keep: Sequence[str] | None = None) -> InsertTarget:
        """The target for ``columns`` of ``table`` on ``dialect``; ``conflict``: the
        unique columns whose conflicts the insert skips (``ON CONFLICT DO NOTHING``);
        ``replace``: instead, the unique columns whose conflicting row the insert
        replaces (``ON CONFLICT DO UPDATE``: every other column set to the new row's);
        ``keep``: instead, the unique columns whose conflicting row the insert leaves as
        it is but locks (as ``FOR UPDATE`` would); ``returning``: the columns of each
        row inserted that the insert gives back."""
        if sum(1 for clause in (conflict, replace, keep) if clause) > 1:
            raise ValueError("a conflict is skipped, replaced or kept, one of them")
        unknown = [c for c in (*columns, *(conflict or ()), *(replace or ()), *(keep or ()),
                               *(returning or ())) if c not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
        quote = dialect.identifier_preparer.quote
        conflict_sql = ""
        if conflict:
            conflict_sql = " ON CONFLICT (" + ", ".join(map(quote, conflict)) + ") DO NOTHING"
        elif replace:
            conflict_sql = (" ON CONFLICT (" + ", ".join(map(quote, replace)) + ") DO UPDATE SET "
                            + ", ".join(f"{quote(c)} = excluded.{quote(c)}"
                                        for c in columns if c not in replace))
        elif keep:
            # DO UPDATE locks the conflicting row; WHERE false writes no new version of
            # it (PostgreSQL locks every row the clause is taken for, updated or not).
            conflict_sql = (" ON CONFLICT (" + ", ".join(map(quote, keep)) + ") DO UPDATE SET "
                            + f"{quote(keep[0])} = excluded.{quote(keep[0])} WHERE false")
        return cls(
            table=table,
            columns=tuple(columns),
            table_sql=dialect.identifier_preparer.format_table(table),
            columns_sql=", ".join(quote(c) for c in columns),
            marker="?" if dialect.paramstyle == "qmark" else "%s",
            conflict_sql=conflict_sql,
            returning_sql=(" RETURNING " + ", ".join(quote(c) for c in returning)
                           if returning else ""),
        )

    @property
    def tail_sql(self) -> str:
        """What follows the rows: the conflict clause, then the RETURNING clause."""
        return self.conflict_sql + self.returning_sql

    @property
    def values_row(self) -> str:
        """One row's parameters in a VALUES list: ``(?, ?, ?)``."""
        return "(" + ", ".join([self.marker] * len(self.columns)) + ")"

    def values_sql(self, rows: int) -> str:
        """``INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ...`` for ``rows`` rows."""
        return (f"INSERT INTO {self.table_sql} ({self.columns_sql}) VALUES "
                + ", ".join([self.values_row] * rows) + self.tail_sql)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class UpdateTarget:
    """An UPDATE of fixed columns of one table's rows, each found by its ``key`` column,
    for one SQLAlchemy dialect: the quoted names and the driver's parameter marker, from
    which a dialect's bulk update builds its statement (``SQLDialect.update_rows``). A
    row's values are the key's, then the columns' in ``columns`` order.

    ``texts`` belongs to the dialect that updates through this target."""

    table: Table
    key: str
    columns: tuple[str, ...]
    table_sql: str
    key_sql: str
    columns_sql: tuple[str, ...]  # each column's name, quoted as needed
    marker: str
    texts: dict[Any, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, dialect: Dialect, table: Table, key: str, columns: Sequence[str]
           ) -> UpdateTarget:
        """The target setting ``columns`` of ``table``'s rows found by ``key``."""
        unknown = [c for c in (key, *columns) if c not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
        if key in columns:
            raise ValueError(f"{key} is the key of the update, not one of its columns")
        quote = dialect.identifier_preparer.quote
        return cls(table=table, key=key, columns=tuple(columns),
                   table_sql=dialect.identifier_preparer.format_table(table),
                   key_sql=quote(key), columns_sql=tuple(quote(c) for c in columns),
                   marker="?" if dialect.paramstyle == "qmark" else "%s")

    def by_key_sql(self) -> str:
        """``UPDATE t SET a = ?, b = ? WHERE k = ?``: one row's statement."""
        sets = ", ".join(f"{c} = {self.marker}" for c in self.columns_sql)
        return f"UPDATE {self.table_sql} SET {sets} WHERE {self.key_sql} = {self.marker}"
