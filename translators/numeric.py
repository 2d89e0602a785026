"""The one rule for numeric data element values, shared by the validators and the mappers.

Responsible for deciding whether element text is a number under its standard's syntax and
for giving it in Python's decimal notation, so that a value the validator accepts is never
read as ``None`` by a mapper (and the validator's error codes come from the same scan):

- UN/EDIFACT (ISO 9735 versions 1-4, the clause on the representation of numeric data
  element values): an optional minus sign, digits, and at most one decimal mark, which may
  be the comma or the full stop whatever the UNA advises; no triad separators, no plus
  sign, no exponent. A mark with no digit before it is a syntax error (0085 code 38) but
  the value is unambiguous, so it is still read.
- X12 R (X12.6 real): an optional minus sign, digits, at most one full stop.

It must not know segments, code lists or acknowledgments, and never raises.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EDIFACT_BAD_CHARACTER",
    "EDIFACT_BAD_MARK",
    "EDIFACT_NO_LEADING_DIGIT",
    "EDIFACT_OK",
    "edifact_number",
    "edifact_scan",
    "x12_real_digits",
]

# Outcomes of ``edifact_number``'s scan, as the validator maps them to 0085 codes.
EDIFACT_OK: Final = 0
EDIFACT_NO_LEADING_DIGIT: Final = 1  # 38: missing digit in front of decimal sign
EDIFACT_BAD_MARK: Final = 2  # 19: invalid decimal notation (a second mark, a triad separator)
EDIFACT_BAD_CHARACTER: Final = 3  # 37: invalid type of character


def edifact_scan(text: str) -> tuple[int, int, int]:
    """(outcome, digit count, index of the decimal mark or -1) of numeric ``text``.

    The digit count is what counts towards the element's length (ISO 9735: sign and
    decimal mark do not). A loop over code points: str.isascii and friends are method
    calls in the compiled build.
    """
    n = len(text)
    start = 1 if n and ord(text[0]) == 0x2D else 0
    mark = -1
    digits = 0
    for i in range(start, n):
        c = ord(text[i])
        if 0x30 <= c <= 0x39:
            digits += 1
        elif c == 0x2E or c == 0x2C:
            if mark >= 0:
                return EDIFACT_BAD_MARK, digits, mark
            mark = i
        else:
            return EDIFACT_BAD_CHARACTER, digits, mark
    if not digits:
        return EDIFACT_BAD_CHARACTER, digits, mark
    if mark == start:
        return EDIFACT_NO_LEADING_DIGIT, digits, mark
    return EDIFACT_OK, digits, mark


def edifact_number(text: str) -> str | None:
    """``text`` in Python's decimal notation when it is an EDIFACT number (a mark with no
    digit before it included: the value is unambiguous), else ``None``."""
    outcome, _digits, mark = edifact_scan(text)
    if outcome != EDIFACT_OK and outcome != EDIFACT_NO_LEADING_DIGIT:
        return None
    if mark >= 0 and ord(text[mark]) == 0x2C:
        return text[:mark] + "." + text[mark + 1:]
    return text


def x12_real_digits(text: str, allow_point: bool = True) -> str | None:
    """The digits of an X12 numeric value (R with ``allow_point``, Nn without): sign and
    point removed, or ``None`` when ``text`` is not one. ``Decimal(text)`` reads every
    value this accepts. (String methods, not a loop: most R values with a point take this
    path on every segment.)"""
    body = text[1:] if text[:1] == "-" else text
    if allow_point:
        whole, _point, fraction = body.partition(".")
        body = whole + fraction
    return body if body and body.isascii() and body.isdigit() else None
