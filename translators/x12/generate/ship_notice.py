"""Transaction set body of the 856 Ship Notice/Manifest: the inverse of
``translators.x12.mappers.ship_notice``.

Responsible for the HL hierarchy of a ``ship_notice`` record and the segments of each
level, in the positions of the 004010 and 005010 maps (which agree for the 856):
- HL01 counts 1.. in the order written, HL02 is the parent's HL01, HL03 the level (S, O,
  T, P, I). The tree is the record's: its orders, each order's tares (the record's
  ``tares`` whose ``po_number`` is the order's), packs (on the tare of their
  ``tare_sscc``) and items; packs and items of the record itself hang under the
  shipment. HL04 is not written: it is situational in both versions' maps and the
  mapper does not read it, so it would only read back as unmapped.
- ``BodyOptions.asn_structure`` other than ``auto`` refuses a record whose tree is not
  that hierarchy (an item outside a pack in SOPI, a pack without items, a pack on no tare
  in SOTPI, any pack in SOI), naming the record field, and writes the hierarchy's BSN05
  (0001 shipment/order/packaging/item, 0004 shipment/order/item) when the record gives
  none.
- BSN03/BSN04 is ``dates["transaction_creation"]`` (when the notice was made; the
  envelope's moment when the record has none); the ship date is DTM 011 like every other
  named date, never BSN03. The shipment's dates go in the S level's DTMs (ten at most;
  more start in the header's).
- Packagings, weights and volumes of a level are written so that the mapper's lists come
  back in their order: a first packaging with PO4 values (pack, size, inner pack) is the
  level's PO4, volumes with a qualifier, dimensions and other measurements are MEAs, and
  every other packaging, every weight and every volume without a qualifier are TD1s.
- CTT01 is the number of HL segments and CTT02 the sum of SN102, as the 856 notes say.
Values the mapper derives from others are given their source when the record has only
the derived one, and the record's tree is completed in place so that the read-back
check compares what was written: ``ship_date``/``ship_time`` become DTM 011; a pack or
tare ``sscc`` a MAN GM; ``bill_of_lading`` a REF BM, the carrier's ``tracking_number``
a REF 2I and ``pro_number`` a REF CN at the shipment level; a single ``packaging`` or
``weight`` the first of its list; ``carrier`` a TD5 when ``carriers`` is empty.
It must not drop a value silently: what has no place in an 856 (an EDIFACT-only field, a
record note: the 856 has no NTE) is left for the generator's read-back check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from translators.x12.generate.options import BodyOptions
from translators.x12.generate.segments import (
    Fields,
    fob,
    party_loop,
    reference,
    sub_line_loop,
    td5,
)
from translators.x12.generate.values import (
    UnwritableValue,
    date_and_time,
    date_segments,
    dtm_date,
    id_pairs,
    real,
    text,
)
from translators.x12.mappers.po import PURPOSES

__all__ = ["ship_notice"]

Record = Mapping[str, Any]
Body = list[Fields]

# X12 1005 (Hierarchical Structure Code): a tare is a packaging level too.
_STRUCTURE_CODES: Final = {"SOPI": "0001", "SOTPI": "0001", "SOI": "0004"}
# Packaging values only a PO4 holds (a TD1 holds the code, quantity, commodity, text).
_PO4_PACKAGING: Final = ("pack", "pack_size", "pack_size_unit", "inner_pack")
_TD4_FIELDS: Final = (
    "code",
    "hazardous_material_qualifier",
    "hazardous_material_code",
    "description",
)
# DTM is 10 at most at the header (040) and in each HL loop (200).
_MAX_DTM: Final = 10


def _completed(record: dict[str, Any]) -> None:
    """Give the derived values their source in the tree (see the module docstring)."""
    dates: dict[str, str] = record["dates"]
    if record.get("ship_date") and "shipped" not in dates:
        time = record.get("ship_time")
        dates["shipped"] = f"{record['ship_date']}T{time}" if time else record["ship_date"]
    if not record.get("carriers") and record.get("carrier"):
        record["carriers"] = [record["carrier"]]
    references: list[dict[str, Any]] = record["references"]
    qualifiers = {r.get("qualifier") for r in references}
    carrier = record.get("carrier") or {}
    # The tracking number is the first REF CN or 2I; the PRO number the first REF CN.
    tracking = carrier.get("tracking_number")
    if tracking and not qualifiers & {"CN", "2I"} and tracking != record.get("pro_number"):
        references.append({"qualifier": "2I", "value": tracking})
    for field, qualifier in (("pro_number", "CN"), ("bill_of_lading", "BM")):
        if record.get(field) and qualifier not in qualifiers:
            references.append({"qualifier": qualifier, "value": record[field]})
    for level in _levels(record):
        if not level.get("packagings") and level.get("packaging"):
            level["packagings"] = [level["packaging"]]
        if not level.get("weights") and level.get("weight"):
            level["weights"] = [level["weight"]]
        marks: list[dict[str, Any]] | None = level.get("marks")
        if (
            level.get("sscc")
            and marks is not None
            and not any(m.get("qualifier") == "GM" for m in marks)
        ):
            marks.append({"qualifier": "GM", "value": level["sscc"]})


def _levels(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every HL level of the record: itself, its orders, tares, packs and items."""
    out = [record, *record["tares"]]
    for holder in [record, *record["orders"]]:
        if holder is not record:
            out.append(holder)
        for pack in holder["packs"]:
            out += [pack, *pack["items"]]
        out += holder["items"]
    return out


