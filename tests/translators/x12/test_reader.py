"""Tests of the streaming X12 tokenizer on small inline documents and generated ones."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translators.errors import EDISyntaxError
from translators.x12.reader import X12Reader, looks_like_x12
from translators.x12.segment import Delimiters, Segment
from translators.x12.writer import (
    Composite,
    ElementValue,
    GroupSpec,
    InterchangeSpec,
    Repetition,
    TransactionSpec,
    build_isa,
    write_interchange,
)


def _isa(
    element: str = "*",
    repetition: str = "U",
    version: str = "00401",
    component: str = ":",
    control: str = "000000001",
) -> str:
    """A fixed-width ISA without its terminator."""
    values = [
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "SENDER".ljust(15),
        "ZZ",
        "RECEIVER".ljust(15),
        "240102",
        "1530",
        repetition,
        version,
        control,
        "0",
        "P",
        component,
    ]
    return element.join(["ISA", *values])


BODY = ["GS*PO*SENDER*RECEIVER*20240102*1530*1*X*004010", "ST*850*0001", "BEG*00*SA*PO1**20240102"]
TRAILER = ["SE*3*0001", "GE*1*1", "IEA*1*000000001"]


def _doc(term: str = "~", after: str = "", element: str = "*", **isa: str) -> bytes:
    segs = [_isa(element=element, **isa)] + [s.replace("*", element) for s in BODY + TRAILER]
    return "".join(s + term + after for s in segs).encode("utf-8")


def _read(data: bytes, chunk_size: int | None = None) -> list[Segment]:
    if chunk_size is None:
        return list(X12Reader(data))
    return list(X12Reader(io.BytesIO(data), chunk_size=chunk_size))


def _tags(data: bytes) -> list[str]:
    return [s.tag for s in _read(data)]


# -- delimiters -------------------------------------------------------------------------


def test_delimiters_come_from_the_isa() -> None:
    """Element is ISA byte 4, component is ISA16, the terminator the byte after ISA16."""
    segs = _read(_doc(term="!", element="|", component=">"))
    d = segs[0].delimiters
    assert (d.element, d.component, d.segment, d.repetition) == ("|", ">", "!", None)
    assert segs[3].fields == ["BEG", "00", "SA", "PO1", "", "20240102"]


def test_isa11_is_the_repetition_separator_from_00402() -> None:
    """With ISA12 00501, ISA11 '^' is the repetition separator and splits repetitions."""
    data = _doc(repetition="^", version="00501").replace(b"BEG*00", b"BEG*A^B")
    segs = _read(data)
    assert segs[0].delimiters.repetition == "^"
    assert segs[3].repetitions(1) == ["A", "B"]


@pytest.mark.parametrize("char", ["\x1c", "\x1d", "\x1e", "\x1f"])
def test_isa11_information_separator_is_a_repetition_separator(char: str) -> None:
    """Regression: ISA11 \\x1c-\\x1f (str.isspace() is true for them) is a repetition separator."""
    data = _doc(repetition=char, version="00501").replace(b"BEG*00", f"BEG*A{char}B".encode())
    segs = _read(data)
    assert segs[0].delimiters.repetition == char
    assert segs[3].repetitions(1) == ["A", "B"]


def test_isa11_space_means_no_repetition_separator() -> None:
    """ISA11 blank (seen in real 004010 files) leaves the interchange without repetition."""
    assert _read(_doc(repetition=" ", version="00501"))[0].delimiters.repetition is None


def test_isa11_u_means_no_repetition_separator() -> None:
    """ISA11 'U' is the standards identifier: '^' stays data and repetition is None."""
    data = _doc(repetition="U").replace(b"BEG*00", b"BEG*A^B")
    segs = _read(data)
    assert segs[0].delimiters.repetition is None
    assert segs[3].repetitions(1) == ["A^B"]


def test_isa_fields_are_kept_with_their_padding() -> None:
    """The ISA segment's fields are exactly its 16 elements, padding included."""
    isa = _read(_doc())[0]
    assert isa.fields[6] == "SENDER".ljust(15)
    assert len(isa.fields) == 17
    assert isa.fields[16] == ":"


# -- layout between and inside segments -------------------------------------------------


