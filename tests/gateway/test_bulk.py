"""Multi-row inserts store exactly what a Core insert stores (types processed the same way),
skip conflicting keys when asked, and split statements that would exceed the parameter
limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import insert, select

from gateway.store import driver
from gateway.store.bulk import MultiRowInsert
from gateway.store.db import Database
from gateway.store.models import Payload

PAYLOADS = Payload.__table__


class _Payload(NamedTuple):
    """A payload row as the tests insert it: the fields are the columns."""

    sha256: str
    size: int
    data: bytes
    created_at: object


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


def test_returning_gives_back_the_rows_inserted_only(db: Database) -> None:
    """With ``returning``, the insert gives back those columns of each row it inserted:
    a row skipped on a conflict gives nothing back."""
    at = datetime.now(UTC)
    fast = MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at"),
                          on_conflict_do_nothing=("sha256",), returning=("sha256", "size"))
    with db.core_transaction() as conn:
        first = fast.execute(conn, [{"sha256": "a" * 64, "size": 1, "data": b"1",
                                     "created_at": at}])
        again = fast.execute(conn, [
            {"sha256": "a" * 64, "size": 2, "data": b"22", "created_at": at},
            {"sha256": "f" * 64, "size": 3, "data": b"333", "created_at": at}])
    assert [tuple(r) for r in first] == [("a" * 64, 1)]
    assert [tuple(r) for r in again] == [("f" * 64, 3)]
    assert MultiRowInsert(PAYLOADS, ("sha256", "size")).execute(conn, []) == []


def test_large_inserts_are_split_under_the_parameter_limit(
        db: Database, monkeypatch: object) -> None:
    """More rows than one statement may bind go in several statements, all stored."""
    monkeypatch.setattr(driver, "MAX_PARAMETERS", 10)  # type: ignore[attr-defined]
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


def test_raw_rows_read_back_like_core_inserts(db: Database) -> None:
    """Tuples of driver-ready values through a driver cursor (datetimes bound once with
    RawInsert.bind) read back equal to the same values written by SQLAlchemy's insert."""
    from gateway.store.bulk import RawInsert, driver_cursor

    at = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
    whole_second = datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)  # ISO text without fraction
    raw = RawInsert(PAYLOADS, _Payload)
    with db.core_transaction() as conn, driver_cursor(conn) as cursor:
        bound = raw.bind(conn.dialect, "created_at", at)
        raw.execute(cursor, conn.dialect, [
            ("a" * 64, 3, b"\x00\xffx", bound), ("b" * 64, 0, b"", bound),
            ("d" * 64, 4, "é\\\"".encode(), raw.bind(conn.dialect, "created_at", whole_second))])
        conn.execute(insert(PAYLOADS), [{"sha256": "c" * 64, "size": 3, "data": b"\x00\xffx",
                                         "created_at": at}])
    with db.read() as session:
        rows = {p.sha256[0]: p for p in session.scalars(select(Payload))}
    assert (rows["a"].data, rows["a"].size, rows["a"].created_at) == \
        (rows["c"].data, rows["c"].size, rows["c"].created_at) == (b"\x00\xffx", 3, at)
    assert rows["b"].data == b""
    assert (rows["d"].data, rows["d"].created_at) == ("é\\\"".encode(), whole_second)
    if db.dialect.name == "sqlite":  # the stored text itself, not only what it parses back to
        with db.core_transaction() as conn:
            texts = dict(conn.exec_driver_sql(
                "SELECT substr(sha256, 1, 1), created_at FROM payloads").all())
        assert texts["a"] == texts["c"]


