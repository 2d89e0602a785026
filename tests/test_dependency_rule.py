"""The dependency rule of docs/ARCHITECTURE.md, checked on the imports of every module.

gateway -> {translators, partners, schemas}; partners -> schemas; translators -> schemas;
nothing in the shipped packages imports gateway (its tests and the benchmarks may); translators
never import partners, nor a web framework or an ORM.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", ".git", "build", "dist", "node_modules", "__pycache__", ".mypy_cache"}

# top-level package -> top-level modules it must not import
FORBIDDEN: dict[str, frozenset[str]] = {
    "translators": frozenset({"gateway", "partners", "fastapi", "starlette", "sqlalchemy"}),
    "schemas": frozenset({"gateway", "partners", "translators", "fastapi", "sqlalchemy"}),
    "partners": frozenset({"gateway", "translators", "fastapi", "sqlalchemy"}),
}


def python_files() -> list[Path]:
    """Every .py file of the repository outside virtualenvs, caches and build output."""
    return sorted(
        path
        for path in REPO.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(REPO).parts)
        and not any(part.endswith(".egg-info") for part in path.relative_to(REPO).parts)
    )


def module_name(path: Path) -> str:
    """``translators/x12/reader.py`` -> ``translators.x12.reader``."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, path: Path) -> set[str]:
    """Absolute names of every module ``source`` imports, relative imports resolved.

    Imports under ``if TYPE_CHECKING:`` count too: they are a dependency for the type checker.
    """
    tree = ast.parse(source, filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            # importlib.import_module("gateway.x") is an import too (the lazy facade uses it).
            found.add(node.args[0].value)
    return found


def top_levels(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules if m}


def violations(path: Path, source: str) -> list[str]:
    """The rule's complaints about one file, as ``path: imports X`` strings."""
    rel = path.relative_to(REPO)
    owner = rel.parts[0]
    imported = top_levels(imported_modules(source, path))
    banned = set(FORBIDDEN.get(owner, frozenset()))
    # The gateway's own tests (tests/gateway/, mirroring the package) and the benchmarks
    # that measure it (bench/: tooling outside the shipped packages) are its only users.
    if owner not in ("gateway", "bench") and rel.parts[:2] != ("tests", "gateway"):
        banned.add("gateway")
    return [f"{rel}: imports {name}" for name in sorted(imported & banned)]


def test_the_scan_sees_every_layer() -> None:
    """The file walk finds modules of every layer, so an empty scan cannot pass silently."""
    owners = {p.relative_to(REPO).parts[0] for p in python_files()}
    assert {"translators", "schemas", "partners", "gateway", "tests"} <= owners
    assert REPO / "translators" / "x12" / "reader.py" in python_files()


def test_dependency_rule_holds() -> None:
    """No module breaks the dependency rule: see the module docstring for the rule."""
    found: list[str] = []
    for path in python_files():
        found += violations(path, path.read_text(encoding="utf-8"))
    assert found == []


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("translators/x12/bad.py", "import gateway.runtime.cli\n", ["imports gateway"]),
        ("translators/bad.py", "from partners import registry\n", ["imports partners"]),
        ("translators/x12/bad.py", "from ...gateway import cli\n", ["imports gateway"]),
        ("translators/bad.py", "import sqlalchemy.orm\n", ["imports sqlalchemy"]),
        ("translators/bad.py", "from fastapi import FastAPI\n", ["imports fastapi"]),
        (
            "translators/bad.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import partners\n",
            ["imports partners"],
        ),
        (
            "translators/bad.py",
            "import importlib\nimportlib.import_module('gateway.runtime.cli')\n",
            ["imports gateway"],
        ),
        ("schemas/x12/bad.py", "from translators.x12 import reader\n", ["imports translators"]),
        ("schemas/bad.py", "import partners\n", ["imports partners"]),
        ("partners/bad.py", "from gateway.runtime import cli\n", ["imports gateway"]),
        ("tests/test_bad.py", "import gateway\n", ["imports gateway"]),
        ("tests/translators/test_bad.py", "from gateway.runtime import cli\n", ["imports gateway"]),
        ("bench/ok.py", "import gateway.as2\n", []),
        ("tests/gateway/test_ok.py", "from gateway.runtime.cli import main\n", []),
        ("gateway/ok.py", "import translators, partners, schemas, gateway.runtime.cli\n", []),
        ("translators/ok.py", "import schemas.x12\nfrom . import errors\n", []),
        ("partners/ok.py", "import schemas\n", []),
    ],
)
def test_checker_catches_violations(where: str, source: str, expected: list[str]) -> None:
    """The checker flags each kind of forbidden import (relative and lazy too) and no more."""
    found = violations(REPO / where, source)
    assert [f.split(": ", 1)[1] for f in found] == expected
