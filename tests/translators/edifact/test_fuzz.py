"""The EDIFACT reader and envelope walker never crash: arbitrary or mutated bytes give
segments, events and issues, or an ``EDISyntaxError`` — nothing else escapes."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from translators.edifact.envelope import InterchangeEnd, Message, walk
from translators.edifact.reader import EDIFACTReader
from translators.errors import EDISyntaxError

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"
SAMPLES = [p.read_bytes() for p in sorted(DATA.glob("*.edi"))]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(data: bytes, chunk_size: int = 1 << 20) -> int:
    """Read and walk ``data``; return the number of events. Only EDISyntaxError may escape,
    and every issue must be well-formed."""
    count = 0
    try:
        for event in walk(EDIFACTReader(io.BytesIO(data), chunk_size=chunk_size)):
            count += 1
            for issue in getattr(event, "issues", []):
                assert issue.code.isdigit(), issue
                assert issue.as_dict()["code"] == issue.code
                issue.location  # noqa: B018
            if isinstance(event, Message):
                assert event.segments and event.segments[0].tag == "UNH"
                _ = event.action
            if isinstance(event, InterchangeEnd):
                _ = event.action
    except EDISyntaxError as exc:
        assert 0 <= exc.offset <= len(data)
    return count


@FUZZ
@given(st.binary(max_size=400))
@example(b"UNA")
@example(b"UNA:+.? ")
@example(b"UNB")
@example(b"UNB+")
@example(b"UNH'UNT'UNZ'")
@example(b"UNA:+.? 'UNB?")
@example(b"UNB+UNOW:4+S+R+20240102:1530+X'FTX+\xff\xfe'")
@example(b"UNB\x1dUNOB\x1f4\x1c\x1e\x1e")
def test_arbitrary_bytes(data: bytes) -> None:
    """Random bytes never raise anything but EDISyntaxError."""
    run(data)


@FUZZ
@given(
    sample=st.sampled_from(SAMPLES),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.binary(min_size=0, max_size=4)), max_size=6
    ),
    chunk=st.integers(1, 64),
)
def test_mutated_samples(sample: bytes, edits: list[tuple[int, bytes]], chunk: int) -> None:
    """Samples with bytes replaced, inserted or removed still read without a crash."""
    data = bytearray(sample)
    for where, new in edits:
        at = where % (len(data) + 1)
        data[at : at + len(new) // 2] = new
    run(bytes(data), chunk)


@FUZZ
@given(
    una=st.binary(min_size=6, max_size=6),
    body=st.binary(max_size=200),
)
def test_random_una_service_strings(una: bytes, body: bytes) -> None:
    """Any six bytes after UNA are accepted as delimiters or refused with EDISyntaxError."""
    run(b"UNA" + una + b"UNB+UNOC:3+S+R+240102:1530+X'" + body)
