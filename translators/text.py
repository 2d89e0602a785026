"""Reading free text out of element values, whatever the standard.

Responsible for the text rules both standards' mappers share: surrounding spaces are not
data, an element that holds only spaces holds nothing, and repeated text components join
with one space.
It must not know segment layouts nor either standard's syntax.
"""

from __future__ import annotations

__all__ = ["joined_text", "stripped", "text_or_none"]


def stripped(value: str) -> str:
    """``value.strip()``; most values start and end with a printable ASCII character, and
    two code point tests cost less than the call."""
    if value and 0x20 < ord(value[0]) < 0x7F and 0x20 < ord(value[-1]) < 0x7F:
        return value
    return value.strip()


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
