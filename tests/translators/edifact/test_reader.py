"""Tests of the streaming EDIFACT tokenizer on small inline interchanges and the samples
under tests/data/edifact."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.reader import EDIFACTReader, looks_like_edifact, read_segments
from translators.edifact.segment import LEVEL_A, LEVEL_B, Delimiters, Segment
from translators.errors import EDISyntaxError

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"

UNB = "UNB+UNOC:3+SENDER:14+RECEIVER:14+240102:1530+REF1'"
BODY = ["UNH+1+ORDERS:D:96A:UN", "BGM+220+PO1+9", "UNT+3+1", "UNZ+1+REF1"]


def _doc(*segments: str, head: str = UNB, sep: str = "'", after: str = "") -> bytes:
    return (head + after + "".join(s + sep + after for s in segments)).encode("latin-1")


def _read(data: bytes, chunk_size: int | None = None) -> list[Segment]:
    if chunk_size is None:
        return list(EDIFACTReader(data))
    return list(EDIFACTReader(io.BytesIO(data), chunk_size=chunk_size))


def _shape(segs: list[Segment]) -> list[tuple[str, list[list[str]]]]:
    return [(s.tag, s.elements) for s in segs]


# -- delimiters ---------------------------------------------------------------------------


def test_defaults_without_una_are_iso_9735_level_a() -> None:
    """Without UNA the delimiters are ``:+.? '`` and the segments split on them."""
    reader = EDIFACTReader(_doc(*BODY))
    segs = list(reader)
    assert reader.delimiters == LEVEL_A
    assert [s.tag for s in segs] == ["UNB", "UNH", "BGM", "UNT", "UNZ"]
    assert segs[0].elements[0] == ["UNOC", "3"]
    assert segs[1].elements == [["1"], ["ORDERS", "D", "96A", "UN"]]


def test_una_advises_every_delimiter() -> None:
    """A UNA with six unusual characters is honoured for component, element, decimal,
    release, repetition and terminator."""
    data = b"UNA#|,!^~UNB|UNOC#4|S|R|20240102#1530|X~UNH|1|ORDERS#D#96A#UN~FTX|A!|B!#C!!!~D^E#F~"
    reader = EDIFACTReader(data)
    segs = list(reader)
    assert reader.delimiters == Delimiters(
        component="#", element="|", decimal=",", release="!", repetition="^", segment="~", una=True
    )
    assert segs[2].tag == "FTX"
    assert segs[2].elements == [["A|B#C!~D"]]
    assert segs[2].repetitions(1) == [["A|B#C!~D"], ["E", "F"]]
    assert reader.una_offset == 0


def test_release_character_escapes_separators_and_itself() -> None:
    """``?+``, ``?:``, ``?'`` and ``??`` are data; ``??'`` ends the segment."""
    segs = _read(_doc("FTX+AAI+++a?+b?:c?'d??", "FTX+X+e??", *BODY))
    assert segs[1].elements == [["AAI"], [""], [""], ["a+b:c'd?"]]
    assert segs[2].elements == [["X"], ["e?"]]
    assert segs[3].tag == "UNH"


def test_escaped_terminator_right_before_the_real_one() -> None:
    """``DE?''`` is the data ``DE'`` followed by the terminator (EDIFACT.NET's sample)."""
    segs = _read(_doc("NAD+BY+D?'Or+DE?'", *BODY))
    assert segs[1].elements == [["BY"], ["D'Or"], ["DE'"]]


def test_release_before_a_non_service_character_is_a_located_warning() -> None:
    """``?X`` keeps ``X`` and reports 0085 code 22 at the element, as a warning."""
    segs = _read(_doc("UNH+1+ORDERS:D:96A:UN", "FTX+AAI+++Dr?. med", "UNT+3+1", "UNZ+1+REF1"))
    ftx = segs[2]
    assert ftx.elements[3] == ["Dr. med"]
    assert ftx.issues is not None
    (issue,) = ftx.issues
    assert (issue.code, issue.severity, issue.segment_tag) == ("22", "warning", "FTX")
    assert (issue.segment_position, issue.element_position, issue.component_position) == (2, 4, 1)
    assert issue.offset == ftx.offset + len("FTX+AAI+++Dr")


