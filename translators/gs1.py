"""GS1 identification keys: the mod-10 check digit of GTINs and SSCCs.

Responsible for ``gtin_problem`` and ``sscc_problem``: what is wrong with a value sent as
a GTIN (GTIN-8, UPC-A/GTIN-12, EAN-13/GTIN-13, GTIN-14) or an SSCC-18, or ``None``. The
check digit is the GS1 General Specifications' mod-10: from the right, the digits before
the check digit are weighted 3, 1, 3, ...; the check digit brings the sum to a multiple
of ten. The validators report a problem as a warning: the value is kept as sent.
It must not know segments or qualifiers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

__all__ = ["GTIN_LENGTHS", "check_digit_ok", "gtin_problem", "sscc_problem"]

GTIN_LENGTHS: Final = frozenset([8, 12, 13, 14])


def check_digit_ok(digits: str) -> bool:
    """Whether the last of ASCII ``digits`` is the GS1 mod-10 check digit of the others."""
    raw = digits.encode("ascii")
    # From the right, the digits before the check digit weigh 3, 1, 3, ...; a digit's
    # byte is 0x30 + d. Slices and sums of bytes run in C.
    heavy = raw[-2::-2]
    light = raw[-3::-2]
    total = 3 * (sum(heavy) - 0x30 * len(heavy)) + sum(light) - 0x30 * len(light)
    return (10 - total % 10) % 10 == raw[-1] - 0x30


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


# Documents repeat the same products and packs: each key is checked once.
@lru_cache(maxsize=4096)
def gtin_problem(text: str) -> str | None:
    """What is wrong with GTIN ``text`` (8, 12, 13 or 14 digits, check digit), or None."""
    if not _digits(text) or len(text) not in GTIN_LENGTHS:
        return f"GTIN {text!r} is not 8, 12, 13 or 14 digits"
    if not check_digit_ok(text):
        return f"GTIN {text} has a wrong check digit"
    return None


@lru_cache(maxsize=4096)
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
