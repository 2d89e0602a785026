"""Money that does not depend on the standard: named totals and prices per one unit.

Responsible for the part of money mapping both standards share once their codes are read:
which normalised amount name (``MonetaryAmount.type``, given by each standard's mappers
from X12 522 or EDIFACT 5025) fills which named field of a totals or line dict, keeping
every amount that fills none (an unnamed one, a repeat, one in another currency) in the
dict's ``amounts`` list, and the price of one unit from a price and its basis quantity.
It must not know segments or code lists of either standard.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "INVOICE_TOTAL_FIELDS",
    "LINE_AMOUNT_FIELDS",
    "ORDER_TOTAL_FIELDS",
    "monetary_amount",
    "per_unit_price",
    "settle_amounts",
]

# Normalised amount name -> field of OrderTotals.
ORDER_TOTAL_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "total_amount": "amount",
        "line_items_amount": "line_items_amount",
        "taxable_amount": "taxable_amount",
        "tax_amount": "tax_amount",
        "allowances_amount": "allowances_amount",
        "charges_amount": "charges_amount",
        "amount_due": "amount_due",
    }
)

# Normalised amount name -> field of InvoiceTotals: the order totals and the TDS ones.
INVOICE_TOTAL_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        **ORDER_TOTAL_FIELDS,
        "amount_subject_to_discount": "amount_subject_to_discount",
        "discount_amount": "terms_discount",
    }
)

# Normalised amount name -> field of a Line: the line amount. At line level a "line items
# total" (X12 AMT 1) is the amount of the one line.
LINE_AMOUNT_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {"line_amount": "amount", "line_items_amount": "amount"}
)


def monetary_amount(
    name: str, qualifier: str, amount: Decimal | None, currency: str | None = None
) -> dict[str, Any]:
    """A ``MonetaryAmount`` dict."""
    return {"type": name, "qualifier": qualifier, "amount": amount, "currency": currency}


def _rank(preferred: tuple[str, ...], qualifier: str) -> int:
    for i in range(len(preferred)):
        if preferred[i] == qualifier:
            return i
    return len(preferred)


def settle_amounts(
    target: dict[str, Any],
    amounts: list[dict[str, Any]],
    fields: Mapping[str, str],
    preferred: tuple[str, ...] = (),
    currency: str | None = None,
) -> None:
    """Put each of ``amounts`` (``MonetaryAmount`` dicts, in document order) into the field
    of ``target`` its name fills, or else append it to ``target["amounts"]``.

    A field already set in ``target`` stays; of several amounts for one field the one
    whose qualifier comes first in ``preferred`` wins, then the first sent. A named field
    is in the document's ``currency``: an amount without a value, or in another currency,
    fills none and is kept in the list; one stating a currency where the document states
    none fills its field and is also kept in the list, which holds its currency."""
    chosen: dict[str, dict[str, Any]] = {}
    for item in amounts:
        field = fields.get(item["type"])
        if field is None or item["amount"] is None:
            continue
        if item["currency"] is not None and currency is not None and item["currency"] != currency:
            continue
        if target.get(field) is not None:
            continue
        best = chosen.get(field)
        if best is None or _rank(preferred, item["qualifier"]) < _rank(
            preferred, best["qualifier"]
        ):
            chosen[field] = item
    taken = {id(item): field for field, item in chosen.items()}
    for item in amounts:
        field_taken = taken.get(id(item))
        if field_taken is not None:
            target[field_taken] = item["amount"]
        if field_taken is None or (item["currency"] is not None and currency is None):
            rest: list[dict[str, Any]] = target.setdefault("amounts", [])
            rest.append(item)


def per_unit_price(price: Decimal | None, basis: Decimal | None) -> Decimal | None:
    """The price of one unit when ``price`` is for ``basis`` units; ``None`` without a
    price or with a basis that is not positive. The quotient is exact where the decimal
    context allows (28 significant digits) and is normalised only by the division."""
    if price is None or basis is None or basis <= 0:
        return None
    if basis == 1:
        return price
    try:
        return price / basis
    except InvalidOperation:  # pragma: no cover - basis > 0 and both finite
        return None
