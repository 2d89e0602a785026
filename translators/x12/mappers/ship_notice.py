"""Mapper for the 856 ship notice, keeping its HL hierarchy.

Responsible for building shipment -> orders -> (tares) -> packs -> items from the HL01/HL02
parent links, not from segment order, so S/O/P/I, S/O/I, S/O/T/P/I and cross-dock layouts
(several O levels, each with packs) all map. Segments are collected per HL node in one
pass; the tree is assembled after it. Items whose LIN appears without an I level get an
implicit item under the current level. An HL whose parent is missing or unknown hangs
under the nearest earlier HL of a higher level.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_x12
from translators.record_data import RecordData, complete
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.commercial import read_fob, read_ref, read_td5
from translators.x12.mappers.dates import read_dtm
from translators.x12.mappers.document import ENVELOPE_COVERAGE, PARTY_COVERAGE, id_pairs
from translators.x12.mappers.elements import (
    element,
    iso_date,
    iso_datetime,
    iso_time,
    text_or_none,
    to_decimal,
    to_int,
)
from translators.x12.mappers.party_loop import PARTY_LOOP_TAGS, add_to_party, start_party
from translators.x12.mappers.po import PURPOSES
from translators.x12.mappers.products import add_product_ids, read_po4
from translators.x12.segment import Segment

__all__ = ["SHIP_NOTICE_COVERAGE", "map_ship_notice"]

SHIP_NOTICE_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "HL": "1q 2q 3q", "LIN": f"1 {id_pairs(2, 31)}", "SN1": "1 2 3 5 6 8", "PRF": "1 2 4",
    "MAN": "1 2",
    "TD1": "1 2 5 6 7 8", "PID": "5", "PO4": "1 2 3", "DTM": "1q 2 3 5 6q 7",
    "REF": "1 2 3", "TD5": "2 3 4 5 12", "FOB": "1 2 3 4 5", "BSN": "1 2 3 4 5",
    "CTT": "1", "NTE": "2",
})
"""What the 856 mapper maps where a segment stands at a level that has a place for it."""

# HL03 (735 Hierarchical Level Code) ranks: a lower rank is higher in the tree.
_RANK = {"S": 0, "O": 1, "T": 2, "P": 3, "I": 4}
_MAX_DEPTH = 64
_WITH_PACKAGING = frozenset({"S", "O", "T", "P"})


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
        return {"parties": [], "references": [], "dates": {}, "packs": [], "items": []}
    if level == "P" or level == "T":
        return {"marks": [], "items": []}
    return _new_item()


def _td1(data: dict[str, Any], f: list[str]) -> None:
    # TD101 packaging code, 02 lading quantity, 05 description, 06 weight qualifier,
    # 07 weight (R), 08 unit.
    data["packaging"] = {
        "code": text_or_none(element(f, 1)),
        "quantity": to_decimal(element(f, 2)),
        "description": text_or_none(element(f, 5)),
    }
    weight = to_decimal(element(f, 7))
    if weight is not None:
        data["weight"] = {
            "value": weight,
            "unit": text_or_none(element(f, 8)),
            "qualifier": text_or_none(element(f, 6)),
        }


def _sn1(item: dict[str, Any], f: list[str]) -> None:
    # SN101 line, 02 units shipped (R), 03 unit, 05 quantity ordered, 06 unit, 08 status.
    unit = text_or_none(element(f, 3))
    if item.get("line_number") is None:
        item["line_number"] = text_or_none(element(f, 1))
    item["quantity_shipped"] = to_decimal(element(f, 2))
    item["unit"] = unit
    item["unit_rec20"] = x12_unit_to_rec20(unit)
    item["quantity_ordered"] = to_decimal(element(f, 5))
    item["quantity_ordered_unit"] = text_or_none(element(f, 6))
    item["status_code"] = text_or_none(element(f, 8))


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
            if order is not None:
                data["po_number"] = order.data.get("po_number")
            tare_record = {"sscc": data.get("sscc"), "marks": data["marks"]}
            tare_record["po_number"] = data.get("po_number")
            record["tares"].append(tare_record)
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
    record: dict[str, Any] = {
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
    nodes: list[_Node] = []
    node: _Node | None = None
    data = record
    party: dict[str, Any] | None = None
    tracking: str | None = None
    counter = 0
    # Field lists of segments with no place at their level: listed as unmapped.
    skipped: list[list[str]] = []
    party_kept = False
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if party is not None:
            if tag in PARTY_LOOP_TAGS:
                add_to_party(party, tag, f)
                if not party_kept:
                    skipped.append(f)
                continue
            party = None
        if tag == "HL":
            level = element(f, 3)
            node = _Node(element(f, 1), element(f, 2), level, _new_data(level, record))
            nodes.append(node)
            data = node.data
        elif tag == "LIN":
            if node is None or node.level != "I" or "lin" in data:
                # LIN without its own I level: an implicit item under the current level.
                counter += 1
                parent_id = node.hl_id if node is not None else ""
                node = _Node(f"\x00{counter}", parent_id, "I", _new_item())
                nodes.append(node)
                data = node.data
            data["lin"] = True
            data["line_number"] = text_or_none(element(f, 1))
            add_product_ids(data["item_ids"], f, 2)
        elif tag == "SN1":
            if node is not None and node.level == "I":
                _sn1(data, f)
            else:
                skipped.append(f)
        elif tag == "PRF":
            # PRF01 PO number, 02 release, 04 PO date.
            if node is not None and node.level == "O":
                data["po_number"] = text_or_none(element(f, 1))
                data["release_number"] = text_or_none(element(f, 2))
                data["po_date"] = iso_date(element(f, 4))
            else:
                skipped.append(f)
        elif tag == "MAN":
            # MAN01 marks qualifier (GM: SSCC-18), MAN02 marks.
            qualifier = element(f, 1)
            value = element(f, 2)
            if "marks" in data and value:
                data["marks"].append({"qualifier": text_or_none(qualifier), "value": value})
                if qualifier == "GM" and data.get("sscc") is None:
                    data["sscc"] = value
            else:
                skipped.append(f)
        elif tag == "TD1":
            if (node is None or node.level in _WITH_PACKAGING) and "packaging" not in data:
                _td1(data, f)
            else:
                skipped.append(f)
        elif tag == "PID":
            if node is not None and node.level == "I" and data.get("description") is None:
                data["description"] = text_or_none(element(f, 5))
            else:
                skipped.append(f)
        elif tag == "PO4":
            if node is not None and node.level == "I":
                read_po4(data, f)
            else:
                skipped.append(f)
        elif tag == "N1":
            party = start_party(f)
            party_kept = "parties" in data
            if party_kept:
                data["parties"].append(party)
            else:
                skipped.append(f)
        elif tag == "DTM":
            found = read_dtm(f)
            if found is not None and "dates" in data and found[0] not in data["dates"]:
                data["dates"][found[0]] = found[1]
                if found[0] == "shipped" and data is record:
                    record["ship_date"], _, time = found[1].partition("T")
                    record["ship_time"] = time or None
            else:
                skipped.append(f)
        elif tag == "REF":
            ref = read_ref(f)
            if ref is None or "references" not in data:
                skipped.append(f)
            else:
                data["references"].append(ref)
                if data is record:
                    qualifier = ref["qualifier"]
                    if qualifier == "BM" and record.get("bill_of_lading") is None:
                        record["bill_of_lading"] = ref["value"]
                    elif (qualifier == "CN" or qualifier == "2I") and tracking is None:
                        tracking = ref["value"]
        elif tag == "TD5":
            if data is record and record.get("carrier") is None:
                record["carrier"] = read_td5(f)
            else:
                skipped.append(f)
        elif tag == "FOB":
            if data is record and record.get("fob") is None:
                record["fob"] = read_fob(f)
            else:
                skipped.append(f)
        elif tag == "BSN":
            # BSN01 purpose, 02 shipment id, 03 date, 04 time, 05 hierarchical structure.
            purpose = element(f, 1)
            record["purpose"] = PURPOSES.get(purpose, "other") if purpose else None
            record["purpose_code"] = text_or_none(purpose)
            record["shipment_id"] = text_or_none(element(f, 2))
            record["structure_code"] = text_or_none(element(f, 5))
            created = iso_datetime(element(f, 3), element(f, 4))
            if created is not None:
                record["dates"].setdefault("transaction_creation", created)
                record.setdefault("ship_date", iso_date(element(f, 3)))
                record.setdefault("ship_time", iso_time(element(f, 4)))
        elif tag == "CTT":
            record["line_count"] = to_int(element(f, 1))
        elif tag == "NTE":
            note = text_or_none(element(f, 2))
            if note:
                record["notes"].append(note)
    _assemble(record, nodes)
    for item_holder in _items(record):
        item_holder.pop("lin", None)
    _finish_carrier(record, tracking)
    record["unmapped"] = unmapped_x12(segments, SHIP_NOTICE_COVERAGE, skipped)
    return complete("ShipNotice", record)


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
