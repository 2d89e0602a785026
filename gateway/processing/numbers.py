"""The numbers a received document is found and shown by: its own and its order's.

Responsible for reading, per transaction set or EDIFACT message, the document's own number
(an invoice's invoice number, a ship notice's shipment id, an order's PO number, an
inventory report's id) and the PO numbers it refers to, from its canonical record when it
has one, else from its raw segments: a rejected transaction may have no record (its
mapper found nothing it could read, or the transaction was cut short), and operators still
search the message log for it by the number its sender quotes.
It must not decide what is searchable beyond these numbers and must not write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from translators.edifact.segment import Segment as EDIFACTSegment
from translators.x12.segment import Segment as X12Segment

__all__ = ["DocumentNumbers", "edifact_numbers", "record_numbers", "x12_numbers"]

# The number columns and search terms hold 80 characters.
_MAX = 80

# A record's own number, first found wins: an order's own number is its PO number, so it
# comes after the numbers that only other kinds carry.
_OWN_KEYS = ("invoice_number", "shipment_id", "report_id", "po_number", "document_number")

# X12 header segments: set id -> (tag, own number element, PO number element or 0).
# BEG03/BCH03/BAK03 are the PO number of an order, its change and its acknowledgment;
# BIG02 the invoice number and BIG04 its PO; BSN02 the shipment id; BIA03 the report's
# reference; BFR02 a schedule's reference and BFR11 its PO.
_X12_HEADERS: Mapping[str, tuple[str, int, int]] = {
    "850": ("BEG", 3, 0), "860": ("BCH", 3, 0), "855": ("BAK", 3, 0),
    "865": ("BCA", 3, 0), "810": ("BIG", 2, 4), "856": ("BSN", 2, 0),
    "846": ("BIA", 3, 0), "830": ("BFR", 2, 11), "862": ("BSS", 2, 0),
}
# Segments naming an order a document refers to: PRF01 (a ship notice's orders).
_X12_PO_REFERENCES: Mapping[str, int] = {"PRF": 1}


@dataclass(frozen=True, slots=True)
class DocumentNumbers:
    """A document's own number (None when it has none that can be read) and the other
    numbers it is found by (its orders' PO numbers), without repeats."""

    own: str | None = None
    others: tuple[str, ...] = ()

    @property
    def all(self) -> list[str]:
        """Every number, the own one first."""
        return [n for n in (self.own, *self.others) if n]


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        text = value.strip()
        if text:
            return text[:_MAX]
    return None


def _numbers(own: str | None, others: Sequence[str | None]) -> DocumentNumbers:
    seen = dict.fromkeys(n for n in others if n and n != own)
    return DocumentNumbers(own, tuple(seen))


def record_numbers(data: Mapping[str, Any]) -> DocumentNumbers:
    """The numbers of a canonical record (as plain data)."""
    own = next((found for key in _OWN_KEYS if (found := _text(data.get(key)))), None)
    orders = data.get("orders")
    order_pos = [_text(o.get("po_number")) for o in orders if isinstance(o, Mapping)] \
        if isinstance(orders, list) else []
    return _numbers(own, [_text(data.get("po_number")), *order_pos])


def x12_numbers(set_id: str, segments: Sequence[X12Segment]) -> DocumentNumbers:
    """The numbers of an X12 transaction set read from its segments (the header segment
    of its set, and the order references of a ship notice)."""
    header = _X12_HEADERS.get(set_id)
    own: str | None = None
    others: list[str | None] = []
    for segment in segments:
        tag = segment.tag
        if header is not None and tag == header[0] and own is None:
            own = _text(segment[header[1]])
            if header[2]:
                others.append(_text(segment[header[2]]))
        elif tag in _X12_PO_REFERENCES:
            others.append(_text(segment[_X12_PO_REFERENCES[tag]]))
    return _numbers(own, others)


def edifact_numbers(segments: Sequence[EDIFACTSegment]) -> DocumentNumbers:
    """The numbers of an EDIFACT message read from its segments: BGM 1004 (the document's
    own number, whatever the message type) and every RFF+ON (the order it refers to)."""
    own: str | None = None
    others: list[str | None] = []
    for segment in segments:
        if segment.tag == "BGM" and own is None:
            own = _text(segment.get(2, 1))
        elif segment.tag == "RFF" and segment.get(1, 1) == "ON":
            others.append(_text(segment.get(1, 2)))
    return _numbers(own, others)
