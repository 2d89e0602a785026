"""Commercial segments shared by orders, invoices and ship notices.

Responsible for reading REF/N9 references, SAC allowances and charges, TXI taxes, ITD
payment terms, FOB terms and TD5 carrier details into plain dicts shaped like the record
models. Implied decimals per X12.6: SAC05, ITD08 and ITD10 are N2; SAC07, SAC08, TXI02
and TXI03 are R.
It must not decide whether a segment is at header or line level.
"""

from __future__ import annotations

from typing import Any

from translators.x12.mappers.elements import (
    element,
    implied_decimal,
    iso_date,
    text_or_none,
    to_decimal,
    to_int,
)

__all__ = ["read_fob", "read_itd", "read_ref", "read_sac", "read_td5", "read_txi"]

# X12 248 (Allowance or Charge Indicator).
_SAC_INDICATORS = {"A": "allowance", "C": "charge", "N": "no_charge"}


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
    """Service, promotion, allowance or charge information (SAC)."""
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
    }


def read_txi(fields: list[str]) -> dict[str, Any]:
    """Tax information (TXI)."""
    return {
        "type_code": text_or_none(element(fields, 1)),
        "amount": to_decimal(element(fields, 2)),
        "percent": to_decimal(element(fields, 3)),
        "jurisdiction_qualifier": text_or_none(element(fields, 4)),
        "jurisdiction": text_or_none(element(fields, 5)),
        "exempt_code": text_or_none(element(fields, 6)),
        "tax_id": text_or_none(element(fields, 9)),
    }


def read_itd(fields: list[str]) -> dict[str, Any]:
    """Terms of sale / deferred terms of sale (ITD)."""
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
    }


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
