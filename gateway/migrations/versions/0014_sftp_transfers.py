"""sftp transfers: outbound interchanges and acknowledgments uploaded to partners' SFTP

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-20 09:00:00

Partners and VANs that exchange EDI as files on an SFTP server (issue 20): each queued
upload is an ``sftp_transfers`` row worked by the one leased outbox. No credential is
stored (keys are files, passwords environment variables).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sftp_transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("remote_path", sa.String(length=600), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("locked_by", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_sftp_transfers_message_id_messages")),
        sa.ForeignKeyConstraint(["payload_sha256"], ["payloads.sha256"],
                                name=op.f("fk_sftp_transfers_payload_sha256_payloads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sftp_transfers")),
    )
    with op.batch_alter_table("sftp_transfers", schema=None) as batch_op:
        batch_op.create_index("ix_sftp_transfers_due", ["status", "next_attempt_at"],
                              unique=False)
        batch_op.create_index("ix_sftp_transfers_partner", ["partner_id", "created_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_sftp_transfers_message_id"), ["message_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("sftp_transfers")
