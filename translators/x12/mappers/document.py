"""Single-pass state for line-item documents (850, 855, 860, 810): header, lines, summary.

Responsible for routing the segments that can appear at header or line level (N1 loops,
DTM, REF/N9, MSG/NTE, SAC, TXI) to the current line or the header, and the line-only
segments (PID, CTP, PO4, SCH, SDQ) and header-only segments (CUR, ITD, FOB, TD5) to their
place. Transaction-specific segments (BEG, PO1, ACK, ...) stay in the mapper modules.
It must not raise on odd input: unknown or misplaced segments are skipped, and
``skipped`` remembers them so that their values are listed as unmapped.
"""

from __future__ import annotations

from typing import Any, Final

from translators.accounting import Coverage
from translators.record_data import RecordData
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.commercial import (
    read_fob,
    read_itd,
    read_ref,
    read_sac,
    read_td5,
    read_txi,
)
from translators.x12.mappers.dates import DATE_NAMES, read_dtm
from translators.x12.mappers.elements import element, text_or_none, to_decimal
from translators.x12.mappers.party_loop import PARTY_LOOP_TAGS, add_to_party, start_party
from translators.x12.mappers.products import (
    add_product_ids,
    read_ctp,
    read_po4,
    read_sch,
    read_sdq,
)
from translators.x12.segment import Segment

__all__ = [
    "DOCUMENT_COVERAGE",
    "ENVELOPE_COVERAGE",
    "PARTY_COVERAGE",
    "LineDocument",
    "component_separator",
    "id_pairs",
    "new_line",
    "priced_line",
]

def id_pairs(first: int, last: int) -> str:
    """Coverage refs of qualifier/ID pairs from element ``first`` to ``last``: each
    qualifier (235) is carried as the key of its ID (``buyer_item``) or beside it."""
    return " ".join(f"{i}q {i + 1}" for i in range(first, last, 2))


ENVELOPE_COVERAGE: Final = Coverage({"ST": "*", "SE": "*"})
"""ST and SE hold only what the record's ``source`` holds (set, control number,
implementation reference) and the segment count the envelope checks."""

PARTY_COVERAGE: Final = Coverage({
    "N1": "1 2 3 4", "N2": "1 2", "N3": "1 2", "N4": "1 2 3 4", "PER": "1 2",
    "REF": "1 2 3",
})
"""What ``party_loop`` maps of an N1 loop."""

DOCUMENT_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "DTM": "1q 2 3 5 6q 7", "N9": "1 2 3", "MSG": "1", "NTE": "2",
    "SAC": "1 2 5 7 8 9 10 12 15", "TXI": "1 2 3 4 5 6 9",
    "PID": "5", "CTP": "1 2 3 4 5.1 6 7", "PO4": "1 2 3", "SCH": "1 2 5q 6 7 8q 9 10",
    "SDQ": " ".join(str(i) for i in range(1, 23)),
    "CUR": "2", "ITD": "1 2 3 4 5 6 7 8 12 13", "FOB": "1 2 3 4 5", "TD5": "2 3 4 5 12",
})
"""What ``LineDocument`` maps of the segments it routes; the mappers add their own."""


def component_separator(segments: list[Segment] | tuple[Segment, ...] | Any) -> str:
    """The component separator of the interchange the segments came from."""
    for segment in segments:
        return str(segment.delimiters.component)
    return ":"


def new_line(line_number: str, quantity: Any, unit: str) -> dict[str, Any]:
    """A new line dict. Its collections are added when something goes into them: the
    model's defaults fill the rest, which is markedly cheaper to validate than passing
    a dozen empty lists per line."""
    unit_text = text_or_none(unit)
    return {
        "line_number": text_or_none(line_number),
        "quantity": quantity,
        "unit": unit_text,
        "unit_rec20": x12_unit_to_rec20(unit_text),
        "item_ids": {},
    }


