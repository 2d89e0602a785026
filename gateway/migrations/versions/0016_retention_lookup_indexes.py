"""indexes for what a purge looks up: payload digests and deliveries by message

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-22 09:00:00

A purge (issue 20, point 10) deletes a batch's payloads only when no row still refers to
them, and deletes a message's webhook deliveries with it. Without these indexes each
batch read the whole of ``as2_messages``, ``https_transfers``, ``sftp_transfers`` and
``deliveries``, and PostgreSQL's foreign key check read the referring tables again for
every payload deleted, so a purge slowed down with the size of those tables (measured in
bench/README.md, "Retention: purge beside intake"). On SQLite the same holds for
``messages.payload_sha256``: its unique key with the partner keeps the partner first there
(revision 0005), which serves no lookup by digest alone.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = (
    ("as2_messages", "payload_sha256"),
    ("as2_messages", "raw_sha256"),
    ("https_transfers", "payload_sha256"),
    ("sftp_transfers", "payload_sha256"),
    ("deliveries", "message_id"),
)


def _indexes() -> tuple[tuple[str, str], ...]:
    if op.get_bind().dialect.name == "sqlite":
        return (*INDEXES, ("messages", "payload_sha256"))
    return INDEXES


def upgrade() -> None:
    for table, column in _indexes():
        op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table, column in reversed(_indexes()):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
