"""ops_login_failures: failed sign-ins to the ops UI, for throttling

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:30:00

Counted in the database rather than in each process's memory, so that several web
processes or hosts share the counts and a restart does not forget them (gateway.ui.throttle).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_login_failures",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("blocked_until", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("last_success_at", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_ops_login_failures")),
    )


def downgrade() -> None:
    op.drop_table("ops_login_failures")
