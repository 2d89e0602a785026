"""Single-pass state for line-item messages (ORDERS, ORDCHG, ORDRSP, INVOIC).

Responsible for routing segments to the header, the current line or the summary, and for
the segment groups whose trailing segments belong to their trigger rather than to the
level they sit at: NAD (RFF, CTA, COM, ...), CTA outside a NAD group (COM), ALC (PCD,
MOA, RTE, QTY, and its TAX-MOA: the allowance's or charge's own taxes), TAX (MOA), PAT
(DTM, PCD, MOA, PAI), RFF (its DTM dates the reference: the reference's dates), PRI (CUX,
APR, RNG, DTM), SCC (QTY-DTM schedules), LOC at line level (QTY-DTM destination
quantities), PAC, TDT and TOD (LOC, DTM).
Lines start at LIN and end at UNS. A line keeps every QTY (the best of its own
qualifiers is its ``quantity``, the others stay in ``quantities``), every MOA (203, else
66, else 38 is its ``amount``; the others stay in ``amounts``) and its prices (the first
AAA is the net price and the unit price, the first AAB the gross price, their 5125
qualifier carried by the field). Summary MOAs fill
the named totals the subclass gives, the rest staying in ``totals.amounts``.
Message-specific segments and the header uses of RFF and DTM are the subclasses'
(``orders``, ``invoice``).
It must not raise on odd input: unknown or misplaced segments are skipped, and
``skipped`` remembers them so that their values are listed as unmapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from translators.accounting import Coverage
from translators.edifact.mappers.commercial import (
    add_to_alc,
    add_to_pat,
    add_to_tax,
    read_alc,
    read_amount,
    read_cux,
    read_ftx,
    read_pat,
    read_rff,
    read_tax,
    read_tdt,
    read_tod,
)
from translators.edifact.mappers.dates import add_date, add_dtm, date_name, read_dtm
from translators.edifact.mappers.party import (
    PARTY_GROUP_TAGS,
    add_com,
    add_to_party,
    start_contact,
    start_party,
)
from translators.edifact.mappers.products import (
    add_lin_ids,
    add_pia_ids,
    description,
    line_quantity,
    quantity_fields,
    read_pri,
    read_qty,
)
from translators.edifact.mappers.tree import append_to
from translators.edifact.mappers.values import to_decimal
from translators.edifact.segment import Segment
from translators.money import LINE_AMOUNT_FIELDS, settle_amounts
from translators.record_data import RecordData, new_record
from translators.text import text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = ["DOCUMENT_COVERAGE", "ENVELOPE_COVERAGE", "PARTY_COVERAGE", "LineDocument"]

ENVELOPE_COVERAGE: Final = Coverage({"UNH": "1 2.1 2.2 2.3 2.4 2.5", "UNT": "*"})
"""UNH and UNT hold what the record's ``source`` holds (reference, type, version and
release, whose directory implies the controlling agency, association code) and the
segment count the envelope checks. UNH03 and UNH04 (common access reference, status of
the transfer) are not in ``source`` and are listed."""

PARTY_COVERAGE: Final = Coverage({
    "NAD": "1 2.1 2.2 2.3 3 4.1 4.2 4.3 4.4 4.5 5 6 7.1 7.4 8 9",
    "CTA": "1 2.1 2.2", "COM": "1.1 1.2", "RFF": "1.1q 1.2",
})
"""What ``party`` maps of a NAD group and of CTA-COM wherever they stand (NAD C080 3045
name format, C819 1131/3055 are listed)."""

DOCUMENT_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "DTM": "1.1q 1.2 1.3q", "FTX": "4", "ALC": "1 3 5.1 5.4 5.5", "TAX": "2.1 4 5.4 6 7",
    "LIN": "1 3.1 3.2q", "IMD": "3.4 3.5", "PRI": "1.1q 1.2 1.3 1.5 1.6", "CUX": "1.2",
    "MOA": "1.1q 1.2", "QTY": "1.1q 1.2 1.3", "PCD": "1.1q 1.2",
    "PAT": "1 2.1 2.4 2.5 3.1 3.2 3.3q", "PAI": "1.3", "TDT": "3.1 5.1 5.4", "TOD": "2 3.1",
    "CNT": "1.1q 1.2", "UNS": "*q",
    "PIA": " ".join(f"{i}.1 {i}.2q" for i in range(2, 7)), "LOC": "2.1 2.3",
})
"""What ``LineDocument`` maps of the segments it routes where it has a place for them;
the message mappers add BGM. Segments read only in part of their uses (COM, ...) are not
claimed: their values are listed even where a field took them, until their mapping is
complete. MOA, QTY and PCD are claimed: each lands in a field or an ``amounts``/
``quantities`` list, or its segment is listed (a repeat, an unreadable number, a PCD of a
CUX group)."""

# Trailing segments of each group, by the group's trigger.
_GROUP_TAGS: Final[dict[str, frozenset[str]]] = {
    "NAD": PARTY_GROUP_TAGS,
    "CTA": frozenset({"COM"}),
    "ALC": frozenset({"ALI", "DTM", "QTY", "RNG", "PCD", "MOA", "RTE", "TAX"}),
    "ALC-TAX": frozenset({"MOA", "RNG", "TAX"}),
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
_ROUTED: Final = frozenset(
    {"LIN", "UNS", "NAD", "CTA", "COM", "DTM", "RFF", "FTX", "ALC", "TAX", "CNT"}
)

# The segments of a line ``_line_segment`` reads; it drops any other.
_LINE_TAGS: Final = frozenset({"PIA", "IMD", "QTY", "PRI", "SCC", "LOC", "PAC", "MOA"})

# 5025 qualifiers of a line's amount, best first: 203 line item amount, 66 goods item
# total, 38 invoice item amount.
_LINE_AMOUNTS: Final = ("203", "66", "38")

# 6063 Quantity type code qualifier 59: number of consumer units in the traded unit, the
# counterpart of X12 PO401 (pack).
_PACK_QUANTITY: Final = "59"


class LineDocument:
    """The record dict being built and where the next segment belongs.

    ``mark`` is the interchange's decimal mark. ``line_quantities`` are the 6063
    qualifiers of a line's own quantity, best first. ``total_fields`` names the totals
    field each normalised amount name fills, ``total_preferred`` the 5025 qualifiers of the
    total amount, best first.
    """

    __slots__ = (
        "allowance",
        "amounts",
        "group",
        "group_kind",
        "line",
        "line_quantities",
        "mark",
        "record",
        "schedule",
        "skipped",
        "summary",
        "total_fields",
        "total_preferred",
    )

    def __init__(
        self,
        source: RecordData,
        mark: str,
        line_quantities: tuple[str, ...],
        total_fields: Mapping[str, str],
        total_preferred: tuple[str, ...],
        **header: Any,
    ) -> None:
        self.record: dict[str, Any] = new_record(
            source, payment_terms=[], allowances_charges=[], taxes=[], lines=[], totals={},
            **header,
        )
        self.mark = mark
        self.line_quantities = line_quantities
        self.line: dict[str, Any] | None = None
        self.summary = False
        self.group_kind = ""
        self.group: dict[str, Any] | None = None
        self.schedule: dict[str, Any] | None = None
        self.allowance: dict[str, Any] | None = None
        self.amounts: list[dict[str, Any]] = []
        self.total_fields = total_fields
        self.total_preferred = total_preferred
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

    def line_quantity(
        self, line: dict[str, Any], qualifier: str, quantity: Decimal | None, unit: str | None
    ) -> bool:
        """Take a QTY of ``line`` into a message-specific field; true when it must not be
        one of the line's ``quantities``."""
        return False

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
        """The record dict: lines' quantities, prices and amounts resolved, the summary
        amounts settled into the totals."""
        currency = self.record.get("currency")
        for line in self.record["lines"]:
            _resolve_quantity(line, self.line_quantities)
            _resolve_prices(line)
            found: list[dict[str, Any]] | None = line.pop("amounts", None)
            if found:
                settle_amounts(line, found, LINE_AMOUNT_FIELDS, _LINE_AMOUNTS, currency)
        if self.amounts:
            settle_amounts(
                self.record["totals"],
                self.amounts,
                self.total_fields,
                self.total_preferred,
                currency,
            )
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
                amount = read_amount(segment, self.mark) if self.summary else None
                if amount is not None:
                    self.amounts.append(amount)
                else:
                    self.skipped.append(segment)  # a header MOA has no place yet
            else:
                self._header_segment(segment)
            return
        if tag == "LIN":
            line = self.start_line(segment)
            append_to(self.record, "lines", line)
            self.line = line
        elif tag == "UNS":
            self.line = None
            self.summary = True
        elif tag == "NAD":
            party = start_party(segment)
            append_to(self._target(), "parties", party)
            self._open("NAD", party)
        elif tag == "CTA":
            # A contact outside any NAD group: the header's or the line's, with its COMs.
            contact = start_contact(segment)
            append_to(self._target(), "contacts", contact)
            self._open("CTA", contact)
        elif tag == "COM":
            contacts: list[dict[str, Any]] = self._target().setdefault("contacts", [])
            if not add_com(contacts, segment):
                self.skipped.append(segment)
        elif tag == "DTM":
            found = read_dtm(segment)
            if found is None:
                self.skipped.append(segment)
            else:
                code, value = found
                if self.line is not None:
                    self._date(self.line, date_name(code), value)
                elif not self.header_date(code, value) or "T" in value:
                    # A header field holds the day only: a date-time stays in dates too,
                    # so its time is kept.
                    self._date(self.record, date_name(code), value)
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
            self.allowance = alc
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

    def _date(self, target: dict[str, Any], name: str, value: str) -> None:
        """File a date under ``name``; a repeated name keeps every value (``add_date``)."""
        dates: dict[str, str] = target.setdefault("dates", {})
        add_date(dates, name, value)

    def _in_record(self, ref: dict[str, Any]) -> bool:
        """Whether reference ``ref`` is in the references of the line or header (rather
        than taken into a header field such as the PO number)."""
        holder = self.line if self.line is not None else self.record
        found: list[dict[str, Any]] = holder.get("references") or []
        return any(item is ref for item in found)

    def _open(self, kind: str, group: dict[str, Any] | None) -> None:
        self.group_kind = kind
        self.group = group

    def _group_segment(self, segment: Segment) -> bool:
        """Fold a trailing segment into its group; false when it has no place there (the
        caller lists it). Segments a group reads only in part (COM) are not claimed by the
        coverage, so they are listed either way."""
        kind = self.group_kind
        group = self.group
        tag = segment.tag
        if group is None:
            return False
        if kind == "NAD":
            return add_to_party(group, segment)
        if kind == "CTA":
            return add_com([group], segment)
        elif kind == "ALC" or kind == "ALC-TAX":
            if tag == "TAX" and self.allowance is not None:
                # The allowance's or charge's own tax; its MOAs follow it.
                tax = read_tax(segment, self.mark)
                append_to(self.allowance, "taxes", tax)
                self.group_kind = "ALC-TAX"
                self.group = tax
            elif tag == "DTM" or tag == "RNG" or tag == "ALI":
                return False
            elif kind == "ALC":
                return add_to_alc(group, segment, self.mark)
            else:
                return add_to_tax(group, segment, self.mark)
        elif kind == "TAX":
            return add_to_tax(group, segment, self.mark)
        elif kind == "PAT":
            found = read_dtm(segment) if tag == "DTM" else None
            return add_to_pat(group, segment, self.mark, found[1] if found is not None else None)
        elif kind == "RFF":
            found = read_dtm(segment)
            if found is None:
                return False
            if self.line is None:
                self.reference_date(group, found[0], found[1])
            if not self._in_record(group):
                return False  # a reference taken into a header field: only some dates fit
            dates: dict[str, str] = group.setdefault("dates", {})
            add_date(dates, date_name(found[0]), found[1])
        elif kind == "SCC":
            return self._schedule_segment(group, segment)
        elif kind == "LOC" and tag == "QTY" and group.get("quantity") is None:
            _, quantity, unit = read_qty(segment, self.mark)
            group["quantity"] = quantity
            group["unit"] = unit
            return quantity is not None
        else:
            return False  # a CUX group's PCD, a PAC group's QTY, ...
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
            if quantity is None:
                return False
        elif tag == "DTM" and self.schedule is not None:
            return add_dtm(self.schedule, segment)
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
            if quantity is None:
                self.skipped.append(segment)  # nothing to file without a quantity
            else:
                if qualifier == _PACK_QUANTITY and line.get("pack") is None:
                    line["pack"] = quantity
                if not self.line_quantity(line, qualifier, quantity, unit):
                    append_to(line, "quantities", line_quantity(qualifier, quantity, unit))
        elif tag == "MOA":
            amount = read_amount(segment, self.mark)
            if amount is not None:
                append_to(line, "amounts", amount)
            else:
                self.skipped.append(segment)
        elif tag == "PRI":
            price = read_pri(segment, self.mark)
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


