"""The closed X12 code lists in standard_codes.py agree with what their provenance says.

The lists were transcribed by hand and then cross-checked code for code against a second
source (schemas/x12/README.md); the counts recorded there and in the source's comments are
what was checked. An edit to a list that does not update them, or that repeats a code, fails
here, so a slip cannot slip past the record of the cross-check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.x12.source import standard_codes
from schemas.x12.source.standard_codes import BY_VERSION

X12_DIR = Path(standard_codes.__file__).resolve().parents[1]
SOURCE = Path(standard_codes.__file__).read_text(encoding="utf-8")
README = (X12_DIR / "README.md").read_text(encoding="utf-8")
FAMILIES = {"004010": standard_codes._4010, "005010": standard_codes._5010}


def _comment_counts(family_var: str) -> dict[str, int]:
    """Element -> the count its `# ...: N codes` comment states, within one family's dict."""
    start = SOURCE.index(f"{family_var}: dict[str, str] = {{")
    end = SOURCE.index("\n}\n", start)
    body = SOURCE[start:end]
    found = re.findall(r"#[^\n]*: (\d+) codes\n\s+\"(\w+)\": \(", body)
    return {element: int(count) for count, element in found}


def _readme_rows() -> dict[str, tuple[int, int, int]]:
    """Element -> (004010 codes, 005010 source, 005010 enforced) from the README table."""
    rows = re.findall(r"^\| (\d+) [^|]+\|[^|]+\| (\d+) \| (\d+) \| (\d+) \|$", README, re.M)
    return {element: (int(a), int(b), int(c)) for element, a, b, c in rows}


@pytest.mark.parametrize("version", sorted(FAMILIES))
def test_no_list_repeats_a_code(version: str) -> None:
    for element, codes in FAMILIES[version].items():
        listed = codes.split()
        assert len(listed) == len(set(listed)), (version, element)


@pytest.mark.parametrize(("version", "family_var"), [("004010", "_4010"), ("005010", "_5010")])
def test_comment_counts_match_the_lists(version: str, family_var: str) -> None:
    stated = _comment_counts(family_var)
    assert stated.keys() == FAMILIES[version].keys()
    assert {e: len(c.split()) for e, c in FAMILIES[version].items()} == stated


def test_readme_table_matches_the_lists() -> None:
    """The README's per-element counts are those of the source and of what is enforced."""
    expected = {
        element: (
            len(standard_codes._4010[element].split()),
            len(standard_codes._5010[element].split()),
            len(BY_VERSION["005010"][element].split()),
        )
        for element in standard_codes._4010
    }
    assert _readme_rows() == expected


def test_005010_enforces_every_004010_code() -> None:
    for element, codes in BY_VERSION["004010"].items():
        assert set(codes.split()) <= set(BY_VERSION["005010"][element].split()), element
