"""Commercial segments shared by orders, invoices and ship notices.

Responsible for reading REF/N9 references, SAC allowances and charges, TXI taxes, ITD
payment terms, AMT amounts, FOB terms and TD5 carrier details into plain dicts shaped like
the record models, and for the code tables that name their codes the way the EDIFACT
mappers name theirs (522 amount qualifiers, 441 tax exempt codes). Implied decimals per
X12.6: SAC05, ITD08 and ITD10 are N2; SAC07, SAC08, TXI02, TXI03, TXI08, ITD03, ITD11,
ITD15 and AMT02 are R.
It must not decide whether a segment is at header or line level.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from translators.money import monetary_amount
from translators.text import text_or_none
from translators.x12.mappers.elements import element, implied_decimal, iso_date, to_decimal, to_int

__all__ = [
    "AMOUNT_NAMES",
    "TAX_CATEGORIES",
    "read_amt",
    "read_fob",
    "read_itd",
    "read_ref",
    "read_sac",
    "read_td5",
    "read_txi",
]

# X12 248 (Allowance or Charge Indicator).
_SAC_INDICATORS = {"A": "allowance", "C": "charge", "N": "no_charge"}

# X12 522 (Amount Qualifier Code) -> the normalised amount names shared with EDIFACT 5025.
AMOUNT_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "line_items_amount",  # Line Item Total
        "5": "total_amount",  # Total Invoice Amount
        "TT": "total_amount",  # Total Transaction Amount
        "6": "amount_subject_to_discount",  # Amount Subject to Total Monetary Discount
        "8": "discount_amount",  # Total Monetary Discount Amount
        "NP": "amount_due",  # Net to Pay Total
        "TP": "amount_paid",  # Total Payment Amount
    }
)

# X12 441 (Tax Exempt Code) -> the normalised tax category shared with EDIFACT 5305.
TAX_CATEGORIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "0": "exempt",  # Exempt (For Export)
        "1": "exempt",  # Yes (Tax Exempt)
        "2": "taxable",  # No (Not Tax Exempt)
        "3": "exempt",  # Exempt (For Resale)
        "4": "taxable",  # Not Exempt/For Resale
        "5": "exempt",  # Exempt (Not For Resale)
        "6": "taxable",  # Not Exempt, Not For Resale
        "8": "exempt",  # Exempt (Sale to U.S. Government)
        "9": "exempt",  # Exempt (Per State Law)
    }
)


def read_ref(fields: list[str]) -> dict[str, Any] | None:
    """A REF or N9 segment as a reference; ``None`` without a qualifier."""
    qualifier = element(fields, 1)
    if not qualifier:
        return None
    return {
        "qualifier": qualifier,
        "value": text_or_none(element(fields, 2)),
        "description": text_or_none(element(fields, 3)),
    }


def read_sac(fields: list[str]) -> dict[str, Any]:
    """Service, promotion, allowance or charge information (SAC): 01 indicator, 02 code
    (1300), 03/04 agency and its code, 05 amount, 07 percent, 08 rate, 09/10 unit and
    quantity, 12 method of handling, 15 description."""
    code = element(fields, 1)
    return {
        "indicator": _SAC_INDICATORS.get(code),
        "indicator_code": text_or_none(code),
        "code": text_or_none(element(fields, 2)),
        "description": text_or_none(element(fields, 15)),
        "amount": implied_decimal(element(fields, 5)),
        "percent": to_decimal(element(fields, 7)),
        "rate": to_decimal(element(fields, 8)),
        "unit": text_or_none(element(fields, 9)),
        "quantity": to_decimal(element(fields, 10)),
        "method_code": text_or_none(element(fields, 12)),
        "agency_qualifier": text_or_none(element(fields, 3)),
        "agency_code": text_or_none(element(fields, 4)),
    }


def read_txi(fields: list[str]) -> dict[str, Any]:
    """Tax information (TXI): 01 type, 02 amount, 03 percent, 04/05 jurisdiction, 06 exempt
    code, 08 dollar basis for the percent (the taxable amount), 09 tax id."""
    exempt = text_or_none(element(fields, 6))
    return {
        "type_code": text_or_none(element(fields, 1)),
        "amount": to_decimal(element(fields, 2)),
        "percent": to_decimal(element(fields, 3)),
        "jurisdiction_qualifier": text_or_none(element(fields, 4)),
        "jurisdiction": text_or_none(element(fields, 5)),
        "exempt_code": exempt,
        "tax_id": text_or_none(element(fields, 9)),
        "category": TAX_CATEGORIES.get(exempt, "other") if exempt is not None else None,
        "taxable_amount": to_decimal(element(fields, 8)),
    }


def read_itd(fields: list[str]) -> dict[str, Any]:
    """Terms of sale / deferred terms of sale (ITD), every element: 01 type, 02 basis date,
    03 discount percent, 04 discount due date, 05 discount days, 06 net due date, 07 net
    days, 08 discount amount, 09 deferred due date, 10 deferred amount, 11 percent of the
    invoice payable, 12 description, 13 day of month, 14 payment method, 15 percent."""
    return {
        "type_code": text_or_none(element(fields, 1)),
        "basis_date_code": text_or_none(element(fields, 2)),
        "discount_percent": to_decimal(element(fields, 3)),
        "discount_due_date": iso_date(element(fields, 4)),
        "discount_days": to_int(element(fields, 5)),
        "net_due_date": iso_date(element(fields, 6)),
        "net_days": to_int(element(fields, 7)),
        "discount_amount": implied_decimal(element(fields, 8)),
        "description": text_or_none(element(fields, 12)),
        "day_of_month": to_int(element(fields, 13)),
        "deferred_due_date": iso_date(element(fields, 9)),
        "deferred_amount": implied_decimal(element(fields, 10)),
        "percent_payable": to_decimal(element(fields, 11)),
        "payment_method_code": text_or_none(element(fields, 14)),
        "percent": to_decimal(element(fields, 15)),
    }


def read_amt(fields: list[str]) -> dict[str, Any] | None:
    """Monetary amount (AMT): 01 qualifier (522), 02 amount; ``None`` without a qualifier."""
    qualifier = element(fields, 1)
    if not qualifier:
        return None
    return monetary_amount(
        AMOUNT_NAMES.get(qualifier, "other"), qualifier, to_decimal(element(fields, 2))
    )


def read_fob(fields: list[str]) -> dict[str, Any]:
    """F.O.B. related instructions (FOB)."""
    return {
        "payment_method_code": text_or_none(element(fields, 1)),
        "location_qualifier": text_or_none(element(fields, 2)),
        "location": text_or_none(element(fields, 3)),
        "terms_qualifier": text_or_none(element(fields, 4)),
        "terms_code": text_or_none(element(fields, 5)),
    }


def read_td5(fields: list[str]) -> dict[str, Any]:
    """Carrier details (routing sequence/transit time, TD5); TD503 is a SCAC when TD502 is 2."""
    qualifier = element(fields, 2)
    code = text_or_none(element(fields, 3))
    return {
        "scac": code if qualifier in ("2", "") else None,
        "id_qualifier": text_or_none(qualifier),
        "id_code": code,
        "mode": text_or_none(element(fields, 4)),
        "routing": text_or_none(element(fields, 5)),
        "service_level": text_or_none(element(fields, 12)),
    }