@pytest.mark.parametrize("after", ["\n", "\r\n", "\r\n    ", "\n\t", "\r\n\r\n"])
def test_crlf_and_indentation_after_terminators_are_ignored(after: str) -> None:
    """CR, LF and indentation after a terminator are layout, not part of the next segment."""
    assert [s.fields for s in _read(_doc(after=after))] == [s.fields for s in _read(_doc())]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_newline_as_terminator(newline: str) -> None:
    """An ISA ending in a line break makes LF (or CRLF) the terminator, CR not kept."""
    segs = _read(_doc(term=newline))
    assert segs[0].delimiters.segment == "\n"
    assert [s.tag for s in segs] == ["ISA", "GS", "ST", "BEG", "SE", "GE", "IEA"]
    assert all(not f.endswith("\r") for s in segs for f in s.fields)


def test_multi_byte_terminator() -> None:
    """A UTF-8 terminator such as U+2026 (3 bytes) followed by LF ends segments."""
    data = _doc(term="…", after="\n")
    segs = _read(data)
    assert segs[0].delimiters.segment == "…"
    assert segs[3].fields == ["BEG", "00", "SA", "PO1", "", "20240102"]
    assert segs[3].offset == data.index(b"BEG")


def test_utf8_bom_before_isa() -> None:
    """A UTF-8 BOM before the ISA is skipped and offsets still count it."""
    data = b"\xef\xbb\xbf" + _doc()
    segs = _read(data)
    assert segs[0].offset == 3
    assert looks_like_x12(data)
    assert [s.fields for s in segs] == [s.fields for s in _read(_doc())]


def test_wrapped_lines_inside_segments_are_removed() -> None:
    """A line break inside a segment (80-column wrapping) is not part of any element."""
    data = _doc()
    wrapped = b"\n".join(data[i : i + 80] for i in range(0, len(data), 80))
    assert [s.fields for s in _read(wrapped)] == [s.fields for s in _read(data)]


def test_several_interchanges_with_different_delimiters() -> None:
    """Each interchange in one stream is read with the delimiters of its own ISA."""
    first = _doc()
    second = _doc(term="\x15", element="\x7f", component=">")
    third = _doc(term="\n", element="|", repetition="^", version="00501")
    segs = _read(first + b"\r\n" + second + third)
    isas = [s for s in segs if s.tag == "ISA"]
    assert [(s.delimiters.element, s.delimiters.segment) for s in isas] == [
        ("*", "~"),
        ("\x7f", "\x15"),
        ("|", "\n"),
    ]
    assert isas[2].delimiters.repetition == "^"
    assert [s.tag for s in segs].count("BEG") == 3
    assert isas[1].offset == len(first) + 2
    assert isas[2].offset == len(first) + 2 + len(second)


def test_isa_without_iea_before_next_isa_starts_a_new_interchange() -> None:
    """An ISA in the middle of an interchange re-sniffs delimiters instead of being data."""
    first = _doc().split(b"IEA")[0]
    second = _doc(term="\n", component=">")
    segs = _read(first + second)
    assert [s.tag for s in segs].count("ISA") == 2
    assert segs[-1].delimiters.component == ">"
    assert segs[-1].fields == ["IEA", "1", "000000001"]


# -- offsets and chunked reading ---------------------------------------------------------


def test_offsets_are_byte_offsets_of_each_segment_start() -> None:
    """Segment.offset is the byte offset of the tag, after any layout, in the raw input."""
    data = b"  \r\n" + _doc(term="~", after="\r\n  ")
    segs = _read(data)
    pos = 0
    for seg in segs:
        pos = data.index(seg.tag.encode(), pos)
        assert seg.offset == pos
        pos += 1
    assert [s.index for s in segs] == list(range(1, len(segs) + 1))


def test_offsets_count_bytes_not_characters() -> None:
    """Non-ASCII UTF-8 data before a segment shifts offsets by its byte length."""
    data = _doc().replace(b"BEG*00*SA*PO1", "BEG*00*SA*PÖ1".encode())
    segs = _read(data)
    assert segs[3].fields[3] == "PÖ1"
    assert segs[4].offset == data.index(b"SE*")


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 113])
def test_tiny_chunks_give_the_same_segments_and_offsets(chunk_size: int) -> None:
    """Reading a file object in small chunks equals reading the same bytes at once."""
    data = (
        b"\xef\xbb\xbf"
        + _doc(after="\r\n")
        + _doc(term="…", after="\n")
        + _doc(term="\n", element="|")
        + b"\n"
    )
    whole = _read(data)
    chunked = _read(data, chunk_size)
    assert [(s.fields, s.offset, s.index) for s in chunked] == [
        (s.fields, s.offset, s.index) for s in whole
    ]


# -- BIN ---------------------------------------------------------------------------------


def _with_bin(payload: bytes, term: str = "~") -> bytes:
    head = _doc(term=term).split(b"SE*")[0]
    tail = b"SE*" + _doc(term=term).split(b"SE*")[1]
    return head + b"BIN*" + str(len(payload)).encode() + b"*" + payload + term.encode() + tail


