"""The translators run no source generated at run time: what they compile from schemas
is data (tables walked by ordinary code), which the mypyc build compiles like the rest."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "translators"


def test_no_module_calls_exec_eval_or_compile() -> None:
    """No call of ``exec``, ``eval`` or ``compile`` anywhere under translators/."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("exec", "eval", "compile")):
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.func.id}")
    assert found == []
