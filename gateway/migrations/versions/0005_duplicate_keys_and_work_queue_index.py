"""duplicate keys lead with the payload digest and the control number; the work queue's
index is (status, received_at, id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:20:00

The intake writer probes the two unique keys of ``messages`` for every batch. With the
partner first in both, ``ix_messages_partner_received`` matched the probe as well as the
unique index did, and before ``messages`` was analyzed PostgreSQL costed them the same and
took the partner's index, filtering every message of the partner (measured: 0.4 ms a batch
at 100 messages, 10 ms at 2,000). With the digest and the control number first, the probe
(``gateway.intake.group_commit``) asks only for those, and the unique index is the one index
that fits.

Claims took the oldest message that is RECEIVED or PROCESSING with an expired lease in one
query, which PostgreSQL planned over ix_messages_status_lock (status, locked_until) as a scan
of every waiting message and a sort (1 ms a claim at 2,000 waiting). They now walk
ix_messages_status_received (status, received_at, id) for each status and stop at the first
row they can lock; the message log's status filter, in received order, uses it too.

SQLite keeps its unique keys as they were: they are part of the table definition (changing
them means rebuilding ``messages`` with its foreign keys turned off), and its planner takes
the unique index for the IN lists its lookup sends, whatever the column order.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_messages_status_lock", table_name="messages")
    op.create_index("ix_messages_status_received", "messages", ["status", "received_at", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint("uq_messages_payload", "messages", type_="unique")
    op.create_unique_constraint("uq_messages_payload", "messages",
                                ["payload_sha256", "partner_id"])
    op.drop_constraint("uq_messages_interchange", "messages", type_="unique")
    op.create_unique_constraint("uq_messages_interchange", "messages",
                                ["interchange_control", "interchange_sender", "partner_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_status_received", table_name="messages")
    op.create_index("ix_messages_status_lock", "messages", ["status", "locked_until"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint("uq_messages_interchange", "messages", type_="unique")
    op.create_unique_constraint("uq_messages_interchange", "messages",
                                ["partner_id", "interchange_sender", "interchange_control"])
    op.drop_constraint("uq_messages_payload", "messages", type_="unique")
    op.create_unique_constraint("uq_messages_payload", "messages",
                                ["partner_id", "payload_sha256"])
