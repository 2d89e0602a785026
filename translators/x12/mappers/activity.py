"""Mapper for the 852 product activity data.

Responsible for XQ (XQ01 report type code as sent, XQ02/XQ03 the reporting period, 005010
XQ04 report id and XQ05 purpose), header N9 references, the header N1 loops (parties, with
their N9 references), the LIN loop (LIN ids, CTP prices, PO4 pack, N9 references, AMT
amounts) and its ZA loops: a ZA with a quantity (ZA02/ZA03) is an activity of the line as a
whole; each location/quantity pair of the SDQ segments under it is the same activity at
that location (SDQ02 qualifier, SDQ03.. id/quantity pairs, SDQ01 unit), one
``ActivityLocation`` per location and line whatever the number of ZA/SDQ naming it. A ZA's
date (ZA04/ZA05) and reference (ZA06/ZA07) go with each activity it reports. ZA01 (859) is
normalised by ``ACTIVITY_NAMES``; other codes keep their code as ``za_<code>``.
Not mapped (listed in the record's ``unmapped``, ``ACTIVITY_COVERAGE``): XPO, header
PER, FOB, TD5 and DTM of the N1 loop, SAC, QTY of the LIN loop, ZA08, SDQ23, and any
segment with no place where it stands (a ZA that reports no quantity anywhere, a CTP
before the first LIN, ...), which is listed whole.
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
from translators.x12.mappers.dates import date_name
from translators.x12.mappers.document import (
    ENVELOPE_COVERAGE,
    PARTY_COVERAGE,
    component_separator,
    id_pairs,
)
from translators.x12.mappers.elements import element, iso_date, to_decimal, to_int
from translators.x12.mappers.party_loop import PARTY_LOOP_TAGS, add_to_party, start_party
from translators.x12.mappers.products import add_product_ids, read_ctp, read_po4
from translators.x12.segment import Segment

__all__ = ["ACTIVITY_COVERAGE", "ACTIVITY_NAMES", "map_product_activity"]

ACTIVITY_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "XQ": "1 2 3 4 5", "N9": "1 2 3", "LIN": f"1 {id_pairs(2, 31)}",
    "CTP": "1 2 3 4 5.1 6 7", "PO4": "1 2 3", "AMT": "1 2", "ZA": "1 2 3 4q 5 6 7",
    "SDQ": " ".join(str(i) for i in range(1, 23)), "CTT": "1",
})
"""What the 852 mapper maps where a segment stands at a level that has a place for it."""

# X12 859 (Activity Code) -> canonical activity name. The names are those the EDIFACT
# SLSRPT mapper gives the 6063 codes of the same meaning.
ACTIVITY_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "QS": "sold",  # Quantity Sold
        "Q1": "sold_net",  # Quantity Sold (Net)
        "TS": "sold_total",  # Total Sales Quantity
        "RE": "retail_sales",  # Retail Sales Quantity
        "WQ": "wholesale_sales",  # Wholesale Sales Quantity
        "OP": "on_premise_sales",  # On Premise Sales Quantity
        "OF": "off_premise_sales",  # Off Premise Quantity
        "MS": "military_sales",  # Military Sales Quantity
        "QA": "available",  # Current Inventory Quantity Available for Shipment or Sale
        "OH": "on_hand",  # Gross Quantity On Hand
        "QO": "out_of_stock",  # Quantity Out of Stock
        "QP": "on_order",  # Quantity On Order, Not Yet Received
        "QR": "received",  # Quantity Received
        "QT": "adjusted",  # Adjustment to Inventory Quantity
        "QB": "beginning_balance",  # Beginning Balance Quantity
        "QE": "ending_balance",  # Ending Balance Quantity
        "QC": "committed",  # Quantity Committed
        "QI": "in_transit",  # Quantity in Transit
        "QU": "returned_by_consumer",  # Quantity Returned By Consumer
        "Q2": "returned",  # Quantity Returned
        "Q3": "returned_defective",  # Quantity Returned (Defective/Damaged)
        "DG": "damaged",  # Quantity Damaged
        "HL": "on_hold",  # Quantity on Hold
        "QH": "damaged_or_on_hold",  # Quantity Damaged or On Hold
        "QL": "minimum_inventory",  # Minimum Inventory Quantity
        "QM": "maximum_inventory",  # Maximum Inventory Quantity
        "LS": "lost_sales",  # Lost Sales
        "QD": "additional_demand",  # Additional Demand Quantity
        "QW": "withdrawn",  # Quantity Withdrawn from Warehouse Inventory
        "QZ": "transferred",  # Quantity Transferred
        "OQ": "planned_order",  # Planned Order Quantity
        "PO": "reorder_point",  # Calculated Reorder Point
    }
)


def activity_name(code: str) -> str:
    """Canonical name of an 859 code; ``za_<code>`` when it has none."""
    name = ACTIVITY_NAMES.get(code)
    return name if name is not None else f"za_{code}"


# The segments of a ZA loop after the ZA (QTY and CTP are the line's or listed).
_ZA_LOOP: Final = frozenset({"SDQ", "QTY", "CTP"})


class _ZA:
    """The ZA whose SDQ segments follow: its activity, dates and references."""

    __slots__ = ("code", "dates", "fields", "name", "references", "used")

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        # Whether an activity carries the ZA's values; a ZA that reports no quantity
        # (neither ZA02 nor an SDQ pair) has no place and is listed whole.
        self.used = False
        self.code = element(fields, 1)
        self.name = activity_name(self.code)
        self.dates: dict[str, str] = {}
        qualifier = element(fields, 4)
        value = iso_date(element(fields, 5))
        if qualifier and value:
            self.dates[date_name(qualifier)] = value
        self.references: list[dict[str, Any]] = []
        ref_qualifier = element(fields, 6)
        if ref_qualifier:
            self.references.append(
                {"qualifier": ref_qualifier, "value": text_or_none(element(fields, 7)),
                 "description": None}
            )

    def activity(self, quantity: str, unit: str | None) -> dict[str, Any]:
        self.used = True
        return {
            "activity": self.name,
            "activity_code": self.code,
            "quantity": to_decimal(quantity),
            "unit": unit,
            "unit_rec20": x12_unit_to_rec20(unit),
            "dates": dict(self.dates),
            "references": [dict(r) for r in self.references],
        }


def _location(line: dict[str, Any], qualifier: str | None, location: str) -> dict[str, Any]:
    """The ``ActivityLocation`` of ``line`` for (qualifier, location), created when new."""
    locations: list[dict[str, Any]] = line["locations"]
    for found in locations:
        if found["location"] == location and found["qualifier"] == qualifier:
            return found
    entry: dict[str, Any] = {"qualifier": qualifier, "location": location, "activities": []}
    locations.append(entry)
    return entry


def _add_sdq(line: dict[str, Any], za: _ZA, fields: list[str]) -> bool:
    """Add the SDQ's location quantities to ``line``; false when it names no location."""
    unit = text_or_none(element(fields, 1))
    added = False
    qualifier = text_or_none(element(fields, 2))
    end = len(fields) - 1
    position = 3
    # SDQ03..SDQ22: ten id/quantity pairs; SDQ23 (location identifier) is not a pair.
    while position < end and position <= 21:
        location = fields[position]
        quantity = fields[position + 1]
        position += 2
        if location:
            entry = _location(line, qualifier, location)
            entry["activities"].append(za.activity(quantity, unit))
            added = True
        elif quantity:
            # A quantity without its location (a P pair error) has nowhere to go.
            return False
    return added


