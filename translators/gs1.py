"""GS1 identification keys: the mod-10 check digit of GTINs and SSCCs.

Responsible for ``gtin_problem`` and ``sscc_problem``: what is wrong with a value sent as
a GTIN (GTIN-8, UPC-A/GTIN-12, EAN-13/GTIN-13, GTIN-14) or an SSCC-18, or ``None``. The
check digit is the GS1 General Specifications' mod-10: from the right, the digits before
the check digit are weighted 3, 1, 3, ...; the check digit brings the sum to a multiple
of ten. The validators report a problem as a warning: the value is kept as sent.
It must not know segments or qualifiers.
"""

from __future__ import annotations

from typing import Final

__all__ = ["check_digit_ok", "gtin_problem", "sscc_problem"]

_GTIN_LENGTHS: Final = (8, 12, 13, 14)


def check_digit_ok(digits: str) -> bool:
    """Whether the last of ASCII ``digits`` is the GS1 mod-10 check digit of the others."""
    total = 0
    weight = 3
    for i in range(len(digits) - 2, -1, -1):
        total += (ord(digits[i]) - 0x30) * weight
        weight = 4 - weight
    return (10 - total % 10) % 10 == ord(digits[-1]) - 0x30


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def gtin_problem(text: str) -> str | None:
    """What is wrong with GTIN ``text`` (8, 12, 13 or 14 digits, check digit), or None."""
    if not _digits(text) or len(text) not in _GTIN_LENGTHS:
        return f"GTIN {text!r} is not 8, 12, 13 or 14 digits"
    if not check_digit_ok(text):
        return f"GTIN {text} has a wrong check digit"
    return None


def sscc_problem(text: str) -> str | None:
    """What is wrong with SSCC ``text`` (18 digits, or 20 with application identifier
    00 in front, as a GS1-128 label reads), or None."""
    if len(text) == 20 and text[:2] == "00":
        text = text[2:]
    if not _digits(text) or len(text) != 18:
        return f"SSCC {text!r} is not 18 digits"
    if not check_digit_ok(text):
        return f"SSCC {text} has a wrong check digit"
    return None
