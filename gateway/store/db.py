"""Engines and sessions: SQLite in WAL mode with a busy timeout, or PostgreSQL.

``Database`` owns one engine and a session factory; ``transaction()`` is the unit of work
(commit on success, rollback on error). SQLite transactions start with BEGIN IMMEDIATE so
that concurrent writers queue instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.dialect import SQLDialect, dialect_of

__all__ = ["Database"]


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        if url.startswith(("postgresql://", "postgres://")):
            # A plain PostgreSQL URL means the driver edigate ships with: psycopg 3.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # An in-memory SQLite database exists in this process only.
        self.is_memory = self.is_sqlite and url.split("///", 1)[-1] in ("", ":memory:",
                                                                         "sqlite://")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        # Every query whose SQL depends on the database asks this (gateway.store.dialect).
        self.dialect: SQLDialect = dialect_of(self.engine.dialect.name)
        if self.is_sqlite:
            self._configure_sqlite(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(self.engine.execution_options(edigate_readonly=True),
                                     expire_on_commit=False)

    @staticmethod
    def _configure_sqlite(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # durable before we say "received"
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Writers take the write lock up front; readers (``Database.read``) must not,
            # or every lookup would queue behind every writer.
            readonly = conn.get_execution_options().get("edigate_readonly", False)
            if conn.connection.dbapi_connection.in_transaction:
                return  # begun by ``core_transaction(eager_lock=True)``, lock held
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: yields a session, commits on success, rolls back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def core_transaction(self, *, eager_lock: bool = False) -> Iterator[Connection]:
        """A unit of work on a Core connection, without an ORM session (hot write paths
        that issue a few prepared statements: the session's bookkeeping would dominate).

        ``eager_lock`` (SQLite): while another process holds the write lock, poll for it
        every 0.2 ms instead of SQLite's busy handler, which sleeps 1, 2, 5, 10, ... ms
        between tries: the group-commit intake writer must not doze off while a worker
        process finishes a short transaction. Gives up after the usual 30 s.
        """
        if not (eager_lock and self.is_sqlite):
            with self.engine.begin() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA busy_timeout=0")
            try:
                _begin_immediate(raw)
            finally:
                raw.execute("PRAGMA busy_timeout=30000")
            with connection.begin():
                yield connection

    @contextmanager
    def held_connection(self) -> Iterator[Connection]:
        """A connection for one thread's stream of short write transactions (the intake
        writer keeps one while it has work), each begun with ``eager_transaction``.

        Checked out once instead of once a transaction; on SQLite its busy timeout is 0
        while it is held (``eager_transaction`` polls for the write lock instead, and in
        WAL mode nothing after BEGIN IMMEDIATE waits for a lock) and 30 s again when it
        goes back to the pool.
        """
        with self.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            if self.is_sqlite:
                assert raw is not None
                raw.execute("PRAGMA busy_timeout=0")
            try:
                yield connection
            finally:
                if self.is_sqlite and not connection.invalidated:
                    with contextlib.suppress(sqlite3.Error):
                        raw.execute("PRAGMA busy_timeout=30000")  # type: ignore[union-attr]

    @contextmanager
    def eager_transaction(self, connection: Connection) -> Iterator[Connection]:
        """A transaction on a ``held_connection``, committed on success. On SQLite the
        write lock is taken up front (BEGIN IMMEDIATE), polled for every 0.2 ms for up to
        30 s while another process holds it."""
        if self.is_sqlite:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            _begin_immediate(raw)
        with connection.begin():
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (no write lock on SQLite). Closing ends its transaction
        without expiring what was loaded, so rows stay readable after the block."""
        session = self._readers()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _begin_immediate(raw: Any) -> None:
    """BEGIN IMMEDIATE on a connection whose busy timeout is 0: poll every 0.2 ms, give up
    after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or \
                    time.monotonic() > deadline:
                raise
            time.sleep(0.0002)
