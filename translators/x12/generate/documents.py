"""Transaction set bodies of the line-item documents: 850, 855, 860 (orders) and 810, and
the table of every generated set (the 856 and 846 bodies are in ``ship_notice`` and
``inventory``).

Responsible for the order of the segments in each set (header, line loops, summary, as
the 004010 and 005010 maps have them) so that the mappers read every value back to the
field it came from: a REF and an N9 read alike, so a document with notes writes its last
reference as the N9 its MSGs need; a CTP NET is written only for a net price that the
PO1/IT1 price and basis do not give; CTT01 is the number of lines and CTT02 the hash
total of their quantities.
It must not validate: the generator validates what it wrote and reads it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from translators.x12.generate.inventory import inventory_report
from translators.x12.generate.options import BodyOptions
from translators.x12.generate.segments import (
    Fields,
    amt,
    contact_per,
    ctp,
    fob,
    itd,
    party_loop,
    reference,
    sac,
    sch,
    sdq,
    sub_line_loop,
    td5,
    txi,
)
from translators.x12.generate.ship_notice import ship_notice
from translators.x12.generate.values import (
    UnwritableValue,
    date_segments,
    dtm_date,
    id_pairs,
    implied,
    real,
    text,
)
from translators.x12.mappers.po import ACK_TYPES, ORDER_TYPES, PURPOSES
from translators.x12.mappers.products import line_price

__all__ = ["BODY_BUILDERS", "hash_total"]

Record = Mapping[str, Any]
Body = list[Fields]


def _code(record: Record, code_field: str, name_field: str, table: Mapping[str, str]) -> str:
    """The code as sent, else the code of the normalised name (first code in the table)."""
    code = record.get(code_field)
    if code:
        return str(code)
    name = record.get(name_field)
    for candidate, candidate_name in table.items():
        if name and candidate_name == name:
            return candidate
    return ""


def hash_total(lines: Sequence[Record], quantity: str) -> Decimal | None:
    """CTT02: the sum of the lines' quantities; ``None`` when no line has one."""
    found = [line[quantity] for line in lines if line.get(quantity) is not None]
    return sum(found, Decimal(0)) if found else None


def _notes_with_references(
    references: Sequence[Record], notes: Sequence[str], field: str
) -> tuple[Body, Body]:
    """(REF segments, N9 loop): the notes need an N9 to stand in (X12 MSG is an N9-loop
    segment); the last reference is that N9, so the record reads back the same."""
    if not notes:
        return [reference(r) for r in references], []
    if not references:
        raise UnwritableValue(
            f"{field}notes", "notes are MSGs of an N9 loop: they need a reference"
        )
    refs = [reference(r) for r in references[:-1]]
    return refs, [reference(references[-1], "N9"), *(["MSG", n] for n in notes)]


def _net_ctp(line: Record) -> Body:
    """A CTP NET for a net price that PO1/IT1 do not give (``LineDocument.finish``)."""
    net = line.get("net_price")
    if not net:
        return []
    derived = line_price(line.get("unit_price"), line.get("price_basis"))
    keys = ("unit_price", "basis_code", "per_unit_price")
    if (
        derived is not None
        and all(derived.get(k) == net.get(k) for k in keys)
        and not any(
            net.get(k)
            for k in ("class_code", "quantity", "unit", "multiplier", "multiplier_qualifier")
        )
    ):
        return []
    return [ctp(net, "NET")]


def _priced(tag: str, line: Record) -> Fields:
    """PO1 / IT1: 01 line number, 02 quantity, 03 unit, 04 price, 05 basis, 06.. ids."""
    return [
        tag,
        text(line.get("line_number")),
        real(line.get("quantity")),
        text(line.get("unit")),
        real(line.get("unit_price")),
        text(line.get("price_basis")),
        *id_pairs(line.get("item_ids") or {}),
    ]


def _poc(line: Record) -> Fields:
    return [
        "POC",
        text(line.get("line_number")),
        text(line.get("status_code")),
        real(line.get("quantity")),
        real(line.get("quantity_left_to_receive")),
        text(line.get("unit")),
        real(line.get("unit_price")),
        text(line.get("price_basis")),
        *id_pairs(line.get("item_ids") or {}),
    ]


