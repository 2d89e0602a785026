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
date (the ship date and time; DTM 137, the message date, is never taken for it), RFF BM
bill of lading, RFF CN the carrier's reference (PRO number and tracking number), TDT
carriers with their LOC places, EQD equipment with its SEL seals and MEA, NAD parties
(NAD CA names the carrier), MEA weights, volumes and dimensions at any level, TOD
delivery terms; CNT 2 line count. Items: QTY 12 despatched (``quantity_shipped``), 21
ordered, 46 delivered, 59 per pack, any other or repeated qualifier in ``quantities``;
an item's PCI group (and GIN/GIR under LIN) becomes one of its ``identifications`` (batch
numbers, serials, expiry dates). A segment with no place where it stands (a second date
of one name, HAN of equipment, a second TOD, ...) is passed to the accounting as skipped,
so its values are listed in ``unmapped``.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.edifact.mappers.code_lists import PURPOSES, coded
from translators.edifact.mappers.commercial import read_ftx, read_rff, read_tod
from translators.edifact.mappers.dates import date_name, read_dtm
from translators.edifact.mappers.document import ENVELOPE_COVERAGE, PARTY_COVERAGE
from translators.edifact.mappers.party import PARTY_GROUP_TAGS, add_to_party, start_party
from translators.edifact.mappers.products import add_lin_ids, add_pia_ids, description, read_qty
from translators.edifact.mappers.tree import append_to
from translators.edifact.mappers.values import to_decimal
from translators.edifact.segment import Segment
from translators.record_data import RecordData, complete, new_record
from translators.shipment import (
    DIMENSION_FIELDS,
    add_dimension,
    add_measurement,
    add_packaging,
    add_volume,
    add_weight,
    measure_kind,
)
from translators.text import text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = ["DESADV_COVERAGE", "map_ship_notice"]

_C208: Final = " ".join(f"{i}.1 {i}.2" for i in range(2, 7))

DESADV_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "BGM": "1.1 2.1 3", "CPS": "1q 2q", "LIN": "1 3.1 3.2q",
    "PIA": " ".join(f"{i}.1 {i}.2q" for i in range(2, 7)), "IMD": "3.4 3.5", "FTX": "4",
    # 6063 is a key (quantity_shipped, ...) or kept beside the quantity.
    "QTY": "1.1q 1.2 1.3",
    # 6311 and 6313 say which list or field took the value; weights, volumes and other
    # measurements also keep them as sent.
    "MEA": "1q 2.1q 3.1 3.2 3.3 3.4",
    "PAC": "1 2.1 3.1 3.4", "GIN": f"1 {_C208}", "GIR": _C208,
    "PCI": "1 2", "DTM": "1.1q 1.2 1.3q",
    "TDT": "1 2 3.1 4.1 5.1 5.3 5.4 6 8.1", "LOC": "1 2.1 2.3 2.4",
    "EQD": "1 2.1 3.1 4", "SEL": "1 2.1 3", "TOD": "2 3.1", "CNT": "1.1q 1.2", "UNS": "*q",
})
"""What the DESADV mapper maps where a segment stands at a level that has a place for it.
GIR 7297 (kept only where no 7405 qualifies an id) is not claimed: its values are listed
even where a field took them."""

_MAX_DEPTH: Final = 64

# 7405 Identity number qualifier BJ: serial shipping container code (SSCC).
_SSCC: Final = "BJ"
# The segments ``feed`` handles wherever they occur; any other belongs to the open item,
# else the open level, else the header (one set lookup rather than five comparisons).
_ROUTED: Final = frozenset({"CPS", "LIN", "NAD", "FTX", "CNT", "TDT", "LOC", "EQD"})
# Segments of an EQD group after the EQD.
_EQUIPMENT_TAGS: Final = frozenset({"MEA", "SEL", "HAN", "EQA", "DIM"})
# Segments of an item's package identification group (PCI) after the PCI.
_IDENTIFICATION_TAGS: Final = frozenset({"DTM", "MEA", "QTY", "GIN", "GIR"})


