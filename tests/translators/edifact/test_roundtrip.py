"""Hypothesis round trips: interchanges with random UNA delimiter sets and free text full
of service characters, written by ``translators.edifact.writer`` and read back, give the
same segments, elements, components and repetitions."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translators.edifact.envelope import InterchangeEnd, Message, walk
from translators.edifact.reader import EDIFACTReader
from translators.edifact.segment import Delimiters, Segment
from translators.edifact.writer import escape, format_segment, write_interchange

# Printable, non-alphanumeric, non-space ASCII: what a UNA can advise.
SERVICE = [chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()]


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    chars = draw(st.lists(st.sampled_from(SERVICE), min_size=5, max_size=5, unique=True))
    component, element, release, repetition, segment = chars
    decimal = draw(st.sampled_from([".", ","]))
    return Delimiters(component, element, decimal, release, repetition, segment, una=True)


# Free text drawn from letters, digits, space and every printable punctuation: it is
# bound to contain the delimiters and the release character.
TEXT = st.text(
    alphabet=st.sampled_from([*SERVICE, " ", "A", "z", "0", "9", "é"]), min_size=0, max_size=12
)
COMPONENTS = st.lists(TEXT, min_size=1, max_size=4)
ELEMENT = st.lists(COMPONENTS, min_size=1, max_size=3)
TAG = st.sampled_from(["BGM", "FTX", "NAD", "LIN", "QTY", "COM", "IMD"])
SEGMENT = st.tuples(TAG, st.lists(ELEMENT, min_size=0, max_size=6))

ROUNDTRIP = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _interchange(
    d: Delimiters, body: list[tuple[str, list[list[list[str]]]]]
) -> list[tuple[str, list[list[list[str]]]]]:
    segs: list[tuple[str, list[list[list[str]]]]] = [
        ("UNB", [[["UNOC", "4"]], [["SENDER"]], [["RECEIVER"]], [["20240102", "1530"]], [["R1"]]]),
        ("UNH", [[["M1"]], [["ORDERS", "D", "96A", "UN"]]]),
        *body,
    ]
    segs.append(("UNT", [[[str(len(body) + 2)]], [["M1"]]]))
    segs.append(("UNZ", [[["1"]], [["R1"]]]))
    return segs


def _expected(tag: str, elements: list[list[list[str]]]) -> Segment:
    return Segment(
        tag,
        [reps[0] for reps in elements],
        repeats={i: reps for i, reps in enumerate(elements, 1) if len(reps) > 1} or None,
    )


@ROUNDTRIP
@given(d=delimiters(), body=st.lists(SEGMENT, max_size=8), newline=st.sampled_from(["", "\r\n"]))
def test_written_interchange_reads_back_identically(
    d: Delimiters, body: list[tuple[str, list[list[list[str]]]]], newline: str
) -> None:
    """Whatever the UNA and the text, reading what the writer wrote gives the same data."""
    segs = _interchange(d, body)
    data = write_interchange(segs, d, newline=newline)
    reader = EDIFACTReader(data)
    got = list(reader)
    assert reader.delimiters == d
    assert got == [_expected(tag, els) for tag, els in segs]
    assert all(s.issues is None for s in got), [s.issues for s in got]


@ROUNDTRIP
@given(d=delimiters(), body=st.lists(SEGMENT, max_size=6), chunk=st.integers(1, 40))
def test_chunked_reading_and_the_walker_agree(
    d: Delimiters, body: list[tuple[str, list[list[list[str]]]]], chunk: int
) -> None:
    """Read in arbitrary chunks and walked, the interchange is one clean message."""
    data = write_interchange(_interchange(d, body), d)
    events = list(walk(EDIFACTReader(io.BytesIO(data), chunk_size=chunk)))
    (message,) = [e for e in events if isinstance(e, Message)]
    assert message.issues == []
    assert len(message.segments) == len(body) + 2
    end = events[-1]
    assert isinstance(end, InterchangeEnd) and end.issues == []


@given(d=delimiters(), text=TEXT)
def test_escape_leaves_no_bare_service_character(d: Delimiters, text: str) -> None:
    """After escaping, each service character in the text follows a release character."""
    out = escape(text, d)
    service = {d.component, d.element, d.segment, d.repetition, d.release}
    i = 0
    while i < len(out):
        if out[i] == d.release:
            assert i + 1 < len(out) and out[i + 1] in service
            i += 2
            continue
        assert out[i] not in service
        i += 1


def test_format_segment_needs_a_repetition_separator_for_repetitions() -> None:
    """Writing repetitions without a repetition separator is refused, not garbled."""
    d = Delimiters()
    try:
        format_segment("COM", [[["1"], ["2"]]], d)
    except ValueError as exc:
        assert "repetition" in str(exc)
    else:
        raise AssertionError("expected ValueError")


# Plain text (no service characters) or text full of them (released terminators among
# them, which the reader's batch splitting must join back).
PLAIN = st.text(alphabet=st.sampled_from(["A", "z", "0", " "]), max_size=6)
ANY_TEXT = PLAIN | TEXT
LINE_BREAKS = st.sampled_from(["", "\n", "\r\n", "\n", "\n"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    d=delimiters(),
    body=st.lists(st.tuples(TAG, st.lists(st.lists(st.lists(ANY_TEXT, min_size=1, max_size=3),
                                                   min_size=1, max_size=2), max_size=5),
                            LINE_BREAKS), max_size=40),
    chunk=st.sampled_from([None, 7, 64, 1024]),
    uniform=st.sampled_from([None, "\n", "\r\n"]),
)
def test_segments_and_offsets_whatever_the_line_breaks(
    d: Delimiters,
    body: list[tuple[str, list[list[list[str]]], str]],
    chunk: int | None,
    uniform: str | None,
) -> None:
    """A line break (or none) after each terminator, the same for all or chosen segment by
    segment: every segment reads back with its elements and the byte offset of its tag."""
    segs = _interchange(d, [(tag, els) for tag, els, _ in body])
    breaks = ["\n", "\n", *(b for _, _, b in body), "\r\n", ""]
    if uniform is not None:
        breaks = [uniform] * len(segs)
    text = "UNA" + d.service_string()
    offsets: list[int] = []
    for (tag, els), line_break in zip(segs, breaks, strict=True):
        offsets.append(len(text.encode("latin-1")))  # UNOC: ISO 8859-1
        text += format_segment(tag, els, d) + line_break  # with its terminator
    data = text.encode("latin-1")
    reader = EDIFACTReader(io.BytesIO(data), chunk_size=chunk) if chunk else EDIFACTReader(data)
    got = list(reader)
    assert got == [_expected(tag, els) for tag, els in segs]
    assert [s.offset for s in got] == offsets
    assert all(s.issues is None for s in got), [s.issues for s in got]
