"""Issue 16 point 9 for X12: control totals, GS1 check digits and the one number rule.

Each rule has a hand-written interchange under tests/data/x12/validation that breaks it;
the tests run it through the pipeline (what the gateway runs), assert the located finding
and build the 997 to check the acknowledgment code.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from translators.errors import Issue
from translators.x12.ack import AckOptions, build_acknowledgment
from translators.x12.mappers.elements import to_decimal
from translators.x12.pipeline import TransactionOutcome, X12InterchangeOutcome, translate_x12
from translators.x12.schema import ElementDef, load_schema
from translators.x12.segment import Delimiters, Segment
from translators.x12.validator import TransactionValidator, _compile_element

DATA = Path(__file__).resolve().parents[2] / "data" / "x12" / "validation"

Found = tuple[str, str, str | None, int | None, int | None, str | None]


def run(name: str) -> tuple[list[TransactionOutcome], X12InterchangeOutcome]:
    found = list(translate_x12((DATA / name).read_bytes()))
    sets = [o for o in found if isinstance(o, TransactionOutcome)]
    end = [o for o in found if isinstance(o, X12InterchangeOutcome)]
    return sets, end[-1]


def located(issues: list[Issue], severity: str = "error") -> list[Found]:
    """(level, code, tag, segment position, element, bad value) of each issue."""
    return [(i.level, i.code, i.segment_tag, i.segment_position, i.element_position,
             i.bad_value) for i in issues if i.severity == severity]


def ack_lines(end: X12InterchangeOutcome) -> list[str]:
    built = build_acknowledgment(end, AckOptions())
    assert built is not None
    return [line.strip() for line in built.decode().split("~")]


def test_ctt_counts_and_hash_totals() -> None:
    """Two PO1 with quantities 12 and 3.5. CTT*3*20 is wrong twice: both located at CTT01
    and CTT02 and the set rejected with AK5*R*5 (723 has no code for a value that
    contradicts the transaction's content). CTT*2*15.5 (the decimal sum) and CTT*2*47 (the
    X12 hash total: 12 + 35, decimal points disregarded) are both right."""
    sets, end = run("850-control-totals.x12")
    assert located(sets[0].issues) == [
        ("transaction", "5", "CTT", 6, 1, "3"),
        ("transaction", "5", "CTT", 6, 2, "20"),
    ]
    assert [s.issues for s in sets[1:]] == [[], []]
    lines = ack_lines(end)
    assert lines[lines.index("AK2*850*0001") + 1] == "AK5*R*5"
    assert "AK9*P*3*3*2" in lines


def test_wrong_check_digits_are_located_warnings() -> None:
    """856: an SSCC-18 in MAN*GM and a UPC-A in LIN*UP with wrong check digits are
    warnings at the number (implementation code I12, never in a 997's AK4); right ones
    (an SSCC with the GS1-128 AI 00 in front, an EAN-13) pass. The set is accepted with
    errors noted (AK5*E) and the record keeps the numbers as sent."""
    sets, end = run("856-check-digits.x12")
    (tx,) = sets
    assert located(tx.issues) == []
    assert located(tx.issues, "warning") == [
        ("element", "I12", "MAN", 8, 2, "106141411234567898"),
        ("element", "I12", "LIN", 10, 3, "012345678906"),
    ]
    lines = ack_lines(end)
    assert "AK5*E" in lines and not any(line.startswith("AK4") for line in lines)
    assert tx.data is not None and "012345678906" in str(tx.data)


_VALIDATOR = TransactionValidator(load_schema(
    Path(__file__).resolve().parents[3] / "schemas" / "x12" / "maps" / "850.4010.xml"))
_R = _compile_element(ElementDef(ref="CTT02", position=2, data_element="347", name="Hash",
                                  usage="S", data_type="R", min_length=1, max_length=10,
                                  codes=None, repeat=1))


@given(st.text(alphabet="0123456789.-+ eE,", min_size=1, max_size=10))
def test_what_the_validator_accepts_the_mappers_read(text: str) -> None:
    """Any text: when the validator finds no error in it as an R element, the mappers'
    reader gives that number."""
    issues: list[Issue] = []
    seg = Segment(["CTT", "1", text], 0, 1, Delimiters())
    _VALIDATOR._check_simple(_R, text, seg, 1, "", None, None, issues, 2)
    if not issues:
        assert to_decimal(text) == Decimal(text)
