"""Golden tests of the EDIFACT reader and envelope walker over ../shared/corpus.

For each EDIFACT sample (edifact/ and the EDIFACT files under broken/) a reviewed JSON
summary lives in tests/golden/edifact/: segment count, interchanges, groups and messages
(type, version, release, agency, association code) and every issue with its 0085 code and
location, or the syntax error that stopped reading. Rewritten only with
``EDIGATE_REGEN_GOLDEN=1``; the diff is reviewed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from translators.edifact.envelope import (
    GroupEnd,
    GroupHeader,
    InterchangeEnd,
    InterchangeHeader,
    Message,
    walk,
)
from translators.edifact.reader import EDIFACTReader, looks_like_edifact
from translators.errors import EDISyntaxError, Issue

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / ".." / "shared" / "corpus"
GOLDEN = ROOT / "tests" / "golden" / "edifact"

if not CORPUS.is_dir():
    pytest.skip(
        f"{CORPUS} not present (CI has it): EDIFACT corpus golden tests skipped",
        allow_module_level=True,
    )


def _samples() -> list[Path]:
    found = sorted(p for p in (CORPUS / "edifact").rglob("*") if p.is_file())
    found += sorted(
        p
        for p in (CORPUS / "broken").glob("*")
        if p.is_file() and looks_like_edifact(p.read_bytes()[:64])
    )
    return found


SAMPLES = _samples()


def _issues(issues: list[Issue]) -> list[dict[str, object]]:
    out = []
    for issue in issues:
        data = issue.as_dict()
        data.pop("message")  # wording may improve; codes and locations are the contract
        out.append(data)
    return out


def golden_view(data: bytes) -> dict[str, Any]:
    """What a sample must read as: segments, envelopes, messages and located issues."""
    interchanges: list[dict[str, Any]] = []
    view: dict[str, Any] = {"interchanges": interchanges}
    reader = EDIFACTReader(data)
    segments = 0
    current: dict[str, Any] = {}
    group: dict[str, Any] | None = None
    try:
        for event in walk(reader):
            if isinstance(event, InterchangeHeader):
                d = event.delimiters
                current = {
                    "control_reference": event.control_reference,
                    "syntax": f"{event.syntax_id}:{event.syntax_version}",
                    "una": d.service_string() if d.una else None,
                    "sender": [event.sender.id, event.sender.qualifier],
                    "recipient": [event.recipient.id, event.recipient.qualifier],
                    "prepared_at": event.prepared_at.isoformat() if event.prepared_at else None,
                    "test": event.test,
                    "header_issues": _issues(event.issues),
                    "groups": [],
                    "messages": [],
                }
                interchanges.append(current)
            elif isinstance(event, GroupHeader):
                group = {
                    "control_reference": event.control_reference,
                    "message_group_id": event.message_group_id,
                    "header_issues": _issues(event.issues),
                    "messages": [],
                }
                current["groups"].append(group)
            elif isinstance(event, Message):
                segments += len(event.segments)
                target = group["messages"] if group is not None else current["messages"]
                target.append(
                    {
                        "reference": event.reference,
                        "type": event.type,
                        "version": event.version,
                        "release": event.release,
                        "agency": event.agency,
                        "association_code": event.association_code,
                        "segments": len(event.segments),
                        "action": event.action,
                        "issues": _issues(event.issues),
                    }
                )
            elif isinstance(event, GroupEnd):
                assert group is not None
                group["issues"] = _issues(event.issues)
                group["action"] = event.action
                group = None
            elif isinstance(event, InterchangeEnd):
                current["issues"] = _issues(event.issues)
                current["action"] = event.action
    except EDISyntaxError as exc:
        view["syntax_error"] = {"message": exc.message, "offset": exc.offset}
    view["segments_in_messages"] = segments
    return view


def _golden_path(sample: Path) -> Path:
    rel = sample.relative_to(CORPUS)
    return GOLDEN / (rel.as_posix().replace("/", "__") + ".json")


@pytest.mark.corpus
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_sample_matches_golden(sample: Path, golden: Callable[[object, Path], None]) -> None:
    """The sample's envelopes, messages and located issues equal its reviewed JSON."""
    golden(golden_view(sample.read_bytes()), _golden_path(sample))


@pytest.mark.corpus
def test_no_stale_golden_files() -> None:
    """Every golden file belongs to a sample that still exists."""
    expected = {_golden_path(s).name for s in SAMPLES}
    present = {p.name for p in GOLDEN.glob("*.json")}
    assert present - expected == set()
