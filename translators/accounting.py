"""Accounting for every value a partner sent: what a mapper mapped, and what it did not.

Responsible for ``Coverage`` (a mapper's declaration of the element values it puts into
its record, by segment tag) and for listing every other element value of a transaction
set or message as the record's ``unmapped`` data (``unmapped_x12``,
``unmapped_edifact``), so that nothing a partner sent disappears without a word.

Contract: for every segment of a transaction (ST..SE, UNH..UNT), every element,
component or repetition that carries a value (text that is not all spaces) is either

- covered by the mapper's ``Coverage`` (the mapper put it into the record, or it is an
  envelope value that the record's ``source`` holds), or
- listed in ``unmapped`` with the segment tag, the segment's position in the transaction
  (ST or UNH is 1), the element reference, the value as sent and, where the pipeline
  validated the transaction, its loop path.

A mapper that sees a segment it has nowhere to put in that place (a header-only segment
among the lines, a second occurrence of a segment it maps once) passes it in
``skipped``: all of that segment's values are then listed. A coverage claim must be true:
the tests check over every corpus, golden and Hypothesis document that each value a
coverage claims mapped appears in the record.

Element references: ``N104`` is element 4 of N1; ``REF04-02`` is component 2 of element
4; EDIFACT uses the same positional form (``NAD02-01``: component 1 of data element 2,
C082.3039), and a repetition after the first (syntax version 4) carries its number in
``repetition``.
It must not know record models beyond the ``unmapped`` entry shape, nor read meaning into
values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from translators.edifact.segment import Segment as EdifactSegment
    from translators.x12.segment import Segment as X12Segment

__all__ = [
    "Coverage",
    "add_loop_paths",
    "count_values",
    "unmapped_edifact",
    "unmapped_x12",
]

UnmappedEntry = dict[str, Any]


# More components than any element has: an element mapped whole.
_WHOLE: Final = 1 << 30


class _Rule:
    """What a coverage maps of one segment tag."""

    __slots__ = ("caps", "every", "parts", "prefix", "qualifiers", "whole")

    def __init__(self, refs: str, tag: str) -> None:
        self.every = False
        self.whole: set[int] = set()
        self.parts: dict[int, set[int]] = {}
        self.qualifiers: set[tuple[int, int]] = set()
        for ref in refs.split():
            if ref == "*" or ref == "*q":
                self.every = True
                if ref == "*q":
                    self.qualifiers.add((0, 0))
                continue
            qualifier = ref.endswith("q")
            if qualifier:
                ref = ref[:-1]
            element_text, _, component_text = ref.partition(".")
            if not element_text.isdigit() or (component_text and not component_text.isdigit()):
                raise ValueError(f"coverage of {tag}: {ref!r} is not an element reference")
            element = int(element_text)
            component = int(component_text) if component_text else 0
            if component:
                self.parts.setdefault(element, set()).add(component)
            else:
                self.whole.add(element)
            if qualifier:
                self.qualifiers.add((element, component))
        # caps[i]: how many leading components of element i + 1 are mapped (_WHOLE for an
        # element mapped whole); the walk looks only at the components after them.
        last = max([*self.whole, *self.parts, 0])
        caps: list[int] = []
        for element in range(1, last + 1):
            if element in self.whole:
                caps.append(_WHOLE)
                continue
            mapped = self.parts.get(element, set())
            count = 0
            while count + 1 in mapped:
                count += 1
            caps.append(count)
        self.caps = tuple(caps)
        # Elements 1..prefix are all mapped whole: most segments end there, and the
        # accounting of the rest starts after them.
        prefix = 0
        while prefix < len(caps) and caps[prefix] == _WHOLE:
            prefix += 1
        self.prefix = prefix

    def covers(self, element: int, component: int) -> bool:
        """Whether the value at ``element`` (component ``component``, 0 for a simple
        element or the whole composite) is mapped."""
        if self.every or element in self.whole:
            return True
        parts = self.parts.get(element)
        return parts is not None and component in parts


class Coverage:
    """The element values a mapper puts into its record, by segment tag.

    Built from ``{tag: refs}`` where ``refs`` is a space-separated list: ``"1 2 5"``
    (elements 1, 2 and 5, every component of them), ``"3.2"`` (component 2 of element
    3), ``"*"`` (every element). A suffix ``q`` marks a qualifier whose meaning the record
    carries by structure (the key a value is filed under, such as
    ``dates["requested_delivery"]``) rather than as a value; the tests do not look for
    such a value in the record (``"*q"``: a segment that is all structure, such as UNS).
    A tag the coverage does not name is not mapped at all.
    Coverages combine with ``|`` (a mapper built from shared parts).
    """

    __slots__ = ("_rules", "_spec")

    def __init__(self, spec: Mapping[str, str]) -> None:
        self._spec: dict[str, str] = dict(spec)
        self._rules: dict[str, _Rule] = {tag: _Rule(refs, tag) for tag, refs in spec.items()}

    def __or__(self, other: Coverage) -> Coverage:
        merged = dict(self._spec)
        for tag, refs in other._spec.items():
            merged[tag] = f"{merged[tag]} {refs}" if tag in merged else refs
        return Coverage(merged)

    def tags(self) -> frozenset[str]:
        """The segment tags of which something is mapped."""
        return frozenset(self._rules)

    def covers(self, tag: str, element: int, component: int = 0) -> bool:
        """Whether the value of ``tag`` element ``element`` (component ``component``; 0
        for a simple element) is mapped."""
        rule = self._rules.get(tag)
        return rule is not None and rule.covers(element, component)

    def is_qualifier(self, tag: str, element: int, component: int = 0) -> bool:
        """Whether that value is a qualifier the record carries by structure."""
        rule = self._rules.get(tag)
        if rule is None:
            return False
        found = rule.qualifiers
        return (element, component) in found or (element, 0) in found or (0, 0) in found

    def rule(self, tag: str) -> _Rule | None:
        return self._rules.get(tag)


# Element and component numbers as references write them, two digits at least: a
# format specification is a call into the formatting machinery, a tuple item is not.
_NUMBERS: Final = tuple(f"{n:02d}" for n in range(100))


def _number(n: int) -> str:
    return _NUMBERS[n] if n < 100 else str(n)


def _reference(tag: str, element: int, component: int) -> str:
    if component:
        return tag + _number(element) + "-" + _number(component)
    return tag + _number(element)


def _entry(tag: str, position: int, element: int, component: int, value: str,
           repetition: int | None = None) -> UnmappedEntry:
    # The order of ``translators.records.UnmappedValue``'s fields.
    return {
        "segment": tag,
        "position": position,
        "element": _reference(tag, element, component),
        "repetition": repetition,
        "value": value,
        "loop": None,
    }


def _has_value(text: str) -> bool:
    return bool(text) and not text.isspace()


_NOTHING: Final[frozenset[int]] = frozenset()


def _first_unmapped(rule: _Rule | None, count: int) -> int:
    """The index of the first of ``count`` elements that may hold an unmapped value, or
    -1 when the rule maps them all."""
    if rule is None:
        return 0
    if rule.every or count <= rule.prefix:
        return -1
    return rule.prefix


def _first_uncovered(rule: _Rule, elements: list[list[str]]) -> int:
    """The index of the first of ``elements`` that has a component after the ones
    ``rule`` maps (``_Rule.caps``), or -1: most segments of a message have none, and are
    passed over without listing."""
    caps = rule.caps
    known = len(caps)
    for e in range(rule.prefix, len(elements)):
        if e >= known or len(elements[e]) > caps[e]:
            return e
    return -1


def _list_unmapped(out: list[UnmappedEntry], tag: str, position: int, rule: _Rule | None,
                   elements: list[list[str]], first: int, repetition: int = 1,
                   base: int = 0) -> None:
    """Append the values of ``elements`` (each the list of its components; the first is
    element ``base + 1``) from index ``first`` on that ``rule`` does not map."""
    caps: tuple[int, ...] = rule.caps if rule is not None and not base else ()
    known = len(caps)
    for e in range(first, len(elements)):
        parts = elements[e]
        cap = caps[e] if e < known else 0
        if len(parts) <= cap:
            continue  # every component it has is mapped
        element = base + e + 1
        wanted = rule.parts.get(element) if rule is not None else None
        simple = len(parts) == 1
        for k in range(cap, len(parts)):
            if wanted is not None and k + 1 in wanted:
                continue
            part = parts[k]
            if _has_value(part):
                out.append(_entry(tag, position, element, 0 if simple else k + 1, part,
                                  repetition if repetition > 1 else None))


def unmapped_x12(
    segments: Sequence[X12Segment], coverage: Coverage, skipped: Iterable[object] = ()
) -> list[UnmappedEntry]:
    """Every element value of an X12 transaction set (ST..SE) that ``coverage`` does not
    map, in segment order. ``skipped`` holds the field lists (``Segment.fields``) of
    segments the mapper did not map where they stood: all their values are listed.
    Delimiters never occur in X12 data, so a component or repetition separator in an
    element is syntax: components are listed one by one, and a repetition after the
    first with its number (as EDIFACT's are)."""
    out: list[UnmappedEntry] = []
    skip = {id(fields) for fields in skipped} if skipped else _NOTHING
    for position, seg in enumerate(segments, start=1):
        fields = seg.fields
        rule = None if id(fields) in skip else coverage.rule(fields[0])
        first = _first_unmapped(rule, len(fields) - 1)
        if first < 0:
            continue
        separator = seg.delimiters.component
        repetition = seg.delimiters.repetition
        elements: list[list[str]] = []
        later: list[tuple[int, list[str]]] = []
        for element in range(1, len(fields)):
            value = fields[element]
            if repetition is not None and repetition in value:
                value, *others = value.split(repetition)
                later.append((element, others))
            elements.append(value.split(separator))
        _list_unmapped(out, fields[0], position, rule, elements, first)
        for element, others in later:
            for number, other in enumerate(others, start=2):
                _list_unmapped(out, fields[0], position, None, [other.split(separator)], 0,
                               number, element - 1)
    return out


def unmapped_edifact(
    segments: Sequence[EdifactSegment], coverage: Coverage, skipped: Iterable[object] = ()
) -> list[UnmappedEntry]:
    """Every data element value of an EDIFACT message (UNH..UNT) that ``coverage`` does
    not map, in segment order; a repetition after the first (syntax version 4) is always
    listed unless the coverage maps the whole segment. ``skipped`` holds segments the
    mapper did not map where they stood."""
    out: list[UnmappedEntry] = []
    skip: set[int] = {id(seg) for seg in skipped}
    rules = coverage._rules
    for position, seg in enumerate(segments, start=1):
        rule = None if id(seg) in skip else rules.get(seg.tag)
        if rule is None:
            first = 0
        elif rule.every:
            continue
        else:
            first = _first_uncovered(rule, seg.elements)
        if first >= 0:
            _list_unmapped(out, seg.tag, position, rule, seg.elements, first)
        if seg.repeats:
            for number, repetitions in seg.repeats.items():
                for r in range(1, len(repetitions)):
                    # Every component of a later repetition: no coverage claims those.
                    _list_unmapped(out, seg.tag, position, None, [repetitions[r]], 0, r + 1,
                                   number - 1)
    return out


def count_values(segments: Sequence[Any], coverage: Coverage) -> int:
    """How many element values the segments carry, counted in the units ``unmapped_*``
    lists them (components and repetitions one by one; an X12 element whose components
    the coverage maps as a whole counts once): the denominator of a coverage report, X12
    or EDIFACT."""
    total = 0
    for seg in segments:
        if hasattr(seg, "fields"):
            fields = seg.fields
            rule = coverage.rule(fields[0])
            separator = seg.delimiters.component
            for element in range(1, len(fields)):
                value = fields[element]
                if not _has_value(value):
                    continue
                whole = rule is not None and (rule.every or element in rule.whole)
                if separator in value and not whole:
                    total += sum(1 for part in value.split(separator) if _has_value(part))
                else:
                    total += 1
            continue
        for parts in seg.elements:
            total += sum(1 for part in parts if _has_value(part))
        if seg.repeats:
            for repetitions in seg.repeats.values():
                for components in repetitions[1:]:
                    total += sum(1 for part in components if _has_value(part))
    return total


def add_loop_paths(unmapped: list[UnmappedEntry], loops: Sequence[str]) -> None:
    """Fill each entry's ``loop`` from ``loops`` (the loop or group path of each segment,
    in segment order, as the validators give it)."""
    count = len(loops)
    for entry in unmapped:
        index = entry["position"] - 1
        if 0 <= index < count:
            entry["loop"] = loops[index] or None
