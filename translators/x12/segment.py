"""One X12 segment as read from a stream, with its location.

Responsible for holding the raw element text of a segment and giving indexed access to
elements, components and repetitions in the vocabulary of X12.6 (``BEG03``, ``C001.1``).
It must not know about schemas, loops or envelopes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Delimiters", "Segment"]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The delimiters of one interchange, taken from its ISA segment.

    ``repetition`` is ``None`` when the interchange has none (ISA12 before 00402, or an
    alphanumeric ISA11 such as ``U`` that is the old standards identifier).
    ``segment`` is the terminator as written; CR/LF and other whitespace after it is not
    part of it.
    """

    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str | None = "^"


class Segment:
    """A segment: ``fields[0]`` is the tag, ``fields[n]`` is element n (1-based).

    ``offset`` is the byte offset of the segment's first byte in the input stream and
    ``index`` its 1-based ordinal among all segments of the stream.
    Element text is kept raw; components and repetitions are split on demand because only
    the schema knows whether a separator character inside an element is data or syntax.
    """

    __slots__ = ("delimiters", "fields", "index", "offset")

    def __init__(self, fields: list[str], offset: int, index: int, delimiters: Delimiters) -> None:
        self.fields = fields
        self.offset = offset
        self.index = index
        self.delimiters = delimiters

    @property
    def tag(self) -> str:
        return self.fields[0]

    def __len__(self) -> int:
        """Number of elements (the tag not counted), including trailing empty ones."""
        return len(self.fields) - 1

    def __getitem__(self, position: int) -> str:
        """Element at 1-based ``position``; ``""`` when absent."""
        fields = self.fields
        return fields[position] if 0 < position < len(fields) else ""

    def get(self, position: int, component: int = 0) -> str:
        """Element, or with ``component`` > 0 its 1-based component; ``""`` when absent."""
        value = self[position]
        if component <= 0:
            return value
        parts = value.split(self.delimiters.component)
        return parts[component - 1] if component <= len(parts) else ""

    def components(self, position: int) -> list[str]:
        """The components of a composite element (one item for a simple element)."""
        return self[position].split(self.delimiters.component)

    def repetitions(self, position: int) -> list[str]:
        """The repetitions of a repeatable element (one item when there is no separator)."""
        value = self[position]
        rep = self.delimiters.repetition
        if rep is None or rep not in value:
            return [value]
        return value.split(rep)

    def to_text(self, delimiters: Delimiters | None = None) -> str:
        """The segment written with ``delimiters`` (default: its own), terminator included."""
        d = delimiters or self.delimiters
        return d.element.join(self.fields) + d.segment

    def __repr__(self) -> str:
        return f"Segment({self.delimiters.element.join(self.fields)!r} @ {self.offset})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return self.fields == other.fields

    __hash__ = None  # type: ignore[assignment]