def _tare_owners(record: Record) -> list[int | None]:
    """For each tare, the index of the order it goes under (the first order with its PO
    number), or ``None`` for the shipment."""
    owners: list[int | None] = []
    for tare in record["tares"]:
        po = tare.get("po_number")
        owners.append(
            next(
                (
                    i
                    for i, o in enumerate(record["orders"])
                    if po is not None and o["po_number"] == po
                ),
                None,
            )
        )
    return owners


def _check_structure(record: Record, structure: str, owners: Sequence[int | None]) -> None:
    """Raise ``UnwritableValue`` unless the record's tree is ``structure``."""
    if structure == "auto":
        return
    if not record["orders"]:
        raise UnwritableValue("orders", f"{structure} needs an order level")
    for name in ("packs", "items"):
        if record[name]:
            raise UnwritableValue(name, f"{structure} puts every pack and item under an order")
    if structure != "SOTPI" and record["tares"]:
        raise UnwritableValue("tares", f"{structure} has no tare level")
    for k, owner in enumerate(owners):
        if owner is None:
            raise UnwritableValue(f"tares[{k}].po_number", "a tare goes under its order")
    for i, order in enumerate(record["orders"]):
        field = f"orders[{i}]"
        if structure == "SOI":
            if order["packs"]:
                raise UnwritableValue(f"{field}.packs", "SOI has no pack level")
            continue
        if order["items"]:
            raise UnwritableValue(f"{field}.items", f"{structure} puts every item in a pack")
        tares = {record["tares"][k].get("sscc") for k, owner in enumerate(owners) if owner == i}
        for j, pack in enumerate(order["packs"]):
            if not pack["items"]:
                raise UnwritableValue(
                    f"{field}.packs[{j}].items", f"{structure} needs a pack's items"
                )
            if structure == "SOTPI" and (
                pack.get("tare_sscc") is None or pack["tare_sscc"] not in tares
            ):
                raise UnwritableValue(
                    f"{field}.packs[{j}].tare_sscc", "SOTPI puts every pack on a tare of its order"
                )


def _po4(packaging: Record) -> Fields:
    """PO4: 01 pack, 02/03 size and unit, 04 packaging code, 14 inner pack."""
    return [
        "PO4",
        real(packaging.get("pack")),
        real(packaging.get("pack_size")),
        text(packaging.get("pack_size_unit")),
        text(packaging.get("code")),
        *[""] * 9,
        real(packaging.get("inner_pack")),
    ]


