"""leases: one holder at a time for jobs every worker could run

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:00:00

Every worker process polled each partner's SFTP inbound path; with several processes the
same file was downloaded by each and all but one were answered as duplicates. A lease per
partner (``gateway.store.leases``) lets one process poll while the others stand by.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("until", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
