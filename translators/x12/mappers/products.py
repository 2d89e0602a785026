"""Item detail shared by line-level segments: product ID pairs, PID, CTP, PO4, SCH, SDQ.

Responsible for mapping X12 235 product ID qualifiers onto ``ItemIds`` fields (the rest go
to ``other``), item descriptions, pricing, pack sizes, schedules and destination quantities.
It must not decide which line a segment belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from translators.units import x12_unit_to_rec20
from translators.x12.mappers.elements import element, iso_datetime, text_or_none, to_decimal

__all__ = [
    "PRODUCT_ID_FIELDS",
    "add_product_ids",
    "read_ctp",
    "read_po4",
    "read_sch",
    "read_sdq",
]

# X12 235 (Product/Service ID Qualifier) -> ItemIds field.
PRODUCT_ID_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "BP": "buyer_item",  # Buyer's Part Number
        "IN": "buyer_item",  # Buyer's Item Number
        "PI": "buyer_item",  # Purchaser's Item Code
        "VP": "vendor_item",  # Vendor's (Seller's) Part Number
        "VN": "vendor_item",  # Vendor's (Seller's) Item Number
        "UP": "upc",  # U.P.C. Consumer Package Code (1-5-5-1)
        "UI": "upc",  # U.P.C. Consumer Package Code (1-5-5)
        "UK": "gtin",  # GTIN-14 / U.P.C./EAN Shipping Container Code (1-2-5-5-1)
        "UA": "gtin",  # U.P.C./EAN Case Code (2-5-5)
        "EN": "ean",  # European Article Number (EAN) (2-5-5-1)
        "EO": "ean",  # EAN/UCC-8
        "SK": "sku",  # Stock Keeping Unit
        "IB": "isbn",  # International Standard Book Number
        "MG": "manufacturer_part",  # Manufacturer's Part Number
        "MN": "model",  # Model Number
    }
)


def add_product_ids(ids: dict[str, Any], fields: list[str], start: int) -> None:
    """Add the qualifier/ID pairs at ``start``, ``start+2``, ... of ``fields`` to ``ids``."""
    end = len(fields) - 1
    position = start
    while position < end:
        qualifier = fields[position]
        value = fields[position + 1]
        position += 2
        if not value:
            continue
        name = PRODUCT_ID_FIELDS.get(qualifier)
        if name is not None and name not in ids:
            ids[name] = value
        else:
            other: list[dict[str, str]] = ids.setdefault("other", [])
            other.append({"qualifier": qualifier, "value": value})


def read_ctp(fields: list[str], component: str) -> dict[str, Any]:
    """Pricing information (CTP): CTP02 price type, CTP03 price, CTP04/CTP05 quantity basis."""
    return {
        "class_code": text_or_none(element(fields, 1)),
        "type_code": text_or_none(element(fields, 2)),
        "unit_price": to_decimal(element(fields, 3)),
        "quantity": to_decimal(element(fields, 4)),
        "unit": text_or_none(element(fields, 5).split(component, 1)[0]),
        "multiplier_qualifier": text_or_none(element(fields, 6)),
        "multiplier": to_decimal(element(fields, 7)),
    }


def read_po4(target: dict[str, Any], fields: list[str]) -> None:
    """Item physical details (PO4): PO401 pack, PO402 size, PO403 its unit."""
    target["pack"] = to_decimal(element(fields, 1))
    target["pack_size"] = to_decimal(element(fields, 2))
    target["pack_size_unit"] = text_or_none(element(fields, 3))


def read_sch(fields: list[str], names: Mapping[str, str]) -> dict[str, Any]:
    """Line item schedule (SCH): quantity, unit and up to two dated events."""
    unit = text_or_none(element(fields, 2))
    dates: dict[str, str] = {}
    for qual_pos in (5, 8):
        qualifier = element(fields, qual_pos)
        value = iso_datetime(element(fields, qual_pos + 1), element(fields, qual_pos + 2))
        if qualifier and value:
            dates[names.get(qualifier, f"dtm_{qualifier}")] = value
    return {
        "quantity": to_decimal(element(fields, 1)),
        "unit": unit,
        "unit_rec20": x12_unit_to_rec20(unit),
        "dates": dates,
    }


def read_sdq(fields: list[str]) -> list[dict[str, Any]]:
    """Destination quantities (SDQ): SDQ01 unit, SDQ02 location qualifier, then ID/qty pairs."""
    unit = text_or_none(element(fields, 1))
    qualifier = text_or_none(element(fields, 2))
    out: list[dict[str, Any]] = []
    end = len(fields) - 1
    position = 3
    while position < end:
        location = fields[position]
        quantity = fields[position + 1]
        position += 2
        if location:
            out.append(
                {
                    "location_qualifier": qualifier,
                    "location": location,
                    "quantity": to_decimal(quantity),
                    "unit": unit,
                }
            )
    return out
