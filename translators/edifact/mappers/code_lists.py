"""UN/EDIFACT code lists mapped onto the canonical vocabulary the X12 mappers also produce.

Responsible for the tables of 7143 item number types, 1225 message function, 1001
document name (order types), 4343 response type and 1229 line action; ``coded``
(``translators.codes``) and the NAD 3035 party roles (``translators.parties``) are
re-exported here for the mappers. Names are the canonical ones
(``translators.parties.PARTY_ROLES`` and the names of ``translators.x12.mappers.po``), so
a record's normalised fields do not depend on the source standard; the code as sent is
always kept beside them by the caller.
Codes and meanings are those of the UNTDID code lists of D96A (unchanged through D01B for
the codes listed here).
It must not parse segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from translators.codes import coded
from translators.parties import EDIFACT_PARTY_ROLES, edifact_party_role

__all__ = [
    "CHANGE_ACTIONS",
    "ITEM_ID_FIELDS",
    "LINE_ACTIONS",
    "ORDER_TYPES",
    "PARTY_ROLES",
    "PURPOSES",
    "RESPONSES",
    "coded",
    "item_id_field",
    "party_role",
]

# 3035 Party function code qualifier: the table is ``translators.parties``'s, beside the
# X12 98 one, so the two are checked against each other.
PARTY_ROLES: Final[Mapping[str, str]] = EDIFACT_PARTY_ROLES

# 7143 Item type identification code -> ItemIds field (the X12 235 counterparts).
ITEM_ID_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "BP": "buyer_item",  # Buyer's part number
        "IN": "buyer_item",  # Buyer's item number
        "SA": "vendor_item",  # Supplier's article number
        "VN": "vendor_item",  # Vendor item number
        "VP": "vendor_item",  # Vendor's (seller's) part number
        "UP": "upc",  # UPC (Universal product code)
        "EN": "ean",  # International Article Numbering Association (EAN)
        "SRV": "gtin",  # EAN.UCC Global Trade Item Number
        "SK": "sku",  # SKU (Stock keeping unit)
        "IB": "isbn",  # ISBN (International Standard Book Number)
        "MN": "model",  # Model number
        "MF": "manufacturer_part",  # Manufacturer's (producer's) article number
    }
)

# 1225 Message function code: the purposes, named as the X12 353 ones.
PURPOSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "cancel",  # Cancellation
        "2": "add",  # Addition
        "3": "delete",  # Deletion
        "4": "change",  # Change
        "5": "replace",  # Replace
        "6": "confirmation",  # Confirmation
        "7": "duplicate",  # Duplicate
        "8": "status",  # Status
        "9": "original",  # Original
        "11": "response",  # Response
        "13": "request",  # Request
        "14": "advance_notification",  # Advance notification
        "18": "reissue",  # Reissue
        "31": "information_copy",  # Copy
        "35": "resubmission",  # Retransmission
    }
)

# 1225 codes that answer an order (ORDRSP) rather than state a purpose, and 4343 Response
# type codes, named as the X12 587 acknowledgment types.
RESPONSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "27": "rejected",  # 1225 Not accepted
        "28": "accepted_with_changes",  # 1225 Accepted, with amendment in heading section
        "29": "accepted",  # 1225 Accepted without amendment
        "30": "accepted_with_changes",  # 1225 Accepted, with amendment in detail section
        "34": "accepted_with_changes",  # 1225 Accepted with amendment
        "AC": "accepted_with_changes",  # 4343 Acknowledge - with detail and change
        "AP": "accepted",  # 4343 Accepted
        "RE": "rejected",  # 4343 Rejected
        "NA": "no_acknowledgment_needed",  # 4343 No acknowledgement needed
    }
)

# 1001 Document name code of order messages, named as the X12 92 order types.
ORDER_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "105": "purchase_order",  # Purchase order
        "220": "purchase_order",  # Order
        "221": "blanket",  # Blanket order
        "224": "rush_order",  # Rush order
        "226": "release",  # Call off order
        "227": "consigned",  # Consignment order
    }
)

# 1229 Action request/notification code in an order response (LIN), named as X12 668.
LINE_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "added",  # Added
        "2": "deleted",  # Deleted
        "3": "changed",  # Changed
        "5": "accepted",  # Accepted without amendment
        "6": "changed",  # Accepted with amendment
        "7": "rejected",  # Not accepted
    }
)

# 1229 in an order change (LIN), named as the X12 670 change types.
CHANGE_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "added",  # Added
        "2": "deleted",  # Deleted
        "3": "changed",  # Changed
        "4": "no_change",  # No action
    }
)


# Plain dicts of the tables read segment by segment: the compiled build looks a key up in a
# dict directly and in a Mapping through a method call.
_ITEM_ID_FIELDS: Final[dict[str, str]] = dict(ITEM_ID_FIELDS)


def party_role(code: str) -> str:
    """The canonical role of 3035 ``code``; ``"other"`` when it has none."""
    return edifact_party_role(code)


def item_id_field(item_type: str) -> str | None:
    """The ``ItemIds`` field of 7143 ``item_type``, or ``None`` (it goes to ``other``)."""
    return _ITEM_ID_FIELDS.get(item_type)
