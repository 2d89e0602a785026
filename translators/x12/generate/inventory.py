"""Transaction set body of the 846 Inventory Inquiry/Advice: the inverse of
``translators.x12.mappers.inventory``.

Responsible for BIA (01 purpose, 02 report type, 03 report id, 04/05 the report's date;
the envelope's moment when the record has none), the header (CUR, DTM, REF, PER, N1
loops), one LIN loop per item (LIN, PID, DTM, CTP, REF, UIT with the item's unit and
price, the QTY loops, the item's N1 loops) and CTT (01 the number of LIN segments, 02
the sum of the QTY02 quantities, as the 846 notes say).
A quantity held at a location (``location_qualifier``/``location``) is written in the
QTY loop of the item's N1 loop whose first id is that location, which is where the mapper
takes it from; the others go in the LIN loop's own QTY loops, which come first. So an
item's quantities must list the unheld ones first, then the held ones in the order of
the parties holding them; a quantity that cannot stand where its order puts it, or held
at a location no party of the item names, raises ``UnwritableValue``. The 846 has no NTE
and no SDQ the mapper reads: a record note has no place.
It must not drop a value silently: what it cannot write is left for the generator's
read-back check.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from translators.x12.generate.options import BodyOptions
from translators.x12.generate.segments import Fields, contact_per, ctp, party_loop, reference
from translators.x12.generate.values import (
    UnwritableValue,
    date_and_time,
    date_segments,
    id_pairs,
    real,
    text,
)

__all__ = ["inventory_report"]

Record = Mapping[str, Any]
Body = list[Fields]


def _qty_loop(quantity: Record, field: str) -> Body:
    """QTY (01 qualifier, 02 quantity, 03 unit) and the DTMs of its dates."""
    return [
        [
            "QTY",
            text(quantity.get("qualifier")),
            real(quantity.get("quantity")),
            text(quantity.get("unit")),
        ],
        *date_segments(quantity.get("dates") or {}, f"{field}.dates"),
    ]


def _held_at(party: Record) -> tuple[Any, Any] | None:
    ids = party.get("ids") or ()
    return (ids[0].get("qualifier"), ids[0].get("value")) if ids else None


def _quantities(item: Record, field: str) -> tuple[Body, list[Body]]:
    """(the LIN loop's QTY loops, the QTY loops of each of the item's parties)."""
    parties = item.get("parties") or ()
    own: Body = []
    held: list[Body] = [[] for _ in parties]
    at = -1  # the party the previous held quantity went to
    for j, quantity in enumerate(item.get("quantities") or ()):
        where = f"{field}.quantities[{j}]"
        location = (quantity.get("location_qualifier"), quantity.get("location"))
        if location == (None, None):
            if at >= 0:
                raise UnwritableValue(where, "a quantity held nowhere comes before the held ones")
            own += _qty_loop(quantity, where)
            continue
        party = next(
            (p for p in range(max(at, 0), len(parties)) if _held_at(parties[p]) == location),
            None,
        )
        if party is None:
            raise UnwritableValue(
                where, "a held quantity needs the item's N1 party of its location, in order"
            )
        at = party
        held[party] += _qty_loop(quantity, where)
    return own, held


def _item(item: Record, field: str) -> Body:
    out: Body = [["LIN", text(item.get("line_number")), *id_pairs(item.get("item_ids") or {})]]
    if item.get("description") is not None:
        out.append(["PID", "F", "", "", "", item["description"]])
    out += date_segments(item.get("dates") or {}, f"{field}.dates")
    out += [ctp(p) for p in item.get("prices") or ()]
    out += [reference(r) for r in item.get("references") or ()]
    if item.get("unit") is not None or item.get("unit_price") is not None:
        out.append(["UIT", text(item.get("unit")), real(item.get("unit_price"))])
    own, held = _quantities(item, field)
    out += own
    for party, quantities in zip(item.get("parties") or (), held, strict=True):
        out += party_loop(party) + quantities
    return out


def inventory_report(record: dict[str, Any], options: BodyOptions) -> Body:
    """846: BIA, CUR, DTM, REF, PER, N1 loops, the LIN loops, CTT."""
    if record.get("notes"):
        raise UnwritableValue("notes", "the 846 has no NTE: a note has no place")
    if record.get("report_date") is not None:
        day, clock = date_and_time(record["report_date"], "report_date")
    elif options.created_at is not None:
        day, clock = options.created_at.strftime("%Y%m%d"), options.created_at.strftime("%H%M")
    else:
        day, clock = "", ""
    out: Body = [
        [
            "BIA",
            text(record.get("purpose_code")),
            text(record.get("report_type")),
            text(record.get("report_id")),
            day,
            clock,
        ]
    ]
    if record.get("currency"):
        out.append(["CUR", "BY", record["currency"]])
    out += date_segments(record.get("dates") or {}, "dates")
    out += [reference(r) for r in record.get("references") or ()]
    out += [contact_per(c) for c in record.get("contacts") or ()]
    out += [s for p in record.get("parties") or () for s in party_loop(p)]
    items = record.get("items") or ()
    for n, item in enumerate(items):
        out += _item(item, f"items[{n}]")
    quantities = [
        q["quantity"]
        for item in items
        for q in item.get("quantities") or ()
        if q.get("quantity") is not None
    ]
    total = real(sum(quantities, Decimal(0))) if quantities else ""
    out.append(["CTT", str(len(items)), total])
    return out
