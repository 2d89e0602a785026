"""Item detail segments: LIN and PIA item numbers, IMD descriptions, QTY and PRI.

Responsible for mapping 7143 item number types onto the same ``ItemIds`` fields the X12
mappers fill from 235 qualifiers (the rest go to ``other``), descriptions, quantities with
their Rec 20 units (6411 is Rec 20 already) and the normalised names of their 6063
qualifiers, and prices (5125 AAA net, AAB gross; the price of one unit from the 5284
basis quantity). LIN (D96A): 01 1082 line number,
02 1229 action, 03 C212 (7140 item number, 7143 type). PIA: 01 4347, 02-06 C212. IMD:
03 C273 (7009 code, 1131, 3055, 7008 text, 7008 text). QTY: C186 (6063 qualifier, 6060
quantity, 6411 unit). PRI: C509 (5125 qualifier, 5118 price, 5375 price type, 5387, 5284
unit price basis, 6411 unit).
It must not decide which line a segment belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from translators.edifact.mappers.code_lists import item_id_field
from translators.edifact.mappers.values import to_decimal
from translators.edifact.segment import Segment
from translators.money import per_unit_price
from translators.text import joined_text, stripped, text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = [
    "QUANTITY_NAMES",
    "add_item_id",
    "add_lin_ids",
    "add_pia_ids",
    "description",
    "line_quantity",
    "quantity_fields",
    "read_pri",
    "read_qty",
]

# 6063 Quantity type code qualifier -> normalised quantity name (the X12 673 names).
QUANTITY_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "discrete",  # Discrete quantity
        "3": "cumulative",  # Cumulative quantity
        "12": "despatched",  # Despatch quantity
        "21": "ordered",  # Ordered quantity
        "46": "delivered",  # Delivered quantity
        "47": "invoiced",  # Invoiced quantity
        "48": "received",  # Received quantity
        "52": "pack_quantity",  # Quantity per pack
        "59": "units_per_pack",  # Number of consumer units in the traded unit
        "61": "returned",  # Return quantity
        "113": "to_be_delivered",  # Quantity to be delivered
        "192": "free_goods",  # Free goods quantity
        "193": "free_of_charge",  # Free quantity included
    }
)

# 5125 Price code qualifier: AAA calculation net, AAB calculation gross.
_PRICE_TYPES: Final[Mapping[str, str]] = MappingProxyType({"AAA": "net", "AAB": "gross"})


def add_item_id(ids: dict[str, Any], value: str, item_type: str) -> None:
    """Add item number ``value`` of 7143 ``item_type`` to ``ids``: its field when it has one
    and the field is still free, else ``other`` (as the X12 mappers do)."""
    value = stripped(value)
    if not value:
        return
    item_type = stripped(item_type)
    name = item_id_field(item_type)
    if name is not None and name not in ids:
        ids[name] = value
    else:
        other: list[dict[str, str]] = ids.setdefault("other", [])
        other.append({"qualifier": item_type, "value": value})


def add_lin_ids(ids: dict[str, Any], segment: Segment) -> None:
    """The item number of a LIN (C212 in element 3)."""
    add_item_id(ids, segment.get(3, 1), segment.get(3, 2))


def add_pia_ids(ids: dict[str, Any], segment: Segment) -> None:
    """The item numbers of a PIA (C212 in elements 2 to 6)."""
    for position in range(2, min(len(segment), 6) + 1):
        add_item_id(ids, segment.get(position, 1), segment.get(position, 2))


def description(segment: Segment) -> str | None:
    """The text of an IMD (C273.7008, both components), ``None`` when it has none."""
    return joined_text(segment.element(3)[3:5])


def read_qty(segment: Segment, mark: str) -> tuple[str, Decimal | None, str | None]:
    """``(6063 qualifier, quantity, unit as sent)`` of a QTY."""
    return (
        stripped(segment.get(1, 1)),
        to_decimal(segment.get(1, 2), mark),
        text_or_none(segment.get(1, 3)),
    )


def line_quantity(qualifier: str, quantity: Decimal | None, unit: str | None) -> dict[str, Any]:
    """A ``LineQuantity``: the quantity with its 6063 qualifier and that qualifier's name."""
    return {
        "type": QUANTITY_NAMES.get(qualifier, "other"),
        "qualifier": qualifier,
        "quantity": quantity,
        "unit": unit,
        "unit_rec20": edifact_unit_to_rec20(unit),
    }


def quantity_fields(quantity: Decimal | None, unit: str | None) -> dict[str, Any]:
    """A line's quantity, unit as sent and its Rec 20 code."""
    return {"quantity": quantity, "unit": unit, "unit_rec20": edifact_unit_to_rec20(unit)}


def read_pri(segment: Segment, mark: str) -> dict[str, Any]:
    """A PRI as a ``Price`` dict: 5125 qualifier, 5118 price, 5375 price type (the basis
    code, as X12 639), 5284 basis quantity and its 6411 unit; the price of one unit is the
    price over the basis quantity (the price itself without one)."""
    type_code = text_or_none(segment.get(1, 1))
    price = to_decimal(segment.get(1, 2), mark)
    basis = to_decimal(segment.get(1, 5), mark)
    return {
        "type_code": type_code,
        "unit_price": price,
        "quantity": basis,
        "unit": text_or_none(segment.get(1, 6)),
        "type": _PRICE_TYPES.get(type_code, "other") if type_code is not None else None,
        "basis_code": text_or_none(segment.get(1, 3)),
        "per_unit_price": price if basis is None else per_unit_price(price, basis),
    }
