"""broker deliveries: events published to RabbitMQ (AMQP) and NATS JetStream

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09 10:00:00

Internal systems that consume from a message broker get every event (issue 19): one
``broker_deliveries`` row per (event, broker), written in the transaction that writes the
event and worked by the one leased outbox, like webhook deliveries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broker_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("locked_by", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_broker_deliveries_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broker_deliveries")),
        sa.UniqueConstraint("event_id", "broker",
                            name=op.f("uq_broker_deliveries_event_id_broker")),
    )
    with op.batch_alter_table("broker_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_broker_deliveries_due",
                              ["broker", "status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_table("broker_deliveries")
