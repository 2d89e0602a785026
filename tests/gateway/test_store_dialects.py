"""The contract of ``gateway.store.dialect.SQLDialect``: the same cases on SQLite and, when
``EDIGATE_TEST_DATABASE_URL`` is set, PostgreSQL (the ``db`` fixture runs each on both).

Each case states what callers rely on, not how a database provides it: claims never hand
one row to two claimants, a read-modify-write under ``locked`` loses no update, an insert
that skips conflicts keeps the first row, intake's lookup finds stored duplicates by
either key, and a batch finish sets exactly the named columns and releases the claim.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, update

from gateway.store import bulk, postgresql
from gateway.store.bulk import driver_cursor
from gateway.store.db import Database
from gateway.store.dialect import dialect_of
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
        at = bulk.RawInsert(Message.__table__, ("updated_at",)).bind(  # type: ignore[arg-type]
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
