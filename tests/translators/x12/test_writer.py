"""Tests of the X12 serializer: fixed-width ISA, envelope counts, delimiter checks."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from translators.x12.reader import X12Reader
from translators.x12.segment import Delimiters
from translators.x12.writer import (
    ISA_WIDTHS,
    Composite,
    GroupSpec,
    InterchangeSpec,
    Repetition,
    TransactionSpec,
    X12Writer,
    build_isa,
    segment_text,
    write_interchange,
)

HEADER = InterchangeSpec(
    sender_id="SENDER", receiver_id="RECEIVER", date="240102", time="1530", control_number="42"
)


def _group(*transactions: TransactionSpec, control: str = "7") -> GroupSpec:
    return GroupSpec(
        functional_id="PO",
        sender_code="SENDER",
        receiver_code="RECEIVER",
        date="20240102",
        time="1530",
        control_number=control,
        version="004010",
        transactions=transactions,
    )


def _fields(data: bytes) -> list[list[str]]:
    return [seg.fields for seg in X12Reader(data)]


def test_isa_is_106_bytes_with_every_element_at_its_x12_5_width() -> None:
    """build_isa pads ISA01-ISA16 to 2,10,2,10,2,15,2,15,6,4,1,5,9,1,1,1 and zero-pads ISA13."""
    isa = build_isa(HEADER, Delimiters())
    assert len(isa) == 106
    elements = isa[:-1].split("*")[1:]
    assert [len(e) for e in elements] == list(ISA_WIDTHS)
    assert elements[5] == "SENDER".ljust(15)
    assert elements[12] == "000000042"
    assert isa.endswith(":~")


def test_isa11_is_u_before_00402_and_the_repetition_separator_from_it() -> None:
    """ISA11 carries the repetition separator only from ISA12 00402; before, it is 'U'."""
    old = build_isa(HEADER, Delimiters(repetition="^"))
    new = build_isa(replace(HEADER, version="00501"), Delimiters(repetition="^"))
    assert old.split("*")[11] == "U"
    assert new.split("*")[11] == "^"


def test_00501_without_repetition_separator_is_refused() -> None:
    """An interchange from 00402 on must name a repetition separator, so None raises."""
    spec = replace(HEADER, version="00501")
    with pytest.raises(ValueError, match="repetition"):
        build_isa(spec, Delimiters(repetition=None))


def test_isa_value_too_long_is_refused() -> None:
    """A sender id longer than ISA06's 15 characters raises rather than being cut."""
    spec = replace(HEADER, sender_id="X" * 16)
    with pytest.raises(ValueError, match="ISA06"):
        build_isa(spec, Delimiters())


def test_envelope_counts_and_control_numbers() -> None:
    """SE01 counts ST..SE, GE01 transactions, IEA01 groups; trailers repeat the control numbers."""
    t1 = TransactionSpec("850", "0001", [["BEG", "00", "SA", "1", "", "20240102"], ["CTT", "1"]])
    t2 = TransactionSpec("850", "0002", [["BEG", "00", "SA", "2", "", "20240102"]])
    data = write_interchange(HEADER, [_group(t1, t2), _group(t1, control="8")], Delimiters())
    fields = _fields(data)
    tags = [f[0] for f in fields]
    assert tags.count("ST") == 3
    se = [f for f in fields if f[0] == "SE"]
    assert se == [["SE", "4", "0001"], ["SE", "3", "0002"], ["SE", "4", "0001"]]
    assert [f for f in fields if f[0] == "GE"] == [["GE", "2", "7"], ["GE", "1", "8"]]
    assert fields[-1] == ["IEA", "2", "000000042"]


def test_st03_implementation_reference_is_written_when_given() -> None:
    """TransactionSpec.implementation_reference becomes ST03."""
    t = TransactionSpec("837", "0001", [["BHT", "0019"]], implementation_reference="005010X222A1")
    fields = _fields(write_interchange(HEADER, [_group(t)], Delimiters()))
    assert ["ST", "837", "0001", "005010X222A1"] in fields


