"""Alembic environment: migrates the database named in the Alembic config (set by
``gateway.store.migrate``) to the schema of ``gateway.store`` and ``gateway.ledger.chain``."""

from __future__ import annotations

from alembic import context

# Imported for their side effect: they register their tables on Base.metadata.
import gateway.ledger.chain
import gateway.store.as2
import gateway.store.brokers
import gateway.store.events
import gateway.store.health
import gateway.store.holds
import gateway.store.https
import gateway.store.leases
import gateway.store.models
import gateway.store.orders
import gateway.store.outbound
import gateway.store.rollups
import gateway.store.search
import gateway.store.sftp
import gateway.store.users
import gateway.store.webhooks  # noqa: F401
from gateway.store.base import Base, created_on
from gateway.store.db import Database

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            dialect = connection.dialect.name
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=dialect == "sqlite",
                              include_object=lambda item, *_: created_on(item, dialect))
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        database.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
