"""Mapper for the DESADV despatch advice, onto the ship notice record of the X12 856.

Responsible for rebuilding the packing hierarchy from CPS 7164 (id) and 7166 (parent id),
not from segment order: a top CPS without package identification is the shipment (its PAC
and MEA describe the whole consignment, as TD1 at HL level S does); a packing level with
packing levels under it is a tare (pallet, HL level T); the others are packs (HL level P)
with their SSCC from GIN 7405 BJ (as MAN GM) and their marks from GIN and PCI C210;
LINs belong to the CPS they follow (items without a CPS belong to the shipment). The
order level of the 856 (HL O, PRF) comes from the header RFF ON: when exactly one order
is referenced it holds the packs and items, as S/O/P/I does; with several, each becomes an
order without packs and the packs stay at shipment level, since DESADV does not say which
pack belongs to which order. Header: BGM 1004 shipment id, 1225 purpose; DTM 11 despatch
date (ship date and time, else DTM 137 as BSN03/04 is), RFF BM bill of lading, RFF CN the
carrier's tracking number, TDT carrier, NAD parties (NAD CA names the carrier), MEA
weight, TOD delivery terms; CNT 2 line count.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.edifact.mappers.code_lists import PURPOSES, coded
from translators.edifact.mappers.commercial import (
    read_ftx,
    read_rff,
    read_tdt,
    read_tod,
    read_weight,
)
from translators.edifact.mappers.dates import date_name, read_dtm
from translators.edifact.mappers.document import ENVELOPE_COVERAGE, PARTY_COVERAGE
from translators.edifact.mappers.party import PARTY_GROUP_TAGS, add_to_party, start_party
from translators.edifact.mappers.products import add_lin_ids, add_pia_ids, description, read_qty
from translators.edifact.mappers.tree import append_to
from translators.edifact.mappers.values import text_or_none, to_decimal
from translators.edifact.segment import Segment
from translators.record_data import RecordData, complete
from translators.units import edifact_unit_to_rec20

__all__ = ["DESADV_COVERAGE", "map_ship_notice"]

DESADV_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "BGM": "2.1 3", "CPS": "1q 2q", "LIN": "1 3.1 3.2q",
    "PIA": " ".join(f"{i}.1 {i}.2q" for i in range(2, 7)), "FTX": "4",
    "DTM": "1.1q 1.2 1.3q", "TDT": "3.1 5.1 5.4", "TOD": "2 3.1", "UNS": "*q",
})
"""What the DESADV mapper maps where a segment stands at a level that has a place for
it. QTY, MEA, PAC, GIN, PCI, IMD and CNT are read only in part: not claimed, so their
values are listed even where a field took them."""

_MAX_DEPTH: Final = 64

# 7405 Identity number qualifier BJ: serial shipping container code (SSCC).
_SSCC: Final = "BJ"
# The segments ``feed`` handles wherever they occur; any other belongs to the open item,
# else the open level, else the header (one set lookup rather than five comparisons).
_ROUTED: Final = frozenset({"CPS", "LIN", "NAD", "FTX", "CNT"})


class _Level:
    """One CPS packing level and what was read under it."""

    __slots__ = ("children", "data", "items", "level_id", "parent", "parent_id")

    def __init__(self, level_id: str, parent_id: str) -> None:
        self.level_id = level_id
        self.parent_id = parent_id
        self.parent: _Level | None = None
        self.children = 0
        self.items: list[dict[str, Any]] = []
        self.data: dict[str, Any] = {"marks": []}


def _new_item(segment: Segment) -> dict[str, Any]:
    item: dict[str, Any] = {
        "line_number": text_or_none(segment.get(1)),
        "item_ids": {},
        "dates": {},
        "references": [],
    }
    add_lin_ids(item["item_ids"], segment)
    return item


def _pac(data: dict[str, Any], segment: Segment, mark: str) -> None:
    # PAC: 01 7224 number of packages, 03 C202 (7065 package type, 1131, 3055, 7064 text).
    if "packaging" not in data:
        data["packaging"] = {
            "code": text_or_none(segment.get(3, 1)),
            "quantity": to_decimal(segment.get(1), mark),
            "description": text_or_none(segment.get(3, 4)),
        }


def _marks(data: dict[str, Any], segment: Segment) -> None:
    if segment.tag == "GIN":
        # GIN: 01 7405 qualifier, 02-06 C208 (7402 identity number, 7402 range end).
        qualifier = segment.get(1).strip()
        for position in range(2, min(len(segment), 6) + 1):
            value = segment.get(position, 1).strip()
            if value:
                append_to(data, "marks", {"qualifier": qualifier or None, "value": value})
                if qualifier == _SSCC and data.get("sscc") is None:
                    data["sscc"] = value
    else:
        # PCI: 01 4233 marking instructions, 02 C210 shipping marks (7102 x10).
        qualifier = segment.get(1).strip()
        for value in segment.element(2):
            if value.strip():
                append_to(data, "marks",
                          {"qualifier": qualifier or None, "value": value.strip()})


class _Advice:
    __slots__ = (
        "carrier_party",
        "group",
        "item",
        "item_closed",
        "level",
        "levels",
        "mark",
        "order_ref",
        "orders",
        "record",
        "skipped",
        "top_items",
        "tracking",
    )

    def __init__(self, source: RecordData, mark: str) -> None:
        self.record: dict[str, Any] = {
            "source": source,
            "parties": [],
            "references": [],
            "dates": {},
            "notes": [],
            "orders": [],
            "tares": [],
            "packs": [],
            "items": [],
        }
        self.mark = mark
        self.levels: list[_Level] = []
        self.level: _Level | None = None
        self.item: dict[str, Any] | None = None
        self.item_closed = False
        self.top_items: list[dict[str, Any]] = []
        self.group = ""
        self.order_ref: dict[str, Any] | None = None
        self.orders: list[dict[str, Any]] = []
        self.tracking: str | None = None
        # Segments with no place where they stood: listed as unmapped.
        self.skipped: list[Segment] = []

    def feed(self, segment: Segment, party: dict[str, Any] | None) -> dict[str, Any] | None:
        """Route one segment; returns the party whose NAD group is open, if any."""
        tag = segment.tag
        if party is not None and tag in PARTY_GROUP_TAGS:
            if tag == "CTA" or tag == "COM" or tag == "RFF":
                add_to_party(party, segment)
            else:
                self.skipped.append(segment)
            return party
        if self.group == "RFF":
            if tag == "DTM":
                found = read_dtm(segment)
                if found is not None and found[0] == "171" and self.order_ref is not None:
                    self.order_ref["po_date"] = found[1][:10]
                # Only an order reference's date has a field.
                self.skipped.append(segment)
                return None
            self.group = ""
            self.order_ref = None
        if tag not in _ROUTED:
            if self.item is not None:
                self._item_segment(self.item, segment)
            elif self.level is not None:
                self._level_segment(self.level.data, segment)
            else:
                self._header_segment(segment)
            return None
        if tag == "CPS":
            level = _Level(segment.get(1).strip(), segment.get(2).strip())
            self.levels.append(level)
            self.level = level
            self.item = None
            self.item_closed = False
        elif tag == "LIN":
            item = _new_item(segment)
            (self.level.items if self.level is not None else self.top_items).append(item)
            self.item = item
            self.item_closed = False
        elif tag == "NAD":
            party = start_party(segment)
            append_to(self.record, "parties", party)
            return party
        elif tag == "FTX":
            note = read_ftx(segment)
            if note:
                append_to(self.record, "notes", note)
        elif tag == "CNT" and segment.get(1, 1).strip() == "2":
            count = to_decimal(segment.get(1, 2), self.mark)
            if count is not None and count == count.to_integral():
                self.record["line_count"] = int(count)
        return None

    def _item_segment(self, item: dict[str, Any], segment: Segment) -> None:
        tag = segment.tag
        if self.item_closed:
            self.skipped.append(segment)
            return
        if tag == "PIA":
            add_pia_ids(item["item_ids"], segment)
        elif tag == "IMD":
            if item.get("description") is None:
                item["description"] = description(segment)
        elif tag == "QTY":
            # 6063: 12 despatch quantity, 21 ordered quantity, 59 consumer units per
            # traded unit (X12 PO401 pack).
            qualifier, quantity, unit = read_qty(segment, self.mark)
            if qualifier == "12" and item.get("quantity_shipped") is None:
                item["quantity_shipped"] = quantity
                item["unit"] = unit
                item["unit_rec20"] = edifact_unit_to_rec20(unit)
            elif qualifier == "21" and item.get("quantity_ordered") is None:
                item["quantity_ordered"] = quantity
                item["quantity_ordered_unit"] = unit
            elif qualifier == "59" and item.get("pack") is None:
                item["pack"] = quantity
        elif tag == "DTM":
            self._date(item, segment)
        elif tag == "RFF":
            ref = read_rff(segment)
            if ref is not None:
                append_to(item, "references", ref)
            else:
                self.skipped.append(segment)
            self.group = "RFF"
        elif tag == "PCI" or tag == "GIN" or tag == "PAC":
            # The item's own package or batch identification group: nothing of it has a
            # place in ShipItem, and its QTYs must not pass for the item's.
            self.item_closed = True
        else:
            self.skipped.append(segment)

    def _date(self, target: dict[str, Any], segment: Segment) -> None:
        """File a DTM's date by name unless one is there (then the segment is listed)."""
        found = read_dtm(segment)
        dates: dict[str, str] = target.setdefault("dates", {})
        if found is None or date_name(found[0]) in dates:
            self.skipped.append(segment)
        else:
            dates[date_name(found[0])] = found[1]

    def _level_segment(self, data: dict[str, Any], segment: Segment) -> None:
        tag = segment.tag
        if tag == "PAC":
            _pac(data, segment, self.mark)
        elif tag == "MEA":
            weight = read_weight(segment, self.mark)
            if weight is not None and "weight" not in data:
                data["weight"] = weight
        elif tag == "GIN" or tag == "PCI":
            _marks(data, segment)
        else:
            self.skipped.append(segment)

    def _header_segment(self, segment: Segment) -> None:
        tag = segment.tag
        record = self.record
        if tag == "BGM":
            record["shipment_id"] = text_or_none(segment.get(2, 1))
            record["purpose"], record["purpose_code"] = coded(PURPOSES, segment.get(3))
        elif tag == "DTM":
            self._date(record, segment)
        elif tag == "RFF":
            ref = read_rff(segment)
            self.group = "RFF"
            if ref is None:
                self.skipped.append(segment)
                return
            qualifier = ref["qualifier"]
            if qualifier == "ON":
                order: dict[str, Any] = {"po_number": ref["value"]}
                self.orders.append(order)
                self.order_ref = order
                return
            append_to(record, "references", ref)
            if qualifier == "BM" and record.get("bill_of_lading") is None:
                record["bill_of_lading"] = ref["value"]
            elif qualifier == "CN" and self.tracking is None:
                self.tracking = ref["value"]
        elif tag == "TDT" and record.get("carrier") is None:
            record["carrier"] = read_tdt(segment)
        elif tag == "TOD" and record.get("fob") is None:
            record["fob"] = read_tod(segment)
        elif tag == "MEA":
            weight = read_weight(segment, self.mark)
            if weight is not None and record.get("weight") is None:
                record["weight"] = weight
        else:
            self.skipped.append(segment)

    def finish(self) -> dict[str, Any]:
        record = self.record
        _link(self.levels)
        order = self.orders[0] if len(self.orders) == 1 else None
        packs: list[dict[str, Any]] = record["packs"]
        items: list[dict[str, Any]] = record["items"]
        if order is not None:
            order["packs"] = packs = []
            order["items"] = items = []
        items.extend(self.top_items)
        for level in self.levels:
            data = level.data
            if level.parent is None and not data["marks"]:
                # The shipment level.
                if "packaging" in data and record.get("packaging") is None:
                    record["packaging"] = data["packaging"]
                if "weight" in data and record.get("weight") is None:
                    record["weight"] = data["weight"]
                items.extend(level.items)
            elif level.children:
                record["tares"].append(
                    {
                        "sscc": data.get("sscc"),
                        "marks": data["marks"],
                        "po_number": order["po_number"] if order is not None else None,
                    }
                )
                items.extend(level.items)
            else:
                tare = _tare_of(level)
                if tare is not None:
                    data["tare_sscc"] = tare.data.get("sscc")
                data["items"] = level.items
                packs.append(data)
        record["orders"] = self.orders
        _finish_dates(record)
        _finish_carrier(record, self.tracking)
        return record


