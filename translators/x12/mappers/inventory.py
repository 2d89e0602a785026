"""Mapper for the 846 inventory inquiry/advice.

Responsible for BIA, the header N1 loops and the LIN loop (PID, CTP, UIT, QTY with the
DTM that follows it, REF, N1). QTY01 (X12 673) is normalised: 17 on_hand, 33 available
(for sale), 02 cumulative, 01 discrete, 38 original, 63 on_order; other qualifiers keep
their code as ``qty_<code>``. A QTY in the N1 loop of a LIN (positions 440-450) is held
at that party: its N103/N104 become the quantity's location.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from translators.accounting import Coverage, unmapped_x12
from translators.record_data import RecordData, complete, new_record
from translators.text import text_or_none
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.commercial import read_ref
from translators.x12.mappers.dates import read_dtm
from translators.x12.mappers.document import (
    ENVELOPE_COVERAGE,
    PARTY_COVERAGE,
    component_separator,
    id_pairs,
)
from translators.x12.mappers.elements import element, iso_datetime, to_decimal, to_int
from translators.x12.mappers.party_loop import (
    PARTY_LOOP_TAGS,
    add_to_party,
    read_per,
    start_party,
)
from translators.x12.mappers.products import add_product_ids, read_ctp
from translators.x12.segment import Segment

__all__ = ["INVENTORY_COVERAGE", "QUANTITY_TYPES", "map_inventory_report"]

INVENTORY_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "LIN": f"1 {id_pairs(2, 31)}", "QTY": "1 2 3.1", "DTM": "1q 2 3 5 6q 7", "PID": "5",
    "CTP": "1 2 3 4 5.1 6 7", "UIT": "1.1 2", "REF": "1 2 3", "BIA": "1 2 3 4 5",
    "CUR": "2", "CTT": "1", "NTE": "2",
})
"""What the 846 mapper maps."""

# X12 673 (Quantity Qualifier).
QUANTITY_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "01": "discrete",
        "02": "cumulative",
        "17": "on_hand",
        "33": "available",
        "38": "original",
        "63": "on_order",
    }
)


def _qty(f: list[str], component: str) -> dict[str, Any]:
    qualifier = element(f, 1)
    unit = text_or_none(element(f, 3).split(component, 1)[0])
    return {
        "qualifier": qualifier,
        "type": QUANTITY_TYPES.get(qualifier, f"qty_{qualifier}"),
        "quantity": to_decimal(element(f, 2)),
        "unit": unit,
        "unit_rec20": x12_unit_to_rec20(unit),
        "dates": {},
    }


def map_inventory_report(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 846 transaction set (ST..SE) to an ``InventoryReport``."""
    component = component_separator(segments)
    record: dict[str, Any] = new_record(source, items=[])
    item: dict[str, Any] | None = None
    quantity: dict[str, Any] | None = None
    party: dict[str, Any] | None = None
    # Field lists of segments with no place where they stood: listed as unmapped.
    skipped: list[list[str]] = []
    # The N1 of the LIN loop whose QTY loop the next QTY belongs to.
    item_party: dict[str, Any] | None = None
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if party is not None:
            if tag in PARTY_LOOP_TAGS:
                if not add_to_party(party, tag, f):
                    skipped.append(f)
                continue
            party = None
        target = item if item is not None else record
        if tag == "LIN":
            item = {
                "line_number": text_or_none(element(f, 1)),
                "item_ids": {},
                "prices": [],
                "quantities": [],
                "dates": {},
                "references": [],
                "parties": [],
            }
            add_product_ids(item["item_ids"], f, 2)
            record["items"].append(item)
            quantity = None
            item_party = None
        elif tag == "QTY":
            if item is not None:
                quantity = _qty(f, component)
                if item_party is not None and item_party["ids"]:
                    held_at = item_party["ids"][0]
                    quantity["location_qualifier"] = held_at["qualifier"]
                    quantity["location"] = held_at["value"]
                item["quantities"].append(quantity)
            else:
                skipped.append(f)
        elif tag == "DTM":
            found = read_dtm(f)
            holder = quantity if quantity is not None else target
            if found is not None and found[0] not in holder["dates"]:
                holder["dates"][found[0]] = found[1]
            else:
                skipped.append(f)
        elif tag == "PID":
            if item is not None and item.get("description") is None:
                item["description"] = text_or_none(element(f, 5))
            else:
                skipped.append(f)
        elif tag == "CTP":
            if item is not None:
                item["prices"].append(read_ctp(f, component))
            else:
                skipped.append(f)
        elif tag == "UIT":
            # UIT01 composite unit, UIT02 unit price (R).
            if item is not None and item.get("unit") is None:
                item["unit"] = text_or_none(element(f, 1).split(component, 1)[0])
                item["unit_price"] = to_decimal(element(f, 2))
            else:
                skipped.append(f)
        elif tag == "REF":
            ref = read_ref(f)
            if ref is not None:
                target["references"].append(ref)
            else:
                skipped.append(f)
        elif tag == "N1":
            party = start_party(f)
            target["parties"].append(party)
            quantity = None
            item_party = party if item is not None else None
        elif tag == "PER":
            # A contact outside any N1 loop: the report's (846 header); an item has no
            # contacts.
            if item is None:
                record.setdefault("contacts", []).append(read_per(f))
            else:
                skipped.append(f)
        elif tag == "BIA":
            # BIA01 purpose, 02 report type (755), 03 reference id, 04 date, 05 time.
            record["purpose_code"] = text_or_none(element(f, 1))
            record["report_type"] = text_or_none(element(f, 2))
            record["report_id"] = text_or_none(element(f, 3))
            record["report_date"] = iso_datetime(element(f, 4), element(f, 5))
        elif tag == "CUR":
            record["currency"] = text_or_none(element(f, 2))
        elif tag == "CTT":
            item = None
            quantity = None
            item_party = None
            record["line_count"] = to_int(element(f, 1))
        elif tag == "NTE":
            note = text_or_none(element(f, 2))
            if note:
                record["notes"].append(note)
    record["unmapped"] = unmapped_x12(segments, INVENTORY_COVERAGE, skipped)
    return complete("InventoryReport", record)
