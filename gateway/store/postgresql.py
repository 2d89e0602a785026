"""The PostgreSQL side of ``gateway.store.dialect.SQLDialect``.

Several gateway processes, on several hosts, share one PostgreSQL database at READ
COMMITTED. A claim skips rows another transaction is claiming (``FOR UPDATE SKIP
LOCKED``: claimants share the queue instead of queueing behind each other), a lock is a
row lock held until commit, an upsert is ``INSERT ... ON CONFLICT DO NOTHING``, and the
ledger's verify reads one REPEATABLE READ, READ ONLY snapshot.

Every statement costs a network round trip, so the hot write paths send few: a bulk insert
is one statement whatever the number of rows, and psycopg's pipeline mode sends a batch's
statements without waiting for each answer.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    URL,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    Select,
    String,
    Subquery,
    Table,
    column,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway.store.driver import (
    DriverErrors,
    InsertTarget,
    UpdateTarget,
    driver_connection,
    sqlalchemy_error,
)
from gateway.store.models import STORED_MESSAGE_SELECT, FinishedMessage, StoredMessage

__all__ = ["ABORTED_PIPELINE_ECHO", "FIND_STORED", "IDLE", "POSTGRESQL", "PostgreSQLDialect"]


def _few(rows_sql: str) -> str:
    """``rows_sql``, a set-returning call over a batch's JSON parameter, as a FROM item
    the planner counts as ten rows. It takes a JSON array's elements for a hundred, where
    a batch names a few, and a join of them to a table of some thousand rows was then
    planned as a scan of the whole table rather than a hundred lookups by key; through
    unnest(ARRAY(...)) the lookups win on a few thousand (tests/gateway/test_query_plans.py
    pins the plans of the statements that join such rows)."""
    return f"unnest(ARRAY(SELECT {rows_sql}))"


# The columns a batch finish sets, after the id (``FinishedMessage``).
_FINISHED = FinishedMessage._fields[1:]
# One statement for the whole batch: the rows travel as one JSON parameter (as
# ``gateway.store.bulk.RawInsert`` sends its rows) and are matched by id.
_FINISH = ("UPDATE messages AS m SET " + ", ".join(f"{c} = v.{c}" for c in _FINISHED)
           + ", locked_by = NULL, locked_until = NULL, updated_at = %s FROM "
           + _few("json_populate_recordset(NULL::messages, %s::json)")
           + " AS v WHERE m.id = v.id")
# Stored messages a batch duplicates: the batch's digests, and its control numbers and
# senders, as arrays probed on the two unique indexes, whose leading columns they are
# (migration 0005). No partner in the SQL: with one there, the partner's own index
# (ix_messages_partner_received) fits too, and before ``messages`` was analyzed the planner
# took it and filtered every message of the partner (tests/gateway/test_query_plans.py
# pins the plan). Rows of other partners, or of other sender and control pairs, are
# ignored by the caller; a digest or a control number and sender match a handful of rows
# at most.
_FOUND = STORED_MESSAGE_SELECT
FIND_STORED = (_FOUND + "payload_sha256 = ANY(%s::text[]) UNION ALL " + _FOUND
               + "interchange_control = ANY(%s::text[]) AND interchange_sender = ANY(%s::text[])")

Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


class PostgreSQLDialect:
    name = "postgresql"
    locks_rows = True
    remote = True

    def engine_options(self, url: URL) -> dict[str, Any]:
        # A pooled connection the server dropped (restart, failover) is replaced, not used.
        return {"pool_pre_ping": True}

    def configure_engine(self, engine: Engine) -> None:
        return None

    def process_local(self, url: URL) -> bool:
        return False

    def holding(self, connection: Connection) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    def begin_eagerly(self, connection: Connection) -> None:
        return None  # row locks, taken as the transaction goes

    def free_bytes(self, url: URL) -> int | None:
        return None

    def driver_errors(self) -> DriverErrors:
        # Imported when asked for: a process on SQLite never loads psycopg for this.
        import psycopg

        return DriverErrors(psycopg.Error, (psycopg.OperationalError, psycopg.InterfaceError))

    def json_pairs(self, name: str) -> Subquery:
        elements = _few(f"json_array_elements(CAST(:{name} AS json))")
        return text(f"SELECT pair->>0 AS a, pair->>1 AS b FROM {elements} AS pair").columns(
            column("a", String), column("b", String)).subquery()

    def json_values(self, name: str) -> Subquery:
        elements = _few(f"json_array_elements_text(CAST(:{name} AS json))")
        return text(f"SELECT value FROM {elements} AS value").columns(
            column("value", String)).subquery()

    def insert_rows(self, cursor: Any, target: InsertTarget,
                    rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        # The rows as ONE json parameter (``INSERT ... SELECT ... FROM
        # json_populate_recordset(NULL::table, %s)``): a fixed text that psycopg parses once
        # and prepares, and one C-encoded string to send. A VALUES list of rows x columns
        # placeholders is parsed anew for every batch (psycopg caches queries of up to 50
        # parameters) and arrays a column are escaped element by element in Python
        # (bench/README.md has the cost). Each value goes through the column type's input
        # function, so a string too long for its varchar fails as in a plain insert.
        prepared = target.texts.get("json")
        if prepared is None:
            sql = (f"INSERT INTO {target.table_sql} ({target.columns_sql}) SELECT "
                   f"{target.columns_sql} FROM json_populate_recordset(NULL::"
                   f"{target.table_sql}, %s::json){target.tail_sql}")
            prepared = target.texts["json"] = (sql, target.columns,
                                               _json_converters(target.table, target.columns))
        sql, names, converters = prepared
        cursor.execute(sql, (_json_rows(names, converters, rows),))
        return cursor.fetchall() if target.returning_sql else []

    def update_rows(self, cursor: Any, target: UpdateTarget,
                    rows: Sequence[Sequence[Any]]) -> None:
        # One statement for every row, joined to the rows as ONE json parameter, as
        # insert_rows sends them: an executemany costs the server a statement per row and
        # the client SQLAlchemy's processing of each.
        prepared = target.texts.get("json")
        if prepared is None:
            sets = ", ".join(f"{c} = v.{c}" for c in target.columns_sql)
            rows_sql = _few(f"json_populate_recordset(NULL::{target.table_sql}, %s::json)")
            sql = (f"UPDATE {target.table_sql} SET {sets} FROM {rows_sql} AS v WHERE "
                   f"{target.table_sql}.{target.key_sql} = v.{target.key_sql}")
            names = (target.key, *target.columns)
            prepared = target.texts["json"] = (sql, names,
                                               _json_converters(target.table, names))
        sql, names, converters = prepared
        cursor.execute(sql, (_json_rows(names, converters, rows),))

    @contextlib.contextmanager
    def pipeline(self, connection: Connection) -> Iterator[None]:
        # A transaction begun inside queues its BEGIN with the first statement, and one
        # committed inside sends its COMMIT with the writes queued before it: the intake
        # writer's batch costs three round trips (BEGIN and the lookup, the ledger head
        # lock, the writes and the COMMIT) instead of five, and one while the writer is the
        # ledger's lone appender (``gateway.ledger.chain.HeadCache``).
        raw = driver_connection(connection)
        if raw.pgconn.pipeline_status:
            # Already inside a pipeline: an inner one would end in a sync (a round trip)
            # where the outer one may still queue more, the COMMIT included.
            yield
            return
        dbapi = connection.dialect.dbapi
        assert dbapi is not None
        # Only a transaction begun inside is this block's to end; one open before it
        # belongs to the caller, who rolls it back.
        outside = raw.info.transaction_status != IDLE
        try:
            with raw.pipeline():
                yield
        except BaseException as exc:
            # The error of a queued statement may surface only at the COMMIT, or at a later
            # sync, after the transaction's owner has given up on it; the server skips
            # everything queued after an error until the pipeline's next sync, a ROLLBACK
            # included, so the connection would stay in the aborted transaction and fail
            # its next one.
            if not outside and raw.info.transaction_status != IDLE:
                with contextlib.suppress(Exception):  # a broken connection fails what follows
                    raw.rollback()
            if isinstance(exc, dbapi.Error):
                # Errors of pipelined statements surface here, outside SQLAlchemy's
                # execute: raised as it would (a unique violation stays an IntegrityError).
                raise sqlalchemy_error(exc, connection.dialect) from exc
            raise

    def update_or_fail(self, cursor: Any, qmark_sql: str, params: Sequence[Any]) -> None:
        # One statement that fails (division by zero) when the UPDATE matched nothing,
        # which aborts the transaction: no answer needs to be read to know it held.
        cursor.execute(f"WITH changed AS ({qmark_sql.replace('?', '%s')} RETURNING 1) "
                       "SELECT 1 / (SELECT count(*) FROM changed)::int", params)

    def claimable(self, query: Q) -> Q:
        return query.with_for_update(skip_locked=True)

    def locked(self, query: Q) -> Q:
        return query.with_for_update()

    def locking(self, sql: str) -> str:
        return sql + " FOR UPDATE"

    def insert(self, table: Any) -> Any:
        return pg_insert(table)

    def notify(self, session: Session, channel: str, payload: str) -> None:
        session.execute(select(func.pg_notify(channel, payload)))

    def listener(self, url: URL, channel: str) -> Callable[[], _Listening]:
        # The listener connects with psycopg itself, outside SQLAlchemy's pool (it holds
        # its connection for as long as the process runs), which takes a libpq URL.
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return lambda: _Listening(conninfo, channel)

    def read_snapshot(self, session: Session) -> None:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        session.execute(text("SET TRANSACTION READ ONLY"))

    def finish_messages(self, cursor: Any, rows: Sequence[FinishedMessage], *,
                        now: datetime, at: Any) -> None:
        cursor.execute(_FINISH, (now, _json_text([row._asdict() for row in rows])))

    def find_stored(self, cursor: Any, *, partners: Collection[str], digests: Collection[str],
                    senders: Collection[str], controls: Collection[str]
                    ) -> list[StoredMessage]:
        # Planned for each batch, never as a prepared generic plan: one cached while the
        # table is small may scan it whole ever after.
        cursor.execute(FIND_STORED, [sorted(digests), sorted(controls), sorted(senders)],
                       prepare=False)
        return [StoredMessage(*row) for row in cursor.fetchall()]



POSTGRESQL = PostgreSQLDialect()

# psycopg.pq.TransactionStatus.IDLE, without importing psycopg where the pipeline is never
# used; tests/gateway/test_store_dialects.py pins it to the library's.
IDLE = 0

_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _json_text(rows: list[dict[str, Any]]) -> str:
    """The JSON document of ``rows`` (driver values: str, int, bool, None) that a
    ``json_populate_recordset`` statement takes. orjson writes it, in C; what it refuses
    (an integer beyond 64 bits, a lone surrogate) is left to the standard library's
    encoder, whose text or error the statement then meets as before. (No column takes a
    float, the one type the two would write differently.)"""
    try:
        return orjson.dumps(rows).decode()
    except TypeError:
        return _JSON.encode(rows)


def _json_rows(names: Sequence[str], converters: Sequence[Callable[[Any], Any] | None],
               rows: Sequence[Sequence[Any]]) -> str:
    """The JSON document of driver-ready ``rows`` (values in ``names`` order) as
    ``json_populate_recordset`` reads it: one object a row, each value converted as its
    column's type travels in JSON (``_json_converter``; most columns have no converter,
    and their values are taken as they are)."""
    converted = [(position, name, to_json) for position, (name, to_json)
                 in enumerate(zip(names, converters, strict=True)) if to_json is not None]
    objects = []
    for row in rows:
        obj = dict(zip(names, row, strict=True))
        for position, name, to_json in converted:
            value = row[position]
            if value is not None:
                obj[name] = to_json(value)
        objects.append(obj)
    return _json_text(objects)


def _json_converters(table: Table, names: Sequence[str]
                     ) -> tuple[Callable[[Any], Any] | None, ...]:
    return tuple(_json_converter(table.c[name].type) for name in names)


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


class _Listening:
    """A psycopg connection in autocommit mode that has run ``LISTEN channel``."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._connection: Any = None

    def __enter__(self) -> _Listening:
        import psycopg

        # Keepalives: a connection dropped without a FIN must be noticed in seconds, not
        # at the kernel's two-hour default, since a listener's user trusts it meanwhile.
        self._connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5,
                                           keepalives=1, keepalives_idle=5,
                                           keepalives_interval=2, keepalives_count=3)
        try:
            self._connection.execute(f"LISTEN {self._channel}")
        except BaseException:
            self._connection.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._connection.close()

    def wait(self, timeout: float) -> int:
        received = sum(1 for _ in self._connection.notifies(timeout=timeout))
        self._connection.execute("SELECT 1")  # raises on a broken connection
        return received


class _AbortedPipelineEcho(logging.Filter):
    """Drops psycopg's warning that ending a pipeline failed with ``PipelineAborted``
    while the block was already leaving on an error. That error means only "a statement
    queued earlier in this pipeline failed": the block's own exception is that failure
    (or follows from it) and is raised, handled and logged where it belongs, for example
    intake's one-round-trip ledger append falling back to the careful one. Every other
    psycopg warning passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        return not (record.msg == "error ignored terminating %r: %s"
                    and isinstance(args, tuple) and len(args) == 2
                    and type(args[1]).__name__ == "PipelineAborted")


ABORTED_PIPELINE_ECHO = _AbortedPipelineEcho()
logging.getLogger("psycopg").addFilter(ABORTED_PIPELINE_ECHO)
