"""ASCII character-class tests for EDI data.

EDI numbers are ASCII digits only, but ``str.isdigit`` is also true for characters such as
'²' and '٣' that ``int()`` then rejects or reads differently. Every digit test on element
text goes through here. It must not hold anything else.
"""

from __future__ import annotations

__all__ = ["is_digits"]


def is_digits(text: str) -> bool:
    """True when ``text`` is non-empty and made only of the ASCII digits 0-9."""
    return text.isascii() and text.isdigit()
