"""Message counts per hour, kept as messages are stored and finished: what the dashboard
reads instead of scanning messages.

Responsible for ``message_rollups`` (one row per hour, partner, transaction type and
direction, with a counter per status group) and ``message_rollups_daily`` (the same per
day: the dashboard's month reads a few thousand rows, not every hour's), for turning a
message's move from one status (and transaction type) to another into counter deltas,
for adding a batch's deltas in ONE upsert statement a table on a driver cursor, and for
rebuilding the tables from the messages
(``edigate db upgrade``, migration 0013).

Invariant: for every key, each counter equals the number of messages with that key whose
status is in the counter's group, where a message's key is the hour of its
``received_at``, its partner, its direction and the first of its ``transaction_types``
("none" before it has any). Every writer that inserts a message or changes its status or
transaction types adds the move in the same transaction: intake (RECEIVED), processing's
batch finish, reprocess (back to RECEIVED), outbound (GENERATED, HELD); a retention
purge takes the messages it deletes out, and a restore puts them back
(``gateway.retention``). A claim (RECEIVED -> PROCESSING) moves nothing: both are
``waiting``.

The upsert is one statement text on both databases (``INSERT ... ON CONFLICT (...) DO
UPDATE SET n = message_rollups.n + excluded.n``, which SQLite and PostgreSQL share), so
nothing here is per database. On PostgreSQL two batches adding to the same key wait on
its row lock for the rest of the other's transaction; keys are written in sorted order
so that two transactions never wait on each other crosswise.
It must not commit and must not decide statuses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Connection, Dialect, Integer, Row, String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime
from gateway.store.bulk import RawInsert
from gateway.store.driver import MAX_PARAMETERS, driver_cursor
from gateway.store.models import Message, MessageStatus

__all__ = ["COUNTERS", "ERRORS", "FINISHED", "FINISH_COLUMNS", "DailyRollup", "MessageRollup",
           "Move", "add_moves", "hour_of", "moves_of_finish", "rebuild", "rollup_key",
           "status_counter"]

TYPE_MAX = 10
NO_TYPE = "none"


class MessageRollup(Base):
    """How many messages of one hour, partner, transaction type and direction are in each
    status group (see the module's invariant)."""

    __tablename__ = "message_rollups"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_type: Mapped[str] = mapped_column(String(TYPE_MAX), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)  # every status
    waiting: Mapped[int] = mapped_column(Integer, default=0)  # RECEIVED, PROCESSING
    processed: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    generated: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)


class DailyRollup(Base):
    """The same counts per day (UTC): what the dashboard's 30-day series read, a few
    thousand rows where the hourly ones are some hundred thousand in a busy month."""

    __tablename__ = "message_rollups_daily"

    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_type: Mapped[str] = mapped_column(String(TYPE_MAX), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    generated: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)


# The status groups' counters, and the status each status counts under.
COUNTERS = ("waiting", "processed", "rejected", "failed", "generated", "held")
_COUNTER_OF = {
    MessageStatus.RECEIVED: "waiting", MessageStatus.PROCESSING: "waiting",
    MessageStatus.PROCESSED: "processed", MessageStatus.REJECTED: "rejected",
    MessageStatus.FAILED: "failed", MessageStatus.GENERATED: "generated",
    MessageStatus.HELD: "held",
}
# What the dashboard's error rate is of: inbound messages in a final state, and of them
# those that were refused or could not be processed.
FINISHED = ("processed", "rejected", "failed")
ERRORS = ("rejected", "failed")

_KEY = ("hour", "partner_id", "transaction_type", "direction")
_COLUMNS = (*_KEY, "messages", *COUNTERS)


class _RollupValues(NamedTuple):
    """A row of deltas as the upsert binds it: the fields are the columns."""

    hour: object  # bound as the driver binds a UTCDateTime (``RawInsert.bind``)
    partner_id: str
    transaction_type: str
    direction: str
    messages: int
    waiting: int
    processed: int
    rejected: int
    failed: int
    generated: int
    held: int


class _DailyValues(NamedTuple):
    """``_RollupValues`` of the daily table: the bucket column is ``day``."""

    day: object
    partner_id: str
    transaction_type: str
    direction: str
    messages: int
    waiting: int
    processed: int
    rejected: int
    failed: int
    generated: int
    held: int


_TEXTS: dict[tuple[str, str, int], str] = {}

Key = tuple[datetime, str, str, str]


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def day_of(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


# (the insert, its bucket column, how a time falls into its bucket) of each table.
_TABLES = (
    (RawInsert(MessageRollup.__table__, _RollupValues),  # type: ignore[arg-type]
     "hour", hour_of),
    (RawInsert(DailyRollup.__table__, _DailyValues),  # type: ignore[arg-type]
     "day", day_of),
)


def _type_of(transaction_types: str | None) -> str:
    first = (transaction_types or "").split(",")[0].strip()
    return first[:TYPE_MAX] or NO_TYPE


def rollup_key(received_at: datetime, partner_id: str, direction: str,
               transaction_types: str | None) -> Key:
    """The key a message is counted under."""
    return hour_of(received_at), partner_id, _type_of(transaction_types), direction


def status_counter(status: str) -> str:
    """The counter a status counts under."""
    return _COUNTER_OF[status]


class Move(NamedTuple):
    """A message entering the counts (``before`` None), leaving them (``after`` None: a
    retention purge), or moving between statuses or transaction types: ``before`` and
    ``after`` are (status, transaction types)."""

    received_at: datetime
    partner_id: str
    direction: str
    before: tuple[str, str | None] | None
    after: tuple[str, str | None] | None


def _deltas(moves: Iterable[Move]) -> dict[Key, dict[str, int]]:
    deltas: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("messages", *COUNTERS), 0))
    for move in moves:
        sides = [(side, sign) for side, sign in ((move.before, -1), (move.after, 1))
                 if side is not None]
        for (status, types), sign in sides:
            counts = deltas[rollup_key(move.received_at, move.partner_id, move.direction,
                                       types)]
            counts["messages"] += sign
            counts[status_counter(status)] += sign
    return {key: counts for key, counts in deltas.items() if any(counts.values())}


