"""``translators.detect``: the one rule that picks a reader from a document's first bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from translators.detect import HEAD_BYTES, detect_standard

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(("head", "standard"), [
    (b"ISA*00*          *00*", "x12"),
    (b"\xc9\xe2\xc1", "x12"),  # ISA in EBCDIC
    (BOM + b"\r\n  ISA*00*", "x12"),
    (b"UNA:+.? 'UNB+UNOC:3+", "edifact"),
    (b"UNB+UNOC:3+SENDER", "edifact"),
    (b"UNH+1+ORDERS:D:96A:UN'", "edifact"),  # a message without its interchange header
    (b"\n\t" + BOM + b" UNB+UNOA:1+", "edifact"),
    (b"GS*PO*A*B*20240101", None),
    (b"<?xml version='1.0'?>", None),
    (b"", None),
])
def test_each_standard_is_told_from_its_first_tag(head: bytes, standard: str | None) -> None:
    """ISA (ASCII or EBCDIC) is X12 and UNA/UNB/UNH is EDIFACT, after byte order marks and
    blank space; anything else is neither."""
    assert detect_standard(head) == standard


@given(st.binary(max_size=HEAD_BYTES))
def test_any_bytes_get_an_answer_and_agree_with_the_readers(head: bytes) -> None:
    """Arbitrary bytes never raise, and only bytes starting with a known header are
    recognised (what each reader accepts as the start of an interchange)."""
    found = detect_standard(head)
    stripped = head.lstrip(b" \t\r\n\x00\x1a" + BOM)
    if found == "x12":
        assert b"ISA" in head or b"\xc9\xe2\xc1" in head
    elif found == "edifact":
        assert stripped[:3] in (b"UNA", b"UNB", b"UNH") or b"UN" in head