class _Level:
    """One CPS packing level and what was read under it."""

    __slots__ = ("children", "data", "dated", "items", "level_id", "parent", "parent_id")

    def __init__(self, level_id: str, parent_id: str) -> None:
        self.level_id = level_id
        self.parent_id = parent_id
        self.parent: _Level | None = None
        self.children = 0
        self.items: list[dict[str, Any]] = []
        self.data: dict[str, Any] = {"marks": []}
        # The DTM segment of each date name in ``data``.
        self.dated: dict[str, Segment] = {}


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
    # PAC: 01 7224 number of packages, 02 C531.7075 packaging level, 03 C202 (7065 package
    # type, 1131, 3055, 7064 text).
    add_packaging(data, {
        "code": text_or_none(segment.get(3, 1)),
        "quantity": to_decimal(segment.get(1), mark),
        "description": text_or_none(segment.get(3, 4)),
        "level_code": text_or_none(segment.get(2, 1)),
    })


def _mea(data: dict[str, Any], segment: Segment, mark: str, single: bool) -> None:
    # MEA: 01 6311 purpose, 02 C502.6313 attribute measured, 03 C174 (6411 unit,
    # 6314 value, 6162 range minimum, 6152 range maximum).
    reference = text_or_none(segment.get(1))
    attribute = segment.get(2, 1).strip()
    unit = text_or_none(segment.get(3, 1))
    rec20 = edifact_unit_to_rec20(unit)
    value = to_decimal(segment.get(3, 2), mark)
    minimum = to_decimal(segment.get(3, 3), mark)
    maximum = to_decimal(segment.get(3, 4), mark)
    kind = measure_kind(attribute, unit or "")
    if value is None or minimum is not None or maximum is not None:
        kind = "other"
    if kind == "weight" and value is not None:
        add_weight(data, value, unit, rec20, attribute or None, single=single)
    elif kind == "volume" and value is not None:
        add_volume(data, value, unit, rec20, attribute or None)
    elif kind == "dimension" and value is not None and attribute in DIMENSION_FIELDS:
        add_dimension(data, attribute, value, unit, rec20, reference)
    else:
        add_measurement(data, reference, attribute or None, value, unit, rec20,
                        minimum, maximum)


def _marks(data: dict[str, Any], segment: Segment, with_sscc: bool = True) -> None:
    qualifier = segment.get(1).strip()
    if segment.tag == "GIN":
        # GIN: 01 7405 qualifier, 02-06 C208 (7402 identity number, 7402 range end).
        for position in range(2, min(len(segment), 6) + 1):
            for component in (1, 2):
                value = segment.get(position, component).strip()
                if value:
                    append_to(data, "marks", {"qualifier": qualifier or None, "value": value})
                    if with_sscc and qualifier == _SSCC and data.get("sscc") is None:
                        data["sscc"] = value
    elif segment.tag == "GIR":
        # GIR: 01 7297 set qualifier, 02-06 C206 (7402 identity number, 7405 its qualifier).
        for position in range(2, min(len(segment), 6) + 1):
            value = segment.get(position, 1).strip()
            if value:
                kind = segment.get(position, 2).strip()
                append_to(data, "marks", {"qualifier": kind or qualifier or None,
                                          "value": value})
    else:
        # PCI: 01 4233 marking instructions, 02 C210 shipping marks (7102 x10).
        for value in segment.element(2):
            if value.strip():
                append_to(data, "marks",
                          {"qualifier": qualifier or None, "value": value.strip()})


