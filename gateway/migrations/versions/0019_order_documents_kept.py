"""order documents keep their record data when a purge removes the record

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 19:30:00

An order is told from its documents' records. A retention purge deleted a document's
record and left its link, so the next time the order was told (a later document, the
worker's clock) it lost that document: an order whose PO had been purged came back with
no lines. The purge now copies the record data into the link (``kept``) first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_documents") as batch_op:
        batch_op.add_column(sa.Column("kept", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_documents") as batch_op:
        batch_op.drop_column("kept")