def test_values_containing_a_delimiter_are_refused() -> None:
    """X12 has no release character, so any delimiter inside a value raises ValueError."""
    d = Delimiters()
    for bad in ("a*b", "a:b", "a^b", "a~b", "a\nb", "a\rb"):
        with pytest.raises(ValueError, match="delimiter"):
            segment_text(["REF", "ZZ", bad], d, trim=True)
    with pytest.raises(ValueError):
        segment_text(["REF", Composite("a", "b:c")], d)


def test_repetition_char_is_data_before_00402() -> None:
    """Under ISA12 00401 there is no repetition separator, so '^' may appear in values."""
    t = TransactionSpec("850", "0001", [["MSG", "a^b"]])
    fields = _fields(write_interchange(HEADER, [_group(t)], Delimiters(repetition="^")))
    assert ["MSG", "a^b"] in fields


def test_composites_repetitions_and_trailing_empties() -> None:
    """Composite and Repetition join with their separators; trailing empties are trimmed."""
    d = Delimiters(element="*", component=">", repetition="^", segment="~")
    text = segment_text(
        ["SV1", Composite("HC", "99213", "", ""), "", Repetition("1", Composite("2", "3")), "", ""],
        d,
    )
    assert text == "SV1*HC>99213**1^2>3~"
    assert segment_text(["N1", "ST", "", ""], d, trim=False) == "N1*ST**~"


def test_delimiters_must_be_distinct_and_not_alphanumeric() -> None:
    """check_delimiters refuses clashing, alphanumeric or blank separators."""
    for bad in (
        Delimiters(element="*", component="*"),
        Delimiters(element="A"),
        Delimiters(component=" "),
        Delimiters(segment="*"),
        Delimiters(element="é"),
    ):
        with pytest.raises(ValueError):
            X12Writer(io.BytesIO(), bad)


def test_read_segments_are_rewritten_with_other_delimiters() -> None:
    """A Segment from X12Reader is re-delimited: its components and repetitions survive."""
    src = Delimiters(element="*", component=":", repetition="^", segment="~")
    dst = Delimiters(element="|", component=">", repetition="!", segment="\n")
    spec = replace(HEADER, version="00501")
    t = TransactionSpec("850", "0001", [["REF", "ZZ", Repetition(Composite("a", "b"), "c")]])
    data = write_interchange(spec, [_group(t)], src)
    segs = list(X12Reader(data))
    ref = next(s for s in segs if s.tag == "REF")
    assert segment_text(ref, dst) == "REF|ZZ|a>b!c\n"


def test_line_break_adds_crlf_after_each_terminator() -> None:
    """line_break=True puts CRLF after every terminator and the reader ignores it."""
    t = TransactionSpec("850", "0001", [["BEG", "00"]])
    data = write_interchange(HEADER, [_group(t)], Delimiters(), line_break=True)
    assert data.count(b"~\r\n") == 7
    assert _fields(data) == _fields(write_interchange(HEADER, [_group(t)], Delimiters()))


def test_ta1_sits_between_isa_and_the_first_group() -> None:
    """interchange_segments are written after ISA and are not counted in any group."""
    data = write_interchange(
        HEADER,
        [],
        Delimiters(),
        interchange_segments=[["TA1", "000000001", "240102", "1530", "A", "000"]],
    )
    assert [f[0] for f in _fields(data)] == ["ISA", "TA1", "IEA"]
    assert _fields(data)[-1] == ["IEA", "0", "000000042"]


def test_writer_refuses_envelope_segments_and_misordered_calls() -> None:
    """write_segment will not write envelope tags, and end_* without start_* raises."""
    w = X12Writer(io.BytesIO(), Delimiters())
    with pytest.raises(ValueError):
        w.write_segment(["BEG", "00"])
    w.start_interchange(HEADER)
    with pytest.raises(ValueError):
        w.write_segment(["SE", "1", "0001"])
    with pytest.raises(ValueError):
        w.end_group()
    with pytest.raises(ValueError):
        w.start_transaction("850", "0001")
