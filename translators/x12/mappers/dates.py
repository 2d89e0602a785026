"""DTM segments: X12 374 date/time qualifiers mapped onto canonical date names.

Responsible for ``DATE_NAMES`` and ``read_dtm`` (DTM02 date, DTM03 time, DTM05 century,
or DTM06/DTM07 formatted date-time periods such as D8, DT, RD8), ``add_date`` (a repeated
name keeps every value) and ``add_dtm`` (a DTM with its DTM04 time code into a record's
``dates``). Unknown qualifiers keep their code as ``dtm_<code>``; unreadable dates are
never raised: ``add_dtm`` says so to its caller.
It must not decide which record a date belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from translators.ascii import is_digits
from translators.x12.mappers.elements import element, iso_date, iso_datetime, iso_time

__all__ = ["DATE_NAMES", "add_date", "add_dtm", "date_name", "read_dtm", "time_code"]

# X12 element 374 (Date/Time Qualifier). The names are shared with the EDIFACT 2005 table
# (translators.edifact.mappers.dates): the same event has the same name in both standards.
DATE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "001": "cancel_after",  # Cancel After
        "002": "requested_delivery",  # Delivery Requested
        "003": "invoice",  # Invoice
        "004": "order",  # Purchase Order
        "007": "effective",  # Effective
        "008": "order_received",  # Purchase Order Received
        "010": "requested_ship",  # Requested Ship
        "011": "shipped",  # Shipped
        "017": "estimated_delivery",  # Estimated Delivery
        "018": "available",  # Available
        "035": "delivered",  # Delivered
        "036": "expiration",  # Expiration
        "037": "ship_not_before",  # Ship Not Before
        "038": "ship_not_later",  # Ship No Later
        "050": "received",  # Received
        "063": "delivery_not_after",  # Do Not Deliver After
        "064": "delivery_not_before",  # Do Not Deliver Before
        "067": "current_schedule_delivery",  # Current Schedule Delivery
        "068": "current_schedule_ship",  # Current Schedule Ship
        "069": "promised_delivery",  # Promised for Delivery
        "092": "contract_effective",  # Contract Effective
        "093": "contract_expiration",  # Contract Expiration
        "097": "transaction_creation",  # Transaction Creation
        "118": "requested_pickup",  # Requested Pick-up
        "193": "period_start",  # Period Start
        "194": "period_end",  # Period End
        "369": "estimated_departure",  # Estimated Departure Date
        "370": "departed",  # Actual Departure Date
        "371": "estimated_arrival",  # Estimated Arrival Date
        "372": "arrived",  # Actual Arrival Date
        "405": "production",  # Production
    }
)

# A plain dict: the compiled build looks a key up in a dict directly.
_DATE_NAMES: Final[dict[str, str]] = dict(DATE_NAMES)


def add_date(dates: dict[str, str], name: str, value: str) -> str:
    """Put date ``value`` under ``name`` in ``dates``; a different value already there keeps
    its place and this one goes under ``<name>_2`` (``_3``, ...): no date is dropped. The
    same value twice is one entry. Returns the key the value is under."""
    key = name
    n = 1
    while True:
        found = dates.get(key)
        if found is None:
            dates[key] = value
            return key
        if found == value:
            return key
        n += 1
        key = f"{name}_{n}"


def date_name(qualifier: str) -> str:
    """Canonical name of a 374 qualifier; ``dtm_<code>`` when it has none."""
    name = _DATE_NAMES.get(qualifier)
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


def _century_fits(date_text: str, century: str) -> bool:
    """DTM05 (624) may stand beside a DTM02 date: two digits, and for a CCYYMMDD date the
    same century the date states."""
    if not century:
        return True
    if len(century) != 2 or not is_digits(century):
        return False
    text = date_text.strip()
    return len(text) != 8 or text[:2] == century


def read_dtm(fields: list[str]) -> tuple[str, str] | None:
    """``(name, ISO value)`` of a DTM segment's fields, or ``None`` when it has no usable
    date. The DTM04 time code is ``time_code``'s.

    A DTM is read whole or not at all: a time, century or period beside the DTM02 date
    that cannot be read or that states another date makes the segment unreadable, so that
    its caller lists every value rather than keeping the date and dropping the rest."""
    qualifier = element(fields, 1)
    if not qualifier:
        return None
    date_text = element(fields, 2)
    period = _period(element(fields, 6), element(fields, 7)) if element(fields, 7) else None
    if date_text:
        time_text = element(fields, 3)
        if time_text and iso_time(time_text) is None:
            return None
        if not _century_fits(date_text, element(fields, 5)):
            return None
        value = iso_datetime(date_text, time_text, element(fields, 5))
        if element(fields, 7) and period != value:
            return None
    else:
        value = period
    if value is None:
        return None
    return date_name(qualifier), value


def time_code(fields: list[str]) -> str | None:
    """The DTM04 time code (623: ET, UT, 01..24, ...) as sent, or ``None``."""
    code = element(fields, 4).strip()
    return code or None


def add_dtm(dates: dict[str, str], fields: list[str]) -> bool:
    """Add a DTM's date (and its DTM04 time code as ``<name>_time_code``) to ``dates``;
    false when the DTM has no readable date, for the caller to report."""
    found = read_dtm(fields)
    if found is None:
        return False
    name, value = found
    key = add_date(dates, name, value)
    code = time_code(fields)
    if code is not None:
        # Beside the key its date went to (``requested_ship_2_time_code`` for the second).
        add_date(dates, f"{key}_time_code", code)
    return True
