"""DTM segments: UN/EDIFACT 2005 date/time qualifiers and 2379 formats.

Responsible for ``DATE_NAMES`` (2005 codes onto the canonical date names the X12 mappers
use for the same events, so a requested delivery date is ``requested_delivery`` whatever
the standard), ``add_dtm`` (a DTM into a ``dates`` dict, repeated names kept by
``translators.x12.mappers.dates.add_date``) and ``read_dtm`` (C507: 2005 qualifier, 2380
value, 2379 format). Values
become ISO 8601 text without an invented zone: dates ``YYYY-MM-DD``, date-times
``YYYY-MM-DDTHH:MM[:SS]`` as the X12 mappers write them (seconds always), ranges
``start/end``, weeks ``YYYY-Www``, months ``YYYY-MM``. Without a 2379 the format is
inferred from the length (8 digits 102, 12 digits 203, 14 digits 204, 6 digits 101).
Unknown qualifiers keep their code as ``dtm_<code>``; unreadable dates are dropped.
It must not decide which record a date belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from translators.edifact.segment import Segment
from translators.x12.mappers.dates import add_date
from translators.x12.mappers.elements import iso_date, iso_datetime

__all__ = ["DATE_NAMES", "add_date", "add_dtm", "date_name", "iso_value", "read_dtm"]

# UN/EDIFACT 2005 (Date or time or period function code qualifier). Most of its low codes
# were taken over from X12 374 with the same meaning; 194 and 206 were not (X12 194 is a
# period end), hence an explicit table. The names are the X12 table's.
DATE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "2": "requested_delivery",  # Delivery date/time, requested
        "3": "invoice",  # Invoice date/time
        "4": "order",  # Order date/time
        "7": "effective",  # Effective date/time
        "8": "order_received",  # Order received date/time
        "10": "requested_ship",  # Shipment date/time, requested
        "11": "shipped",  # Despatch date and/or time
        "12": "terms_discount_due",  # Terms discount due date/time
        "13": "terms_net_due",  # Terms net due date
        "17": "estimated_delivery",  # Delivery date/time, estimated
        "35": "delivered",  # Delivery date/time, actual
        "36": "expiration",  # Expiry date
        "37": "ship_not_before",  # Ship not before date/time
        "38": "ship_not_later",  # Ship not later than date/time
        "50": "received",  # Goods receipt date/time
        "61": "cancel_after",  # Cancel if not delivered by this date
        "63": "delivery_not_after",  # Delivery date/time, latest
        "64": "delivery_not_before",  # Delivery date/time, earliest
        "69": "promised_delivery",  # Delivery date/time, promised for
        "94": "production",  # Production/manufacture date
        "97": "transaction_creation",  # Transaction creation date
        "131": "tax_point",  # Tax point date
        "132": "estimated_arrival",  # Arrival date/time, estimated
        "133": "estimated_departure",  # Departure date/time, estimated
        "137": "transaction_creation",  # Document/message date/time
        "171": "reference",  # Reference date/time
        "178": "arrived",  # Arrival date/time, actual
        "186": "departed",  # Departure date/time, actual
        "194": "period_start",  # Start date/time
        "206": "period_end",  # End date/time
    }
)

# Formats inferred from the value's length when 2379 is absent.
_BY_LENGTH: Final = {8: "102", 12: "203", 14: "204", 6: "101"}


# A plain dict: the compiled build looks a key up in a dict directly, in a Mapping through
# a method call.
_DATE_NAMES: Final[dict[str, str]] = dict(DATE_NAMES)


def date_name(qualifier: str) -> str:
    """Canonical name of a 2005 qualifier; ``dtm_<code>`` when it has none."""
    name = _DATE_NAMES.get(qualifier)
    return name if name is not None else f"dtm_{qualifier}"


def _range(text: str, width: int) -> str | None:
    start, dash, end = text.partition("-")
    if not dash:
        return None
    a = iso_datetime(start[:8], start[8:]) if len(start) == width else None
    b = iso_datetime(end[:8], end[8:]) if len(end) == width else None
    return f"{a}/{b}" if a and b else None


def iso_value(text: str, fmt: str) -> str | None:
    """A 2380 value in 2379 format ``fmt`` (inferred when empty) as ISO 8601 text."""
    text = text.strip()
    if not text:
        return None
    if not fmt:
        fmt = _BY_LENGTH.get(len(text), "")
    if fmt == "102":
        return iso_date(text) if len(text) == 8 else None
    if fmt == "101":
        return iso_date(text) if len(text) == 6 else None
    if fmt == "203" or fmt == "204":
        if len(text) != (12 if fmt == "203" else 14):
            return None
        return iso_datetime(text[:8], text[8:])
    if fmt == "201":  # YYMMDDHHMM
        return iso_datetime(text[:6], text[6:]) if len(text) == 10 else None
    if fmt == "718":  # CCYYMMDD-CCYYMMDD
        return _range(text, 8)
    if fmt == "719":  # CCYYMMDDHHMM-CCYYMMDDHHMM
        return _range(text, 12)
    if fmt == "610":  # CCYYMM
        if len(text) == 6 and iso_date(text + "01") is not None:
            return f"{text[:4]}-{text[4:]}"
        return None
    if fmt == "616":  # CCYYWW
        if len(text) == 6 and text.isdigit() and 1 <= int(text[4:]) <= 53:
            return f"{text[:4]}-W{text[4:]}"
        return None
    return None


def read_dtm(segment: Segment) -> tuple[str, str] | None:
    """``(2005 code, ISO value)`` of a DTM segment, or ``None`` when it has no usable date."""
    qualifier = segment.get(1, 1).strip()
    if not qualifier:
        return None
    value = iso_value(segment.get(1, 2), segment.get(1, 3).strip())
    if value is None:
        return None
    return qualifier, value


def add_dtm(parent: dict[str, Any], segment: Segment) -> bool:
    """Add a DTM's date to the ``dates`` of ``parent`` (created when absent) under its
    name; false when the DTM has no readable date, for the caller to report."""
    found = read_dtm(segment)
    if found is None:
        return False
    dates: dict[str, str] = parent.setdefault("dates", {})
    add_date(dates, date_name(found[0]), found[1])
    return True
