"""X12 355 unit codes -> UN/ECE Recommendation 20 common codes."""

from __future__ import annotations

import pytest

from translators.units import (
    MASS_UNITS,
    REC20_CODES,
    X12_TO_REC20,
    edifact_unit_to_rec20,
    x12_unit_to_rec20,
)


@pytest.mark.parametrize(
    ("x12", "rec20"),
    [
        ("EA", "EA"),
        ("CA", "CS"),
        ("BX", "BX"),
        ("DZ", "DZN"),
        ("LB", "LBR"),
        ("KG", "KGM"),
        ("PK", "PK"),
        ("PL", "D97"),
        ("FT", "FOT"),
        ("IN", "INH"),
        ("GA", "GLL"),
        ("LT", "LTR"),
        ("MR", "MTR"),
        ("CT", "CT"),
        ("PR", "PR"),
        ("RL", "RO"),
        ("CN", "CA"),
        ("PC", "H87"),
        ("UN", "C62"),
    ],
)
def test_common_codes(x12: str, rec20: str) -> None:
    """Common X12 units map to their Rec 20 code, including the false friends CA, KG, PL."""
    assert x12_unit_to_rec20(x12) == rec20


def test_unknown_and_empty() -> None:
    """Unknown, mutually defined and empty codes have no Rec 20 code."""
    assert x12_unit_to_rec20("ZZ") is None
    assert x12_unit_to_rec20("") is None
    assert x12_unit_to_rec20(None) is None


def test_case_and_space_tolerated() -> None:
    """Codes are matched after trimming and upper-casing."""
    assert x12_unit_to_rec20(" ea ") == "EA"


def test_table_size_and_shape() -> None:
    """The table covers at least 60 codes, all 2-character X12 keys and 2-3 character values."""
    assert len(X12_TO_REC20) >= 60
    for key, value in X12_TO_REC20.items():
        assert len(key) == 2 and key == key.upper()
        assert 2 <= len(value) <= 3 and value == value.upper()


def test_edifact_units_pass_through() -> None:
    """EDIFACT 6411 units are Rec 20 already; blanks become None."""
    assert edifact_unit_to_rec20("KGM") == "KGM"
    assert edifact_unit_to_rec20(" ") is None


def test_edifact_codes_outside_rec20_are_not_passed_off() -> None:
    """A 6411 code that is not a Rec 20 code (EANCOM's PCE, a partner's own) has no Rec 20
    code; the record keeps it as sent in ``unit``."""
    assert edifact_unit_to_rec20("PCE") is None
    assert edifact_unit_to_rec20("BOXES") is None
    assert edifact_unit_to_rec20("H87") == "H87"
    assert edifact_unit_to_rec20("c62") == "C62"


def test_weight_units_share_the_table() -> None:
    """X12 weight units (355 as TD108 and MEA04 use it) normalise through the same table,
    including 01 Actual Pounds; every normalised mass unit is a Rec 20 code."""
    assert x12_unit_to_rec20("01") == "LBR"
    assert x12_unit_to_rec20("LB") == "LBR"
    assert x12_unit_to_rec20("KG") == "KGM"
    assert MASS_UNITS <= REC20_CODES
    assert {x12_unit_to_rec20(c) for c in ("01", "LB", "KG", "GR", "OZ", "TN")} <= MASS_UNITS


def test_every_x12_value_is_a_rec20_code() -> None:
    """The table never produces a code ``edifact_unit_to_rec20`` would refuse."""
    assert set(X12_TO_REC20.values()) <= REC20_CODES
