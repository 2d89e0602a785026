"""Which record kinds each consumer scope may read.

The records feed (``gateway.api.records``) filters by it and webhook subscriptions
(``gateway.delivery.webhooks``) may name any kind of the ``all`` scope: one table, so the
two cannot drift apart. It must not import anything of the gateway.
"""

from __future__ import annotations

__all__ = ["SCOPES"]

SCOPES: dict[str, frozenset[str]] = {
    "crm": frozenset({"purchase_order", "invoice", "order_response"}),
    "scm": frozenset({"purchase_order", "purchase_order_change", "ship_notice",
                      "inventory_report", "planning_schedule", "product_activity",
                      "invoice"}),
    "all": frozenset({"purchase_order", "purchase_order_change", "order_response", "invoice",
                      "ship_notice", "inventory_report", "planning_schedule", "product_activity",
                      "functional_ack"}),
}
