"""Partner implementation guides: a trading partner's narrowing of a transaction set.

Responsible for ``Guide`` (what one partner requires of one transaction set or message
beyond the standard: segments required, not used or with fewer repeats; elements
required or not used, their code lists narrowed, their lengths, fixed values; and
occurrences that must be present, such as a retailer's ``REF*IA`` vendor number) and for
``check_guide``, which finds where a transaction set's segments (ST..SE or UNH..UNT, as
read) break it, as located ``Issue``s with the standard's codes (X12 AK304/AK403,
EDIFACT 0085), at the severity the caller asks for.

Element references are positional for both standards: the segment tag, the element's
two-digit position and, for a component, a hyphen and its two-digit position (``TD101``,
``REF02``, ``NAD03-01``). A guide only narrows: the standard's own rules are checked by
the validators first. It must not read files (``partners`` loads and validates the
authoring format) and must not know which partner a guide belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple

from translators.errors import Issue, Severity

__all__ = [
    "ElementRule",
    "Guide",
    "GuideCheck",
    "Requirement",
    "SegmentRule",
    "check_guide",
    "element_reference",
]

Standard = Literal["x12", "edifact"]
GuideCheck = tuple["Guide", Severity]
"""A guide and the severity its findings get (``error`` outbound; the guide's ``inbound``
setting for what partners send)."""

_REFERENCE: Final = re.compile(r"([A-Z][A-Z0-9]{1,2})(\d{2})(?:-(\d{2}))?")


def element_reference(text: str) -> tuple[str, int, int | None]:
    """``TD101`` -> ("TD1", 1, None); ``NAD03-01`` -> ("NAD", 3, 1). ``ValueError`` for
    anything else."""
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an element reference such as TD101 or NAD03-01")
    tag, position, component = match.groups()
    if int(position) == 0 or (component is not None and int(component) == 0):
        raise ValueError(f"{text!r}: positions count from 01")
    return tag, int(position), int(component) if component is not None else None


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """``usage``: ``required`` (at least once), ``not_used`` (never) or ``optional``;
    ``max_use``: at most this many times in the transaction set."""

    usage: Literal["required", "not_used", "optional"] = "optional"
    max_use: int | None = None


@dataclass(frozen=True, slots=True)
class ElementRule:
    """What one element must hold wherever its segment occurs: ``usage`` (``required``,
    ``not_used``, ``optional``), ``codes`` (the only values accepted), ``min_length`` /
    ``max_length``, ``value`` (the one value accepted)."""

    usage: Literal["required", "not_used", "optional"] = "optional"
    codes: frozenset[str] | None = None
    min_length: int | None = None
    max_length: int | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """A segment occurrence that must be present: ``segment`` with every element of
    ``where`` (element reference -> value) holding that value; ``message`` says why."""

    segment: str
    where: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Guide:
    """One partner's rules for one transaction set (X12 ST01) or message (UNH 0065)."""

    document_type: str
    segments: Mapping[str, SegmentRule] = field(default_factory=dict)
    elements: Mapping[str, ElementRule] = field(default_factory=dict)
    requirements: Sequence[Requirement] = ()

    @classmethod
    def from_data(cls, document_type: str, data: Mapping[str, Any]) -> Guide:
        """A guide from its authoring data (``partners`` validated its shape): keys
        ``segments``, ``elements`` and ``require`` as in partners/README.md."""
        segments = {tag: SegmentRule(**rule) for tag, rule in
                    (data.get("segments") or {}).items()}
        elements: dict[str, ElementRule] = {}
        for reference, rule in (data.get("elements") or {}).items():
            element_reference(reference)
            options = dict(rule)
            if options.get("codes") is not None:
                options["codes"] = frozenset(options["codes"])
            elements[reference] = ElementRule(**options)
        requirements = tuple(Requirement(r["segment"], dict(r.get("where") or {}),
                                         r.get("message"))
                             for r in data.get("require") or ())
        return cls(document_type, segments, elements, requirements)


# The standard's code for each finding: X12 AK304 (720) / AK403 (723), EDIFACT 0085.
_CODES: Final[Mapping[Standard, Mapping[str, str]]] = {
    "x12": {"segment_missing": "3", "segment_not_used": "2", "segment_too_many": "5",
            "element_missing": "1", "element_not_used": "10", "element_code": "7",
            "element_short": "4", "element_long": "5"},
    "edifact": {"segment_missing": "13", "segment_not_used": "15", "segment_too_many": "35",
                "element_missing": "13", "element_not_used": "15", "element_code": "12",
                "element_short": "40", "element_long": "39"},
}


