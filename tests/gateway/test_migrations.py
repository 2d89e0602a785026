"""Alembic migrations build exactly the schema the models declare, on every backend."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import gateway.ledger.chain  # registers the ledger tables
import gateway.store.events  # registers the events
import gateway.store.health  # registers the readiness heartbeat
import gateway.store.holds  # registers the legal holds
import gateway.store.leases  # registers the leases
import gateway.store.models  # registers the gateway tables
import gateway.store.outbound  # registers the sent documents
import gateway.store.rollups  # noqa: F401 - registers the dashboard counts
from gateway.store.base import Base, created_on
from gateway.store.db import Database
from gateway.store.migrate import alembic_config, upgrade


def test_upgrade_matches_models(database_url: str) -> None:
    """After `edigate db upgrade` an autogenerate comparison finds no difference."""
    upgrade(database_url)
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            dialect = connection.dialect.name
            context = MigrationContext.configure(connection, opts={
                "include_object": lambda item, *_: created_on(item, dialect)})
            diff = compare_metadata(context, Base.metadata)
    finally:
        database.dispose()
    assert diff == []


def test_upgrade_is_idempotent(database_url: str) -> None:
    """Running the migrations twice is harmless (the second run has nothing to do)."""
    upgrade(database_url)
    upgrade(database_url)


def test_large_texts_are_compressed_with_lz4_where_the_server_has_it(database_url: str
                                                                     ) -> None:
    """Records' JSON and payloads are stored with lz4 (PostgreSQL with lz4); going back
    a revision returns them to the server's default."""
    if not database_url.startswith("postgresql"):
        pytest.skip("TOAST compression is PostgreSQL's; SQLite stores text as it is")
    upgrade(database_url)
    database = Database(database_url)

    def methods() -> dict[tuple[str, str], str]:
        with database.engine.connect() as connection:
            if not connection.execute(text(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                    "WHERE name = 'default_toast_compression'")).scalar():
                pytest.skip("this PostgreSQL server has no lz4")
            return {(table, column): connection.execute(text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = "
                "CAST(:table AS regclass) AND attname = :column"),
                {"table": table, "column": column}).scalar_one()
                for table, column in (("records", "data"), ("payloads", "data"),
                                      ("order_documents", "kept"))}

    try:
        assert set(methods().values()) == {"l"}
        command.downgrade(alembic_config(database_url), "0019")
        assert set(methods().values()) == {""}
    finally:
        database.dispose()
