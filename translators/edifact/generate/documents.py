"""Message bodies of the line-item messages: ORDERS, ORDRSP, ORDCHG and INVOIC.

Responsible for the order of the segment groups in each message (header, LIN groups, UNS,
summary, as the D.96A and D.01B structures have them; the two agree on the order of the
groups written here) and for the header fields the message mappers take from BGM, DTM 137
and the RFF groups: ORDERS BGM 1004 is the PO number; ORDRSP and ORDCHG refer to the order
by RFF ON with its DTM 171 (the PO date); INVOIC's RFF ON and DTM 171 are the PO number
and date; DTM 137 is the order, acknowledgment, change or invoice date. A line's own
quantity is QTY 21 (47 in an invoice), its amount MOA 203, its net price PRI AAA and
gross price PRI AAB; summary totals are the MOA qualifiers the mappers read first for
them. The header taxes of an order are its TAX group (SG6/SG7), those of an invoice the
summary TAX group, where INVOIC keeps the message totals of each rate.
It must not validate: the generator validates what it wrote and reads it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from translators.edifact.generate.segments import (
    alc_group,
    cux,
    ftx,
    imd,
    moa,
    party_group,
    pat_group,
    pri,
    qty,
    reference_group,
    refuse,
    tax_group,
    tdt,
    tod,
)
from translators.edifact.generate.values import (
    ITEM_TYPES,
    Seg,
    UnwritableValue,
    date_segments,
    dtm,
    number,
    reverse_code,
    seg,
    text,
)
from translators.edifact.mappers.code_lists import ORDER_TYPES, PURPOSES, RESPONSES

__all__ = ["BODY_BUILDERS", "Body", "Record", "item_id_segments"]

Record = Mapping[str, Any]
Body = list[Seg]

# 1001 of the messages whose BGM 1001 the mappers do not read: 230 purchase order change
# request, 231 purchase order response.
_CHANGE_DOCUMENT: Final = "230"
_RESPONSE_DOCUMENT: Final = "231"
# 6343 currency qualifier: 9 order currency, 4 invoicing currency.
_ORDER_CURRENCY: Final = "9"
_INVOICE_CURRENCY: Final = "4"
# 6063: 21 ordered, 47 invoiced, 113 to be delivered (an ORDRSP line's confirmed
# quantity), 59 consumer units in the traded unit (a line's ``pack``), 11 split quantity
# (a destination's share).
_ORDERED: Final = "21"
_INVOICED: Final = "47"
_TO_BE_DELIVERED: Final = "113"
_PACK: Final = "59"
_SPLIT: Final = "11"
# 5025: 203 line item amount.
_LINE_AMOUNT: Final = "203"
# 5125: AAA calculation net, AAB calculation gross.
_NET: Final = "AAA"
_GROSS: Final = "AAB"
# 3227 7 place of delivery (a destination's LOC); 4017 1 firm (an SCC schedule).
_DELIVERY_PLACE: Final = "7"
_FIRM: Final = "1"
# 2005: 137 document date, 171 reference date.
_DOCUMENT_DATE: Final = "137"
_REFERENCE_DATE: Final = "171"

# The summary totals field -> the 5025 qualifier written for it (read back into it first).
_ORDER_TOTALS: Final = (
    ("amount", "86"),
    ("line_items_amount", "79"),
    ("taxable_amount", "125"),
    ("tax_amount", "124"),
    ("allowances_amount", "260"),
    ("charges_amount", "259"),
    ("amount_due", "9"),
)
_INVOICE_TOTALS: Final = (
    ("amount", "77"),
    *_ORDER_TOTALS[1:],
    ("amount_subject_to_discount", "129"),
    ("terms_discount", "52"),
)

# PIA holds five C212 (elements 2 to 6); 4347 1 additional identification.
_PIA_IDS: Final = 5
_ADDITIONAL_ID: Final = "1"
_LIN_FIRST: Final = ("ean", "gtin", "upc")


def item_id_segments(ids: Mapping[str, Any], directory: str, field: str) -> tuple[
    list[str], Body
]:
    """(LIN C212, PIA segments) of an ``ItemIds``: the first id in LIN, the others in PIAs
    of five; the article numbers first (EAN, GTIN, UPC: EANCOM puts the EAN in LIN), then
    the other named fields in the order of the 7143 table, then ``other`` as sent."""
    if ids.get("gtin") and directory == "D96A":
        raise UnwritableValue(f"{field}.gtin", "D.96A 7143 has no GTIN type (D.01B SRV)")
    names = [*_LIN_FIRST, *(n for n in ITEM_TYPES if n not in _LIN_FIRST)]
    pairs: list[list[str]] = [[text(ids[n]), ITEM_TYPES[n]] for n in names if ids.get(n)]
    pairs += [[text(o.get("value")), text(o.get("qualifier"))] for o in ids.get("other") or ()]
    if not pairs:
        return [], []
    pias = [
        seg("PIA", _ADDITIONAL_ID, *pairs[start : start + _PIA_IDS])
        for start in range(1, len(pairs), _PIA_IDS)
    ]
    return pairs[0], pias


@dataclass(frozen=True, slots=True)
class _Layout:
    """What differs between the messages: the line quantity's 6063 qualifier, whether a
    line's MOA stands in a group after its FTX (INVOIC SG26) or before it, the 6343
    currency qualifier, whether PAT groups hold a PAI, whether the header taxes go in the
    summary, the totals written and those with no MOA."""

    quantity: str
    moa_in_group: bool
    currency: str
    pai: bool
    summary_taxes: bool
    totals: Sequence[tuple[str, str]]
    unwritable_totals: Sequence[str] = ()


_ORDER_LAYOUT: Final = _Layout(_ORDERED, False, _ORDER_CURRENCY, False, False, _ORDER_TOTALS)
_INVOICE_LAYOUT: Final = _Layout(
    _INVOICED, True, _INVOICE_CURRENCY, True, True, _INVOICE_TOTALS, ("discounted_amount",)
)


def _prices(line: Record, field: str, mark: str) -> Body:
    """The PRI segments: the net price (AAA), the gross price (AAB), the other prices; a
    line with a unit price and no price of its own gets it as its net price."""
    out: Body = []
    net, gross = line.get("net_price"), line.get("gross_price")
    for price, code, where in ((net, _NET, "net_price"), (gross, _GROSS, "gross_price")):
        if price:
            refuse(price, ("type_code",), f"{field}.{where}", "the field carries its 5125")
            out.append(pri(price, code, mark, f"{field}.{where}"))
    for i, price in enumerate(line.get("prices") or ()):
        out.append(pri(price, None, mark, f"{field}.prices[{i}]"))
    if not out and line.get("unit_price") is not None:
        price = {"unit_price": line["unit_price"], "basis_code": line.get("price_basis")}
        out.append(pri(price, _NET, mark, field))
    elif not out and line.get("price_basis"):
        raise UnwritableValue(f"{field}.price_basis", "a price basis needs its price")
    return out


def _line_quantities(line: Record, field: str, layout: _Layout, mark: str,
                     kind: str) -> Body:
    out: Body = []
    if line.get("quantity") is not None:
        out.append(qty(layout.quantity, line["quantity"], line.get("unit"), mark))
    elif line.get("unit"):
        raise UnwritableValue(f"{field}.unit", "a unit needs the quantity it measures")
    acks = line.get("acknowledgments") or []
    if acks:
        if kind != "order_response" or len(acks) > 1:
            raise UnwritableValue(f"{field}.acknowledgments",
                                  "an ORDRSP line holds one acknowledgment (LIN 1229)")
        ack = acks[0]
        refuse(ack, ("dates",), f"{field}.acknowledgments[0]", "LIN 1229 has no date")
        if ack.get("status_code") != line.get("status_code"):
            raise UnwritableValue(f"{field}.acknowledgments[0].status_code",
                                  "the acknowledgment's status is the line's LIN 1229")
        if ack.get("quantity") is not None:
            out.append(qty(_TO_BE_DELIVERED, ack["quantity"], ack.get("unit"), mark))
    pack_written = False
    for q in line.get("quantities") or ():
        out.append(qty(text(q.get("qualifier")), q.get("quantity"), q.get("unit"), mark))
        if q.get("qualifier") == _PACK and q.get("quantity") == line.get("pack"):
            pack_written = True
    if line.get("pack") is not None and not pack_written:
        raise UnwritableValue(f"{field}.pack", "a pack is read from a QTY 59 of the line's "
                              "quantities, which has none of this value")
    return out


def _line(line: Record, n: int, kind: str, layout: _Layout, directory: str, mark: str) -> Body:
    field = f"lines[{n}]"
    refuse(line, ("pack_size", "pack_size_unit", "sub_lines", "contacts"), field,
           "an EDIFACT LIN group has no place for it here")
    status = text(line.get("status_code"))
    if kind == "purchase_order_change":
        refuse(line, ("quantity_left_to_receive",), field, "an ORDCHG LIN has no place for it")
    elif kind != "order_response":
        refuse(line, ("status_code",), field, "this message's LIN 1229 is not read")
    lin_id, pias = item_id_segments(line.get("item_ids") or {}, directory, f"{field}.item_ids")
    out: Body = [seg("LIN", text(line.get("line_number")), status, lin_id), *pias]
    out += imd(line.get("description"), f"{field}.description", directory)
    out += _line_quantities(line, field, layout, mark, kind)
    out += date_segments(line.get("dates") or {}, f"{field}.dates")
    amounts: Body = []
    if line.get("amount") is not None:
        amounts.append(moa(_LINE_AMOUNT, line["amount"], mark))
    amounts += [
        moa(text(a.get("qualifier")), a.get("amount"), mark, a.get("currency"))
        for a in line.get("amounts") or ()
    ]
    notes = [
        ftx(note, f"{field}.notes[{i}]", directory)
        for i, note in enumerate(line.get("notes") or ())
    ]
    out += notes + amounts if layout.moa_in_group else amounts + notes
    out += _prices(line, field, mark)
    for i, ref in enumerate(line.get("references") or ()):
        out += reference_group(ref, f"{field}.references[{i}]")
    for i, place in enumerate(line.get("destinations") or ()):
        out.append(seg("LOC", _DELIVERY_PLACE,
                       [text(place.get("location")), "", text(place.get("location_qualifier"))]))
        if place.get("quantity") is not None:
            out.append(qty(_SPLIT, place["quantity"], place.get("unit"), mark))
        elif place.get("unit"):
            raise UnwritableValue(f"{field}.destinations[{i}].unit",
                                  "a unit needs the quantity it measures")
    for i, tax in enumerate(line.get("taxes") or ()):
        out += tax_group(tax, f"{field}.taxes[{i}]", mark)
    for i, party in enumerate(line.get("parties") or ()):
        out += party_group(party, f"{field}.parties[{i}]", directory)
    for i, alc in enumerate(line.get("allowances_charges") or ()):
        out += alc_group(alc, f"{field}.allowances_charges[{i}]", mark)
    for i, schedule in enumerate(line.get("schedules") or ()):
        where = f"{field}.schedules[{i}]"
        out.append(seg("SCC", _FIRM))
        out.append(qty(_ORDERED, schedule.get("quantity"), schedule.get("unit"), mark))
        out += date_segments(schedule.get("dates") or {}, f"{where}.dates")
    return out


def _header_dates(record: Record, date_field: str | None) -> Body:
    """DTM 137 for the message's own date field, then the record's dates. A DTM 137 with
    a time fills the field and stays in ``dates`` (as ``transaction_creation``): such a
    pair is written as the one DTM."""
    dates = dict(record.get("dates") or {})
    out: Body = []
    day = record.get(date_field) if date_field else None
    if day:
        stamp = dates.get("transaction_creation")
        if isinstance(stamp, str) and stamp.startswith(f"{day}T"):
            del dates["transaction_creation"]
            out.append(dtm(_DOCUMENT_DATE, stamp, "dates.transaction_creation"))
        else:
            out.append(dtm(_DOCUMENT_DATE, day, date_field or ""))
    return out + date_segments(dates, "dates")


def _order_reference(record: Record, number_field: str, date_field: str) -> Body:
    """RFF ON with its DTM 171: the order a response, change or invoice refers to."""
    if not record.get(number_field):
        refuse(record, (date_field,), "", "the order's date is the DTM of its RFF ON")
        return []
    out = [seg("RFF", ["ON", text(record[number_field])])]
    if record.get(date_field):
        out.append(dtm(_REFERENCE_DATE, record[date_field], date_field))
    return out


def _body(record: Record, bgm: Seg, date_field: str | None, header_refs: Body, kind: str,
          layout: _Layout, directory: str, mark: str) -> Body:
    refuse(record, ("contacts",), "", "a contact outside a NAD group has no place here")
    refuse(record, ("release_number",), "", "EDIFACT has no release number here")
    out: Body = [bgm, *_header_dates(record, date_field)]
    out += [
        ftx(note, f"notes[{i}]", directory) for i, note in enumerate(record.get("notes") or ())
    ]
    out += header_refs
    for i, ref in enumerate(record.get("references") or ()):
        out += reference_group(ref, f"references[{i}]")
    for i, party in enumerate(record.get("parties") or ()):
        out += party_group(party, f"parties[{i}]", directory)
    taxes = [
        s for i, tax in enumerate(record.get("taxes") or ())
        for s in tax_group(tax, f"taxes[{i}]", mark)
    ]
    if not layout.summary_taxes:
        out += taxes
    if record.get("currency"):
        out.append(cux(record["currency"], layout.currency))
    for i, terms in enumerate(record.get("payment_terms") or ()):
        out += pat_group(terms, f"payment_terms[{i}]", mark, layout.pai)
    if record.get("carrier"):
        out.append(tdt(record["carrier"], "carrier"))
    if record.get("fob"):
        out.append(tod(record["fob"], "fob"))
    for i, alc in enumerate(record.get("allowances_charges") or ()):
        out += alc_group(alc, f"allowances_charges[{i}]", mark)
    for n, line in enumerate(record.get("lines") or ()):
        out += _line(line, n, kind, layout, directory, mark)
    out.append(seg("UNS", "S"))
    totals = record.get("totals") or {}
    refuse(totals, layout.unwritable_totals, "totals", "EDIFACT has no MOA for it")
    amounts: Body = [
        moa(qualifier, totals[name], mark)
        for name, qualifier in layout.totals
        if totals.get(name) is not None
    ]
    amounts += [
        moa(text(a.get("qualifier")), a.get("amount"), mark, a.get("currency"))
        for a in totals.get("amounts") or ()
    ]
    counts: Body = []
    if totals.get("quantity_total") is not None:
        counts.append(seg("CNT", ["1", number(totals["quantity_total"], mark)]))
    if totals.get("line_count") is not None:
        counts.append(seg("CNT", ["2", str(totals["line_count"])]))
    if layout.summary_taxes:
        return out + counts + amounts + taxes
    return out + amounts + counts


def purchase_order(record: Record, directory: str, mark: str) -> Body:
    """ORDERS: BGM 01 C002 1001 order type, 02 C106 1004 PO number, 03 1225 purpose; RFF
    CT the contract number."""
    bgm = seg(
        "BGM",
        [record.get("order_type_code") or reverse_code(ORDER_TYPES, record.get("order_type"))],
        [text(record.get("po_number"))],
        record.get("purpose_code") or reverse_code(PURPOSES, record.get("purpose")),
    )
    refs: Body = []
    if record.get("contract_number"):
        refs.append(seg("RFF", ["CT", text(record["contract_number"])]))
    return _body(record, bgm, "order_date", refs, "purchase_order", _ORDER_LAYOUT, directory,
                 mark)


def order_change(record: Record, directory: str, mark: str) -> Body:
    """ORDCHG: BGM 1004 the change sequence, 1225 purpose; RFF ON the PO number with DTM
    171 its date; RFF CT the contract number; DTM 137 the change date."""
    refuse(record, ("order_type", "order_type_code"), "", "ORDCHG BGM 1001 is not read")
    if record.get("change_sequence") and not record.get("po_number"):
        raise UnwritableValue("change_sequence", "without RFF ON, BGM 1004 is the PO number")
    bgm = seg(
        "BGM",
        [_CHANGE_DOCUMENT],
        [text(record.get("change_sequence"))],
        record.get("purpose_code") or reverse_code(PURPOSES, record.get("purpose")),
    )
    refs = _order_reference(record, "po_number", "order_date")
    if record.get("contract_number"):
        refs.append(seg("RFF", ["CT", text(record["contract_number"])]))
    return _body(record, bgm, "change_date", refs, "purchase_order_change", _ORDER_LAYOUT,
                 directory, mark)


def _response_codes(record: Record) -> tuple[str, str]:
    """(BGM 1225, BGM 4343) of an ORDRSP: a 4343 answer beside the 1225 purpose, or a 1225
    answer alone (27 not accepted, 29 accepted, 4 accepted with changes, ...)."""
    purpose = record.get("purpose_code") or reverse_code(PURPOSES, record.get("purpose"))
    response = record.get("response_code") or reverse_code(RESPONSES, record.get("response"))
    if not response or response.isalpha():
        return purpose, response
    if purpose:
        raise UnwritableValue("purpose_code", f"BGM 1225 holds the answer {response}")
    return response, ""


def order_response(record: Record, directory: str, mark: str) -> Body:
    """ORDRSP: BGM 1004 the seller's order number, 1225 purpose or answer, 4343 answer;
    RFF ON the PO number with DTM 171 its date; RFF CT the contract number; DTM 137 the
    acknowledgment date."""
    refuse(record, ("order_type", "order_type_code"), "", "ORDRSP BGM 1001 is not read")
    function, response = _response_codes(record)
    bgm = seg(
        "BGM",
        [_RESPONSE_DOCUMENT],
        [text(record.get("seller_order_number"))],
        function,
        response,
    )
    refs = _order_reference(record, "po_number", "order_date")
    if record.get("contract_number"):
        refs.append(seg("RFF", ["CT", text(record["contract_number"])]))
    return _body(record, bgm, "ack_date", refs, "order_response", _ORDER_LAYOUT, directory,
                 mark)


def invoice(record: Record, directory: str, mark: str) -> Body:
    """INVOIC: BGM 01 C002 1001 invoice type, 02 C106 1004 invoice number, 03 1225; RFF ON
    the PO number with DTM 171 its date; DTM 137 the invoice date."""
    bgm = seg(
        "BGM",
        [text(record.get("invoice_type_code"))],
        [text(record.get("invoice_number"))],
        text(record.get("purpose_code")),
    )
    refs = _order_reference(record, "po_number", "po_date")
    return _body(record, bgm, "invoice_date", refs, "invoice", _INVOICE_LAYOUT, directory,
                 mark)


BODY_BUILDERS: Final[Mapping[str, tuple[str, Callable[[Record, str, str], Body]]]] = {
    "purchase_order": ("ORDERS", purchase_order),
    "order_response": ("ORDRSP", order_response),
    "purchase_order_change": ("ORDCHG", order_change),
    "invoice": ("INVOIC", invoice),
}
"""Record kind -> (message type, body builder: record, directory, decimal mark)."""