def _ack(ack: Record, field: str) -> Fields:
    dates = date_segments(ack.get("dates") or {}, f"{field}.dates")
    if len(dates) > 1:
        raise UnwritableValue(f"{field}.dates", "an ACK carries one date")
    date = dates[0] if dates else ["DTM", "", "", ""]
    if date[3:4] and date[3]:
        raise UnwritableValue(f"{field}.dates", "ACK05 is a date without a time")
    return [
        "ACK",
        text(ack.get("status_code")),
        real(ack.get("quantity")),
        text(ack.get("unit")),
        date[1],
        date[2],
    ]


def _line_parts(line: Record, field: str, sac_taxes: bool) -> dict[str, Body]:
    """Every segment kind of one line, keyed by tag; the set's layout orders them."""
    description = line.get("description")
    charges: Body = []
    for i, charge in enumerate(line.get("allowances_charges") or ()):
        charges.append(sac(charge, f"{field}.allowances_charges[{i}]"))
        if sac_taxes:
            charges += [txi(t) for t in charge.get("taxes") or ()]
    amounts: Body = []
    if line.get("amount") is not None:
        amounts.append(amt("1", line["amount"]))
    amounts += [amt(a["qualifier"], a.get("amount")) for a in line.get("amounts") or ()]
    pack = [line.get(k) for k in ("pack", "pack_size", "pack_size_unit")]
    return {
        "CTP": _net_ctp(line) + [ctp(p) for p in line.get("prices") or ()],
        "PID": [["PID", "F", "", "", "", description]] if description else [],
        "PO4": [["PO4", real(pack[0]), real(pack[1]), text(pack[2])]]
        if any(v is not None for v in pack)
        else [],
        "PER": [contact_per(c) for c in line.get("contacts") or ()],
        "SAC": charges,
        "SDQ": sdq(line.get("destinations") or ()),
        "DTM": date_segments(line.get("dates") or {}, f"{field}.dates"),
        "TXI": [txi(t) for t in line.get("taxes") or ()],
        "QTY": [
            ["QTY", text(q.get("qualifier")), real(q.get("quantity")), text(q.get("unit"))]
            for q in line.get("quantities") or ()
        ],
        "ACK": [
            _ack(a, f"{field}.acknowledgments[{i}]")
            for i, a in enumerate(line.get("acknowledgments") or ())
        ],
        "SCH": [
            sch(s, f"{field}.schedules[{i}]") for i, s in enumerate(line.get("schedules") or ())
        ],
        "N1": [s for p in line.get("parties") or () for s in party_loop(p)],
        "AMT": amounts,
    }


# Where each kind of line segment stands in the line loop of a set (004010 and 005010
# agree for these); REF and N9 are placed by the notes rule. SLN loops come before N1 in
# the 810 and after it in the orders.
_ORDER_LINE: Final = (
    "CTP",
    "PID",
    "PO4",
    "REF",
    "PER",
    "SAC",
    "SDQ",
    "DTM",
    "TXI",
    "QTY",
    "ACK",
    "SCH",
    "N9",
    "N1",
    "SLN",
    "AMT",
)
_INVOICE_LINE: Final = ("TXI", "CTP", "PID", "PO4", "REF", "PER", "SDQ", "DTM", "SAC", "SLN", "N1")
_ORDER_SLN: Final = ("MSG", "PID", "DTM", "CTP")
_INVOICE_SLN: Final = ("DTM", "REF", "PID")


def _lines(
    record: Record,
    first: Callable[[Record], Fields],
    layout: Sequence[str],
    sln_order: Sequence[str],
    sac_taxes: bool,
) -> Body:
    out: Body = []
    for n, line in enumerate(record.get("lines") or ()):
        field = f"lines[{n}]"
        parts = _line_parts(line, field, sac_taxes)
        refs, n9 = _notes_with_references(
            line.get("references") or (), line.get("notes") or (), f"{field}."
        )
        parts["REF"], parts["N9"] = refs, n9
        parts["SLN"] = [
            s
            for i, sub in enumerate(line.get("sub_lines") or ())
            for s in sub_line_loop(sub, f"{field}.sub_lines[{i}]", sln_order)
        ]
        if "SLN" not in layout and parts["SLN"]:
            raise UnwritableValue(f"{field}.sub_lines", "this set has no SLN loop")
        out.append(first(line))
        for tag in layout:
            out += parts.get(tag, [])
    return out


