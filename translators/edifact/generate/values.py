"""Canonical record values written as UN/EDIFACT data element text: the inverse of
``translators.edifact.mappers.values``, ``dates``, ``products`` and ``code_lists``.

Responsible for numbers (the interchange's decimal mark, places kept, no exponent), ISO
dates, date-times, periods, weeks and months as a DTM C507 with the 2379 format that reads
back to the same text (102, 203, 204, 718, 719, 610, 616), the 2005 qualifier of a
canonical date name (``dtm_<code>`` as sent, ``<name>_2`` as its name's), free text cut
into the components of a repeated text element (C108, C273, C214) at spaces, the 7143
item number type of each ``ItemIds`` field, and the one representation of a segment the
generator builds (``Seg``: tag and element components, trailing empties trimmed).
It must not know where a segment goes in a message: the message builders do. A value that
has no EDIFACT form raises ``UnwritableValue`` naming the record field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from translators.edifact.mappers.code_lists import ITEM_ID_FIELDS
from translators.edifact.mappers.dates import DATE_NAMES
from translators.generation import UnwritableValue, date_code

__all__ = [
    "DATE_QUALIFIERS",
    "ITEM_TYPES",
    "Seg",
    "UnwritableValue",
    "date_qualifier",
    "date_segments",
    "dtm",
    "dtm_value",
    "number",
    "reverse_code",
    "seg",
    "text",
    "text_parts",
]

Seg = tuple[str, list[list[str]]]
"""A segment as built: its tag and, per data element, its components."""



def seg(tag: str, *elements: str | Sequence[str] | None) -> Seg:
    """A segment from its elements, each a simple value or a composite's components.

    Trailing empty components and elements are left out (ISO 9735-1 clause 7.3: they are
    not transmitted), so the segment reads back with the positions it was given."""
    out: list[list[str]] = []
    for element in elements:
        if element is None:
            parts: list[str] = []
        elif isinstance(element, str):
            parts = [element]
        else:
            parts = list(element)
        while parts and parts[-1] == "":
            parts.pop()
        out.append(parts)
    while out and not out[-1]:
        out.pop()
    return tag, out


def text(value: Any) -> str:
    """A string element; ``""`` for ``None``."""
    return "" if value is None else str(value)


def number(value: Decimal | int | None, mark: str = ".") -> str:
    """A numeric element: the decimal as written (places kept), no exponent, with the
    interchange's decimal ``mark``; ``""`` for ``None``."""
    if value is None:
        return ""
    written = format(Decimal(value), "f")
    return written.replace(".", mark) if mark != "." else written


def text_parts(value: str | None, width: int, parts: int, field: str) -> list[str]:
    """``value`` cut at spaces into at most ``parts`` components of at most ``width``
    characters, which the mappers join again with one space (``joined_text``)."""
    if value is None:
        return []
    if len(value) <= width:
        return [value]
    out: list[str] = []
    current = ""
    for word in value.split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width:
            current = candidate
            continue
        if not current or len(word) > width:
            raise UnwritableValue(field, f"a word is longer than {width} characters")
        out.append(current)
        current = word
    out.append(current)
    if len(out) > parts:
        raise UnwritableValue(field, f"longer than {parts} components of {width} characters")
    return out


def reverse_code(table: Mapping[str, str], name: str | None) -> str:
    """The first code of ``table`` whose name is ``name``; ``""`` when none is."""
    if name:
        for code, candidate in table.items():
            if candidate == name:
                return code
    return ""


# Canonical date name -> 2005 qualifier: the inverse of the mappers' table. 97 and 137
# both read as ``transaction_creation``; 97 is written, because a header DTM 137 is also
# the document's own date field (order date, invoice date) in the line-item messages.
DATE_QUALIFIERS: Final[Mapping[str, str]] = {
    name: code for code, name in reversed(list(DATE_NAMES.items()))
} | {"transaction_creation": "97"}

# ItemIds field -> the 7143 type written for it (the first the mappers read as it).
ITEM_TYPES: Final[dict[str, str]] = {}
for _code, _name in ITEM_ID_FIELDS.items():
    ITEM_TYPES.setdefault(_name, _code)

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def date_qualifier(name: str, field: str) -> str:
    """The 2005 qualifier of a canonical date name (``translators.generation.date_code``)."""
    return date_code(name, DATE_QUALIFIERS, field, "EDIFACT 2005")


def _point(value: str) -> tuple[str, str] | None:
    """(digits, 2379) of one ISO date or date-time that reads back as written."""
    found = _DATE.fullmatch(value)
    if found is not None:
        return "".join(found.groups()), "102"
    found = _DATE_TIME.fullmatch(value)
    if found is not None:
        digits = "".join(found.groups())
        return (digits[:12], "203") if digits.endswith("00") else (digits, "204")
    return None


def dtm_value(value: str, field: str) -> tuple[str, str]:
    """(2380 value, 2379 format) of an ISO date value as the mappers write it."""
    start, slash, end = value.partition("/")
    if slash:
        a, b = _point(start), _point(end)
        if a is not None and b is not None and a[1] == b[1] == "102":
            return f"{a[0]}-{b[0]}", "718"
        if a is not None and b is not None and a[1] == b[1] == "203":
            return f"{a[0]}-{b[0]}", "719"
        raise UnwritableValue(field, f"{value!r} is not a period EDIFACT 2379 can hold")
    found = _point(value)
    if found is not None:
        return found
    week = _WEEK.fullmatch(value)
    if week is not None:
        return "".join(week.groups()), "616"
    month = _MONTH.fullmatch(value)
    if month is not None:
        return "".join(month.groups()), "610"
    raise UnwritableValue(field, f"{value!r} is not an ISO date EDIFACT 2379 can hold")


def dtm(qualifier: str, value: str, field: str) -> Seg:
    """DTM C507: 2005 qualifier, 2380 value, 2379 format."""
    written, fmt = dtm_value(value, field)
    return seg("DTM", [qualifier, written, fmt])


def date_segments(dates: Mapping[str, str], field: str) -> list[Seg]:
    """One DTM per date of a ``dates`` map, in its order."""
    return [
        dtm(date_qualifier(name, f"{field}.{name}"), value, f"{field}.{name}")
        for name, value in dates.items()
    ]
