"""Gateway fixtures: a fresh database on every backend the suite can reach.

``db`` runs each test on SQLite (a file under tmp_path, WAL) and, when
``EDIGATE_TEST_DATABASE_URL`` is set (CI sets it), on PostgreSQL in a schema of its own
that is dropped afterwards. Without the variable the PostgreSQL cases skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gateway.store.base import Base
from gateway.store.db import Database

PG_URL = os.environ.get("EDIGATE_TEST_DATABASE_URL", "")


def _pg_url(url: str) -> str:
    """SQLAlchemy URL with the psycopg 3 driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'edigate.db'}"
        return
    if not PG_URL:
        pytest.skip("EDIGATE_TEST_DATABASE_URL is not set: PostgreSQL cases skipped")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{_pg_url(PG_URL)}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A ``Database`` with every table created (migrations are tested separately)."""
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()
