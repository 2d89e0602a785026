"""Every value a partner sends is accounted for: mapped into the record, or listed in its
``unmapped`` data (issue: records that lose nothing).

For every transaction set and message of tests/data, of ../shared/corpus (when present)
and of Hypothesis-made variants of the hand-written documents, an independent walk over
the segments checks each element value:

- a value the mapper's coverage does not claim is listed in ``unmapped`` at its place
  (segment position, element reference, repetition) with the value as sent;
- a value the coverage claims (other than a qualifier the record carries as a key) can
  be found in the record: as text, as a number, as an ISO date or time. A coverage that
  claims what the mapper dropped fails here;
- every ``unmapped`` entry names a value that is really there.

The accounted share is therefore 100% by construction of the check, not of the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translators.accounting import Coverage, count_values
from translators.edifact.mappers import COVERAGES as EDIFACT_COVERAGES
from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.errors import EDISyntaxError
from translators.x12.mappers import COVERAGES as X12_COVERAGES
from translators.x12.pipeline import TransactionOutcome, translate_x12
from translators.x12.reader import looks_like_x12

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CORPUS = ROOT.parent / "shared" / "corpus"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".md")


def _outcomes(data: bytes) -> Iterator[TransactionOutcome | MessageOutcome]:
    translate = translate_x12 if looks_like_x12(data[:64]) else translate_edifact
    try:
        for outcome in translate(data):
            if isinstance(outcome, (TransactionOutcome, MessageOutcome)) and outcome.data:
                yield outcome
    except EDISyntaxError:
        return


# --- what a record holds, in the forms an element value can take there ------------------


class _Holdings:
    """The text, numbers and digit strings of a record, for finding a value in it."""

    def __init__(self, record: dict[str, Any]) -> None:
        texts: list[str] = []
        self.numbers: set[Decimal] = set()
        self._visit({k: v for k, v in record.items() if k not in ("source", "unmapped")},
                    texts)
        self.text = "\x00".join(texts)
        self.digits = "\x00".join(re.sub(r"\D", "", t) for t in texts)

    def _visit(self, value: Any, texts: list[str]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                texts.append(str(key))
                self._visit(item, texts)
        elif isinstance(value, list):
            for item in value:
                self._visit(item, texts)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, (Decimal, int)):
            self.numbers.add(Decimal(value))
            texts.append(str(value))
        else:
            texts.append(str(value))

    def holds(self, value: str) -> bool:
        text = value.strip()
        if text in self.text:
            return True
        number = _number(text)
        if number is not None and (number in self.numbers
                                   or number.scaleb(-2) in self.numbers):
            return True
        digits = re.sub(r"\D", "", text)
        return len(digits) >= 4 and digits == text and (
            digits in self.digits or digits[2:] in self.digits)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


# --- the independent walk ------------------------------------------------------------------


def _ref(tag: str, element: int, component: int) -> str:
    return f"{tag}{element:02d}-{component:02d}" if component else f"{tag}{element:02d}"


Value = tuple[int, str, int, int, int, int, str]
"""(position, tag, element, component, component in the reference (0 for the one part of
a simple element), repetition, value)."""


def _x12_values(outcome: TransactionOutcome) -> Iterator[Value]:
    """Every value of a transaction set in the units the accounting uses: an element whole
    unless the coverage maps some of its components."""
    coverage = X12_COVERAGES[outcome.document.set_id]
    # Elements repeated where they may not repeat (code 12): the first repetition is
    # the element's value, the others are kept as repetitions.
    repeated = {(i.segment_position, i.element_position) for i in outcome.issues
                if i.code == "12" and i.level == "element"}
    for position, seg in enumerate(outcome.document.segments, start=1):
        tag = seg.fields[0]
        rule = coverage.rule(tag)
        for element in range(1, len(seg.fields)):
            value = seg.fields[element]
            if not value.strip():
                continue
            separator = seg.delimiters.repetition
            whole = rule is not None and (rule.every or element in rule.whole)
            if (position, element) in repeated and separator:
                value, *others = value.split(separator)
                for r, other in enumerate(others, start=2):
                    if other.strip():
                        yield position, tag, element, 0, 0, r, other
            elif separator and separator in value and not whole:
                # A repeatable element: the first repetition is the element's value, the
                # others are listed with their numbers, component by component.
                value, *others = value.split(separator)
                for r, other in enumerate(others, start=2):
                    parts = other.split(seg.delimiters.component)
                    for k, part in enumerate(parts, start=1):
                        if part.strip():
                            yield (position, tag, element, k, k if len(parts) > 1 else 0, r,
                                   part)
            parts = value.split(seg.delimiters.component)
            if whole:
                yield position, tag, element, 0, 0, 1, value
            elif len(parts) == 1:
                yield position, tag, element, 1, 0, 1, value
            else:
                for k, part in enumerate(parts, start=1):
                    if part.strip():
                        yield position, tag, element, k, k, 1, part


def _edifact_values(outcome: MessageOutcome) -> Iterator[Value]:
    for position, seg in enumerate(outcome.document.segments, start=1):
        for e, parts in enumerate(seg.elements, start=1):
            for k, part in enumerate(parts, start=1):
                if part.strip():
                    yield position, seg.tag, e, k, 0 if len(parts) == 1 else k, 1, part
        for e, repetitions in (seg.repeats or {}).items():
            for r, parts in enumerate(repetitions[1:], start=2):
                for k, part in enumerate(parts, start=1):
                    if part.strip():
                        yield position, seg.tag, e, k, 0 if len(parts) == 1 else k, r, part


def _coverage_of(outcome: TransactionOutcome | MessageOutcome) -> Coverage:
    if isinstance(outcome, TransactionOutcome):
        return X12_COVERAGES[outcome.document.set_id]
    return EDIFACT_COVERAGES[outcome.document.type]


# Their values are the record's ``source`` or control values the envelope checks.
_ENVELOPE = frozenset({"ST", "SE", "UNH", "UNT"})


def check_accounting(outcome: TransactionOutcome | MessageOutcome) -> list[str]:
    """What is wrong with the accounting of one translated transaction: empty when every
    value is mapped or listed, and every claim and every entry is true."""
    record = outcome.data
    assert record is not None
    coverage = _coverage_of(outcome)
    listed: dict[tuple[int, str, int], str] = {}
    for entry in record["unmapped"]:
        listed[(entry["position"], entry["element"], entry["repetition"] or 1)] = entry["value"]
    holdings = _Holdings(record)
    # A value in a segment validation flagged (an impossible date, a malformed number, a
    # qualifier without its value) is accounted for by the located error, which the
    # partner's acknowledgment reports, even where the record could not take it.
    flagged = {i.segment_position for i in outcome.issues if i.severity == "error"}
    values = (_x12_values(outcome) if isinstance(outcome, TransactionOutcome)
              else _edifact_values(outcome))
    problems: list[str] = []
    seen: set[tuple[int, str, int]] = set()
    for position, tag, element, component, ref_component, repetition, value in values:
        key = (position, _ref(tag, element, ref_component), repetition)
        seen.add(key)
        if key in listed:
            if listed[key] != value:
                problems.append(f"{key}: listed as {listed[key]!r}, sent {value!r}")
            continue
        if repetition > 1 or not coverage.covers(tag, element, component):
            problems.append(f"{key} = {value!r}: neither mapped nor listed")
        elif (tag not in _ENVELOPE and not coverage.is_qualifier(tag, element, component)
              and not holdings.holds(value) and position not in flagged):
            problems.append(f"{key} = {value!r}: claimed mapped, not in the record")
    problems += [f"{key}: listed but not sent" for key in listed if key not in seen]
    return problems


def _check_file(path: Path) -> tuple[int, list[str]]:
    checked = 0
    problems: list[str] = []
    for outcome in _outcomes(path.read_bytes()):
        checked += 1
        problems += [f"{path.name}: {p}" for p in check_accounting(outcome)]
    return checked, problems


@pytest.mark.parametrize("path", _files(DATA), ids=lambda p: str(p.relative_to(DATA)))
def test_hand_written_documents_account_for_every_value(path: Path) -> None:
    _, problems = _check_file(path)
    assert not problems, "\n".join(problems[:20])


def test_corpus_accounts_for_every_value() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} not present (CI has it): corpus accounting not checked")
    checked = 0
    problems: list[str] = []
    for path in _files(CORPUS):
        count, found = _check_file(path)
        checked += count
        problems += found
    assert checked > 50  # the corpus holds that many mappable transactions
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def test_unmapped_entries_carry_place_and_loop() -> None:
    """An unmapped value (PID01, the description type) is listed with where it stood, loop
    path included; the header contact (X12 PER before the first N1) is mapped into the
    record's contacts, not listed."""
    data = (DATA / "x12" / "valid" / "850.4010.edi").read_bytes()
    (outcome,) = list(_outcomes(data))
    assert outcome.data is not None
    assert not [e for e in outcome.data["unmapped"] if e["segment"] == "PER"]
    [contact] = outcome.data["contacts"]
    assert (contact["name"], contact["phone"]) == ("PAT BUYER", "5135550100")
    entries = [e for e in outcome.data["unmapped"] if e["segment"] == "PID"]
    assert entries, "PID01 is neither mapped nor listed"
    first = entries[0]
    segments = outcome.document.segments  # type: ignore[union-attr]
    assert segments[first["position"] - 1].fields[0] == "PID"
    assert first["element"] == "PID01"
    assert first["loop"] == "PO1_LOOP/PID_LOOP"
    sent = segments[first["position"] - 1].fields[int(first["element"][3:5])]
    assert first["value"] == sent