def test_repetition_separator_defaults_to_star_in_version_4_only() -> None:
    """Without UNA, '*' separates repetitions in syntax version 4 and is data before."""
    v4 = _read(_doc("COM+1:TE*2:FX", head="UNB+UNOC:4+S+R+20240102:1530+X'"))
    assert v4[1].repetitions(1) == [["1", "TE"], ["2", "FX"]]
    assert v4[1].elements == [["1", "TE"]]
    v3 = _read(_doc("CTA+***AD***", head="UNB+UNOB:1+S+R+240102:1530+X'"))
    assert v3[1].elements == [["***AD***"]]
    assert v3[1].repeats is None


def test_una_blank_repetition_position_means_none() -> None:
    """A space in UNA position 5 leaves '*' as data even in version 4."""
    segs = _read(b"UNA:+.? 'UNB+UNOC:4+S+R+20240102:1530+X'FTX+a*b'")
    assert segs[1].elements == [["a*b"]]


def test_level_b_information_separators_are_sniffed_from_unb() -> None:
    """A UNB written with IS3 switches to IS1/IS3/IS4 and IS2 repetitions (version 4)."""
    reader = EDIFACTReader((DATA / "orders-level-b-unob4-information-separators.edi").read_bytes())
    segs = list(reader)
    assert reader.delimiters == replace_rep(LEVEL_B, "\x1e")
    bgm = segs[2]
    assert bgm.repetitions(2) == [["po+1:x'y"], ["2"]]
    assert segs[-1].tag == "UNZ"


def replace_rep(d: Delimiters, rep: str) -> Delimiters:
    return Delimiters(d.component, d.element, d.decimal, d.release, rep, d.segment, d.una)


def test_two_interchanges_with_different_unas() -> None:
    """Each interchange uses its own UNA; one without UNA falls back to the defaults."""
    first = b"UNA=*.? ~UNB*UNOC=3*S*R*240102=1530*A~UNZ*0*A~\n"
    second = b"UNB+UNOC:3+S+R+240102:1530+B'UNZ+0+B'"
    third = b"UNA:|.? 'UNB|UNOC:3|S|R|240102:1530|C'UNZ|0|C'"
    segs = _read(first + second + third)
    assert [(s.tag, s.get(5) or s.get(2)) for s in segs] == [
        ("UNB", "A"),
        ("UNZ", "A"),
        ("UNB", "B"),
        ("UNZ", "B"),
        ("UNB", "C"),
        ("UNZ", "C"),
    ]


def test_una_without_unz_before_it_starts_a_new_interchange() -> None:
    """A UNA in the middle of an interchange re-sniffs the delimiters."""
    data = _doc("UNH+1+X:D:96A:UN", "UNT+2+1") + b"UNA:|.? 'UNB|UNOC:3|S|R|240102:1530|C'UNZ|0|C'"
    segs = _read(data)
    assert [s.tag for s in segs] == ["UNB", "UNH", "UNT", "UNB", "UNZ"]
    assert segs[3].index == 1
    assert segs[3].elements[0] == ["UNOC", "3"]


@pytest.mark.parametrize(
    "una",
    [b"UNA:+.? ", b"UNA::.? '", b"UNA:+.?:'", b"UNAA+.? '", b"UNA:+.  '"[:6]],
    ids=["truncated", "same-component-element", "repetition-equals-component", "letter", "short"],
)
def test_unusable_una_is_a_syntax_error(una: bytes) -> None:
    """A UNA that advises a letter, or one character for two functions, cannot be read."""
    with pytest.raises(EDISyntaxError) as info:
        _read(una + b"UNB+UNOC:3+S+R+240102:1530+X'")
    assert info.value.offset == 0


# -- whitespace and layout ----------------------------------------------------------------


def test_crlf_spaces_and_tabs_between_segments_are_skipped() -> None:
    """Line breaks and blanks after terminators are not part of the next segment."""
    segs = _read(_doc(*BODY, after="  \r\n\t"))
    assert [s.tag for s in segs] == ["UNB", "UNH", "BGM", "UNT", "UNZ"]
    assert segs[1].offset == len(UNB) + 5


def test_hard_wrapped_lines_inside_segments_are_joined() -> None:
    """CR/LF inside a segment (80-column wrapping) are removed, even in UNA and tags."""
    flat = b"UNA:+.? 'UNB+UNOC:3+S+R+240102:1530+X'UNH+1+ORDERS:D:96A:UN'UNT+2+1'UNZ+1+X'"
    wrapped = b"\r\n".join(flat[i : i + 7] for i in range(0, len(flat), 7))
    assert _shape(_read(wrapped)) == _shape(_read(flat))


