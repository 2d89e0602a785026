"""Validate one X12 transaction set against its compiled schema.

Responsible for the segment structure (loops entered and left by their trigger segment,
order by position, usage, max use, loop repeats) and for element content (usage, data
type including implied-decimal Nn, R, DT and TM, min/max length, code lists, repetitions,
components), the X12.6 syntax notes P, R, E, C and L, the CTT control totals against the
lines (transaction level, AK502 5) and GS1 check digits of GTINs and SSCCs (warnings).
Every finding is a located ``Issue`` with its AK304/IK304 (720) or AK403/IK403 (723) code;
validation never stops at the first one.
It must not look at envelopes (``envelope``) or build acknowledgments (``ack``).

The loop structure is walked by ``translators.structure`` (shared with EDIFACT; the table
``_FINDINGS`` gives its findings their 720 codes). Each segment's elements are compiled once
into a table (``_CompiledSegment``) walked with a fast test per value, so that the
per-segment work is index lookups and string methods implemented in C.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Final

from translators.ascii import first_control, is_digits
from translators.errors import Issue
from translators.gs1 import GTIN_LENGTHS, check_digit_ok, gtin_problem, sscc_problem
from translators.numeric import x12_real_digits
from translators.structure import Findings, Loop, SegmentRule, Structure
from translators.x12.schema import ElementDef, LoopDef, SegmentDef, TransactionSchema
from translators.x12.segment import Segment

__all__ = ["TransactionValidator", "relaxed_code_lists"]

_MAX_BAD_VALUE = 99  # AK404 / IK404 max length

# Element usage and data type codes of a compiled element.
_OPTIONAL, _REQUIRED, _NOT_USED = 0, 1, 2
_AN, _ID, _N, _R, _DT, _TM, _OTHER = range(7)
_NUMBERS: Final = (_N, _R)
_TYPES = {"AN": _AN, "ID": _ID, "R": _R, "DT": _DT, "TM": _TM}

# (position, ref, data element, usage, type, min, max, codes, repeat, components)
_CompiledElement = tuple[
    int, str, str, int, int, int, int, "frozenset[str] | None", int, tuple[object, ...]
]


# Product/service ID qualifiers (235) whose ID (234) is a GTIN: UP UPC-A (GTIN-12), EN
# EAN-13, UK GTIN-14. Marks and numbers qualifier (88) GM: the marks (87) are an SSCC-18.
_GTIN_QUALIFIERS = frozenset(["UP", "EN", "UK"])
_GTIN, _SSCC = 1, 2
# The GS1 check digit is a rule of the GS1 key, not of X12 syntax: a wrong one is a
# warning (the value is kept as sent) with the implementation code I12 (pattern match
# failure), which a 997 does not carry.
_CHECK_DIGIT_CODE = "I12"

# CTT control totals per transaction set: (segments CTT01 may count, (segment, element)
# pairs whose sum CTT02 may be), from the sets' CTT semantic notes: PO1 and PO102 (850,
# 855), IT1 and IT102 (810), POC and POC03 (860), HL and SN102 (856). Senders also count
# and sum otherwise: 856 items (LIN or SN1) rather than HL, 855 acknowledged quantities
# (ACK02) rather than ordered ones; any of these passes, as a rejection must be certain.
_CTT_RULES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, int], ...]]] = {
    "850": (("PO1",), (("PO1", 2),)),
    "855": (("PO1",), (("PO1", 2), ("ACK", 2))),
    "810": (("IT1",), (("IT1", 2),)),
    "860": (("POC",), (("POC", 3),)),
    "856": (("HL", "LIN", "SN1"), (("SN1", 2),)),
}
_HASH_WIDTH = 10  # CTT02 (347) is R 1/10: a longer hash total is truncated on the left
# X12 has no AK4/IK4 (723) code for a value that contradicts the transaction's content
# (7 is for code lists, 8 for dates): a CTT mismatch is reported at the transaction level,
# AK502/IK502 5 "one or more segments in error", with the issue located at CTT01/CTT02.
_CONTROL_TOTAL_CODE = "5"


def _valid_date(text: str) -> bool:
    if not is_digits(text) or len(text) not in (6, 8):
        return False
    if len(text) == 6:
        year, rest = 2000 + int(text[:2]), text[2:]
    else:
        year, rest = int(text[:4]), text[4:]
    try:
        date(year, int(rest[:2]), int(rest[2:4]))
    except ValueError:
        return False
    return True


def _valid_time(text: str) -> bool:
    if not is_digits(text) or len(text) not in (4, 6, 7, 8):
        return False
    if int(text[0:2]) > 23 or int(text[2:4]) > 59:
        return False
    return len(text) < 6 or int(text[4:6]) <= 59


def _compile_element(edef: ElementDef) -> _CompiledElement:
    usage = {"R": _REQUIRED, "N": _NOT_USED}.get(edef.usage, _OPTIONAL)
    dtype = _TYPES.get(edef.data_type, _N if edef.data_type[:1] == "N" else _OTHER)
    comps = tuple(_compile_element(c) for c in edef.components)
    return (edef.position, edef.ref, edef.data_element, usage, dtype, edef.min_length,
            edef.max_length, edef.codes, edef.repeat, comps)


class _CompiledSegment(SegmentRule[Segment]):
    """A segment of the transaction set and the check of its elements.

    The check walks the element table with a fast test per value (``_passes``: string
    methods implemented in C); a value that does not obviously pass takes the exact methods
    of the validator, which report. The syntax notes are tested on one bit mask of the
    present elements, and explained only when one is broken.
    """

    __slots__ = ("_rules_kept", "_validator", "elements", "gs1", "highest", "present_count",
                 "required_from", "rule_positions", "rules")

    def __init__(self, sdef: SegmentDef, validator: TransactionValidator) -> None:
        super().__init__(sdef.tag, sdef.usage == "R", sdef.max_use)
        self.elements = tuple(_compile_element(e) for e in sdef.elements)
        self.highest = sdef.elements[-1].position if sdef.elements else 0
        # (qualifier position, ID position, _GTIN or _SSCC) of the GS1 keys the segment
        # can carry: each 235/234 pair, each 88/87 pair.
        gs1: list[tuple[int, int, int]] = []
        for first, second in zip(self.elements, self.elements[1:], strict=False):
            pair = (first[2], second[2])
            if pair == ("235", "234"):
                gs1.append((first[0], second[0], _GTIN))
            elif pair == ("88", "87"):
                gs1.append((first[0], second[0], _SSCC))
        self.gs1 = tuple(gs1)
        # (kind, bit mask of the positions, bit of the first position, positions, text)
        self.rules = tuple(
            (r.kind, sum(1 << p for p in r.positions), 1 << r.positions[0], r.positions, r.text)
            for r in sdef.rules
        )
        self.rule_positions = tuple(sorted({p for r in sdef.rules for p in r.positions}))
        # Whether every syntax note holds depends only on which of rule_positions are
        # present: the answer for each presence mask is worked out once.
        self._rules_kept: dict[int, bool] = {}
        # Element positions ascend (the schema lists a segment's elements in order), so a
        # segment of n elements has its values in the first present_count[n] definitions;
        # of the rest, only the required ones matter (required_from[k]: those from index k).
        positions = [e[0] for e in self.elements]
        if positions != sorted(positions):
            raise ValueError(f"{sdef.tag}: element positions out of order: {positions}")
        self.present_count = tuple(sum(1 for q in positions if q <= n)
                                   for n in range(self.highest + 1))
        self.required_from = tuple(
            tuple(e for e in self.elements[k:] if e[3] == _REQUIRED)
            for k in range(len(self.elements) + 1))
        self._validator = validator

    def check(self, seg: Segment, position: int, loop_id: str, issues: list[Issue]) -> None:
        fields = seg.fields
        n = len(fields) - 1
        validator = self._validator
        if self.elements:
            if n > self.highest:
                validator._check_extra(self, fields, seg, position, loop_id, issues, n)
            # The repetition separator is a delimiter (X12.5 ISA11) even in an element
            # that may not repeat: there it splits the value into too many repetitions.
            rep_sep = seg.delimiters.repetition
            elements = self.elements
            present = self.present_count[n] if n <= self.highest else len(elements)
            for element in elements[:present]:
                pos, ref, de, usage, dtype, min_len, max_len, codes, _repeat, comps = element
                v = fields[pos]
                if not v:
                    if usage == _REQUIRED:
                        validator._element_issue(
                            issues, "1", f"required element {ref} is missing", seg, position,
                            loop_id, pos, None, None, de)
                    continue
                if usage == _NOT_USED:
                    validator._element_issue(issues, "I10", f"element {ref} is not used", seg,
                                             position, loop_id, pos, None, None, de, v,
                                             "warning")
                    continue
                if comps or (rep_sep is not None and rep_sep in v):
                    validator._check_repeats(element, v, rep_sep, seg, position, loop_id,
                                             issues)
                    continue
                # The fast test: string methods implemented in C that a valid value passes;
                # a value that fails one may still be valid (a decimal R, say) and takes
                # the exact check, which reports.
                if dtype == _OTHER:
                    continue  # binary and unknown types are not checked
                if min_len <= len(v) <= max_len:
                    if dtype == _ID:
                        # Code lists hold no control characters; without one, printable
                        # text is the test.
                        if v.isprintable() if codes is None else v in codes:
                            continue
                    elif dtype == _AN:
                        if v.isprintable():
                            continue
                    elif dtype in _NUMBERS:
                        if v.isascii() and v.isdigit():
                            continue
                    elif dtype == _DT:
                        if _valid_date(v):
                            continue
                    elif _valid_time(v):
                        continue
                validator._check_simple(element, v, seg, position, loop_id, None, None,
                                        issues, pos)
            for element in self.required_from[present]:
                validator._element_issue(
                    issues, "1", f"required element {element[1]} is missing", seg, position,
                    loop_id, element[0], None, None, element[2])
        for qualifier_pos, id_pos, kind in self.gs1:
            # GS1 keys: the qualifier test first, then digits and the check digit; only a
            # failing key takes the exact path for its message.
            if n < id_pos:
                continue
            v = fields[id_pos]
            if not v:
                continue
            if kind == _GTIN:
                if fields[qualifier_pos] in _GTIN_QUALIFIERS and not (
                        len(v) in GTIN_LENGTHS and v.isascii() and v.isdigit()
                        and check_digit_ok(v)):
                    _gs1_issue(issues, seg, position, loop_id, id_pos, "234", gtin_problem(v), v)
            elif fields[qualifier_pos] == "GM":
                _gs1_issue(issues, seg, position, loop_id, id_pos, "87", sscc_problem(v), v)
        if self.rules:
            mask = 0
            for p in self.rule_positions:
                if p <= n and fields[p]:
                    mask |= 1 << p
            kept = self._rules_kept.get(mask)
            if kept is None:
                kept = all(_rule_kept(rule, mask & bits, bits, first_bit)
                           for rule, bits, first_bit, _positions, _text in self.rules)
                self._rules_kept[mask] = kept
            if not kept:
                validator._check_rules(self, fields, seg, position, loop_id, issues)


def _rule_kept(kind: str, hit: int, bits: int, first_bit: int) -> bool:
    """Whether an X12.6 syntax note holds, given ``hit``: the bits of its positions whose
    elements are present (P paired, R required, E exclusion, C conditional, L list
    conditional)."""
    if kind == "P":
        return hit == 0 or hit == bits
    if kind == "R":
        return hit != 0
    if kind == "E":
        return not hit & (hit - 1)  # at most one of them
    if kind == "C":
        return not hit & first_bit or hit == bits
    return not hit & first_bit or hit != first_bit  # L


def _compile(loop: LoopDef, validator: TransactionValidator, path: str = "") -> Loop[Segment]:
    return Loop(loop.loop_id, path, loop.usage == "R", loop.repeat, [
        _CompiledSegment(c, validator) if isinstance(c, SegmentDef)
        else _compile(c, validator, f"{path}/{c.loop_id}" if path else c.loop_id)
        for c in loop.children
    ])


# The structure findings in 997/999 terms: AK304/IK304 (720) codes.
_FINDINGS: Final = Findings(
    misplaced=("7", "segment {tag!r} is not in its proper sequence"),
    not_in_set=("6", "segment {tag!r} is not defined in transaction set {subject}"),
    unknown=("1", "segment {tag!r} is not a recognised segment ID"),
    segment_repeats=("5", "{tag} occurs more than {max} times"),
    loop_repeats=("4", "loop {loop} occurs more than {max} times"),
    missing_segment=("3", "required segment {tag} is missing"),
    missing_loop=("3", "required loop {loop} ({trigger}) is missing"),
)


def relaxed_code_lists(issues: list[Issue], refs: Collection[str]) -> list[Issue]:
    """``issues`` with the code-list violations (723 code 7) of the elements ``refs`` names
    (``N101``: segment tag and two-digit position) turned into warnings: a partner profile
    may accept codes its partner really sends (partners/README.md, ``[validation]``)."""
    if not refs:
        return issues
    out: list[Issue] = []
    for issue in issues:
        if (issue.level == "element" and issue.code == "7" and issue.severity == "error"
                and issue.segment_tag and issue.element_position is not None
                and f"{issue.segment_tag}{issue.element_position:02d}" in refs):
            issue = replace(issue, severity="warning",
                            message=f"{issue.message} (code list relaxed for this partner)")
        out.append(issue)
    return out


def _gs1_issue(issues: list[Issue], seg: Segment, position: int, loop_id: str, element: int,
               data_element: str, problem: str | None, value: str) -> None:
    """A GTIN or SSCC whose check (``_generate_checker``) failed: a located warning."""
    if problem is not None:
        TransactionValidator._element_issue(issues, _CHECK_DIGIT_CODE, problem, seg, position,
                                            loop_id, element, None, None, data_element, value,
                                            "warning")


def _hash_total(values: list[str]) -> str:
    """The X12 hash total: the values summed without regard to decimal points or signs,
    truncated on the left to CTT02's width."""
    total = 0
    for value in values:
        digits = x12_real_digits(value)
        if digits is not None:
            total += int(digits)
    return str(total)[-_HASH_WIDTH:]


