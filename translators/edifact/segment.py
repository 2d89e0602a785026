"""One UN/EDIFACT segment as read from a stream, with its location, and the delimiters.

Responsible for holding a segment's data elements already split into components (and, in
syntax version 4, repetitions) with release characters removed, and for indexed access in
the vocabulary of ISO 9735 (``UNH02`` is element 2, ``S009.0065`` its component 1).
It must not know about schemas, messages or envelopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from translators.errors import Issue

__all__ = ["LEVEL_A", "LEVEL_B", "Delimiters", "Segment"]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The service characters of one interchange (ISO 9735-1 clause 7, UNA).

    ``release`` is ``None`` where the interchange has none (level B defaults).
    ``repetition`` is ``None`` before syntax version 4 and when the UNA leaves its position
    blank. ``una`` is true when the delimiters were advised in a UNA service string.
    """

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str | None = "?"
    repetition: str | None = None
    segment: str = "'"
    una: bool = False

    def service_string(self) -> str:
        """The six characters a UNA carries for these delimiters."""
        return (
            self.component
            + self.element
            + self.decimal
            + (self.release or " ")
            + (self.repetition or " ")
            + self.segment
        )

    def service_bytes(self) -> bytes:
        """The delimiter characters in use, as bytes (all are single-byte)."""
        chars = [self.component, self.element, self.segment]
        if self.release is not None:
            chars.append(self.release)
        if self.repetition is not None:
            chars.append(self.repetition)
        return "".join(chars).encode("latin-1")


# ISO 9735-1 clause 7.1: the defaults when no UNA is sent. Level A uses printable
# characters; level B the information separators IS1 (component), IS3 (element) and
# IS4 (terminator), with IS2 as repetition separator in version 4 and no release character.
LEVEL_A = Delimiters()
LEVEL_B = Delimiters(component="\x1f", element="\x1d", release=None, segment="\x1c")


@final  # the compiled build then calls its methods directly, not through a vtable
class Segment:
    """A segment: ``tag`` and its data elements.

    ``elements[n - 1]`` is data element n (1-based, as ``UNH02``) as the list of its
    components; a simple data element is a one-item list. When an element repeats (syntax
    version 4), ``elements`` holds its first repetition and ``repeats[n]`` all of them.
    ``offset`` is the byte offset of the tag in the input stream, ``index`` the 1-based
    ordinal of the segment in its interchange (UNB is 1; UNA is not a segment), and
    ``position`` the 1-based position in its message (UNH is 1, as 0096 counts), or 0
    outside a message. ``issues`` holds character-level problems the reader found.
    """

    __slots__ = ("elements", "index", "issues", "offset", "position", "repeats", "tag")

    def __init__(
        self,
        tag: str,
        elements: list[list[str]],
        offset: int = 0,
        index: int = 0,
        position: int = 0,
        repeats: dict[int, list[list[str]]] | None = None,
        issues: list[Issue] | None = None,
    ) -> None:
        self.tag = tag
        self.elements = elements
        self.offset = offset
        self.index = index
        self.position = position
        self.repeats = repeats
        self.issues = issues

    def __len__(self) -> int:
        """Number of data elements, including trailing empty ones."""
        return len(self.elements)

    def element(self, position: int) -> list[str]:
        """The components of data element ``position`` (1-based); ``[]`` when absent."""
        elements = self.elements
        return elements[position - 1] if 0 < position <= len(elements) else []

    def get(self, position: int, component: int = 1) -> str:
        """Component ``component`` (1-based) of element ``position``; ``""`` when absent."""
        elements = self.elements
        if 0 < position <= len(elements):
            parts = elements[position - 1]
            if 0 < component <= len(parts):
                return parts[component - 1]
        return ""

    def repetitions(self, position: int) -> list[list[str]]:
        """Every repetition of element ``position``, each as its components."""
        repeats = self.repeats
        if repeats is not None:
            found = repeats.get(position)
            if found is not None:
                return found
        value = self.element(position)
        return [value] if value else []

    def __repr__(self) -> str:
        parts = [self.tag]
        for i, comps in enumerate(self.elements, start=1):
            reps = self.repetitions(i) if self.repeats else [comps]
            parts.append("*".join(":".join(c) for c in reps))
        return f"Segment({'+'.join(parts)!r} @ {self.offset})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return (
            self.tag == other.tag
            and self.elements == other.elements
            and (self.repeats or None) == (other.repeats or None)
        )

    __hash__ = None  # type: ignore[assignment]
