"""Which record kinds each consumer scope may read.

The records feed (``gateway.api.records``) filters by it and webhook subscriptions
(``gateway.delivery.webhooks``) may name any kind of the ``all`` scope: one table, so the
two cannot drift apart. It must not import anything of the gateway.
"""

from __future__ import annotations

__all__ = ["SCOPES"]

# What each side of the business works from (issue 19): the CRM side follows the
# customer's order through to its invoice, so it reads every document of an order, ship
# notices and order responses included; the supply-chain side reads the same documents
# and the demand and inventory signals beside them. Functional acknowledgments are
# plumbing: only ``all`` reads them.
_ORDER_DOCUMENTS: frozenset[str] = frozenset({
    "purchase_order", "purchase_order_change", "order_response", "ship_notice", "invoice"})

SCOPES: dict[str, frozenset[str]] = {
    "crm": _ORDER_DOCUMENTS,
    "scm": _ORDER_DOCUMENTS | {"inventory_report", "planning_schedule", "product_activity"},
    "all": _ORDER_DOCUMENTS | {"inventory_report", "planning_schedule", "product_activity",
                               "functional_ack"},
}
