"""readiness heartbeat: the row /readyz rewrites to prove the database takes writes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 18:40:00

A SELECT succeeds on a read-only database file, in PostgreSQL's read-only transaction
mode and on a full disk alike; only a committed write shows that the gateway can store
what it receives (``gateway.store.health``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readiness_heartbeat",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("beat_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_heartbeat")),
    )


def downgrade() -> None:
    op.drop_table("readiness_heartbeat")