def test_a_segment_the_mapper_cannot_read_is_listed_whole() -> None:
    """A second DTM with a qualifier already filed keeps its date (``_2``); a DTM whose date
    cannot be read has no place: both its values are listed, not silently dropped."""
    text = (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261206*1200*U*"
        "00401*000000001*0*P*>~GS*PO*SENDER*RECEIVER*20261206*1200*1*X*004010~"
        "ST*850*0001~BEG*00*SA*PO1**20261206~DTM*002*20261210~DTM*002*20261211~"
        "DTM*010*20261399~"
        "PO1*1*10*EA*2.5**BP*ITEM1~CTT*1~SE*8*0001~GE*1*1~IEA*1*000000001~"
    )
    (outcome,) = list(_outcomes(text.encode()))
    assert outcome.data is not None
    assert outcome.data["dates"]["requested_delivery"] == "2026-12-10"
    assert outcome.data["dates"]["requested_delivery_2"] == "2026-12-11"
    listed = [(e["element"], e["value"]) for e in outcome.data["unmapped"]]
    assert ("DTM01", "010") in listed and ("DTM02", "20261399") in listed
    assert ("DTM02", "20261211") not in listed
    assert check_accounting(outcome) == []


@pytest.mark.parametrize("dtm", [
    "DTM*010*20261122*1430*ET*09",  # DTM05 century 09 beside a date that says 20
    "DTM*010*20261122*00",          # DTM03 is no time
    "DTM*010*20261122****D8*20261123",  # DTM02 and DTM06/07 state different dates
])
def test_a_dtm_whose_parts_disagree_is_listed_whole(dtm: str) -> None:
    """A DTM is read whole or not at all: keeping its date while a century, time or
    period beside it is dropped would lose what the partner sent without a word."""
    text = (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261206*1200*U*"
        "00401*000000001*0*P*>~GS*PO*SENDER*RECEIVER*20261206*1200*1*X*004010~"
        f"ST*850*0001~BEG*00*SA*PO1**20261206~{dtm}~"
        "PO1*1*10*EA*2.5**BP*ITEM1~CTT*1~SE*6*0001~GE*1*1~IEA*1*000000001~"
    )
    (outcome,) = list(_outcomes(text.encode()))
    assert outcome.data is not None
    assert "requested_ship" not in outcome.data["dates"]
    listed = {(e["element"], e["value"]) for e in outcome.data["unmapped"]}
    assert ("DTM02", "20261122") in listed
    assert check_accounting(outcome) == []