def test_bin_segment_with_embedded_newlines_and_terminators() -> None:
    """BIN01 gives the byte count of BIN02, so terminators and newlines in it are data."""
    payload = b"line1\r\nline2~*:\nend"
    data = _with_bin(payload)
    segs = _read(data)
    bin_seg = next(s for s in segs if s.tag == "BIN")
    assert bin_seg.fields == ["BIN", str(len(payload)), payload.decode("latin-1")]
    assert segs[-1].tag == "IEA"
    assert segs[-3].offset == data.index(b"SE*")


def test_bin_segment_in_tiny_chunks() -> None:
    """A BIN payload spanning many chunks reads the same as from bytes."""
    data = _with_bin(bytes(range(256)) * 3, term="\n")
    whole = _read(data)
    assert [(s.fields, s.offset) for s in _read(data, 5)] == [(s.fields, s.offset) for s in whole]


# -- bad input ---------------------------------------------------------------------------


def test_non_x12_input_raises_with_offset_zero() -> None:
    """Input that does not start with ISA raises EDISyntaxError at the first non-blank byte."""
    with pytest.raises(EDISyntaxError) as info:
        _read(b"  \nUNB+UNOA:1+X+Y'")
    assert info.value.offset == 3


def test_garbage_after_iea_raises_at_its_offset() -> None:
    """Bytes after an IEA that are not another ISA raise with the garbage's offset."""
    data = _doc(after="\n")
    reader = iter(X12Reader(data + b"\n1r"))
    seen = []
    with pytest.raises(EDISyntaxError) as info:
        for seg in reader:
            seen.append(seg.tag)
    assert seen[-1] == "IEA"
    assert info.value.offset == len(data) + 1


def test_trailing_blank_layout_after_iea_is_fine() -> None:
    """Whitespace, NULs and a DOS EOF marker after the IEA are not an error."""
    assert _tags(_doc() + b"\r\n \x00\x1a")[-1] == "IEA"


@pytest.mark.parametrize("cut", [2, 50, 105])
def test_truncated_isa_raises(cut: int) -> None:
    """An ISA cut short (fewer than 16 separators or no terminator) raises EDISyntaxError."""
    with pytest.raises(EDISyntaxError) as info:
        _read(_doc()[:cut])
    assert info.value.offset == 0


def test_truncated_body_yields_what_is_there() -> None:
    """A document cut inside a segment yields the partial segment; envelopes judge the rest."""
    data = _doc()
    cut = data.index(b"BEG") + 6
    segs = _read(data[:cut])
    assert [s.tag for s in segs] == ["ISA", "GS", "ST", "BEG"]
    assert segs[-1].fields == ["BEG", "00"]


def test_alphanumeric_element_separator_raises() -> None:
    """An ISA whose fourth byte is a letter cannot be X12 and raises at offset 3."""
    with pytest.raises(EDISyntaxError) as info:
        _read(b"ISAX00X" + b" " * 200)
    assert info.value.offset == 3


# -- properties --------------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_edisyntaxerror(data: bytes) -> None:
    """No byte string makes the reader raise anything but EDISyntaxError."""
    try:
        for _ in X12Reader(data):
            pass
    except EDISyntaxError:
        pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from([None, 3, 16]))
def test_arbitrary_bytes_after_a_valid_isa_raise_only_edisyntaxerror(
    data: bytes, chunk_size: int | None
) -> None:
    """A valid ISA followed by arbitrary bytes never raises anything but EDISyntaxError."""
    try:
        for _ in _read(_isa().encode() + b"~" + data, chunk_size):
            pass
    except EDISyntaxError:
        pass


_SEPARATORS = [c for c in map(chr, range(0x21, 0x7F)) if not c.isalnum()] + [
    "\x1c",
    "\x1d",
    "\x1e",
    "\x1f",
    "\x15",
    "\x7f",
    "\x07",
]
_TERMINATORS = [*_SEPARATORS, "\n", "\r", "…"]
_VALUE = st.text(alphabet="ABCXYZabz0189 ", max_size=6)
_LAST = st.text(alphabet="ABCXYZabz0189 ", min_size=1, max_size=6)
_TAG = st.from_regex(r"\A[A-Z][A-Z0-9]{1,2}\Z").filter(
    lambda t: t not in {"ISA", "IEA", "GS", "GE", "ST", "SE", "BIN"}
)


