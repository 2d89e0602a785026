"""A partner profile's ``[validation]`` table: which code lists are relaxed for the partner,
checked when the profile loads, and what the relaxation does to validation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from partners import PartnerConfigError, load_profile
from translators.edifact.contrl import build_contrl
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.x12.pipeline import TransactionOutcome, translate_x12

DATA = Path(__file__).resolve().parents[1] / "data"

PROFILE = """
    id = "relaxed-partner"
    name = "Relaxed Partner"

    [x12]
    qualifier = "ZZ"
    id = "RELAXED"

    [edifact]
    id = "5412345000013"
"""


def profile(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "relaxed-partner.toml"
    path.write_text(textwrap.dedent(PROFILE) + textwrap.dedent(extra), encoding="utf-8")
    return path


def test_relax_code_lists_loads(tmp_path: Path) -> None:
    """X12 element references and EDIFACT data element tags are read as given."""
    loaded = load_profile(profile(tmp_path, """
        [validation]
        relax_code_lists = ["BEG01", "N101", "0081", "3035"]
    """))
    assert loaded.validation.relax_code_lists == ("BEG01", "N101", "0081", "3035")


def test_without_a_validation_table_nothing_is_relaxed(tmp_path: Path) -> None:
    assert load_profile(profile(tmp_path, "")).validation.relax_code_lists == ()


@pytest.mark.parametrize("bad", ['["n101"]', '["N1"]', '["303"]', '["N101", "N101"]', '"N101"',
                                 '[101]'])
def test_bad_references_are_reported_with_their_key(tmp_path: Path, bad: str) -> None:
    """Lower case, a tag without a position, a three-digit tag, a duplicate, a string
    instead of a list, a number: each is a problem naming validation.relax_code_lists."""
    path = profile(tmp_path, f"""
        [validation]
        relax_code_lists = {bad}
    """)
    with pytest.raises(PartnerConfigError) as caught:
        load_profile(path)
    assert any("validation.relax_code_lists" in str(p) for p in caught.value.problems)


def test_unknown_keys_in_validation_are_errors(tmp_path: Path) -> None:
    path = profile(tmp_path, """
        [validation]
        relax_codelists = ["N101"]
    """)
    with pytest.raises(PartnerConfigError) as caught:
        load_profile(path)
    assert any("relax_codelists" in str(p) for p in caught.value.problems)


def test_x12_code_list_violation_is_an_error_unless_relaxed(tmp_path: Path) -> None:
    """BEG01 99 is not a 353 code: 723 code 7 at BEG01, the set rejected. With BEG01 in
    the partner's relax_code_lists the same finding is a warning and the set is accepted
    with errors noted (AK5 E)."""
    data = (DATA / "x12" / "validation" / "850-code-not-in-closed-list.x12").read_bytes()
    strict = next(o for o in translate_x12(data) if isinstance(o, TransactionOutcome))
    assert [(i.code, i.severity, i.segment_tag, i.element_position) for i in strict.issues] == [
        ("7", "error", "BEG", 1)]
    assert strict.status == "R"
    relax = load_profile(profile(tmp_path, """
        [validation]
        relax_code_lists = ["BEG01"]
    """)).validation.relax_code_lists
    relaxed = next(o for o in translate_x12(data, relax_code_lists=relax)
               if isinstance(o, TransactionOutcome))
    assert [(i.code, i.severity, i.segment_tag, i.element_position) for i in relaxed.issues] == [
        ("7", "warning", "BEG", 1)]
    assert relaxed.status == "E"


def test_edifact_code_list_violation_is_an_error_unless_relaxed(tmp_path: Path) -> None:
    """UNS+X is not a 0081 code: code 12 at UNS 0081, the message rejected (CONTRL 4);
    relaxed for the partner it is a warning and the message is accepted (7)."""
    data = (DATA / "edifact" / "validation" / "orders-code-not-in-closed-list.edi").read_bytes()
    strict = next(o for o in translate_edifact(data) if isinstance(o, MessageOutcome))
    assert [(i.code, i.severity, i.segment_tag, i.data_element) for i in strict.issues] == [
        ("12", "error", "UNS", "0081")]
    assert strict.action == "4"
    relax = load_profile(profile(tmp_path, """
        [validation]
        relax_code_lists = ["0081"]
    """)).validation.relax_code_lists
    relaxed = next(o for o in translate_edifact(data, relax_code_lists=relax)
               if isinstance(o, MessageOutcome))
    assert [(i.code, i.severity) for i in relaxed.issues] == [("12", "warning")]
    assert relaxed.action == "7"


def test_relaxing_never_touches_content_rules() -> None:
    """Relaxing 2380 or 6066 does not turn a wrong date or control total into a warning:
    those are not code lists."""
    data = (DATA / "edifact" / "validation" / "orders-control-totals-wrong.edi").read_bytes()
    found = next(o for o in translate_edifact(data, relax_code_lists=("6066", "2380"))
             if isinstance(o, MessageOutcome))
    assert {i.severity for i in found.issues} == {"error"}


def test_edifact_party_code_outside_d96a_is_an_error_unless_relaxed(tmp_path: Path) -> None:
    """NAD+mf (lower case: no 3035 code of D.96A; real EANCOM samples send it): code 12 at
    NAD (segment 5) 3035, CONTRL UCS 5 / UCD 12 element 1, the message rejected. A partner
    whose profile relaxes 3035 gets the same finding as a warning and the message is
    accepted (UCM 7)."""
    data = (DATA / "edifact" / "validation" / "orders-d96a-party-not-in-3035.edi").read_bytes()
    found = list(translate_edifact(data))
    strict = next(o for o in found if isinstance(o, MessageOutcome))
    assert [(i.code, i.severity, i.segment_tag, i.segment_position, i.element_position,
             i.data_element, i.bad_value) for i in strict.issues] == [
        ("12", "error", "NAD", 5, 1, "3035", "mf")]
    assert strict.action == "4"
    contrl = build_contrl(next(o for o in found if isinstance(o, EDIFACTInterchangeOutcome)))
    assert contrl is not None and b"+4'UCS+5'UCD+12+1'UNT" in contrl
    relax = load_profile(profile(tmp_path, """
        [validation]
        relax_code_lists = ["3035"]
    """)).validation.relax_code_lists
    found = list(translate_edifact(data, relax_code_lists=relax))
    relaxed = next(o for o in found if isinstance(o, MessageOutcome))
    assert [(i.code, i.severity, i.data_element) for i in relaxed.issues] == [
        ("12", "warning", "3035")]
    assert relaxed.action == "7"
    contrl = build_contrl(next(o for o in found if isinstance(o, EDIFACTInterchangeOutcome)))
    assert contrl is not None and b"ORDERS:D:96A:UN+7'" in contrl
