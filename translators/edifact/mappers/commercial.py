"""Commercial segments shared by orders, invoices and despatch advices.

Responsible for reading RFF references, ALC allowances and charges (with the PCD, MOA,
RTE and QTY of their group), TAX (with the MOA of its group: tax and taxable amounts),
MOA amounts, PAT payment terms (with their DTM, PCD, MOA and PAI), CUX currency, TDT
carrier details, TOD delivery terms, MEA weights and FTX free text into plain dicts shaped
like the record models. Codes are kept as sent; the indicators whose code lists coincide
with X12's are normalised the same way (5463 A/C/N as X12 248), and 5025 amount types and
5305 tax categories get the normalised names the X12 mappers give 522 and 441 codes.
Segment layouts are those of UNTDID D96A (unchanged in D01B for the components read here).
It must not decide whether a segment is at header or line level.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from translators.edifact.mappers.dates import date_name
from translators.edifact.mappers.values import to_decimal, to_int
from translators.edifact.segment import Segment
from translators.money import monetary_amount
from translators.text import joined_text, stripped, text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = [
    "AMOUNT_NAMES",
    "MASS_UNITS",
    "TAX_AMOUNTS",
    "TAX_CATEGORIES",
    "add_to_alc",
    "add_to_pat",
    "add_to_tax",
    "read_alc",
    "read_amount",
    "read_cux",
    "read_ftx",
    "read_moa",
    "read_pat",
    "read_pcd",
    "read_rff",
    "read_tax",
    "read_tdt",
    "read_tod",
    "read_weight",
]

# 5463 Allowance or charge code qualifier (the X12 248 codes and meanings).
_ALC_INDICATORS: Final = {"A": "allowance", "C": "charge", "N": "no_charge"}

# 5025 qualifiers of a tax amount inside a TAX group: 124 Tax amount, 150 Value added tax,
# 176 Message total duty/tax/fee amount.
TAX_AMOUNTS: Final[frozenset[str]] = frozenset({"124", "150", "176"})

# 5025 Monetary amount type code qualifier -> normalised amount name (the X12 522 names).
AMOUNT_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "8": "allowance_or_charge_amount",  # Allowance or charge amount
        "9": "amount_due",  # Amount due/amount payable
        "23": "charge_amount",  # Charge amount
        "25": "basis_amount",  # Charge/allowance basis
        "38": "line_amount",  # Invoice item amount
        "39": "total_amount",  # Invoice total amount
        "52": "discount_amount",  # Discount amount
        "66": "line_amount",  # Goods item total
        "77": "total_amount",  # Invoice amount
        "79": "line_items_amount",  # Total line items amount
        "86": "total_amount",  # Message total monetary amount
        "113": "prepaid_amount",  # Prepaid amount
        "124": "tax_amount",  # Tax amount
        "125": "taxable_amount",  # Taxable amount
        "128": "total_amount",  # Total amount
        "129": "amount_subject_to_discount",  # Total amount subject to payment discount
        "131": "allowances_charges_amount",  # Total charges/allowances
        "150": "tax_amount",  # Value added tax
        "165": "adjustment_amount",  # Adjustment amount
        "176": "tax_amount",  # Message total duty/tax/fee amount
        "203": "line_amount",  # Line item amount
        "204": "allowance_amount",  # Allowance amount
        "259": "charges_amount",  # Total charges
        "260": "allowances_amount",  # Total allowances
    }
)

# 5305 Duty or tax or fee category code -> normalised tax category (the X12 441 names).
TAX_CATEGORIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A": "mixed",  # Mixed tax rate
        "AA": "lower_rate",  # Lower rate
        "AB": "exempt",  # Exempt for resale
        "AE": "reverse_charge",  # VAT Reverse Charge
        "B": "transferred",  # Transferred (VAT)
        "C": "duty_paid_by_supplier",  # Duty paid by supplier
        "E": "exempt",  # Exempt from tax
        "G": "exempt",  # Free export item, tax not charged
        "H": "higher_rate",  # Higher rate
        "O": "outside_scope",  # Services outside scope of tax
        "S": "standard",  # Standard rate
        "Z": "zero_rated",  # Zero rated goods
    }
)

# Rec 20 units of mass: a MEA in one of them is a weight whatever its 6311/6313 codes.
MASS_UNITS: Final[frozenset[str]] = frozenset(
    {"KGM", "GRM", "MGM", "TNE", "LBR", "ONZ", "STN", "CWA"}
)

# 4279 Payment terms type qualifier 22 (Discount): the period is the discount period.
_DISCOUNT_TERMS: Final = frozenset({"22"})

# 5025 qualifiers of the amount of an allowance or charge: 8 allowance or charge amount,
# 204 allowance amount, 23 charge amount.
_ALC_AMOUNTS: Final = frozenset({"8", "204", "23"})


def read_rff(segment: Segment) -> dict[str, Any] | None:
    """RFF C506 (1153 qualifier, 1154 reference) as a reference; ``None`` without a qualifier."""
    qualifier = stripped(segment.get(1, 1))
    if not qualifier:
        return None
    return {"qualifier": qualifier, "value": text_or_none(segment.get(1, 2)), "description": None}


def read_moa(segment: Segment, mark: str) -> tuple[str, Decimal | None]:
    """``(5025 qualifier, amount)`` of a MOA (C516)."""
    return stripped(segment.get(1, 1)), to_decimal(segment.get(1, 2), mark)


def read_amount(segment: Segment, mark: str) -> dict[str, Any] | None:
    """A MOA as a ``MonetaryAmount`` (C516: 5025 qualifier, 5004 amount, 6345 currency);
    ``None`` without a qualifier or a readable amount (the caller lists the segment)."""
    qualifier = stripped(segment.get(1, 1))
    amount = to_decimal(segment.get(1, 2), mark)
    if not qualifier or amount is None:
        return None
    return monetary_amount(
        AMOUNT_NAMES.get(qualifier, "other"), qualifier, amount, text_or_none(segment.get(1, 3))
    )


def read_pcd(segment: Segment, mark: str) -> tuple[str, Decimal | None]:
    """``(5245 qualifier, percentage)`` of a PCD (C501)."""
    return stripped(segment.get(1, 1)), to_decimal(segment.get(1, 2), mark)


def read_alc(segment: Segment) -> dict[str, Any]:
    """ALC: 01 5463 qualifier, 02 C552 (1230 number, 5189 code), 03 4471 settlement,
    05 C214 (7161 special service code, 7160 descriptions). Amounts come from its group."""
    indicator = segment.get(1).strip()
    return {
        "indicator": _ALC_INDICATORS.get(indicator),
        "indicator_code": indicator or None,
        "code": text_or_none(segment.get(5, 1)) or text_or_none(segment.get(2, 2)),
        "description": joined_text(segment.element(5)[3:5]),
        "method_code": text_or_none(segment.get(3)),
    }


def add_to_alc(alc: dict[str, Any], segment: Segment, mark: str) -> bool:
    """Fold one segment of the ALC group (PCD, MOA, RTE, QTY) into ``alc``; false when it
    has no place there (a repeat, a MOA of another kind, an unreadable amount): the caller
    lists it."""
    tag = segment.tag
    if tag == "PCD":
        percent = read_pcd(segment, mark)[1]
        if alc.get("percent") is not None or percent is None:
            return False
        alc["percent"] = percent
    elif tag == "MOA":
        # The amount of the allowance or charge, or 25 the amount a percentage applies to.
        qualifier, amount = read_moa(segment, mark)
        if amount is None:
            return False
        if qualifier in _ALC_AMOUNTS and alc.get("amount") is None:
            alc["amount"] = amount
        elif qualifier == "25" and alc.get("basis_amount") is None:
            alc["basis_amount"] = amount
        else:
            return False
    elif tag == "RTE":
        if alc.get("rate") is None:
            alc["rate"] = to_decimal(segment.get(1, 2), mark)
    elif tag == "QTY":
        quantity = to_decimal(segment.get(1, 2), mark)
        if alc.get("quantity") is not None or quantity is None:
            return False
        alc["quantity"] = quantity
        alc["unit"] = text_or_none(segment.get(1, 3))
    return True


def read_tax(segment: Segment, mark: str) -> dict[str, Any]:
    """TAX: 02 C241.5153 type, 04 5286 assessment basis (the taxable amount), 05 C243.5278
    rate, 06 5305 category (as ``exempt_code``, the field of X12 TXI06), 07 3446 party tax
    id. The amounts come from the MOA of its group."""
    category = text_or_none(segment.get(6))
    return {
        "type_code": text_or_none(segment.get(2, 1)),
        "percent": to_decimal(segment.get(5, 4), mark),
        "exempt_code": category,
        "tax_id": text_or_none(segment.get(7)),
        "category": TAX_CATEGORIES.get(category, "other") if category is not None else None,
        "taxable_amount": to_decimal(segment.get(4), mark),
    }


def add_to_tax(tax: dict[str, Any], segment: Segment, mark: str) -> bool:
    """Fold a MOA of the TAX group into ``tax``: a tax amount (124, 150, 176) or the
    taxable amount (125); false for any other segment, a repeat or an unreadable amount."""
    if segment.tag != "MOA":
        return False
    qualifier, amount = read_moa(segment, mark)
    if amount is None:
        return False
    if qualifier in TAX_AMOUNTS and tax.get("amount") is None:
        tax["amount"] = amount
    elif qualifier == "125" and tax.get("taxable_amount") is None:
        tax["taxable_amount"] = amount
    else:
        return False
    return True


def read_pat(segment: Segment) -> dict[str, Any]:
    """PAT: 01 4279 type, 02 C110 (4277 terms code, 1131, 3055, 4276 description x2), 03
    C112 (2475 time reference, 2009 relation, 2151 period type, 2152 number of periods); a
    period in days is the discount period of discount terms (4279 22) and the net period
    otherwise; a period in other units is kept as ``periods`` with its 2151 code."""
    type_code = text_or_none(segment.get(1))
    terms: dict[str, Any] = {
        "type_code": type_code,
        "basis_date_code": text_or_none(segment.get(3, 1)),
        "description": joined_text(segment.element(2)[3:5]),
        "terms_code": text_or_none(segment.get(2, 1)),
        "time_relation_code": text_or_none(segment.get(3, 2)),
    }
    period_type = stripped(segment.get(3, 3))
    count = to_int(segment.get(3, 4))
    if period_type in ("D", ""):
        if count is not None:
            terms["discount_days" if type_code in _DISCOUNT_TERMS else "net_days"] = count
    else:
        terms["period_type_code"] = period_type
        terms["periods"] = count
    return terms


def add_to_pat(terms: dict[str, Any], segment: Segment, mark: str, date: str | None) -> bool:
    """Fold one segment of the PAT group into ``terms``; ``date`` is a DTM's ISO value.
    False when the segment has no place there (an unreadable date or amount, a repeated
    date, a due date's time): the caller lists it."""
    tag = segment.tag
    if tag == "DTM":
        # 2005: 12 terms discount due date, 13 terms net due date; others by their name.
        # A due date is a day: one sent with a time is listed for its time.
        qualifier = stripped(segment.get(1, 1))
        if date is None:
            return False
        if qualifier == "12" and terms.get("discount_due_date") is None:
            terms["discount_due_date"] = date[:10]
            return "T" not in date
        if qualifier == "13" and terms.get("net_due_date") is None:
            terms["net_due_date"] = date[:10]
            return "T" not in date
        dates: dict[str, str] = terms.setdefault("dates", {})
        name = date_name(qualifier)
        if name in dates:
            return False
        dates[name] = date
    elif tag == "PCD":
        # 5245: 15 penalty surcharge percentage; 12 discount, and any other percentage of
        # the terms, is the discount percentage. A repeat is listed.
        qualifier, percent = read_pcd(segment, mark)
        field = "penalty_percent" if qualifier == "15" else "discount_percent"
        if percent is None or terms.get(field) is not None:
            return False
        terms[field] = percent
    elif tag == "MOA":
        found = read_amount(segment, mark)
        if found is None:
            return False
        if found["qualifier"] == "52" and terms.get("discount_amount") is None:
            terms["discount_amount"] = found["amount"]
        else:
            amounts: list[dict[str, Any]] = terms.setdefault("amounts", [])
            amounts.append(found)
    elif tag == "PAI":
        # C534: 4439 conditions, 4431 guarantee, 4461 payment means.
        terms["payment_method_code"] = text_or_none(segment.get(1, 3))
    return True


def read_cux(segment: Segment) -> str | None:
    """The currency of a CUX: C504.6345 of its first currency details."""
    return text_or_none(segment.get(1, 2)) or text_or_none(segment.get(2, 2))


def read_tdt(segment: Segment) -> dict[str, Any]:
    """TDT: 03 C220.8067 mode, 05 C040 (3127 carrier id, 1131, 3055 agency, 3128 name);
    the id is a SCAC when its agency is 182 (US, Standard Carrier Alpha Code)."""
    carrier_id = text_or_none(segment.get(5, 1))
    agency = text_or_none(segment.get(5, 3))
    return {
        "scac": carrier_id if agency == "182" else None,
        "id_qualifier": agency,
        "id_code": carrier_id,
        "mode": text_or_none(segment.get(3, 1)),
        "name": text_or_none(segment.get(5, 4)),
    }


def read_tod(segment: Segment) -> dict[str, Any]:
    """TOD: 02 4215 transport charges payment method, 03 C100.4053 delivery terms code."""
    return {
        "payment_method_code": text_or_none(segment.get(2)),
        "terms_code": text_or_none(segment.get(3, 1)),
    }


def read_weight(segment: Segment, mark: str) -> dict[str, Any] | None:
    """A MEA holding a mass (C174 6411 a Rec 20 mass unit) as a weight, else ``None``;
    its qualifier is 6313 (G gross weight, N net weight, ...)."""
    unit = segment.get(3, 1).strip()
    if unit not in MASS_UNITS:
        return None
    value = to_decimal(segment.get(3, 2), mark)
    if value is None:
        return None
    return {
        "value": value,
        "unit": unit,
        "unit_rec20": edifact_unit_to_rec20(unit),
        "qualifier": text_or_none(segment.get(2, 1)),
    }


def read_ftx(segment: Segment) -> str | None:
    """The free text of an FTX (C108.4440, joined); ``None`` for coded text only."""
    return joined_text(segment.element(4))
