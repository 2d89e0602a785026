"""Published JSON Schemas of the canonical records, generated from the models.

Responsible for ``write_json_schemas`` (one ``<kind>.schema.json`` per record kind plus
``record.schema.json`` for the union) and its command line::

    python -m translators.records_schema schemas/records          # regenerate
    python -m translators.records_schema schemas/records --check  # exit 1 naming stale files

Schemas describe the serialised (JSON) form, so decimals are strings. Output is
deterministic: sorted keys, two-space indent, trailing newline.
It must not hand-edit schemas: the models are the source of truth.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from translators.records import RECORD_ADAPTER, RECORD_MODELS

__all__ = ["render_json_schemas", "stale_json_schemas", "write_json_schemas"]

_UNION_FILE = "record.schema.json"


def _dump(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_json_schemas() -> dict[str, str]:
    """File name -> schema text for every record kind and the union."""
    out: dict[str, str] = {}
    for kind, model in sorted(RECORD_MODELS.items()):
        out[f"{kind}.schema.json"] = _dump(model.model_json_schema(mode="serialization"))
    out[_UNION_FILE] = _dump(RECORD_ADAPTER.json_schema(mode="serialization"))
    return out


def write_json_schemas(directory: Path) -> list[Path]:
    """Write the schemas into ``directory`` (created if needed); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in render_json_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_json_schemas(directory: Path) -> list[Path]:
    """Schema files in ``directory`` that are missing or differ from the models."""
    stale: list[Path] = []
    for name, text in render_json_schemas().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m translators.records_schema")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_json_schemas(args.directory)
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_json_schemas(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