def test_bom_and_leading_blank_lines_are_skipped() -> None:
    """A UTF-8 BOM and blank lines before UNB do not hide the interchange."""
    segs = _read(b"\xef\xbb\xbf\r\n" + _doc(*BODY))
    assert segs[0].tag == "UNB"
    assert segs[0].offset == 5


def test_last_segment_without_terminator_is_still_read() -> None:
    """A final UNZ without its apostrophe is yielded rather than lost."""
    segs = _read(_doc(*BODY)[:-1])
    assert segs[-1].tag == "UNZ"
    assert segs[-1].elements == [["1"], ["REF1"]]


def test_trailing_empty_elements_and_components_are_kept() -> None:
    """``RFF+VA:1:`` and ``SRC+`` keep their empty trailing constituents; ``SRC`` has none."""
    segs = _read(_doc("RFF+VA:1:", "SRC+", "SRC"))
    assert segs[1].elements == [["VA", "1", ""]]
    assert segs[2].elements == [[""]]
    assert segs[3].elements == []


# -- locations -----------------------------------------------------------------------------


def test_segments_carry_offset_index_and_message_position() -> None:
    """Byte offset of the tag, ordinal in the interchange (UNB = 1) and in the message
    (UNH = 1, 0 outside a message)."""
    data = _doc(*BODY, after="\n")
    segs = _read(data)
    for seg in segs:
        assert data[seg.offset : seg.offset + 3].decode() == seg.tag
    assert [s.index for s in segs] == [1, 2, 3, 4, 5]
    assert [s.position for s in segs] == [0, 1, 2, 3, 0]


def test_index_restarts_with_each_interchange() -> None:
    """The ordinal within the interchange restarts at the next UNB."""
    data = _doc(*BODY) + _doc(*BODY)
    assert [s.index for s in _read(data)] == [1, 2, 3, 4, 5] * 2


# -- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64])
def test_small_chunks_give_the_same_segments(chunk_size: int) -> None:
    """Reading a file object in tiny chunks yields exactly what reading bytes yields."""
    data = (DATA / "orders-d96a-unoc3-two-messages.edi").read_bytes()
    whole = _read(data)
    chunked = _read(data, chunk_size)
    assert _shape(chunked) == _shape(whole)
    assert [s.offset for s in chunked] == [s.offset for s in whole]


def test_iterable_of_chunks_is_a_source() -> None:
    """An iterable of byte chunks (e.g. an HTTP body stream) is read like a file."""
    data = (DATA / "invoic-d96a-unoa2-custom-una-group.edi").read_bytes()
    chunks = [data[i : i + 5] for i in range(0, len(data), 5)]
    assert _shape(list(EDIFACTReader(iter(chunks)))) == _shape(_read(data))


def test_memory_stays_bounded_on_a_large_stream() -> None:
    """The buffer never holds much more than one chunk of a multi-megabyte stream."""

    def chunks() -> Iterator[bytes]:
        yield b"UNB+UNOC:3+S+R+240102:1530+X'"
        for i in range(60_000):
            yield f"UNH+{i}+ORDERS:D:96A:UN'BGM+220+{i}+9'UNT+3+{i}'".encode()
        yield b"UNZ+60000+X'"

    reader = EDIFACTReader(chunks(), chunk_size=1 << 16)
    largest = 0
    count = 0
    for _ in reader:
        count += 1
        largest = max(largest, len(reader._buf))
    assert count == 180_002
    assert largest < 1 << 17


def test_segment_longer_than_the_limit_is_a_syntax_error() -> None:
    """A stream without terminators cannot grow the buffer without bound."""
    data = b"UNB+UNOC:3+S+R+240102:1530+X'FTX+" + b"A" * 5000
    with pytest.raises(EDISyntaxError, match="no segment terminator"):
        list(EDIFACTReader(io.BytesIO(data), chunk_size=256, max_segment_bytes=1024))


# -- not EDIFACT ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"ISA*00*", b"NB+UNOB:1+S'", b"hello world", b"\xef\xbb\xbfFNB+UNOB'"]
)
def test_input_that_is_not_edifact_is_a_located_syntax_error(data: bytes) -> None:
    """Anything but UNA, UNB or UNH at the start is refused with its byte offset."""
    with pytest.raises(EDISyntaxError, match="not UN/EDIFACT") as info:
        _read(data)
    assert info.value.offset == (3 if data.startswith(b"\xef") else 0)


