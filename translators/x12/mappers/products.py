"""Item detail shared by line-level segments: product ID pairs, PID, CTP, PO4, SCH, SDQ,
QTY and SLN.

Responsible for mapping X12 235 product ID qualifiers onto ``ItemIds`` fields (the rest go
to ``other``), item descriptions, pricing (a price with its 639 basis and the price of one
unit that basis gives: per hundred, per thousand, per dozen, ...), pack sizes, schedules,
destination quantities, qualified quantities (673, named as EDIFACT 6063 is) and sub-lines.
It must not decide which line a segment belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from translators.money import per_unit_price
from translators.text import text_or_none
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.elements import element, iso_datetime, to_decimal

__all__ = [
    "PRODUCT_ID_FIELDS",
    "QUANTITY_NAMES",
    "add_product_ids",
    "basis_price",
    "line_price",
    "read_ctp",
    "read_po4",
    "read_qty",
    "read_sch",
    "read_sdq",
    "read_sln",
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


# X12 639 (Basis of Unit Price Code) codes that price a count of units other than one.
_BASIS_COUNTS: Final[Mapping[str, Decimal]] = MappingProxyType(
    {
        "HP": Decimal(100),  # Price per Hundred
        "LC": Decimal(100),  # Catalog Price per Hundred
        "QH": Decimal(100),  # Quoted Price per Hundred
        "RC": Decimal(100),  # Retail Price per Hundred
        "TC": Decimal(100),  # Contract Price per Hundred
        "WC": Decimal(100),  # Wholesale Price per Hundred
        "TP": Decimal(1000),  # Price per Thousand
        "LM": Decimal(1000),  # Catalog Price per Thousand
        "QS": Decimal(1000),  # Quoted Price per Thousand
        "RM": Decimal(1000),  # Retail Price per Thousand
        "TM": Decimal(1000),  # Contract Price per Thousand
        "WM": Decimal(1000),  # Wholesale Price per Thousand
        "TT": Decimal(10000),  # Price Per 10,000
        "HT": Decimal(100000),  # Price Per 100,000
        "PD": Decimal(12),  # Price per Dozen
        "LD": Decimal(12),  # Catalog Price per Dozen
        "RD": Decimal(12),  # Retail Price per Dozen
        "TD": Decimal(12),  # Contract Price per Dozen
        "WD": Decimal(12),  # Wholesale Price per Dozen
        "PN": Decimal(10),  # Price per Ten
    }
)

# 639 codes that price a unit of measure the code names (per foot, kilogram, pound, ...),
# which need not be the line's unit: the price of one line unit is not known from them.
_BASIS_MEASURES: Final = frozenset(
    {"HF", "TF", "PF", "PG", "PK", "PL", "ML", "PO", "PP", "PA", "PS", "PT", "PY", "UM"}
    | {"P1", "P2", "P3", "P4", "P5", "P6", "P7"}
)

# 236 (Price Identifier Code) NET Net Item Price: the one code of the list naming a net
# price; it has none for a gross price.
_PRICE_TYPES: Final[Mapping[str, str]] = MappingProxyType({"NET": "net"})

# X12 673 (Quantity Qualifier) -> the normalised quantity names shared with EDIFACT 6063.
QUANTITY_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "01": "discrete",  # Discrete Quantity
        "02": "cumulative",  # Cumulative Quantity
        "38": "original",  # Original Quantity
        "39": "despatched",  # Shipped Quantity
        "90": "acknowledged",  # Acknowledged Quantity
    }
)


def basis_price(price: Decimal | None, basis_code: str | None) -> Decimal | None:
    """The price of one unit for ``price`` with 639 ``basis_code``: divided by the count
    the code names; as it is without a code or with one naming no count; ``None`` when
    the code prices another unit of measure."""
    if basis_code is None:
        return price
    if basis_code in _BASIS_MEASURES:
        return None
    count = _BASIS_COUNTS.get(basis_code)
    return price if count is None else per_unit_price(price, count)


def line_price(price: Decimal | None, basis_code: str | None) -> dict[str, Any] | None:
    """The ``Price`` of a PO1/IT1/POC/SLN unit price and its basis; ``None`` without one."""
    if price is None:
        return None
    return {
        "unit_price": price,
        "type": "net",
        "basis_code": basis_code,
        "per_unit_price": basis_price(price, basis_code),
    }


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
    """Pricing information (CTP): 01 class of trade, 02 price identifier (236), 03 price,
    04/05 quantity and its unit, 06/07 multiplier, 09 basis of the price (639)."""
    type_code = text_or_none(element(fields, 2))
    price = to_decimal(element(fields, 3))
    basis = text_or_none(element(fields, 9))
    return {
        "class_code": text_or_none(element(fields, 1)),
        "type_code": type_code,
        "unit_price": price,
        "quantity": to_decimal(element(fields, 4)),
        "unit": text_or_none(element(fields, 5).split(component, 1)[0]),
        "multiplier_qualifier": text_or_none(element(fields, 6)),
        "multiplier": to_decimal(element(fields, 7)),
        "type": _PRICE_TYPES.get(type_code, "other") if type_code is not None else None,
        "basis_code": basis,
        "per_unit_price": basis_price(price, basis),
    }


def read_qty(fields: list[str], component: str) -> dict[str, Any] | None:
    """Quantity (QTY): 01 qualifier (673), 02 quantity, 03 unit (C001.01) as a
    ``LineQuantity``; ``None`` without a qualifier."""
    qualifier = element(fields, 1)
    if not qualifier:
        return None
    unit = text_or_none(element(fields, 3).split(component, 1)[0])
    return {
        "type": QUANTITY_NAMES.get(qualifier, "other"),
        "qualifier": qualifier,
        "quantity": to_decimal(element(fields, 2)),
        "unit": unit,
        "unit_rec20": x12_unit_to_rec20(unit),
    }


def read_sln(fields: list[str], component: str) -> dict[str, Any]:
    """Subline item detail (SLN): 01 sub-line number, 02 the line it belongs to, 03
    relationship (662), 04 quantity, 05 unit (C001.01), 06 unit price, 07 its basis (639),
    08 price relationship (662), 09.. product ID pairs."""
    unit = text_or_none(element(fields, 5).split(component, 1)[0])
    price = to_decimal(element(fields, 6))
    basis = text_or_none(element(fields, 7))
    sub_line: dict[str, Any] = {
        "line_number": text_or_none(element(fields, 1)),
        "parent_line_number": text_or_none(element(fields, 2)),
        "relationship_code": text_or_none(element(fields, 3)),
        "quantity": to_decimal(element(fields, 4)),
        "unit": unit,
        "unit_rec20": x12_unit_to_rec20(unit),
        "unit_price": price,
        "price_basis": basis,
        "net_price": line_price(price, basis),
        "price_relationship_code": text_or_none(element(fields, 8)),
        "item_ids": {},
    }
    add_product_ids(sub_line["item_ids"], fields, 9)
    return sub_line


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