def _tdt(segment: Segment) -> dict[str, Any]:
    # TDT: 01 8051 transport stage, 02 8028 conveyance reference, 03 C220.8067 mode,
    # 04 C228.8179 means of transport, 05 C040 (3127 carrier id, 1131, 3055 agency, 3128
    # name; a SCAC when the agency is 182), 06 8101 transit direction, 08 C222.8213
    # transport id.
    carrier_id = text_or_none(segment.get(5, 1))
    agency = text_or_none(segment.get(5, 3))
    return {
        "scac": carrier_id if agency == "182" else None,
        "id_qualifier": agency,
        "id_code": carrier_id,
        "mode": text_or_none(segment.get(3, 1)),
        "name": text_or_none(segment.get(5, 4)),
        "routing_sequence_code": text_or_none(segment.get(1)),
        "conveyance_reference": text_or_none(segment.get(2)),
        "transport_means_code": text_or_none(segment.get(4, 1)),
        "transit_direction_code": text_or_none(segment.get(6)),
        "transport_id": text_or_none(segment.get(8, 1)),
    }


def _loc(segment: Segment) -> dict[str, Any]:
    # LOC: 01 3227 qualifier, 02 C517 (3225 id, 1131, 3055 agency, 3224 name).
    return {
        "qualifier": text_or_none(segment.get(1)),
        "id": text_or_none(segment.get(2, 1)),
        "agency": text_or_none(segment.get(2, 3)),
        "name": text_or_none(segment.get(2, 4)),
    }


def _eqd(segment: Segment) -> dict[str, Any]:
    # EQD: 01 8053 equipment qualifier, 02 C237.8260 equipment id, 03 C224.8155 size and
    # type, 04 8077 supplier (ownership).
    return {
        "type_code": text_or_none(segment.get(1)),
        "number": text_or_none(segment.get(2, 1)),
        "size_type": text_or_none(segment.get(3, 1)),
        "ownership_code": text_or_none(segment.get(4)),
        "seals": [],
    }


def _sel(segment: Segment) -> dict[str, Any]:
    # SEL: 01 9308 seal number, 02 C215.9303 sealing party, 03 4517 seal condition.
    return {
        "number": text_or_none(segment.get(1)),
        "issuer": text_or_none(segment.get(2, 1)),
        "status_code": text_or_none(segment.get(3)),
    }


