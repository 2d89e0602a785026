"""The whole X12 pipeline never crashes: arbitrary or mutated bytes give outcomes or an
``EDISyntaxError``, and every acknowledgment built from the outcomes reads back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from translators import (
    AckOptions,
    TransactionOutcome,
    TranslatorError,
    X12Reader,
    build_acknowledgment,
    translate_x12,
)
from translators.record_data import check_canonical
from translators.x12.pipeline import X12InterchangeOutcome

DATA = Path(__file__).resolve().parents[2] / "data" / "x12"
SAMPLES = sorted((DATA / "valid").glob("*.edi")) + sorted((DATA / "mapping").glob("*.x12"))
SAMPLE_BYTES = [p.read_bytes() for p in SAMPLES]
OPTIONS = [
    AckOptions(now=datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
    AckOptions(kind="997", ta1="always", now=datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
    AckOptions(kind="999", ta1="never", now=datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
]

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_pipeline(data: bytes) -> int:
    """Translate ``data`` and acknowledge every interchange; return how many acks were built.

    Only ``TranslatorError`` may escape translation; acknowledgments must be built and read
    back without any exception at all.
    """
    outcomes = []
    try:
        for outcome in translate_x12(data):
            outcomes.append(outcome)
            if isinstance(outcome, TransactionOutcome) and outcome.data is not None:
                check_canonical(outcome.data)
    except TranslatorError:
        pass
    built = 0
    for outcome in outcomes:
        if not isinstance(outcome, X12InterchangeOutcome):
            continue
        for options in OPTIONS:
            ack = build_acknowledgment(outcome, options)
            if ack is None:
                continue
            segments = list(X12Reader(ack))
            assert segments[0].tag == "ISA" and segments[-1].tag == "IEA", ack
            built += 1
    return built


def small_po(
    isa_ids: str = "ZZ*BUYERCO        *ZZ*EDIGATE        ", beg05: str = "20261125"
) -> bytes:
    """A one-line 004010 850; ``isa_ids`` is ISA05..ISA08 as written."""
    return (
        f"ISA*00*          *00*          *{isa_ids}*261125*1200*U*00401*000000101*0*P*>~"
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*1*X*004010~ST*850*0001~"
        f"BEG*00*SA*PO-1**{beg05}~PO1*1*12*EA*3.50**UP*012345678905~CTT*1~SE*5*0001~"
        "GE*1*1~IEA*1*000000101~"
    ).encode()


# Minimal inputs Hypothesis found, kept as regression cases.
KNOWN = {
    # str.isdigit() accepts U+00B2 SUPERSCRIPT TWO, int() does not: ValueError in the validator.
    "superscript-digit-in-date": small_po(beg05="\u00b20261125"),
    # A sender ID with ':' is legal when ISA16 is '>', but the ack's ISA16 is ':': ValueError.
    "ack-delimiter-in-sender-id": small_po(isa_ids="ZZ*ACME:01        *ZZ*EDIGATE        "),
    # ISA01 missing shifts every field; the ack copies a 15-wide ISA07 into its ISA05.
    "isa-element-missing": small_po().replace(b"ISA*00*", b"ISA*", 1),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_crashers(name: str) -> None:
    """Inputs that once crashed translation or ack building now give outcomes or EDISyntaxError."""
    run_pipeline(KNOWN[name])


def test_samples_produce_acknowledgments() -> None:
    """Every sample gives at least one acknowledgment, so the fuzzed ack path is reached."""
    for data in SAMPLE_BYTES:
        fa = b"GS*FA*" in data
        assert run_pipeline(data) >= 1 or fa


@FUZZ
@given(st.binary(max_size=600))
@example(b"")
@example(b"ISA")
@example(b"ISA*00*")
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    """Arbitrary bytes raise nothing but TranslatorError from the pipeline and its acks."""
    run_pipeline(data)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes_after_an_isa_never_crash(data: bytes) -> None:
    """An ISA header followed by arbitrary bytes never crashes the pipeline or the acks."""
    run_pipeline(SAMPLE_BYTES[0][:106] + data)


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    """A valid sample with a few bytes flipped, inserted or deleted."""
    data = bytearray(draw(st.sampled_from(SAMPLE_BYTES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "delimiter"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 3))]
        else:
            # The interesting bytes are the delimiters themselves: move one somewhere else.
            data[at:at] = draw(st.sampled_from([b"*", b"~", b">", b"^", b":", b"\r\n"]))
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sample())
def test_mutated_samples_never_crash(data: bytes) -> None:
    """Samples with random byte mutations never crash the pipeline or the acks."""
    run_pipeline(data)
