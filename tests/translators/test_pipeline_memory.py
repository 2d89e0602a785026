"""What the pipelines hold per transaction until the trailer: a few bytes, not outcomes.

An interchange keeps a summary of each transaction set (message) until its GE/IEA (UNE/
UNZ), because the 997/999 (CONTRL) answers each. These tests read one long group (X12) and
one long run of messages outside groups (EDIFACT) and measure, with tracemalloc, how much
memory the pipeline still holds after the 500th and after the 3000th transaction: the
difference, per transaction, is what the summaries cost (a few bytes packed, a couple of
hundred as one object each) plus the walker's set of control numbers seen, which the
duplicate checks need (X12.6 AK5 23, ISO 9735 UNH 0062). The
acknowledgments built from the compact summaries are checked to answer every transaction.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from translators import (
    AckOptions,
    CONTRLOptions,
    build_acknowledgment,
    build_contrl,
    translate_edifact,
    translate_x12,
)
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    MessageSummaries,
    MessageSummary,
)
from translators.errors import Issue
from translators.x12.pipeline import (
    TransactionOutcome,
    TransactionSummaries,
    TransactionSummary,
    X12GroupOutcome,
    X12InterchangeOutcome,
)
from translators.x12.reader import X12Reader

COUNT = 3000
FIRST = 500
# Above the walkers' control-number sets plus packed summaries, below what one summary
# object per transaction adds to them.
BYTES_PER_TRANSACTION = 160


def x12_chunks() -> Iterator[bytes]:
    """One interchange, one group of ``COUNT`` small 850s, yielded a set at a time."""
    yield (b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
           b"*240101*1200*U*00401*000000001*0*P*>~GS*PO*SENDER*RECEIVER*20240101*1200*1*X*004010~")
    for n in range(1, COUNT + 1):
        yield (f"ST*850*{n:05d}~BEG*00*SA*PO{n}**20240101~PO1*1*1*EA*1.00~CTT*1~"
               f"SE*5*{n:05d}~").encode()
    yield f"GE*{COUNT}*1~IEA*1*000000001~".encode()


def edifact_chunks() -> Iterator[bytes]:
    """One interchange of ``COUNT`` ORDERS messages outside any group."""
    yield b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+240101:1200+1'"
    for n in range(1, COUNT + 1):
        yield f"UNH+M{n}+ORDERS:D:96A:UN'BGM+220+PO{n}+9'UNT+3+M{n}'".encode()
    yield f"UNZ+{COUNT}+1'".encode()


def held_growth(outcomes: Iterator[object], kind: type) -> tuple[float, object]:
    """Bytes held per transaction between the FIRST and the COUNT-th ``kind`` outcome, and
    the last outcome (the interchange's)."""
    seen = 0
    at_first = 0
    growth = 0.0
    last: object = None
    tracemalloc.start()
    try:
        for outcome in outcomes:
            last = outcome
            if isinstance(outcome, kind):
                seen += 1
                if seen in (FIRST, COUNT):
                    del outcome
                    held = tracemalloc.get_traced_memory()[0]
                    if seen == FIRST:
                        at_first = held
                    else:
                        growth = (held - at_first) / (COUNT - FIRST)
    finally:
        tracemalloc.stop()
    assert seen == COUNT
    return growth, last


def test_x12_group_summaries_stay_small() -> None:
    """An X12 group of 3000 clean sets holds under 160 bytes a set until its GE, and the
    997 still answers each set."""
    data = b"".join(x12_chunks())
    growth, last = held_growth(
        translate_x12(data, validate=False, translate=False), TransactionOutcome
    )
    assert growth < BYTES_PER_TRANSACTION, f"{growth:.0f} bytes per transaction"
    assert isinstance(last, X12InterchangeOutcome)
    [group] = last.groups
    assert isinstance(group, X12GroupOutcome) and len(group.documents) == COUNT
    ack = build_acknowledgment(last, AckOptions(kind="997"))
    assert ack is not None
    ak2 = [s.fields[2] for s in X12Reader(ack) if s.tag == "AK2"]
    assert ak2 == [f"{n:05d}" for n in range(1, COUNT + 1)]


def test_edifact_message_summaries_stay_small() -> None:
    """An EDIFACT interchange of 3000 messages holds under 160 bytes a message until its
    UNZ, and the CONTRL still answers each message."""
    data = b"".join(edifact_chunks())
    growth, last = held_growth(
        translate_edifact(data, validate=False, translate=False), MessageOutcome
    )
    assert growth < BYTES_PER_TRANSACTION, f"{growth:.0f} bytes per message"
    assert isinstance(last, EDIFACTInterchangeOutcome)
    assert [m.reference for m in last.documents] == [f"M{n}" for n in range(1, COUNT + 1)]
    contrl = build_contrl(last, CONTRLOptions(report="all"))
    assert contrl.count(b"UCM+") == COUNT


def test_clean_summaries_are_packed() -> None:
    """Summaries of clean sets and messages cost under 32 bytes each in their collections
    and read back equal; a summary with issues is kept whole, in its place."""
    warning = Issue(level="transaction", code="1", severity="warning", message="noted")
    x12 = [TransactionSummary("850", f"{n:05d}", "", "A", [], 5) for n in range(COUNT)]
    x12[7] = TransactionSummary("850", "00007", "", "E", [warning], 5)
    x12[8] = TransactionSummary("850", "0\x1e8", "", "A", [], 5)  # a separator as data
    edi = [MessageSummary(f"M{n}", "ORDERS", "D", "96A", "UN", "", [], 3) for n in range(COUNT)]
    edi[9] = MessageSummary("M9", "ORDERS", "D", "96A", "UN", "", [warning], 3)
    for summaries, packed in ((x12, TransactionSummaries), (edi, MessageSummaries)):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            collection = packed(summaries)
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert held / COUNT < 32, f"{held / COUNT:.0f} bytes per summary"
        assert list(collection) == summaries and len(collection) == COUNT
