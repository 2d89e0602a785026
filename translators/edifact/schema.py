"""Load UN/EDIFACT message definitions (schemas/edifact/directories) into immutable objects.

Responsible for reading a built directory file once and turning it into frozen
dataclasses -- segment groups with status and max repeats, segments with their data
elements, composites and components (status M/C, character class a/n/an, min and max
length, the closed code list when there is one) -- and for choosing the definition of a
message from its UNH S009 (type, version, release): the exact directory when edigate has
it, else the nearest one (``MessageDefinition.exact`` is false then).
It must not validate anything itself.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import schemas.edifact as edifact_schemas

__all__ = [
    "CodeList",
    "Directory",
    "ElementDef",
    "GroupDef",
    "MessageDefinition",
    "SegmentDef",
    "SegmentRef",
    "definition_for",
    "load_directory",
]

_FORMAT = re.compile(r"^(an|a|n)(\.\.)?([0-9]+)$")


@dataclass(frozen=True, slots=True)
class CodeList:
    id: str
    name: str
    closed: bool  # complete: values outside it are invalid (0085 code 12)
    codes: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ElementDef:
    """A simple data element, a composite (``components`` set) or a component."""

    id: str  # "1004", "C002"
    name: str
    mandatory: bool
    kind: str  # "a", "n", "an"; "" for a composite
    min_length: int
    max_length: int
    codes: frozenset[str] | None  # only for closed code lists
    components: tuple[ElementDef, ...] = ()

    @property
    def is_composite(self) -> bool:
        return bool(self.components)

    @property
    def format(self) -> str:
        if self.is_composite:
            return ""
        if self.min_length == self.max_length:
            return f"{self.kind}{self.max_length}"
        return f"{self.kind}..{self.max_length}"


@dataclass(frozen=True, slots=True)
class SegmentDef:
    tag: str
    name: str
    elements: tuple[ElementDef, ...]


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """A segment at its place in a message structure."""

    tag: str
    mandatory: bool
    max_use: int


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A segment group (``SG1``...); the message itself is the group ``""``."""

    group_id: str
    mandatory: bool
    max_use: int
    children: tuple[SegmentRef | GroupDef, ...]

    @property
    def trigger(self) -> str:
        first = self.children[0]
        return first.tag if isinstance(first, SegmentRef) else first.trigger


@dataclass(frozen=True, slots=True)
class MessageDefinition:
    type: str
    directory: str  # "D96A", "D01B", "4" (syntax version 4 CONTRL)
    root: GroupDef
    segments: Mapping[str, SegmentDef]
    exact: bool  # False when the message names a release edigate has no directory of

    @property
    def known_tags(self) -> frozenset[str]:
        return frozenset(self.segments)


@dataclass(frozen=True, slots=True)
class Directory:
    name: str
    syntax_version: str
    messages: Mapping[str, GroupDef]
    segments: Mapping[str, SegmentDef]
    codes: Mapping[str, CodeList]


def _element(data: dict[str, Any], codes: Mapping[str, CodeList]) -> ElementDef:
    comps = data.get("components")
    if comps:
        return ElementDef(
            id=data["id"], name=data.get("name", ""), mandatory=data["status"] == "M", kind="",
            min_length=0, max_length=0, codes=None,
            components=tuple(_element(c, codes) for c in comps),
        )
    match = _FORMAT.match(data["format"])
    if match is None:
        raise ValueError(f"element {data['id']}: bad format {data['format']!r}")
    kind, dots, length = match.group(1), match.group(2), int(match.group(3))
    code_list = codes.get(data["id"])
    return ElementDef(
        id=data["id"], name=data.get("name", ""), mandatory=data["status"] == "M", kind=kind,
        min_length=1 if dots else length, max_length=length,
        codes=frozenset(code_list.codes) if code_list is not None and code_list.closed else None,
    )


def _structure(nodes: list[Any]) -> tuple[SegmentRef | GroupDef, ...]:
    out: list[SegmentRef | GroupDef] = []
    for node in nodes:
        if len(node) == 4:
            out.append(GroupDef(node[0], node[1] == "M", int(node[2]), _structure(node[3])))
        else:
            out.append(SegmentRef(node[0], node[1] == "M", int(node[2])))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def load_directory(name: str) -> Directory:
    """The built directory ``"D96A"``, ``"D01B"`` or ``"4"`` (syntax version 4 CONTRL)."""
    path = edifact_schemas.directory_file(name)
    data = json.loads(path.read_text(encoding="utf-8"))
    codes = {
        key: CodeList(key, value["name"], bool(value["closed"]),
                      MappingProxyType(dict(value["codes"])))
        for key, value in data["codes"].items()
    }
    segments = {
        tag: SegmentDef(tag, seg.get("name", ""),
                        tuple(_element(e, codes) for e in seg["elements"]))
        for tag, seg in data["segments"].items()
    }
    messages = {
        key: GroupDef("", True, 1, _structure(nodes)) for key, nodes in data["messages"].items()
    }
    return Directory(
        name=data["directory"],
        syntax_version=data["syntax_version"],
        messages=MappingProxyType(messages),
        segments=MappingProxyType(segments),
        codes=MappingProxyType(codes),
    )


def _release_year(release: str) -> int | None:
    """``"96A"`` -> 1996.5 as an int of half-years (3993), ``"01B"`` -> 4003; None if odd."""
    if len(release) != 3 or not release[:2].isdigit() or release[2] not in "AB":
        return None
    yy = int(release[:2])
    year = 1900 + yy if yy >= 90 else 2000 + yy
    return year * 2 + (release[2] == "B")


def _directory_name(version: str, release: str) -> tuple[str, bool] | None:
    if version != "D":
        return None
    exact = f"D{release}".upper()
    if exact in edifact_schemas.DIRECTORIES:
        return exact, True
    wanted = _release_year(release.upper())
    if wanted is None:
        return None
    best = min(
        edifact_schemas.DIRECTORIES,
        key=lambda d: (abs((_release_year(d[1:]) or 0) - wanted), d),
    )
    return best, False


@functools.lru_cache(maxsize=256)
def definition_for(message_type: str, version: str, release: str) -> MessageDefinition | None:
    """The definition of a message named by UNH S009 0065/0052/0054, or None.

    CONTRL is defined by the syntax: version ``4`` is the syntax version 4 CONTRL (4:1),
    every other version (2:2, D:3, a directory release) the version 3 one.
    """
    if message_type == "CONTRL":
        name, exact = ("4", True) if version == "4" else ("D96A", True)
    else:
        found = _directory_name(version, release)
        if found is None:
            return None
        name, exact = found
    directory = load_directory(name)
    root = directory.messages.get(message_type)
    if root is None:
        return None
    return MessageDefinition(message_type, directory.name, root, directory.segments, exact)
