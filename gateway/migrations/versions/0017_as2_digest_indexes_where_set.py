"""the AS2 digest indexes hold only the rows that have a digest

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-22 15:00:00

Revision 0016 indexed ``as2_messages.payload_sha256`` and ``raw_sha256`` for a purge's
check that no row still refers to a payload it would delete. Inbound rows have no
``payload_sha256`` and outbound ones no ``raw_sha256``; counted in a full index, those NULLs
made an analyzed SQLite estimate a lookup by digest at half the table and scan it instead
(3.7 s a purge batch with 500,000 AS2 rows). The indexes are made again with
``WHERE ... IS NOT NULL``: SQLite and PostgreSQL both take them for an equality on the
column, PostgreSQL's foreign key check included.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = ("payload_sha256", "raw_sha256")


def upgrade() -> None:
    for column in COLUMNS:
        name = f"ix_as2_messages_{column}"
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="as2_messages")
        op.create_index(name, "as2_messages", [column], postgresql_where=where,
                        sqlite_where=where)


def downgrade() -> None:
    for column in COLUMNS:
        name = f"ix_as2_messages_{column}"
        op.drop_index(name, table_name="as2_messages")
        op.create_index(name, "as2_messages", [column])