def _check_control_totals(
    rule: tuple[tuple[str, ...], tuple[tuple[str, int], ...]], segments: Sequence[Segment],
    issues: list[Issue],
) -> None:
    """CTT01 against the count of line segments and CTT02 against their quantities.

    CTT02 passes as the decimal sum of the quantities (what most senders write) or as the
    X12 hash total (digits summed without points or signs, truncated on the left).
    """
    count_tags, sums = rule
    ctt: Segment | None = None
    ctt_position = 0
    for index in range(len(segments) - 1, max(len(segments) - 8, 0) - 1, -1):
        if segments[index].fields[0] == "CTT":
            ctt, ctt_position = segments[index], index + 1
            break
    if ctt is None:
        return
    tags = [seg.fields[0] for seg in segments]
    counts = {tag: tags.count(tag) for tag in count_tags}
    quantities: dict[tuple[str, int], list[str]] = {}
    for tag, pos in sums:
        quantities[(tag, pos)] = [
            fields[pos] for fields in (seg.fields for seg in segments if seg.fields[0] == tag)
            if len(fields) > pos and fields[pos]
        ]
    fields = ctt.fields
    stated = fields[1] if len(fields) > 1 else ""
    if stated.isascii() and stated.isdigit() and int(stated) not in counts.values():
        has = ", ".join(f"{n} {tag}" for tag, n in counts.items())
        issues.append(Issue(
            level="transaction", code=_CONTROL_TOTAL_CODE,
            message=f"CTT01 says {stated} line items, the transaction set has {has}",
            offset=ctt.offset, segment_tag="CTT", segment_position=ctt_position,
            element_position=1, data_element="354", bad_value=stated))
    stated = fields[2] if len(fields) > 2 else ""
    if not stated or x12_real_digits(stated) is None:
        return
    totals: list[str] = []
    for (tag, pos), found in quantities.items():
        if any(x12_real_digits(q) is None for q in found):
            return  # an unreadable quantity is an error of its own; no total can be judged
        total = sum((Decimal(q) for q in found), Decimal(0))
        if Decimal(stated) == total or stated.lstrip("0") == _hash_total(found).lstrip("0"):
            return
        totals.append(f"the {tag}{pos:02d} quantities total {total}")
    issues.append(Issue(
        level="transaction", code=_CONTROL_TOTAL_CODE,
        message=f"CTT02 hash total is {stated}; {', '.join(totals)}", offset=ctt.offset,
        segment_tag="CTT", segment_position=ctt_position, element_position=2,
        data_element="347", bad_value=stated))


