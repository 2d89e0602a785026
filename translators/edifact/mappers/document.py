"""Single-pass state for line-item messages (ORDERS, ORDCHG, ORDRSP, INVOIC).

Responsible for routing segments to the header, the current line or the summary, and for
the segment groups whose trailing segments belong to their trigger rather than to the
level they sit at: NAD (RFF, CTA, COM, ...), ALC (PCD, MOA, RTE, QTY, and its TAX-MOA,
which has no place in an allowance and is dropped), TAX (MOA), PAT (DTM, PCD, MOA),
RFF (its DTM dates the reference), PRI (CUX, APR, RNG, DTM), SCC (QTY-DTM schedules),
LOC at line level (QTY-DTM destination quantities), PAC, TDT and TOD (LOC, DTM).
Lines start at LIN and end at UNS. Message-specific segments and the header uses of RFF,
DTM and summary MOA are the subclasses' (``orders``, ``invoice``).
It must not raise on odd input: unknown or misplaced segments are skipped, and
``skipped`` remembers them so that their values are listed as unmapped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from translators.accounting import Coverage
from translators.edifact.mappers.commercial import (
    TAX_AMOUNTS,
    add_to_alc,
    add_to_pat,
    read_alc,
    read_cux,
    read_ftx,
    read_moa,
    read_pat,
    read_rff,
    read_tax,
    read_tdt,
    read_tod,
)
from translators.edifact.mappers.dates import date_name, read_dtm
from translators.edifact.mappers.party import PARTY_GROUP_TAGS, add_to_party, start_party
from translators.edifact.mappers.products import (
    add_lin_ids,
    add_pia_ids,
    description,
    quantity_fields,
    read_pri,
    read_qty,
)
from translators.edifact.mappers.tree import append_to
from translators.edifact.mappers.values import text_or_none, to_decimal
from translators.edifact.segment import Segment
from translators.record_data import RecordData
from translators.units import edifact_unit_to_rec20

__all__ = ["DOCUMENT_COVERAGE", "ENVELOPE_COVERAGE", "PARTY_COVERAGE", "LineDocument"]

ENVELOPE_COVERAGE: Final = Coverage({"UNH": "1 2.1 2.2 2.3 2.4 2.5", "UNT": "*"})
"""UNH and UNT hold what the record's ``source`` holds (reference, type, version and
release, whose directory implies the controlling agency, association code) and the
segment count the envelope checks. UNH03 and UNH04 (common access reference, status of
the transfer) are not in ``source`` and are listed."""

PARTY_COVERAGE: Final = Coverage({
    "NAD": "1 2.1 2.3 4 5 6 7.1 8 9", "CTA": "1 2.2", "RFF": "1.1q 1.2",
})
"""What ``party`` maps of a NAD group (COM numbers only partly: not claimed)."""

DOCUMENT_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "DTM": "1.1q 1.2 1.3q", "FTX": "4", "ALC": "1 3 5.1 5.4 5.5", "TAX": "2.1 5.4 7",
    "LIN": "1 3.1 3.2q", "IMD": "3.4 3.5", "PRI": "1.1q 1.2 1.5 1.6", "CUX": "1.2",
    "PAT": "1 2.4 2.5 3.1", "TDT": "3.1 5.1 5.4", "TOD": "2 3.1", "CNT": "1.1q 1.2", "UNS": "*q",
    "PIA": " ".join(f"{i}.1 {i}.2q" for i in range(2, 7)), "LOC": "2.1 2.3",
})
"""What ``LineDocument`` maps of the segments it routes where it has a place for them;
the message mappers add BGM. Segments read only in part of their uses (MOA, QTY, PCD,
COM, ...) are not claimed: their values are listed even where a field took them, until
their mapping is complete."""

# Trailing segments of each group, by the group's trigger.
_GROUP_TAGS: Final[dict[str, frozenset[str]]] = {
    "NAD": PARTY_GROUP_TAGS,
    "ALC": frozenset({"ALI", "DTM", "QTY", "RNG", "PCD", "MOA", "RTE", "TAX"}),
    "ALC-TAX": frozenset({"MOA", "RNG"}),
    "TAX": frozenset({"MOA", "LOC"}),
    "PAT": frozenset({"DTM", "PCD", "MOA", "PAI"}),
    "RFF": frozenset({"DTM"}),
    "PRI": frozenset({"CUX", "APR", "RNG", "DTM"}),
    "SCC": frozenset({"FTX", "RFF", "QTY", "DTM"}),
    "LOC": frozenset({"QTY", "DTM"}),
    "PAC": frozenset({"MEA", "QTY", "DTM", "RFF", "PCI", "GIN", "HAN"}),
    "TDT": frozenset({"LOC", "DTM"}),
    "TOD": frozenset({"LOC"}),
    "CUX": frozenset({"PCD", "DTM"}),
}

# The segments ``feed`` handles wherever they occur; any other belongs to the open line, or
# else the header or summary. One set lookup sends a line's own segments (most of a
# message) on without comparing their tag with each of these.
_ROUTED: Final = frozenset({"LIN", "UNS", "NAD", "DTM", "RFF", "FTX", "ALC", "TAX", "CNT"})

# The segments of a line ``_line_segment`` reads; it drops any other.
_LINE_TAGS: Final = frozenset({"PIA", "IMD", "QTY", "PRI", "SCC", "LOC", "PAC"})

# 6063 Quantity type code qualifier 59: number of consumer units in the traded unit, the
# counterpart of X12 PO401 (pack).
_PACK_QUANTITY: Final = "59"


class LineDocument:
    """The record dict being built and where the next segment belongs.

    ``mark`` is the interchange's decimal mark. ``line_quantities`` are the 6063
    qualifiers of a line's own quantity, best first.
    """

    __slots__ = (
        "group",
        "group_kind",
        "line",
        "line_quantities",
        "mark",
        "quantity_rank",
        "record",
        "schedule",
        "skipped",
        "summary",
    )

    def __init__(
        self, source: RecordData, mark: str, line_quantities: tuple[str, ...], **header: Any
    ) -> None:
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
        self.mark = mark
        self.line_quantities = line_quantities
        self.line: dict[str, Any] | None = None
        self.summary = False
        self.group_kind = ""
        self.group: dict[str, Any] | None = None
        self.schedule: dict[str, Any] | None = None
        self.quantity_rank = len(line_quantities)
        # Segments that had no place where they stood: all their values are listed as
        # unmapped (``translators.accounting``).
        self.skipped: list[Segment] = []

    # -- hooks for the message mappers ---------------------------------------------------
    def header_segment(self, segment: Segment) -> bool:
        """Take a segment this class does not route (BGM, ...); false when it has no
        place (the segment is then listed as unmapped)."""
        return False

    def header_reference(self, ref: dict[str, Any]) -> bool:
        """Take a header RFF into a header field; true when it must not be a reference."""
        return False

    def reference_date(self, ref: dict[str, Any], code: str, value: str) -> None:
        """The DTM (``code``, ISO ``value``) following header reference ``ref``."""

    def header_date(self, code: str, value: str) -> bool:
        """Take a header DTM into a header field; true when it must not go to ``dates``."""
        return False

    def summary_amount(self, qualifier: str, amount: Decimal | None) -> None:
        """A MOA of the summary section (after UNS) outside any group."""

    def line_quantity(
        self, line: dict[str, Any], qualifier: str, quantity: Decimal | None, unit: str | None
    ) -> None:
        """A QTY of ``line`` that is not its own quantity nor its pack."""

    def start_line(self, segment: Segment) -> dict[str, Any]:
        """A new line from its LIN."""
        line: dict[str, Any] = {
            "line_number": text_or_none(segment.get(1)),
            "quantity": None,
            "unit": None,
            "unit_rec20": None,
            "item_ids": {},
        }
        add_lin_ids(line["item_ids"], segment)
        return line

    # -- routing ---------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        """The record dict, lines' prices resolved."""
        for line in self.record["lines"]:
            _resolve_prices(line)
        return self.record

    def _target(self) -> dict[str, Any]:
        return self.line if self.line is not None else self.record

    def feed(self, segment: Segment) -> None:
        """Route one segment of the message."""
        tag = segment.tag
        if self.group_kind:
            if tag in _GROUP_TAGS[self.group_kind]:
                if not self._group_segment(segment):
                    self.skipped.append(segment)
                return
            self.group_kind = ""
            self.group = None
            self.schedule = None
        if tag not in _ROUTED:
            if self.line is not None:
                self._line_segment(self.line, segment)
            elif tag == "MOA":
                if self.summary:
                    qualifier, amount = read_moa(segment, self.mark)
                    self.summary_amount(qualifier, amount)
            else:
                self._header_segment(segment)
            return
        if tag == "LIN":
            line = self.start_line(segment)
            append_to(self.record, "lines", line)
            self.line = line
            self.quantity_rank = len(self.line_quantities)
        elif tag == "UNS":
            self.line = None
            self.summary = True
        elif tag == "NAD":
            party = start_party(segment)
            append_to(self._target(), "parties", party)
            self._open("NAD", party)
        elif tag == "DTM":
            found = read_dtm(segment)
            if found is None:
                self.skipped.append(segment)
            else:
                code, value = found
                if self.line is not None:
                    self._date(self.line, date_name(code), value, segment)
                elif not self.header_date(code, value):
                    self._date(self.record, date_name(code), value, segment)
                elif "T" in value:
                    # A header field took the day; its time has no place yet.
                    self.skipped.append(segment)
        elif tag == "RFF":
            ref = read_rff(segment)
            if ref is None:
                self.skipped.append(segment)
            else:
                if self.line is not None:
                    append_to(self.line, "references", ref)
                elif not self.header_reference(ref):
                    append_to(self.record, "references", ref)
            self._open("RFF", ref)
        elif tag == "FTX":
            note = read_ftx(segment)
            if note:
                append_to(self._target(), "notes", note)
        elif tag == "ALC":
            alc = read_alc(segment)
            append_to(self._target(), "allowances_charges", alc)
            self._open("ALC", alc)
        elif tag == "TAX":
            tax = read_tax(segment, self.mark)
            append_to(self._target(), "taxes", tax)
            self._open("TAX", tax)
        elif tag == "CNT":
            # 6069: 1 algebraic total of the quantities, 2 number of line items.
            counted = segment.get(1, 1).strip()
            total = to_decimal(segment.get(1, 2), self.mark)
            if counted == "2":
                self.record["totals"]["line_count"] = (
                    int(total) if total is not None and total == total.to_integral() else None
                )
            elif counted == "1":
                self.record["totals"]["quantity_total"] = total
            else:
                self.skipped.append(segment)

    def _date(self, target: dict[str, Any], name: str, value: str, segment: Segment) -> None:
        """File a date under ``name`` unless one is there (then the segment is listed)."""
        dates: dict[str, Any] = target.setdefault("dates", {})
        if name in dates:
            self.skipped.append(segment)
        else:
            dates[name] = value

    def _open(self, kind: str, group: dict[str, Any] | None) -> None:
        self.group_kind = kind
        self.group = group

    def _group_segment(self, segment: Segment) -> bool:
        """Fold a trailing segment into its group; false when it has no place there (the
        caller lists it). Segments a group reads only in part (MOA, PCD, QTY, COM) are
        not claimed by the coverage, so they are listed either way."""
        kind = self.group_kind
        group = self.group
        tag = segment.tag
        if group is None:
            return False
        if kind == "NAD":
            if tag == "DTM" or tag == "LOC" or tag == "FII" or tag == "DOC":
                return False
            add_to_party(group, segment)
        elif kind == "ALC":
            if tag == "TAX":
                self.group_kind = "ALC-TAX"
                return False
            if tag == "DTM":
                return False
            add_to_alc(group, segment, self.mark)
        elif kind == "TAX":
            if tag != "MOA":
                return False
            qualifier, amount = read_moa(segment, self.mark)
            if qualifier in TAX_AMOUNTS and group.get("amount") is None:
                group["amount"] = amount
        elif kind == "PAT":
            found = read_dtm(segment) if tag == "DTM" else None
            add_to_pat(group, segment, self.mark, found[1] if found is not None else None)
            return tag != "DTM"  # the due date is read only for some 2475 references
        elif kind == "RFF":
            found = read_dtm(segment)
            if found is None or self.line is not None:
                return False
            self.reference_date(group, found[0], found[1])
            return False  # only some reference dates have a field
        elif kind == "SCC":
            return self._schedule_segment(group, segment)
        elif kind == "LOC" and tag == "QTY" and group.get("quantity") is None:
            _, quantity, unit = read_qty(segment, self.mark)
            group["quantity"] = quantity
            group["unit"] = unit
        elif tag != "MOA" and tag != "QTY" and tag != "PCD":
            return False
        return True

    def _schedule_segment(self, line: dict[str, Any], segment: Segment) -> bool:
        tag = segment.tag
        if tag == "QTY":
            _, quantity, unit = read_qty(segment, self.mark)
            schedule: dict[str, Any] = {
                "quantity": quantity,
                "unit": unit,
                "unit_rec20": edifact_unit_to_rec20(unit),
                "dates": {},
            }
            append_to(line, "schedules", schedule)
            self.schedule = schedule
        elif tag == "DTM" and self.schedule is not None:
            found = read_dtm(segment)
            if found is None:
                return False
            self._date(self.schedule, date_name(found[0]), found[1], segment)
        else:
            return False
        return True

    def _line_segment(self, line: dict[str, Any], segment: Segment) -> None:
        tag = segment.tag
        if tag not in _LINE_TAGS:
            # MOA and the rest: one lookup instead of a comparison with each
            self.skipped.append(segment)
            return
        if tag == "PIA":
            add_pia_ids(line["item_ids"], segment)
        elif tag == "IMD":
            if line.get("description") is None:
                line["description"] = description(segment)
            else:
                self.skipped.append(segment)
        elif tag == "QTY":
            qualifier, quantity, unit = read_qty(segment, self.mark)
            rank = _rank(self.line_quantities, qualifier)
            if 0 <= rank < self.quantity_rank:
                self.quantity_rank = rank
                line.update(quantity_fields(quantity, unit))
            elif qualifier == _PACK_QUANTITY:
                line["pack"] = quantity
            elif rank < 0:
                self.line_quantity(line, qualifier, quantity, unit)
        elif tag == "PRI":
            price = read_pri(segment, self.mark)
            price["basis"] = text_or_none(segment.get(1, 3))
            append_to(line, "prices", price)
            self._open("PRI", price)
        elif tag == "SCC":
            self._open("SCC", line)
        elif tag == "LOC":
            # C517: 3225 location id, 1131, 3055 agency (the qualifier of the id).
            location = text_or_none(segment.get(2, 1))
            if location is not None:
                destination: dict[str, Any] = {
                    "location_qualifier": text_or_none(segment.get(2, 3)),
                    "location": location,
                }
                append_to(line, "destinations", destination)
                self._open("LOC", destination)
            else:
                self.skipped.append(segment)
        elif tag == "PAC":
            self._open("PAC", line)

    def _header_segment(self, segment: Segment) -> None:
        tag = segment.tag
        record = self.record
        if tag == "CUX":
            if record.get("currency") is None:
                record["currency"] = read_cux(segment)
            else:
                self.skipped.append(segment)
            self._open("CUX", None)
        elif tag == "PAT":
            terms = read_pat(segment)
            append_to(record, "payment_terms", terms)
            self._open("PAT", terms)
        elif tag == "TDT":
            if record.get("carrier") is None:
                record["carrier"] = read_tdt(segment)
                self._open("TDT", record["carrier"])
            else:
                self.skipped.append(segment)
                self._open("TDT", None)
        elif tag == "TOD":
            if record.get("fob") is None:
                record["fob"] = read_tod(segment)
            else:
                self.skipped.append(segment)
            self._open("TOD", None)
        elif not self.header_segment(segment):
            self.skipped.append(segment)


def _rank(wanted: tuple[str, ...], qualifier: str) -> int:
    """The index of ``qualifier`` in ``wanted``, -1 when absent (``tuple.index`` is a
    method call in the compiled build, and raises)."""
    for i in range(len(wanted)):
        if wanted[i] == qualifier:
            return i
    return -1


def _resolve_prices(line: dict[str, Any]) -> None:
    """The line's unit price is its net price (5125 AAA) or, without one, its first PRI,
    with 5375 as price basis; the other PRIs stay in ``prices``, and so does the chosen one
    when it states a basis quantity (5284), which a bare unit price cannot carry."""
    prices: list[dict[str, Any]] | None = line.get("prices")
    if not prices:
        return
    chosen = prices[0]
    for price in prices:  # a loop rather than next() over a generator: one object less a line
        if price["type_code"] == "AAA":
            chosen = price
            break
    line["unit_price"] = chosen["unit_price"]
    line["price_basis"] = chosen["basis"]
    kept = [p for p in prices if p is not chosen or p["quantity"] is not None]
    for price in kept:
        del price["basis"]
    if kept:
        line["prices"] = kept
    else:
        del line["prices"]