# --- Hypothesis: documents with values the mappers do not expect ---------------------------

_SOURCES = sorted((DATA / "cross").glob("*"))


def _x12_variant(data: str, picks: list[tuple[int, str]]) -> str:
    """The X12 text with a value appended to some body segments (an element beyond the
    ones the mapper reads) and some body segments repeated."""
    element, terminator = data[103], data[105]
    segments = data.split(terminator)
    body = [i for i, s in enumerate(segments)
            if s.strip() and s.strip()[:2] not in ("IS", "GS", "ST", "SE", "GE", "IE")]
    out = list(segments)
    extra = 0
    for index, value in picks:
        where = body[index % len(body)]
        out[where] = f"{out[where]}{element}{value}"
        if index % 3 == 0:
            out.insert(where + 1, out[where])
            extra += 1
    text = terminator.join(out)
    # Keep SE01 true so that the envelope accepts the variant.
    return re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) + extra}*", text, count=1)


# Where to put what: an index into the body segments and a value.
_PICKS = st.lists(st.tuples(st.integers(0, 200), st.from_regex(r"[A-Z0-9]{1,6}",
                                                                fullmatch=True)),
                  min_size=1, max_size=6)
_VARIANTS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_VARIANTS
@given(source=st.sampled_from([p for p in _SOURCES if p.suffix == ".x12"]), picks=_PICKS)
def test_variants_account_for_every_value_x12(source: Path, picks: list[tuple[int, str]]
                                              ) -> None:
    data = _x12_variant(source.read_text("ascii"), picks).encode()
    for outcome in _outcomes(data):
        assert check_accounting(outcome) == []


@_VARIANTS
@given(source=st.sampled_from([p for p in _SOURCES if p.suffix == ".edi"]), picks=_PICKS)
def test_variants_account_for_every_value_edifact(source: Path, picks: list[tuple[int, str]]
                                                  ) -> None:
    text = source.read_text("latin-1")
    terminator = "'"
    segments = text.split(terminator)
    body = [i for i, s in enumerate(segments)
            if s.strip() and s.strip()[:3] not in ("UNA", "UNB", "UNG", "UNH", "UNT", "UNE",
                                                   "UNZ", "UNS")]
    for index, value in picks:
        where = body[index % len(body)]
        segments[where] = f"{segments[where]}+{value}" if index % 2 else \
            f"{segments[where]}:{value}"
    for outcome in _outcomes(terminator.join(segments).encode("latin-1")):
        assert check_accounting(outcome) == []


def test_count_values_counts_in_the_units_listed() -> None:
    """The coverage report's denominator: values mapped plus values listed."""
    data = (DATA / "x12" / "valid" / "850.4010.edi").read_bytes()
    (outcome,) = list(_outcomes(data))
    assert isinstance(outcome, TransactionOutcome) and outcome.data is not None
    total = count_values(outcome.document.segments, X12_COVERAGES["850"])
    assert total == sum(1 for _ in _x12_values(outcome))
    assert 0 < len(outcome.data["unmapped"]) < total
