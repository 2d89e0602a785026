"""Single-pass state for line-item documents (850, 855, 860, 810): header, lines, summary.

Responsible for routing the segments that can appear at header or line level (N1 loops,
PER, DTM, REF/N9, MSG/NTE, SAC, TXI, AMT) to the current line or the header, and the
line-only segments (PID, CTP, PO4, SCH, SDQ, QTY, SLN) and header-only segments (CUR, ITD,
FOB, TD5) to their place; for the SAC loop of the 810 (SAC, TXI) the TXIs after a SAC are
the allowance's or charge's own taxes, and the SLN loop's PID, DTM, REF, CTP and MSG/NTE
belong to the sub-line. ``finish`` settles the amounts (AMT) of the lines and the summary
into their named fields (``translators.money``) and picks a line's net price.
Transaction-specific segments (BEG, PO1, ACK, ...) stay in the mapper modules.
It must not raise on odd input: unknown or misplaced segments are skipped, and
``skipped`` remembers them so that their values are listed as unmapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from translators.accounting import Coverage
from translators.money import LINE_AMOUNT_FIELDS, settle_amounts
from translators.record_data import RecordData, new_record
from translators.text import text_or_none
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.commercial import (
    read_amt,
    read_fob,
    read_itd,
    read_ref,
    read_sac,
    read_td5,
    read_txi,
)
from translators.x12.mappers.dates import DATE_NAMES, add_dtm
from translators.x12.mappers.elements import element, to_decimal
from translators.x12.mappers.party_loop import (
    PARTY_LOOP_TAGS,
    add_to_party,
    read_per,
    start_party,
)
from translators.x12.mappers.products import (
    add_product_ids,
    line_price,
    read_ctp,
    read_po4,
    read_qty,
    read_sch,
    read_sdq,
    read_sln,
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
    "N1": "1 2 3 4", "N2": "1 2", "N3": "1 2", "N4": "1 2 3 4 5 6 7",
    "PER": "1 2 3 4 5 6 7 8 9", "REF": "1 2 3",
})
"""What ``party_loop`` maps of an N1 loop (and of a PER outside one)."""

DOCUMENT_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "DTM": "1q 2 3 4 5 6q 7", "N9": "1 2 3", "MSG": "1", "NTE": "2",
    "SAC": "1 2 3 4 5 7 8 9 10 12 15", "TXI": "1 2 3 4 5 6 8 9",
    "PID": "5", "CTP": "1 2q 3 4 5.1 6 7 9", "PO4": "1 2 3", "SCH": "1 2 5q 6 7 8q 9 10",
    "SDQ": " ".join(str(i) for i in range(1, 23)),
    "CUR": "2", "ITD": " ".join(str(i) for i in range(1, 16)), "FOB": "1 2 3 4 5",
    "TD5": "2 3 4 5 12", "AMT": "1q 2", "QTY": "1 2 3.1",
    "SLN": f"1 2 3 4 5.1 6 7 8 {id_pairs(9, 28)}",
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
    price = to_decimal(element(f, 4))
    basis = text_or_none(element(f, 5))
    line["unit_price"] = price
    line["price_basis"] = basis
    line["net_price"] = line_price(price, basis)
    add_product_ids(line["item_ids"], f, 6)
    return line


class LineDocument:
    """The record dict being built and where the next segment belongs.

    ``sac_taxes``: a TXI after a SAC is the SAC's own tax (the 810's SAC loop); in the
    850/855/860 the TXI is not part of the SAC loop and stays the line's or header's.
    """

    __slots__ = (
        "allowance",
        "amounts",
        "component",
        "line",
        "party",
        "record",
        "sac_taxes",
        "skipped",
        "sub_line",
    )

    def __init__(
        self, source: RecordData, component: str, *, sac_taxes: bool = False, **header: Any
    ) -> None:
        self.record: dict[str, Any] = new_record(
            source, payment_terms=[], allowances_charges=[], taxes=[], lines=[], totals={},
            **header,
        )
        self.line: dict[str, Any] | None = None
        self.party: dict[str, Any] | None = None
        self.allowance: dict[str, Any] | None = None
        self.sub_line: dict[str, Any] | None = None
        self.amounts: list[dict[str, Any]] = []
        self.component = component
        self.sac_taxes = sac_taxes
        # Field lists of segments that had no place where they stood: all their values
        # are listed as unmapped (``translators.accounting``).
        self.skipped: list[list[str]] = []

    def start_line(self, line: dict[str, Any]) -> None:
        self.record["lines"].append(line)
        self.line = line
        self.party = None
        self.allowance = None
        self.sub_line = None

    def end_lines(self) -> None:
        self.line = None
        self.party = None
        self.allowance = None
        self.sub_line = None

    def finish(self, total_fields: Mapping[str, str], preferred: tuple[str, ...]) -> None:
        """Settle the amounts: each line's into its ``amount`` (else its ``amounts``), the
        summary's into the named totals of ``total_fields`` (else ``totals.amounts``), the
        qualifiers of ``preferred`` first; a CTP naming a net price is the line's net price
        (the PO1/IT1 price stays ``unit_price``)."""
        for line in self.record["lines"]:
            found: list[dict[str, Any]] | None = line.pop("amounts", None)
            if found:
                settle_amounts(line, found, LINE_AMOUNT_FIELDS, ("1",))
            prices: list[dict[str, Any]] | None = line.get("prices")
            if prices:
                for price in prices:
                    if price["type"] == "net":
                        price["type_code"] = None  # CTP02 NET: carried by the field
                        line["net_price"] = price
                        prices.remove(price)
                        break
        if self.amounts:
            settle_amounts(self.record["totals"], self.amounts, total_fields, preferred)

    def feed(self, tag: str, fields: list[str]) -> None:
        """Route one segment that is not specific to the transaction set."""
        if self.party is not None:
            if tag in PARTY_LOOP_TAGS:
                if not add_to_party(self.party, tag, fields):
                    self.skipped.append(fields)
                return
            self.party = None
        if self.allowance is not None:
            if tag == "TXI":
                append: list[dict[str, Any]] = self.allowance.setdefault("taxes", [])
                append.append(read_txi(fields))
                return
            self.allowance = None
        if self.sub_line is not None:
            if self._sub_line_segment(self.sub_line, tag, fields):
                return
            self.sub_line = None
        line = self.line
        target = line if line is not None else self.record
        if tag == "N1":
            self.party = start_party(fields)
            target.setdefault("parties", []).append(self.party)
        elif tag == "DTM":
            # A repeated qualifier keeps its value (``add_date``); an unreadable date is
            # listed as unmapped.
            if not add_dtm(target.setdefault("dates", {}), fields):
                self.skipped.append(fields)
        elif tag == "PER":
            # A contact outside any N1 loop: the header's (before the first N1) or the line's.
            target.setdefault("contacts", []).append(read_per(fields))
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
            allowance = read_sac(fields)
            target.setdefault("allowances_charges", []).append(allowance)
            if self.sac_taxes:
                self.allowance = allowance
        elif tag == "TXI":
            target.setdefault("taxes", []).append(read_txi(fields))
        elif tag == "AMT":
            amount = read_amt(fields)
            if amount is None:
                self.skipped.append(fields)
            elif line is not None:
                line.setdefault("amounts", []).append(amount)
            else:
                self.amounts.append(amount)
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
        elif tag == "QTY":
            quantity = read_qty(fields, self.component)
            if quantity is not None:
                line.setdefault("quantities", []).append(quantity)
            else:
                self.skipped.append(fields)
        elif tag == "SLN":
            sub_line = read_sln(fields, self.component)
            line.setdefault("sub_lines", []).append(sub_line)
            self.sub_line = sub_line
        else:
            self.skipped.append(fields)

    def _sub_line_segment(self, sub_line: dict[str, Any], tag: str, fields: list[str]) -> bool:
        """Take a segment of the SLN loop into ``sub_line``; false when it is not one."""
        if tag == "PID":
            if sub_line.get("description") is None:
                sub_line["description"] = text_or_none(element(fields, 5))
            else:
                self.skipped.append(fields)
        elif tag == "DTM":
            if not add_dtm(sub_line.setdefault("dates", {}), fields):
                self.skipped.append(fields)
        elif tag == "REF":
            ref = read_ref(fields)
            if ref is not None:
                sub_line.setdefault("references", []).append(ref)
            else:
                self.skipped.append(fields)
        elif tag == "CTP":
            sub_line.setdefault("prices", []).append(read_ctp(fields, self.component))
        elif tag == "MSG":
            note = text_or_none(element(fields, 1))
            if note:
                sub_line.setdefault("notes", []).append(note)
        else:
            return False
        return True

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