def _value(segment: Any, standard: Standard, position: int, component: int | None) -> str:
    if standard == "x12":
        return str(segment.get(position, component or 0))
    return str(segment.get(position, component or 1))


class _Place(NamedTuple):
    tag: str
    position: int | None  # counted from ST/UNH = 1, as AK302/UCS 0096 count
    offset: int | None
    element: int | None = None
    component: int | None = None


def check_guide(guide: Guide, segments: Sequence[Any], standard: Standard, *,
                severity: Severity = "error") -> list[Issue]:
    """Where ``segments`` (a transaction set as read, ST or UNH first) break ``guide``."""
    codes = _CODES[standard]
    issues: list[Issue] = []
    body = segments[1:-1] if len(segments) >= 2 else segments
    by_tag: dict[str, list[tuple[int, Any]]] = {}
    for index, seg in enumerate(body, start=2):
        by_tag.setdefault(seg.tag, []).append((index, seg))
    # A missing segment is reported at the trailer (SE/UNT): where the set ended without it.
    end = (len(segments), getattr(segments[-1], "offset", None)) if segments else (None, None)

    def issue(kind: str, place: _Place, message: str, value: str | None = None) -> None:
        issues.append(Issue(
            level="segment" if kind.startswith("segment") else "element", code=codes[kind],
            message=message, severity=severity, offset=place.offset, segment_tag=place.tag,
            segment_position=place.position, element_position=place.element,
            component_position=place.component, bad_value=value))

    for tag, rule in sorted(guide.segments.items()):
        found = by_tag.get(tag, [])
        if rule.usage == "required" and not found:
            issue("segment_missing", _Place(tag, *end),
                  f"{tag} is required by the partner's guide")
        if rule.usage == "not_used":
            for index, seg in found:
                issue("segment_not_used", _Place(tag, index, getattr(seg, "offset", None)),
                      f"{tag} is not used in the partner's guide")
        if rule.max_use is not None and len(found) > rule.max_use:
            index, seg = found[rule.max_use]
            issue("segment_too_many", _Place(tag, index, getattr(seg, "offset", None)),
                  f"{tag} occurs {len(found)} times; the partner's guide allows "
                  f"{rule.max_use}")
    for reference, element_rule in sorted(guide.elements.items()):
        tag, position, component = element_reference(reference)
        for index, seg in by_tag.get(tag, []):
            value = _value(seg, standard, position, component)
            place = _Place(tag, index, getattr(seg, "offset", None), position, component)
            problem = _element_problem(reference, element_rule, value)
            if problem is not None:
                issue(problem[0], place, problem[1], value or None)
    for requirement in guide.requirements:
        conditions = [(element_reference(r), v) for r, v in sorted(requirement.where.items())]
        if not any(all(_value(seg, standard, p, c) == v for (_, p, c), v in conditions)
                   for _, seg in by_tag.get(requirement.segment, [])):
            wanted = ", ".join(f"{r}={v}" for r, v in sorted(requirement.where.items()))
            why = f": {requirement.message}" if requirement.message else ""
            issue("segment_missing", _Place(requirement.segment, *end),
                  f"{requirement.segment}{f' with {wanted}' if wanted else ''} is required "
                  f"by the partner's guide{why}")
    return issues


def _element_problem(reference: str, rule: ElementRule, value: str
                     ) -> tuple[str, str] | None:
    """(finding kind, message) when ``value`` breaks ``rule``; None when it keeps it."""
    if not value:
        if rule.usage == "required" or rule.value is not None:
            return "element_missing", f"{reference} is required by the partner's guide"
        return None
    if rule.usage == "not_used":
        return "element_not_used", f"{reference} is not used in the partner's guide"
    if rule.value is not None and value != rule.value:
        return "element_code", f"{reference} must be {rule.value!r} for this partner"
    if rule.codes is not None and value not in rule.codes:
        return "element_code", (f"{reference} code {value!r} is not one the partner accepts "
                                f"({', '.join(sorted(rule.codes))})")
    if rule.min_length is not None and len(value) < rule.min_length:
        return "element_short", (f"{reference} is shorter than the partner's minimum of "
                                 f"{rule.min_length}")
    if rule.max_length is not None and len(value) > rule.max_length:
        return "element_long", (f"{reference} is longer than the partner's maximum of "
                                f"{rule.max_length}")
    return None
