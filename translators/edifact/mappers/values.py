"""Reading UN/EDIFACT data element values: numbers with the interchange's decimal mark,
whole numbers, free text.

Responsible for turning element text into ``Decimal``/``int``/``str``, returning ``None``
for anything that cannot be read: the validators report such problems (0085 code 19
"Invalid decimal notation"); mappers carry on. ISO 9735-1 clause 12: a numeric value is an
optional minus sign, digits and at most one decimal mark; the decimal mark is the one the
UNA advises (position 3), the full stop when there is no UNA; triad separators are not
allowed, so a value written with the other mark is invalid rather than ambiguous and is
read as ``None``.
It must not know segment layouts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

__all__ = ["joined_text", "stripped", "text_or_none", "to_decimal", "to_int"]

# A leading or trailing decimal mark ("0085 code 38") is tolerated: the value is unambiguous.
# Final: the compiled build keeps the class in a C variable rather than looking its name up
# in the module's dict on every number.
_DECIMAL: Final = Decimal
_NUMERIC: Final = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


def stripped(value: str) -> str:
    """``value.strip()``; most values start and end with a printable ASCII character, and
    two code point tests cost less than the call."""
    if value and 0x20 < ord(value[0]) < 0x7F and 0x20 < ord(value[-1]) < 0x7F:
        return value
    return value.strip()


def to_decimal(text: str, mark: str = ".") -> Decimal | None:
    """A numeric data element as ``Decimal`` read with decimal ``mark``; places as sent stay."""
    text = stripped(text)
    if not text:
        return None
    if mark != ".":
        if "." in text:
            return None
        text = text.replace(mark, ".", 1)
    # What ``_NUMERIC`` accepts, tested a code point at a time (a regex match cost more
    # than the Decimal, and str.isascii is a method call in the compiled build): an
    # optional minus, ASCII digits around at most one full stop, some digit.
    point = False
    digits = 0
    for i in range(1 if ord(text[0]) == 0x2D else 0, len(text)):
        c = ord(text[i])
        if 0x30 <= c <= 0x39:
            digits += 1
        elif c == 0x2E and not point:
            point = True
        else:
            return None
    if not digits:
        return None
    try:
        return _DECIMAL(text)
    except InvalidOperation:  # pragma: no cover - the checks above admit only valid text
        return None


def to_int(text: str) -> int | None:
    """A whole number (n0); ``None`` when empty or not one."""
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        return None
    return int(text)


def text_or_none(value: str) -> str | None:
    """``value`` without surrounding spaces, or ``None`` when that leaves nothing."""
    if not value:
        return None
    # Most values start and end with a printable ASCII character: nothing to strip, and
    # two code point tests cost less than the call.
    if 0x20 < ord(value[0]) < 0x7F and 0x20 < ord(value[-1]) < 0x7F:
        return value
    value = value.strip()
    return value or None


def joined_text(parts: list[str]) -> str | None:
    """Repeated text components (C080.3036, C108.4440, ...) as one string, or ``None``."""
    found = [stripped(p) for p in parts if stripped(p)]
    return " ".join(found) if found else None
