"""Commercial segments shared by orders, invoices and despatch advices.

Responsible for reading RFF references, ALC allowances and charges (with the PCD, MOA,
RTE and QTY of their group), TAX, PAT payment terms (with their DTM, PCD and MOA), CUX
currency, TDT carrier details, TOD delivery terms, MEA weights and FTX free text into
plain dicts shaped like the record models. Codes are kept as sent; only the indicators
whose code lists coincide with X12's are normalised the same way (5463 A/C/N as X12 248).
Segment layouts are those of UNTDID D96A (unchanged in D01B for the components read here).
It must not decide whether a segment is at header or line level.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from translators.edifact.mappers.values import (
    joined_text,
    stripped,
    text_or_none,
    to_decimal,
    to_int,
)
from translators.edifact.segment import Segment
from translators.units import edifact_unit_to_rec20

__all__ = [
    "MASS_UNITS",
    "TAX_AMOUNTS",
    "add_to_alc",
    "add_to_pat",
    "read_alc",
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

# Rec 20 units of mass: a MEA in one of them is a weight whatever its 6311/6313 codes.
MASS_UNITS: Final[frozenset[str]] = frozenset(
    {"KGM", "GRM", "MGM", "TNE", "LBR", "ONZ", "STN", "CWA"}
)

# 4279 Payment terms type qualifier 22 (Discount): the period is the discount period.
_DISCOUNT_TERMS: Final = frozenset({"22"})


def read_rff(segment: Segment) -> dict[str, Any] | None:
    """RFF C506 (1153 qualifier, 1154 reference) as a reference; ``None`` without a qualifier."""
    qualifier = stripped(segment.get(1, 1))
    if not qualifier:
        return None
    return {"qualifier": qualifier, "value": text_or_none(segment.get(1, 2)), "description": None}


def read_moa(segment: Segment, mark: str) -> tuple[str, Decimal | None]:
    """``(5025 qualifier, amount)`` of a MOA (C516)."""
    return stripped(segment.get(1, 1)), to_decimal(segment.get(1, 2), mark)


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


def add_to_alc(alc: dict[str, Any], segment: Segment, mark: str) -> None:
    """Fold one segment of the ALC group (PCD, MOA, RTE, QTY) into ``alc``."""
    tag = segment.tag
    if tag == "PCD":
        if alc.get("percent") is None:
            alc["percent"] = read_pcd(segment, mark)[1]
    elif tag == "MOA":
        # 5025: 8 allowance or charge amount, 204 allowance amount, 23 charge amount;
        # 25 (the basis) and others are not the amount of the allowance or charge.
        qualifier, amount = read_moa(segment, mark)
        if qualifier in ("8", "204", "23") and alc.get("amount") is None:
            alc["amount"] = amount
    elif tag == "RTE":
        if alc.get("rate") is None:
            alc["rate"] = to_decimal(segment.get(1, 2), mark)
    elif tag == "QTY" and alc.get("quantity") is None:
        alc["quantity"] = to_decimal(segment.get(1, 2), mark)
        alc["unit"] = text_or_none(segment.get(1, 3))


def read_tax(segment: Segment, mark: str) -> dict[str, Any]:
    """TAX: 02 C241.5153 type, 05 C243.5278 rate, 07 3446 party tax id. The amount comes
    from the MOA of its group."""
    return {
        "type_code": text_or_none(segment.get(2, 1)),
        "percent": to_decimal(segment.get(5, 4), mark),
        "tax_id": text_or_none(segment.get(7)),
    }


def read_pat(segment: Segment) -> dict[str, Any]:
    """PAT: 01 4279 type, 02 C110.4276 description, 03 C112 (2475 time reference, 2009
    relation, 2151 period type, 2152 number of periods); a period in days is the discount
    period of discount terms (4279 22) and the net period otherwise."""
    type_code = text_or_none(segment.get(1))
    terms: dict[str, Any] = {
        "type_code": type_code,
        "basis_date_code": text_or_none(segment.get(3, 1)),
        "description": joined_text(segment.element(2)[3:5]),
    }
    if segment.get(3, 3).strip() in ("D", ""):
        days = to_int(segment.get(3, 4))
        if days is not None:
            terms["discount_days" if type_code in _DISCOUNT_TERMS else "net_days"] = days
    return terms


def add_to_pat(terms: dict[str, Any], segment: Segment, mark: str, date: str | None) -> None:
    """Fold one segment of the PAT group into ``terms``; ``date`` is a DTM's ISO value."""
    tag = segment.tag
    if tag == "DTM":
        # 2005: 12 terms discount due date, 13 terms net due date.
        qualifier = stripped(segment.get(1, 1))
        if date is not None:
            day = date[:10]
            if qualifier == "12":
                terms["discount_due_date"] = day
            elif qualifier == "13":
                terms["net_due_date"] = day
    elif tag == "PCD":
        qualifier, percent = read_pcd(segment, mark)
        if qualifier == "12" or terms.get("discount_percent") is None:
            terms["discount_percent"] = percent
    elif tag == "MOA":
        qualifier, amount = read_moa(segment, mark)
        if qualifier == "52":  # Discount amount
            terms["discount_amount"] = amount


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
