"""records' JSON and stored payloads compressed with lz4 on PostgreSQL

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 23:55:00

A value over about 2 kB is compressed when it is stored (TOAST). PostgreSQL's default
method, pglz, made up about a third of the server's time to insert record JSON, and a
batch's records are its largest write: every processed document writes one. lz4 costs
little and keeps about a fifth more bytes (bench/record_compression.py; bench/README.md,
"Record JSON on PostgreSQL"). Only new values use it; stored ones stay as they are and
read as before.

Nothing changes on SQLite, or on a server without lz4 (before PostgreSQL 14, or built
without it): those go on with their default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# (table, column): the texts and bytes that are kilobytes as a rule.
COLUMNS = (("records", "data"), ("payloads", "data"), ("order_documents", "kept"))


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.execute(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
        "WHERE name = 'default_toast_compression'")).scalar())


def _set(method: str) -> None:
    if not _lz4_available():
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    _set("lz4")


def downgrade() -> None:
    _set("default")
