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
Not mapped yet (they land in the record's unmapped list once the accounting does): the
CPS/PAC/PCI groups, MEA, ALI, LOC of the line, INV, GIN and STS.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from translators.edifact.mappers.commercial import read_cux, read_ftx, read_rff
from translators.edifact.mappers.dates import date_name, read_dtm
from translators.edifact.mappers.party import PARTY_GROUP_TAGS, add_to_party, start_party
from translators.edifact.mappers.products import add_lin_ids, add_pia_ids, description, read_pri
from translators.edifact.mappers.values import text_or_none, to_decimal
from translators.edifact.segment import Segment
from translators.record_data import RecordData, complete
from translators.units import edifact_unit_to_rec20

__all__ = ["QUANTITY_TYPES", "map_inventory_report"]

# 6063 Quantity type code qualifier -> the type names of the 846 mapper (X12 673).
QUANTITY_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "discrete",  # Discrete quantity (673 01)
        "3": "cumulative",  # Cumulative quantity (673 02)
        "17": "on_hand",  # Quantity on hand (673 17)
        "145": "available",  # Actual stock (673 33, available for sale)
    }
)


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
    record: dict[str, Any] = {
        "source": source,
        "parties": [],
        "references": [],
        "dates": {},
        "notes": [],
        "items": [],
    }
    item: dict[str, Any] | None = None
    quantity: dict[str, Any] | None = None
    party: dict[str, Any] | None = None
    for segment in segments:
        tag = segment.tag
        if party is not None:
            if tag in PARTY_GROUP_TAGS and tag != "LOC" and tag != "DTM":
                add_to_party(party, segment)
                continue
            party = None
        target = item if item is not None else record
        if tag == "QTY":
            if item is not None:
                quantity = _quantity(segment, decimal_mark)
                item["quantities"].append(quantity)
        elif tag == "DTM":
            found = read_dtm(segment)
            if found is not None:
                code, value = found
                if quantity is not None:
                    quantity["dates"].setdefault(date_name(code), value)
                elif item is None and code == "137" and record.get("report_date") is None:
                    record["report_date"] = value
                else:
                    target["dates"].setdefault(date_name(code), value)
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
            if quantity is not None and quantity["location"] is None:
                location = segment.get(2, 1).strip()
                if location:
                    quantity["location"] = location
                    quantity["location_qualifier"] = text_or_none(segment.get(2, 3))
        elif tag == "PIA":
            if item is not None:
                add_pia_ids(item["item_ids"], segment)
        elif tag == "IMD":
            if item is not None and item.get("description") is None:
                item["description"] = description(segment)
        elif tag == "PRI":
            if item is not None:
                item["prices"].append(read_pri(segment, decimal_mark))
        elif tag == "RFF":
            ref = read_rff(segment)
            if ref is not None:
                target["references"].append(ref)
        elif tag == "NAD":
            party = start_party(segment)
            target["parties"].append(party)
        elif tag == "BGM":
            record["report_type"] = text_or_none(segment.get(1, 1))
            record["report_id"] = text_or_none(segment.get(2, 1))
            record["purpose_code"] = text_or_none(segment.get(3))
        elif tag == "CUX":
            if item is None:
                record["currency"] = read_cux(segment)
        elif tag == "FTX":
            note = read_ftx(segment)
            if note:
                record["notes"].append(note)
    return complete("InventoryReport", record)
