"""Golden tests of EDIFACT validation and CONTRL over the samples in ../shared/corpus.

For each EDIFACT sample a reviewed JSON in tests/golden/edifact/validation/ holds, per
message, the definition used, the 0083 action and every issue (code and location), plus the
CONTRL edigate writes for each interchange (or the syntax error that stopped reading).
Rewritten only with ``EDIGATE_REGEN_GOLDEN=1``; the diff is reviewed. (The reader and
envelope summaries live beside them, pinned by tests/translators/edifact/test_corpus.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from translators.edifact.contrl import CONTRLOptions, build_contrl
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.edifact.reader import looks_like_edifact
from translators.errors import EDISyntaxError
from translators.record_data import check_canonical

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus"
GOLDEN = HERE / "edifact" / "validation"
NOW = datetime(2024, 1, 1, tzinfo=UTC)

if not CORPUS.is_dir():
    pytest.skip(
        f"{CORPUS} not present (CI has it): corpus golden tests skipped", allow_module_level=True
    )


def _samples() -> list[Path]:
    found = sorted(p for p in (CORPUS / "edifact").rglob("*") if p.is_file())
    found += sorted(
        p for p in (CORPUS / "broken").glob("*")
        if p.is_file() and looks_like_edifact(p.read_bytes()[:64])
    )
    return found


SAMPLES = _samples()


def golden_view(data: bytes) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    contrl: list[str | None] = []
    view: dict[str, Any] = {"messages": messages, "contrl": contrl}
    try:
        for outcome in translate_edifact(data):
            if isinstance(outcome, MessageOutcome):
                issues = []
                for issue in outcome.issues:
                    item = issue.as_dict()
                    item.pop("message")
                    issues.append(item)
                messages.append({
                    "reference": outcome.document.reference,
                    "type": outcome.document.type,
                    "definition": outcome.schema,
                    "action": outcome.action,
                    "issues": issues,
                    # The canonical record the mappers make of it (None: no mapper); the
                    # data the pipeline yields must be exactly what the model makes of it.
                    "record": check_canonical(outcome.data).model_dump(mode="json")
                    if outcome.data is not None else None,
                })
            elif isinstance(outcome, EDIFACTInterchangeOutcome):
                built = build_contrl(outcome, CONTRLOptions(now=NOW))
                contrl.append(built.decode("latin-1") if built is not None else None)
    except EDISyntaxError as exc:
        view["syntax_error"] = {"message": exc.message, "offset": exc.offset}
    return view


@pytest.mark.corpus
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample(path: Path, golden: Callable[[object, Path], None]) -> None:
    """Validation issues, records and the CONTRL written for a corpus sample match the
    reviewed JSON."""
    golden(golden_view(path.read_bytes()), GOLDEN / f"{path.parent.name}__{path.name}.json")
