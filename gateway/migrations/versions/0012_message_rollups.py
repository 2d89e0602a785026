"""message rollups: the dashboard's counts kept as messages are stored and finished

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09 10:00:00

The dashboard counted messages with a scan capped at 200000 rows, so past that it showed
the cap and computed the error rate on part of the window (issue 19, point 11).
``message_rollups`` holds a counter per status group for each hour, partner, transaction
type and direction, and ``message_rollups_daily`` the same per day, maintained in the
transactions that store and finish messages (``gateway.store.rollups``). This revision
creates them and counts the messages stored so far into them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_rollups",
        sa.Column("hour", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("transaction_type", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("generated", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "partner_id", "transaction_type", "direction",
                                name=op.f("pk_message_rollups")),
    )
    op.create_table(
        "message_rollups_daily",
        sa.Column("day", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("transaction_type", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("generated", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "partner_id", "transaction_type", "direction",
                                name=op.f("pk_message_rollups_daily")),
    )
    _backfill()


def _backfill() -> None:
    """Count the messages stored before this revision (imported when it runs, as 0004
    does: the counting rule is the one the writers keep)."""
    from gateway.store.rollups import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("message_rollups_daily")
    op.drop_table("message_rollups")
