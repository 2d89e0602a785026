"""legal holds: messages kept whatever the retention policy says

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-12 10:00:00

Retention (issue 20, points 7-10) archives and purges messages that are due; an operator
can hold a message (``edigate retention hold ID``) so that no purge takes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("held_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_legal_holds")),
    )


def downgrade() -> None:
    op.drop_table("legal_holds")
