"""Issue 16 point 9 for UN/EDIFACT: validation that does not let bad data through.

Each rule has a hand-written document under tests/data/edifact/validation that breaks it;
the tests translate and validate that document through the pipeline (what the gateway
runs) and assert the located finding, its 0085 code (the CONTRL UCD/UCS code) and whether
it rejects the message.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from translators.edifact.contrl import build_contrl
from translators.edifact.mappers.values import to_decimal
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.edifact.schema import ElementDef
from translators.edifact.validator import _value_error
from translators.errors import Issue

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact" / "validation"

Found = tuple[str, str, str | None, int | None, int | None, int | None, str | None]


def run(name: str, **kwargs: object) -> tuple[list[MessageOutcome], EDIFACTInterchangeOutcome]:
    found = list(translate_edifact((DATA / name).read_bytes(), **kwargs))  # type: ignore[arg-type]
    messages = [o for o in found if isinstance(o, MessageOutcome)]
    end = [o for o in found if isinstance(o, EDIFACTInterchangeOutcome)]
    return messages, end[-1]


def located(issues: list[Issue], severity: str = "error") -> list[Found]:
    """(level, code, tag, segment position, element, component, bad value) of each issue."""
    return [(i.level, i.code, i.segment_tag, i.segment_position, i.element_position,
             i.component_position, i.bad_value) for i in issues if i.severity == severity]


# -- numbers: one rule for the validator and the mappers ----------------------------------

def test_both_decimal_marks_validate_and_translate() -> None:
    """UNA advises the comma, yet PRI carries 12.50: ISO 9735 allows either mark whatever
    the UNA says. The validator accepts every number and the record holds every one of
    them (the unit price used to be read as null while validation said the message was
    fine)."""
    messages, _end = run("orders-both-decimal-marks.edi")
    (message,) = messages
    assert message.issues == [] and message.action == "7"
    assert message.data is not None
    lines = message.data["lines"]
    assert [(line["quantity"], line["unit_price"]) for line in lines] == [
        (Decimal("2.5"), Decimal("12.50")), (Decimal("4"), Decimal("0.75"))]


def test_a_second_decimal_mark_is_19_located() -> None:
    """1.234,5 has a triad separator: 0085 code 19 (invalid decimal notation) at QTY
    C186.6060; the message is rejected and CONTRL says where."""
    messages, end = run("orders-triad-separator.edi")
    (message,) = messages
    assert located(message.issues) == [("element", "19", "QTY", 7, 1, 2, "1.234,5")]
    assert message.action == "4"
    contrl = build_contrl(end)
    assert contrl is not None and b"UCS+7'UCD+19+1:2'" in contrl


_N = ElementDef(id="6060", name="Quantity", mandatory=True, kind="n", min_length=1,
                max_length=15, codes=None)


@given(st.text(alphabet="0123456789.,-+ eE", max_size=12))
def test_what_the_validator_accepts_the_mappers_read(text: str) -> None:
    """Any text: when the validator finds no error in it as an n..15 element, the mappers'
    reader gives a number, and the same number whichever mark the UNA advises."""
    if not text or _value_error(_N, text) is not None:
        return
    read = to_decimal(text)
    assert read is not None
    assert to_decimal(text, ",") == read
    assert read == Decimal(text.replace(",", "."))