def _td1(packaging: Record, weight: Record, volume: Record) -> Fields:
    """TD1: 01/02 packaging and lading quantity, 03/04 commodity, 05 description, 06-08
    weight, 09/10 volume."""
    return [
        "TD1",
        text(packaging.get("code")),
        real(packaging.get("quantity")),
        text(packaging.get("commodity_code_qualifier")),
        text(packaging.get("commodity_code")),
        text(packaging.get("description")),
        text(weight.get("qualifier")),
        real(weight.get("value")),
        text(weight.get("unit")),
        real(volume.get("value")),
        text(volume.get("unit")),
    ]


def _mea(
    reference_code: Any, qualifier: Any, value: Any, unit: Any, low: Any = None, high: Any = None
) -> Fields:
    """MEA: 01 reference (737), 02 qualifier (738), 03 value, 04 unit, 05/06 range."""
    return [
        "MEA",
        text(reference_code),
        text(qualifier),
        real(value),
        text(unit),
        real(low),
        real(high),
    ]


def _measures(level: Record) -> dict[str, Body]:
    """The PO4, MEA and TD1 segments of a level's packagings and measures."""
    packagings = list(level.get("packagings") or ())
    po4: Body = []
    if packagings and any(packagings[0].get(k) is not None for k in _PO4_PACKAGING):
        po4.append(_po4(packagings.pop(0)))
    elif any(level.get(k) is not None for k in ("pack", "pack_size", "pack_size_unit")):
        po4.append(_po4(level))  # an item's own pack without its packaging
    volumes = level.get("volumes") or ()
    meas: Body = [
        _mea("", v.get("qualifier"), v.get("value"), v.get("unit"))
        for v in volumes
        if v.get("qualifier") is not None
    ]
    plain = [v for v in volumes if v.get("qualifier") is None]
    dimensions = level.get("dimensions") or {}
    for code, name in (("LN", "length"), ("WD", "width"), ("HT", "height")):
        if dimensions.get(name) is not None:
            meas.append(_mea("PD", code, dimensions[name], dimensions.get("unit")))
    meas += [
        _mea(
            m.get("reference"),
            m.get("qualifier"),
            m.get("value"),
            m.get("unit"),
            m.get("range_minimum"),
            m.get("range_maximum"),
        )
        for m in level.get("measurements") or ()
    ]
    weights = level.get("weights") or ()
    td1s: Body = []
    for k in range(max(len(packagings), len(weights), len(plain))):
        td1s.append(
            _td1(
                packagings[k] if k < len(packagings) else {},
                weights[k] if k < len(weights) else {},
                plain[k] if k < len(plain) else {},
            )
        )
    return {"PO4": po4, "MEA": meas, "TD1": td1s}


def _marks(level: Record) -> Body:
    """MAN: one a mark, 01 qualifier and 02 the mark (GM: the SSCC-18)."""
    return [
        ["MAN", text(m.get("qualifier")), text(m.get("value"))] for m in level.get("marks") or ()
    ]


def _common(level: Record, field: str) -> dict[str, Body]:
    """The segments every HL level can have, keyed by tag."""
    parts = _measures(level)
    parts["REF"] = [reference(r) for r in level.get("references") or ()]
    parts["MAN"] = _marks(level)
    parts["DTM"] = date_segments(level.get("dates") or {}, f"{field}.dates")
    parts["N1"] = [s for p in level.get("parties") or () for s in party_loop(p)]
    return parts


def _prf(level: Record, field: str) -> Body:
    """PRF: 01 PO number, 02 release, 04 PO date."""
    values = [level.get(k) for k in ("po_number", "release_number", "po_date")]
    if all(v is None for v in values):
        return []
    return [
        [
            "PRF",
            text(values[0]),
            text(values[1]),
            "",
            dtm_date(values[2], f"{field}.po_date"),
        ]
    ]


# The HL loop's positions (010-220) of the segments the mapper reads.
_LOOP_ORDER: Final = (
    "LIN",
    "SN1",
    "SLN",
    "PRF",
    "PO4",
    "PID",
    "MEA",
    "TD1",
    "TD5",
    "TD3",
    "TD4",
    "REF",
    "CLD",
    "MAN",
    "DTM",
    "FOB",
    "N1",
)


