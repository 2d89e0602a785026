"""DTM segments: X12 374 date/time qualifiers mapped onto canonical date names.

Responsible for ``DATE_NAMES`` and ``read_dtm`` (DTM02 date, DTM03 time, DTM05 century,
or DTM06/DTM07 formatted date-time periods such as D8, DT, RD8). Unknown qualifiers keep
their code as ``dtm_<code>``; unreadable dates are dropped, never raised.
It must not decide which record a date belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from translators.x12.mappers.elements import element, iso_date, iso_datetime

__all__ = ["DATE_NAMES", "date_name", "read_dtm"]

# X12 element 374 (Date/Time Qualifier).
DATE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "001": "cancel_after",
        "002": "delivery_requested",
        "003": "invoice",
        "004": "purchase_order",
        "007": "effective",
        "008": "order_received",
        "010": "ship_requested",
        "011": "shipped",
        "017": "delivery_estimated",
        "018": "available",
        "035": "delivered",
        "036": "expiration",
        "037": "ship_not_before",
        "038": "ship_no_later",
        "050": "received",
        "063": "do_not_deliver_after",
        "064": "do_not_deliver_before",
        "067": "delivery_current_schedule",
        "068": "ship_current_schedule",
        "069": "promised_for_delivery",
        "092": "contract_effective",
        "093": "contract_expiration",
        "097": "transaction_creation",
        "193": "period_start",
        "194": "period_end",
        "371": "arrival_estimated",
        "405": "production",
    }
)


def date_name(qualifier: str) -> str:
    """Canonical name of a 374 qualifier; ``dtm_<code>`` when it has none."""
    name = DATE_NAMES.get(qualifier)
    return name if name is not None else f"dtm_{qualifier}"


def _period(fmt: str, text: str) -> str | None:
    # X12 1250 date/time period format qualifiers.
    if fmt == "D8" or fmt == "D6":
        return iso_date(text)
    if fmt == "DT":
        return iso_datetime(text[:8], text[8:])
    if fmt == "RD8" or fmt == "RD6":
        start, _, end = text.partition("-")
        a, b = iso_date(start), iso_date(end)
        return f"{a}/{b}" if a and b else None
    if fmt == "RDT":
        start, _, end = text.partition("-")
        a, b = iso_datetime(start[:8], start[8:]), iso_datetime(end[:8], end[8:])
        return f"{a}/{b}" if a and b else None
    return None


def read_dtm(fields: list[str]) -> tuple[str, str] | None:
    """``(name, ISO value)`` of a DTM segment's fields, or ``None`` when it has no usable date."""
    qualifier = element(fields, 1)
    if not qualifier:
        return None
    date_text = element(fields, 2)
    if date_text:
        value = iso_datetime(date_text, element(fields, 3), element(fields, 5))
    else:
        value = _period(element(fields, 6), element(fields, 7))
    if value is None:
        return None
    return date_name(qualifier), value
