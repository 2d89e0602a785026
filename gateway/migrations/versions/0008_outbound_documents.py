"""outbound documents: sent_documents, and consumer keys that may send

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 06:30:00

Internal systems submit records that edigate writes as X12 or EDIFACT for a partner
(issue 18). Each generated transaction set or message gets a ``sent_documents`` row with
its control numbers and the acknowledgment it awaits; ``api_keys.can_send`` marks the
consumer keys allowed to submit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("standard", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=10), nullable=False),
        sa.Column("version", sa.String(length=12), nullable=False),
        sa.Column("interchange_control", sa.String(length=20), nullable=False),
        sa.Column("group_control", sa.String(length=20), nullable=True),
        sa.Column("transaction_control", sa.String(length=20), nullable=False),
        sa.Column("business_number", sa.String(length=80), nullable=True),
        sa.Column("document_number", sa.String(length=80), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("ack_status", sa.String(length=24), nullable=False),
        sa.Column("ack_due_at", gateway.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ta1_status", sa.String(length=24), nullable=True),
        sa.Column("ack_message_id", sa.String(length=36), nullable=True),
        sa.Column("ack_detail", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_sent_documents_message_id_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_documents")),
    )
    with op.batch_alter_table("sent_documents", schema=None) as batch_op:
        batch_op.create_index("ix_sent_documents_controls",
                              ["partner_id", "interchange_control", "group_control",
                               "transaction_control"], unique=False)
        batch_op.create_index("ix_sent_documents_ack_due", ["ack_status", "ack_due_at"],
                              unique=False)
        batch_op.create_index("ix_sent_documents_partner_seq",
                              ["partner_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sent_documents_message_id"), ["message_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_sent_documents_business_number"),
                              ["business_number"], unique=False)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("can_send", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("can_send")
    op.drop_table("sent_documents")