@st.composite
def _delimiters(draw: st.DrawFn) -> Delimiters:
    element, component, repetition = draw(
        st.lists(st.sampled_from(_SEPARATORS), min_size=3, max_size=3, unique=True)
    )
    segment = draw(
        st.sampled_from(_TERMINATORS).filter(lambda t: t not in (element, component, repetition))
    )
    has_repetition = draw(st.booleans())
    return Delimiters(
        element=element,
        component=component,
        segment=segment,
        repetition=repetition if has_repetition else None,
    )


@st.composite
def _element(draw: st.DrawFn, repeatable: bool) -> tuple[ElementValue, list[list[str]]]:
    """An element value and its expected structure: repetitions of components."""
    n_reps = draw(st.integers(1, 3)) if repeatable else 1
    reps: list[list[str]] = []
    for _ in range(n_reps):
        n_comp = draw(st.integers(1, 3))
        comps = [draw(_VALUE) for _ in range(n_comp - 1)] + [draw(_LAST)]
        reps.append(comps)
    values = [Composite(*c) if len(c) > 1 else c[0] for c in reps]
    value: ElementValue = Repetition(*values) if len(values) > 1 else values[0]
    return value, reps


@st.composite
def _interchange(
    draw: st.DrawFn,
) -> tuple[bytes, Delimiters, list[tuple[str, list[list[list[str]]]]]]:
    d = draw(_delimiters())
    version = "00501" if d.repetition is not None else "00401"
    body: list[list[ElementValue]] = []
    expected: list[tuple[str, list[list[list[str]]]]] = []
    for _ in range(draw(st.integers(0, 6))):
        tag = draw(_TAG)
        repeatable = d.repetition is not None
        elements = [draw(_element(repeatable)) for _ in range(draw(st.integers(1, 5)))]
        empties = draw(st.lists(st.booleans(), min_size=len(elements), max_size=len(elements)))
        # Empty elements are allowed except in last position (X12.6 trims those).
        row: list[ElementValue] = [tag]
        exp: list[list[list[str]]] = []
        for i, ((value, structure), empty) in enumerate(zip(elements, empties, strict=True)):
            if empty and i < len(elements) - 1:
                row.append("")
                exp.append([[""]])
            else:
                row.append(value)
                exp.append(structure)
        body.append(row)
        expected.append((tag, exp))
    header = InterchangeSpec(
        sender_id="S1",
        receiver_id="R1",
        date="240102",
        time="1530",
        control_number="12",
        version=version,
    )
    group = GroupSpec(
        functional_id="PO",
        sender_code="S1",
        receiver_code="R1",
        date="20240102",
        time="1530",
        control_number="3",
        version="004010",
        transactions=[TransactionSpec("850", "0001", body)],
    )
    line_break = draw(st.booleans())
    return write_interchange(header, [group], d, line_break=line_break), d, expected


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_interchange(), st.sampled_from([None, 7]))
def test_written_documents_read_back_exactly(
    generated: tuple[bytes, Delimiters, list[tuple[str, list[list[list[str]]]]]],
    chunk_size: int | None,
) -> None:
    """Any document the writer produces with legal random delimiters reads back field for field."""
    data, d, expected = generated
    segs = _read(data, chunk_size)
    assert [s.tag for s in segs[:3]] == ["ISA", "GS", "ST"]
    got_delims = segs[0].delimiters
    assert (got_delims.element, got_delims.component, got_delims.repetition) == (
        d.element,
        d.component,
        d.repetition,
    )
    body = segs[3 : 3 + len(expected)]
    assert [s.tag for s in segs[3 + len(expected) :]] == ["SE", "GE", "IEA"]
    assert segs[-3].fields == ["SE", str(len(expected) + 2), "0001"]
    for seg, (tag, elements) in zip(body, expected, strict=True):
        assert seg.tag == tag
        assert len(seg) == len(elements)
        for position, reps in enumerate(elements, start=1):
            assert seg.repetitions(position) == [d.component.join(c) for c in reps]
            if len(reps) == 1:
                assert seg.components(position) == reps[0]


def test_build_isa_output_is_what_the_reader_sniffs() -> None:
    """The writer's ISA carries the delimiters the reader finds, for control-character sets."""
    d = Delimiters(element="\x1d", component="\x1f", segment="\x1c", repetition="\x1e")
    header = InterchangeSpec(
        sender_id="S",
        receiver_id="R",
        date="240102",
        time="1530",
        control_number="1",
        version="00501",
    )
    isa = _read((build_isa(header, d) + "IEA\x1d0\x1d000000001\x1c").encode())[0]
    assert isa.delimiters == d