class _Advice:
    __slots__ = (
        "carrier_party",
        "equipment",
        "group",
        "identification",
        "item",
        "level",
        "levels",
        "location",
        "mark",
        "order_ref",
        "orders",
        "record",
        "skipped",
        "top_items",
        "tracking",
    )

    def __init__(self, source: RecordData, mark: str) -> None:
        self.record: dict[str, Any] = new_record(source, orders=[], tares=[], packs=[], items=[])
        self.mark = mark
        self.levels: list[_Level] = []
        self.level: _Level | None = None
        self.item: dict[str, Any] | None = None
        # The item's open package identification (PCI group, or GIN/GIR under LIN).
        self.identification: dict[str, Any] | None = None
        self.top_items: list[dict[str, Any]] = []
        # The open segment group whose trailing segments need routing: "RFF" (its DTM),
        # "EQD" (MEA, SEL, ...), "LOC" (its DTM), else "".
        self.group = ""
        self.order_ref: dict[str, Any] | None = None
        self.orders: list[dict[str, Any]] = []
        self.tracking: str | None = None
        self.equipment: dict[str, Any] | None = None
        self.location: dict[str, Any] | None = None
        # Segments with no place where they stood: listed as unmapped.
        self.skipped: list[Segment] = []

    def feed(self, segment: Segment, party: dict[str, Any] | None) -> dict[str, Any] | None:
        """Route one segment; returns the party whose NAD group is open, if any."""
        tag = segment.tag
        if party is not None and tag in PARTY_GROUP_TAGS:
            # CTA, COM and RFF fold into the party; the others (and a COM without a
            # number) have no place there.
            if not add_to_party(party, segment):
                self.skipped.append(segment)
            return party
        group = self.group
        if group:
            taken = self._in_group(group, tag, segment)
            if taken is not None:
                if not taken:
                    self.skipped.append(segment)
                return None
            self.group = ""
            self.order_ref = None
        if tag not in _ROUTED:
            if self.item is not None:
                self._item_segment(self.item, segment)
            elif self.level is not None:
                self._level_segment(self.level, segment)
            else:
                self._header_segment(segment)
            return None
        if tag == "CPS":
            level = _Level(segment.get(1).strip(), segment.get(2).strip())
            self.levels.append(level)
            self.level = level
            self.item = None
            self.identification = None
        elif tag == "LIN":
            item = _new_item(segment)
            (self.level.items if self.level is not None else self.top_items).append(item)
            self.item = item
            self.identification = None
        elif tag == "NAD":
            party = start_party(segment)
            append_to(self.record, "parties", party)
            return party
        elif tag == "FTX":
            note = read_ftx(segment)
            if note:
                append_to(self.item if self.item is not None else self.record, "notes", note)
            else:
                self.skipped.append(segment)
        elif tag == "CNT":
            count = to_decimal(segment.get(1, 2), self.mark)
            if (segment.get(1, 1).strip() == "2" and "line_count" not in self.record
                    and count is not None and count == count.to_integral()):
                self.record["line_count"] = int(count)
            else:
                self.skipped.append(segment)
        elif tag == "TDT":
            append_to(self.record, "carriers", _tdt(segment))
        elif tag == "LOC":
            location = _loc(segment)
            append_to(self.record, "locations", location)
            self.location = location
            self.group = "LOC"
        elif tag == "EQD":
            equipment = _eqd(segment)
            append_to(self.record, "equipment", equipment)
            self.equipment = equipment
            self.group = "EQD"
        return None

    def _in_group(self, group: str, tag: str, segment: Segment) -> bool | None:
        """Whether ``segment`` belongs to the open group ``group``: ``None`` when it does
        not, else whether it found a place there."""
        if group == "RFF":
            if tag != "DTM":
                return None
            found = read_dtm(segment)
            if found is None:
                return False
            if self.order_ref is not None:
                if found[0] != "171" or "po_date" in self.order_ref:
                    return False
                self.order_ref["po_date"] = found[1][:10]
                # The order's date field holds the day only.
                return "T" not in found[1]
            owner = self.item if self.item is not None else self.record
            return self._date(owner, found)
        if group == "LOC":
            if tag != "DTM" or self.location is None:
                return None
            found = read_dtm(segment)
            return found is not None and self._date(self.location, found)
        if group == "EQD":
            equipment = self.equipment
            if tag not in _EQUIPMENT_TAGS or equipment is None:
                return None
            if tag == "SEL":
                equipment["seals"].append(_sel(segment))
                return True
            if tag == "MEA":
                self._equipment_measure(equipment, segment)
                return True
            # HAN, EQA, DIM of the equipment have no place in the record.
            return False
        return None

    def _equipment_measure(self, equipment: dict[str, Any], segment: Segment) -> None:
        attribute = segment.get(2, 1).strip()
        unit = segment.get(3, 1).strip()
        value = to_decimal(segment.get(3, 2), self.mark)
        minimum = to_decimal(segment.get(3, 3), self.mark)
        maximum = to_decimal(segment.get(3, 4), self.mark)
        if (measure_kind(attribute, unit) == "weight" and value is not None
                and minimum is None and maximum is None and equipment.get("weight") is None):
            equipment["weight"] = {
                "value": value, "unit": unit or None, "qualifier": attribute or None,
                "unit_rec20": edifact_unit_to_rec20(unit),
            }
        else:
            add_measurement(
                equipment, text_or_none(segment.get(1)), attribute or None, value,
                unit or None, edifact_unit_to_rec20(unit), minimum, maximum,
            )

    def _date(self, target: dict[str, Any], found: tuple[str, str]) -> bool:
        """File a date by name unless one is there (false: the caller lists the segment)."""
        dates: dict[str, str] = target.setdefault("dates", {})
        name = date_name(found[0])
        if name in dates:
            return False
        dates[name] = found[1]
        return True

    def _dtm(self, target: dict[str, Any], segment: Segment) -> None:
        found = read_dtm(segment)
        if found is None or not self._date(target, found):
            self.skipped.append(segment)

    def _item_segment(self, item: dict[str, Any], segment: Segment) -> None:
        tag = segment.tag
        identification = self.identification
        if identification is not None and tag in _IDENTIFICATION_TAGS:
            self._identification_segment(item, identification, segment)
            return
        if tag == "PIA":
            add_pia_ids(item["item_ids"], segment)
        elif tag == "IMD":
            text = description(segment)
            if item.get("description") is None:
                item["description"] = text
            elif text is not None:
                append_to(item, "notes", text)
        elif tag == "QTY":
            self._item_quantity(item, segment)
        elif tag == "DTM":
            self._dtm(item, segment)
        elif tag == "RFF":
            ref = read_rff(segment)
            if ref is not None:
                append_to(item, "references", ref)
            else:
                self.skipped.append(segment)
            self.group = "RFF"
        elif tag == "MEA":
            _mea(item, segment, self.mark, False)
        elif tag == "PAC":
            _pac(item, segment, self.mark)
        elif tag == "PCI" or tag == "GIN" or tag == "GIR":
            if tag == "PCI" or identification is None:
                identification = {
                    "marking_code": text_or_none(segment.get(1)) if tag == "PCI" else None,
                    "marks": [],
                    "dates": {},
                }
                append_to(item, "identifications", identification)
                self.identification = identification
            _marks(identification, segment, with_sscc=False)
        else:
            self.skipped.append(segment)

    def _identification_segment(
        self, item: dict[str, Any], identification: dict[str, Any], segment: Segment
    ) -> None:
        tag = segment.tag
        if tag == "DTM":
            self._dtm(identification, segment)
        elif tag == "QTY":
            qualifier, quantity, unit = read_qty(segment, self.mark)
            if "quantity_qualifier" in identification:
                # A second quantity of the same identification: kept with the item's.
                append_to(item, "quantities", {
                    "qualifier": qualifier, "quantity": quantity, "unit": unit,
                    "unit_rec20": edifact_unit_to_rec20(unit),
                })
                return
            identification["quantity_qualifier"] = qualifier or None
            identification["quantity"] = quantity
            identification["unit"] = unit
            identification["unit_rec20"] = edifact_unit_to_rec20(unit)
        elif tag == "MEA":
            _mea(item, segment, self.mark, False)
        else:
            _marks(identification, segment, with_sscc=False)

    def _item_quantity(self, item: dict[str, Any], segment: Segment) -> None:
        # 6063: 12 despatch quantity, 21 ordered quantity, 46 delivered quantity, 59
        # consumer units per traded unit (X12 PO401 pack); any other, or a repeat, is kept
        # in ``quantities``.
        qualifier, quantity, unit = read_qty(segment, self.mark)
        rec20 = edifact_unit_to_rec20(unit)
        if qualifier == "12" and "quantity_shipped" not in item:
            item["quantity_shipped"] = quantity
            item["unit"] = unit
            item["unit_rec20"] = rec20
        elif qualifier == "21" and "quantity_ordered" not in item:
            item["quantity_ordered"] = quantity
            item["quantity_ordered_unit"] = unit
            item["quantity_ordered_unit_rec20"] = rec20
        elif qualifier == "46" and "quantity_delivered" not in item:
            item["quantity_delivered"] = quantity
            item["quantity_delivered_unit"] = unit
            item["quantity_delivered_unit_rec20"] = rec20
        elif qualifier == "59" and "pack" not in item and unit is None:
            item["pack"] = quantity
        else:
            append_to(item, "quantities", {
                "qualifier": qualifier, "quantity": quantity, "unit": unit, "unit_rec20": rec20,
            })

    def _level_segment(self, level: _Level, segment: Segment) -> None:
        tag = segment.tag
        data = level.data
        if tag == "PAC":
            _pac(data, segment, self.mark)
        elif tag == "MEA":
            _mea(data, segment, self.mark, True)
        elif tag == "GIN" or tag == "PCI" or tag == "GIR":
            if tag == "PCI":
                code = text_or_none(segment.get(1))
                if code is not None:
                    append_to(data, "marking_codes", code)
            _marks(data, segment)
        elif tag == "RFF":
            ref = read_rff(segment)
            if ref is not None:
                append_to(data, "references", ref)
            else:
                self.skipped.append(segment)
        elif tag == "DTM":
            found = read_dtm(segment)
            if found is None or not self._date(data, found):
                self.skipped.append(segment)
            else:
                # Should this level be the shipment, its dates join the header's.
                level.dated[date_name(found[0])] = segment
        elif tag == "QTY":
            # A PAC group's quantity (e.g. 52 per pack), kept as sent.
            qualifier, quantity, unit = read_qty(segment, self.mark)
            append_to(data, "quantities", {
                "qualifier": qualifier, "quantity": quantity, "unit": unit,
                "unit_rec20": edifact_unit_to_rec20(unit),
            })
        else:
            self.skipped.append(segment)

    def _header_segment(self, segment: Segment) -> None:
        tag = segment.tag
        record = self.record
        if tag == "BGM" and "shipment_id" not in record:
            record["shipment_id"] = text_or_none(segment.get(2, 1))
            record["purpose"], record["purpose_code"] = coded(PURPOSES, segment.get(3))
            record["document_type_code"] = text_or_none(segment.get(1, 1))
        elif tag == "DTM":
            self._dtm(record, segment)
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
            elif qualifier == "CN":
                if record.get("pro_number") is None:
                    record["pro_number"] = ref["value"]
                if self.tracking is None:
                    self.tracking = ref["value"]
        elif tag == "TOD" and record.get("fob") is None:
            record["fob"] = read_tod(segment)
        elif tag == "MEA":
            _mea(record, segment, self.mark, True)
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
                self.skipped.extend(_merge_shipment(record, level))
                items.extend(level.items)
            elif level.children:
                data["po_number"] = order["po_number"] if order is not None else None
                record["tares"].append(data)
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


