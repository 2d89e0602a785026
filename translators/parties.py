"""Party roles and identifier schemes: the standards' codes mapped onto one vocabulary.

Responsible for ``X12_ENTITY_ROLES`` (X12 element 98, Entity Identifier Code, as sent in
N101), ``EDIFACT_PARTY_ROLES`` (UN/EDIFACT 3035, Party function code qualifier, NAD01),
``X12_ID_SCHEMES`` (X12 66, Identification Code Qualifier, N103) and
``EDIFACT_ID_SCHEMES`` (UN/EDIFACT 3055, Code list responsible agency code, NAD C082),
with the lookups ``party_role``, ``edifact_party_role``, ``x12_id_scheme`` and
``edifact_id_scheme``. A record's role and scheme do not depend on the standard it came
from; the code as sent is always kept beside them by the caller (``role_code``,
``qualifier``).

Each code has exactly one role, and two codes share a role only when the standards give
them the same meaning (X12 BT Bill-to-Party and EDIFACT IV Invoicee). Roles that are
commonly confused stay apart: ``mark_for`` (the final recipient the goods are marked
for, e.g. the store behind a cross-dock: X12 Z7 Mark-for Party, X12 MA Party for whom
Item is Ultimately Intended, EDIFACT UC Ultimate consignee) is not ``ship_to`` (where
the goods are delivered); ``payer`` and ``payee`` are not ``bill_to`` and ``remit_to``;
``invoice_issuer`` is not ``seller``. Codes not in a table normalise to ``"other"``;
qualifiers without a scheme to ``None``.
It must not parse segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "EDIFACT_ID_SCHEMES",
    "EDIFACT_PARTY_ROLES",
    "ID_SCHEMES",
    "PARTY_ROLES",
    "X12_ENTITY_ROLES",
    "X12_ID_SCHEMES",
    "edifact_id_scheme",
    "edifact_party_role",
    "party_role",
    "x12_id_scheme",
]

PARTY_ROLES: Final = (
    "buyer",
    "seller",
    "sold_to",
    "ship_to",
    "ship_from",
    "shipper",
    "mark_for",
    "ultimate_customer",
    "bill_to",
    "bill_and_ship_to",
    "payer",
    "payee",
    "remit_to",
    "invoice_issuer",
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
        "SE": "seller",  # Selling Party
        "SO": "sold_to",  # Sold To If Different From Bill To
        "ST": "ship_to",  # Ship To
        "DA": "ship_to",  # Delivery Address
        "SF": "ship_from",  # Ship From
        "SH": "shipper",  # Shipper
        "Z7": "mark_for",  # Mark-for Party
        "MA": "mark_for",  # Party for whom Item is Ultimately Intended
        "BT": "bill_to",  # Bill-to-Party
        "BS": "bill_and_ship_to",  # Bill and Ship To
        "PR": "payer",  # Payer
        "PE": "payee",  # Payee
        "RE": "remit_to",  # Party to receive commercial invoice remittance
        "RI": "remit_to",  # Remit To
        "II": "invoice_issuer",  # Issuer of Invoice
        "SU": "supplier",  # Supplier/Manufacturer
        "VN": "supplier",  # Vendor
        "MF": "manufacturer",  # Manufacturer of Goods
        "CN": "consignee",  # Consignee
        "CA": "carrier",  # Carrier
        "OB": "ordered_by",  # Ordered By
        "WH": "warehouse",  # Warehouse
        "SN": "store",  # Store
    }
)

# UN/EDIFACT 3035 (Party function code qualifier); meanings of D96A, unchanged in D01B.
EDIFACT_PARTY_ROLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "BY": "buyer",  # Buyer
        "SE": "seller",  # Seller
        "ST": "ship_to",  # Ship to
        "DP": "ship_to",  # Delivery party
        "SF": "ship_from",  # Ship from
        "CZ": "shipper",  # Consignor
        "SH": "shipper",  # Shipper
        "UC": "mark_for",  # Ultimate consignee
        "UD": "ultimate_customer",  # Ultimate customer
        "IV": "bill_to",  # Invoicee
        "PR": "payer",  # Payer
        "PE": "payee",  # Payee
        "RE": "remit_to",  # Party to receive commercial invoice remittance
        "II": "invoice_issuer",  # Issuer of invoice
        "SU": "supplier",  # Supplier
        "MF": "manufacturer",  # Manufacturer of goods
        "CN": "consignee",  # Consignee
        "CA": "carrier",  # Carrier
        "OB": "ordered_by",  # Ordered by
        "WH": "warehouse",  # Warehouse keeper
        "SN": "store",  # Store number
    }
)

ID_SCHEMES: Final = (
    "gln",
    "duns",
    "duns4",
    "scac",
    "assigned_by_buyer",
    "assigned_by_seller",
    "assigned_by_sender",
    "assigned_by_receiver",
    "mutually_defined",
)

# X12 element 66 (Identification Code Qualifier).
X12_ID_SCHEMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "duns",  # D-U-N-S Number, Dun & Bradstreet
        "9": "duns4",  # D-U-N-S+4, D-U-N-S Number with Four Character Suffix
        "UL": "gln",  # Global Location Number (GLN)
        "2": "scac",  # Standard Carrier Alpha Code (SCAC)
        "91": "assigned_by_seller",  # Assigned by Seller or Seller's Agent
        "92": "assigned_by_buyer",  # Assigned by Buyer or Buyer's Agent
        "93": "assigned_by_sender",  # Code assigned by the organization originating the
        # transaction set
        "94": "assigned_by_receiver",  # Code assigned by the organization that is the
        # ultimate destination of the transaction set
        "ZZ": "mutually_defined",  # Mutually Defined
    }
)

# UN/EDIFACT 3055 (Code list responsible agency code) in NAD C082: the agency says what
# kind of party identifier 3039 is.
EDIFACT_ID_SCHEMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "9": "gln",  # EAN (International Article Numbering association), now GS1
        "16": "duns",  # DUNS (Dun & Bradstreet)
        "182": "scac",  # US, Standard Carrier Alpha Code (Motor)
        "91": "assigned_by_seller",  # Assigned by seller or seller's agent
        "92": "assigned_by_buyer",  # Assigned by buyer or buyer's agent
        "ZZZ": "mutually_defined",  # Mutually defined
    }
)

# Plain dicts: the compiled build looks a key up in a dict directly, in a Mapping through a
# method call.
_X12_ROLES: Final[dict[str, str]] = dict(X12_ENTITY_ROLES)
_EDIFACT_ROLES: Final[dict[str, str]] = dict(EDIFACT_PARTY_ROLES)
_X12_SCHEMES: Final[dict[str, str]] = dict(X12_ID_SCHEMES)
_EDIFACT_SCHEMES: Final[dict[str, str]] = dict(EDIFACT_ID_SCHEMES)


def party_role(code: str) -> str:
    """The canonical role of X12 98 entity ``code``; ``"other"`` when unknown."""
    return _X12_ROLES.get(code, "other")


def edifact_party_role(code: str) -> str:
    """The canonical role of EDIFACT 3035 ``code``; ``"other"`` when unknown."""
    return _EDIFACT_ROLES.get(code, "other")


def x12_id_scheme(qualifier: str | None) -> str | None:
    """The scheme of X12 66 ``qualifier``; ``None`` when it has none."""
    return _X12_SCHEMES.get(qualifier) if qualifier else None


def edifact_id_scheme(agency: str | None) -> str | None:
    """The scheme of an id whose EDIFACT 3055 agency is ``agency``; ``None`` when none."""
    return _EDIFACT_SCHEMES.get(agency) if agency else None
