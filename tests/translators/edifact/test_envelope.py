"""Tests of the EDIFACT envelope walker: header data, counts and references of UNZ, UNE
and UNT, missing trailers, duplicates and stray segments, each with its 0085 code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from translators.edifact.envelope import (
    ACTION_ACKNOWLEDGED,
    ACTION_REJECTED,
    Event,
    GroupEnd,
    GroupHeader,
    InterchangeEnd,
    InterchangeHeader,
    Message,
    Party,
    parse_prepared_at,
    walk,
)
from translators.edifact.reader import EDIFACTReader
from translators.errors import Issue

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"
UNB = "UNB+UNOC:3+SENDER:14+RECEIVER:ZZ+240102:1530+REF1'"


def _walk(text: str) -> list[Event]:
    return list(walk(EDIFACTReader(text.encode("latin-1"))))


def _codes(issues: list[Issue]) -> list[tuple[str, str | None, int | None]]:
    return [(i.code, i.segment_tag, i.element_position) for i in issues]


def _of(events: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, kind)]


def _msg(ref: str = "1", count: int = 3, unt_ref: str | None = None) -> str:
    return f"UNH+{ref}+ORDERS:D:96A:UN:EAN008'BGM+220+PO{ref}+9'UNT+{count}+{unt_ref or ref}'"


def test_clean_interchange_events_and_header_data() -> None:
    """A correct interchange gives header, messages and end, with no issue and typed data."""
    events = _walk(
        "UNA:+,? '" + UNB.replace("'", "+PASS:AA+ORDERS+A+1+EANCOM+1'") + _msg() + "UNZ+1+REF1'"
    )
    header, message, end = events
    assert isinstance(header, InterchangeHeader)
    assert header.issues == []
    assert (header.syntax_id, header.syntax_version) == ("UNOC", "3")
    assert header.sender == Party("SENDER", "14") and header.recipient == Party("RECEIVER", "ZZ")
    assert header.prepared_at == datetime(2024, 1, 2, 15, 30, tzinfo=UTC)
    assert header.control_reference == "REF1"
    assert (header.recipient_reference, header.recipient_reference_qualifier) == ("PASS", "AA")
    assert header.application_reference == "ORDERS" and header.priority == "A"
    assert header.ack_requested and header.agreement_id == "EANCOM" and header.test
    assert header.delimiters.decimal == "," and header.una_offset == 0
    assert header.charset is not None and header.charset.codec == "latin-1"
    assert isinstance(message, Message)
    assert (message.type, message.version, message.release, message.agency) == (
        "ORDERS",
        "D",
        "96A",
        "UN",
    )
    assert message.association_code == "EAN008" and message.reference == "1"
    assert message.issues == [] and message.complete and message.action == ACTION_ACKNOWLEDGED
    assert [s.tag for s in message.segments] == ["UNH", "BGM", "UNT"]
    assert message.group is None and message.interchange is header
    assert isinstance(end, InterchangeEnd)
    assert end.issues == [] and end.message_count == 1 and end.action == ACTION_ACKNOWLEDGED


def test_unt_count_and_reference_mismatch() -> None:
    """UNT 0074 wrong is code 29, UNT 0062 different from UNH is code 28, both located."""
    events = _walk(UNB + _msg(count=4, unt_ref="9") + "UNZ+1+REF1'")
    (message,) = _of(events, Message)
    assert _codes(message.issues) == [("29", "UNT", 1), ("28", "UNT", 2)]
    assert all(i.segment_position == 3 and i.level == "transaction" for i in message.issues)
    assert message.action == ACTION_REJECTED


def test_unz_count_and_reference_mismatch() -> None:
    """UNZ 0036 counts messages (code 29) and 0020 must repeat UNB 0020 (code 28)."""
    events = _walk(UNB + _msg("1") + _msg("2") + "UNZ+3+REF2'")
    (end,) = _of(events, InterchangeEnd)
    assert _codes(end.issues) == [("29", "UNZ", 1), ("28", "UNZ", 2)]
    assert end.issues[0].bad_value == "3" and end.action == ACTION_REJECTED


def test_groups_are_counted_by_unz_and_checked_by_une() -> None:
    """With UNG groups, UNZ counts groups; UNE counts messages and repeats UNG 0048."""
    events = list(
        walk(EDIFACTReader((DATA / "invoic-d96a-unoa2-custom-una-group.edi").read_bytes()))
    )
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "InterchangeHeader",
        "GroupHeader",
        "Message",
        "Message",
        "GroupEnd",
        "InterchangeEnd",
    ]
    group = events[1]
    assert isinstance(group, GroupHeader)
    assert group.message_group_id == "INVOIC" and group.control_reference == "G1"
    assert group.sender == Party("APPSEND", "ZZ") and (group.version, group.release) == ("D", "96A")
    assert all(not getattr(e, "issues", []) for e in events)
    bad = _walk(UNB + "UNG+ORDERS+A+B+240102:1530+G1+UN+D:96A'" + _msg() + "UNE+2+G9'UNZ+2+REF1'")
    (gend,) = _of(bad, GroupEnd)
    assert _codes(gend.issues) == [("29", "UNE", 1), ("28", "UNE", 2)]
    (end,) = _of(bad, InterchangeEnd)
    assert _codes(end.issues) == [("29", "UNZ", 1)]


def test_missing_trailers_are_code_13_and_the_walk_continues() -> None:
    """A message without UNT, a group without UNE, an interchange without UNZ: each is
    reported and the following message is still yielded."""
    text = (
        UNB
        + "UNG+ORDERS+A+B+240102:1530+G1+UN+D:96A'"
        + "UNH+1+ORDERS:D:96A:UN'BGM+220+1+9'"
        + _msg("2")
    )
    events = _walk(text)
    messages = _of(events, Message)
    assert [m.reference for m in messages] == ["1", "2"]
    assert _codes(messages[0].issues) == [("13", "UNT", None)]
    assert messages[0].issues[0].segment_position == 2 and not messages[0].complete
    assert messages[1].issues == []
    (gend,) = _of(events, GroupEnd)
    assert _codes(gend.issues) == [("13", "UNE", None)]
    (end,) = _of(events, InterchangeEnd)
    assert _codes(end.issues) == [("13", "UNZ", None)]


def test_unb_without_unz_before_the_next_unb() -> None:
    """A second UNB closes the first interchange with a missing-UNZ issue."""
    events = _walk(UNB + _msg() + UNB.replace("REF1", "REF2") + _msg() + "UNZ+1+REF2'")
    ends = _of(events, InterchangeEnd)
    assert [_codes(e.issues) for e in ends] == [[("13", "UNZ", None)], []]


def test_duplicates_are_code_26() -> None:
    """A repeated UNH reference in the interchange, UNG reference, or UNB reference in the
    stream is a duplicate (code 26)."""
    events = _walk(
        UNB
        + "UNG+ORDERS+A+B+240102:1530+G1+UN+D:96A'"
        + _msg("7")
        + "UNE+1+G1'UNG+ORDERS+A+B+240102:1530+G1+UN+D:96A'"
        + _msg("7")
        + "UNE+1+G1'UNZ+2+REF1'"
        + UNB
        + _msg("7")
        + "UNZ+1+REF1'"
    )
    messages = _of(events, Message)
    assert [_codes(m.issues) for m in messages] == [[], [("26", "UNH", 1)], []]
    groups = _of(events, GroupHeader)
    assert _codes(groups[1].issues) == [("26", "UNG", 5)]
    headers = _of(events, InterchangeHeader)
    assert _codes(headers[1].issues) == [("26", "UNB", 5)]


def test_segments_outside_messages_are_code_33_once_per_run() -> None:
    """A corrupt UNH tag leaves its segments outside any message: one code 33 issue."""
    events = _walk(UNB + "NH+1+ORDERS:D:96A:UN'BGM+220+1+9'UNT+3+1'" + _msg("2") + "UNZ+2+REF1'")
    (end,) = _of(events, InterchangeEnd)
    assert _codes(end.issues) == [("33", "NH", None), ("29", "UNZ", 1)]
    assert [m.reference for m in _of(events, Message)] == ["2"]


def test_missing_unb_is_reported_and_messages_still_come() -> None:
    """Messages without UNB get a stand-in header with code 13 for UNB."""
    events = _walk("UNA:+.? '" + _msg())
    header = events[0]
    assert isinstance(header, InterchangeHeader) and header.segment is None
    assert _codes(header.issues) == [("13", "UNB", None)]
    assert _of(events, Message)[0].issues == []
    assert _of(events, InterchangeEnd)[0].issues == []


def test_unb_element_checks() -> None:
    """Unsupported syntax identifier or version is code 2, missing parts code 13, a bad
    date code 12, a reference over 14 characters code 39, too many elements code 16."""
    events = _walk("UNB+UNOZ:7++R+240231:1530+123456789012345+++++++X'" + _msg() + "UNZ+1+X'")
    header = events[0]
    assert isinstance(header, InterchangeHeader)
    assert _codes(header.issues) == [
        ("2", "UNB", 1),
        ("2", "UNB", 1),
        ("13", "UNB", 2),
        ("12", "UNB", 4),
        ("39", "UNB", 5),
        ("16", "UNB", 12),
    ]
    assert [i.component_position for i in header.issues[:3]] == [1, 2, 1]
    assert header.prepared_at is None


def test_missing_syntax_version_is_code_13() -> None:
    """``UNB+UNOB`` without S001.0002 (seen in a real CONTRL) is reported as missing."""
    events = _walk("UNB+UNOB+S+R+210922:1220+1'" + _msg() + "UNZ+1+1'")
    assert _codes(events[0].issues) == [("13", "UNB", 1)]  # type: ignore[union-attr]


def test_unh_checks() -> None:
    """An empty message reference and missing S009 components are code 13 at UNH."""
    events = _walk(UNB + "UNH++ORDERS:D'BGM+220+1+9'UNT+3+'UNZ+1+REF1'")
    (message,) = _of(events, Message)
    assert _codes(message.issues) == [
        ("13", "UNH", 1),
        ("13", "UNH", 2),
        ("13", "UNH", 2),
    ]  # UNT 0062 repeats the (empty) UNH reference, so no code 28 on top
    assert [i.component_position for i in message.issues[1:3]] == [3, 4]


def test_empty_group_and_interchange_are_code_32() -> None:
    """A group or interchange with no message is 'lower level empty'."""
    events = _walk(UNB + "UNG+ORDERS+A+B+240102:1530+G1+UN+D:96A'UNE+0+G1'UNZ+1+REF1'")
    (gend,) = _of(events, GroupEnd)
    assert _codes(gend.issues) == [("32", "UNG", None)]
    events = _walk(UNB + "UNZ+0+REF1'")
    assert _codes(_of(events, InterchangeEnd)[0].issues) == [("32", "UNB", None)]


def test_groups_and_loose_messages_mixed_is_code_30() -> None:
    """An interchange with both groups and messages outside groups is code 30."""
    events = _walk(
        UNB
        + _msg("1")
        + "UNG+ORDERS+A+B+240102:1530+G1+UN+D:96A'"
        + _msg("2")
        + "UNE+1+G1'UNZ+1+REF1'"
    )
    assert ("30", "UNZ", None) in _codes(_of(events, InterchangeEnd)[0].issues)


def test_two_message_types_in_a_group_is_code_31() -> None:
    """A group holds messages of one type only."""
    events = _walk(
        UNB
        + "UNG+ORDERS+A+B+240102:1530+G1+UN+D:96A'"
        + _msg("1")
        + "UNH+2+INVOIC:D:96A:UN'UNT+2+2'UNE+2+G1'UNZ+1+REF1'"
    )
    assert _codes(_of(events, GroupEnd)[0].issues) == [("31", "UNG", 1)]


def test_reader_character_issues_land_in_the_message() -> None:
    """A code 21 found by the reader in a message segment is one of the message's issues."""
    text = UNB.replace("UNOC", "UNOA") + "UNH+1+ORDERS:D:96A:UN'FTX+AAI+++bad'UNT+3+1'UNZ+1+REF1'"
    (message,) = _of(_walk(text), Message)
    assert [(i.code, i.level, i.segment_position) for i in message.issues] == [("21", "element", 2)]


