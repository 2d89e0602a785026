"""Reading the configuration files beside the partner profiles (TOML, and JSON for guides).

Responsible for turning a file into its table of data, or into the located problems that
keep it from being one: unreadable, not UTF-8 (with the byte), not valid TOML/JSON (with
the parser's line and column). It must not validate what the table holds.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from partners.errors import ConfigProblem

__all__ = ["read_table"]


def read_table(path: Path) -> tuple[dict[str, Any] | None, list[ConfigProblem]]:
    """The data of ``path`` (JSON for ``.json``, else TOML), or the problems naming it."""
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        return None, [ConfigProblem(source, "", f"cannot be read: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return None, [ConfigProblem(source, "", f"is not UTF-8 text (byte {exc.start})")]
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, [ConfigProblem(source, "", f"is not valid JSON: {exc}")]
        if not isinstance(data, dict):
            return None, [ConfigProblem(source, "", "must hold a JSON object")]
        return data, []
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return None, [ConfigProblem(source, "", f"is not valid TOML: {exc}")]
