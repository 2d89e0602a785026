"""UN/EDIFACT date, time and period values checked against their format code (UNCL 2379).

Responsible for ``date_format_error``: whether a 2380 value fits the 2379 format named
beside it (length, digits, and a real calendar date, time, week or month), for the formats
of the 2379 list in the directories edigate ships. The table is facts from UNCL 2379; a
format is written as fields of fixed width:

    CCYY year, YY year in century, MM month, DD day, WW week of year, D day of week,
    DDD day of year, hh hour, mm minute, ss second, ZZZ time zone (3 characters, any),
    Z one sign character, and single-digit fields Q quarter, S semester or shift, P
    four-month period, A ten-day period, B half month, W week of the month, PP period.

A period (``-`` in the format) is two values one after the other, written with or
without a hyphen between them (UNCL says without; senders use both).
Durations (801-814) are a count: digits. A format edigate has no rule for is reported as
``UNKNOWN_FORMAT`` (the caller decides: the validator warns).
It must not read values into ISO text (the mappers do) or know segments.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Final

__all__ = ["UNKNOWN_FORMAT", "date_format_error", "is_known_format"]

# What ``date_format_error`` says of a format edigate has no rule for.
UNKNOWN_FORMAT: Final = "unknown format"

# (field name, width, lowest, highest); lowest < 0 for a field of any characters.
_Field = tuple[str, int, int, int]

_FIELDS: Final[dict[str, _Field]] = {
    "CCYY": ("year", 4, 1, 9999),
    "CC": ("century", 2, 0, 99),
    "YY": ("yy", 2, 0, 99),
    "MM": ("month", 2, 1, 12),
    "DD": ("day", 2, 1, 31),
    "DDD": ("yday", 3, 1, 366),
    "WW": ("week", 2, 1, 53),
    "D": ("weekday", 1, 1, 7),
    "hh": ("hour", 2, 0, 23),
    "mm": ("minute", 2, 0, 59),
    "mmmm": ("minutes", 4, 0, 9999),
    "ss": ("second", 2, 0, 59),
    "ZZZ": ("zone", 3, -1, -1),
    "Z": ("sign", 1, -1, -1),
    "T": ("designator", 1, -1, -1),
    "Q": ("quarter", 1, 1, 4),
    "S": ("semester", 1, 1, 2),
    "s": ("shift", 1, 1, 9),
    "P": ("four_months", 1, 1, 3),
    "A": ("ten_days", 1, 1, 3),
    "B": ("half_month", 1, 1, 2),
    "W": ("week_of_month", 1, 1, 5),
    "PP": ("period", 2, 0, 99),
}

# 2379 code -> its fields (space-separated names of ``_FIELDS``; "-" splits a period).
_SPECS: Final[dict[str, str]] = {
    "2": "DD MM YY",
    "3": "MM DD YY",
    "4": "DD MM CCYY",
    "5": "DD MM CCYY hh mm",
    "6": "CCYY MM B",
    "7": "CCYY MM W",
    "8": "CCYY MM DD s",
    "9": "CCYY MM DD PP",
    "10": "CCYY MM DD T hh mm",
    "101": "YY MM DD",
    "102": "CCYY MM DD",
    "103": "YY WW D",
    "104": "MM WW - MM WW",
    "105": "YY DDD",
    "106": "MM DD",
    "107": "DDD",
    "108": "WW",
    "109": "MM",
    "110": "DD",
    "201": "YY MM DD hh mm",
    "202": "YY MM DD hh mm ss",
    "203": "CCYY MM DD hh mm",
    "204": "CCYY MM DD hh mm ss",
    "205": "CCYY MM DD hh mm Z hh mm",
    "301": "YY MM DD hh mm ZZZ",
    "302": "YY MM DD hh mm ss ZZZ",
    "303": "CCYY MM DD hh mm ZZZ",
    "304": "CCYY MM DD hh mm ss ZZZ",
    "305": "MM DD hh mm",
    "306": "DD hh mm",
    "401": "hh mm",
    "402": "hh mm ss",
    "404": "hh mm ss ZZZ",
    "405": "mmmm ss",
    "501": "hh mm - hh mm",
    "502": "hh mm ss - hh mm ss",
    "503": "hh mm ss ZZZ - hh mm ss ZZZ",
    "600": "CC",
    "601": "YY",
    "602": "CCYY",
    "603": "YY S",
    "604": "CCYY S",
    "608": "CCYY Q",
    "609": "YY MM",
    "610": "CCYY MM",
    "613": "YY MM A",
    "614": "CCYY MM A",
    "615": "YY WW",
    "616": "CCYY WW",
    "701": "YY - YY",
    "702": "CCYY - CCYY",
    "703": "YY S - YY S",
    "704": "CCYY S - CCYY S",
    "705": "YY P - YY P",
    "706": "CCYY P - CCYY P",
    "707": "YY Q - YY Q",
    "708": "CCYY Q - CCYY Q",
    "709": "YY MM - YY MM",
    "710": "CCYY MM - CCYY MM",
    "711": "YY MM A - YY MM A",
    "712": "CCYY MM A - CCYY MM A",
    "713": "YY MM DD hh mm - YY MM DD hh mm",
    "715": "YY WW - YY WW",
    "716": "CCYY WW - CCYY WW",
    "717": "YY MM DD - YY MM DD",
    "718": "CCYY MM DD - CCYY MM DD",
    "719": "CCYY MM DD hh mm - CCYY MM DD hh mm",
    "720": "D hh mm - D hh mm",
}

# Durations: "a quantity of" years, months, ... (801 year .. 814 working days).
_DURATIONS: Final = frozenset(str(code) for code in range(801, 815))

_Compiled = tuple[tuple[_Field, ...], bool]  # (fields of one value or period half, period?)


def _compile(spec: str) -> _Compiled:
    half, dash, _rest = spec.partition(" - ")
    return tuple(_FIELDS[name] for name in half.split()), bool(dash)


_FORMATS: Final[dict[str, _Compiled]] = {code: _compile(spec) for code, spec in _SPECS.items()}


def is_known_format(fmt: str) -> bool:
    """Whether edigate has a rule for 2379 code ``fmt``."""
    return fmt in _FORMATS or fmt in _DURATIONS


def _field_error(value: str, fields: tuple[_Field, ...]) -> str | None:
    at = 0
    found: dict[str, int] = {}
    for name, width, low, high in fields:
        part = value[at:at + width]
        at += width
        if low < 0:
            continue
        if not (part.isascii() and part.isdigit()):
            return f"{name} {part!r} is not digits"
        number = int(part)
        if not low <= number <= high:
            return f"{name} {part} is out of range"
        found[name] = number
    month = found.get("month")
    day = found.get("day")
    if month is not None and day is not None:
        year = found.get("year")
        if year is None and "yy" in found:
            year = 2000 + found["yy"]
        try:
            # Without a year, 29 February is a date (leap year 2000 stands in).
            date(year if year is not None else 2000, month, day)
        except ValueError:
            return "no such date"
    return None


# Documents repeat the same few dates: each (value, format) is judged once.
@lru_cache(maxsize=4096)
def date_format_error(value: str, fmt: str) -> str | None:
    """Why ``value`` does not fit 2379 format ``fmt``, ``None`` when it does, or
    ``UNKNOWN_FORMAT`` when ``fmt`` is not a format edigate knows."""
    if fmt in _DURATIONS:
        return None if value.isascii() and value.isdigit() else "a duration is digits"
    compiled = _FORMATS.get(fmt)
    if compiled is None:
        return UNKNOWN_FORMAT
    fields, period = compiled
    width = sum(f[1] for f in fields)
    if not period:
        if len(value) != width:
            return f"{len(value)} characters where format {fmt} has {width}"
        return _field_error(value, fields)
    if len(value) == 2 * width + 1 and value[width] == "-":
        first, second = value[:width], value[width + 1:]
    elif len(value) == 2 * width:
        first, second = value[:width], value[width:]
    else:
        return f"{len(value)} characters where period format {fmt} has {2 * width}"
    found = _field_error(first, fields)
    if found is None:
        found = _field_error(second, fields)
    return found
