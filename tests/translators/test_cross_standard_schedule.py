"""The same planning schedule written as an X12 830 and as EDIFACT DELFOR (D96A, D01B) maps
to the same ``planning_schedule`` record, source and unmapped values apart (those are
located in each standard's own syntax).

Rules as in ``test_cross_standard``: codes kept as sent come from each standard's own list
and ``CODE_PAIRS`` says which X12 code the EDIFACT document uses in its place; the X12
record's codes are rewritten through it, everything else must be equal as it stands. Three
differences are the standards' own and are spelled out here rather than hidden:

- an FST or ATH quantity has no quantity type code (the segment is the type), where
  DELFOR's QTY always has one (6063): ``X12_WITHOUT_TYPE_CODE`` gives the 6063 code the
  EDIFACT document uses for each such quantity's normalised type;
- BFR05 (676, schedule quantity qualifier) is mandatory in the 830 and has no DELFOR
  counterpart, so ``quantity_basis_code`` is X12-only;
- the 830 fixes the order of a line's quantities by segment (ATH, FST, SDP-FST, SHP), D01B
  DELFOR by group (QTY-DTM groups before SCC groups): quantities are compared in a
  canonical order (type, start, quantity) rather than as sent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "cross"


def _cross() -> ModuleType:
    """``test_cross_standard``'s helpers (the test directories are not packages)."""
    spec = importlib.util.spec_from_file_location(
        "_cross_standard_helpers", Path(__file__).with_name("test_cross_standard.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cross = _cross()

CODE_PAIRS: dict[str, dict[str, str]] = {
    "purpose_code": {"00": "9"},  # 353 Original / 1225 Original
    "schedule_type_code": {"DL": "241"},  # 675 Delivery based / 1001 Delivery schedule
    # 680 firm, planning / 4017 firm, planning/forecast; 672 FI finished (labour and
    # material) / 4017 commitment for manufacturing and material.
    "commitment_code": {"C": "1", "D": "4", "FI": "2"},
    # 673 discrete, cumulative with 374 received / 6063 received, cumulative received.
    "type_code": {"01": "48", "02": "70"},
}

# Normalised type of an X12 quantity without a type code -> the 6063 code DELFOR sends.
X12_WITHOUT_TYPE_CODE: dict[str, str] = {"scheduled": "1", "cumulative": "3"}


def _canonical(record: dict[str, Any]) -> dict[str, Any]:
    for line in record["lines"]:
        line["quantities"].sort(
            key=lambda q: (q["type"], q["start"] or "", str(q["quantity"]))
        )
    return record


def _pairs() -> list[str]:
    return sorted(p.name for p in DATA.glob("830-planning-schedule.d*.edi"))


@pytest.mark.parametrize("edifact_file", _pairs())
def test_830_and_delfor_give_the_same_record(edifact_file: str) -> None:
    x12 = cross.x12_record(DATA / "830-planning-schedule.x12")
    edifact = cross.edifact_record(DATA / edifact_file)
    assert edifact.source.transaction_type == "DELFOR"
    assert x12.kind == edifact.kind == "planning_schedule"
    expected = cross.as_edifact_codes(x12.model_dump(exclude=cross.PROVENANCE), CODE_PAIRS)
    assert expected["quantity_basis_code"] == "A"
    expected["quantity_basis_code"] = None
    for line in expected["lines"]:
        for quantity in line["quantities"]:
            if quantity["type_code"] is None:
                quantity["type_code"] = X12_WITHOUT_TYPE_CODE[quantity["type"]]
    assert _canonical(edifact.model_dump(exclude=cross.PROVENANCE)) == _canonical(expected)


def test_both_directories_are_written() -> None:
    assert _pairs() == ["830-planning-schedule.d01b.edi", "830-planning-schedule.d96a.edi"]


def test_code_pairs_are_used() -> None:
    """Every pair rewrites something in the X12 record: no stale entry hides a change."""
    dump = cross.x12_record(DATA / "830-planning-schedule.x12").model_dump(exclude={"source"})
    seen: set[tuple[str, str]] = set()

    def visit(value: Any, field: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(v, k)
        elif isinstance(value, list):
            for v in value:
                visit(v, field)
        elif isinstance(value, str) and value in CODE_PAIRS.get(field, {}):
            seen.add((field, value))

    visit(dump, "")
    assert seen == {(f, code) for f, codes in CODE_PAIRS.items() for code in codes}
