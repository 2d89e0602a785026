"""Canonical record values written as X12 element text: the inverse of
``translators.x12.mappers.elements`` and ``translators.x12.mappers.dates``.

Responsible for decimals (R and implied-decimal Nn, X12.6), ISO dates and times as
CCYYMMDD/HHMM[SS[d..]], the DTM segment of a named date (the 374 qualifier its name came
from, ``dtm_<code>`` as sent, ``<name>_2`` for a repeated one, ``<name>_time_code`` as
DTM04) and product ID pairs (235).
It must not know which segment goes where in a transaction set: the set builders do.
A value that cannot be written raises ``UnwritableValue`` naming the record field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from translators.generation import UnwritableValue, date_code
from translators.x12.mappers.dates import DATE_NAMES
from translators.x12.mappers.products import PRODUCT_ID_FIELDS

__all__ = [
    "DATE_QUALIFIERS",
    "UnwritableValue",
    "date_segments",
    "dtm_date",
    "dtm_time",
    "id_pairs",
    "implied",
    "real",
    "text",
]



# Canonical date name -> 374 qualifier: the inverse of the mappers' table.
DATE_QUALIFIERS: Final[Mapping[str, str]] = {name: code for code, name in DATE_NAMES.items()}

# ItemIds field -> the 235 qualifier written for it (the first the mappers read as it).
_PRODUCT_QUALIFIERS: Final[dict[str, str]] = {}
for _code, _name in PRODUCT_ID_FIELDS.items():
    _PRODUCT_QUALIFIERS.setdefault(_name, _code)

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?")


def text(value: Any) -> str:
    """A string element; ``""`` for ``None``."""
    return "" if value is None else str(value)


def real(value: Decimal | int | None) -> str:
    """An R element: the decimal as written (places kept), no exponent; ``""`` for None."""
    if value is None:
        return ""
    return format(Decimal(value), "f")


def implied(value: Decimal | None, field: str, places: int = 2) -> str:
    """An Nn element (``places`` implied decimals): 123.45 with N2 is ``"12345"``."""
    if value is None:
        return ""
    scaled = Decimal(value).scaleb(places)
    if scaled != scaled.to_integral_value():
        raise UnwritableValue(field, f"{value} has more than {places} decimal places (N{places})")
    return str(int(scaled))


def dtm_date(value: str | None, field: str) -> str:
    """An ISO ``YYYY-MM-DD`` (a time part is refused) as DT CCYYMMDD."""
    if value is None:
        return ""
    found = _ISO_DATE.fullmatch(value)
    if found is None:
        raise UnwritableValue(field, f"{value!r} is not an ISO date YYYY-MM-DD")
    return "".join(found.groups())


def dtm_time(value: str, field: str) -> str:
    """An ISO ``HH:MM:SS[.d..]`` as TM: HHMM when the seconds are 00, else HHMMSS[d..]."""
    found = _ISO_TIME.fullmatch(value)
    if found is None:
        raise UnwritableValue(field, f"{value!r} is not an ISO time HH:MM:SS")
    hour, minute, second, fraction = found.groups()
    if fraction:
        return f"{hour}{minute}{second}{fraction}"
    return f"{hour}{minute}" if second == "00" else f"{hour}{minute}{second}"


def date_and_time(value: str, field: str) -> tuple[str, str]:
    """An ISO date or date-time as (CCYYMMDD, HHMM[SS] or "")."""
    day, sep, clock = value.partition("T")
    return dtm_date(day, field), dtm_time(clock, field) if sep else ""


def date_qualifier(name: str, field: str) -> str:
    """The 374 qualifier of a canonical date name (``translators.generation.date_code``)."""
    return date_code(name, DATE_QUALIFIERS, field, "X12 374")


def date_segments(dates: Mapping[str, str], field: str) -> list[list[str]]:
    """One DTM per date of a ``dates`` map, in its order; ``<key>_time_code`` is DTM04 of
    the date under ``<key>``. A period ``start/end`` is written as DTM06 RD8 / RDT."""
    out: list[list[str]] = []
    for name, value in dates.items():
        if name.endswith("_time_code") and name[: -len("_time_code")] in dates:
            continue
        where = f"{field}.{name}"
        qualifier = date_qualifier(name, where)
        code = dates.get(f"{name}_time_code", "")
        if "/" in value:
            start, _, end = value.partition("/")
            if "T" in start or "T" in end:
                a, b = date_and_time(start, where), date_and_time(end, where)
                period = f"{a[0]}{a[1]}-{b[0]}{b[1]}"
                out.append(["DTM", qualifier, "", "", code, "", "RDT", period])
            else:
                period = f"{dtm_date(start, where)}-{dtm_date(end, where)}"
                out.append(["DTM", qualifier, "", "", code, "", "RD8", period])
            continue
        day, clock = date_and_time(value, where)
        out.append(["DTM", qualifier, day, clock, code])
    return out


def id_pairs(item_ids: Mapping[str, Any]) -> list[str]:
    """The qualifier/ID pairs (235/234) of an ``ItemIds``: named fields first, in the
    order the mappers fill them back, then ``other`` as sent."""
    out: list[str] = []
    for name, qualifier in _PRODUCT_QUALIFIERS.items():
        value = item_ids.get(name)
        if value:
            out += [qualifier, value]
    for other in item_ids.get("other") or ():
        out += [other["qualifier"], other["value"]]
    return out