def _is_shipment(level: _Level) -> bool:
    return level.parent is None and not level.data["marks"]


def _link(levels: list[_Level]) -> None:
    by_id: dict[str, _Level] = {}
    for level in levels:
        by_id.setdefault(level.level_id, level)
    for level in levels:
        parent = by_id.get(level.parent_id) if level.parent_id else None
        if parent is not None and parent is not level and _reaches_root(parent, level):
            level.parent = parent
    for level in levels:
        if level.parent is not None and not _is_shipment(level.parent):
            level.parent.children += 1


def _reaches_root(parent: _Level, child: _Level) -> bool:
    # A parent chain that loops back to the child (or is absurdly deep) is ignored.
    current: _Level | None = parent
    for _ in range(_MAX_DEPTH):
        if current is None:
            return True
        if current is child:
            return False
        current = current.parent
    return False


def _tare_of(level: _Level) -> _Level | None:
    current = level.parent
    for _ in range(_MAX_DEPTH):
        if current is None or _is_shipment(current):
            return None
        if current.children:
            return current
        current = current.parent
    return None


def _finish_dates(record: dict[str, Any]) -> None:
    # The ship date is the despatch date, else the document's date, as the 856 mapper
    # takes DTM 011 over BSN03/BSN04.
    dates: dict[str, str] = record["dates"]
    value = dates.get("shipped") or dates.get("transaction_creation")
    if value is not None:
        day, _, clock = value.partition("T")
        record["ship_date"] = day
        record["ship_time"] = clock or None


