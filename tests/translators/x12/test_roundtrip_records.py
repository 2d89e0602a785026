"""Delimiters are syntax, not meaning: rewriting a document with other delimiters keeps its records.

Each hand-written sample is read, rewritten through ``X12Writer`` with random legal
delimiters (ISA12 00501 so that a repetition separator is in force, optionally CRLF after
every terminator), and translated again; the canonical records and the issue codes must be
the ones the original gave. One strategy also puts real repetitions into the data.
"""

from __future__ import annotations

import io
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translators import TransactionOutcome, translate_x12
from translators.record_data import check_canonical
from translators.x12.pipeline import X12GroupOutcome, X12InterchangeOutcome
from translators.x12.reader import X12Reader
from translators.x12.segment import Delimiters, Segment
from translators.x12.writer import (
    Composite,
    ElementValue,
    GroupSpec,
    InterchangeSpec,
    Repetition,
    X12Writer,
    check_delimiters,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "x12"
SAMPLES = sorted((DATA / "valid").glob("*.edi")) + sorted((DATA / "mapping").glob("*.x12"))

# X12.5 allows any character not in the data as a delimiter; these are the ones a reader
# can tell from layout: punctuation plus the information separators, NAK and DEL.
DELIMITER_POOL = [*string.punctuation, "\x1c", "\x1d", "\x1e", "\x1f", "\x15", "\x7f"]

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Values = list[ElementValue]


@dataclass
class Transaction:
    set_id: str
    control_number: str
    implementation_ref: str | None
    body: list[Values]


@dataclass
class Group:
    header: list[str]
    transactions: list[Transaction] = field(default_factory=list)


@dataclass
class Interchange:
    isa: list[str]
    preamble: list[Values] = field(default_factory=list)  # TA1 and the like, outside groups
    groups: list[Group] = field(default_factory=list)


def values_of(segment: Segment) -> Values:
    """A read segment as writer values: composites and repetitions split on its own delimiters."""
    d = segment.delimiters
    out: Values = [segment.tag]
    for raw in segment.fields[1:]:
        reps = raw.split(d.repetition) if d.repetition and d.repetition in raw else [raw]
        items = [Composite(*r.split(d.component)) if d.component in r else r for r in reps]
        out.append(Repetition(*items) if len(items) > 1 else items[0])
    return out


def parse(data: bytes) -> list[Interchange]:
    """The envelope tree of ``data``; trailers are dropped because the writer recounts them."""
    interchanges: list[Interchange] = []
    tx: Transaction | None = None
    for segment in X12Reader(data):
        tag = segment.tag
        if tag == "ISA":
            interchanges.append(Interchange([f.strip() for f in segment.fields]))
        elif tag == "GS":
            interchanges[-1].groups.append(Group(list(segment.fields)))
        elif tag == "ST":
            tx = Transaction(segment[1], segment[2], segment[3] or None, [])
            interchanges[-1].groups[-1].transactions.append(tx)
        elif tag == "SE":
            tx = None
        elif tag in ("GE", "IEA"):
            continue
        elif tx is not None:
            tx.body.append(values_of(segment))
        else:
            interchanges[-1].preamble.append(values_of(segment))
    return interchanges


def texts(value: ElementValue) -> Iterator[str]:
    if isinstance(value, Repetition):
        for item in value.values:
            yield from texts(item)
    elif isinstance(value, Composite):
        yield from value.components
    else:
        yield value


def data_chars(interchanges: list[Interchange]) -> frozenset[str]:
    """Every character the data uses, so that no delimiter collides with it."""
    chars: set[str] = set()
    for ic in interchanges:
        # ISA11 and ISA16 are delimiters themselves, not data.
        chars.update(*(f for n, f in enumerate(ic.isa) if n not in (11, 16)))
        segments = [*ic.preamble]
        for group in ic.groups:
            chars.update(*group.header)
            for tx in group.transactions:
                chars.update(tx.set_id, tx.control_number, tx.implementation_ref or "")
                segments += tx.body
        for seg in segments:
            for value in seg:
                chars.update(*texts(value))
    return frozenset(chars)


def write(interchanges: list[Interchange], d: Delimiters, line_break: bool) -> bytes:
    """``interchanges`` written with ``d`` at ISA12 00501."""
    out = io.BytesIO()
    writer = X12Writer(out, d, line_break=line_break)
    for ic in interchanges:
        isa = ic.isa
        writer.start_interchange(
            InterchangeSpec(
                authorization_qualifier=isa[1],
                authorization=isa[2],
                security_qualifier=isa[3],
                security=isa[4],
                sender_qualifier=isa[5],
                sender_id=isa[6],
                receiver_qualifier=isa[7],
                receiver_id=isa[8],
                date=isa[9],
                time=isa[10],
                version="00501",
                control_number=isa[13],
                ack_requested=isa[14],
                usage=isa[15],
            )
        )
        for segment in ic.preamble:
            writer.write_segment(segment)
        for group in ic.groups:
            gs = group.header
            writer.start_group(
                GroupSpec(
                    functional_id=gs[1],
                    sender_code=gs[2],
                    receiver_code=gs[3],
                    date=gs[4],
                    time=gs[5],
                    control_number=gs[6],
                    agency=gs[7],
                    version=gs[8],
                )
            )
            for tx in group.transactions:
                writer.start_transaction(tx.set_id, tx.control_number, tx.implementation_ref)
                for segment in tx.body:
                    writer.write_segment(segment)
                writer.end_transaction()
            writer.end_group()
        writer.end_interchange()
    return out.getvalue()


@st.composite
def delimiters(draw: st.DrawFn, forbidden: frozenset[str]) -> Delimiters:
    """Four distinct legal delimiters, none of them a character of the data."""
    pool = [c for c in DELIMITER_POOL if c not in forbidden]
    element, component, repetition, segment = draw(
        st.lists(st.sampled_from(pool), min_size=4, max_size=4, unique=True)
    )
    d = Delimiters(element=element, component=component, segment=segment, repetition=repetition)
    check_delimiters(d)
    return d


def translation(data: bytes) -> tuple[list[object], list[tuple[object, ...]]]:
    """(records as dumped, issue codes with their locations) of ``data``.

    Interchange trailer issues are left out: the writer recounts IEA, so a sample with a
    wrong IEA02 comes back corrected (checked separately below).
    """
    records: list[object] = []
    issues: list[tuple[object, ...]] = []
    for outcome in translate_x12(data):
        if isinstance(outcome, TransactionOutcome):
            records.append(check_canonical(outcome.data).model_dump()
                           if outcome.data is not None else None)
            found = outcome.issues
        elif isinstance(outcome, X12GroupOutcome):
            found = outcome.issues
        else:
            assert isinstance(outcome, X12InterchangeOutcome)
            found = outcome.header.issues
        issues += [
            (
                type(outcome).__name__,
                i.level,
                i.code,
                i.severity,
                i.segment_tag,
                i.segment_position,
                i.element_position,
                i.component_position,
                i.repetition,
            )
            for i in found
        ]
    return records, issues


def trailer_issues(data: bytes) -> list[str]:
    return [
        i.code
        for o in translate_x12(data)
        if isinstance(o, X12InterchangeOutcome)
        for i in o.end.issues
    ]


PARSED = {path.name: parse(path.read_bytes()) for path in SAMPLES}
ORIGINAL = {path.name: translation(path.read_bytes()) for path in SAMPLES}


def test_samples_are_found() -> None:
    """The sample folders are not empty, so the round-trip tests below test something."""
    assert len(SAMPLES) >= 20
    assert all(records for records, _ in ORIGINAL.values())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
@SETTINGS
@given(data=st.data(), line_break=st.booleans())
def test_rewritten_with_random_delimiters_gives_the_same_records(
    sample: Path, data: st.DataObject, line_break: bool
) -> None:
    """Any legal delimiter set (with or without CRLF) yields equal records and issue codes."""
    interchanges = PARSED[sample.name]
    d = data.draw(delimiters(data_chars(interchanges)), label="delimiters")
    rewritten = write(interchanges, d, line_break)
    assert next(iter(X12Reader(rewritten))).delimiters == d
    assert translation(rewritten) == ORIGINAL[sample.name]
    assert trailer_issues(rewritten) == []


REPEATABLE_TEXT = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=6)


