"""The DESADV message body: a ship notice record's flat shipment data as a CPS hierarchy.

Responsible for the inverse of ``translators.edifact.mappers.despatch_advice``: the header
(BGM, DTM, MEA, RFF with RFF ON and its DTM 171 for each order, NAD groups, TOD, TDT with
the LOC places, EQD with MEA and SEL), then the packing sequence the mapper rebuilds the
tree from: CPS 1 is the shipment (its PAC and QTY are the record's packagings and
quantities, its LINs the items in no pack), each tare a CPS under it, each pack a CPS under
the tare whose SSCC is its ``tare_sscc`` (else under the shipment), with PAC, MEA, QTY, a
PCI group (PCI per marking code, RFF, DTM, a GIN per mark: the first BJ mark is the SSCC)
and the LIN groups of its items. An item is LIN, PIA, IMD, MEA, QTY (12 shipped, 21
ordered, 46 delivered, 59 pack), DTM, FTX, RFF and a PCI group per identification. With
exactly one order the mapper puts packs and items under it, so they are taken from there;
otherwise from the record. CNT 2 is the line count.
It must not invent hierarchy the record does not give: a tare is a level with packs under
it, so a tare no pack names is refused by the read-back check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from translators.edifact.generate.documents import item_id_segments
from translators.edifact.generate.segments import (
    ftx,
    imd,
    party_group,
    qty,
    reference_group,
    refuse,
    tod,
)
from translators.edifact.generate.values import (
    Seg,
    UnwritableValue,
    date_segments,
    dtm,
    number,
    reverse_code,
    seg,
    text,
)
from translators.edifact.mappers.code_lists import PURPOSES
from translators.shipment import DIMENSION_FIELDS

__all__ = ["ship_notice"]

Record = Mapping[str, Any]
Body = list[Seg]

# 6311 AAE measurement (the mapper keeps 6311 only for other measurements).
_MEASUREMENT: Final = "AAE"
# 6063: 12 despatched, 21 ordered, 46 delivered, 59 consumer units per traded unit.
_ITEM_QUANTITIES: Final = (
    ("12", "quantity_shipped", "unit"),
    ("21", "quantity_ordered", "quantity_ordered_unit"),
    ("46", "quantity_delivered", "quantity_delivered_unit"),
)
_PACK: Final = "59"
# 2005 11 despatch date; 171 reference date (the order's date after its RFF ON).
_SHIPPED: Final = "11"
_REFERENCE_DATE: Final = "171"
# 8051 20 main carriage transport, when a carrier has no routing sequence.
_MAIN_CARRIAGE: Final = "20"

_ITEM_REFUSED: Final = (
    "status_code", "pack_size", "pack_size_unit", "po_number", "po_date", "release_number",
    "quantity_shipped_to_date", "sub_lines", "loads", "packaging", "packagings", "marks",
    "parties",
)
_LEVEL_REFUSED: Final = ("parties",)
_CARRIER_REFUSED: Final = (
    "status_code", "location_qualifier", "location", "transit_time_qualifier",
    "transit_time", "service_levels", "service_level", "country", "routing",
)


def _measures(level: Record, field: str, mark: str) -> Body:
    """MEA for each weight, volume, dimension and other measurement of a level; the mapper
    tells them apart by unit and attribute (``translators.shipment.measure_kind``)."""
    out: Body = []
    for w in level.get("weights") or ():
        out.append(seg("MEA", _MEASUREMENT, [text(w.get("qualifier"))],
                       [text(w.get("unit")), number(w.get("value"), mark)]))
    for v in level.get("volumes") or ():
        out.append(seg("MEA", _MEASUREMENT, [text(v.get("qualifier"))],
                       [text(v.get("unit")), number(v.get("value"), mark)]))
    dimensions = level.get("dimensions")
    if dimensions:
        for code, name in DIMENSION_FIELDS.items():
            if dimensions.get(name) is not None:
                out.append(seg("MEA", _MEASUREMENT, [code],
                               [text(dimensions.get("unit")),
                                number(dimensions[name], mark)]))
    for m in level.get("measurements") or ():
        out.append(seg(
            "MEA", text(m.get("reference")), [text(m.get("qualifier"))],
            [text(m.get("unit")), number(m.get("value"), mark),
             number(m.get("range_minimum"), mark), number(m.get("range_maximum"), mark)],
        ))
    return out


def _gins(marks: Sequence[Mapping[str, Any]]) -> Body:
    """A GIN (01 7405 qualifier, 02 C208 7402) per mark."""
    return [seg("GIN", text(m.get("qualifier")), [text(m.get("value"))]) for m in marks]


def _packaging(p: Mapping[str, Any], field: str, mark: str) -> Seg:
    """PAC: 01 7224 number of packages, 02 C531 7075 level, 03 C202 7065 type, 7064 text."""
    refuse(p, ("commodity_code_qualifier", "commodity_code", "pack", "pack_size",
               "pack_size_unit", "inner_pack"), field, "a PAC has no place for it")
    return seg("PAC", number(p.get("quantity"), mark), [text(p.get("level_code"))],
               [text(p.get("code")), "", "", text(p.get("description"))])


def _item(item: Record, field: str, directory: str, mark: str) -> Body:
    refuse(item, _ITEM_REFUSED, field, "a DESADV LIN group has no place for it")
    lin_id, pias = item_id_segments(item.get("item_ids") or {}, directory, f"{field}.item_ids")
    out: Body = [seg("LIN", text(item.get("line_number")), "", lin_id), *pias]
    out += imd(item.get("description"), f"{field}.description", directory)
    out += _measures(item, field, mark)
    for qualifier, name, unit in _ITEM_QUANTITIES:
        if item.get(name) is not None:
            out.append(qty(qualifier, item[name], item.get(unit), mark))
        elif item.get(unit):
            raise UnwritableValue(f"{field}.{unit}", "a unit needs the quantity it measures")
    if item.get("pack") is not None:
        out.append(qty(_PACK, item["pack"], None, mark))
    for q in item.get("quantities") or ():
        out.append(qty(text(q.get("qualifier")), q.get("quantity"), q.get("unit"), mark))
    out += date_segments(item.get("dates") or {}, f"{field}.dates")
    out += [
        ftx(note, f"{field}.notes[{i}]", directory)
        for i, note in enumerate(item.get("notes") or ())
    ]
    for i, ref in enumerate(item.get("references") or ()):
        out += reference_group(ref, f"{field}.references[{i}]", dated=False)
    # The identifications come last: once one is open, the item's DTM, MEA, QTY and GIN
    # belong to it.
    for i, ident in enumerate(item.get("identifications") or ()):
        where = f"{field}.identifications[{i}]"
        out.append(seg("PCI", text(ident.get("marking_code"))))
        out += date_segments(ident.get("dates") or {}, f"{where}.dates")
        if ident.get("quantity") is not None:
            out.append(qty(text(ident.get("quantity_qualifier")), ident["quantity"],
                           ident.get("unit"), mark))
        out += _gins(ident.get("marks") or ())
    return out


def _level(level_id: str, parent: str, data: Record, field: str, mark: str) -> Body:
    """CPS and what describes the level: PAC, MEA, QTY, then the PCI group (a PCI per
    marking code, or one without a code when there are marks, a reference or dates)."""
    refuse(data, _LEVEL_REFUSED, field, "a DESADV NAD is the header's")
    out: Body = [seg("CPS", level_id, parent)]
    out += [
        _packaging(p, f"{field}.packagings[{i}]", mark)
        for i, p in enumerate(data.get("packagings") or ())
    ]
    out += _measures(data, field, mark)
    for q in data.get("quantities") or ():
        out.append(qty(text(q.get("qualifier")), q.get("quantity"), q.get("unit"), mark))
    codes = data.get("marking_codes") or []
    marks = data.get("marks") or []
    refs = data.get("references") or []
    dates = data.get("dates") or {}
    out += [seg("PCI", text(code)) for code in codes]
    if not codes and (marks or refs or dates):
        out.append(seg("PCI"))
    for i, ref in enumerate(refs):
        out += reference_group(ref, f"{field}.references[{i}]", dated=False)
    out += date_segments(dates, f"{field}.dates")
    return out + _gins(marks)


def _carrier(carrier: Record, field: str) -> Seg:
    """TDT: 01 8051 stage, 02 8028 conveyance reference, 03 C220 8067 mode, 04 C228 8179
    means, 05 C040 (3127 id, 3055 agency: 182 a SCAC, 3128 name), 06 8101 direction, 08
    C222 8213 transport id."""
    refuse(carrier, _CARRIER_REFUSED, field, "a TDT has no place for it")
    agency = text(carrier.get("id_qualifier"))
    code = text(carrier.get("id_code"))
    if carrier.get("scac") and not code:
        code, agency = text(carrier["scac"]), agency or "182"
    return seg(
        "TDT",
        text(carrier.get("routing_sequence_code")) or _MAIN_CARRIAGE,
        text(carrier.get("conveyance_reference")),
        [text(carrier.get("mode"))],
        [text(carrier.get("transport_means_code"))],
        [code, "", agency, text(carrier.get("name"))],
        text(carrier.get("transit_direction_code")),
        "",
        [text(carrier.get("transport_id"))],
    )


def _equipment(equipment: Record, field: str, mark: str) -> Body:
    """EQD (01 8053 type, 02 C237 8260 number, 03 C224 8155 size and type, 04 8077
    ownership), MEA (its weight, its measurements), SEL (9308 number, C215 9303 issuer,
    4517 condition)."""
    refuse(equipment, ("initial",), field, "an EQD holds one equipment identifier")
    out: Body = [seg("EQD", text(equipment.get("type_code")), [text(equipment.get("number"))],
                     [text(equipment.get("size_type"))], text(equipment.get("ownership_code")))]
    weight = equipment.get("weight")
    measures = {"weights": [weight] if weight else [],
                "measurements": equipment.get("measurements") or []}
    out += _measures(measures, field, mark)
    out += [
        seg("SEL", text(s.get("number")), [text(s.get("issuer"))], text(s.get("status_code")))
        for s in equipment.get("seals") or ()
    ]
    return out


def _tree(record: Record) -> tuple[list[Record], list[Record]]:
    """(packs, items in no pack): the only order's when there is exactly one."""
    orders = record.get("orders") or []
    for i, order in enumerate(orders):
        refuse(order, ("release_number", "packaging", "weight", "packagings", "weights",
                       "volumes", "dimensions", "measurements", "marks", "parties",
                       "references", "dates"),
               f"orders[{i}]", "a DESADV order is its RFF ON and DTM 171")
        if len(orders) != 1:
            refuse(order, ("packs", "items"), f"orders[{i}]",
                   "with several orders DESADV does not say which pack is whose")
    if len(orders) == 1:
        refuse(record, ("packs", "items"), "", "with one order its packs and items are its")
        return list(orders[0].get("packs") or ()), list(orders[0].get("items") or ())
    return list(record.get("packs") or ()), list(record.get("items") or ())