def _ordered(parts: Mapping[str, Body]) -> Body:
    return [s for tag in _LOOP_ORDER for s in parts.get(tag, ())]


def _item(item: Record, field: str) -> Body:
    parts = _common(item, field)
    line = text(item.get("line_number"))
    pairs = id_pairs(item.get("item_ids") or {})
    parts["LIN"] = [["LIN", line, *pairs]] if pairs else []
    sn1 = [
        real(item.get("quantity_shipped")),
        text(item.get("unit")),
        real(item.get("quantity_shipped_to_date")),
        real(item.get("quantity_ordered")),
        text(item.get("quantity_ordered_unit")),
        "",
        text(item.get("status_code")),
    ]
    # Without a LIN, SN101 is where the line number reads back from.
    parts["SN1"] = [["SN1", line, *sn1]] if any(sn1) or (line and not pairs) else []
    parts["SLN"] = [
        sub_line_loop(sub, f"{field}.sub_lines[{i}]", ())[0]
        for i, sub in enumerate(item.get("sub_lines") or ())
    ]
    parts["PRF"] = _prf(item, field)
    notes = item.get("notes") or []
    if notes and item.get("description") is None:
        raise UnwritableValue(f"{field}.notes", "an item's notes are PIDs after its description")
    descriptions = [item["description"], *notes] if item.get("description") is not None else []
    parts["PID"] = [["PID", "F", "", "", "", d] for d in descriptions]
    parts["CLD"] = [
        [
            "CLD",
            real(load.get("loads")),
            real(load.get("units_shipped")),
            text(load.get("packaging_code")),
            real(load.get("size")),
            text(load.get("unit")),
        ]
        for load in item.get("loads") or ()
    ]
    return _ordered(parts)


def _ship_td5(carrier: Record) -> Fields:
    """TD5 with every element the mapper reads: 06 status, 07/08 location, 09 direction,
    10/11 transit time, 12-14 service levels, 15 country."""
    levels = list(carrier.get("service_levels") or ())
    if not levels and carrier.get("service_level"):
        levels = [carrier["service_level"]]
    return [
        *td5(carrier)[:6],
        text(carrier.get("status_code")),
        text(carrier.get("location_qualifier")),
        text(carrier.get("location")),
        text(carrier.get("transit_direction_code")),
        text(carrier.get("transit_time_qualifier")),
        real(carrier.get("transit_time")),
        *[*levels, "", "", ""][:3],
        text(carrier.get("country")),
    ]


def _td3(equipment: Record) -> Fields:
    """TD3: 01-03 equipment, 04-06 weight, 07 ownership, 08/09 the first seal, 10 type."""
    weight = equipment.get("weight") or {}
    seals = equipment.get("seals") or [{}]
    return [
        "TD3",
        text(equipment.get("type_code")),
        text(equipment.get("initial")),
        text(equipment.get("number")),
        text(weight.get("qualifier")),
        real(weight.get("value")),
        text(weight.get("unit")),
        text(equipment.get("ownership_code")),
        text(seals[0].get("status_code")),
        text(seals[0].get("number")),
        text(equipment.get("size_type")),
    ]


def _purpose(record: Record) -> str:
    """BSN01: the code as sent, else the code of the normalised purpose."""
    if record.get("purpose_code"):
        return str(record["purpose_code"])
    return next((c for c, name in PURPOSES.items() if name == record.get("purpose")), "")


def _header(record: Record, options: BodyOptions) -> tuple[Fields, Body, Body]:
    """(BSN, the header DTMs, the S level's DTMs)."""
    dates: dict[str, str] = dict(record.get("dates") or {})
    created = dates.pop("transaction_creation", None)
    if created is not None:
        day, clock = date_and_time(created, "dates.transaction_creation")
        if not clock:
            raise UnwritableValue("dates.transaction_creation", "BSN04 needs the time")
    elif options.created_at is not None:
        day, clock = options.created_at.strftime("%Y%m%d"), options.created_at.strftime("%H%M")
    else:
        day, clock = "", ""
    structure = record.get("structure_code") or _STRUCTURE_CODES.get(options.asn_structure)
    bsn: Fields = [
        "BSN",
        _purpose(record),
        text(record.get("shipment_id")),
        day,
        clock,
        text(structure),
        text(record.get("document_type_code")),
    ]
    dtms = date_segments(dates, "dates")
    split = max(0, len(dtms) - _MAX_DTM)
    return bsn, dtms[:split], dtms[split:]


