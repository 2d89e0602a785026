"""The character repertoires of UN/EDIFACT syntax identifiers (UNB S001.0001).

Responsible for mapping a syntax identifier such as ``UNOC`` to the Python codec that decodes
it and to the bytes its repertoire allows, so that the reader can decode an interchange and
point at every character outside the declared set.
It must not tokenize or decide what to do about a bad character: that is ``reader``.

Sources: ISO 9735-1:2002 clause 10 and Annex (character repertoires of levels A and B);
UN/EDIFACT service code list 0001 (release 40100, e.g. gefeg.com/jswg/cl/v4x/40100/cl1.htm):
UNOC..UNOK are ISO/IEC 8859 parts 1, 2, 5, 7, 3, 4, 6, 8 and 9; UNOX is ISO 2022 code
extension; UNOY is ISO 10646-1 octets without code extension. UNOW (ISO 10646-1 in UTF-8)
is the later addition used by syntax 4 release 2 implementations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CHARSETS", "Charset", "charset_for", "invalid_byte_pattern"]

# ISO 9735 level A: upper case letters, digits, space and this punctuation. The characters
# from '!' on were added in syntax version 3 and may be used by agreement.
_LEVEL_A_PUNCTUATION = b" .,-()/='+:?!\"%&*;<>"
_UPPER = bytes(range(0x41, 0x5B))
_LOWER = bytes(range(0x61, 0x7B))
_DIGITS = bytes(range(0x30, 0x3A))
_LEVEL_A = _UPPER + _DIGITS + _LEVEL_A_PUNCTUATION
# Level B adds the lower case letters to level A.
_LEVEL_B = _LEVEL_A + _LOWER
# The graphic characters of an ISO 8859 part: G0 (0x20-0x7E) and G1 (0xA0-0xFF). Positions a
# part leaves undefined fail in its codec and are reported then.
_ISO8859_GRAPHIC = bytes(range(0x20, 0x7F)) + bytes(range(0xA0, 0x100))
# UTF-8: every byte but the C0 controls and DEL; malformed sequences fail in the codec.
_UTF8_GRAPHIC = bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))


# Every byte but the C0 controls and DEL.
_NOT_CONTROL = bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))


@dataclass(frozen=True, slots=True)
class Charset:
    """One syntax identifier: how to decode it and which bytes its repertoire allows.

    ``allowed`` lists the permitted byte values before the interchange's own service
    characters (delimiters) are added; ``None`` means no repertoire check is made.
    ``multibyte`` is true for UTF-8, where byte offsets and character offsets differ.
    ``supported`` is false for identifiers edigate can read only approximately (ISO 2022
    code extension), which the envelope reports with 0085 code 2.
    """

    syntax_id: str
    codec: str
    allowed: bytes | None
    multibyte: bool = False
    supported: bool = True
    description: str = ""


CHARSETS: dict[str, Charset] = {
    c.syntax_id: c
    for c in (
        Charset("UNOA", "ascii", _LEVEL_A, description="level A: upper case ISO 646 subset"),
        Charset("UNOB", "ascii", _LEVEL_B, description="level B: ISO 646 subset"),
        Charset("UNOC", "latin-1", _ISO8859_GRAPHIC, description="ISO 8859-1 Latin 1"),
        Charset("UNOD", "iso8859-2", _ISO8859_GRAPHIC, description="ISO 8859-2 Latin 2"),
        Charset("UNOE", "iso8859-5", _ISO8859_GRAPHIC, description="ISO 8859-5 Cyrillic"),
        Charset("UNOF", "iso8859-7", _ISO8859_GRAPHIC, description="ISO 8859-7 Greek"),
        Charset("UNOG", "iso8859-3", _ISO8859_GRAPHIC, description="ISO 8859-3 Latin 3"),
        Charset("UNOH", "iso8859-4", _ISO8859_GRAPHIC, description="ISO 8859-4 Latin 4"),
        Charset("UNOI", "iso8859-6", _ISO8859_GRAPHIC, description="ISO 8859-6 Arabic"),
        Charset("UNOJ", "iso8859-8", _ISO8859_GRAPHIC, description="ISO 8859-8 Hebrew"),
        Charset("UNOK", "iso8859-9", _ISO8859_GRAPHIC, description="ISO 8859-9 Latin 5"),
        # ISO 2022 escape sequences may contain delimiter bytes, so splitting on bytes is
        # not safe in general; read as Latin-1 and report as not supported.
        Charset(
            "UNOX",
            "latin-1",
            None,
            supported=False,
            description="ISO 2022 code extension (not supported)",
        ),
        Charset("UNOY", "utf-8", _UTF8_GRAPHIC, True, description="ISO 10646-1 octets (UTF-8)"),
        Charset("UNOW", "utf-8", _UTF8_GRAPHIC, True, description="ISO 10646-1 UTF-8"),
        # IATA's own syntax identifiers (airline messages such as PAORES, PNRGOV) are outside
        # ISO 9735 code list 0001; they are read as ASCII-compatible without a repertoire check.
        Charset("IATA", "latin-1", None, description="IATA syntax"),
        Charset("IATB", "latin-1", None, description="IATA syntax level B"),
    )
}

# What an unknown syntax identifier is read as: UTF-8 where it decodes, else Latin-1.
FALLBACK = Charset("", "utf-8", None, True, supported=False, description="unknown")


def charset_for(syntax_id: str) -> Charset | None:
    """The ``Charset`` of a UNB S001.0001 value, or ``None`` when it is not a known one."""
    return CHARSETS.get(syntax_id)


def invalid_byte_pattern(charset: Charset, service: bytes) -> re.Pattern[bytes] | None:
    """A pattern matching any byte outside ``charset``'s repertoire plus ``service``.

    A character set without a repertoire (``allowed`` None) is checked for control
    characters only. CR, LF, space and tab are always allowed here: the reader removes
    line breaks and strips whitespace between segments before it checks a segment on its
    own.
    """
    if charset.allowed is None:
        # No repertoire to check against (IATA, ISO 2022, unknown identifiers), but no
        # repertoire of ISO 9735 holds the C0 controls and DEL: those are still invalid,
        # but ESC, which ISO 2022 code extension is written with.
        escape = b"\x1b" if charset.syntax_id == "UNOX" else b""
        allowed = set(_NOT_CONTROL) | set(escape) | set(service) | set(b"\r\n\t ")
    else:
        allowed = set(charset.allowed) | set(service) | set(b"\r\n\t ")
    excluded = bytes(b for b in range(256) if b not in allowed)
    if not excluded:
        return None
    body = b"".join(b"\\x%02x" % b for b in excluded)
    return re.compile(b"[" + body + b"]+")
