"""The structure walk both standards share: which place in a transaction's tree each
segment takes.

Responsible for placing segments in loops (X12) and segment groups (EDIFACT): a loop is
entered by its trigger segment (its first), segments keep their order, a required segment or
loop that was skipped is missing, a segment or loop may not occur more often than its
maximum, and a segment with no place left is unplaced. The findings are the same for both
standards; ``Findings`` is the table that gives each its code and wording in one standard
(X12 720 codes, EDIFACT 0085 codes). Element content is each standard's own
``SegmentRule.check``, called for every placed segment.
It must not know either standard's syntax: segments are anything with a ``tag`` and an
``offset``.

A loop is compiled once into ``Loop``: its children, and for each tag the indexes of the
children it may be (a tag can occur at several places of one loop), so that placing a
segment is a dict lookup per open loop.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from translators.errors import Issue

__all__ = ["Findings", "Loop", "SegmentLike", "SegmentRule", "Structure"]


class SegmentLike(Protocol):
    """What the walk reads of a segment."""

    @property
    def tag(self) -> str: ...

    @property
    def offset(self) -> int: ...


S = TypeVar("S", bound=SegmentLike)


class SegmentRule(Generic[S]):
    """A segment's place in a loop: its tag, whether it is required, how often it may
    occur, and the check of its elements (each standard's subclass)."""

    __slots__ = ("max_use", "required", "tag")

    def __init__(self, tag: str, required: bool, max_use: int) -> None:
        self.tag = tag
        self.required = required
        self.max_use = max_use

    def check(self, seg: S, position: int, loop_id: str, issues: list[Issue]) -> None:
        """Append the issues of ``seg``'s elements; ``loop_id`` is the loop it is in."""


class Loop(Generic[S]):
    """A loop or segment group (the transaction itself is the root loop)."""

    __slots__ = ("children", "loop_id", "max_use", "path", "positions", "required",
                 "required_children", "trigger")

    def __init__(self, loop_id: str, path: str, required: bool, max_use: int,
                 children: Sequence[SegmentRule[S] | Loop[S]]) -> None:
        self.loop_id = loop_id
        # A loop's place in the tree is fixed, and so is its path of loop ids (``N1``,
        # ``PO1/N1``, ``SG25/SG32``); the root has the empty path.
        self.path = path
        self.required = required
        self.max_use = max_use
        self.children: tuple[SegmentRule[S] | Loop[S], ...] = tuple(children)
        first = self.children[0] if self.children else None
        self.trigger: str = first.tag if isinstance(first, SegmentRule) else \
            first.trigger if first is not None else ""
        positions: dict[str, list[int]] = {}
        for index, child in enumerate(self.children):
            tag = child.tag if isinstance(child, SegmentRule) else child.trigger
            positions.setdefault(tag, []).append(index)
        self.positions = {tag: tuple(found) for tag, found in positions.items()}
        self.required_children = tuple(
            i for i, child in enumerate(self.children) if child.required)


@dataclass(frozen=True, slots=True)
class Findings:
    """One standard's code and wording for each structure finding (all at segment level).

    Each wording is a ``str.format`` template over ``tag`` (the segment's tag as read),
    ``tag3`` (its first three characters), ``loop`` (a loop id), ``trigger`` (that loop's
    first tag), ``max`` (the maximum exceeded) and ``subject`` (the transaction or message
    being validated, as ``Structure`` was given it).
    """

    misplaced: tuple[str, str]  # a tag of this transaction, out of its place
    not_in_set: tuple[str, str]  # a tag the standard knows, not used by this transaction
    unknown: tuple[str, str]  # a tag nobody defines
    segment_repeats: tuple[str, str]
    loop_repeats: tuple[str, str]
    missing_segment: tuple[str, str]
    missing_loop: tuple[str, str]


class _Frame(Generic[S]):
    """An open occurrence of a loop: how far into its children it is, and how often each
    child has occurred in it."""

    __slots__ = ("counts", "index", "loop")

    def __init__(self, loop: Loop[S], index: int) -> None:
        self.loop = loop
        self.index = index
        self.counts = [0] * len(loop.children)


class Structure(Generic[S]):
    """The walk over one compiled transaction or message; reusable and thread-safe."""

    def __init__(self, root: Loop[S], findings: Findings, *, subject: str,
                 known_tags: Collection[str],
                 dictionary: Callable[[], frozenset[str]] | None = None) -> None:
        """``known_tags``: the tags this transaction defines; ``dictionary`` returns every
        tag the standard's directory knows, called only to tell a tag used elsewhere from
        one nobody defines (None: every unknown tag is ``unknown``)."""
        self.root = root
        self.findings = findings
        self.subject = subject
        self._known = known_tags
        self._dictionary = dictionary

    def walk(self, segments: Sequence[S], issues: list[Issue],
             loops: list[str] | None = None) -> None:
        """Append the structure and element issues of ``segments`` (header to trailer, as
        read) to ``issues``. With ``loops``, the loop path of each segment is appended to it
        in segment order (the current loop's for a segment that has no place)."""
        stack = [_Frame(self.root, -1)]
        position = 0
        for seg in segments:
            position += 1
            tag = seg.tag
            depth = len(stack) - 1
            found = -1
            while depth >= 0:
                frame = stack[depth]
                candidates = frame.loop.positions.get(tag)
                if candidates is not None:
                    # A trigger only ever starts a new occurrence of its loop, which the
                    # parent frame handles; within a loop the search starts after it.
                    start = frame.index if frame.index > 0 else (1 if depth else 0)
                    for j in candidates:
                        if j >= start:
                            found = j
                            break
                    if found >= 0:
                        break
                depth -= 1
            if found < 0:
                issues.append(self._unplaced(seg, position, stack[-1].loop.loop_id))
                if loops is not None:
                    loops.append(stack[-1].loop.path)
                continue
            while len(stack) - 1 > depth:
                self._close(stack.pop(), seg, position, issues)
            frame = stack[-1]
            loop = frame.loop
            if found > frame.index + 1:
                for k in loop.required_children:
                    if frame.index < k < found and not frame.counts[k]:
                        self._missing(loop, k, seg, position, issues)
            child = loop.children[found]
            count = frame.counts[found] + 1
            frame.counts[found] = count
            frame.index = found
            if isinstance(child, SegmentRule):
                if loops is not None:
                    loops.append(loop.path)
                if count > child.max_use:
                    issues.append(self._issue(self.findings.segment_repeats, seg, position,
                                              loop.loop_id, tag, max=child.max_use))
                child.check(seg, position, loop.loop_id, issues)
                continue
            if count > child.max_use:
                issues.append(self._issue(self.findings.loop_repeats, seg, position,
                                          child.loop_id, tag, loop=child.loop_id,
                                          max=child.max_use))
            while True:
                new = _Frame(child, 0)
                new.counts[0] = 1
                stack.append(new)
                first = child.children[0]
                if isinstance(first, SegmentRule):
                    if loops is not None:
                        loops.append(child.path)
                    first.check(seg, position, child.loop_id, issues)
                    break
                child = first
        if segments:
            last = segments[-1]
            while stack:
                self._close(stack.pop(), last, position, issues)

    def _issue(self, finding: tuple[str, str], seg: S, position: int, loop_id: str,
               tag: str, *, loop: str = "", trigger: str = "", max: int = 0) -> Issue:
        code, wording = finding
        message = wording.format(tag=tag, tag3=tag[:3], loop=loop, trigger=trigger, max=max,
                                 subject=self.subject)
        return Issue(level="segment", code=code, message=message, offset=seg.offset,
                     segment_tag=tag[:3], segment_position=position, loop_id=loop_id or None)

    def _unplaced(self, seg: S, position: int, loop_id: str) -> Issue:
        tag = seg.tag
        if tag in self._known:
            finding = self.findings.misplaced
        elif self._dictionary is not None and tag in self._dictionary():
            finding = self.findings.not_in_set
        else:
            finding = self.findings.unknown
        return self._issue(finding, seg, position, loop_id, tag)

    def _missing(self, loop: Loop[S], k: int, seg: S, position: int,
                 issues: list[Issue]) -> None:
        child = loop.children[k]
        if isinstance(child, SegmentRule):
            issues.append(self._issue(self.findings.missing_segment, seg, position,
                                      loop.loop_id, child.tag))
        else:
            issues.append(self._issue(self.findings.missing_loop, seg, position, loop.loop_id,
                                      child.trigger, loop=child.loop_id,
                                      trigger=child.trigger))

    def _close(self, frame: _Frame[S], seg: S, position: int, issues: list[Issue]) -> None:
        counts = frame.counts
        index = frame.index
        for k in frame.loop.required_children:
            if k > index and not counts[k]:
                self._missing(frame.loop, k, seg, position, issues)
