"""Validate one UN/EDIFACT message (UNH..UNT) against its directory definition.

Responsible for the structure -- segment groups entered by their trigger segment (the
first segment of a group, ISO 9735 clause 9), order, mandatory segments and groups, max
repeats of segments (0085 code 35) and groups (36), segments that are unknown or out of
place (15) -- and for content: missing mandatory data elements and components (13), too
many data elements, components or repetitions (16), character class (37: digits in an
``a`` element, non-digits in an ``n`` element; 38: no digit before the decimal mark; 19:
more than one decimal mark, ``translators.numeric`` being the one rule for numbers),
length (39 too long, 40 too short; a numeric element's sign and decimal mark do not count,
ISO 9735 clause 9.2) and values of closed code lists (12). Beyond the directory, content
rules (all code 12, invalid value): DTM values against their 2379 format (an unknown format
is a warning), CNT control totals against the LIN and QTY segments, and GS1 check digits
of GTINs (LIN, PIA) and SSCCs (GIN+BJ), as warnings. Every finding is a located ``Issue``
at level ``segment`` (a CONTRL UCS) or ``element`` (a UCD); validation never stops at the
first one. ``relaxed_code_lists`` turns a partner's agreed code-list deviations into
warnings.
It must not check UNH/UNT content or envelopes (``envelope`` does) nor build CONTRL.

The definition is compiled once: each segment gets a table of its element definitions
(walked with a fast test per value that only calls the exact, slower path when the value
does not obviously pass), and each group a tag -> child index table for the structure walk.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Final

from translators.edifact.date_formats import UNKNOWN_FORMAT, date_format_error
from translators.edifact.schema import ElementDef, GroupDef, MessageDefinition, SegmentRef
from translators.edifact.segment import Segment
from translators.errors import Issue
from translators.gs1 import GTIN_LENGTHS, check_digit_ok, gtin_problem, sscc_problem
from translators.numeric import (
    EDIFACT_BAD_CHARACTER,
    EDIFACT_BAD_MARK,
    EDIFACT_NO_LEADING_DIGIT,
    edifact_number,
    edifact_scan,
)
from translators.structure import Findings, Loop, SegmentRule, Structure

__all__ = ["MessageValidator", "relaxed_code_lists"]

_MAX_BAD_VALUE: Final = 70
_ENVELOPE: Final = frozenset(["UNH", "UNT"])  # checked by the envelope walker


def _issue(level: str, code: str, message: str, seg: Segment, position: int, group: str,
           element: int | None = None, component: int | None = None,
           repetition: int | None = None, data_element: str | None = None,
           value: str | None = None, tag: str | None = None,
           severity: str = "error") -> Issue:
    return Issue(
        level="segment" if level == "segment" else "element",
        code=code, message=message, severity="warning" if severity == "warning" else "error",
        offset=seg.offset,
        segment_tag=tag if tag is not None else seg.tag[:3], segment_position=position,
        loop_id=group or None, element_position=element, component_position=component,
        repetition=repetition, data_element=data_element,
        bad_value=value[:_MAX_BAD_VALUE] if value else None,
    )


def _value_error(edef: ElementDef, value: str) -> tuple[str, str] | None:
    """(0085 code, message) for a present value that breaks its definition, else None."""
    kind = edef.kind
    length = len(value)
    if kind == "n":
        # The one numeric rule the mappers read with too (``translators.numeric``).
        outcome, digits, _mark = edifact_scan(value)
        if outcome == EDIFACT_BAD_MARK:
            return "19", f"{edef.id} {value!r} has more than one decimal mark"
        if outcome == EDIFACT_BAD_CHARACTER:
            return "37", f"{edef.id} {value!r} is not numeric"
        if outcome == EDIFACT_NO_LEADING_DIGIT:
            return "38", f"{edef.id} {value!r} has no digit before the decimal mark"
        length = digits
    elif kind == "a" and any(c.isdigit() for c in value):
        return "37", f"{edef.id} {value!r} holds digits in an alphabetic element"
    if length > edef.max_length:
        return "39", f"{edef.id} is longer than {edef.max_length} ({edef.format})"
    if length < edef.min_length:
        return "40", f"{edef.id} {value!r} is shorter than {edef.min_length} ({edef.format})"
    if edef.codes is not None and value not in edef.codes:
        return "12", f"{edef.id} code {value!r} is not in its code list"
    return None


def _check_value(edef: ElementDef, value: str, seg: Segment, position: int, group: str,
                 element: int, component: int | None, issues: list[Issue]) -> None:
    found = _value_error(edef, value)
    if found is not None:
        issues.append(_issue("element", found[0], found[1], seg, position, group, element,
                             component, None, edef.id, value))


def _check_simple(edef: ElementDef, element: int, parts: list[str], seg: Segment,
                  position: int, group: str, issues: list[Issue]) -> None:
    """The exact check of simple data element ``element`` given as ``parts``."""
    if len(parts) > 1 and any(parts[1:]):
        issues.append(_issue("element", "16", f"{edef.id} is a simple data element but has "
                             "components", seg, position, group, element, 2, None, edef.id,
                             ":".join(parts)))
    value = parts[0] if parts else ""
    if value:
        _check_value(edef, value, seg, position, group, element, None, issues)
    elif edef.mandatory:
        issues.append(_issue("element", "13", f"mandatory data element {edef.id} is missing",
                             seg, position, group, element, None, None, edef.id))


def _check_composite(edef: ElementDef, element: int, parts: list[str], seg: Segment,
                     position: int, group: str, issues: list[Issue]) -> None:
    """The exact check of composite ``element`` given as ``parts``."""
    if not any(parts):
        if edef.mandatory:
            issues.append(_issue("element", "13", f"mandatory composite {edef.id} is missing",
                                 seg, position, group, element, None, None, edef.id))
        return
    comps = edef.components
    if len(parts) > len(comps) and any(parts[len(comps):]):
        issues.append(_issue("element", "16", f"{edef.id} has more than {len(comps)} "
                             "components", seg, position, group, element, len(comps) + 1, None,
                             edef.id, ":".join(parts)))
    for index, comp in enumerate(comps):
        value = parts[index] if index < len(parts) else ""
        if value:
            _check_value(comp, value, seg, position, group, element, index + 1, issues)
        elif comp.mandatory:
            issues.append(_issue("element", "13", f"mandatory component {edef.id}.{comp.id} "
                                 "is missing", seg, position, group, element, index + 1, None,
                                 comp.id))


def _check_repeats(elements: tuple[ElementDef, ...], seg: Segment, position: int, group: str,
                   issues: list[Issue]) -> None:
    """Directories D.96A and D.01B define no repeating data elements: each repetition
    after the first is one constituent too many."""
    for element, reps in sorted((seg.repeats or {}).items()):
        if len(reps) > 1:
            ident = elements[element - 1].id if element <= len(elements) else None
            issues.append(_issue("element", "16", f"data element {element} repeats "
                                 f"{len(reps)} times, it may not repeat", seg, position, group,
                                 element, None, 2, ident))


def _check_extra(count: int, seg: Segment, position: int, group: str,
                 issues: list[Issue]) -> None:
    extra = next((i for i in range(count, len(seg.elements)) if any(seg.elements[i])), None)
    if extra is not None:
        issues.append(_issue("segment", "16", f"{seg.tag} has more than {count} data elements",
                             seg, position, group, value=":".join(seg.elements[extra])))


# Character classes as the fast test compares them: small ints, not strings.
_ALPHANUMERIC: Final = 0
_ALPHABETIC: Final = 1
_NUMERIC: Final = 2


class _ValueCheck:
    """What the fast test needs of one simple data element or component."""

    __slots__ = ("codes", "high", "kind", "low", "mandatory")

    def __init__(self, edef: ElementDef) -> None:
        self.kind = (
            _NUMERIC if edef.kind == "n" else _ALPHABETIC if edef.kind == "a" else _ALPHANUMERIC
        )
        self.low = edef.min_length
        self.high = edef.max_length
        self.mandatory = edef.mandatory
        self.codes = edef.codes


def _fast_ok(check: _ValueCheck, x: str) -> bool:
    """True when non-empty value ``x`` certainly passes its element; false sends it to the
    exact check (``_value_error``), which decides."""
    length = len(x)
    if check.kind == _NUMERIC:
        # ASCII digits, or digits with one decimal mark (full stop or comma, ISO 9735)
        # after the first: amounts and quantities mostly carry a decimal mark, which does
        # not count towards the length (ISO 9735 clause 9.2), so "digits.digits" passes here
        # exactly as ``_value_error`` would pass it instead of taking the exact path on
        # every MOA. A loop over the code points: str.isascii and str.replace are method
        # calls in the compiled build.
        point = -1
        for i in range(length):
            c = ord(x[i])
            if c < 0x30 or c > 0x39:
                if (c != 0x2E and c != 0x2C) or point >= 0 or i == 0:
                    return False
                point = i
        if point < 0:
            if not check.low <= length <= check.high:
                return False
        elif not check.low < length <= check.high + 1:
            return False
    else:
        if not (check.low <= length <= check.high):
            return False
        if check.kind == _ALPHABETIC and not x.isalpha():
            return False
    codes = check.codes
    return codes is None or x in codes


class _ElementPlan:
    """One data element of a segment as the table-driven check walks it: ``check`` for a
    simple element, ``components`` (one check each) for a composite."""

    __slots__ = ("check", "components", "edef", "mandatory")

    def __init__(self, edef: ElementDef) -> None:
        self.edef = edef
        self.mandatory = edef.mandatory
        self.check = _ValueCheck(edef)
        self.components = tuple(_ValueCheck(c) for c in edef.components)


def _composite_ok(plan: _ElementPlan, v: list[str]) -> bool:
    comps = plan.components
    size = len(v)
    if size > len(comps):
        return False
    filled = False
    missing = False
    for j in range(len(comps)):
        comp = comps[j]
        x = v[j] if j < size else ""
        if x:
            if not _fast_ok(comp, x):
                return False
            filled = True
        elif comp.mandatory:
            missing = True
    if not filled:
        # An empty composite is a finding only when the composite itself is mandatory,
        # whatever its components are (``_check_composite``): optional TAX C533 and NAD
        # C058 are sent empty in nearly every message.
        return not plan.mandatory
    return not missing


# Content rules beyond the directory's formats, by segment tag (``_CompiledSegment.rule``).
_NO_RULE: Final = 0
_DTM_RULE: Final = 1  # C507: 2380 value against its 2379 format
_LIN_RULE: Final = 2  # C212: GTIN check digit
_PIA_RULE: Final = 3  # C212 x5: GTIN check digits
_GIN_RULE: Final = 4  # GIN+BJ: SSCC check digits
_RULES: Final = {"DTM": _DTM_RULE, "LIN": _LIN_RULE, "PIA": _PIA_RULE, "GIN": _GIN_RULE}
# 7143 item number types that are GTINs (EAN-8/13, UPC-A, GS1 GTIN).
_GTIN_TYPES: Final = frozenset(["EN", "UP", "SRV"])


def _component(seg: Segment, element: int, component: int) -> str:
    els = seg.elements
    if element > len(els):
        return ""
    parts = els[element - 1]
    return parts[component - 1] if component <= len(parts) else ""


def _check_dtm(seg: Segment, position: int, group: str, issues: list[Issue]) -> None:
    """2380 against 2379 (0085 code 12, invalid value, at the value); a 2379 edigate has
    no rule for is a warning at the format (the value cannot be judged, not wrong)."""
    parts = seg.elements[0] if seg.elements else []
    if len(parts) < 3:
        return
    value = parts[1]
    fmt = parts[2]
    if not value or not fmt:
        return
    found = date_format_error(value, fmt)
    if found is None:
        return
    if found == UNKNOWN_FORMAT:
        issues.append(_issue(
            "element", "12", f"2379 format {fmt!r} is not one edigate checks; 2380 {value!r} "
            "not validated", seg, position, group, 1, 3, None, "2379", fmt, severity="warning"))
    else:
        issues.append(_issue("element", "12", f"2380 {value!r} does not fit 2379 format {fmt}: "
                             f"{found}", seg, position, group, 1, 2, None, "2380", value))


def _check_gtin(seg: Segment, element: int, position: int, group: str,
                issues: list[Issue]) -> None:
    """C212 ``element``: a GTIN (7143 EN/UP/SRV) with a wrong check digit is a warning
    (code 12 at 7140): the number is kept as sent, the partner may have a reason."""
    els = seg.elements
    if element > len(els):
        return
    parts = els[element - 1]
    if len(parts) < 2 or parts[1] not in _GTIN_TYPES or not parts[0]:
        return
    number = parts[0]
    found = gtin_problem(number)
    if found is not None:
        issues.append(_issue("element", "12", found, seg, position, group, element, 1, None,
                             "7140", number, severity="warning"))


def _check_sscc(seg: Segment, position: int, group: str, issues: list[Issue]) -> None:
    """GIN+BJ: every 7402 (ranges: both ends) is an SSCC-18; a wrong one is a warning."""
    if _component(seg, 1, 1) != "BJ":
        return
    for element in range(2, len(seg.elements) + 1):
        for component in (1, 2):
            number = _component(seg, element, component)
            found = sscc_problem(number) if number else None
            if found is not None:
                issues.append(_issue("element", "12", found, seg, position, group, element,
                                     component, None, "7402", number, severity="warning"))


def _check_content(rule: int, seg: Segment, position: int, group: str,
                   issues: list[Issue]) -> None:
    """The content rules of DTM and GIN (GTINs are checked in ``_CompiledSegment``)."""
    if rule == _DTM_RULE:
        _check_dtm(seg, position, group, issues)
    elif rule == _GIN_RULE:
        _check_sscc(seg, position, group, issues)


class _CompiledSegment(SegmentRule[Segment]):
    """A segment of the message structure and the check of its data elements.

    The check is a walk over the element definitions with a fast test per value; a value
    or element that fails it takes the exact check, which reports. (A table rather than
    generated, exec'd source: that stayed interpreted in the mypyc build, this is compiled.)
    """

    __slots__ = ("_elements", "_plans", "gtins", "rule")

    def __init__(self, ref: SegmentRef, definition: MessageDefinition, closing: bool) -> None:
        # A missing UNT is the envelope's finding (code 13 at UCM level), not ours.
        super().__init__(ref.tag, ref.mandatory and not (closing and ref.tag == "UNT"),
                         ref.max_use)
        self.rule = _RULES.get(ref.tag, _NO_RULE)
        # 0-based indexes of the C212 elements whose 7140 may be a GTIN: LIN's third,
        # PIA's second to sixth.
        self.gtins: tuple[int, ...] = (
            (2,) if self.rule == _LIN_RULE else (1, 2, 3, 4, 5) if self.rule == _PIA_RULE
            else ())
        sdef = definition.segments.get(ref.tag)
        self._elements: tuple[ElementDef, ...] = sdef.elements if sdef is not None else ()
        # The envelope walker checks UNH and UNT.
        self._plans: tuple[_ElementPlan, ...] | None = (
            None if ref.tag in _ENVELOPE else tuple(_ElementPlan(e) for e in self._elements)
        )

    def check(self, seg: Segment, position: int, group: str, issues: list[Issue]) -> None:
        plans = self._plans
        if plans is None:
            return
        els = seg.elements
        n = len(els)
        if seg.repeats:
            _check_repeats(self._elements, seg, position, group, issues)
        if n > len(plans):
            _check_extra(len(plans), seg, position, group, issues)
        for i in range(len(plans)):
            plan = plans[i]
            edef = plan.edef
            if i < n:
                v = els[i]
                if plan.components:
                    if not _composite_ok(plan, v):
                        _check_composite(edef, i + 1, v, seg, position, group, issues)
                elif len(v) != 1 or not (
                    _fast_ok(plan.check, v[0]) if v[0] else not edef.mandatory
                ):
                    _check_simple(edef, i + 1, v, seg, position, group, issues)
            elif edef.mandatory:
                issues.append(_issue("element", "13", f"mandatory data element {edef.id} is "
                                     "missing", seg, position, group, i + 1, None, None,
                                     edef.id))
        gtins = self.gtins
        if gtins:
            # Most item numbers are not GTINs (buyer's, supplier's): the type first.
            for i in gtins:
                if i < n:
                    parts = els[i]
                    if len(parts) > 1 and parts[1] in _GTIN_TYPES:
                        number = parts[0]
                        if number and not (len(number) in GTIN_LENGTHS and number.isdigit()
                                           and number.isascii() and check_digit_ok(number)):
                            _check_gtin(seg, i + 1, position, group, issues)
        elif self.rule:
            _check_content(self.rule, seg, position, group, issues)


def _number(text: str) -> Decimal | None:
    found = edifact_number(text)
    if found is None:
        return None
    try:
        return Decimal(found)
    except InvalidOperation:  # pragma: no cover - edifact_number admits only numbers
        return None


def _check_totals(segments: Sequence[Segment], issues: list[Issue]) -> None:
    """CNT control totals against the message (0085 code 12, invalid value, at 6066).

    6069 ``2``, number of line items: the LIN segments (all of them, or those that are
    not sub-lines: senders count both ways). ``1``, algebraic total of the quantities in
    the line items: the QTY values after the first LIN, summed over all qualifiers or
    over one qualifier (ordered, invoiced, despatched: guides differ on which they mean).
    Only a total that matches none of these is reported.
    """
    controls: list[tuple[int, Segment]] = []
    summary = len(segments)
    for index in range(len(segments) - 1, -1, -1):
        seg = segments[index]
        if seg.tag == "UNS":
            summary = index
            break
        if seg.tag == "CNT" and _component(seg, 1, 1) in ("1", "2"):
            controls.append((index + 1, seg))
    if not controls:
        return
    controls.reverse()
    # The detail section: from the first LIN to the summary section's UNS.
    lines = [seg for seg in segments[:summary] if seg.tag == "LIN"]
    by_qualifier: dict[str, Decimal] | None = None
    total = Decimal(0)
    for position, seg in controls:
        value = _component(seg, 1, 2)
        control = _number(value)
        if control is None:
            continue  # the format check reports it
        if _component(seg, 1, 1) == "2":
            if control == len(lines) or control == sum(
                    1 for seg in lines if not any(seg.element(4))):
                continue
            message = f"CNT 2 (line items) is {value} but the message has {len(lines)} LIN"
        else:
            if by_qualifier is None:
                by_qualifier = _quantities(segments[:summary])
                if by_qualifier is None:
                    return  # an unreadable quantity is an error of its own
                total = sum(by_qualifier.values(), Decimal(0))
            if control == total or control in by_qualifier.values():
                continue
            message = (f"CNT 1 (quantity hash total) is {value} but the line quantities "
                       f"total {total}")
        issues.append(_issue("element", "12", message, seg, position, "", 1, 2, None, "6066",
                             value))


def _quantities(detail: Sequence[Segment]) -> dict[str, Decimal] | None:
    """QTY 6060 totals by 6063 qualifier after the first LIN; None if one is unreadable."""
    by_qualifier: dict[str, Decimal] = {}
    in_lines = False
    for seg in detail:
        tag = seg.tag
        if tag == "LIN":
            in_lines = True
        elif tag == "QTY" and in_lines:
            quantity = _number(_component(seg, 1, 2))
            if quantity is None:
                return None
            qualifier = _component(seg, 1, 1)
            by_qualifier[qualifier] = by_qualifier.get(qualifier, Decimal(0)) + quantity
    return by_qualifier


# Data elements whose code 12 findings come from the content rules (dates, totals, check
# digits), not from a code list: a partner's relaxed code lists never touch them.
_CONTENT_ELEMENTS: Final = frozenset(["2380", "2379", "6066", "7140", "7402"])


def relaxed_code_lists(issues: list[Issue], refs: Collection[str]) -> list[Issue]:
    """``issues`` with the code-list violations (0085 code 12) of the data elements ``refs``
    names (``3035``) turned into warnings: a partner profile may accept codes its partner
    really sends (partners/README.md, ``[validation]``)."""
    if not refs:
        return issues
    out: list[Issue] = []
    for issue in issues:
        if (issue.level == "element" and issue.code == "12" and issue.severity == "error"
                and issue.data_element in refs
                and issue.data_element not in _CONTENT_ELEMENTS):
            issue = replace(issue, severity="warning",
                            message=f"{issue.message} (code list relaxed for this partner)")
        out.append(issue)
    return out


def _compile(group: GroupDef, definition: MessageDefinition, root: bool,
             path: str = "") -> Loop[Segment]:
    return Loop(group.group_id, path, group.mandatory, group.max_use, [
        _CompiledSegment(c, definition, root) if isinstance(c, SegmentRef)
        else _compile(c, definition, False, f"{path}/{c.group_id}" if path else c.group_id)
        for c in group.children
    ])


# The structure findings in CONTRL terms (0085): 15 for any segment without a place, 35
# and 36 for too many segments and groups, 13 for a missing one.
_NOT_DEFINED = ("15", "segment {tag3!r} is not defined in {subject}")
_FINDINGS: Final = Findings(
    misplaced=("15", "segment {tag} is not expected here"),
    not_in_set=_NOT_DEFINED,
    unknown=_NOT_DEFINED,
    segment_repeats=("35", "{tag} occurs more than {max} times here"),
    loop_repeats=("36", "segment group {loop} occurs more than {max} times"),
    missing_segment=("13", "mandatory segment {tag} is missing"),
    missing_loop=("13", "mandatory segment group {loop} ({trigger}) is missing"),
)


class MessageValidator:
    """A validator compiled from one ``MessageDefinition``; reusable, safe to share."""

    def __init__(self, definition: MessageDefinition) -> None:
        self.definition = definition
        self._structure = Structure(
            _compile(definition.root, definition, True), _FINDINGS,
            subject=f"{definition.type} ({definition.directory})",
            known_tags=definition.segments)
        self._totals = "CNT" in definition.segments

    def validate(
        self, segments: Sequence[Segment], loops: list[str] | None = None
    ) -> list[Issue]:
        """Every issue of the message ``segments`` (UNH..UNT as read). With ``loops``,
        the segment group path of each segment is appended to it, in segment order (the
        current group's for a segment that has no place)."""
        issues: list[Issue] = []
        self._structure.walk(segments, issues, loops)
        if segments and self._totals:
            _check_totals(segments, issues)
        return issues
