"""Multi-row inserts store exactly what a Core insert stores (types processed the same way),
skip conflicting keys when asked, and split statements that would exceed the parameter
limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from gateway.store import bulk
from gateway.store.bulk import MultiRowInsert
from gateway.store.db import Database
from gateway.store.models import Payload

PAYLOADS = Payload.__table__


def test_rows_read_back_like_core_inserts(db: Database) -> None:
    """Bytes, ints and aware datetimes written by a multi-row insert read back equal to the
    same values written by SQLAlchemy's own insert."""
    at = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
    fast = MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at"))
    with db.core_transaction() as conn:
        fast.execute(conn, [{"sha256": "a" * 64, "size": 3, "data": b"\x00\xffx",
                             "created_at": at},
                            {"sha256": "b" * 64, "size": 0, "data": b"", "created_at": at}])
        conn.execute(insert(PAYLOADS), [{"sha256": "c" * 64, "size": 3, "data": b"\x00\xffx",
                                         "created_at": at}])
    with db.read() as session:
        rows = {p.sha256[0]: p for p in session.scalars(select(Payload))}
    assert (rows["a"].data, rows["a"].size, rows["a"].created_at) == \
        (rows["c"].data, rows["c"].size, rows["c"].created_at) == (b"\x00\xffx", 3, at)
    assert rows["b"].data == b"" and rows["a"].created_at.tzinfo is not None


def test_on_conflict_do_nothing_keeps_the_first_row(db: Database) -> None:
    """With on_conflict_do_nothing a key that exists is skipped, the others are stored."""
    at = datetime.now(UTC)
    fast = MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at"),
                          on_conflict_do_nothing=("sha256",))
    with db.core_transaction() as conn:
        fast.execute(conn, [{"sha256": "a" * 64, "size": 1, "data": b"1", "created_at": at}])
    with db.core_transaction() as conn:
        fast.execute(conn, [{"sha256": "a" * 64, "size": 2, "data": b"22", "created_at": at},
                            {"sha256": "d" * 64, "size": 1, "data": b"d",
                             "created_at": at + timedelta(seconds=1)}])
    with db.read() as session:
        assert {p.sha256[0]: p.data for p in session.scalars(select(Payload))} == \
            {"a": b"1", "d": b"d"}


def test_large_inserts_are_split_under_the_parameter_limit(
        db: Database, monkeypatch: object) -> None:
    """More rows than one statement may bind go in several statements, all stored."""
    monkeypatch.setattr(bulk, "_MAX_PARAMETERS", 10)  # type: ignore[attr-defined]
    at = datetime.now(UTC)
    fast = MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at"))
    with db.core_transaction() as conn:
        fast.execute(conn, [{"sha256": f"{n:064x}", "size": n, "data": b"", "created_at": at}
                            for n in range(7)])
    with db.read() as session:
        assert sorted(p.size for p in session.scalars(select(Payload))) == list(range(7))


def test_errors_of_pipelined_writes_are_sqlalchemy_errors(db: Database) -> None:
    """A unique violation among pipelined writes (PostgreSQL) is raised as SQLAlchemy's
    IntegrityError, like any other statement's, so callers can retry or isolate it; on
    SQLite the same code runs unpipelined with the same outcome."""
    from sqlalchemy.exc import IntegrityError

    from gateway.store.bulk import pipelined

    at = datetime.now(UTC)
    fast = MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at"))
    row = {"sha256": "e" * 64, "size": 1, "data": b"e", "created_at": at}
    with db.core_transaction() as conn:
        fast.execute(conn, [row])
    with pytest.raises(IntegrityError), db.core_transaction() as conn, pipelined(conn):
        fast.execute(conn, [row])
    with db.read() as session:
        assert [p.sha256 for p in session.scalars(select(Payload))] == ["e" * 64]