def _upsert_sql(dialect: Dialect, rows: RawInsert, bucket: str, count: int) -> str:
    found = _TEXTS.get((dialect.name, bucket, count))
    if found is None:
        target = rows.target(dialect)
        quote = dialect.identifier_preparer.quote
        added = ", ".join(f"{quote(c)} = {target.table_sql}.{quote(c)} + excluded.{quote(c)}"
                          for c in ("messages", *COUNTERS))
        conflict = ", ".join(quote(c) for c in (bucket, *_KEY[1:]))
        found = (f"INSERT INTO {target.table_sql} ({target.columns_sql}) VALUES "
                 + ", ".join([target.values_row] * count)
                 + f" ON CONFLICT ({conflict}) DO UPDATE SET {added}")
        if len(_TEXTS) < 256:
            _TEXTS[(dialect.name, bucket, count)] = found
    return found


def add_moves(cursor: Any, dialect: Dialect, moves: Iterable[Move]) -> None:
    """Add the counter deltas of ``moves`` in the caller's transaction through ``cursor``,
    a driver cursor (``gateway.store.bulk.driver_cursor``): one statement a table (hourly
    and daily) for a batch (more only past the driver's parameter limit); nothing when
    nothing moves."""
    hourly = _deltas(moves)
    if not hourly:
        return
    for rows, bucket, bucket_of in _TABLES:
        deltas: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
            ("messages", *COUNTERS), 0))
        for (hour, partner, kind, direction), counts in hourly.items():
            summed = deltas[(bucket_of(hour), partner, kind, direction)]
            for name, value in counts.items():
                summed[name] += value
        bound: dict[datetime, object] = {}
        values: list[tuple[Any, ...]] = []
        for key in sorted(deltas):  # a fixed order: see the module's text
            at, partner_id, transaction_type, direction = key
            if at not in bound:
                bound[at] = rows.bind(dialect, bucket, at)
            counts = deltas[key]
            values.append((bound[at], partner_id, transaction_type, direction,
                           counts["messages"], *(counts[c] for c in COUNTERS)))
        per_statement = MAX_PARAMETERS // len(_COLUMNS)
        for start in range(0, len(values), per_statement):
            chunk = values[start:start + per_statement]
            cursor.execute(_upsert_sql(dialect, rows, bucket, len(chunk)),
                           tuple(value for row in chunk for value in row))


# What ``moves_of_finish`` reads of a message: select these in the statement that locks
# the messages a finish holds.
FINISH_COLUMNS: Final = (Message.id, Message.received_at, Message.partner_id,
                         Message.direction, Message.status, Message.transaction_types)


def moves_of_finish(stored: Iterable[Row[*tuple[Any, ...]]],
                    after: Mapping[str, tuple[str, str | None]], *,
                    failed: Collection[str] = ()) -> list[Move]:
    """The moves of messages about to take new (status, transaction types) values
    (``after`` by message id), and of ``failed`` ones (FAILED, their types kept), from
    their ``stored`` values (``FINISH_COLUMNS``, read in the transaction that changes
    them, when their rows were locked)."""
    return [Move(row.received_at, row.partner_id, row.direction,
                 (row.status, row.transaction_types),
                 after.get(row.id) or (MessageStatus.FAILED, row.transaction_types))
            for row in stored if row.id in after or row.id in failed]


def record_moves(connection: Connection, moves: Sequence[Move]) -> None:
    """``add_moves`` on a driver cursor of ``connection``."""
    if moves:
        with driver_cursor(connection) as cursor:
            add_moves(cursor, connection.dialect, moves)


def rebuild(connection: Connection, *, batch: int = 20000) -> int:
    """Count every stored message again into an emptied ``message_rollups`` (the rows of
    a database that had no rollups, or whose counts are in doubt); how many messages
    were counted. Reads the messages in id order, ``batch`` at a time."""
    connection.execute(delete(MessageRollup))
    connection.execute(delete(DailyRollup))
    totals: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("messages", *COUNTERS), 0))
    counted, after = 0, ""
    while True:
        rows = connection.execute(
            select(Message.id, Message.received_at, Message.partner_id, Message.direction,
                   Message.status, Message.transaction_types)
            .where(Message.id > after).order_by(Message.id).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            counts = totals[rollup_key(row.received_at, row.partner_id, row.direction,
                                       row.transaction_types)]
            counts["messages"] += 1
            counts[status_counter(row.status)] += 1
        counted += len(rows)
        after = rows[-1].id
    days: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("messages", *COUNTERS), 0))
    for (hour, partner, kind, direction), counts in totals.items():
        summed = days[(day_of(hour), partner, kind, direction)]
        for name, value in counts.items():
            summed[name] += value
    for model, bucket, found in ((MessageRollup, "hour", totals), (DailyRollup, "day", days)):
        values = [dict(zip((bucket, *_KEY[1:]), key, strict=True), **counts)
                  for key, counts in found.items()]
        for start in range(0, len(values), 2000):
            connection.execute(insert(model), values[start:start + 2000])
    return counted