def test_junk_after_unz_is_a_syntax_error_after_the_interchange() -> None:
    """Bytes after UNZ that start no interchange fail, but only after UNZ was yielded."""
    seen: list[str] = []
    with pytest.raises(EDISyntaxError) as info:
        for seg in EDIFACTReader(_doc(*BODY) + b"1r"):
            seen.append(seg.tag)
    assert seen[-1] == "UNZ"
    assert info.value.offset == len(_doc(*BODY))


def test_empty_and_blank_input_yield_nothing() -> None:
    """No bytes, or only whitespace, is no interchange and no error."""
    assert _read(b"") == []
    assert _read(b" \r\n\x1a") == []


def test_message_only_stream_is_read() -> None:
    """UNH..UNT without UNB is tokenized (the envelope walker reports the missing UNB)."""
    segs = _read(b"UNH+1+ORDERS:D:96A:UN'BGM+220+1+9'UNT+3+1'")
    assert [(s.tag, s.position) for s in segs] == [("UNH", 1), ("BGM", 2), ("UNT", 3)]


def test_looks_like_edifact() -> None:
    """Sniffing accepts UNA/UNB/UNH after a BOM and blanks, and nothing else."""
    assert looks_like_edifact(b"\xef\xbb\xbf\r\nUNA:+.? '")
    assert looks_like_edifact(b"UNB+UNOA:1")
    assert not looks_like_edifact(b"ISA*00*")
    assert not looks_like_edifact(b"")


def test_read_segments_shorthand() -> None:
    """``read_segments`` is ``iter(EDIFACTReader(...))``."""
    assert [s.tag for s in read_segments(_doc(*BODY))][-1] == "UNZ"


# -- segment accessors -----------------------------------------------------------------------


def test_segment_accessors() -> None:
    """``get``, ``element``, ``repetitions`` and ``len`` index as ISO 9735 does (1-based)."""
    seg = Segment("NAD", [["BY"], ["5412345000013", "", "9"]])
    assert len(seg) == 2
    assert seg.get(2, 3) == "9"
    assert seg.get(2) == "5412345000013"
    assert seg.get(3) == "" and seg.get(0) == "" and seg.get(2, 9) == ""
    assert seg.element(1) == ["BY"] and seg.element(5) == []
    assert seg.repetitions(2) == [["5412345000013", "", "9"]]
    assert seg.repetitions(4) == []
    assert seg == Segment("NAD", [["BY"], ["5412345000013", "", "9"]], offset=99)
    assert "NAD+BY" in repr(seg)


def test_segment_ends_after_a_released_release_character() -> None:
    """``??'`` ends a segment (the ``?`` is data) and ``?'`` does not, between segments
    that end with line breaks."""
    data = (b"UNA:+.? 'UNB+UNOC:3+S+R+240101:1200+1'\nUNH+1+ORDERS:D:96A:UN'\n"
            b"FTX+AAI+++A??'BGM+220+1'\nFTX+AAI+++B?'C'\nUNT+5+1'\nUNZ+1+1'\n")
    got = [(s.tag, s.elements, s.offset) for s in _read(data)]
    assert got[2:5] == [
        ("FTX", [["AAI"], [""], [""], ["A?"]], data.index(b"FTX")),
        ("BGM", [["220"], ["1"]], data.index(b"BGM")),
        ("FTX", [["AAI"], [""], [""], ["B'C"]], data.index(b"FTX+AAI+++B")),
    ]


# -- text batches ---------------------------------------------------------------------------
# With a single-byte character set the reader decodes a batch of segments at once and splits
# it as text; with UTF-8 (UNOY) it splits bytes and decodes segment by segment. On ASCII
# input the two must agree on everything but the charset's name in messages.

_SERVICE_CHARS = "!\"%&()*,-./:;<=>?@[]^_{|}~#$'+"
_TAGS = ("BGM", "FTX", "DTM", "NAD", "LIN", "QTY")


def _located(segs: list[Segment]) -> list[tuple[object, ...]]:
    return [
        (s.tag, s.elements, s.repeats or None, s.offset, s.index, s.position,
         [(i.code, i.level, i.offset, i.segment_position, i.element_position,
           i.component_position, i.repetition, i.bad_value) for i in s.issues or []])
        for s in segs
    ]


