"""Intake's fast ISA check (``gateway.intake.pipeline.fixed_isa``) agrees with the X12 reader:
whenever it reads a header, the reader reads the same fields from the same bytes; when it
declines, intake falls back to the reader. Generated headers of the fixed layout with
random delimiters and values, then random edits of them, then arbitrary bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.intake.pipeline import fixed_isa
from translators.x12.reader import X12Reader

WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)  # ISA01..ISA15
DELIMITERS = [chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()]


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    element, component, terminator = draw(st.lists(st.sampled_from(DELIMITERS), min_size=3,
                                                   max_size=3, unique=True))
    alphabet = st.sampled_from([chr(c) for c in range(0x20, 0x7F)
                                if chr(c) not in (element, component, terminator)])
    fields = [draw(st.text(alphabet, min_size=w, max_size=w)) for w in WIDTHS]
    tail = draw(st.sampled_from(["GS*PO*A*B*20240101*1200*1*X*004010", "", "\r\nGS"]))
    line = draw(st.sampled_from(["", "\n", "\r\n"]))
    head = element.join(["ISA", *fields, component])
    return (head + terminator + line + tail.replace("*", element)).encode("ascii")


def reader_fields(body: bytes) -> list[str]:
    return next(iter(X12Reader(body[:4096]))).fields


@given(headers())
@settings(max_examples=150)
def test_fixed_layout_headers_read_as_the_reader_reads_them(body: bytes) -> None:
    fields = fixed_isa(body)
    assert fields is not None
    assert fields == reader_fields(body)


@given(headers(), st.lists(st.tuples(st.integers(0, 110), st.integers(0, 255),
                                     st.sampled_from(["replace", "insert", "delete"])),
                           min_size=1, max_size=3))
@settings(max_examples=300)
def test_edited_headers_are_read_alike_or_left_to_the_reader(
        body: bytes, edits: list[tuple[int, int, str]]) -> None:
    data = bytearray(body)
    for position, value, kind in edits:
        position = min(position, len(data))
        if kind == "insert":
            data.insert(position, value)
        elif position < len(data):
            if kind == "replace":
                data[position] = value
            else:
                del data[position]
    fields = fixed_isa(bytes(data))
    if fields is not None:
        assert fields == reader_fields(bytes(data))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    fields = fixed_isa(data)
    if fields is not None:
        assert fields == reader_fields(data)
