"""Golden tests over the real-world X12 samples in ../shared/corpus.

Each sample either translates to its reviewed expected JSON (records plus every located
issue) or fails with its expected located errors. Expected files live beside this test in
``x12/`` and are rewritten only with ``EDIGATE_REGEN_GOLDEN=1``; the diff is reviewed.
Every acknowledgment edigate writes for a sample must also pass pyx12 with zero errors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from translators.errors import EDISyntaxError, Issue
from translators.record_data import check_canonical
from translators.x12.ack import AckOptions, build_acknowledgment
from translators.x12.pipeline import (
    TransactionOutcome,
    X12GroupOutcome,
    X12InterchangeOutcome,
    translate_x12,
)
from translators.x12.reader import looks_like_x12

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus"
GOLDEN = HERE / "x12"

if not CORPUS.is_dir():
    pytest.skip(
        f"{CORPUS} not present (CI has it): corpus golden tests skipped", allow_module_level=True
    )


def _samples() -> list[Path]:
    found = sorted(p for p in (CORPUS / "x12").rglob("*") if p.is_file())
    found += sorted(
        p
        for p in (CORPUS / "broken").glob("*")
        if p.is_file() and looks_like_x12(p.read_bytes()[:64])
    )
    return found


SAMPLES = _samples()


def _issue(issue: Issue) -> dict[str, object]:
    data = issue.as_dict()
    data.pop("message")  # wording may improve; codes and locations are the contract
    return data


def golden_view(data: bytes) -> dict[str, Any]:
    """What a sample must translate to: interchanges, groups, transactions, records."""
    interchanges: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    transactions: list[dict[str, Any]] = []
    view: dict[str, Any] = {"interchanges": interchanges}
    try:
        for outcome in translate_x12(data):
            if isinstance(outcome, TransactionOutcome):
                tx = outcome.document
                transactions.append(
                    {
                        "set_id": tx.set_id,
                        "control_number": tx.control_number,
                        "status": outcome.status,
                        "schema": outcome.schema,
                        "issues": [_issue(i) for i in outcome.issues],
                        # The data the pipeline yields must be exactly the model's.
                        "record": check_canonical(outcome.data).model_dump(mode="json")
                        if outcome.data is not None
                        else None,
                    }
                )
            elif isinstance(outcome, X12GroupOutcome):
                groups.append(
                    {
                        "functional_id": outcome.header.functional_id,
                        "control_number": outcome.header.control_number,
                        "version": outcome.header.version,
                        "status": outcome.status,
                        "issues": [_issue(i) for i in outcome.issues],
                        "transactions": transactions,
                    }
                )
                transactions = []
            else:
                interchanges.append(
                    {
                        "control_number": outcome.header.control_number,
                        "issues": [_issue(i) for i in outcome.issues],
                        "groups": groups,
                    }
                )
                groups = []
    except EDISyntaxError as exc:
        view["syntax_error"] = {"message": exc.message, "offset": exc.offset}
    return view


def _golden_path(sample: Path) -> Path:
    rel = sample.relative_to(CORPUS)
    return GOLDEN / (rel.as_posix().replace("/", "__") + ".json")


@pytest.mark.corpus
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_sample_matches_golden(sample: Path, golden: Callable[[object, Path], None]) -> None:
    """The sample's records and located issues equal its reviewed expected JSON."""
    golden(golden_view(sample.read_bytes()), _golden_path(sample))


@pytest.mark.corpus
def test_no_stale_golden_files() -> None:
    """Every golden file belongs to a sample that still exists."""
    expected = {_golden_path(s).name for s in SAMPLES}
    present = {p.name for p in GOLDEN.glob("*.json")}
    assert present - expected == set()


@pytest.mark.corpus
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_acknowledgments_pass_pyx12(
    sample: Path, pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """Every 997/999/TA1 edigate writes for the sample validates in pyx12 with zero errors."""
    acks: list[bytes] = []
    try:
        for outcome in translate_x12(sample.read_bytes()):
            if isinstance(outcome, X12InterchangeOutcome):
                ack = build_acknowledgment(outcome, AckOptions(ta1="auto"))
                if ack is not None:
                    acks.append(ack)
    except EDISyntaxError:
        pass  # the interchanges before the unreadable bytes are still acknowledged
    for ack in acks:
        assert pyx12_errors(ack) == [], ack.decode()
