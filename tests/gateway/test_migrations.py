"""Alembic migrations build exactly the schema the models declare, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
from gateway.store.migrate import upgrade


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
