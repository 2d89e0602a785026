"""The EDIFACT message validator: each 0085 code it reports, located; valid messages pass;
arbitrary segments never make it crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.reader import EDIFACTReader
from translators.edifact.schema import definition_for
from translators.edifact.segment import Segment
from translators.edifact.validator import MessageValidator
from translators.errors import Issue

ORDERS = MessageValidator(definition_for("ORDERS", "D", "96A"))  # type: ignore[arg-type]
VALID = [
    "UNH+1+ORDERS:D:96A:UN",
    "BGM+220+PO1+9",
    "DTM+137:20240101:102",
    "NAD+BY+5412345000013::9",
    "NAD+SU+4012345500004::9",
    "LIN+1++4006381333931:EN",
    "QTY+21:12:PCE",
    "UNS+S",
    "CNT+2:1",
    "UNT+10+1",
]


def segments(lines: list[str]) -> list[Segment]:
    text = "UNA:+.? '" + "'".join(lines) + "'"
    return list(EDIFACTReader(text.encode("latin-1")))


def check(lines: list[str]) -> list[tuple[str, str, str | None, int | None, int | None,
                                          int | None]]:
    found = ORDERS.validate(segments(lines))
    return [(i.level, i.code, i.segment_tag, i.segment_position, i.element_position,
             i.component_position) for i in found]


def replaced(index: int, line: str) -> list[str]:
    out = list(VALID)
    out[index] = line
    return out


def test_valid_message_has_no_issues() -> None:
    """A well-formed ORDERS D.96A validates without findings."""
    assert check(VALID) == []


def test_missing_mandatory_segment_is_13() -> None:
    """BGM missing: code 13 at segment level, located where the gap was noticed."""
    assert check([VALID[0], *VALID[2:]]) == [("segment", "13", "BGM", 2, None, None)]


def test_missing_mandatory_segment_at_end_is_13() -> None:
    """UNS missing (mandatory, after the detail groups): 13 at the segment that skipped it."""
    lines = [line for line in VALID if not line.startswith("UNS")]
    assert ("segment", "13", "UNS", 8, None, None) in check(lines)


def test_missing_unt_is_left_to_the_envelope() -> None:
    """A message without UNT is reported by the envelope walker, not twice."""
    assert check(VALID[:-1]) == []


def test_unknown_segment_is_15() -> None:
    """A tag not in the directory: 15 (not supported in this position)."""
    found = ORDERS.validate(segments([*VALID[:3], "XYZ+1", *VALID[3:]]))
    assert [(i.code, i.segment_tag, i.segment_position) for i in found] == [("15", "XYZ", 4)]
    assert "not defined" in found[0].message


def test_out_of_place_segment_is_15() -> None:
    """A known segment where the structure does not allow it (BGM after the NADs): 15."""
    lines = [*VALID[:5], "BGM+220+PO2+9", *VALID[5:]]
    assert check(lines) == [("segment", "15", "BGM", 6, None, None)]


def test_too_many_segment_repetitions_is_35() -> None:
    """PAI may occur once in the ORDERS header: the second is 35."""
    lines = [*VALID[:3], "PAI+::1", "PAI+::1", *VALID[3:]]
    assert check(lines) == [("segment", "35", "PAI", 5, None, None)]


def test_too_many_group_repetitions_is_36() -> None:
    """SG1 (RFF) may occur ten times: the eleventh trigger is 36."""
    lines = [*VALID[:3], *[f"RFF+CT:{n}" for n in range(11)], *VALID[3:]]
    assert check(lines) == [("segment", "36", "RFF", 14, None, None)]


def test_missing_mandatory_element_and_component_are_13() -> None:
    """NAD 3035 empty (element 1) and QTY C186.6060 empty (component 2): 13, located."""
    assert check(replaced(3, "NAD++5412345000013::9")) == [("element", "13", "NAD", 4, 1, None)]
    assert check(replaced(6, "QTY+21::PCE")) == [("element", "13", "QTY", 7, 1, 2)]


def test_invalid_characters_are_37_and_38() -> None:
    """Letters in n..15 (37); a decimal mark without a digit before it (38)."""
    assert check(replaced(6, "QTY+21:12A")) == [("element", "37", "QTY", 7, 1, 2)]
    assert check(replaced(6, "QTY+21:.5")) == [("element", "38", "QTY", 7, 1, 2)]


def test_numeric_sign_and_decimal_mark_do_not_count() -> None:
    """-123456789012345.5 has 16 digits (too long, 39); -12345678901234.5 has 15 (fine)."""
    assert check(replaced(6, "QTY+21:-12345678901234.5")) == []
    assert check(replaced(6, "QTY+21:-123456789012345.5")) == [("element", "39", "QTY", 7, 1, 2)]
    assert check(replaced(6, "QTY+21:12,5")) == []


def test_too_long_is_39() -> None:
    """BGM 1004 an..35 with 36 characters is too long: 39."""
    assert check(replaced(1, "BGM+220+" + "X" * 36 + "+9")) == [("element", "39", "BGM", 2, 2,
                                                                   None)]


def test_too_short_fixed_length_is_40() -> None:
    """UCI 0013 is a3 in syntax version 3: two letters are too short (40)."""
    contrl = MessageValidator(definition_for("CONTRL", "D", "3"))  # type: ignore[arg-type]
    found = contrl.validate(segments(["UNH+1+CONTRL:D:3:UN", "UCI+1+A+B+4+12+UN",
                                      "UNT+3+1"]))
    assert [(i.code, i.segment_tag, i.element_position) for i in found] == [("40", "UCI", 6)]


def test_closed_code_list_value_is_12() -> None:
    """UNS 0081 must be D or S: Z is 12."""
    assert check(replaced(7, "UNS+Z")) == [("element", "12", "UNS", 8, 1, None)]


def test_too_many_constituents_is_16() -> None:
    """An extra data element (segment level), an extra component and a component in a
    simple element are 16."""
    assert check(replaced(7, "UNS+S+X")) == [("segment", "16", "UNS", 8, None, None)]
    assert check(replaced(6, "QTY+21:12:PCE:X")) == [("element", "16", "QTY", 7, 1, 4)]
    assert check(replaced(7, "UNS+S:X")) == [("element", "16", "UNS", 8, 1, 2)]


def test_repeated_element_is_16() -> None:
    """Syntax version 4 repetitions of an element that may not repeat: 16 with repetition."""
    text = ("UNA:+.?*'UNB+UNOC:4+S+R+20240101:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+PO1*PO2+9'"
            "DTM+137:20240101:102'UNS+S'UNT+5+1'UNZ+1+1'")
    segs = [s for s in EDIFACTReader(text.encode()) if s.tag not in ("UNB", "UNZ")]
    found = ORDERS.validate(segs)
    assert [(i.code, i.segment_tag, i.element_position, i.repetition) for i in found] == [
        ("16", "BGM", 2, 2)]


def test_issues_are_located() -> None:
    """Every finding carries the byte offset, the group and the data element."""
    [issue] = ORDERS.validate(segments(replaced(6, "QTY+21:12A")))
    assert isinstance(issue, Issue)
    assert issue.offset is not None and issue.offset > 0
    assert issue.loop_id == "SG25" and issue.data_element == "6060" and issue.bad_value == "12A"


_values = st.text(alphabet="AZaz09.,-: é", max_size=8)
_elements = st.lists(st.lists(_values, min_size=1, max_size=4), max_size=6)
_tags = st.sampled_from(["UNH", "BGM", "DTM", "NAD", "LIN", "QTY", "UNS", "CNT", "UNT", "RFF",
                         "PRI", "MOA", "XYZ", "TAX", "ALC", "SG1"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_tags, _elements, st.booleans()), max_size=30))
def test_arbitrary_segments_never_crash(items: list[tuple[str, list[list[str]], bool]]) -> None:
    """Any sequence of segments, with any elements and repetitions, yields issues only."""
    segs = [
        Segment(tag, elements, position=n, repeats={1: [["a"], ["b"]]} if rep else None)
        for n, (tag, elements, rep) in enumerate(items, start=1)
    ]
    for validator in (ORDERS, MessageValidator(definition_for("CONTRL", "4", "1"))):  # type: ignore[arg-type]
        for issue in validator.validate(segs):
            assert issue.code in {"12", "13", "15", "16", "19", "35", "36", "37", "38", "39",
                                  "40"}