def test_reader_character_issues_in_service_segments_are_at_their_level() -> None:
    """A code 21 in UNB is an interchange-level issue (UCI), not a message one."""
    text = "UNB+UNOA:3+sender+R+240102:1530+X'" + _msg() + "UNZ+1+X'"
    header = _walk(text)[0]
    assert isinstance(header, InterchangeHeader)
    assert [(i.code, i.level, i.element_position) for i in header.issues] == [
        ("21", "interchange", 2)
    ]


def test_every_message_reported_after_a_bad_one() -> None:
    """Bad counts in the first message do not stop the walk: all three are yielded."""
    text = UNB + _msg("1", count=9) + _msg("2", unt_ref="x") + _msg("3") + "UNZ+3+REF1'"
    messages = _of(_walk(text), Message)
    assert [(m.reference, [i.code for i in m.issues]) for m in messages] == [
        ("1", ["29"]),
        ("2", ["28"]),
        ("3", []),
    ]


def test_prepared_at_in_each_syntax_version() -> None:
    """YYMMDD (versions 1-3, POSIX century pivot) and CCYYMMDD (version 4) read as UTC."""
    assert parse_prepared_at("240102", "1530") == datetime(2024, 1, 2, 15, 30, tzinfo=UTC)
    assert parse_prepared_at("940101", "0950") == datetime(1994, 1, 1, 9, 50, tzinfo=UTC)
    assert parse_prepared_at("20240102", "153045") == datetime(2024, 1, 2, 15, 30, 45, tzinfo=UTC)
    assert parse_prepared_at("999818", "999") is None
    assert parse_prepared_at("", "1530") is None


def test_acknowledgement_request_other_than_1_is_a_warning() -> None:
    """0031 '0' is common in practice: reported as a warning, the interchange not rejected."""
    events = _walk(UNB.replace("'", "++++0'") + _msg() + "UNZ+1+REF1'")
    header = events[0]
    assert isinstance(header, InterchangeHeader)
    assert [(i.code, i.severity) for i in header.issues] == [("12", "warning")]
    assert not header.ack_requested


def test_walk_accepts_plain_segments() -> None:
    """Any iterable of segments can be walked; the header then has default delimiters."""
    segments = list(EDIFACTReader((UNB + _msg() + "UNZ+1+REF1'").encode()))
    events = list(walk(iter(segments)))
    assert [type(e).__name__ for e in events] == ["InterchangeHeader", "Message", "InterchangeEnd"]