@st.composite
def _interchanges(draw: st.DrawFn) -> bytes:
    """A UNOC interchange with random delimiters, released service characters, line breaks
    between and inside segments, tabs (outside the repertoire) and empty segments."""
    comp, elem, dec, rel, rep, term = draw(
        st.lists(st.sampled_from(_SERVICE_CHARS), min_size=6, max_size=6, unique=True))
    rel = draw(st.sampled_from([rel, " "]))
    rep = draw(st.sampled_from([rep, " "]))
    # Every service character released, and a release of a letter (a located warning).
    service = [c for c in (comp, elem, term, rel, rep) if c != " "]
    released = [rel + c for c in [*service, "A"]] if rel != " " else []
    token = st.sampled_from(["A", "B1", "  ", "\n", "\r\n", "\t", comp, *released]
                            + ([rep] if rep != " " else []))
    after = st.sampled_from(["", "\n", "\r\n", " \n", "\n\n", term])
    syntax_version = draw(st.sampled_from(["3", "4"]))
    out = [f"UNA{comp}{elem}{dec}{rel}{rep}{term}", draw(after),
           f"UNB{elem}UNOC{comp}{syntax_version}{elem}S{elem}R{elem}240101{comp}1200{elem}1"
           f"{term}", draw(after), f"UNH{elem}1{elem}ORDERS{comp}D{comp}96A{comp}UN{term}"]
    for _ in range(draw(st.integers(0, 12))):
        out.append(draw(after))
        body = "".join(draw(st.lists(token, max_size=8)))
        out.append(draw(st.sampled_from(_TAGS)) + elem + body + draw(st.sampled_from(["", rel]))
                   + term)
    out += [draw(after), f"UNT{elem}2{elem}1{term}", draw(after), f"UNZ{elem}1{elem}1{term}"]
    return "".join(out).encode("latin-1")


@settings(max_examples=400, deadline=None)
@given(data=_interchanges(), chunk_size=st.sampled_from([None, 1, 5, 64]))
def test_text_batches_read_exactly_as_bytes_segment_by_segment(
    data: bytes, chunk_size: int | None
) -> None:
    """Segments, offsets, positions and located issues are the same whether the batch was
    decoded whole (UNOC) or each segment on its own (UNOY), in any chunking."""
    as_utf8 = data.replace(b"UNOC", b"UNOY", 1)
    try:
        expected = _located(_read(as_utf8, 1))
    except EDISyntaxError as exc:
        with pytest.raises(EDISyntaxError) as raised:
            _read(data, chunk_size)
        assert raised.value.offset == exc.offset
        return
    got = _located(_read(data, chunk_size))
    assert got[0][3:] == expected[0][3:]  # UNB: all but its elements (UNOC, UNOY)
    assert got[1:] == expected[1:]


def test_line_break_after_a_released_terminator_is_removed_in_a_text_batch() -> None:
    """A line break right after a released terminator wraps the segment: it is not data,
    even when every other line break of the batch follows a real terminator."""
    data = (b"UNA:+.? 'UNB+UNOC:3+S+R+240101:1200+1'\nUNH+1+ORDERS:D:96A:UN'\n"
            b"FTX+AAI+++A?'\nB'\nBGM+220+1'\nUNT+4+1'\nUNZ+1+1'\n")
    got = [(s.tag, s.elements, s.offset) for s in _read(data)]
    assert got[2:4] == [
        ("FTX", [["AAI"], [""], [""], ["A'B"]], data.index(b"FTX")),
        ("BGM", [["220"], ["1"]], data.index(b"BGM")),
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64) | st.text("AB+:'\n\r\t\x01\x7f", max_size=64).map(str.encode),
       syntax=st.sampled_from(["UNOA", "UNOB", "UNOC", "UNOY"]))
def test_invalid_byte_scan_agrees_with_the_pattern(data: bytes, syntax: str) -> None:
    """The scan that decides whether a buffer needs the repertoire search (memchr per
    invalid ASCII byte, or deleting the valid bytes) finds a byte exactly when the
    charset's pattern does."""
    from translators.edifact.charsets import CHARSETS, invalid_byte_pattern
    from translators.edifact.reader import _any_invalid

    pattern = invalid_byte_pattern(CHARSETS[syntax], b":+?'")
    assert pattern is not None
    assert _any_invalid(data, pattern) == (pattern.search(data) is not None)