class _Hierarchy:
    """The HL loops in the order written, numbering them."""

    def __init__(self) -> None:
        self.body: Body = []
        self.count = 0
        self.shipped = Decimal(0)
        self.any_shipped = False

    def level(self, parent: str, code: str, segments: Body) -> str:
        self.count += 1
        self.body.append(["HL", str(self.count), parent, code])
        self.body += segments
        return str(self.count)

    def item(self, parent: str, item: Record, field: str) -> None:
        self.level(parent, "I", _item(item, field))
        if item.get("quantity_shipped") is not None:
            self.shipped += Decimal(item["quantity_shipped"])
            self.any_shipped = True

    def holder(
        self,
        holder: Record,
        hl: str,
        prefix: str,
        tares: Sequence[tuple[int, Record]],
    ) -> None:
        """The tares, packs and items under the shipment or an order (``hl``)."""
        written: dict[int, str] = {}
        pending = list(tares)

        def tares_through(last: int | None) -> None:
            while pending:
                k, tare = pending.pop(0)
                written[k] = self.level(hl, "T", _ordered(_common(tare, f"tares[{k}]")))
                if k == last:
                    return

        for j, pack in enumerate(holder["packs"]):
            field = f"{prefix}packs[{j}]"
            parent = hl
            sscc = pack.get("tare_sscc")
            tare = next((k for k, t in tares if sscc is not None and t.get("sscc") == sscc), None)
            if tare is not None:
                if tare not in written:
                    tares_through(tare)
                parent = written[tare]
            pack_hl = self.level(parent, "P", _ordered(_common(pack, field)))
            for n, item in enumerate(pack["items"]):
                self.item(pack_hl, item, f"{field}.items[{n}]")
        tares_through(None)
        for n, item in enumerate(holder["items"]):
            self.item(hl, item, f"{prefix}items[{n}]")


def ship_notice(record: dict[str, Any], options: BodyOptions) -> Body:
    """856: BSN, header DTMs, the HL loops (S, then the shipment's own tares, packs and
    items, then each order with its tares, packs and items), CTT."""
    if record.get("notes"):
        raise UnwritableValue("notes", "the 856 has no NTE: a note has no place")
    owners = _tare_owners(record)
    _check_structure(record, options.asn_structure, owners)
    _completed(record)
    bsn, header_dates, shipment_dates = _header(record, options)
    shipment = _common(record, "")
    shipment["DTM"] = shipment_dates
    shipment["TD5"] = [_ship_td5(c) for c in record.get("carriers") or ()]
    shipment["TD3"] = [_td3(e) for e in record.get("equipment") or ()]
    shipment["TD4"] = [
        ["TD4"] + [text(h.get(k)) for k in _TD4_FIELDS]
        for h in record.get("special_handling") or ()
    ]
    shipment["FOB"] = [fob(record["fob"])] if record.get("fob") else []
    tree = _Hierarchy()
    top = tree.level("", "S", _ordered(shipment))
    tares: list[list[tuple[int, Record]]] = [[] for _ in range(len(record["orders"]) + 1)]
    for k, owner in enumerate(owners):
        tares[-1 if owner is None else owner].append((k, record["tares"][k]))
    tree.holder(record, top, "", tares[-1])
    for i, order in enumerate(record["orders"]):
        field = f"orders[{i}]"
        parts = _common(order, field)
        parts["PRF"] = _prf(order, field)
        order_hl = tree.level(top, "O", _ordered(parts))
        tree.holder(order, order_hl, f"{field}.", tares[i])
    ctt: Fields = ["CTT", str(tree.count), real(tree.shipped) if tree.any_shipped else ""]
    return [bsn, *header_dates, *tree.body, ctt]
