"""The raw EDI of a message as the detail page shows it: one segment a line, each element
named from the schemas, and the errors of the translation pinned to their segment and
element.

Responsible for turning payload bytes plus the stored per-transaction issues into plain
view data (strings and flags). It must not produce markup: templates escape everything,
so partner-supplied text can never become HTML.

X12: element names come from the transaction maps (``schemas/x12`` through
``translators.x12.schema``) of each transaction's set and version, the envelope segments
from a small table below. EDIFACT: best effort from the directory loader
(``translators.edifact.schema``) when it is importable.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.x12 import map_file
from translators.x12.reader import X12Reader
from translators.x12.schema import LoopDef, SegmentDef, load_schema

__all__ = ["EDIElement", "EDILine", "render_edi"]

MAX_SEGMENTS = 5000  # a detail page is for reading; the download has everything

# X12 envelope segments (X12.5): not part of the transaction maps.
_ENVELOPE = {
    "ISA": ("Authorization Information Qualifier", "Authorization Information",
            "Security Information Qualifier", "Security Information",
            "Interchange ID Qualifier (sender)", "Interchange Sender ID",
            "Interchange ID Qualifier (receiver)", "Interchange Receiver ID",
            "Interchange Date", "Interchange Time", "Repetition Separator / Standards ID",
            "Interchange Control Version Number", "Interchange Control Number",
            "Acknowledgment Requested", "Usage Indicator", "Component Element Separator"),
    "IEA": ("Number of Included Functional Groups", "Interchange Control Number"),
    "GS": ("Functional Identifier Code", "Application Sender's Code",
           "Application Receiver's Code", "Date", "Time", "Group Control Number",
           "Responsible Agency Code", "Version / Release / Industry Identifier Code"),
    "GE": ("Number of Transaction Sets Included", "Group Control Number"),
    "TA1": ("Interchange Control Number", "Interchange Date", "Interchange Time",
            "Interchange Acknowledgment Code", "Interchange Note Code"),
}


@dataclass(slots=True)
class EDIElement:
    ref: str  # BEG03
    value: str
    name: str = ""
    error: str | None = None


@dataclass(slots=True)
class EDILine:
    number: int  # ordinal in the interchange
    tag: str
    separator: str
    terminator: str
    elements: list[EDIElement] = field(default_factory=list)
    name: str = ""
    errors: list[str] = field(default_factory=list)  # segment-level errors

    @property
    def has_error(self) -> bool:
        return bool(self.errors) or any(e.error for e in self.elements)


@functools.lru_cache(maxsize=64)
def _x12_names(set_id: str, version: str) -> Mapping[str, tuple[str, tuple[str, ...]]]:
    """tag -> (segment name, element names by position) for one transaction map."""
    path = map_file(set_id, version)
    if path is None:
        return {}
    names: dict[str, tuple[str, tuple[str, ...]]] = {}

    def walk(loop: LoopDef) -> None:
        for child in loop.children:
            if isinstance(child, SegmentDef):
                names.setdefault(child.tag, (child.name, tuple(
                    e.name for e in sorted(child.elements, key=lambda e: e.position))))
            else:
                walk(child)

    walk(load_schema(path).root)
    return names


def _issue_index(summary: Mapping[str, Any] | None) -> dict[int, list[dict[str, Any]]]:
    """Issues with a byte offset, by the offset of the segment they are about."""
    found: dict[int, list[dict[str, Any]]] = {}
    for tx in (summary or {}).get("transactions", []):
        for issue in tx.get("errors", []):
            offset = issue.get("offset")
            if isinstance(offset, int):
                found.setdefault(offset, []).append(issue)
    return found


def _describe(issue: Mapping[str, Any]) -> str:
    return f"{issue.get('code', '')}: {issue.get('message', '')}".strip(": ")


def render_edi(data: bytes, standard: str, summary: Mapping[str, Any] | None
               ) -> tuple[list[EDILine], bool]:
    """The lines to show, and whether the list was cut at ``MAX_SEGMENTS``."""
    if standard == "edifact":
        return _render_edifact(data, summary)
    issues = _issue_index(summary)
    lines: list[EDILine] = []
    set_id, version = "", ""
    try:
        for seg in X12Reader(data):
            if len(lines) >= MAX_SEGMENTS:
                return lines, True
            tag = seg.tag
            if tag == "GS":
                version = seg[8]
            elif tag == "ST":
                set_id = seg[1]
                version = seg[3] or version
            table = _x12_names(set_id, version) if set_id else {}
            seg_name, element_names = table.get(tag, ("", _ENVELOPE.get(tag, ())))
            line = EDILine(seg.index, tag, seg.delimiters.element, seg.delimiters.segment,
                           name=seg_name)
            for position in range(1, len(seg.fields)):
                name = element_names[position - 1] if position <= len(element_names) else ""
                line.elements.append(EDIElement(f"{tag}{position:02d}", seg[position], name))
            _pin(line, issues.get(seg.offset, ()))
            lines.append(line)
            if tag == "SE":
                set_id = ""
    except Exception as exc:  # unreadable bytes: show what was read, and why it stopped
        lines.append(EDILine(len(lines) + 1, "?", "", "", errors=[f"unreadable: {exc}"]))
    return lines, False


def _pin(line: EDILine, issues: Iterable[Mapping[str, Any]]) -> None:
    for issue in issues:
        position = issue.get("element_position")
        if isinstance(position, int) and 1 <= position <= len(line.elements):
            element = line.elements[position - 1]
            text = _describe(issue)
            element.error = f"{element.error}; {text}" if element.error else text
        elif isinstance(position, int) and position > len(line.elements):
            # A required element missing at the end: there is nothing to mark but the line.
            line.errors.append(f"{line.tag}{position:02d} {_describe(issue)}")
        else:
            line.errors.append(_describe(issue))


def _render_edifact(data: bytes, summary: Mapping[str, Any] | None
                    ) -> tuple[list[EDILine], bool]:
    try:
        from translators.edifact.reader import EDIFACTReader
        from translators.edifact.schema import load_directory
    except ImportError:  # the EDIFACT work is optional here
        return [], False
    try:
        segments = load_directory("D96A").segments
    except (OSError, ValueError, KeyError):
        segments = {}
    issues = _issue_index(summary)
    lines: list[EDILine] = []
    reader = EDIFACTReader(data)
    try:
        for seg in reader:
            if len(lines) >= MAX_SEGMENTS:
                return lines, True
            definition = segments.get(seg.tag)
            d = reader.delimiters
            line = EDILine(seg.index, seg.tag, d.element, d.segment,
                           name=definition.name if definition else "")
            for position, components in enumerate(seg.elements, start=1):
                name = ""
                if definition is not None and position <= len(definition.elements):
                    name = definition.elements[position - 1].name
                line.elements.append(EDIElement(f"{seg.tag}{position:02d}",
                                                d.component.join(components), name))
            _pin(line, issues.get(seg.offset, ()))
            lines.append(line)
    except Exception as exc:
        lines.append(EDILine(len(lines) + 1, "?", "", "", errors=[f"unreadable: {exc}"]))
    return lines, False