def _header_dates(record: Record) -> Body:
    """The record's dates; a ship date without ``dates.shipped`` is written as DTM 11."""
    dates = record.get("dates") or {}
    out = date_segments(dates, "dates")
    if record.get("ship_date") and "shipped" not in dates:
        stamp = record["ship_date"]
        if record.get("ship_time"):
            stamp = f"{stamp}T{record['ship_time']}"
        out.append(dtm(_SHIPPED, stamp, "ship_date"))
    return out


def ship_notice(record: Record, directory: str, mark: str) -> Body:
    """DESADV: the header, then CPS 1 (the shipment, with its loose items), a CPS per tare,
    a CPS per pack with its items, CNT 2."""
    refuse(record, ("contacts", "structure_code", "special_handling", "marks"), "",
           "DESADV has no place for it")
    packs, items = _tree(record)
    bgm = seg(
        "BGM",
        [text(record.get("document_type_code"))],
        [text(record.get("shipment_id"))],
        record.get("purpose_code") or reverse_code(PURPOSES, record.get("purpose")),
    )
    out: Body = [bgm, *_header_dates(record)]
    header_measures = {k: record.get(k) for k in ("weights", "volumes", "dimensions",
                                                  "measurements")}
    out += _measures(header_measures, "", mark)
    for i, ref in enumerate(record.get("references") or ()):
        out += reference_group(ref, f"references[{i}]", dated=False)
    for i, order in enumerate(record.get("orders") or ()):
        out.append(seg("RFF", ["ON", text(order.get("po_number"))]))
        if order.get("po_date"):
            out.append(dtm(_REFERENCE_DATE, order["po_date"], f"orders[{i}].po_date"))
    for i, party in enumerate(record.get("parties") or ()):
        out += party_group(party, f"parties[{i}]", directory)
    if record.get("fob"):
        out.append(tod(record["fob"], "fob"))
    carriers = record.get("carriers") or []
    for i, carrier in enumerate(carriers):
        out.append(_carrier(carrier, f"carriers[{i}]"))
    for i, place in enumerate(record.get("locations") or ()):
        out.append(seg("LOC", text(place.get("qualifier")),
                       [text(place.get("id")), "", text(place.get("agency")),
                        text(place.get("name"))]))
        out += date_segments(place.get("dates") or {}, f"locations[{i}].dates")
    for i, equipment in enumerate(record.get("equipment") or ()):
        out += _equipment(equipment, f"equipment[{i}]", mark)
    tares = record.get("tares") or []
    shipment = {k: record.get(k) for k in ("packagings", "quantities", "marking_codes")}
    notes = record.get("notes") or []
    if packs or tares or items or notes or any(shipment.values()):
        out += _level("1", "", shipment, "", mark)
        out += [ftx(note, f"notes[{i}]", directory) for i, note in enumerate(notes)]
        for n, item in enumerate(items):
            out += _item(item, _item_field(record, n), directory, mark)
    tare_ids: dict[str, str] = {}
    next_id = 2
    for t, tare in enumerate(tares):
        level_id = str(next_id)
        next_id += 1
        if tare.get("sscc"):
            tare_ids.setdefault(str(tare["sscc"]), level_id)
        out += _level(level_id, "1", tare, f"tares[{t}]", mark)
    for p, pack in enumerate(packs):
        field = _pack_field(record, p)
        parent = "1"
        if pack.get("tare_sscc"):
            found = tare_ids.get(str(pack["tare_sscc"]))
            if found is None:
                raise UnwritableValue(f"{field}.tare_sscc", "no tare has this SSCC")
            parent = found
        out += _level(str(next_id), parent, pack, field, mark)
        next_id += 1
        for n, item in enumerate(pack.get("items") or ()):
            out += _item(item, f"{field}.items[{n}]", directory, mark)
    if record.get("line_count") is not None:
        out.append(seg("CNT", ["2", str(record["line_count"])]))
    return out


def _pack_field(record: Record, n: int) -> str:
    return f"orders[0].packs[{n}]" if len(record.get("orders") or ()) == 1 else f"packs[{n}]"


def _item_field(record: Record, n: int) -> str:
    return f"orders[0].items[{n}]" if len(record.get("orders") or ()) == 1 else f"items[{n}]"
