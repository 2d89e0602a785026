"""Tests of the syntax identifiers' character sets: decoding by UNB S001.0001 and located
0085 code 21 issues for characters outside the declared repertoire."""

from __future__ import annotations

from pathlib import Path

import pytest

from translators.edifact.charsets import CHARSETS, charset_for, invalid_byte_pattern
from translators.edifact.reader import EDIFACTReader
from translators.edifact.segment import LEVEL_A, Segment

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"


def _read(syntax: str, *segments: bytes) -> list[Segment]:
    head = f"UNB+{syntax}+S+R+240102:1530+X'".encode("ascii")
    return list(EDIFACTReader(head + b"".join(s + b"'" for s in segments)))


@pytest.mark.parametrize(
    ("syntax_id", "codec"),
    [
        ("UNOA", "ascii"),
        ("UNOB", "ascii"),
        ("UNOC", "latin-1"),
        ("UNOD", "iso8859-2"),
        ("UNOE", "iso8859-5"),
        ("UNOF", "iso8859-7"),
        ("UNOG", "iso8859-3"),
        ("UNOH", "iso8859-4"),
        ("UNOI", "iso8859-6"),
        ("UNOJ", "iso8859-8"),
        ("UNOK", "iso8859-9"),
        ("UNOW", "utf-8"),
        ("UNOY", "utf-8"),
    ],
)
def test_syntax_identifiers_map_to_iso_codecs(syntax_id: str, codec: str) -> None:
    """Code list 0001: UNOC..UNOK are ISO 8859 parts, UNOW/UNOY are ISO 10646 in UTF-8."""
    charset = charset_for(syntax_id)
    assert charset is not None and charset.codec == codec and charset.supported
    "test".encode(codec)  # the codec exists


def test_unox_is_known_but_not_supported_and_unknown_ids_are_none() -> None:
    """ISO 2022 code extension cannot be split on bytes safely; UNOZ is not in list 0001."""
    unox = charset_for("UNOX")
    assert unox is not None and not unox.supported
    assert charset_for("UNOZ") is None
    assert charset_for("unoc") is None


def test_level_a_repertoire() -> None:
    """Level A: upper case, digits, space and . , - ( ) / = ' + : ? ! " % & * ; < >."""
    allowed = CHARSETS["UNOA"].allowed
    assert allowed is not None
    text = bytes(sorted(set(allowed))).decode("ascii")
    assert text == " !\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_level_b_adds_lower_case() -> None:
    """Level B is level A plus a-z; '#', '@', '[' and friends stay outside."""
    a, b = CHARSETS["UNOA"].allowed, CHARSETS["UNOB"].allowed
    assert a is not None and b is not None
    assert set(b) - set(a) == set(range(ord("a"), ord("z") + 1))
    assert not {ord(c) for c in "#@[]{}|~$^`\\"} & set(b)


def test_pattern_allows_the_interchange_service_characters() -> None:
    """Custom delimiters outside the repertoire are service characters, not errors."""
    pattern = invalid_byte_pattern(CHARSETS["UNOA"], b"~|#")
    assert pattern is not None
    assert pattern.search(b"ABC~DEF|G#H\r\n") is None
    match = pattern.search(b"ABC@D")
    assert match is not None and match.start() == 3


def test_lower_case_in_unoa_is_a_located_issue() -> None:
    """UNOA data with lower case letters gives code 21 at the segment, element and byte."""
    segs = _read("UNOA:3", b"UNH+1+APERAK:D:96A:UN", b"FTX+AAI+++Accepted", b"UNT+3+1")
    ftx = segs[2]
    assert ftx.elements[3] == ["Accepted"]
    assert ftx.issues is not None
    (issue,) = ftx.issues
    assert issue.code == "21" and issue.level == "element"
    assert (issue.segment_tag, issue.segment_position, issue.element_position) == ("FTX", 2, 4)
    assert issue.component_position == 1
    assert issue.bad_value == "ceptd"  # each invalid character once, in order
    assert issue.offset == ftx.offset + len("FTX+AAI+++A")


def test_lower_case_in_unob_is_fine() -> None:
    """UNOB allows lower case, so the same text has no issue."""
    segs = _read("UNOB:3", b"FTX+AAI+++Accepted")
    assert segs[1].issues is None


def test_utf8_bytes_in_unoa_are_reported_and_decoded_as_utf8() -> None:
    """A UTF-8 umlaut in a UNOA interchange is flagged once and still reads as text."""
    segs = _read("UNOA:3", "NAD+BY+++MÜLLER".encode())
    nad = segs[1]
    assert nad.elements[3] == ["MÜLLER"]
    assert nad.issues is not None and [i.code for i in nad.issues] == ["21"]
    assert nad.issues[0].bad_value == "Ü"
    assert nad.issues[0].element_position == 4