def map_product_activity(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 852 transaction set (ST..SE) to a ``ProductActivity``."""
    component = component_separator(segments)
    record: dict[str, Any] = new_record(source, lines=[])
    line: dict[str, Any] | None = None
    za: _ZA | None = None
    party: dict[str, Any] | None = None
    # Field lists of segments with no place where they stood: listed as unmapped.
    skipped: list[list[str]] = []
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if za is not None and tag not in _ZA_LOOP:
            if not za.used:
                skipped.append(za.fields)
            za = None
        if party is not None:
            if tag in PARTY_LOOP_TAGS:
                add_to_party(party, tag, f)
                continue
            if tag == "N9":
                ref = read_ref(f)
                if ref is not None:
                    party["references"].append(ref)
                else:
                    skipped.append(f)
                continue
            if tag in ("FOB", "TD5", "DTM"):
                # Not covered: listed as unmapped.
                continue
            party = None
        if tag == "ZA":
            if line is not None:
                za = _ZA(f)
                if element(f, 2) or element(f, 3):
                    unit = text_or_none(element(f, 3))
                    line["activities"].append(za.activity(element(f, 2), unit))
            else:
                skipped.append(f)
        elif tag == "SDQ":
            if line is None or za is None or not _add_sdq(line, za, f):
                skipped.append(f)
        elif tag == "LIN":
            line = {
                "line_number": text_or_none(element(f, 1)),
                "item_ids": {},
                "prices": [],
                "amounts": [],
                "activities": [],
                "locations": [],
                "references": [],
            }
            add_product_ids(line["item_ids"], f, 2)
            record["lines"].append(line)
            za = None
        elif tag == "CTP":
            if line is not None:
                line["prices"].append(read_ctp(f, component))
            else:
                skipped.append(f)
        elif tag == "PO4":
            if line is not None and "pack" not in line:
                read_po4(line, f)
            else:
                skipped.append(f)
        elif tag == "AMT":
            if line is not None:
                line["amounts"].append(
                    {"qualifier": element(f, 1), "amount": to_decimal(element(f, 2))}
                )
            else:
                skipped.append(f)
        elif tag == "N9":
            ref = read_ref(f)
            if ref is not None:
                (line if line is not None else record)["references"].append(ref)
            else:
                skipped.append(f)
        elif tag in PARTY_LOOP_TAGS:
            # Outside an N1 loop (a header PER): the record has no place for it.
            skipped.append(f)
        elif tag == "N1":
            party = start_party(f)
            record["parties"].append(party)
        elif tag == "XQ" and "report_type_code" not in record:
            record["report_type_code"] = text_or_none(element(f, 1))
            record["period_start"] = iso_date(element(f, 2))
            record["period_end"] = iso_date(element(f, 3))
            record["report_id"] = text_or_none(element(f, 4))
            record["purpose_code"] = text_or_none(element(f, 5))
        elif tag == "CTT" and "line_count" not in record:
            line = None
            za = None
            record["line_count"] = to_int(element(f, 1))
        elif tag == "XQ" or tag == "CTT":
            skipped.append(f)
    if za is not None and not za.used:
        skipped.append(za.fields)
    record["unmapped"] = unmapped_x12(segments, ACTIVITY_COVERAGE, skipped)
    return complete("ProductActivity", record)
