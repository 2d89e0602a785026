"""A partner profile's ``[retention]`` table: days per record kind, final status or
default, checked when the profile loads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from partners import PartnerConfigError, load_profile
from partners.profile import RECORD_KINDS
from translators.records import RECORD_MODELS

PROFILE = """
    id = "kept-partner"
    name = "Kept Partner"

    [x12]
    qualifier = "ZZ"
    id = "KEPT"
"""


def profile(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "kept-partner.toml"
    path.write_text(textwrap.dedent(PROFILE) + textwrap.dedent(extra), encoding="utf-8")
    return path


def test_record_kinds_are_the_translators_kinds() -> None:
    """The profile's list of record kinds is the translators' (partners may not import
    them, so the list is repeated and pinned here)."""
    assert frozenset(RECORD_MODELS) == RECORD_KINDS


def test_retention_table_loads(tmp_path: Path) -> None:
    """Kinds, statuses and default are read as days."""
    loaded = load_profile(profile(tmp_path, """
        [retention]
        invoice = 2555
        functional_ack = 90
        rejected = 30
        default = 365
    """))
    assert loaded.retention == {"invoice": 2555, "functional_ack": 90, "rejected": 30,
                                "default": 365}


def test_without_a_retention_table_nothing_is_set(tmp_path: Path) -> None:
    assert load_profile(profile(tmp_path, "")).retention == {}


@pytest.mark.parametrize(("line", "wording"), [
    ("invoices = 30", "did you mean 'invoice'"),
    ("received = 30", "no record kind"),
    ("invoice = 0", "retention.invoice"),
    ("invoice = \"30\"", "retention.invoice"),
    ("invoice = 40000", "retention.invoice"),
])
def test_bad_retention_entries_are_located(tmp_path: Path, line: str, wording: str) -> None:
    """A misspelt kind, a non-final status, zero, a string, too many days: each a problem
    naming the retention table."""
    with pytest.raises(PartnerConfigError) as caught:
        load_profile(profile(tmp_path, f"[retention]\n{line}\n"))
    text = " ".join(str(p) for p in caught.value.problems)
    assert "retention" in text
    assert wording in text
