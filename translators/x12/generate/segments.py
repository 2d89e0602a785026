"""Segments shared by the generated transaction sets: the inverse of the readers in
``translators.x12.mappers`` (party_loop, commercial, products).

Responsible for turning one record part (a party, contact, reference, allowance, tax,
payment terms, price, schedule, sub-line, ...) into its segment(s), element for element
as the matching reader takes them apart. Values the record derives (a party's ``scheme``,
a line's ``unit_rec20``, a price's ``per_unit_price``) are not written: the reader
derives them again.
It must not decide where a segment goes in a transaction set, and it must not drop a
value silently: what it cannot write is left for the generator's read-back check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from translators.x12.generate.values import date_segments, dtm_date, id_pairs, implied, real, text

__all__ = [
    "Fields",
    "amt",
    "contact_per",
    "ctp",
    "fob",
    "itd",
    "party_loop",
    "reference",
    "sac",
    "sch",
    "sdq",
    "sub_line_loop",
    "td5",
    "txi",
]

Fields = list[str]

_INDICATOR_CODES = {"allowance": "A", "charge": "C", "no_charge": "N"}
_CHANNEL_QUALIFIERS = (("phone", "TE"), ("email", "EM"), ("fax", "FX"))


def _pairs(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def reference(ref: Mapping[str, Any], tag: str = "REF") -> Fields:
    """REF (or N9): 01 qualifier, 02 value, 03 description."""
    return [tag, text(ref.get("qualifier")), text(ref.get("value")), text(ref.get("description"))]


def contact_per(contact: Mapping[str, Any]) -> Fields:
    """PER: 01 function, 02 name, 03-08 up to three qualified numbers, 09 reference.

    The numbers are the contact's ``communications``; a contact given only its named
    channels (phone, email, fax) has those written with their qualifiers TE, EM, FX."""
    numbers: list[tuple[str, str]] = [
        (text(c.get("qualifier")), text(c.get("value")))
        for c in contact.get("communications") or ()
    ]
    if not numbers:
        numbers = [(q, contact[n]) for n, q in _CHANNEL_QUALIFIERS if contact.get(n)]
    out: Fields = ["PER", text(contact.get("function")), text(contact.get("name"))]
    padded = (numbers + [("", "")] * 3)[:3]
    for qualifier, number in padded:
        out += [qualifier, number]
    out.append(text(contact.get("reference")))
    return out


def party_loop(party: Mapping[str, Any]) -> list[Fields]:
    """The N1 loop of a party: N1 (role, name, first id), N2, N3, N4, REF, PER."""
    ids = party.get("ids") or []
    first = ids[0] if ids else {}
    out: list[Fields] = [
        [
            "N1",
            text(party.get("role_code")),
            text(party.get("name")),
            text(first.get("qualifier")) if first else "",
            text(first.get("value")),
        ]
    ]
    for names in _pairs(party.get("additional_names") or [], 2):
        out.append(["N2", *names])
    address = party.get("address")
    if address:
        for lines in _pairs(address.get("lines") or [], 2):
            out.append(["N3", *lines])
        n4: Fields = ["N4"] + [
            text(address.get(key))
            for key in (
                "city",
                "region",
                "postal_code",
                "country",
                "location_qualifier",
                "location_id",
                "country_subdivision",
            )
        ]
        if any(n4[1:]):
            out.append(n4)
    for ref in party.get("references") or ():
        out.append(reference(ref))
    for contact in party.get("contacts") or ():
        out.append(contact_per(contact))
    return out


def sac(charge: Mapping[str, Any], field: str) -> Fields:
    """SAC: 01 indicator, 02 code, 03/04 agency, 05 amount (N2), 07 percent, 08 rate,
    09/10 unit and quantity, 12 method of handling, 15 description."""
    indicator = charge.get("indicator_code") or _INDICATOR_CODES.get(
        charge.get("indicator") or "", ""
    )
    return [
        "SAC",
        indicator,
        text(charge.get("code")),
        text(charge.get("agency_qualifier")),
        text(charge.get("agency_code")),
        implied(charge.get("amount"), f"{field}.amount"),
        "",
        real(charge.get("percent")),
        real(charge.get("rate")),
        text(charge.get("unit")),
        real(charge.get("quantity")),
        "",
        text(charge.get("method_code")),
        "",
        "",
        text(charge.get("description")),
    ]


def txi(tax: Mapping[str, Any]) -> Fields:
    """TXI: 01 type, 02 amount, 03 percent, 04/05 jurisdiction, 06 exempt code, 08 the
    taxable amount, 09 tax id."""
    return [
        "TXI",
        text(tax.get("type_code")),
        real(tax.get("amount")),
        real(tax.get("percent")),
        text(tax.get("jurisdiction_qualifier")),
        text(tax.get("jurisdiction")),
        text(tax.get("exempt_code")),
        "",
        real(tax.get("taxable_amount")),
        text(tax.get("tax_id")),
    ]


def itd(terms: Mapping[str, Any], field: str) -> Fields:
    """ITD, every element (ITD08 and ITD10 are N2)."""
    return [
        "ITD",
        text(terms.get("type_code")),
        text(terms.get("basis_date_code")),
        real(terms.get("discount_percent")),
        dtm_date(terms.get("discount_due_date"), f"{field}.discount_due_date"),
        text(terms.get("discount_days")),
        dtm_date(terms.get("net_due_date"), f"{field}.net_due_date"),
        text(terms.get("net_days")),
        implied(terms.get("discount_amount"), f"{field}.discount_amount"),
        dtm_date(terms.get("deferred_due_date"), f"{field}.deferred_due_date"),
        implied(terms.get("deferred_amount"), f"{field}.deferred_amount"),
        real(terms.get("percent_payable")),
        text(terms.get("description")),
        text(terms.get("day_of_month")),
        text(terms.get("payment_method_code")),
        real(terms.get("percent")),
    ]


def fob(terms: Mapping[str, Any]) -> Fields:
    """FOB: 01 payment method, 02/03 location, 04/05 terms of sale."""
    return ["FOB"] + [
        text(terms.get(key))
        for key in (
            "payment_method_code",
            "location_qualifier",
            "location",
            "terms_qualifier",
            "terms_code",
        )
    ]


def td5(carrier: Mapping[str, Any]) -> Fields:
    """TD5: 02/03 id (a SCAC with qualifier 2), 04 mode, 05 routing, 12 service level."""
    qualifier = text(carrier.get("id_qualifier"))
    code = text(carrier.get("id_code")) or text(carrier.get("scac"))
    if not qualifier and carrier.get("scac"):
        qualifier = "2"
    return [
        "TD5",
        text(carrier.get("routing_sequence_code")),
        qualifier,
        code,
        text(carrier.get("mode")),
        text(carrier.get("routing")),
        "",
        "",
        "",
        "",
        "",
        "",
        text(carrier.get("service_level")),
    ]


def amt(qualifier: str, amount: Any) -> Fields:
    """AMT: 01 qualifier (522), 02 amount."""
    return ["AMT", qualifier, real(amount)]


def ctp(price: Mapping[str, Any], type_code: str | None = None) -> Fields:
    """CTP: 01 class, 02 price identifier, 03 price, 04/05 quantity and unit, 06/07
    multiplier, 09 basis (639)."""
    return [
        "CTP",
        text(price.get("class_code")),
        type_code or text(price.get("type_code")),
        real(price.get("unit_price")),
        real(price.get("quantity")),
        text(price.get("unit")),
        text(price.get("multiplier_qualifier")),
        real(price.get("multiplier")),
        "",
        text(price.get("basis_code")),
    ]


def sch(schedule: Mapping[str, Any], field: str) -> Fields:
    """SCH: 01 quantity, 02 unit, then up to two dated events (05-07, 08-10)."""
    out: Fields = ["SCH", real(schedule.get("quantity")), text(schedule.get("unit")), "", ""]
    for segment in date_segments(schedule.get("dates") or {}, f"{field}.dates")[:2]:
        out += [segment[1], segment[2], segment[3]]
    return out


def sdq(destinations: Sequence[Mapping[str, Any]]) -> list[Fields]:
    """SDQ: unit, location qualifier, then up to ten location/quantity pairs; a new SDQ
    whenever the unit or qualifier changes."""
    out: list[Fields] = []
    key: tuple[str, str] | None = None
    for destination in destinations:
        this = (text(destination.get("unit")), text(destination.get("location_qualifier")))
        if key != this or len(out[-1]) >= 23:
            out.append(["SDQ", *this])
            key = this
        out[-1] += [text(destination.get("location")), real(destination.get("quantity"))]
    return out


def sub_line_loop(sub: Mapping[str, Any], field: str, order: Sequence[str]) -> list[Fields]:
    """The SLN loop: SLN, then its PID, DTM, REF, CTP and MSG in the set's ``order``."""
    parts: dict[str, list[Fields]] = {
        "PID": [["PID", "F", "", "", "", sub["description"]]] if sub.get("description") else [],
        "DTM": date_segments(sub.get("dates") or {}, f"{field}.dates"),
        "REF": [reference(r) for r in sub.get("references") or ()],
        "CTP": [ctp(p) for p in sub.get("prices") or ()],
        "MSG": [["MSG", n] for n in sub.get("notes") or ()],
    }
    out: list[Fields] = [
        [
            "SLN",
            text(sub.get("line_number")),
            text(sub.get("parent_line_number")),
            text(sub.get("relationship_code")),
            real(sub.get("quantity")),
            text(sub.get("unit")),
            real(sub.get("unit_price")),
            text(sub.get("price_basis")),
            text(sub.get("price_relationship_code")),
            *id_pairs(sub.get("item_ids") or {}),
        ]
    ]
    for tag in order:
        out += parts.pop(tag, [])
    for rest in parts.values():
        out += rest
    return out