def _finish_carrier(record: dict[str, Any], tracking: str | None) -> None:
    carrier_party = next((p for p in record["parties"] if p["role"] == "carrier"), None)
    if record.get("carrier") is None and tracking is None and carrier_party is None:
        return
    carrier: dict[str, Any] = record.get("carrier") or {}
    if tracking is not None:
        carrier["tracking_number"] = tracking
    # The carrier party's name fills in; it does not overwrite the name the carrier
    # segment gave.
    if carrier_party is not None and carrier_party.get("name") and not carrier.get("name"):
        carrier["name"] = carrier_party["name"]
    record["carrier"] = carrier


def map_ship_notice(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData:
    """Map a DESADV message (UNH..UNT) to a ``ShipNotice``."""
    advice = _Advice(source, decimal_mark)
    party: dict[str, Any] | None = None
    for segment in segments:
        tag = segment.tag
        # Not UNH or UNT; a body tag rarely has N second, so one code point test mostly.
        if len(tag) < 2 or ord(tag[1]) != 0x4E or (tag != "UNH" and tag != "UNT"):
            party = advice.feed(segment, party)
    record = advice.finish()
    record["unmapped"] = unmapped_edifact(segments, DESADV_COVERAGE, advice.skipped)
    return complete("ShipNotice", record)
