"""Compile schemas/edifact/source into the directory files in schemas/edifact/directories.

``python -m schemas.edifact.build`` writes one self-contained JSON file per directory
(``d96a.json``, ``d01b.json``: the directory's segments, the syntax version 3 service
segments, its message structures, CONTRL, and the code lists its elements use; and
``syntax4.json``: the version 4 service segments and CONTRL 4:1). ``--check`` writes
nothing, exits 1 and names every stale or missing file when the committed files differ
from the source. Output is deterministic.
Code lists: ``source/codes.txt`` holds the lists shared by every directory (the service
lists, and the names of the codes the mappers use); a directory folder's own ``codes.txt``
holds the lists that are complete for that directory (``[closed]``), which replace the
shared list of the same data element in that directory's file, taking their code names
from the shared list. So a list is closed per directory, with that directory's codes: a
code a later directory added is rejected in a D.96A message. The compact source formats
are described at the top of each source file and in the README beside this module.
This module only turns data into data; it must not know about translators or the gateway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schemas import generated

__all__ = ["BUILT_DIR", "SOURCE_DIR", "generate", "main", "merge_codes", "parse_codes",
           "stale_files"]

SOURCE_DIR = Path(__file__).resolve().parent / "source"
BUILT_DIR = Path(__file__).resolve().parent / "directories"

# (output, directory name as in UNH S009, syntax version, source folders, messages folders)
_OUTPUTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("d96a.json", "D96A", "3", ("d96a", "service3")),
    ("d01b.json", "D01B", "3", ("d01b", "service3")),
    ("syntax4.json", "4", "4", ("service4",)),
)
_FORMAT = re.compile(r"^(an|a|n)(\.\.)?([1-9][0-9]*)$")
_STATUS = ("M", "C")
_GROUP = re.compile(r"^SG[0-9]+$")  # not SGP, SGU: those are segments

Json = dict[str, Any]


class SourceError(ValueError):
    """A source file that does not follow its format; names the file and line."""


def _lines(path: Path) -> list[tuple[int, int, list[str]]]:
    """(line number, indent level, words) of the non-comment lines of ``path``."""
    out: list[tuple[int, int, list[str]]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if indent % 2:
            raise SourceError(f"{path}:{number}: indent is not a multiple of two spaces")
        out.append((number, indent // 2, raw.split()))
    return out


def _simple(path: Path, number: int, words: list[str]) -> Json:
    ident, status, fmt = words[0], words[1], words[2]
    if status not in _STATUS or not _FORMAT.match(fmt):
        raise SourceError(f"{path}:{number}: expected 'ID M|C format name', got {words!r}")
    return {"id": ident, "status": status, "format": fmt, "name": " ".join(words[3:])}


def parse_segments(path: Path) -> dict[str, Json]:
    """Segment table: ``TAG name`` / ``  ID status [format] name`` / ``    ID status format``."""
    segments: dict[str, Json] = {}
    current: Json | None = None
    composite: Json | None = None
    for number, level, words in _lines(path):
        if level == 0:
            current = {"name": " ".join(words[1:]), "elements": []}
            segments[words[0]] = current
            composite = None
        elif level == 1 and current is not None:
            if len(words) >= 3 and _FORMAT.match(words[2]):
                current["elements"].append(_simple(path, number, words))
                composite = None
            else:
                if len(words) < 2 or words[1] not in _STATUS:
                    raise SourceError(f"{path}:{number}: expected 'ID M|C name', got {words!r}")
                composite = {"id": words[0], "status": words[1], "name": " ".join(words[2:]),
                             "components": []}
                current["elements"].append(composite)
        elif level == 2 and composite is not None:
            composite["components"].append(_simple(path, number, words))
        else:
            raise SourceError(f"{path}:{number}: unexpected indent")
    for tag, seg in segments.items():
        for element in seg["elements"]:
            if "components" in element and not element["components"]:
                raise SourceError(f"{path}: {tag} composite {element['id']} has no components")
    return segments


def parse_structure(path: Path) -> list[Any]:
    """Message structure: ``TAG|SGn status max`` with two spaces of indent per group level."""
    root: list[Any] = []
    stack: list[list[Any]] = [root]
    for number, level, words in _lines(path):
        if len(words) != 3 or words[1] not in _STATUS or not words[2].isdigit():
            raise SourceError(f"{path}:{number}: expected 'TAG M|C max', got {words!r}")
        if level >= len(stack):
            raise SourceError(f"{path}:{number}: indent without a segment group")
        del stack[level + 1 :]
        entry: list[Any] = [words[0], words[1], int(words[2])]
        if _GROUP.match(words[0]):
            kids: list[Any] = []
            entry.append(kids)
            stack[level].append(entry)
            stack.append(kids)
        else:
            stack[level].append(entry)
    return root


def parse_codes(path: Path) -> dict[str, Json]:
    """Code lists: ``ID name [closed|open]`` then ``  code [name]`` lines, no code twice."""
    lists: dict[str, Json] = {}
    current: Json | None = None
    for number, level, words in _lines(path):
        if level == 0:
            kind = words[-1]
            if kind not in ("[closed]", "[open]"):
                raise SourceError(f"{path}:{number}: a list ends with [closed] or [open]")
            if words[0] in lists:
                raise SourceError(f"{path}:{number}: list {words[0]} is given twice")
            current = {"name": " ".join(words[1:-1]), "closed": kind == "[closed]", "codes": {}}
            lists[words[0]] = current
        elif current is not None:
            if words[0] in current["codes"]:
                raise SourceError(f"{path}:{number}: code {words[0]} is given twice")
            current["codes"][words[0]] = " ".join(words[1:])
        else:
            raise SourceError(f"{path}:{number}: code outside a list")
    return lists


def merge_codes(shared: dict[str, Json], own: dict[str, Json], path: Path) -> dict[str, Json]:
    """The code lists of one directory: ``shared`` with each list of ``own`` (the
    directory's complete lists) in place of the shared one. A code keeps the name the
    directory file gives it, else the shared list's name for it, else none."""
    merged = dict(shared)
    for ident, code_list in own.items():
        if not code_list["closed"]:
            raise SourceError(f"{path}: {ident}: a directory's own lists are complete "
                              "([closed]); open lists belong in source/codes.txt")
        names = shared.get(ident, {}).get("codes", {})
        merged[ident] = {
            "name": code_list["name"],
            "closed": True,
            "codes": {code: name or names.get(code, "")
                      for code, name in code_list["codes"].items()},
        }
    return merged


def _check_structure(name: str, nodes: list[Any], segments: dict[str, Json]) -> None:
    for node in nodes:
        if len(node) == 4:
            first = node[3][0] if node[3] else None
            if first is None or len(first) != 3 or first[1:] != ["M", 1]:
                raise SourceError(f"{name}: group {node[0]} does not start with a M 1 segment")
            _check_structure(name, node[3], segments)
        elif node[0] not in segments:
            raise SourceError(f"{name}: segment {node[0]} is not defined")


def _simple_elements(segments: dict[str, Json]) -> dict[str, Json]:
    """Data element id -> its definition (format) for every simple element or component."""
    found: dict[str, Json] = {}
    for seg in segments.values():
        for element in seg["elements"]:
            for simple in element.get("components", (element,)):
                found.setdefault(simple["id"], simple)
    return found


def _element_ids(segments: dict[str, Json]) -> set[str]:
    ids: set[str] = set()
    for seg in segments.values():
        for element in seg["elements"]:
            ids.add(element["id"])
            ids.update(c["id"] for c in element.get("components", ()))
    return ids


def _check_codes(name: str, codes: dict[str, Json], segments: dict[str, Json]) -> None:
    """Every code of a closed list fits its data element's format: a mistyped code would
    otherwise be one no message could ever send, and silently reject a valid one."""
    simple = _simple_elements(segments)
    for ident, code_list in codes.items():
        element = simple.get(ident)
        if element is None or not code_list["closed"]:
            continue
        match = _FORMAT.match(element["format"])
        assert match is not None  # _simple checked the format
        kind, dots, length = match.group(1), match.group(2), int(match.group(3))
        for code in code_list["codes"]:
            fits = len(code) <= length and (dots or len(code) == length)
            if kind == "n":
                fits = fits and code.isdigit()
            elif kind == "a":
                fits = fits and code.isalpha()
            if not fits:
                raise SourceError(f"{name}: code {code!r} of list {ident} does not fit "
                                  f"{ident}'s format {element['format']}")


def generate() -> dict[str, str]:
    """File name -> text of every built directory file."""
    shared = parse_codes(SOURCE_DIR / "codes.txt")
    out: dict[str, str] = {}
    for filename, directory, syntax, folders in _OUTPUTS:
        segments: dict[str, Json] = {}
        messages: dict[str, Any] = {}
        codes = shared
        for folder in folders:
            base = SOURCE_DIR / folder
            for tag, seg in parse_segments(base / "segments.txt").items():
                segments.setdefault(tag, seg)
            for path in sorted((base / "messages").glob("*.txt")):
                messages[path.stem] = parse_structure(path)
            if (base / "codes.txt").is_file():
                codes = merge_codes(codes, parse_codes(base / "codes.txt"), base / "codes.txt")
        for message, structure in messages.items():
            _check_structure(f"{filename}:{message}", structure, segments)
        _check_codes(filename, codes, segments)
        used = _element_ids(segments)
        document = {
            "comment": "generated by schemas/edifact/build.py from schemas/edifact/source "
            "- do not edit",
            "directory": directory,
            "syntax_version": syntax,
            "messages": dict(sorted(messages.items())),
            "segments": dict(sorted(segments.items())),
            "codes": {k: v for k, v in sorted(codes.items()) if k in used},
        }
        out[filename] = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    return out


def stale_files(out: dict[str, str]) -> list[str]:
    return generated.stale_files(out, BUILT_DIR, "*.json")


def main(argv: Sequence[str] | None = None) -> int:
    return generated.write_or_check(generate(), BUILT_DIR, pattern="*.json",
                                    module="schemas.edifact.build",
                                    description=(__doc__ or "").splitlines()[0], argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
