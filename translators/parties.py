"""Party roles: the standards' entity codes mapped onto the canonical role vocabulary.

Responsible for ``X12_ENTITY_ROLES`` (X12 element 98, Entity Identifier Code, as sent in
N101) and ``party_role``. An EDIFACT NAD 3035 table belongs beside it. Codes not in a table
normalise to ``"other"``; the code as sent is always kept by the caller (``role_code``).
It must not parse segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["PARTY_ROLES", "X12_ENTITY_ROLES", "party_role"]

PARTY_ROLES: Final = (
    "buyer",
    "seller",
    "ship_to",
    "ship_from",
    "bill_to",
    "remit_to",
    "supplier",
    "manufacturer",
    "consignee",
    "carrier",
    "ordered_by",
    "warehouse",
    "store",
    "other",
)

# X12 element 98 (Entity Identifier Code).
X12_ENTITY_ROLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "BY": "buyer",  # Buying Party (Purchaser)
        "BT": "bill_to",  # Bill-to-Party
        "BS": "bill_to",  # Bill and Ship To
        "PR": "bill_to",  # Payer
        "SE": "seller",  # Selling Party
        "SO": "buyer",  # Sold To If Different From Bill To
        "ST": "ship_to",  # Ship To
        "SN": "store",  # Store
        "Z7": "ship_to",  # Mark-for Party
        "SF": "ship_from",  # Ship From
        "RE": "remit_to",  # Party to receive commercial invoice remittance
        "RI": "remit_to",  # Remit To
        "PE": "remit_to",  # Payee
        "SU": "supplier",  # Supplier/Manufacturer
        "VN": "supplier",  # Vendor
        "MF": "manufacturer",  # Manufacturer of Goods
        "MA": "ship_to",  # Party for whom Item is Ultimately Intended
        "CN": "consignee",  # Consignee
        "CA": "carrier",  # Carrier
        "OB": "ordered_by",  # Ordered By
        "WH": "warehouse",  # Warehouse
        "DA": "ship_to",  # Delivery Address
        "II": "seller",  # Issuer of Invoice
        "SH": "ship_from",  # Shipper
    }
)


def party_role(code: str, table: Mapping[str, str] = X12_ENTITY_ROLES) -> str:
    """The canonical role of entity ``code`` in ``table``; ``"other"`` when unknown."""
    return table.get(code, "other")