def test_unoc_decodes_latin1_and_flags_control_characters() -> None:
    """UNOC is ISO 8859-1; a C1 control byte is not a graphic character of it."""
    segs = _read("UNOC:3", "NAD+BY+++Müller".encode("latin-1"), b"FTX+AAI+++a\x85b")
    assert segs[1].elements[3] == ["Müller"] and segs[1].issues is None
    assert segs[2].issues is not None and segs[2].issues[0].code == "21"


@pytest.mark.parametrize(
    ("syntax", "text", "codec"),
    [("UNOD:3", "Dvořák Łódź", "iso8859-2"), ("UNOE:3", "Москва", "iso8859-5")],
)
def test_iso8859_parts_decode_by_syntax_identifier(syntax: str, text: str, codec: str) -> None:
    """UNOD (Latin 2) and UNOE (Cyrillic) bytes decode to the right characters."""
    segs = _read(syntax, b"NAD+BY+++" + text.encode(codec))
    assert segs[1].elements[3] == [text]
    assert segs[1].issues is None


def test_utf8_interchange_with_a_bad_sequence() -> None:
    """In UNOW a byte sequence that is not UTF-8 is code 21 at its byte offset."""
    segs = _read("UNOW:4", "FTX+AAI+++Größe".encode(), b"FTX+AAI+++Gr\xf6\xdfe")
    assert segs[1].elements[3] == ["Größe"] and segs[1].issues is None
    bad = segs[2]
    assert bad.issues is not None
    (issue,) = bad.issues
    assert issue.code == "21" and issue.offset == bad.offset + len("FTX+AAI+++Gr")
    assert bad.elements[3] == ["Gr\xf6\xdfe"]  # read as Latin-1 rather than dropped


def test_unknown_syntax_identifier_reads_without_character_issues() -> None:
    """An unknown identifier is reported once by the envelope, not per character."""
    segs = _read("ANSI:1", "FTX+AAI+++Fü".encode("latin-1"))
    assert segs[1].issues is None
    assert segs[1].elements[3] == ["Fü"]


def test_charset_issues_reported_only_where_they_are() -> None:
    """A clean segment after a bad one has no issue (the look-ahead moves on)."""
    segs = _read("UNOA:3", b"FTX+a", b"FTX+B", b"FTX+c", b"FTX+D")
    assert [bool(s.issues) for s in segs[1:]] == [True, False, True, False]


def test_tab_between_segments_is_not_a_character_issue() -> None:
    """Whitespace between segments is layout, not data, in a restricted repertoire."""
    segs = _read("UNOA:3", b"\r\n\tFTX+A")
    assert segs[1].issues is None


def test_level_a_sample_reader_state() -> None:
    """The reader exposes the current interchange's syntax identifier, version and set."""
    reader = EDIFACTReader((DATA / "invoic-d96a-unoa2-custom-una-group.edi").read_bytes())
    segs = list(reader)
    assert (reader.syntax_id, reader.syntax_version, reader.charset.syntax_id) == (
        "UNOA",
        "2",
        "UNOA",
    )
    assert reader.delimiters != LEVEL_A
    assert all(s.issues is None for s in segs)


@pytest.mark.parametrize("syntax", ["IATA:1", "ANSI:1", "UNOX:3"])
def test_control_characters_are_invalid_without_a_repertoire(syntax: str) -> None:
    """Identifiers without a repertoire to check (IATA, unknown, ISO 2022) still have no
    C0 control characters: a NUL is code 21 where it is (ISO 9735-1 clause 10)."""
    segs = _read(syntax, b"FTX+AAI+++a\x00b")
    assert segs[1].issues is not None
    (issue,) = segs[1].issues
    assert issue.code == "21" and issue.offset == segs[1].offset + len("FTX+AAI+++a")


def test_unox_keeps_its_escape_sequences() -> None:
    """ISO 2022 (UNOX) is written with ESC sequences: ESC is no invalid character there."""
    segs = _read("UNOX:3", b"FTX+AAI+++\x1b$Bab\x1b(B")
    assert segs[1].issues is None


@pytest.mark.parametrize(("ung", "unb"), [(b"G\x001", b"IO1"), (b"G1", b"I\x00O1")])
def test_a_control_character_in_ung_or_unb_rejects_the_messages_inside(
        ung: bytes, unb: bytes) -> None:
    """A NUL in UNG or UNB: the header's segment has its code 21, and each message inside
    is rejected (action 4) with code 21 located at that header, not acknowledged (7)."""
    from translators.edifact.pipeline import MessageOutcome, translate_edifact

    body = (b"UNA:+.? 'UNB+UNOC:3+S:14+R:ZZ+261126:0900+" + unb + b"'UNG+ORDERS+S:14+R:ZZ"
            b"+261126:0900+" + ung + b"+UN+D:96A'UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1+9'"
            b"UNT+3+1'UNE+1+" + ung + b"'UNZ+1+" + unb + b"'")
    [message] = [o for o in translate_edifact(body, translate=False, validate=False)
                 if isinstance(o, MessageOutcome)]
    assert message.action == "4"
    [issue] = [i for i in message.issues if i.code == "21"]
    assert issue.segment_tag == ("UNG" if b"\x00" in ung else "UNB")