class TransactionValidator:
    """A validator compiled from one ``TransactionSchema``; reusable and thread-safe."""

    def __init__(
        self,
        schema: TransactionSchema,
        segment_dictionary: Callable[[], frozenset[str]] | None = None,
    ) -> None:
        """``segment_dictionary`` returns every segment tag edigate knows; it is called
        only to tell an unknown segment (720 code 1) from a misplaced one (code 6)."""
        self.schema = schema
        self._structure = Structure(_compile(schema.root, self), _FINDINGS,
                                    subject=schema.set_id, known_tags=schema.known_tags,
                                    dictionary=segment_dictionary)
        self._ctt = _CTT_RULES.get(schema.set_id) if "CTT" in schema.known_tags else None

    def validate(
        self, segments: Sequence[Segment], loops: list[str] | None = None
    ) -> list[Issue]:
        """All issues of the transaction set ``segments`` (ST..SE as read). With
        ``loops``, the loop path of each segment is appended to it, in segment order (the
        current loop's for a segment that has no place)."""
        issues: list[Issue] = []
        self._structure.walk(segments, issues, loops)
        if segments and self._ctt is not None:
            _check_control_totals(self._ctt, segments, issues)
        return issues

    # -- content ------------------------------------------------------------------------
    def _check_extra(self, sdef: _CompiledSegment, fields: list[str], seg: Segment,
                     position: int, loop_id: str, issues: list[Issue], n: int) -> None:
        """Elements beyond the last defined one (723 code 3): the first that has a value."""
        highest = sdef.highest
        first = next((p for p in range(highest + 1, n + 1) if fields[p]), None)
        if first is not None:
            self._element_issue(issues, "3", f"{sdef.tag} has more than {highest} elements",
                                seg, position, loop_id, first, None, None, "", fields[first])

    def _check_repeats(self, element: _CompiledElement, value: str, rep_sep: str | None,
                       seg: Segment, position: int, loop_id: str, issues: list[Issue]) -> None:
        pos, ref, de, _usage, _dtype, _min, _max, _codes, repeat, comps = element
        if rep_sep is not None and rep_sep in value:
            reps = value.split(rep_sep)
            if len(reps) > repeat:
                self._element_issue(issues, "12", f"{ref} repeats {len(reps)} times, at most "
                                    f"{repeat} allowed", seg, position, loop_id, pos, None,
                                    None, de, value)
        else:
            reps = [value]
        for r, rep_value in enumerate(reps, start=1):
            rep_no = r if len(reps) > 1 else None
            if comps:
                self._check_composite(element, rep_value, seg, position, loop_id, rep_no, issues)
            elif rep_value:
                self._check_simple(element, rep_value, seg, position, loop_id, None, rep_no,
                                   issues, pos)

    def _check_composite(self, element: _CompiledElement, value: str, seg: Segment,
                         position: int, loop_id: str, rep_no: int | None,
                         issues: list[Issue]) -> None:
        pos, ref, de = element[0], element[1], element[2]
        comps: tuple[_CompiledElement, ...] = element[9]  # type: ignore[assignment]
        parts = value.split(seg.delimiters.component)
        if len(parts) > len(comps) and any(parts[len(comps):]):
            self._element_issue(issues, "13", f"{ref} has more than {len(comps)} components",
                                seg, position, loop_id, pos, len(comps) + 1, rep_no, de, value)
        for c_index, comp in enumerate(comps, start=1):
            part = parts[c_index - 1] if c_index <= len(parts) else ""
            if not part:
                if comp[3] == _REQUIRED:
                    self._element_issue(issues, "1", f"required component {comp[1]} is missing",
                                        seg, position, loop_id, pos, c_index, rep_no, comp[2])
                continue
            self._check_simple(comp, part, seg, position, loop_id, c_index, rep_no, issues, pos)

    def _check_simple(self, element: _CompiledElement, value: str, seg: Segment,
                      position: int, loop_id: str, component: int | None, rep_no: int | None,
                      issues: list[Issue], element_position: int) -> None:
        _pos, ref, de, _usage, dtype, min_len, max_len, codes, _repeat, _comps = element
        length = len(value)
        code = ""
        message = ""
        if dtype != _OTHER and first_control(value, seg.delimiters.component) >= 0:
            # 723 code 6, invalid character: no X12.6 character set holds control
            # characters (binary elements, type B, may: they are _OTHER and not checked).
            code, message = "6", f"{ref} contains a control character"
        elif dtype == _ID:
            if codes is not None and value not in codes:
                code, message = "7", f"{ref} code {value!r} is not valid"
        elif dtype == _AN:
            if not value.isprintable():
                code, message = "6", f"{ref} contains a non-printable character"
        elif dtype in (_N, _R):
            digits = x12_real_digits(value, dtype == _R)
            if digits is None:
                code, message = "6", f"{ref} {value!r} is not a number"
            else:
                length = len(digits)
        elif dtype == _DT:
            if not _valid_date(value):
                code, message = "8", f"{ref} {value!r} is not a valid date"
        elif dtype == _TM and not _valid_time(value):
            code, message = "9", f"{ref} {value!r} is not a valid time"
        if not code:
            if length < min_len:
                code, message = "4", f"{ref} {value!r} is shorter than its minimum length {min_len}"
            elif length > max_len:
                code, message = "5", f"{ref} is longer than its maximum length {max_len}"
            else:
                return
        self._element_issue(issues, code, message, seg, position, loop_id, element_position,
                            component, rep_no, de, value)

    def _check_rules(self, sdef: _CompiledSegment, fields: list[str], seg: Segment,
                     position: int, loop_id: str, issues: list[Issue]) -> None:
        """X12.6 syntax notes, evaluated on a bit mask of the present elements."""
        mask = 0
        for i, value in enumerate(fields):
            if value:
                mask |= 1 << i
        n = len(fields) - 1
        tag = sdef.tag
        for kind, bits, first, ps, text in sdef.rules:
            if _rule_kept(kind, mask & bits, bits, first):
                continue
            bad: list[tuple[str, int, str]] = []
            if kind == "P":
                bad = [("2", p, f"{tag}{p:02d} is required when any of {text} is present")
                       for p in ps if not mask & (1 << p)]
            elif kind == "R":
                bad = [("2", ps[0], f"at least one of {text} is required")]
            elif kind == "E":
                second = [p for p in ps if mask & (1 << p)][1]
                bad = [("10", second, f"only one of {text} may be present")]
            elif kind == "C":
                bad = [("2", p, f"{tag}{p:02d} is required when {tag}{ps[0]:02d} is present")
                       for p in ps[1:] if not mask & (1 << p)]
            elif kind == "L":
                bad = [("2", ps[1], f"one of {text[3:]} is required when {tag}{ps[0]:02d} is "
                        "present")]
            for code, p, message in bad:
                self._element_issue(issues, code, f"syntax rule {text}: {message}", seg,
                                    position, loop_id, p, None, None, "",
                                    fields[p] if p <= n else None)

    @staticmethod
    def _element_issue(issues: list[Issue], code: str, message: str, seg: Segment,
                       position: int, loop_id: str, element: int, component: int | None,
                       repetition: int | None, data_element: str, value: str | None = None,
                       severity: str = "error") -> None:
        issues.append(Issue(
            level="element", code=code, message=message,
            severity="warning" if severity == "warning" else "error",
            offset=seg.offset, segment_tag=seg.fields[0], segment_position=position,
            loop_id=loop_id, element_position=element, component_position=component,
            repetition=repetition, data_element=data_element or None,
            bad_value=value[:_MAX_BAD_VALUE] if value else None,
        ))
