"""The contract of ``gateway.store.dialect.SQLDialect``: the same cases on SQLite and, when
``EDIGATE_TEST_DATABASE_URL`` is set, PostgreSQL (the ``db`` fixture runs each on both).

Each case states what callers rely on, not how a database provides it: claims never hand
one row to two claimants, a read-modify-write under ``locked`` loses no update, an insert
that skips conflicts keeps the first row, intake's lookup finds stored duplicates by
either key, and a batch finish sets exactly the named columns and releases the claim.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, make_url, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from gateway.store import bulk, postgresql
from gateway.store.bulk import driver_cursor
from gateway.store.db import Database
from gateway.store.dialect import dialect_of, driver_errors
from gateway.store.driver import sqlalchemy_error
from gateway.store.models import (
    ControlCounter,
    FinishedMessage,
    Message,
    MessageStatus,
    Payload,
    StoredMessage,
)

SCRATCH = MetaData()
QUEUE = Table("contract_queue", SCRATCH, Column("id", Integer, primary_key=True),
              Column("owner", String(20)), Column("value", Integer, nullable=False))


@pytest.fixture
def queue(db: Database) -> Database:
    SCRATCH.create_all(db.engine)
    with db.core_transaction() as connection:
        connection.execute(QUEUE.insert(), [{"id": n, "owner": None, "value": 0}
                                            for n in range(1, 21)])
    return db


class _UpdatedAt(NamedTuple):
    """The one column a batch finish binds itself."""

    updated_at: object


def test_dialect_of_names_the_database_it_serves(db: Database) -> None:
    """``Database.dialect`` is the implementation of the engine's dialect, and an unknown
    database is refused by name."""
    assert db.dialect is dialect_of(db.engine.dialect.name)
    assert db.dialect.name == db.engine.dialect.name
    with pytest.raises(ValueError, match="mysql"):
        dialect_of("mysql")


def test_claims_never_hand_a_row_to_two_claimants(queue: Database) -> None:
    """Four threads claiming one row at a time, each in its own transaction, take every
    row exactly once."""
    taken: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claimant(name: str) -> None:
        mine = taken.setdefault(name, [])
        try:
            while True:
                with queue.transaction() as session:
                    query = select(QUEUE.c.id).where(QUEUE.c.owner.is_(None)) \
                        .order_by(QUEUE.c.id).limit(1)
                    row = session.execute(queue.dialect.claimable(query)).first()
                    if row is None:
                        return
                    session.execute(update(QUEUE).where(QUEUE.c.id == row.id)
                                    .values(owner=name))
                    mine.append(row.id)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=claimant, args=(f"c{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    claimed = sorted(i for ids in taken.values() for i in ids)
    assert claimed == list(range(1, 21))
    with queue.read() as session:
        owners = dict(session.execute(select(QUEUE.c.id, QUEUE.c.owner)).all())
    assert all(owners[i] == name for name, ids in taken.items() for i in ids)


def test_read_modify_write_under_locked_loses_no_update(queue: Database) -> None:
    """Threads each reading a row's value under ``locked`` and writing it back plus one
    end with every increment counted."""
    errors: list[BaseException] = []

    def increment() -> None:
        try:
            for _ in range(5):
                with queue.transaction() as session:
                    query = select(QUEUE.c.value).where(QUEUE.c.id == 1)
                    value = session.execute(queue.dialect.locked(query)).scalar_one()
                    session.execute(update(QUEUE).where(QUEUE.c.id == 1)
                                    .values(value=value + 1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with queue.read() as session:
        assert session.execute(select(QUEUE.c.value).where(QUEUE.c.id == 1)).scalar_one() == 20


def test_an_insert_that_skips_conflicts_keeps_the_first_row(db: Database) -> None:
    """``insert(...).on_conflict_do_nothing()`` of an existing key changes nothing and
    raises nothing; a new key is stored."""
    with db.transaction() as session:
        session.add(ControlCounter(name="x12:acme", value=7))
    with db.transaction() as session:
        session.execute(db.dialect.insert(ControlCounter).values(
            [{"name": "x12:acme", "value": 0}, {"name": "x12:globex", "value": 0}])
            .on_conflict_do_nothing())
    with db.read() as session:
        values = dict(session.execute(select(ControlCounter.name, ControlCounter.value))
                      .all())
    assert values == {"x12:acme": 7, "x12:globex": 0}


def test_locking_a_plain_select_keeps_its_rows(queue: Database) -> None:
    """``locking`` returns a statement that still selects the same rows (on a driver
    cursor, as the ledger's head lock runs it)."""
    with queue.core_transaction() as connection, driver_cursor(connection) as cursor:
        cursor.execute(queue.dialect.locking(
            "SELECT id, value FROM contract_queue WHERE id = 3"))
        assert cursor.fetchall() == [(3, 0)]


def _message(db: Database, partner: str, digest: str, sender: str | None,
             control: str | None) -> str:
    message_id = str(uuid.uuid4())
    with db.transaction() as session:
        if session.get(Payload, digest) is None:
            session.add(Payload(sha256=digest, size=1, data=b"x"))
            session.flush()
        session.add(Message(id=message_id, partner_id=partner, transport="https",
                            standard="x12", status=MessageStatus.PROCESSING,
                            payload_sha256=digest, size=1, interchange_sender=sender,
                            interchange_control=control, locked_by="w",
                            locked_until=datetime.now(UTC) + timedelta(minutes=1)))
    return message_id


def test_the_duplicate_lookup_finds_stored_messages_by_either_key(db: Database) -> None:
    """``find_stored`` returns the partner's messages with one of the digests, and those
    with one of the senders and one of the control numbers, as named rows."""
    by_digest = _message(db, "acme", "a" * 64, "ZZ:ACME", "000000001")
    by_control = _message(db, "acme", "b" * 64, "ZZ:ACME", "000000002")
    _message(db, "acme", "c" * 64, "ZZ:ACME", "000000003")  # neither key asked for
    with db.core_transaction() as connection, driver_cursor(connection) as cursor:
        found = db.dialect.find_stored(cursor, partners={"acme"}, digests={"a" * 64},
                                       senders={"ZZ:ACME"}, controls={"000000002"})
    assert all(isinstance(row, StoredMessage) for row in found)
    assert {row.id for row in found if row.partner_id == "acme"} == {by_digest, by_control}
    row = next(r for r in found if r.id == by_control)
    assert (row.payload_sha256, row.interchange_sender, row.interchange_control,
            row.status) == ("b" * 64, "ZZ:ACME", "000000002", MessageStatus.PROCESSING)


def test_a_batch_finish_sets_the_named_columns_and_releases_the_claim(db: Database) -> None:
    """``finish_messages`` writes each row's fields to its message, clears the lease and
    stamps ``updated_at``; other messages are untouched."""
    done, other = _message(db, "acme", "d" * 64, None, None), \
        _message(db, "acme", "e" * 64, None, None)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    row = FinishedMessage(id=done, status=MessageStatus.REJECTED, error="bad ISA",
                          transaction_types="850", search_text="PO-1",
                          summary='{"transactions": []}', ack_status="R")
    with db.core_transaction() as connection, driver_cursor(connection) as cursor:
        at = bulk.RawInsert(Message.__table__, _UpdatedAt).bind(  # type: ignore[arg-type]
            connection.dialect, "updated_at", now)
        db.dialect.finish_messages(cursor, [row], now=now, at=at)
    with db.read() as session:
        stored = session.get(Message, done)
        untouched = session.get(Message, other)
        assert stored is not None and untouched is not None
        assert (stored.status, stored.error, stored.transaction_types, stored.search_text,
                stored.summary, stored.ack_status) == row[1:]
        assert stored.locked_by is None and stored.locked_until is None
        assert stored.updated_at == now
        assert untouched.status == MessageStatus.PROCESSING and untouched.locked_by == "w"


def test_the_psycopg_idle_status_the_pipeline_compares_with_is_the_librarys() -> None:
    """``store.postgresql`` compares psycopg's transaction status with a constant (it must
    not import psycopg on SQLite-only paths); this fails if psycopg renumbers it."""
    assert psycopg.pq.TransactionStatus.IDLE == postgresql.IDLE


# -- the engine and its connections ------------------------------------------------------

def test_every_connection_enforces_foreign_keys(db: Database) -> None:
    """``configure_engine``: a message whose payload does not exist is refused, on a
    connection of the pool as on a driver cursor (SQLite needs a pragma per connection)."""
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(Message(id=str(uuid.uuid4()), partner_id="acme", transport="https",
                            standard="x12", status=MessageStatus.RECEIVED,
                            payload_sha256="f" * 64, size=1))


def test_a_reading_transaction_does_not_block_a_writer(db: Database) -> None:
    """``configure_engine``: a transaction of ``Database.read`` takes no write lock, so a
    writer commits while it is open."""
    with db.read() as session:
        session.execute(select(ControlCounter.name)).all()
        with db.transaction() as writer:
            writer.add(ControlCounter(name="x12:acme", value=1))
        assert session.execute(select(ControlCounter.name)).all() is not None
    with db.read() as session:
        assert session.get(ControlCounter, "x12:acme") is not None


def test_eager_transactions_on_a_held_connection_write_in_turn(queue: Database) -> None:
    """``holding`` and ``begin_eagerly``: transactions begun eagerly on held connections by
    two threads each commit their writes, none lost, and the connections work as usual
    after they go back to the pool."""
    errors: list[BaseException] = []

    def add(times: int) -> None:
        try:
            with queue.held_connection() as held:
                for _ in range(times):
                    with queue.eager_transaction(held) as connection:
                        value = connection.execute(
                            select(QUEUE.c.value).where(QUEUE.c.id == 1)).scalar_one()
                        connection.execute(update(QUEUE).where(QUEUE.c.id == 1)
                                           .values(value=value + 1))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # On PostgreSQL the rows lock as they go: the read-modify-write above needs the row
    # lock the dialect gives, so only SQLite's write lock makes it safe without one.
    threads = [threading.Thread(target=add, args=(25,))
               for _ in range(2 if not queue.dialect.locks_rows else 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with queue.core_transaction(eager_lock=True) as connection:
        assert connection.execute(select(QUEUE.c.value).where(QUEUE.c.id == 1)
                                  ).scalar_one() == 25 * len(threads)
    with queue.core_transaction() as connection:
        connection.execute(update(QUEUE).where(QUEUE.c.id == 2).values(value=1))


def test_a_database_in_this_process_only_is_known_as_such(database_url: str) -> None:
    """``process_local``: an in-memory SQLite database is; a file or a server is not."""
    assert not dialect_of(make_url(database_url).get_backend_name()).process_local(
        make_url(database_url))
    assert dialect_of("sqlite").process_local(make_url("sqlite://"))
    assert dialect_of("sqlite").process_local(make_url("sqlite:///:memory:"))
    assert Database("sqlite://").is_memory


def test_free_bytes_is_the_room_left_where_the_data_is_or_unknown(db: Database) -> None:
    """``free_bytes``: SQLite reports the room on its file's filesystem; PostgreSQL and an
    in-memory database report nothing."""
    free = db.dialect.free_bytes(db.engine.url)
    if db.dialect.name == "sqlite":
        assert isinstance(free, int) and free > 0
    else:
        assert free is None
    assert dialect_of("sqlite").free_bytes(make_url("sqlite://")) is None


def test_driver_errors_are_the_drivers_and_unavailable_ones_are_among_them(
        db: Database) -> None:
    """``driver_errors``: the base class is what the engine's driver raises, and every
    error that means "unavailable" is one of them."""
    errors = db.dialect.driver_errors()
    assert errors.base is db.engine.dialect.dbapi.Error  # type: ignore[union-attr]
    assert errors.unavailable and all(issubclass(kind, errors.base)
                                      for kind in errors.unavailable)
    assert db.dialect.driver_errors() in driver_errors()


def test_a_driver_error_is_raised_as_the_sqlalchemy_error_core_raises(db: Database) -> None:
    """``sqlalchemy_error`` (the one use of ``DBAPIError.instance``): a unique violation
    raised by the driver becomes the same SQLAlchemy class as from a Core execute, with
    the driver's error kept as ``orig``; this fails if SQLAlchemy changes that API."""
    with db.transaction() as session:
        session.add(Payload(sha256="a" * 64, size=1, data=b"x"))
    with pytest.raises(IntegrityError) as core, db.core_transaction() as connection:
        connection.execute(Payload.__table__.insert().values(  # type: ignore[attr-defined]
            sha256="a" * 64, size=1, data=b"x"))
    with db.core_transaction() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        with pytest.raises(db.dialect.driver_errors().base) as caught:
            cursor.execute(f"INSERT INTO payloads (sha256, size, data) VALUES "
                           f"({marker}, 1, NULL)", ("a" * 64,))
        wrapped = sqlalchemy_error(caught.value, connection.dialect)
        connection.rollback()
    assert type(wrapped) is type(core.value)
    assert isinstance(wrapped, DBAPIError) and wrapped.orig is caught.value


# -- writes on driver cursors -----------------------------------------------------------

def test_update_or_fail_moves_the_expected_row_and_fails_otherwise(queue: Database) -> None:
    """``update_or_fail``: an UPDATE whose expectation holds changes its row; one that
    matches nothing fails, as a DataError, and its transaction changes nothing."""
    sql = "UPDATE contract_queue SET value = ? WHERE id = ? AND value = ?"
    with queue.core_transaction() as connection, driver_cursor(connection) as cursor:
        queue.dialect.update_or_fail(cursor, sql, (5, 1, 0))
    with pytest.raises(DataError), queue.core_transaction() as connection, \
            driver_cursor(connection) as cursor:
        queue.dialect.update_or_fail(cursor, sql, (9, 2, 0))  # row 2: matched, changed
        queue.dialect.update_or_fail(cursor, sql, (7, 1, 0))  # row 1 is 5 now: no match
    with queue.core_transaction() as connection:
        values = dict(connection.execute(select(QUEUE.c.id, QUEUE.c.value)
                                         .where(QUEUE.c.id.in_([1, 2]))).all())
    assert values == {1: 5, 2: 0}


def test_update_or_fail_inside_a_pipeline_fails_its_transaction(queue: Database) -> None:
    """``pipeline`` with ``update_or_fail``: the failure of a pipelined expectation (seen
    at the latest at the commit) rolls the whole transaction back, writes queued before it
    included, and the connection serves the next transaction."""
    sql = "UPDATE contract_queue SET value = ? WHERE id = ? AND value = ?"
    with pytest.raises(DataError), queue.core_transaction() as connection, \
            queue.dialect.pipeline(connection), driver_cursor(connection) as cursor:
        cursor.execute(queue.dialect.locking("SELECT id FROM contract_queue WHERE id = 3"))
        cursor.fetchall()
        queue.dialect.update_or_fail(cursor, sql, (8, 4, 0))
        queue.dialect.update_or_fail(cursor, sql, (8, 5, 99))  # no match
    with queue.core_transaction() as connection:
        assert connection.execute(select(QUEUE.c.value).where(QUEUE.c.id == 4)
                                  ).scalar_one() == 0


def test_a_pipeline_inside_a_pipeline_sends_with_the_outer_one(queue: Database) -> None:
    """``pipeline`` nests: the inner block neither ends the outer one nor loses its
    writes, and both commit together."""
    with queue.core_transaction() as connection, queue.dialect.pipeline(connection):
        with queue.dialect.pipeline(connection), driver_cursor(connection) as cursor:
            queue.dialect.update_or_fail(
                cursor, "UPDATE contract_queue SET value = ? WHERE id = ?", (3, 6))
        connection.execute(update(QUEUE).where(QUEUE.c.id == 7).values(value=4))
    with queue.core_transaction() as connection:
        assert dict(connection.execute(select(QUEUE.c.id, QUEUE.c.value)
                                       .where(QUEUE.c.id.in_([6, 7]))).all()) == {6: 3, 7: 4}


class _Counted(NamedTuple):
    id: int
    owner: str | None
    value: int


def test_insert_rows_stores_what_a_core_insert_stores(queue: Database) -> None:
    """``insert_rows`` through ``RawInsert`` with a named row type: the rows read back as
    Core's insert of the same values stores them, split or not, and a conflict on the key
    is skipped when asked to."""
    rows = [_Counted(id=100 + n, owner=None if n % 2 else f"w{n}", value=n) for n in range(9)]
    raw = bulk.RawInsert(QUEUE, _Counted, on_conflict_do_nothing=("id",))
    assert raw.columns == ("id", "owner", "value")
    with queue.core_transaction() as connection, driver_cursor(connection) as cursor:
        raw.execute(cursor, connection.dialect, rows[:5])
        raw.execute(cursor, connection.dialect, rows)  # the first five conflict: skipped
    with queue.core_transaction() as connection:
        stored = connection.execute(select(QUEUE.c.id, QUEUE.c.owner, QUEUE.c.value)
                                    .where(QUEUE.c.id >= 100).order_by(QUEUE.c.id)).all()
        connection.execute(QUEUE.delete().where(QUEUE.c.id >= 100))
        connection.execute(QUEUE.insert(), [row._asdict() for row in rows])
        core = connection.execute(select(QUEUE.c.id, QUEUE.c.owner, QUEUE.c.value)
                                  .where(QUEUE.c.id >= 100).order_by(QUEUE.c.id)).all()
    assert [tuple(r) for r in stored] == [tuple(r) for r in core] == [tuple(r) for r in rows]


def test_a_row_type_must_name_columns_of_its_table() -> None:
    """``RawInsert`` derives its columns from the row type's fields and refuses a field
    that is no column of the table, when it is built rather than at the first write."""

    class Drifted(NamedTuple):
        id: int
        owner_name: str

    with pytest.raises(ValueError, match="owner_name"):
        bulk.RawInsert(QUEUE, Drifted)
    with pytest.raises(ValueError, match="nope"):
        bulk.RawInsert(QUEUE, _Counted, on_conflict_do_nothing=("nope",))


_DRIVER_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                           st.text())


@given(st.lists(st.dictionaries(st.text(max_size=8), _DRIVER_VALUES, max_size=6),
                max_size=5))
def test_bulk_json_is_the_standard_encoders_text(rows: list[dict[str, object]]) -> None:
    """The JSON document PostgreSQL's bulk statements take is, byte for byte, what the
    standard library's encoder writes; what orjson refuses goes to that encoder."""
    assert postgresql._json_text(rows) == postgresql._JSON.encode(rows)  # type: ignore[arg-type]


def test_bulk_json_leaves_what_orjson_refuses_to_the_standard_encoder() -> None:
    big = [{"n": 2**70}]
    assert postgresql._json_text(big) == '[{"n":1180591620717411303424}]'


def test_only_the_echo_of_an_aborted_pipeline_is_kept_out_of_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    """psycopg's warning that a pipeline ended on PipelineAborted while its block was
    already failing is dropped (the block's own error is what matters); the same warning
    with any other error, and psycopg's other warnings, still reach the log."""
    import gateway.store.postgresql  # noqa: F401 - installs the filter

    psycopg_log = logging.getLogger("psycopg")
    with caplog.at_level(logging.WARNING, logger="psycopg"):
        psycopg_log.warning("error ignored terminating %r: %s", object(),
                            psycopg.errors.PipelineAborted("pipeline aborted"))
        psycopg_log.warning("error ignored terminating %r: %s", object(),
                            psycopg.errors.UniqueViolation("duplicate key"))
        psycopg_log.warning("something else: %s", "kept")
    assert [r.getMessage().split(": ", 1)[-1] for r in caplog.records] == [
        "duplicate key", "kept"]
