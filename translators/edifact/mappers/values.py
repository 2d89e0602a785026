"""Reading UN/EDIFACT data element values: numbers, whole numbers, free text.

Responsible for turning element text into ``Decimal``/``int``/``str``, returning ``None``
for anything that cannot be read: the validators report such problems; mappers carry on.
Numbers follow ``translators.numeric.edifact_number``, the rule the message validator
applies too (ISO 9735: comma or full stop as decimal mark whatever the UNA advises), so a
number the validator accepts is never read as ``None`` here.
It must not know segment layouts.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

from translators.numeric import edifact_number

__all__ = ["joined_text", "stripped", "text_or_none", "to_decimal", "to_int"]

# Final: the compiled build keeps the class in a C variable rather than looking its name up
# in the module's dict on every number.
_DECIMAL: Final = Decimal


def stripped(value: str) -> str:
    """``value.strip()``; most values start and end with a printable ASCII character, and
    two code point tests cost less than the call."""
    if value and 0x20 < ord(value[0]) < 0x7F and 0x20 < ord(value[-1]) < 0x7F:
        return value
    return value.strip()


def to_decimal(text: str, mark: str = ".") -> Decimal | None:
    """A numeric data element as ``Decimal``; places as sent stay.

    ``mark`` (the UNA's decimal mark) does not change the reading: ISO 9735 allows either
    mark in any interchange. It stays a parameter for the callers that pass it.
    """
    text = stripped(text)
    if not text:
        return None
    found = edifact_number(text)
    if found is None:
        return None
    try:
        return _DECIMAL(found)
    except InvalidOperation:  # pragma: no cover - edifact_number admits only valid text
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