@st.composite
def with_repetitions(draw: st.DrawFn) -> tuple[str, list[Interchange]]:
    """A sample in which one or two body elements are turned into repetitions."""
    sample = draw(st.sampled_from(SAMPLES))
    interchanges = parse(sample.read_bytes())
    body = interchanges[0].groups[0].transactions[0].body
    for _ in range(draw(st.integers(1, 2))):
        segment = draw(st.sampled_from([s for s in body if len(s) > 1]))
        position = draw(st.integers(1, len(segment) - 1))
        first = segment[position]
        if isinstance(first, Repetition):
            continue
        extra = draw(st.lists(REPEATABLE_TEXT, min_size=1, max_size=3))
        segment[position] = Repetition(first, *extra)
    return sample.name, interchanges


BASE = Delimiters(element="*", component="\x1f", segment="~", repetition="\x1e")


@SETTINGS
@given(case=with_repetitions(), data=st.data(), line_break=st.booleans())
def test_repetitions_survive_a_change_of_delimiters(
    case: tuple[str, list[Interchange]], data: st.DataObject, line_break: bool
) -> None:
    """A document whose data uses repetitions translates the same under any delimiters."""
    _, interchanges = case
    chars = data_chars(interchanges)
    assert not chars & {BASE.element, BASE.component, BASE.segment, BASE.repetition}
    original = write(interchanges, BASE, False)
    repeated = [s for s in X12Reader(original) if any("\x1e" in f for f in s.fields)]
    assert repeated, "the strategy put no repetition into the document"
    d = data.draw(delimiters(chars), label="delimiters")
    rewritten = write(interchanges, d, line_break)
    assert translation(rewritten) == translation(original)


def small_po(repetition: str, ref02: str) -> bytes:
    """A 005010 850 whose REF02 is ``ref02``, with ISA11 ``repetition``."""
    segments = [
        "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*EDIGATE        "
        f"*261125*1200*{repetition}*00501*000000101*0*P*>",
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*1*X*005010",
        "ST*850*0001",
        "BEG*00*SA*PO-1**20261125",
        f"REF*DP*{ref02}",
        "PO1*1*12*EA*3.50**UP*012345678905",
        "CTT*1",
        "SE*6*0001",
        "GE*1*1",
        "IEA*1*000000101",
    ]
    return ("~".join(segments) + "~").encode()


def test_repeated_ref02_does_not_depend_on_the_separator() -> None:
    """REF02 repeated as 042<rep>043 gives the same issues and record for ^, \\x1e and !."""
    results = {rep: translation(small_po(rep, f"042{rep}043")) for rep in ("^", "\x1e", "!")}
    assert results["\x1e"] == results["^"]
    assert results["!"] == results["^"]
    # Whatever the verdict, the separator itself must not leak into the record.
    references = results["^"][0][0]["references"]  # type: ignore[index]
    assert all("^" not in ref["value"] for ref in references)
