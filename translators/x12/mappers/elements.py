"""Reading X12 element values: decimals, implied decimals, integers, dates and times.

Responsible for turning element text into ``Decimal``/``int``/ISO 8601 strings, returning
``None`` for anything that cannot be read (validation reports such problems; mappers carry
on). Data types per X12.6: R is a decimal with an optional point, Nn a number with n
implied decimal places, DT a date CCYYMMDD (or YYMMDD in older versions), TM a time
HHMM[SS[d..]].
It must not know segment layouts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from translators.ascii import is_digits
from translators.numeric import x12_real_digits

__all__ = [
    "element",
    "implied_decimal",
    "iso_date",
    "iso_datetime",
    "iso_time",
    "to_decimal",
    "to_int",
]

# Documents repeat the same few dates and times; parsing each once is the hot path's win.
_CACHE_SIZE = 4096

# Two-digit years (YYMMDD dates from pre-4010 versions) below this are 20YY, others 19YY.
_CENTURY_PIVOT = 50


def element(fields: list[str], position: int) -> str:
    """Element ``position`` (1-based) of a segment's field list; ``""`` when absent."""
    return fields[position] if position < len(fields) else ""


def to_decimal(text: str) -> Decimal | None:
    """An R (real) element as ``Decimal``; leading zeros go, places as sent stay.

    The number rule is ``translators.numeric.x12_real_digits``, the validator's, so every
    value the validator accepts is read. A value it rejects only for surrounding spaces or
    a plus sign is still read (its meaning is plain and validation has flagged it);
    anything else it rejects (an exponent, a comma, ``NaN``) is ``None``.
    """
    if not text:
        return None
    if x12_real_digits(text) is None:
        text = text.strip()
        if text[:1] == "+":
            text = text[1:]
        if x12_real_digits(text) is None:
            return None
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):  # pragma: no cover - the rule admits only numbers
        return None


def implied_decimal(text: str, places: int = 2) -> Decimal | None:
    """An Nn element (``n`` implied decimal places): ``"12345"`` with 2 places is 123.45.

    A value that already carries a decimal point breaks the Nn rule (validation flags it);
    it is taken as written rather than shifted, which is what its sender meant.
    """
    value = to_decimal(text)
    if value is None or "." in text:
        return value
    return value.scaleb(-places)


def to_int(text: str) -> int | None:
    """An N0 element as ``int``; ``None`` when empty or not a whole number."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None


@lru_cache(maxsize=_CACHE_SIZE)
def iso_date(text: str, century: str = "") -> str | None:
    """A DT element (CCYYMMDD, or YYMMDD with an optional century) as ``YYYY-MM-DD``."""
    text = text.strip()
    n = len(text)
    if not is_digits(text):
        return None
    if n == 8:
        year = int(text[:4])
        rest = text[4:]
    elif n == 6:
        yy = int(text[:2])
        if is_digits(century) and len(century) == 2:
            year = int(century) * 100 + yy
        else:
            year = (2000 if yy < _CENTURY_PIVOT else 1900) + yy
        rest = text[2:]
    else:
        return None
    month = int(rest[:2])
    day = int(rest[2:])
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


@lru_cache(maxsize=_CACHE_SIZE)
def iso_time(text: str) -> str | None:
    """A TM element (HHMM, HHMMSS, HHMMSSd..) as ``HH:MM:SS[.d..]``; no zone is invented."""
    text = text.strip()
    n = len(text)
    if n < 4 or not is_digits(text):
        return None
    hour = int(text[:2])
    minute = int(text[2:4])
    second = int(text[4:6]) if n >= 6 else 0
    if n == 5 or hour > 23 or minute > 59 or second > 60:
        return None
    out = f"{text[:2]}:{text[2:4]}:{second:02d}"
    if n > 6:
        out += "." + text[6:]
    return out


@lru_cache(maxsize=_CACHE_SIZE)
def iso_datetime(date_text: str, time_text: str = "", century: str = "") -> str | None:
    """Date and optional time as ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS``."""
    day = iso_date(date_text, century)
    if day is None:
        return None
    if time_text:
        clock = iso_time(time_text)
        if clock is not None:
            return f"{day}T{clock}"
    return day