def _header(record: Record, first: Fields, currency_entity: str) -> dict[str, Body]:
    refs, n9 = _notes_with_references(record.get("references") or (), record.get("notes") or (), "")
    carrier = record.get("carrier")
    return {
        "FIRST": [first],
        "CUR": [["CUR", currency_entity, record["currency"]]] if record.get("currency") else [],
        "REF": refs,
        "PER": [contact_per(c) for c in record.get("contacts") or ()],
        "FOB": [fob(record["fob"])] if record.get("fob") else [],
        "SAC": [
            sac(c, f"allowances_charges[{i}]")
            for i, c in enumerate(record.get("allowances_charges") or ())
        ],
        "ITD": [
            itd(t, f"payment_terms[{i}]") for i, t in enumerate(record.get("payment_terms") or ())
        ],
        "DTM": date_segments(record.get("dates") or {}, "dates"),
        "TD5": [td5(carrier)] if carrier else [],
        "TXI": [txi(t) for t in record.get("taxes") or ()],
        "N9": n9,
        "N1": [s for p in record.get("parties") or () for s in party_loop(p)],
    }


_ORDER_HEADER: Final = (
    "FIRST",
    "CUR",
    "REF",
    "PER",
    "FOB",
    "SAC",
    "ITD",
    "DTM",
    "TD5",
    "TXI",
    "N9",
    "N1",
)


def _order_totals(record: Record, quantity: str = "quantity") -> Body:
    lines = record.get("lines") or ()
    totals = record.get("totals") or {}
    out: Body = [["CTT", str(len(lines)), real(hash_total(lines, quantity))]]
    if totals.get("amount") is not None:
        out.append(amt("TT", totals["amount"]))
    if totals.get("line_items_amount") is not None:
        out.append(amt("1", totals["line_items_amount"]))
    if totals.get("amount_due") is not None:
        out.append(amt("NP", totals["amount_due"]))
    out += [amt(a["qualifier"], a.get("amount")) for a in totals.get("amounts") or ()]
    return out


def _order_body(record: Record, first: Fields, line_tag: str) -> Body:
    header = _header(record, first, "BY")
    out: Body = [s for tag in _ORDER_HEADER for s in header[tag]]
    if line_tag == "POC":
        out += _lines(record, _poc, _ORDER_LINE, _ORDER_SLN, False)
    else:
        out += _lines(record, lambda line: _priced("PO1", line), _ORDER_LINE, _ORDER_SLN, False)
    return out + _order_totals(record)


def purchase_order(record: Record, options: BodyOptions) -> Body:
    """850: BEG 01 purpose, 02 type, 03 PO number, 04 release, 05 date, 06 contract."""
    beg: Fields = [
        "BEG",
        _code(record, "purpose_code", "purpose", PURPOSES),
        _code(record, "order_type_code", "order_type", ORDER_TYPES),
        text(record.get("po_number")),
        text(record.get("release_number")),
        dtm_date(record.get("order_date"), "order_date"),
        text(record.get("contract_number")),
    ]
    return _order_body(record, beg, "PO1")


def order_response(record: Record, options: BodyOptions) -> Body:
    """855: BAK 01 purpose, 02 acknowledgment type, 03 PO number, 04 PO date, 05 release,
    07 contract, 08 seller's order number, 09 acknowledgment date."""
    bak: Fields = [
        "BAK",
        _code(record, "purpose_code", "purpose", PURPOSES),
        _code(record, "response_code", "response", ACK_TYPES),
        text(record.get("po_number")),
        dtm_date(record.get("order_date"), "order_date"),
        text(record.get("release_number")),
        "",
        text(record.get("contract_number")),
        text(record.get("seller_order_number")),
        dtm_date(record.get("ack_date"), "ack_date"),
    ]
    return _order_body(record, bak, "PO1")


