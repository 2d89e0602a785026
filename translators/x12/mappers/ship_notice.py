"""Mapper for the 856 ship notice, keeping its HL hierarchy.

Responsible for building shipment -> orders -> (tares) -> packs -> items from the HL01/HL02
parent links, not from segment order, so S/O/P/I, S/O/I, S/O/T/P/I and cross-dock layouts
(several O levels, each with packs) all map. Segments are collected per HL node in one
pass; the tree is assembled after it. Items whose LIN appears without an I level get an
implicit item under the current level. An HL whose parent is missing or unknown hangs
under the nearest earlier HL of a higher level.
Whatever the level a partner puts them on, TD1 (packaging, weight, volume), PO4
(packaging, weight, volume, dimensions), MEA (weights, volumes, dimensions, other
measurements), MAN (marks; GM is the SSCC), REF, DTM and N1 stay on their own level; TD3
(equipment and seal), TD4 (special handling) and TD5 (carriers) describe the shipment and
go to the record whatever level holds them. Dates: BSN03/BSN04 is when the notice was
created (``dates["transaction_creation"]``); ``ship_date``/``ship_time`` come only from
DTM 011 (shipped), else stay null. REF CN is the carrier's reference (PRO number) and,
with REF 2I, the tracking number. A segment with no place at its level (SN1 outside an
item, a second PRF or FOB, a date name already taken, anything under an HL level code
this mapper does not know) is passed to the accounting as skipped, so its values are
listed in ``unmapped``.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_x12
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
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.commercial import read_fob, read_ref, read_td5
from translators.x12.mappers.dates import read_dtm
from translators.x12.mappers.document import (
    ENVELOPE_COVERAGE,
    PARTY_COVERAGE,
    component_separator,
    id_pairs,
)
from translators.x12.mappers.elements import element, iso_date, iso_datetime, to_decimal, to_int
from translators.x12.mappers.party_loop import PARTY_LOOP_TAGS, add_to_party, start_party
from translators.x12.mappers.po import PURPOSES
from translators.x12.mappers.products import add_product_ids, read_po4
from translators.x12.segment import Segment

__all__ = ["SHIP_NOTICE_COVERAGE", "map_ship_notice"]

_ALL_TD5: Final = " ".join(str(i) for i in range(1, 16))

SHIP_NOTICE_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "BSN": "1 2 3 4 5 6", "HL": "1q 2q 3q", "LIN": f"1 {id_pairs(2, 31)}",
    "SN1": "1 2 3 4 5 6 8", "SLN": f"1 2 3 4 5.1 6 7 {id_pairs(9, 28)}", "CLD": "1 2 3 4 5",
    "PRF": "1 2 4", "MAN": "1 2 3 4 5 6", "PID": "5",
    "TD1": "1 2 3 4 5 6 7 8 9 10", "PO4": "1 2 3 4 5 6 7 8 9 10 11 12 13 14",
    # MEA01 and MEA02 say which list or field (weights, volumes, dimensions.length, ...)
    # took the value; a weight or volume also keeps MEA02 as its qualifier.
    "MEA": "1q 2q 3 4.1 5 6",
    "TD3": "1 2 3 4 5 6 7 8 9 10", "TD4": "1 2 3 4", "TD5": _ALL_TD5,
    "DTM": "1q 2 3 5 6q 7", "REF": "1 2 3", "FOB": "1 2 3 4 5", "CTT": "1", "NTE": "2",
})
"""What the 856 mapper maps where a segment stands at a level that has a place for it."""

# HL03 (735 Hierarchical Level Code) ranks: a lower rank is higher in the tree.
_RANK = {"S": 0, "O": 1, "T": 2, "P": 3, "I": 4}
_MAX_DEPTH = 64
# Levels with one ``weight`` field beside ``weights`` (an item has only the list).
_SINGLE_WEIGHT = frozenset({"S", "O", "T", "P"})


class _Node:
    __slots__ = ("data", "hl_id", "level", "parent", "parent_id")

    def __init__(self, hl_id: str, parent_id: str, level: str, data: dict[str, Any]) -> None:
        self.hl_id = hl_id
        self.parent_id = parent_id
        self.level = level
        self.data = data
        self.parent: _Node | None = None


def _new_item() -> dict[str, Any]:
    return {"item_ids": {}, "dates": {}, "references": []}


def _new_data(level: str, record: dict[str, Any]) -> dict[str, Any]:
    if level == "S":
        return record
    if level == "O":
        return {"parties": [], "references": [], "dates": {}, "packs": [], "items": [],
                "marks": []}
    if level == "P" or level == "T":
        return {"marks": [], "items": [], "references": [], "dates": {}, "parties": []}
    return _new_item()


def _unit(text: str) -> tuple[str | None, str | None]:
    unit = text_or_none(text)
    return unit, x12_unit_to_rec20(unit)


def _td1(data: dict[str, Any], f: list[str], single: bool) -> None:
    # TD101 packaging code, 02 lading quantity, 03/04 commodity code, 05 description,
    # 06 weight qualifier, 07 weight (R), 08 unit, 09 volume (R), 10 unit.
    if element(f, 1) or element(f, 2) or element(f, 3) or element(f, 4) or element(f, 5):
        add_packaging(data, {
            "code": text_or_none(element(f, 1)),
            "quantity": to_decimal(element(f, 2)),
            "description": text_or_none(element(f, 5)),
            "commodity_code_qualifier": text_or_none(element(f, 3)),
            "commodity_code": text_or_none(element(f, 4)),
        })
    # A qualifier or unit without its value is kept too (with a null value).
    if element(f, 6) or element(f, 7) or element(f, 8):
        unit, rec20 = _unit(element(f, 8))
        add_weight(data, to_decimal(element(f, 7)), unit, rec20, text_or_none(element(f, 6)),
                   single=single)
    if element(f, 9) or element(f, 10):
        unit, rec20 = _unit(element(f, 10))
        add_volume(data, to_decimal(element(f, 9)), unit, rec20, None)


def _po4(data: dict[str, Any], f: list[str], single: bool) -> None:
    # PO401 pack, 02 size, 03 unit, 04 packaging code, 05 weight qualifier, 06 gross weight
    # per pack, 07 unit, 08 gross volume per pack, 09 unit, 10-12 length/width/height,
    # 13 their unit, 14 inner pack.
    packaging = {
        "code": text_or_none(element(f, 4)),
        "pack": to_decimal(element(f, 1)),
        "pack_size": to_decimal(element(f, 2)),
        "pack_size_unit": text_or_none(element(f, 3)),
        "inner_pack": to_decimal(element(f, 14)),
    }
    if any(value is not None for value in packaging.values()):
        add_packaging(data, packaging)
    if element(f, 5) or element(f, 6) or element(f, 7):
        unit, rec20 = _unit(element(f, 7))
        add_weight(data, to_decimal(element(f, 6)), unit, rec20, text_or_none(element(f, 5)),
                   single=single)
    if element(f, 8) or element(f, 9):
        unit, rec20 = _unit(element(f, 9))
        add_volume(data, to_decimal(element(f, 8)), unit, rec20, None)
    unit, rec20 = _unit(element(f, 13))
    sized = False
    for position, code in ((10, "LN"), (11, "WD"), (12, "HT")):
        value = to_decimal(element(f, position))
        if value is not None:
            add_dimension(data, code, value, unit, rec20)
            sized = True
    if unit is not None and not sized:
        # A unit of dimensions without any dimension: kept as an empty measurement.
        add_measurement(data, None, None, None, unit, rec20)


def _mea(data: dict[str, Any], f: list[str], component: str, single: bool) -> None:
    # MEA01 reference (737: PD physical dimensions, WT weights), 02 qualifier (738),
    # 03 value, 04 C001 unit, 05/06 range minimum/maximum.
    reference = text_or_none(element(f, 1))
    qualifier = element(f, 2)
    value = to_decimal(element(f, 3))
    unit, rec20 = _unit(element(f, 4).split(component, 1)[0])
    minimum = to_decimal(element(f, 5))
    maximum = to_decimal(element(f, 6))
    kind = measure_kind(qualifier, unit or "")
    if value is None or minimum is not None or maximum is not None:
        kind = "other"
    if kind == "weight" and value is not None:
        add_weight(data, value, unit, rec20, text_or_none(qualifier), single=single)
    elif kind == "volume" and value is not None:
        add_volume(data, value, unit, rec20, text_or_none(qualifier))
    elif kind == "dimension" and value is not None and qualifier in DIMENSION_FIELDS:
        add_dimension(data, qualifier, value, unit, rec20, reference)
    else:
        add_measurement(data, reference, text_or_none(qualifier), value, unit, rec20,
                        minimum, maximum)


def _sn1(item: dict[str, Any], f: list[str]) -> None:
    # SN101 line, 02 units shipped (R), 03 unit, 04 quantity shipped to date, 05 quantity
    # ordered, 06 unit, 08 status.
    unit = text_or_none(element(f, 3))
    if item.get("line_number") is None:
        item["line_number"] = text_or_none(element(f, 1))
    item["quantity_shipped"] = to_decimal(element(f, 2))
    item["unit"] = unit
    item["unit_rec20"] = x12_unit_to_rec20(unit)
    item["quantity_shipped_to_date"] = to_decimal(element(f, 4))
    item["quantity_ordered"] = to_decimal(element(f, 5))
    ordered_unit = text_or_none(element(f, 6))
    item["quantity_ordered_unit"] = ordered_unit
    item["quantity_ordered_unit_rec20"] = x12_unit_to_rec20(ordered_unit)
    item["status_code"] = text_or_none(element(f, 8))


def _sln(f: list[str], component: str) -> dict[str, Any]:
    # SLN01 id, 02 parent id, 03 relationship code, 04 quantity, 05 C001 unit, 06 unit price,
    # 07 basis of unit price, 08 relationship code (change), 09/10.. product id pairs.
    unit = text_or_none(element(f, 5).split(component, 1)[0])
    ids: dict[str, Any] = {}
    add_product_ids(ids, f, 9)
    return {
        "line_number": text_or_none(element(f, 1)),
        "parent_line_number": text_or_none(element(f, 2)),
        "relationship_code": text_or_none(element(f, 3)),
        "quantity": to_decimal(element(f, 4)),
        "unit": unit,
        "unit_rec20": x12_unit_to_rec20(unit),
        "unit_price": to_decimal(element(f, 6)),
        "price_basis": text_or_none(element(f, 7)),
        "item_ids": ids,
    }


def _td3(f: list[str]) -> dict[str, Any]:
    # TD301 equipment description code, 02 initial, 03 number, 04-06 weight, 07 ownership,
    # 08 seal status, 09 seal number, 10 equipment type.
    weighed = bool(element(f, 4) or element(f, 5) or element(f, 6))
    unit, rec20 = _unit(element(f, 6))
    seal_number = text_or_none(element(f, 9))
    seal_status = text_or_none(element(f, 8))
    seals = []
    if seal_number is not None or seal_status is not None:
        seals.append({"number": seal_number, "status_code": seal_status})
    return {
        "type_code": text_or_none(element(f, 1)),
        "initial": text_or_none(element(f, 2)),
        "number": text_or_none(element(f, 3)),
        "weight": None if not weighed else {
            "value": to_decimal(element(f, 5)), "unit": unit,
            "qualifier": text_or_none(element(f, 4)), "unit_rec20": rec20,
        },
        "ownership_code": text_or_none(element(f, 7)),
        "seals": seals,
        "size_type": text_or_none(element(f, 10)),
    }


def _td4(f: list[str]) -> dict[str, Any]:
    # TD401 special handling code, 02 hazardous material code qualifier, 03 hazardous
    # material class code, 04 description.
    return {
        "code": text_or_none(element(f, 1)),
        "hazardous_material_qualifier": text_or_none(element(f, 2)),
        "hazardous_material_code": text_or_none(element(f, 3)),
        "description": text_or_none(element(f, 4)),
    }


def _td5(f: list[str]) -> dict[str, Any]:
    # TD501 routing sequence, 02 id qualifier, 03 id (a SCAC when 02 is 2), 04 transport
    # method, 05 routing, 06 shipment status, 07/08 location, 09 transit direction,
    # 10 transit time qualifier, 11 transit time, 12-14 service levels, 15 country.
    levels = [text for text in (element(f, 12), element(f, 13), element(f, 14)) if text]
    return {
        **read_td5(f),
        # The first service level sent, wherever of TD512-TD514 it stands.
        "service_level": levels[0] if levels else None,
        "routing_sequence_code": text_or_none(element(f, 1)),
        "status_code": text_or_none(element(f, 6)),
        "location_qualifier": text_or_none(element(f, 7)),
        "location": text_or_none(element(f, 8)),
        "transit_direction_code": text_or_none(element(f, 9)),
        "transit_time_qualifier": text_or_none(element(f, 10)),
        "transit_time": to_decimal(element(f, 11)),
        "service_levels": levels,
        "country": text_or_none(element(f, 15)),
    }


def _cld(f: list[str]) -> dict[str, Any]:
    # CLD01 number of loads, 02 units shipped, 03 packaging code, 04 size, 05 unit.
    return {
        "loads": to_decimal(element(f, 1)),
        "units_shipped": to_decimal(element(f, 2)),
        "packaging_code": text_or_none(element(f, 3)),
        "size": to_decimal(element(f, 4)),
        "unit": text_or_none(element(f, 5)),
    }


def _man(data: dict[str, Any], f: list[str], with_sscc: bool) -> None:
    # MAN01 qualifier, 02 marks, 03 marks (range end); 04-06 a second set. GM: SSCC-18,
    # the first one is the ``sscc`` of a tare or pack.
    marks: list[dict[str, Any]] = data.setdefault("marks", [])
    for start in (1, 4):
        qualifier = element(f, start)
        for position in (start + 1, start + 2):
            value = element(f, position)
            if value:
                marks.append({"qualifier": text_or_none(qualifier), "value": value})
                if with_sscc and qualifier == "GM" and data.get("sscc") is None:
                    data["sscc"] = value


def _link(nodes: list[_Node]) -> None:
    by_id = {node.hl_id: node for node in nodes}
    for index, node in enumerate(nodes):
        parent = by_id.get(node.parent_id) if node.parent_id else None
        if parent is None or parent is node:
            rank = _RANK.get(node.level, 5)
            for earlier in reversed(nodes[:index]):
                if _RANK.get(earlier.level, 5) < rank:
                    parent = earlier
                    break
        node.parent = parent


def _nearest(node: _Node, level: str) -> _Node | None:
    current = node.parent
    for _ in range(_MAX_DEPTH):
        if current is None or current is node:
            return None
        if current.level == level:
            return current
        current = current.parent
    return None


def _assemble(record: dict[str, Any], nodes: list[_Node]) -> None:
    _link(nodes)
    for node in nodes:
        level = node.level
        data = node.data
        if level == "O":
            record["orders"].append(data)
        elif level == "T":
            order = _nearest(node, "O")
            data["po_number"] = order.data.get("po_number") if order is not None else None
            # A tare holds no items: those under it without a pack go to its order.
            data.pop("items", None)
            record["tares"].append(data)
        elif level == "P":
            tare = _nearest(node, "T")
            if tare is not None:
                data["tare_sscc"] = tare.data.get("sscc")
            order = _nearest(node, "O")
            (order.data["packs"] if order is not None else record["packs"]).append(data)
        elif level == "I":
            pack = _nearest(node, "P")
            if pack is not None:
                pack.data["items"].append(data)
                continue
            order = _nearest(node, "O")
            (order.data["items"] if order is not None else record["items"]).append(data)


def map_ship_notice(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 856 transaction set (ST..SE) to a ``ShipNotice``."""
    record: dict[str, Any] = new_record(source, orders=[], tares=[], packs=[], items=[], marks=[])
    component = component_separator(segments)
    nodes: list[_Node] = []
    node: _Node | None = None
    level = "S"
    data = record
    party: dict[str, Any] | None = None
    tracking: str | None = None
    counter = 0
    # Field lists of segments with no place at their level: listed as unmapped.
    skipped: list[list[str]] = []
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if party is not None:
            if tag in PARTY_LOOP_TAGS:
                if not add_to_party(party, tag, f):
                    skipped.append(f)
                continue
            party = None
        if tag == "HL":
            level = element(f, 3)
            node = _Node(element(f, 1), element(f, 2), level, _new_data(level, record))
            nodes.append(node)
            data = node.data
            continue
        if tag == "LIN":
            if node is None or node.level != "I" or "lin" in data:
                # LIN without its own I level: an implicit item under the current level.
                counter += 1
                parent_id = node.hl_id if node is not None else ""
                node = _Node(f"\x00{counter}", parent_id, "I", _new_item())
                nodes.append(node)
                data = node.data
                level = "I"
            data["lin"] = True
            data["line_number"] = text_or_none(element(f, 1))
            add_product_ids(data["item_ids"], f, 2)
            continue
        if tag == "ST" or tag == "SE":
            continue  # the record's source holds what they say
        if level not in _RANK:
            # An HL level code this mapper does not know: its data has no place.
            skipped.append(f)
            continue
        if not _segment(record, data, level, f, component):
            skipped.append(f)
            continue
        if tag == "N1":
            party = data["parties"][-1]
        elif tag == "REF":
            qualifier = element(f, 1)
            if (qualifier == "CN" or qualifier == "2I") and tracking is None:
                tracking = text_or_none(element(f, 2))
    _assemble(record, nodes)
    for item_holder in _items(record):
        item_holder.pop("lin", None)
    _finish_carrier(record, tracking)
    record["unmapped"] = unmapped_x12(segments, SHIP_NOTICE_COVERAGE, skipped)
    return complete("ShipNotice", record)


