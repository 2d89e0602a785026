"""https transfers: outbound interchanges POSTed to partners over plain HTTPS

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:40:00

Many partners and VANs take EDI by an HTTPS POST rather than AS2 (issue 18). Each queued
send is an ``https_transfers`` row worked by the one leased outbox; the partner's secret
is never stored (it is read from the environment at each attempt).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "https_transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("locked_by", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_https_transfers_message_id_messages")),
        sa.ForeignKeyConstraint(["payload_sha256"], ["payloads.sha256"],
                                name=op.f("fk_https_transfers_payload_sha256_payloads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_https_transfers")),
    )
    with op.batch_alter_table("https_transfers", schema=None) as batch_op:
        batch_op.create_index("ix_https_transfers_due", ["status", "next_attempt_at"],
                              unique=False)
        batch_op.create_index("ix_https_transfers_partner", ["partner_id", "created_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_https_transfers_message_id"), ["message_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("https_transfers")
