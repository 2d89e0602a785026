"""Errors explained for a reader who does not know EDI, beside their codes.

Responsible for turning an Issue-like row (the dicts a message's summary keeps per
transaction: ``segment_tag``, ``element_position``, ``component_position``,
``bad_value``, ...) into the element's name, what the standard expects there (kind of
value, length, required or not) and, when the list is short, the codes it allows, read
from the schemas the translators validate with: the X12 transaction maps
(``schemas/x12`` through ``translators.x12.schema``) of the transaction's set and GS08
version, the EDIFACT directory (``translators.edifact.schema``) its UNH names.
It must not produce markup (templates escape everything) and must not query.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.x12 import map_file
from translators.edifact.reader import EDIFACTReader
from translators.edifact.schema import ElementDef as EDIFACTElement
from translators.edifact.schema import definition_for, load_directory
from translators.errors import EDISyntaxError
from translators.x12.reader import X12Reader
from translators.x12.schema import ElementDef as X12Element
from translators.x12.schema import LoopDef, SegmentDef, load_schema

__all__ = ["SHORT_CODE_LIST", "Explanation", "explain_summary"]

# Allowed codes are listed when there are at most this many: a longer list does not help a
# reader, who is better sent to the partner's guide.
SHORT_CODE_LIST = 12

_X12_KINDS = {"AN": "text", "ID": "a code", "N0": "a whole number", "R": "a decimal number",
              "B": "binary data"}
_EDIFACT_KINDS = {"a": "letters only", "n": "a number", "an": "text"}
_X12_USAGE = {"R": "required", "S": "optional", "N": "not used"}


@dataclass(frozen=True, slots=True)
class Explanation:
    """One error's element in plain words; ``allowed`` holds (code, meaning or "") pairs
    when the element's code list is short, else nothing; ``codes`` is the length of its
    code list (0: the element takes no listed codes)."""

    element: str  # "BIG01 Invoice Date", "BGM01-1 Document name code"
    expected: str  # "a date (CCYYMMDD), exactly 8 characters, required"
    found: str | None = None
    allowed: tuple[tuple[str, str], ...] = ()
    codes: int = 0


def _length(low: int, high: int) -> str:
    if low == high:
        return f"exactly {low} character{'s' if low != 1 else ''}"
    return f"{low} to {high} characters"


def _x12_kind(element: X12Element) -> str:
    kind = element.data_type
    if kind == "DT":
        return "a date (CCYYMMDD)" if element.max_length == 8 else "a date (YYMMDD)"
    if kind == "TM":
        return "a time (HHMM, seconds optional)"
    if len(kind) == 2 and kind[0] == "N" and kind[1] in "123456789":
        return f"a number with {kind[1]} implied decimal place{'s' if kind[1] != '1' else ''}"
    return _X12_KINDS.get(kind, kind)


@functools.lru_cache(maxsize=64)
def _x12_segments(set_id: str, version: str) -> Mapping[tuple[str, str], SegmentDef]:
    """(loop id, tag) and ("", tag) -> the segment's definition in one transaction map
    (the first of its tag where the loop is not known)."""
    path = map_file(set_id, version)
    if path is None:
        return {}
    found: dict[tuple[str, str], SegmentDef] = {}

    def walk(loop: LoopDef) -> None:
        for child in loop.children:
            if isinstance(child, SegmentDef):
                found.setdefault((loop.loop_id, child.tag), child)
                found.setdefault(("", child.tag), child)
            else:
                walk(child)

    walk(load_schema(path).root)
    return found


def _reference(issue: Mapping[str, Any]) -> str:
    ref = f"{issue.get('segment_tag', '')}{issue['element_position']:02d}"
    component = issue.get("component_position")
    return f"{ref}-{component}" if isinstance(component, int) else ref


def _pick(elements: tuple[Any, ...], issue: Mapping[str, Any]) -> Any | None:
    """The element (or its component) an issue is about, or None."""
    position = issue.get("element_position")
    if not isinstance(position, int) or not 0 < position <= len(elements):
        return None
    element = elements[position - 1]
    component = issue.get("component_position")
    if isinstance(component, int) and element.components:
        if not 0 < component <= len(element.components):
            return None
        element = element.components[component - 1]
    return element


def _x12(issue: Mapping[str, Any], set_id: str, version: str) -> Explanation | None:
    segments = _x12_segments(set_id, version)
    tag = str(issue.get("segment_tag") or "")
    segment = segments.get((str(issue.get("loop_id") or ""), tag)) or segments.get(("", tag))
    if segment is None:
        return None
    element: X12Element | None = _pick(segment.elements, issue)
    if element is None or element.is_composite:
        return None
    expected = [_x12_kind(element), _length(element.min_length, element.max_length)]
    if element.usage in _X12_USAGE:
        expected.append(_X12_USAGE[element.usage])
    allowed: tuple[tuple[str, str], ...] = ()
    if element.codes and len(element.codes) <= SHORT_CODE_LIST:
        allowed = tuple((code, "") for code in sorted(element.codes))
    return Explanation(f"{_reference(issue)} {element.name}".strip(), ", ".join(expected),
                       _found(issue), allowed, len(element.codes or ()))


def _edifact(issue: Mapping[str, Any], message_type: str, version: str, release: str
             ) -> Explanation | None:
    definition = definition_for(message_type, version, release)
    if definition is None:
        return None
    segment = definition.segments.get(str(issue.get("segment_tag") or ""))
    if segment is None:
        return None
    element: EDIFACTElement | None = _pick(segment.elements, issue)
    if element is None or element.components:
        return None
    expected = [_EDIFACT_KINDS.get(element.kind, element.kind),
                _length(element.min_length, element.max_length),
                "required" if element.mandatory else "optional"]
    allowed: tuple[tuple[str, str], ...] = ()
    if element.codes and len(element.codes) <= SHORT_CODE_LIST:
        names = load_directory(definition.directory).codes.get(element.id)
        allowed = tuple((code, names.codes.get(code, "") if names else "")
                        for code in sorted(element.codes))
    return Explanation(f"{_reference(issue)} {element.name}".strip(), ", ".join(expected),
                       _found(issue), allowed, len(element.codes or ()))


def _found(issue: Mapping[str, Any]) -> str | None:
    value = issue.get("bad_value")
    return str(value) if value is not None else None


def _x12_versions(payload: bytes) -> dict[tuple[str, str], str]:
    """(group control, transaction control) -> the GS08 (or ST03) version it was read
    under, for as much of ``payload`` as reads."""
    found: dict[tuple[str, str], str] = {}
    group, version = "", ""
    try:
        for segment in X12Reader(payload):
            if segment.tag == "GS":
                group, version = segment[6], segment[8]
            elif segment.tag == "ST":
                found[(group, segment[2])] = segment[3] or version
    except EDISyntaxError:
        pass  # what was read before stands; the rest has no version to explain it by
    return found


def _edifact_versions(payload: bytes) -> dict[str, tuple[str, str]]:
    """UNH message reference -> (version, release) of its UNH S009, for as much of
    ``payload`` as reads."""
    found: dict[str, tuple[str, str]] = {}
    try:
        for segment in EDIFACTReader(payload):
            if segment.tag == "UNH":
                found[segment.get(1)] = (segment.get(2, 2), segment.get(2, 3))
    except EDISyntaxError:
        pass
    return found


def explain_summary(summary: Mapping[str, Any] | None, standard: str, payload: bytes
                    ) -> dict[tuple[int, int], Explanation]:
    """The explanation of each element error of a message's summary, by (transaction
    index, error index); errors with no element, or whose element the schemas do not
    know, have none. ``payload`` gives each transaction's version; it is read only when
    there is something to explain."""
    issues = [(t, e, tx, issue)
              for t, tx in enumerate((summary or {}).get("transactions", []))
              for e, issue in enumerate(tx.get("errors", []))
              if isinstance(issue, dict) and isinstance(issue.get("element_position"), int)
              and issue.get("segment_tag")]
    if not issues:
        return {}
    explained: dict[tuple[int, int], Explanation] = {}
    found: Explanation | None
    if standard == "edifact":
        edifact = _edifact_versions(payload)
        for t, e, tx, issue in issues:
            version, release = edifact.get(str(tx.get("control_number")), ("", ""))
            found = _edifact(issue, str(tx.get("set_id")), version, release)
            if found is not None:
                explained[(t, e)] = found
    else:
        x12 = _x12_versions(payload)
        for t, e, tx, issue in issues:
            x12_version = x12.get((str(tx.get("group_control")),
                                   str(tx.get("control_number"))))
            if x12_version is None:
                continue
            found = _x12(issue, str(tx.get("set_id")), x12_version)
            if found is not None:
                explained[(t, e)] = found
    return explained
