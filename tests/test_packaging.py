"""The installed package (the Docker image installs a wheel, not the source tree) carries
every non-Python file the code reads at run time: the package-data patterns in
pyproject.toml cover each such file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Folders whose non-Python files are read at run time.
RUNTIME_DATA = {
    "gateway": ["ui/templates", "ui/static", "runtime/demo_data"],
    "schemas": ["x12/maps", "edifact/directories", "edifact/source", "records"],
}


def _patterns() -> dict[str, list[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    return data


@pytest.mark.parametrize(("package", "folder"),
                         [(p, f) for p, folders in RUNTIME_DATA.items() for f in folders])
def test_runtime_files_are_package_data(package: str, folder: str) -> None:
    """Every file under the folder matches one of the package's package-data globs."""
    root = REPO / package
    files = [p for p in (root / folder).rglob("*")
             if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    assert files, f"{package}/{folder} has no data files: the list above is stale"
    patterns = _patterns().get(package, [])
    # PurePath.match compares from the right, as setuptools' globs select files here.
    missing = [str(p.relative_to(root)) for p in files
               if not any(p.relative_to(root).match(pattern) for pattern in patterns)]
    assert missing == [], f"not packaged (add to [tool.setuptools.package-data] {package})"
