"""Segment groups shared by the generated messages: the inverse of the readers in
``translators.edifact.mappers`` (party, commercial, products).

Responsible for turning one record part (a party with its references and contacts, a
contact, a reference with its dates, an allowance or charge with its group, a tax, payment
terms, a price, a quantity, an amount, free text, carrier and delivery terms) into its
segments, component for component as the matching reader takes them apart. Values the
readers derive (a party's ``role`` and ``scheme``, a ``unit_rec20``, a price's
``per_unit_price`` and ``type``, a tax's ``category``, a contact's ``phone``) are not
written: the reader derives them again. Fields that only X12 fills (an SAC's agency, a
TXI jurisdiction, ITD's deferred terms, ...) raise ``UnwritableValue`` when set.
It must not decide where a group goes in a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from translators.edifact.generate.values import (
    Seg,
    UnwritableValue,
    date_qualifier,
    date_segments,
    dtm,
    number,
    reverse_code,
    seg,
    text,
    text_parts,
)
from translators.parties import EDIFACT_PARTY_ROLES

__all__ = [
    "FTX_TEXT",
    "IMD_TEXT",
    "alc_group",
    "contact_group",
    "cux",
    "ftx",
    "imd",
    "moa",
    "party_group",
    "pat_group",
    "pri",
    "qty",
    "reference_group",
    "refuse",
    "tax_group",
    "tdt",
    "tod",
]

_INDICATORS: Final = {"allowance": "A", "charge": "C", "no_charge": "N"}
_CHANNELS: Final = (("phone", "TE"), ("email", "EM"), ("fax", "FX"))

# Free text widths (component length, components) by directory: C108 4440 is an..70 x5
# in D.96A and an..512 x5 in D.01B, C273 7008 an..35 x2 and an..256 x2; C214 7160 and
# C110 4276 are an..35 x2 in both.
FTX_TEXT: Final = {"D96A": (70, 5), "D01B": (512, 5)}
IMD_TEXT: Final = {"D96A": (35, 2), "D01B": (256, 2)}
SERVICE_TEXT: Final = (35, 2)
TERMS_TEXT: Final = (35, 2)

# Codes the record does not keep but the segment needs (UNCL D.96A, also D.01B):
# 4451 AAI general information; 5283 7 tax; 5245 3 allowance or charge percentage;
# 5419 1 allowance rate; 6063 1 discrete quantity.
_FTX_SUBJECT: Final = "AAI"
# 7077 F: free-form item description.
_FREE_FORM: Final = "F"
_TAX_FUNCTION: Final = "7"
_ALC_PERCENT: Final = "3"
_ALC_RATE: Final = "1"
_ALC_QUANTITY: Final = "1"
# 5025: 8 allowance or charge amount, 25 charge/allowance basis, 124 tax amount, 52
# discount amount.
_ALC_AMOUNT: Final = "8"
_ALC_BASIS: Final = "25"
_TAX_AMOUNT: Final = "124"
_DISCOUNT_AMOUNT: Final = "52"
# 5245 in a PAT group: 12 discount, 15 penalty surcharge.
_DISCOUNT_PERCENT: Final = "12"
_PENALTY_PERCENT: Final = "15"
# 4279 22 discount terms: their period is the discount period (``read_pat``).
_DISCOUNT_TERMS: Final = "22"
# 8051 20 main carriage transport: an order's or invoice's carrier has no stage of its own.
_MAIN_CARRIAGE: Final = "20"


def _set(value: Any) -> bool:
    return value is not None and value is not False and value != "" and value != [] \
        and value != {}


def refuse(part: Mapping[str, Any], keys: Iterable[str], field: str, why: str) -> None:
    """Raise ``UnwritableValue`` for the first of ``keys`` set in ``part``."""
    for key in keys:
        if _set(part.get(key)):
            raise UnwritableValue(f"{field}.{key}" if field else key, why)


def ftx(note: str, field: str, directory: str) -> Seg:
    """FTX: 01 4451 subject (AAI general information), 04 C108 the text."""
    return seg("FTX", _FTX_SUBJECT, "", "", text_parts(note, *FTX_TEXT[directory], field))


def imd(description: str | None, field: str, directory: str) -> list[Seg]:
    """IMD (01 7077 F free-form, 03 C273 7008 the text), none without a description."""
    parts = text_parts(description, *IMD_TEXT[directory], field)
    return [seg("IMD", _FREE_FORM, "", ["", "", "", *parts])] if parts else []


def moa(qualifier: str, amount: Decimal | None, mark: str, currency: str | None = None) -> Seg:
    """MOA C516: 5025 qualifier, 5004 amount, 6345 currency."""
    return seg("MOA", [qualifier, number(amount, mark), text(currency)])


def qty(qualifier: str, quantity: Decimal | None, unit: str | None, mark: str) -> Seg:
    """QTY C186: 6063 qualifier, 6060 quantity, 6411 unit."""
    return seg("QTY", [qualifier, number(quantity, mark), text(unit)])


def cux(currency: str, qualifier: str) -> Seg:
    """CUX C504: 6347 2 (reference currency), 6345 currency, 6343 ``qualifier``."""
    return seg("CUX", ["2", currency, qualifier])


def reference_group(ref: Mapping[str, Any], field: str, dated: bool = True) -> list[Seg]:
    """RFF C506 (1153 qualifier, 1154 value), then a DTM per date of the reference."""
    refuse(ref, ("description",), field, "an RFF has no reference description")
    if not dated:
        refuse(ref, ("dates",), field, "a reference here has no dates of its own")
    out = [seg("RFF", [text(ref.get("qualifier")), text(ref.get("value"))])]
    return out + date_segments(ref.get("dates") or {}, f"{field}.dates")


def contact_group(contact: Mapping[str, Any], field: str) -> list[Seg]:
    """CTA (01 3139 function, 02 C056 3413 id, 3412 name), then a COM (C076 3148 number,
    3155 channel) per communication number; a contact given only its named channels has
    those written with their 3155 codes TE, EM, FX."""
    refuse(contact, ("reference",), field, "a CTA has no inquiry reference")
    numbers = [
        (text(c.get("value")), text(c.get("qualifier")))
        for c in contact.get("communications") or ()
    ]
    if not numbers:
        numbers = [(contact[n], q) for n, q in _CHANNELS if contact.get(n)]
    out = [
        seg("CTA", text(contact.get("function")), [text(contact.get("id")),
                                                   text(contact.get("name"))])
    ]
    return out + [seg("COM", [value, qualifier]) for value, qualifier in numbers]


def _address(address: Mapping[str, Any] | None, named: bool, field: str) -> tuple[
    list[str], list[str]
]:
    """(C058 lines, C059 lines) of an address: C059 holds four street lines; more go
    first into C058, which reads as address lines only when C080 names the party."""
    if not address:
        return [], []
    refuse(
        address, ("country_subdivision", "location_qualifier", "location_id"), field,
        "a NAD has no place for it",
    )
    lines = [text(line) for line in address.get("lines") or ()]
    if len(lines) <= 4:
        return [], lines
    if not named or len(lines) > 9:
        raise UnwritableValue(f"{field}.lines", "a NAD holds at most four street lines "
                              "(nine with a party name)")
    return lines[:-4], lines[-4:]


def party_group(party: Mapping[str, Any], field: str, directory: str) -> list[Seg]:
    """The NAD group: NAD (01 role, 02 C082 id, 03 C058, 04 C080 names, 05 C059 street, 06
    city, 07 region (D.01B C819 with its name), 08 postcode, 09 country), an RFF per
    reference, a CTA-COM group per contact."""
    ids = party.get("ids") or []
    if len(ids) > 1:
        raise UnwritableValue(f"{field}.ids", "a NAD holds one party identification")
    first = ids[0] if ids else {}
    names = [n for n in [party.get("name"), *(party.get("additional_names") or [])] if n]
    if party.get("additional_names") and not party.get("name"):
        raise UnwritableValue(f"{field}.additional_names", "further names need a first name")
    if len(names) > 5:
        raise UnwritableValue(f"{field}.additional_names", "a NAD holds five party names")
    address = party.get("address") or {}
    c058, c059 = _address(address, bool(names), f"{field}.address")
    region: list[str] = [text(address.get("region"))]
    if address.get("region_name"):
        if directory == "D96A":
            raise UnwritableValue(f"{field}.address.region_name",
                                  "D.96A NAD 3229 has no sub-entity name (D.01B C819 has)")
        region += ["", "", text(address["region_name"])]
    role_code = party.get("role_code") or reverse_code(EDIFACT_PARTY_ROLES, party.get("role"))
    out = [
        seg(
            "NAD",
            role_code,
            [text(first.get("value")), text(first.get("code_list")),
             text(first.get("qualifier"))],
            c058,
            names,
            c059,
            text(address.get("city")),
            region,
            text(address.get("postal_code")),
            text(address.get("country")),
        )
    ]
    for i, ref in enumerate(party.get("references") or ()):
        out += reference_group(ref, f"{field}.references[{i}]", dated=False)
    for i, contact in enumerate(party.get("contacts") or ()):
        out += contact_group(contact, f"{field}.contacts[{i}]")
    return out


def tax_group(tax: Mapping[str, Any], field: str, mark: str) -> list[Seg]:
    """TAX (01 5283 function, 02 C241 5153 type, 04 5286 taxable amount, 05 C243 5278
    rate, 06 5305 category, 07 3446 tax id), then MOA 124 its amount."""
    refuse(tax, ("jurisdiction_qualifier", "jurisdiction"), field,
           "a TAX has no tax jurisdiction")
    out = [
        seg(
            "TAX",
            _TAX_FUNCTION,
            [text(tax.get("type_code"))],
            "",
            number(tax.get("taxable_amount"), mark),
            ["", "", "", number(tax.get("percent"), mark)],
            text(tax.get("exempt_code")),
            text(tax.get("tax_id")),
        )
    ]
    if tax.get("amount") is not None:
        out.append(moa(_TAX_AMOUNT, tax["amount"], mark))
    return out


def alc_group(alc: Mapping[str, Any], field: str, mark: str) -> list[Seg]:
    """ALC (01 5463 indicator, 02 C552 5189 code, 03 4471 settlement, 05 C214 7161 code
    with its 7160 description), then its QTY, PCD, MOA 8 and 25, RTE and TAX-MOA groups."""
    refuse(alc, ("agency_qualifier", "agency_code"), field,
           "an ALC has no X12 SAC agency code")
    indicator = alc.get("indicator_code") or _INDICATORS.get(alc.get("indicator") or "", "")
    code = text(alc.get("code"))
    description = text_parts(alc.get("description"), *SERVICE_TEXT, f"{field}.description")
    c552 = ["", ""] if description else ["", code]
    c214 = [code, "", "", *description] if description else []
    out = [seg("ALC", indicator, c552, text(alc.get("method_code")), "", c214)]
    if alc.get("quantity") is not None:
        out.append(qty(_ALC_QUANTITY, alc["quantity"], alc.get("unit"), mark))
    elif alc.get("unit"):
        raise UnwritableValue(f"{field}.unit", "a unit needs the quantity it measures")
    if alc.get("percent") is not None:
        out.append(seg("PCD", [_ALC_PERCENT, number(alc["percent"], mark)]))
    if alc.get("amount") is not None:
        out.append(moa(_ALC_AMOUNT, alc["amount"], mark))
    if alc.get("basis_amount") is not None:
        out.append(moa(_ALC_BASIS, alc["basis_amount"], mark))
    if alc.get("rate") is not None:
        out.append(seg("RTE", [_ALC_RATE, number(alc["rate"], mark)]))
    for i, tax in enumerate(alc.get("taxes") or ()):
        out += tax_group(tax, f"{field}.taxes[{i}]", mark)
    return out


def pat_group(terms: Mapping[str, Any], field: str, mark: str, pai: bool) -> list[Seg]:
    """PAT (01 4279 type, 02 C110 4277 terms code with its 4276 description, 03 C112 2475
    basis, 2009 relation, 2151 period type, 2152 periods), then DTM 12/13 (discount and
    net due dates) and the other dates, PCD 12/15, MOA 52 and the other amounts, PAI
    C534 4461 (where the message has it: ``pai``)."""
    refuse(
        terms,
        ("day_of_month", "deferred_due_date", "deferred_amount", "percent_payable", "percent"),
        field,
        "EDIFACT PAT has no place for these X12 ITD terms",
    )
    type_code = text(terms.get("type_code"))
    discount = type_code == _DISCOUNT_TERMS
    days_field, other_days = (
        ("discount_days", "net_days") if discount else ("net_days", "discount_days")
    )
    refuse(terms, (other_days,), field, f"PAT {type_code or '(no type)'} counts {days_field}")
    days = terms.get(days_field)
    if days is not None and terms.get("periods") is not None:
        raise UnwritableValue(f"{field}.periods", "a PAT holds one period")
    if days is not None:
        period = ["D", str(days)]
    elif terms.get("periods") is not None or terms.get("period_type_code"):
        period = [text(terms.get("period_type_code")), text(terms.get("periods"))]
    else:
        period = []
    description = text_parts(terms.get("description"), *TERMS_TEXT, f"{field}.description")
    out = [
        seg(
            "PAT",
            type_code,
            [text(terms.get("terms_code")), "", "", *description],
            [text(terms.get("basis_date_code")), text(terms.get("time_relation_code")),
             *period],
        )
    ]
    if terms.get("discount_due_date"):
        out.append(dtm("12", terms["discount_due_date"], f"{field}.discount_due_date"))
    if terms.get("net_due_date"):
        out.append(dtm("13", terms["net_due_date"], f"{field}.net_due_date"))
    for name, value in (terms.get("dates") or {}).items():
        where = f"{field}.dates.{name}"
        code = date_qualifier(name, where)
        if code in ("12", "13"):
            raise UnwritableValue(where, "a PAT's DTM 12 and 13 are its due dates")
        out.append(dtm(code, value, where))
    if terms.get("discount_percent") is not None:
        out.append(seg("PCD", [_DISCOUNT_PERCENT, number(terms["discount_percent"], mark)]))
    if terms.get("penalty_percent") is not None:
        out.append(seg("PCD", [_PENALTY_PERCENT, number(terms["penalty_percent"], mark)]))
    if terms.get("discount_amount") is not None:
        out.append(moa(_DISCOUNT_AMOUNT, terms["discount_amount"], mark))
    for amount in terms.get("amounts") or ():
        out.append(moa(text(amount.get("qualifier")), amount.get("amount"), mark,
                       amount.get("currency")))
    if terms.get("payment_method_code"):
        if not pai:
            raise UnwritableValue(f"{field}.payment_method_code",
                                  "this message's PAT group has no PAI")
        out.append(seg("PAI", ["", "", text(terms["payment_method_code"])]))
    return out


def pri(price: Mapping[str, Any], qualifier: str | None, mark: str, field: str) -> Seg:
    """PRI C509: 5125 qualifier (``qualifier``, else the price's own), 5118 price, 5375
    basis code, 5284 basis quantity, 6411 unit."""
    refuse(price, ("class_code", "multiplier_qualifier", "multiplier"), field,
           "a PRI has no price class or multiplier")
    return seg(
        "PRI",
        [
            qualifier or text(price.get("type_code")),
            number(price.get("unit_price"), mark),
            text(price.get("basis_code")),
            "",
            number(price.get("quantity"), mark),
            text(price.get("unit")),
        ],
    )


def tdt(carrier: Mapping[str, Any], field: str) -> Seg:
    """TDT (orders and invoices): 01 8051 stage, 03 C220 8067 mode, 05 C040 (3127 id,
    3055 agency: 182 for a SCAC, 3128 name)."""
    refuse(carrier, ("tracking_number", "routing", "service_level"), field,
           "this message's TDT has no place for it")
    agency = text(carrier.get("id_qualifier"))
    code = text(carrier.get("id_code"))
    if carrier.get("scac") and not code:
        code, agency = text(carrier["scac"]), agency or "182"
    return seg("TDT", _MAIN_CARRIAGE, "", [text(carrier.get("mode"))], "",
               [code, "", agency, text(carrier.get("name"))])


def tod(terms: Mapping[str, Any], field: str) -> Seg:
    """TOD: 02 4215 transport charges payment method, 03 C100 4053 delivery terms."""
    refuse(terms, ("location_qualifier", "location", "terms_qualifier"), field,
           "a TOD has no place for it")
    return seg("TOD", "", text(terms.get("payment_method_code")),
               [text(terms.get("terms_code"))])