def order_change(record: Record, options: BodyOptions) -> Body:
    """860: BCH 01 purpose, 02 type, 03 PO number, 04 release, 05 change sequence, 06 PO
    date, 08 contract, 11 PO change date."""
    bch: Fields = [
        "BCH",
        _code(record, "purpose_code", "purpose", PURPOSES),
        _code(record, "order_type_code", "order_type", ORDER_TYPES),
        text(record.get("po_number")),
        text(record.get("release_number")),
        text(record.get("change_sequence")),
        dtm_date(record.get("order_date"), "order_date"),
        "",
        text(record.get("contract_number")),
        "",
        "",
        dtm_date(record.get("change_date"), "change_date"),
    ]
    return _order_body(record, bch, "POC")


def _cad(carrier: Record) -> Fields:
    """CAD: 01 mode, 04 SCAC, 05 routing, 07/08 CN and the tracking number."""
    tracking = text(carrier.get("tracking_number"))
    return [
        "CAD",
        text(carrier.get("mode")),
        "",
        "",
        text(carrier.get("scac")),
        text(carrier.get("routing")),
        "",
        "CN" if tracking else "",
        tracking,
    ]


def invoice(record: Record, options: BodyOptions) -> Body:
    """810: BIG, header (NTE notes, CUR, REF, PER, N1 loops, ITD, DTM, FOB), IT1 loops,
    then TDS (N2 amounts), TXI, CAD, AMT, the SAC loop and CTT."""
    big: Fields = [
        "BIG",
        dtm_date(record.get("invoice_date"), "invoice_date"),
        text(record.get("invoice_number")),
        dtm_date(record.get("po_date"), "po_date"),
        text(record.get("po_number")),
        text(record.get("release_number")),
        "",
        text(record.get("invoice_type_code")),
        text(record.get("purpose_code")),
    ]
    out: Body = [big]
    out += [["NTE", "", n] for n in record.get("notes") or ()]
    if record.get("currency"):
        out.append(["CUR", "SE", record["currency"]])
    out += [reference(r) for r in record.get("references") or ()]
    out += [contact_per(c) for c in record.get("contacts") or ()]
    out += [s for p in record.get("parties") or () for s in party_loop(p)]
    out += [itd(t, f"payment_terms[{i}]") for i, t in enumerate(record.get("payment_terms") or ())]
    out += date_segments(record.get("dates") or {}, "dates")
    if record.get("fob"):
        out.append(fob(record["fob"]))
    out += _lines(record, lambda line: _priced("IT1", line), _INVOICE_LINE, _INVOICE_SLN, True)
    totals = record.get("totals") or {}
    out.append(
        ["TDS"]
        + [
            implied(totals.get(k), f"totals.{k}")
            for k in ("amount", "amount_subject_to_discount", "discounted_amount", "terms_discount")
        ]
    )
    out += [txi(t) for t in record.get("taxes") or ()]
    if record.get("carrier"):
        out.append(_cad(record["carrier"]))
    if totals.get("line_items_amount") is not None:
        out.append(amt("1", totals["line_items_amount"]))
    if totals.get("amount_due") is not None:
        out.append(amt("NP", totals["amount_due"]))
    out += [amt(a["qualifier"], a.get("amount")) for a in totals.get("amounts") or ()]
    for i, charge in enumerate(record.get("allowances_charges") or ()):
        out.append(sac(charge, f"allowances_charges[{i}]"))
        out += [txi(t) for t in charge.get("taxes") or ()]
    lines = record.get("lines") or ()
    out.append(["CTT", str(len(lines)), real(hash_total(lines, "quantity"))])
    return out


BODY_BUILDERS: Final[
    Mapping[str, tuple[str, str, Callable[[dict[str, Any], BodyOptions], Body]]]
] = {
    "purchase_order": ("850", "PO", purchase_order),
    "order_response": ("855", "PR", order_response),
    "purchase_order_change": ("860", "PC", order_change),
    "invoice": ("810", "IN", invoice),
    "ship_notice": ("856", "SH", ship_notice),
    "inventory_report": ("846", "IB", inventory_report),
}
"""Record kind -> (transaction set, functional identifier GS01, body builder). A builder
gets the record's tree (a fresh dump the generator also compares the read-back with) and
may complete it with the sources of values the record only derives (the 856's
``ship_date`` as its DTM 011 date, ...), so that what is written is what is compared."""
