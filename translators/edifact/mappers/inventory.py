"""Mapper for INVRPT (inventory report) messages: the ``inventory_report`` record the X12
846 mapper makes, field for field.

Responsible for BGM (1001 report type as sent, like BIA02; 1004 report id; 1225 purpose),
header DTM (137 the report date, others by name), RFF, NAD groups (parties with their
CTA/COM/RFF), CUX, and the LIN groups: LIN and PIA item ids, IMD description, line DTM and
RFF, and the QTY groups (SG11): QTY (C186: 6063 qualifier, quantity, 6411 unit) is an
``InventoryQuantity``; 6063 is normalised to the names the 846 mapper gives X12 673 (145
actual stock is ``available`` as 846 QTY01 33, 17 ``on_hand``; others ``qty_<code>``);
the LOC of the group (C517 3225 id, 3055 agency) is where the quantity is held, its DTM
its dates, its RFF the item's references, its PRI the item's prices, its NAD (SG12) a
party of the item.
Not mapped (listed in the record's ``unmapped``, ``INVRPT_COVERAGE``): the CPS/PAC/PCI
groups, MEA, ALI, LOC of the line, INV, GIN, STS, the CUX and DTM of a price, and any
segment with no place where it stands (a second BGM, a QTY before the first LIN, a
second date of the same kind, ...), which is listed whole.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.edifact.mappers.commercial import read_cux, read_ftx, read_rff
from translators.edifact.mappers.dates import date_name, read_dtm
from translators.edifact.mappers.document import ENVELOPE_COVERAGE, PARTY_COVERAGE
from translators.edifact.mappers.party import PARTY_GROUP_TAGS, add_to_party, start_party
from translators.edifact.mappers.products import add_lin_ids, add_pia_ids, description, read_pri
from translators.edifact.mappers.values import to_decimal
from translators.edifact.segment import Segment
from translators.record_data import RecordData, complete, new_record
from translators.text import text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = ["INVRPT_COVERAGE", "QUANTITY_TYPES", "map_inventory_report"]

INVRPT_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "BGM": "1.1 2.1 3", "DTM": "1.1q 1.2 1.3q", "CUX": "1.2", "LIN": "1 3.1 3.2q",
    "PIA": " ".join(f"{i}.1 {i}.2q" for i in range(2, 7)), "IMD": "3.4 3.5",
    "QTY": "1.1 1.2 1.3", "LOC": "2.1 2.3", "PRI": "1.1q 1.2 1.5 1.6", "FTX": "4",
})
"""What the INVRPT mapper maps where a segment stands at a level that has a place for it."""

# The segments of a price group (SG13) after its PRI: they date or convert the price,
# which has no place for either.
_PRICE_GROUP: Final = frozenset({"CUX", "DTM"})

# 6063 Quantity type code qualifier -> the type names of the 846 mapper (X12 673).
QUANTITY_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "discrete",  # Discrete quantity (673 01)
        "3": "cumulative",  # Cumulative quantity (673 02)
        "17": "on_hand",  # Quantity on hand (673 17)
        "145": "available",  # Actual stock (673 33, available for sale)
    }
)


# Segments mapped above only where they have a place (once, at the header, in a NAD
# group): anywhere else they are listed whole.
_PLACED_ABOVE: Final = frozenset({"BGM", "CUX", "CTA", "COM"})


def _quantity(segment: Segment, mark: str) -> dict[str, Any]:
    qualifier = segment.get(1, 1).strip()
    unit = text_or_none(segment.get(1, 3))
    return {
        "qualifier": qualifier,
        "type": QUANTITY_TYPES.get(qualifier, f"qty_{qualifier}"),
        "quantity": to_decimal(segment.get(1, 2), mark),
        "unit": unit,
        "unit_rec20": edifact_unit_to_rec20(unit),
        "location_qualifier": None,
        "location": None,
        "dates": {},
    }


def map_inventory_report(
    segments: Sequence[Segment], source: RecordData, /, *, decimal_mark: str = "."
) -> RecordData:
    """Map an INVRPT message (UNH..UNT) to an ``InventoryReport``."""
    record: dict[str, Any] = new_record(source, items=[])
    item: dict[str, Any] | None = None
    quantity: dict[str, Any] | None = None
    party: dict[str, Any] | None = None
    in_price = False
    # Segments with no place where they stood: listed as unmapped.
    skipped: list[Segment] = []
    for segment in segments:
        tag = segment.tag
        if party is not None:
            if tag in PARTY_GROUP_TAGS and tag != "LOC" and tag != "DTM":
                add_to_party(party, segment)
                continue
            party = None
        if in_price:
            if tag in _PRICE_GROUP:
                skipped.append(segment)
                continue
            in_price = False
        target = item if item is not None else record
        if tag == "QTY":
            if item is not None:
                quantity = _quantity(segment, decimal_mark)
                item["quantities"].append(quantity)
            else:
                skipped.append(segment)
        elif tag == "DTM":
            found = read_dtm(segment)
            if found is None:
                skipped.append(segment)
                continue
            code, value = found
            if quantity is not None:
                holder = quantity
            elif item is None and code == "137" and record.get("report_date") is None:
                record["report_date"] = value
                continue
            else:
                holder = target
            dates: dict[str, str] = holder["dates"]
            name = date_name(code)
            if name in dates:
                skipped.append(segment)
            else:
                dates[name] = value
        elif tag == "LIN":
            item = {
                "line_number": text_or_none(segment.get(1)),
                "item_ids": {},
                "prices": [],
                "quantities": [],
                "dates": {},
                "references": [],
                "parties": [],
            }
            add_lin_ids(item["item_ids"], segment)
            record["items"].append(item)
            quantity = None
        elif tag == "LOC":
            location = segment.get(2, 1).strip()
            if quantity is not None and quantity["location"] is None and location:
                quantity["location"] = location
                quantity["location_qualifier"] = text_or_none(segment.get(2, 3))
            else:
                skipped.append(segment)
        elif tag == "PIA":
            if item is not None:
                add_pia_ids(item["item_ids"], segment)
            else:
                skipped.append(segment)
        elif tag == "IMD":
            if item is not None and item.get("description") is None:
                item["description"] = description(segment)
            else:
                skipped.append(segment)
        elif tag == "PRI":
            if item is not None:
                item["prices"].append(read_pri(segment, decimal_mark))
                in_price = True
            else:
                skipped.append(segment)
        elif tag == "RFF":
            ref = read_rff(segment)
            if ref is not None:
                target["references"].append(ref)
            else:
                skipped.append(segment)
        elif tag == "NAD":
            party = start_party(segment)
            target["parties"].append(party)
        elif tag == "BGM" and "report_id" not in record:
            record["report_type"] = text_or_none(segment.get(1, 1))
            record["report_id"] = text_or_none(segment.get(2, 1))
            record["purpose_code"] = text_or_none(segment.get(3))
        elif tag == "CUX" and item is None and "currency" not in record:
            record["currency"] = read_cux(segment)
        elif tag == "FTX":
            note = read_ftx(segment)
            if note:
                record["notes"].append(note)
        elif tag in _PLACED_ABOVE:
            skipped.append(segment)
    record["unmapped"] = unmapped_edifact(segments, INVRPT_COVERAGE, skipped)
    return complete("InventoryReport", record)
