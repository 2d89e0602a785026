"""The database layer works the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from gateway.store.db import Database


def test_transaction_commits_and_rolls_back(db: Database) -> None:
    """Work in a failed unit of work is rolled back; a successful one is committed."""
    with db.transaction() as s:
        s.execute(text("CREATE TABLE probe (n INTEGER)"))
    try:
        with db.transaction() as s:
            s.execute(text("INSERT INTO probe VALUES (1)"))
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with db.transaction() as s:
        s.execute(text("INSERT INTO probe VALUES (2)"))
    with db.transaction() as s:
        assert s.execute(text("SELECT n FROM probe")).scalars().all() == [2]


def test_sqlite_uses_wal(tmp_path: object) -> None:
    """An SQLite database is put in WAL mode with foreign keys enforced."""
    database = Database(f"sqlite:///{tmp_path}/w.db")
    with database.transaction() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


def test_plain_postgresql_url_uses_psycopg3() -> None:
    """A postgresql:// URL (as operators write it) selects the psycopg 3 driver."""
    database = Database("postgresql://u@127.0.0.1:1/x")
    assert database.engine.dialect.driver == "psycopg"
    database.dispose()


def test_readers_do_not_wait_for_writers(tmp_path: object) -> None:
    """On SQLite a read-only unit of work runs while a writer holds the write lock."""
    import sqlite3

    database = Database(f"sqlite:///{tmp_path}/r.db")
    with database.transaction() as s:
        s.execute(text("CREATE TABLE t (n INTEGER)"))
    raw = sqlite3.connect(f"{tmp_path}/r.db", timeout=0.1, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        with database.read() as s:
            assert s.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        raw.execute("ROLLBACK")
        raw.close()
        database.dispose()


def test_eager_lock_waits_for_another_writer_then_restores_the_busy_timeout(
        tmp_path: object) -> None:
    """An eager-lock unit of work started while another connection holds SQLite's write
    lock waits for it (no "database is locked"), commits after it, and leaves its
    connection with the normal 30 s busy timeout."""
    import threading
    import time
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    db = Database(f"sqlite:///{tmp_path / 'lock.db'}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []
    holding = threading.Event()

    def hold() -> None:
        with db.core_transaction() as other:
            other.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            time.sleep(0.2)
            order.append("first committed")

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    with db.core_transaction(eager_lock=True) as connection:
        order.append("second began")
        connection.execute(text("INSERT INTO t VALUES (2)"))
        raw = connection.connection.dbapi_connection
        assert raw is not None
        assert raw.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    holder.join()
    assert order == ["first committed", "second began"]
    with db.read() as session:
        assert session.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]
    db.dispose()


def test_held_connection_polls_for_the_lock_and_restores_the_busy_timeout(
        tmp_path: object) -> None:
    """A held connection (the intake writer's) has a busy timeout of 0 while held, so its
    eager transactions poll for SQLite's write lock (waiting for another writer instead of
    failing), and goes back to the pool with the normal 30 s timeout."""
    import threading
    import time
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    db = Database(f"sqlite:///{tmp_path / 'held.db'}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []
    holding = threading.Event()

    def hold() -> None:
        with db.core_transaction() as other:
            other.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            time.sleep(0.2)
            order.append("first committed")

    with db.held_connection() as held:
        raw = held.connection.dbapi_connection
        assert raw is not None
        assert raw.execute("PRAGMA busy_timeout").fetchone()[0] == 0
        holder = threading.Thread(target=hold)
        holder.start()
        assert holding.wait(5)
        with db.eager_transaction(held) as connection:
            order.append("second began")
            connection.execute(text("INSERT INTO t VALUES (2)"))
        with db.eager_transaction(held) as connection:  # the same connection, again
            connection.execute(text("INSERT INTO t VALUES (3)"))
        holder.join()
    assert raw.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    assert order == ["first committed", "second began"]
    with db.read() as session:
        assert session.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2, 3]
    db.dispose()