def _resolve_quantity(line: dict[str, Any], wanted: tuple[str, ...]) -> None:
    """The line's ``quantity`` is its QTY whose qualifier comes first in ``wanted`` (the
    first sent of those); it leaves ``quantities``, which keeps all the others."""
    quantities: list[dict[str, Any]] | None = line.get("quantities")
    if not quantities:
        return
    best = len(wanted)
    chosen: dict[str, Any] | None = None
    for item in quantities:
        rank = _rank(wanted, item["qualifier"])
        if 0 <= rank < best:
            best = rank
            chosen = item
    if chosen is None:
        return
    line.update(quantity_fields(chosen["quantity"], chosen["unit"]))
    quantities.remove(chosen)
    if not quantities:
        del line["quantities"]


def _resolve_prices(line: dict[str, Any]) -> None:
    """The first net price (5125 AAA) is ``net_price``, the first gross one (AAB)
    ``gross_price``; every other PRI stays in ``prices``. The line's unit price and its
    basis code (5375) are those of the net price or, without one, of the first PRI."""
    prices: list[dict[str, Any]] | None = line.get("prices")
    if not prices:
        return
    net: dict[str, Any] | None = None
    gross: dict[str, Any] | None = None
    for price in prices:  # a loop rather than next() over a generator: one object less a line
        kind = price["type"]
        if kind == "net" and net is None:
            net = price
        elif kind == "gross" and gross is None:
            gross = price
    chosen = net if net is not None else prices[0]
    line["unit_price"] = chosen["unit_price"]
    line["price_basis"] = chosen["basis_code"]
    # The 5125 qualifier of the net and gross prices is carried by the field they are in.
    if net is not None:
        net["type_code"] = None
        line["net_price"] = net
    if gross is not None:
        gross["type_code"] = None
        line["gross_price"] = gross
    kept = [p for p in prices if p is not net and p is not gross]
    if kept:
        line["prices"] = kept
    else:
        del line["prices"]