def _segment(
    record: dict[str, Any], data: dict[str, Any], level: str, f: list[str], component: str
) -> bool:
    """Map one segment of HL level ``level`` into ``data`` (the level's dict; the record for
    S) or the record; false when it has no place there."""
    tag = f[0]
    if tag == "SN1" or tag == "SLN" or tag == "CLD" or tag == "PID":
        if level != "I":
            return False
        if tag == "SN1":
            if "quantity_shipped" in data:
                return False
            _sn1(data, f)
            # SN101 is the item's line number; one other than LIN01's has no place.
            line = element(f, 1)
            return not line or line == data.get("line_number")
        elif tag == "SLN":
            data.setdefault("sub_lines", []).append(_sln(f, component))
        elif tag == "CLD":
            data.setdefault("loads", []).append(_cld(f))
        else:
            text = text_or_none(element(f, 5))
            if data.get("description") is None:
                data["description"] = text
            elif text is not None:
                data.setdefault("notes", []).append(text)
    elif tag == "PRF":
        # PRF01 PO number, 02 release, 04 PO date: of an order, or of an item shipped
        # without an order level (S/I).
        if (level != "O" and level != "I") or "po_number" in data:
            return False
        data["po_number"] = text_or_none(element(f, 1))
        data["release_number"] = text_or_none(element(f, 2))
        data["po_date"] = iso_date(element(f, 4))
    elif tag == "MAN":
        _man(data, f, level == "T" or level == "P")
    elif tag == "TD1":
        _td1(data, f, level in _SINGLE_WEIGHT)
    elif tag == "PO4":
        if level == "I":
            if "pack" in data:
                return False
            read_po4(data, f)
        _po4(data, f, level in _SINGLE_WEIGHT)
    elif tag == "MEA":
        _mea(data, f, component, level in _SINGLE_WEIGHT)
    elif tag == "N1":
        data.setdefault("parties", []).append(start_party(f))
    elif tag == "DTM":
        found = read_dtm(f)
        dates: dict[str, str] = data["dates"]
        if found is None or found[0] in dates:
            return False
        dates[found[0]] = found[1]
        if found[0] == "shipped" and data is record:
            record["ship_date"], _, time = found[1].partition("T")
            record["ship_time"] = time or None
    elif tag == "REF":
        ref = read_ref(f)
        if ref is None:
            return False
        data["references"].append(ref)
        qualifier = ref["qualifier"]
        if qualifier == "BM" and record.get("bill_of_lading") is None:
            record["bill_of_lading"] = ref["value"]
        elif qualifier == "CN" and record.get("pro_number") is None:
            record["pro_number"] = ref["value"]
    elif tag == "TD5":
        record.setdefault("carriers", []).append(_td5(f))
    elif tag == "TD4":
        record.setdefault("special_handling", []).append(_td4(f))
    elif tag == "TD3":
        record.setdefault("equipment", []).append(_td3(f))
    elif tag == "FOB":
        if record.get("fob") is not None:
            return False
        record["fob"] = read_fob(f)
    elif tag == "BSN":
        # BSN01 purpose, 02 shipment id, 03 date, 04 time, 05 hierarchical structure,
        # 06 transaction type.
        # BSN03/04 say when the notice was made, not when the goods left.
        if "shipment_id" in record:
            return False
        purpose = element(f, 1)
        record["purpose"] = PURPOSES.get(purpose, "other") if purpose else None
        record["purpose_code"] = text_or_none(purpose)
        record["shipment_id"] = text_or_none(element(f, 2))
        record["structure_code"] = text_or_none(element(f, 5))
        record["document_type_code"] = text_or_none(element(f, 6))
        created = iso_datetime(element(f, 3), element(f, 4))
        if created is None or "transaction_creation" in record["dates"]:
            return element(f, 3) == "" and element(f, 4) == ""
        record["dates"]["transaction_creation"] = created
    elif tag == "CTT":
        if "line_count" in record:
            return False
        record["line_count"] = to_int(element(f, 1))
    elif tag == "NTE":
        note = text_or_none(element(f, 2))
        if note:
            (data if level == "I" else record).setdefault("notes", []).append(note)
    else:
        return False
    return True


def _items(record: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = list(record["items"])
    for pack in record["packs"]:
        items.extend(pack["items"])
    for order in record["orders"]:
        items.extend(order["items"])
        for pack in order["packs"]:
            items.extend(pack["items"])
    return items


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
