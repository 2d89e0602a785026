"""Shared fixtures. pyx12 is an implementation nobody here wrote; ``pyx12_errors`` runs its full
validator with edigate's maps and is the independent check on our acknowledgments and maps.
``golden`` compares a JSON view with its reviewed golden file (rewritten only with
``EDIGATE_REGEN_GOLDEN=1``)."""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

MAPS = Path(__file__).resolve().parents[1] / "schemas" / "x12" / "maps"


def _share_pyx12_code_lists() -> None:
    """pyx12 parses the maps folder's codes.xml again for every map it loads (twice per
    document); with the closed X12 code lists that file is large and the parse dominated
    every pyx12 check. The file does not change during a run and pyx12's ExternalCodes is
    read-only once built (frozensets), so one instance per folder is shared: pyx12 still
    judges every code against the lists it parsed from our maps."""
    try:
        from pyx12 import codes
    except ImportError:
        return
    built: dict[tuple[str | None, str | None], object] = {}
    parse = codes.ExternalCodes

    def shared(base_path: str | None = None, exclude: str | None = None) -> object:
        key = (base_path, exclude)
        if key not in built:
            built[key] = parse(base_path, exclude)
        return built[key]

    codes.ExternalCodes = shared  # type: ignore[assignment,misc]


_share_pyx12_code_lists()


def pyx12_errors(data: bytes, map_path: Path = MAPS) -> list[str]:
    """pyx12's findings on ``data`` (empty when it finds none)."""
    params = pytest.importorskip("pyx12.params")
    document = pytest.importorskip("pyx12.x12n_document")
    logging.disable(logging.CRITICAL)
    try:
        with tempfile.NamedTemporaryFile(suffix=".x12") as handle:
            handle.write(data)
            handle.flush()
            report = io.StringIO()
            # pyx12 never closes a file it opens from a name, so it gets one opened here
            # (as it would open it: ASCII), closed when the block ends. (Collecting the
            # leaked one instead cost a full garbage collection a call, seconds late in
            # the suite.)
            with open(handle.name, encoding="ascii") as source:
                ok = document.x12n_document(
                    params.params(), source, None, None, None, report, map_path=str(map_path)
                )
    finally:
        logging.disable(logging.NOTSET)
    errors = _collect_errors(json.loads(report.getvalue() or "{}"))
    if not ok and not errors:
        errors.append("pyx12 reported the document invalid")
    return errors


def _collect_errors(node: object, where: str = "") -> list[str]:
    """Every entry of every ``errors`` list in pyx12's JSON report, with where it sits."""
    found: list[str] = []
    if isinstance(node, dict):
        here = (
            where
            + "/"
            + str(
                node.get("seg_id")
                or node.get("trn_set_id")
                or node.get("gs_control_num")
                or node.get("isa_trn_set_id")
                or ""
            )
        )
        for key, value in node.items():
            if key == "errors" and isinstance(value, list):
                found += [f"{here}: {json.dumps(e)}" for e in value]
            else:
                found += _collect_errors(value, here)
    elif isinstance(node, list):
        for item in node:
            found += _collect_errors(item, where)
    return found


@pytest.fixture(name="pyx12_errors")
def _pyx12_errors_fixture() -> Callable[..., list[str]]:
    """The ``pyx12_errors`` function, for tests that need pyx12's verdict."""
    return pyx12_errors


def check_golden(view: object, path: Path) -> None:
    """``view`` equals the JSON in ``path``; with EDIGATE_REGEN_GOLDEN=1 ``path`` is
    rewritten first (and the diff reviewed like code)."""
    text = json.dumps(view, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("EDIGATE_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}; run with EDIGATE_REGEN_GOLDEN=1 and review"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)


@pytest.fixture(name="golden")
def _golden_fixture() -> Callable[[object, Path], None]:
    """The ``check_golden`` function."""
    return check_golden


_REPO_VAR = Path(__file__).resolve().parents[1] / "var"


@pytest.fixture(autouse=True, scope="session")
def _repository_var_stays_untouched() -> Iterator[None]:
    """No test writes into the checkout's ./var (where `make run` keeps its database,
    keys and ledger anchor): a stray anchor or stamp there would be read by the next
    demo. A test whose settings miss ``var_dir`` fails the session here."""
    before = set(_REPO_VAR.rglob("*")) if _REPO_VAR.exists() else set()
    yield
    after = set(_REPO_VAR.rglob("*")) if _REPO_VAR.exists() else set()
    created = sorted(str(path.relative_to(_REPO_VAR.parent)) for path in after - before)
    assert not created, f"tests wrote into the checkout: {created}"
