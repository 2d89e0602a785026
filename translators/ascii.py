"""Character-class tests for EDI data: ASCII digits, and the control characters that no
EDI character set holds.

EDI numbers are ASCII digits only, but ``str.isdigit`` is also true for characters such as
'²' and '٣' that ``int()`` then rejects or reads differently. Every digit test on element
text goes through here. Control characters (C0, DEL and C1) are in none of the X12 basic or
extended character sets (X12.6) nor in an EDIFACT repertoire (ISO 9735-1 clause 10); in
element text they are data no partner can have meant, and a NUL cannot even be stored in
PostgreSQL text. It must not hold anything else.
"""

from __future__ import annotations

__all__ = ["first_control", "is_digits"]


def is_digits(text: str) -> bool:
    """True when ``text`` is non-empty and made only of the ASCII digits 0-9."""
    return text.isascii() and text.isdigit()


def first_control(text: str, allowed: str = "") -> int:
    """The index of the first control character (U+0000-U+001F, U+007F-U+009F) of
    ``text`` that is not in ``allowed`` (an interchange's delimiters may be control
    characters), or -1 when there is none."""
    if text.isprintable():  # the common case, in C: no control character at all
        return -1
    for index, char in enumerate(text):
        code = ord(char)
        if (code < 0x20 or 0x7F <= code <= 0x9F) and char not in allowed:
            return index
    return -1