def test_raw_inserts_skip_conflicts_and_split_like_multi_row_ones(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """RawInsert honours on_conflict_do_nothing and splits under the parameter limit."""
    from gateway.store.bulk import RawInsert, driver_cursor

    monkeypatch.setattr(driver, "MAX_PARAMETERS", 10)
    raw = RawInsert(PAYLOADS, _Payload,
                    on_conflict_do_nothing=("sha256",))
    with db.core_transaction() as conn, driver_cursor(conn) as cursor:
        at = raw.bind(conn.dialect, "created_at", datetime.now(UTC))
        raw.execute(cursor, conn.dialect, [(f"{n:064x}", n, b"", at) for n in range(7)])
        raw.execute(cursor, conn.dialect, [(f"{n:064x}", 100 + n, b"", at) for n in range(5, 9)])
    with db.read() as session:
        assert sorted(p.size for p in session.scalars(select(Payload))) == \
            [0, 1, 2, 3, 4, 5, 6, 107, 108]


def test_driver_cursor_errors_are_sqlalchemy_errors(db: Database) -> None:
    """A unique violation on a driver cursor is SQLAlchemy's IntegrityError (what the
    intake writer's per-message retry catches), and the transaction is rolled back."""
    from sqlalchemy.exc import IntegrityError

    from gateway.store.bulk import RawInsert, driver_cursor

    raw = RawInsert(PAYLOADS, _Payload)
    with db.core_transaction() as conn, driver_cursor(conn) as cursor:
        at = raw.bind(conn.dialect, "created_at", datetime.now(UTC))
        raw.execute(cursor, conn.dialect, [("f" * 64, 1, b"f", at)])
    with pytest.raises(IntegrityError), db.core_transaction() as conn, \
            driver_cursor(conn) as cursor:
        raw.execute(cursor, conn.dialect, [("0" * 64, 1, b"0", at), ("f" * 64, 1, b"f", at)])
    with db.read() as session:
        assert [p.sha256 for p in session.scalars(select(Payload))] == ["f" * 64]


def test_raw_insert_refuses_values_too_long_like_a_plain_insert(db: Database) -> None:
    """On PostgreSQL (where the rows travel as one JSON document) a string too long for its
    varchar column fails the insert instead of being cut to length; SQLite does not check
    lengths and stores it whole, as a plain insert would."""
    from sqlalchemy.exc import DataError

    from gateway.store.bulk import RawInsert, driver_cursor

    raw = RawInsert(PAYLOADS, _Payload)
    too_long = "a" * 65  # payloads.sha256 is VARCHAR(64)
    if db.dialect.name == "sqlite":
        with db.core_transaction() as conn, driver_cursor(conn) as cursor:
            at = raw.bind(conn.dialect, "created_at", datetime.now(UTC))
            raw.execute(cursor, conn.dialect, [(too_long, 1, b"x", at)])
        with db.read() as session:
            assert [p.sha256 for p in session.scalars(select(Payload))] == [too_long]
        return
    with pytest.raises(DataError), db.core_transaction() as conn, \
            driver_cursor(conn) as cursor:
        at = raw.bind(conn.dialect, "created_at", datetime.now(UTC))
        raw.execute(cursor, conn.dialect, [("b" * 64, 1, b"x", at), (too_long, 1, b"x", at)])
    with db.read() as session:
        assert session.scalars(select(Payload)).all() == []


def test_multi_row_updates_store_what_core_updates_store(db: Database) -> None:
    """A multi-row update sets each row named by its key to its own values (bytes, ints and
    aware datetimes read back as a Core update's), leaves rows it does not name alone and
    passes over a key that matches no row."""
    from sqlalchemy import update

    from gateway.store.bulk import MultiRowUpdate

    at = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
    later = at + timedelta(days=1, microseconds=1)
    with db.core_transaction() as conn:
        conn.execute(insert(PAYLOADS), [
            {"sha256": c * 64, "size": 0, "data": b"", "created_at": at} for c in "abcd"])
    fast = MultiRowUpdate(PAYLOADS, "sha256", ("size", "data", "created_at"))
    with db.core_transaction() as conn:
        fast.execute(conn, [
            {"sha256": "a" * 64, "size": 3, "data": b"\x00\xffx", "created_at": later},
            {"sha256": "b" * 64, "size": 7, "data": b"", "created_at": at},
            {"sha256": "e" * 64, "size": 9, "data": b"e", "created_at": at}])
        conn.execute(update(PAYLOADS).where(PAYLOADS.c.sha256 == "c" * 64).values(
            size=3, data=b"\x00\xffx", created_at=later))
    with db.read() as session:
        rows = {p.sha256[0]: (p.size, p.data, p.created_at)
                for p in session.scalars(select(Payload))}
    assert rows == {"a": (3, b"\x00\xffx", later), "b": (7, b"", at),
                    "c": (3, b"\x00\xffx", later), "d": (0, b"", at)}


def test_multi_row_update_refuses_a_missing_or_unknown_value() -> None:
    """Every column of the update must be given, and nothing else: a missing one is an
    error, never NULL, and a value with no column in the update is not dropped unseen."""
    from sqlalchemy import create_engine

    from gateway.store.bulk import MultiRowUpdate

    engine = create_engine("sqlite://")
    PAYLOADS.metadata.create_all(engine, tables=[PAYLOADS])
    fast = MultiRowUpdate(PAYLOADS, "sha256", ("size", "created_at"))
    with engine.begin() as conn, pytest.raises(ValueError, match="without created_at"):
        fast.execute(conn, [{"sha256": "a" * 64, "size": 1}])
    with engine.begin() as conn, pytest.raises(ValueError, match="no column data"):
        fast.execute(conn, [{"sha256": "a" * 64, "size": 1, "data": b""}])


def test_on_conflict_replace_updates_the_row_of_an_existing_key(db: Database) -> None:
    """With on_conflict_replace a row whose key exists replaces that row's other columns
    (as the Core update would store them); a new key is inserted."""
    at = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
    fast = MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at"),
                          on_conflict_replace=("sha256",))
    with db.core_transaction() as conn:
        fast.execute(conn, [{"sha256": "a" * 64, "size": 1, "data": b"1", "created_at": at}])
    with db.core_transaction() as conn:
        fast.execute(conn, [
            {"sha256": "a" * 64, "size": 2, "data": b"\x00\xff", "created_at":
             at + timedelta(days=1)},
            {"sha256": "d" * 64, "size": 1, "data": b"d", "created_at": at}])
    with db.read() as session:
        assert {p.sha256[0]: (p.size, p.data, p.created_at)
                for p in session.scalars(select(Payload))} == {
            "a": (2, b"\x00\xff", at + timedelta(days=1)), "d": (1, b"d", at)}