def _merge_shipment(record: dict[str, Any], level: _Level) -> list[Segment]:
    """Join the shipment CPS's data to the header's, which it describes as well: lists
    join, dimensions fill the header's unless those are set; returns the DTM segments
    whose date name the header already has."""
    data = level.data
    for packaging in data.get("packagings", ()):
        add_packaging(record, packaging)
    for weight in data.get("weights", ()):
        append_to(record, "weights", weight)
        if record.get("weight") is None:
            record["weight"] = weight
    for field in ("volumes", "measurements", "references", "quantities", "marking_codes"):
        for value in data.get(field, ()):
            append_to(record, field, value)
    dimensions = data.get("dimensions")
    if dimensions is not None:
        if record.get("dimensions") is None:
            record["dimensions"] = dimensions
        else:
            for code, name in DIMENSION_FIELDS.items():
                value = dimensions[name]
                if value is not None:
                    add_measurement(record, None, code, value, dimensions["unit"],
                                    dimensions["unit_rec20"])
    clashes: list[Segment] = []
    dates: dict[str, str] = record["dates"]
    for name, value in data.get("dates", {}).items():
        if name in dates:
            clashes.append(level.dated[name])
        else:
            dates[name] = value
    return clashes


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
    # The ship date is the despatch date (DTM 11) or nothing: DTM 137 is when the message
    # was made, which says nothing of when the goods left.
    value = record["dates"].get("shipped")
    if value is not None:
        day, _, clock = value.partition("T")
        record["ship_date"] = day
        record["ship_time"] = clock or None


def _finish_carrier(record: dict[str, Any], tracking: str | None) -> None:
    carriers: list[dict[str, Any]] = record.get("carriers") or []
    carrier_party = next((p for p in record["parties"] if p["role"] == "carrier"), None)
    if not carriers and tracking is None and carrier_party is None:
        return
    carrier: dict[str, Any] = carriers[0] if carriers else {}
    if not carriers:
        record["carriers"] = [carrier]
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
