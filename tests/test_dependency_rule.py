"""The dependency rule of docs/ARCHITECTURE.md, checked on the imports of every module.

gateway -> {translators, partners, schemas}; partners -> schemas; translators -> schemas;
nothing in the shipped packages imports gateway (its tests and the benchmarks may); translators
never import partners, nor a web framework or an ORM.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
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


# -- inside gateway/: layers and no import cycles ---------------------------------------------

# Modules every layer may import: each imports nothing of the gateway but other leaves.
GATEWAY_LEAVES = frozenset({
    "gateway.errors",
    "gateway.runtime.settings",
    "gateway.runtime.metrics",
    "gateway.runtime.stamp",
    "gateway.runtime.logging_limits",
    "gateway.runtime.child_process",
})
# The layers of gateway/, lowest first: a module may import its own layer, lower layers and
# the leaves; only runtime (the composition root, the processes, the CLI) imports every layer.
GATEWAY_LAYERS: tuple[str, ...] = (
    "gateway.store",
    "gateway.ledger",
    "gateway.migrations",
    "gateway.retention",
    "gateway.as2",
    "gateway.delivery",
    "gateway.orders",
    "gateway.processing",
    "gateway.intake",
    "gateway.api",
    "gateway.ui",
    "gateway.runtime",
)
# The exceptions, each with its reason (see docs/ARCHITECTURE.md, "Layer rules").
GATEWAY_UPWARD: dict[str, frozenset[str]] = {
    # The one egress policy checks every outbound connection, AS2 sends included.
    "gateway.as2.outbound": frozenset({"gateway.delivery.egress"}),
}
# Routes read the object graph the composition root built from the app's state.
GATEWAY_STATE_READERS = ("gateway.api", "gateway.ui")


def gateway_modules() -> dict[str, Path]:
    """Every module of gateway/ by dotted name."""
    return {module_name(p): p for p in python_files() if p.relative_to(REPO).parts[0] == "gateway"}


def gateway_imports(source: str, path: Path, known: Collection[str]) -> set[str]:
    """The gateway modules ``source`` imports (module, function and TYPE_CHECKING level),
    each resolved to a module in ``known``: ``from gateway.as2 import cms`` is the module
    ``gateway.as2.cms`` (not the package), ``from gateway.as2.cms import X`` that module."""

    def resolve(name: str) -> str:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name

    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in known else resolve(module))
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(resolve(node.args[0].value))
    return {m for m in found if m.startswith("gateway")} - {module_name(path)}


def layer_of(module: str) -> int | None:
    for index, layer in enumerate(GATEWAY_LAYERS):
        if module == layer or module.startswith(layer + "."):
            return index
    return None


def layer_violations(module: str, imported: set[str]) -> list[str]:
    """``module: imports X`` for every import the layer rule forbids."""
    found: list[str] = []
    for target in sorted(imported):
        if target in GATEWAY_LEAVES or target == "gateway":
            continue
        if module in GATEWAY_LEAVES:
            found.append(f"{module}: imports {target} (a leaf imports only leaves)")
            continue
        mine, theirs = layer_of(module), layer_of(target)
        if mine is None or theirs is None or theirs <= mine:
            continue
        if target in GATEWAY_UPWARD.get(module, frozenset()):
            continue
        if target == "gateway.runtime.state" and module.startswith(GATEWAY_STATE_READERS):
            continue
        found.append(f"{module}: imports {target}")
    return found


def import_cycle(graph: Mapping[str, Collection[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None when it has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def gateway_graph() -> dict[str, set[str]]:
    modules = gateway_modules()
    return {name: gateway_imports(path.read_text(encoding="utf-8"), path, modules)
            for name, path in modules.items()}


def test_the_gateway_scan_sees_every_layer() -> None:
    """Every layer of gateway/ has modules, and the graph has edges: an empty scan fails."""
    graph = gateway_graph()
    assert all(any(layer_of(m) == i for m in graph) for i in range(len(GATEWAY_LAYERS)))
    assert graph.keys() >= GATEWAY_LEAVES
    assert "gateway.processing.processor" in graph["gateway.intake.pipeline"]


def test_gateway_has_no_import_cycle() -> None:
    """No chain of imports inside gateway/ leads back to where it started, counting imports
    inside functions and under TYPE_CHECKING: a cycle hidden that way is still a cycle."""
    assert import_cycle(gateway_graph()) is None


def test_gateway_layers_hold() -> None:
    """Each module of gateway/ imports only its own layer, lower ones and the leaves, but
    for the exceptions listed above (see the layer table in docs/ARCHITECTURE.md)."""
    found: list[str] = []
    for module, imported in gateway_graph().items():
        found += layer_violations(module, imported)
    assert found == []


def test_cycle_finder_reports_a_cycle() -> None:
    """The cycle finder returns the cycle of a graph that has one, and None for a DAG."""
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None


@pytest.mark.parametrize(
    ("module", "imported", "expected"),
    [
        ("gateway.store.db", {"gateway.api.deps"}, ["gateway.store.db: imports gateway.api.deps"]),
        ("gateway.api.records", {"gateway.ui.web"},
         ["gateway.api.records: imports gateway.ui.web"]),
        ("gateway.processing.processor", {"gateway.runtime.state"},
         ["gateway.processing.processor: imports gateway.runtime.state"]),
        ("gateway.intake.pipeline", {"gateway.runtime.settings", "gateway.store.db"}, []),
        ("gateway.runtime.settings", {"gateway.store.db"},
         ["gateway.runtime.settings: imports gateway.store.db (a leaf imports only leaves)"]),
        ("gateway.ui.routes", {"gateway.runtime.state", "gateway.api.cursors"}, []),
        ("gateway.as2.outbound", {"gateway.delivery.egress"}, []),
        ("gateway.as2.mdn", {"gateway.delivery.egress"},
         ["gateway.as2.mdn: imports gateway.delivery.egress"]),
    ],
)
def test_layer_checker_catches_violations(module: str, imported: set[str],
                                          expected: list[str]) -> None:
    """The layer checker flags an import of a higher layer and lets the listed exceptions,
    the leaves and lower layers through."""
    assert layer_violations(module, imported) == expected