def test_on_conflict_keep_leaves_the_existing_row_and_returns_what_it_inserted(
        db: Database) -> None:
    """With on_conflict_keep a row whose key exists is left as it was (and locked, on
    PostgreSQL); RETURNING gives back the rows inserted, as Core reads them (an aware
    datetime on SQLite too)."""
    at = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
    fast = MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at"),
                          on_conflict_keep=("sha256",),
                          returning=("sha256", "size", "created_at"))
    with db.core_transaction() as conn:
        first = fast.execute(conn, [{"sha256": "a" * 64, "size": 1, "data": b"1",
                                     "created_at": at}])
    with db.core_transaction() as conn:
        again = fast.execute(conn, [
            {"sha256": "a" * 64, "size": 2, "data": b"22", "created_at": at + timedelta(1)},
            {"sha256": "e" * 64, "size": 3, "data": b"333", "created_at": at}])
    assert first == [("a" * 64, 1, at)]
    assert again == [("e" * 64, 3, at)]
    with db.read() as session:
        assert {p.sha256[0]: p.data for p in session.scalars(select(Payload))} == \
            {"a": b"1", "e": b"333"}
    with pytest.raises(ValueError, match="one of them"):
        MultiRowInsert(PAYLOADS, ("sha256",), on_conflict_keep=("sha256",),
                       on_conflict_do_nothing=("sha256",))._prepare(db.engine.dialect)


def test_a_raw_select_sent_after_writes_reads_what_they_wrote(db: Database) -> None:
    """A RawSelect sent in ``pipelined`` after an insert (one round trip on PostgreSQL)
    reads the rows the insert wrote, named through a json_pairs parameter (any number
    of keys, characters JSON escapes among them), its values as Core reads them (an
    aware datetime on SQLite too)."""
    import json

    from gateway.store.bulk import RawSelect, driver_cursor, pipelined
    from gateway.store.dialect import dialect_for

    at = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
    keys = dialect_for(db.engine).json_pairs("keys")
    read = RawSelect(select(PAYLOADS.c.sha256, PAYLOADS.c.size, PAYLOADS.c.created_at)
                     .where(PAYLOADS.c.sha256.in_(select(keys.c.a).where(keys.c.b == "*")))
                     .order_by(PAYLOADS.c.sha256))
    names = ["a\"é\\" + "x" * 58, "b" * 64, "c" * 64]
    with db.core_transaction() as conn, driver_cursor(conn) as cursor:
        with pipelined(conn):
            MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at")).execute(
                conn, [{"sha256": name, "size": n, "data": b"", "created_at": at}
                       for n, name in enumerate(names)])
            read.send(cursor, conn.dialect, {"keys": json.dumps(
                [[names[0], "*"], [names[1], "-"], [names[2], "*"], ["z" * 64, "*"]])})
        rows = read.rows(cursor, conn.dialect)
    assert rows == [(names[0], 0, at), (names[2], 2, at)]


def test_json_values_names_rows_by_a_list_of_any_length(db: Database) -> None:
    """A RawSelect over ``json_values`` reads the rows whose key is in the JSON list
    bound to it: none, one or several, characters JSON escapes among them."""
    import json

    from gateway.store.bulk import RawSelect, driver_cursor
    from gateway.store.dialect import dialect_for

    at = datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)
    digests = dialect_for(db.engine).json_values("digests")
    read = RawSelect(select(PAYLOADS.c.sha256, PAYLOADS.c.data)
                     .where(PAYLOADS.c.sha256.in_(select(digests.c.value)))
                     .order_by(PAYLOADS.c.sha256))
    names = ["a\"é\\\n" + "x" * 59, "b" * 64, "c" * 64]
    with db.core_transaction() as conn, driver_cursor(conn) as cursor:
        MultiRowInsert(PAYLOADS, ("sha256", "size", "data", "created_at")).execute(
            conn, [{"sha256": name, "size": n, "data": bytes([n]) * 3, "created_at": at}
                   for n, name in enumerate(names)])
        found = []
        for wanted in ([], [names[1]], [names[2], names[0], "z" * 64]):
            read.send(cursor, conn.dialect, {"digests": json.dumps(wanted)})
            found.append(read.rows(cursor, conn.dialect))
    assert found == [[], [(names[1], b"\x01" * 3)],
                     [(names[0], b"\x00" * 3), (names[2], b"\x02" * 3)]]
