"""orders: every PO as an order with its lines, documents and findings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:30:22

Issue 19: the order story (PO, changes, response, ship notices, invoices) is maintained in
the processing transaction instead of being computed by scanning documents. Existing
records join their orders with ``edigate orders rebuild``. ``demand_points`` holds the
forecasts, product activity and inventory partners report, per product and period.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("po_number", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=4), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("order_date", sa.String(length=10), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("ordered_amount", sa.String(length=40), nullable=False),
        sa.Column("invoiced_amount", sa.String(length=40), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("has_discrepancy", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("lines_live", sa.Integer(), nullable=False),
        sa.Column("lines_filled", sa.Integer(), nullable=False),
        sa.Column("asn_count", sa.Integer(), nullable=False),
        sa.Column("asn_late", sa.Integer(), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("invoice_flagged", sa.Integer(), nullable=False),
        sa.Column("ack_seconds", sa.Integer(), nullable=True),
        sa.Column("ordered_at", gateway.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", gateway.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", gateway.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invoiced_at", gateway.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", gateway.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("partner_id", "po_number", name="uq_orders_partner_po")
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_created", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_orders_due", ["due_at"], unique=False)
        batch_op.create_index("ix_orders_partner_created",
                              ["partner_id", "created_at", "id"], unique=False)
        batch_op.create_index("ix_orders_status_created",
                              ["status", "created_at", "id"], unique=False)

    op.create_table("order_documents",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.String(length=48), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("number", sa.String(length=80), nullable=True),
        sa.Column("at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
            name=op.f("fk_order_documents_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", "document", name=op.f("pk_order_documents"))
    )
    with op.batch_alter_table("order_documents", schema=None) as batch_op:
        batch_op.create_index("ix_order_documents_message", ["message_id"], unique=False)

    op.create_table("order_findings",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("line_key", sa.String(length=120), nullable=True),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("found_at", gateway.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
            name=op.f("fk_order_findings_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_findings"))
    )
    with op.batch_alter_table("order_findings", schema=None) as batch_op:
        batch_op.create_index("ix_order_findings_code", ["code"], unique=False)

    op.create_table("order_lines",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("line_number", sa.String(length=40), nullable=True),
        sa.Column("item_ids", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ordered", sa.String(length=40), nullable=False),
        sa.Column("confirmed", sa.String(length=40), nullable=True),
        sa.Column("shipped", sa.String(length=40), nullable=False),
        sa.Column("invoiced", sa.String(length=40), nullable=False),
        sa.Column("ordered_price", sa.String(length=40), nullable=True),
        sa.Column("invoiced_price", sa.String(length=40), nullable=True),
        sa.Column("invoiced_amount", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_lines"))
    )


    op.create_table("demand_points",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("product", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("signal", sa.String(length=20), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("location", sa.String(length=80), nullable=True),
        sa.Column("period_start", sa.String(length=19), nullable=False),
        sa.Column("period_end", sa.String(length=19), nullable=True),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=True),
        sa.Column("reported_at", gateway.store.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_demand_points")),
    )
    with op.batch_alter_table("demand_points", schema=None) as batch_op:
        batch_op.create_index("ix_demand_points_message", ["message_id"], unique=False)
        batch_op.create_index("ix_demand_points_product",
                              ["partner_id", "product", "period_start"], unique=False)


def downgrade() -> None:
    op.drop_table("demand_points")
    op.drop_table("order_lines")
    with op.batch_alter_table("order_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_order_findings_code")

    op.drop_table("order_findings")
    with op.batch_alter_table("order_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_order_documents_message")

    op.drop_table("order_documents")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status_created")
        batch_op.drop_index("ix_orders_partner_created")
        batch_op.drop_index("ix_orders_due")
        batch_op.drop_index("ix_orders_created")

    op.drop_table("orders")
