"""Engines and sessions, on SQLite or PostgreSQL.

``Database`` owns one engine and a session factory; ``transaction()`` is the unit of work
(commit on success, rollback on error). Its sessions carry the message brokers this
process publishes events to (``gateway.store.brokers.BrokerRoute``), so that every
transaction that writes an event enqueues it for them. What the engine and its connections need per
database (SQLite: WAL, a busy timeout, writing transactions that start with BEGIN
IMMEDIATE so that concurrent writers queue instead of failing half-way) is the dialect's
(``gateway.store.dialect``); this module only parses the URL to pick it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.brokers import BrokerRoute, session_info
from gateway.store.dialect import SQLDialect, dialect_of

__all__ = ["Database"]


class Database:
    def __init__(self, url: str, *, echo: bool = False,
                 broker_routes: Sequence[BrokerRoute] = ()) -> None:
        if url.startswith(("postgresql://", "postgres://")):
            # A plain PostgreSQL URL means the driver edigate ships with: psycopg 3.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        parsed = make_url(url)
        # Every operation whose SQL or driver use depends on the database asks this
        # (gateway.store.dialect).
        self.dialect: SQLDialect = dialect_of(parsed.get_backend_name())
        # A database in this process only (in-memory SQLite): no child process can share it.
        self.is_memory = self.dialect.process_local(parsed)
        kwargs: dict[str, Any] = {"echo": echo, "future": True,
                                  **self.dialect.engine_options(parsed)}
        self.engine: Engine = create_engine(url, **kwargs)
        self.dialect.configure_engine(self.engine)
        self.broker_routes = tuple(broker_routes)
        info = session_info(self.broker_routes)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._readers = sessionmaker(self.engine.execution_options(edigate_readonly=True),
                                     expire_on_commit=False, info=info)

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

        ``eager_lock``: where a writing transaction holds the database's write lock
        (SQLite), poll for it while another process holds it instead of waiting in the
        driver's busy handler, which dozes between tries: the group-commit intake writer
        must not doze off while a worker process finishes a short transaction
        (``SQLDialect.begin_eagerly``). Gives up after the usual 30 s.
        """
        if not eager_lock:
            with self.engine.begin() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            with self.dialect.holding(connection):
                self.dialect.begin_eagerly(connection)
            with connection.begin():
                yield connection

    @contextmanager
    def held_connection(self) -> Iterator[Connection]:
        """A connection for one thread's stream of short write transactions (the intake
        writer keeps one while it has work), each begun with ``eager_transaction``.

        Checked out once instead of once a transaction; while it is held, nothing waits in
        the driver for the write lock (``SQLDialect.holding``: on SQLite its busy timeout
        is 0, ``eager_transaction`` polls for the write lock instead, and in WAL mode
        nothing after BEGIN IMMEDIATE waits for a lock), as usual again when it goes back
        to the pool.
        """
        with self.engine.connect() as connection, self.dialect.holding(connection):
            yield connection

    @contextmanager
    def eager_transaction(self, connection: Connection) -> Iterator[Connection]:
        """A transaction on a ``held_connection``, committed on success. Where a writing
        transaction holds the write lock (SQLite) it is taken up front, polled for every
        0.2 ms for up to 30 s while another process holds it."""
        self.dialect.begin_eagerly(connection)
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

