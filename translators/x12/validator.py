"""Validate one X12 transaction set against its compiled schema.

Responsible for the segment structure (loops entered and left by their trigger segment,
order by position, usage, max use, loop repeats) and for element content (usage, data
type including implied-decimal Nn, R, DT and TM, min/max length, code lists, repetitions,
components) and the X12.6 syntax notes P, R, E, C and L. Every finding is a located
``Issue`` with its AK304/IK304 (720) or AK403/IK403 (723) code; validation never stops at
the first one.
It must not look at envelopes (``envelope``) or build acknowledgments (``ack``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from translators.errors import Issue
from translators.x12.schema import ElementDef, LoopDef, SegmentDef, TransactionSchema
from translators.x12.segment import Segment

__all__ = ["TransactionValidator"]

_MAX_BAD_VALUE = 99  # AK404 / IK404 max length


class _Frame:
    __slots__ = ("counts", "index", "loop", "loop_id")

    def __init__(self, loop: LoopDef, index: int) -> None:
        self.loop = loop
        self.index = index
        self.counts = [0] * len(loop.children)
        self.loop_id = loop.loop_id


def _valid_date(text: str) -> bool:
    if not text.isdigit() or len(text) not in (6, 8):
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
    if not text.isdigit() or len(text) not in (4, 6, 7, 8):
        return False
    if int(text[0:2]) > 23 or int(text[2:4]) > 59:
        return False
    return len(text) < 6 or int(text[4:6]) <= 59


def _numeric_digits(text: str, allow_point: bool) -> str | None:
    """The digits of a numeric value (sign and decimal point removed), or None if invalid."""
    body = text[1:] if text[:1] == "-" else text
    if allow_point and "." in body:
        whole, _, frac = body.partition(".")
        if "." in frac or not (whole + frac).isdigit():
            return None
        return whole + frac
    return body if body.isdigit() else None


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
        self._dictionary = segment_dictionary
        # For each loop, each child's trigger tag, so the walk is a tuple scan.
        self._triggers: dict[int, tuple[str, ...]] = {}
        self._index_loops(schema.root)

    def _index_loops(self, loop: LoopDef) -> None:
        self._triggers[id(loop)] = tuple(
            c.tag if isinstance(c, SegmentDef) else c.trigger for c in loop.children
        )
        for c in loop.children:
            if isinstance(c, LoopDef):
                self._index_loops(c)

    # -- structure ----------------------------------------------------------------------
    def validate(self, segments: Sequence[Segment]) -> list[Issue]:
        """All issues of the transaction set ``segments`` (ST..SE as read)."""
        issues: list[Issue] = []
        stack = [_Frame(self.schema.root, -1)]
        triggers = self._triggers
        for position, seg in enumerate(segments, start=1):
            tag = seg.fields[0]
            depth = len(stack) - 1
            found = -1
            while depth >= 0:
                frame = stack[depth]
                trig = triggers[id(frame.loop)]
                # A loop's trigger segment only ever starts a new occurrence of the loop,
                # which the parent frame handles; within the loop the search starts after it.
                start = max(frame.index, 1 if depth else 0)
                for j in range(start, len(trig)):
                    if trig[j] == tag:
                        found = j
                        break
                if found >= 0:
                    break
                depth -= 1
            if found < 0:
                issues.append(self._unplaced(seg, position, stack[-1].loop_id))
                continue
            while len(stack) - 1 > depth:
                self._close(stack.pop(), seg, position, issues)
            frame = stack[-1]
            for k in range(frame.index + 1, found):
                self._missing(frame, k, seg, position, issues)
            child = frame.loop.children[found]
            frame.counts[found] += 1
            frame.index = found
            if isinstance(child, SegmentDef):
                if frame.counts[found] > child.max_use:
                    issues.append(
                        Issue(
                            level="segment",
                            code="5",
                            message=f"{tag} occurs more than {child.max_use} times",
                            offset=seg.offset,
                            segment_tag=tag,
                            segment_position=position,
                            loop_id=frame.loop_id,
                        )
                    )
                self._check_segment(child, seg, position, frame.loop_id, issues)
            else:
                if frame.counts[found] > child.repeat:
                    issues.append(
                        Issue(
                            level="segment",
                            code="4",
                            message=f"loop {child.loop_id} occurs more than {child.repeat} times",
                            offset=seg.offset,
                            segment_tag=tag,
                            segment_position=position,
                            loop_id=child.loop_id,
                        )
                    )
                while True:
                    new = _Frame(child, 0)
                    new.counts[0] = 1
                    stack.append(new)
                    first = child.children[0]
                    if isinstance(first, SegmentDef):
                        self._check_segment(first, seg, position, child.loop_id, issues)
                        break
                    child = first
        last = segments[-1] if segments else None
        if last is not None:
            end = len(segments)
            while stack:
                self._close(stack.pop(), last, end, issues)
        return issues

    def _unplaced(self, seg: Segment, position: int, loop_id: str) -> Issue:
        tag = seg.fields[0]
        if tag in self.schema.known_tags:
            code, what = "7", "is not in its proper sequence"
        elif self._dictionary is not None and tag in self._dictionary():
            code, what = "6", f"is not defined in transaction set {self.schema.set_id}"
        else:
            code, what = "1", "is not a recognised segment ID"
        return Issue(
            level="segment",
            code=code,
            message=f"segment {tag!r} {what}",
            offset=seg.offset,
            segment_tag=tag[:3],
            segment_position=position,
            loop_id=loop_id,
        )

    def _missing(
        self, frame: _Frame, k: int, seg: Segment, position: int, issues: list[Issue]
    ) -> None:
        child = frame.loop.children[k]
        if child.usage != "R" or frame.counts[k]:
            return
        if isinstance(child, SegmentDef):
            tag, what = child.tag, f"required segment {child.tag} is missing"
        else:
            tag, what = child.trigger, f"required loop {child.loop_id} ({child.trigger}) is missing"
        issues.append(
            Issue(
                level="segment",
                code="3",
                message=what,
                offset=seg.offset,
                segment_tag=tag,
                segment_position=position,
                loop_id=frame.loop_id,
            )
        )

    def _close(self, frame: _Frame, seg: Segment, position: int, issues: list[Issue]) -> None:
        for k in range(frame.index + 1, len(frame.loop.children)):
            self._missing(frame, k, seg, position, issues)

    # -- content ------------------------------------------------------------------------
    def _check_segment(
        self, sdef: SegmentDef, seg: Segment, position: int, loop_id: str, issues: list[Issue]
    ) -> None:
        fields = seg.fields
        n = len(fields) - 1
        elements = sdef.elements
        delims = seg.delimiters
        rep_sep = delims.repetition
        comp_sep = delims.component
        highest = elements[-1].position if elements else 0
        if n > highest:
            extra = next((p for p in range(highest + 1, n + 1) if fields[p]), None)
            if extra is not None:
                self._element_issue(
                    issues,
                    "3",
                    f"{sdef.tag} has more than {highest} elements",
                    seg,
                    position,
                    loop_id,
                    extra,
                    None,
                    None,
                    "",
                    fields[extra],
                )
        for edef in elements:
            pos = edef.position
            value = fields[pos] if pos <= n else ""
            if not value:
                if edef.usage == "R":
                    self._element_issue(
                        issues,
                        "1",
                        f"required element {edef.ref} is missing",
                        seg,
                        position,
                        loop_id,
                        pos,
                        None,
                        None,
                        edef.data_element,
                    )
                continue
            if edef.usage == "N":
                self._element_issue(
                    issues,
                    "I10",
                    f"element {edef.ref} is not used",
                    seg,
                    position,
                    loop_id,
                    pos,
                    None,
                    None,
                    edef.data_element,
                    value,
                    "warning",
                )
                continue
            if edef.repeat > 1 and rep_sep is not None and rep_sep in value:
                reps = value.split(rep_sep)
                if len(reps) > edef.repeat:
                    self._element_issue(
                        issues,
                        "12",
                        f"{edef.ref} repeats {len(reps)} times, at most {edef.repeat} allowed",
                        seg,
                        position,
                        loop_id,
                        pos,
                        None,
                        None,
                        edef.data_element,
                        value,
                    )
            else:
                reps = [value]
            for r, rep_value in enumerate(reps, start=1):
                rep_no = r if len(reps) > 1 else None
                if edef.components:
                    self._check_composite(
                        edef, rep_value, comp_sep, seg, position, loop_id, rep_no, issues
                    )
                elif rep_value:
                    self._check_simple(
                        edef, rep_value, seg, position, loop_id, None, rep_no, issues
                    )
        if sdef.rules:
            self._check_rules(sdef, fields, seg, position, loop_id, issues)

    def _check_composite(
        self,
        edef: ElementDef,
        value: str,
        sep: str,
        seg: Segment,
        position: int,
        loop_id: str,
        rep_no: int | None,
        issues: list[Issue],
    ) -> None:
        parts = value.split(sep)
        comps = edef.components
        if len(parts) > len(comps) and any(parts[len(comps) :]):
            self._element_issue(
                issues,
                "13",
                f"{edef.ref} has more than {len(comps)} components",
                seg,
                position,
                loop_id,
                edef.position,
                len(comps) + 1,
                rep_no,
                edef.data_element,
                value,
            )
        for c_index, cdef in enumerate(comps, start=1):
            part = parts[c_index - 1] if c_index <= len(parts) else ""
            if not part:
                if cdef.usage == "R":
                    self._element_issue(
                        issues,
                        "1",
                        f"required component {cdef.ref} is missing",
                        seg,
                        position,
                        loop_id,
                        edef.position,
                        c_index,
                        rep_no,
                        cdef.data_element,
                    )
                continue
            self._check_simple(
                cdef, part, seg, position, loop_id, c_index, rep_no, issues, edef.position
            )

    def _check_simple(
        self,
        edef: ElementDef,
        value: str,
        seg: Segment,
        position: int,
        loop_id: str,
        component: int | None,
        rep_no: int | None,
        issues: list[Issue],
        element_position: int | None = None,
    ) -> None:
        dtype = edef.data_type
        length = len(value)
        code = ""
        message = ""
        if dtype == "ID":
            if edef.codes is not None and value not in edef.codes:
                code, message = "7", f"{edef.ref} code {value!r} is not valid"
        elif dtype == "AN":
            if not value.isprintable():
                code, message = "6", f"{edef.ref} contains a control character"
        elif dtype[0] == "N" or dtype == "R":
            digits = _numeric_digits(value, dtype == "R")
            if digits is None:
                code, message = "6", f"{edef.ref} {value!r} is not a {dtype} number"
            else:
                length = len(digits)
        elif dtype == "DT":
            if not _valid_date(value):
                code, message = "8", f"{edef.ref} {value!r} is not a valid date"
        elif dtype == "TM" and not _valid_time(value):
            code, message = "9", f"{edef.ref} {value!r} is not a valid time"
        if not code:
            if length < edef.min_length:
                code, message = (
                    "4",
                    (f"{edef.ref} {value!r} is shorter than its minimum length {edef.min_length}"),
                )
            elif length > edef.max_length:
                code, message = (
                    "5",
                    (f"{edef.ref} is longer than its maximum length {edef.max_length}"),
                )
            else:
                return
        self._element_issue(
            issues,
            code,
            message,
            seg,
            position,
            loop_id,
            element_position or edef.position,
            component,
            rep_no,
            edef.data_element,
            value,
        )

    def _check_rules(
        self,
        sdef: SegmentDef,
        fields: list[str],
        seg: Segment,
        position: int,
        loop_id: str,
        issues: list[Issue],
    ) -> None:
        n = len(fields) - 1

        def present(p: int) -> bool:
            return p <= n and fields[p] != ""

        for rule in sdef.rules:
            ps = rule.positions
            flags = [present(p) for p in ps]
            kind = rule.kind
            bad: list[tuple[str, int, str]] = []
            if kind == "P" and any(flags) and not all(flags):
                bad = [
                    ("2", p, f"{sdef.tag}{p:02d} is required when any of {rule.text} is present")
                    for p, f in zip(ps, flags, strict=True)
                    if not f
                ]
            elif kind == "R" and not any(flags):
                bad = [("2", ps[0], f"at least one of {rule.text} is required")]
            elif kind == "E" and sum(flags) > 1:
                second = [p for p, f in zip(ps, flags, strict=True) if f][1]
                bad = [("10", second, f"only one of {rule.text} may be present")]
            elif kind == "C" and flags[0] and not all(flags[1:]):
                bad = [
                    ("2", p, f"{sdef.tag}{p:02d} is required when {sdef.tag}{ps[0]:02d} is present")
                    for p, f in zip(ps[1:], flags[1:], strict=True)
                    if not f
                ]
            elif kind == "L" and flags[0] and not any(flags[1:]):
                bad = [
                    (
                        "2",
                        ps[1],
                        f"one of {rule.text[3:]} is required when {sdef.tag}{ps[0]:02d} is present",
                    )
                ]
            for code, p, message in bad:
                self._element_issue(
                    issues,
                    code,
                    f"syntax rule {rule.text}: {message}",
                    seg,
                    position,
                    loop_id,
                    p,
                    None,
                    None,
                    "",
                    fields[p] if p <= n else None,
                )

    @staticmethod
    def _element_issue(
        issues: list[Issue],
        code: str,
        message: str,
        seg: Segment,
        position: int,
        loop_id: str,
        element: int,
        component: int | None,
        repetition: int | None,
        data_element: str,
        value: str | None = None,
        severity: str = "error",
    ) -> None:
        issues.append(
            Issue(
                level="element",
                code=code,
                message=message,
                severity="warning" if severity == "warning" else "error",
                offset=seg.offset,
                segment_tag=seg.fields[0],
                segment_position=position,
                loop_id=loop_id,
                element_position=element,
                component_position=component,
                repetition=repetition,
                data_element=data_element or None,
                bad_value=value[:_MAX_BAD_VALUE] if value else None,
            )
        )
