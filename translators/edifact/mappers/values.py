"""Reading UN/EDIFACT data element values: numbers and whole numbers (free text:
``translators.text``).

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
from translators.text import stripped

__all__ = ["to_decimal", "to_int"]

# Final: the compiled build keeps the class in a C variable rather than looking its name up
# in the module's dict on every number.
_DECIMAL: Final = Decimal


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
