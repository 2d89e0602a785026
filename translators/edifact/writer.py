"""Writing UN/EDIFACT segments: the inverse of ``reader`` for the service syntax.

Responsible for escaping data with the release character and joining components,
repetitions, elements and segments with an interchange's delimiters, UNA included.
It must not build messages or envelopes' content (counts, references): callers do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from translators.edifact.segment import Delimiters, Segment

__all__ = ["escape", "format_segment", "segment_text", "write_interchange"]

# One data element as written: its repetitions, each a sequence of components.
ElementValue = Sequence[Sequence[str]]


def escape(value: str, d: Delimiters) -> str:
    """``value`` with every service character preceded by the release character
    (ISO 9735-1 7.2). Raises ``ValueError`` when it needs one and there is none."""
    service = [d.release, d.component, d.element, d.segment, d.repetition]
    if not any(c is not None and c in value for c in service):
        return value
    rel = d.release
    if rel is None:
        raise ValueError(f"{value!r} holds a service character and there is no release character")
    chars = {c for c in service if c is not None}
    return "".join(rel + ch if ch in chars else ch for ch in value)


def format_segment(tag: str, elements: Sequence[ElementValue], d: Delimiters) -> str:
    """One segment, terminator included; element n is ``elements[n - 1]``."""
    rep = d.repetition
    parts = [tag]
    for reps in elements:
        if len(reps) > 1 and rep is None:
            raise ValueError(f"{tag}: repetitions need a repetition separator")
        parts.append(
            (rep or "").join(d.component.join(escape(c, d) for c in comps) for comps in reps)
        )
    return d.element.join(parts) + d.segment


def segment_text(seg: Segment, d: Delimiters) -> str:
    """A read ``Segment`` written back with ``d``."""
    return format_segment(seg.tag, [seg.repetitions(i) or [[]] for i in range(1, len(seg) + 1)], d)


def write_interchange(
    segments: Iterable[Segment | tuple[str, Sequence[ElementValue]]],
    d: Delimiters,
    *,
    una: bool = True,
    codec: str = "latin-1",
    newline: str = "",
) -> bytes:
    """Serialise segments (``Segment`` objects or ``(tag, elements)`` pairs) with ``d``,
    preceded by a UNA when ``una`` is true, each followed by ``newline``."""
    out: list[str] = []
    if una:
        out.append("UNA" + d.service_string() + newline)
    for item in segments:
        if isinstance(item, Segment):
            out.append(segment_text(item, d) + newline)
        else:
            tag, elements = item
            out.append(format_segment(tag, elements, d) + newline)
    return "".join(out).encode(codec)