def priced_line(f: list[str]) -> dict[str, Any]:
    """A line from PO1 (850/855) or IT1 (810), which share their first elements: 01 line
    number, 02 quantity (R), 03 unit, 04 unit price (R), 05 price basis, 06.. ID pairs."""
    line = new_line(element(f, 1), to_decimal(element(f, 2)), element(f, 3))
    line["unit_price"] = to_decimal(element(f, 4))
    line["price_basis"] = text_or_none(element(f, 5))
    add_product_ids(line["item_ids"], f, 6)
    return line


class LineDocument:
    """The record dict being built and where the next segment belongs."""

    __slots__ = ("component", "line", "party", "record", "skipped")

    def __init__(self, source: RecordData, component: str, **header: Any) -> None:
        self.record: dict[str, Any] = {
            "source": source,
            "parties": [],
            "references": [],
            "dates": {},
            "notes": [],
            "payment_terms": [],
            "allowances_charges": [],
            "taxes": [],
            "lines": [],
            "totals": {},
            **header,
        }
        self.line: dict[str, Any] | None = None
        self.party: dict[str, Any] | None = None
        self.component = component
        # Field lists of segments that had no place where they stood: all their values
        # are listed as unmapped (``translators.accounting``).
        self.skipped: list[list[str]] = []

    def start_line(self, line: dict[str, Any]) -> None:
        self.record["lines"].append(line)
        self.line = line
        self.party = None

    def end_lines(self) -> None:
        self.line = None
        self.party = None

    def feed(self, tag: str, fields: list[str]) -> None:
        """Route one segment that is not specific to the transaction set."""
        if self.party is not None:
            if tag in PARTY_LOOP_TAGS:
                add_to_party(self.party, tag, fields)
                return
            self.party = None
        line = self.line
        target = line if line is not None else self.record
        if tag == "N1":
            self.party = start_party(fields)
            target.setdefault("parties", []).append(self.party)
        elif tag == "DTM":
            found = read_dtm(fields)
            dates: dict[str, str] = target.setdefault("dates", {})
            if found is None or found[0] in dates:
                self.skipped.append(fields)
            else:
                dates[found[0]] = found[1]
        elif tag == "REF" or tag == "N9":
            ref = read_ref(fields)
            if ref is not None:
                target.setdefault("references", []).append(ref)
            else:
                self.skipped.append(fields)
        elif tag == "MSG":
            note = text_or_none(element(fields, 1))
            if note:
                target.setdefault("notes", []).append(note)
        elif tag == "NTE":
            note = text_or_none(element(fields, 2))
            if note:
                target.setdefault("notes", []).append(note)
        elif tag == "SAC":
            target.setdefault("allowances_charges", []).append(read_sac(fields))
        elif tag == "TXI":
            target.setdefault("taxes", []).append(read_txi(fields))
        elif line is not None:
            self._line_segment(line, tag, fields)
        else:
            self._header_segment(tag, fields)

    def _line_segment(self, line: dict[str, Any], tag: str, fields: list[str]) -> None:
        if tag == "PID":
            if line.get("description") is None:
                line["description"] = text_or_none(element(fields, 5))
            else:
                self.skipped.append(fields)
        elif tag == "CTP":
            line.setdefault("prices", []).append(read_ctp(fields, self.component))
        elif tag == "PO4":
            read_po4(line, fields)
        elif tag == "SCH":
            line.setdefault("schedules", []).append(read_sch(fields, DATE_NAMES))
        elif tag == "SDQ":
            line.setdefault("destinations", []).extend(read_sdq(fields))
        else:
            self.skipped.append(fields)

    def _header_segment(self, tag: str, fields: list[str]) -> None:
        record = self.record
        if tag == "CUR" and record.get("currency") is None:
            record["currency"] = text_or_none(element(fields, 2))
        elif tag == "ITD":
            record["payment_terms"].append(read_itd(fields))
        elif tag == "FOB" and record.get("fob") is None:
            record["fob"] = read_fob(fields)
        elif tag == "TD5" and record.get("carrier") is None:
            record["carrier"] = read_td5(fields)
        else:
            self.skipped.append(fields)
