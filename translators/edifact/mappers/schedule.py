"""Mappers for DELFOR (delivery schedule) and DELJIT (delivery just in time).

Responsible for making of these messages the same ``PlanningSchedule`` records the X12
mappers make of 830 and 862, field for field: BGM (1001 schedule type as sent, 1004
document number, 1225 purpose), header DTM 137 (document date), 158/159 (horizon start
and end), header RFF AAN (delivery schedule number: the release number, as BFR03), CT
(contract), ON (order); NAD groups; LIN with PIA, IMD, line DTM, FTX and RFF; and each
QTY group as a ``ScheduledQuantity``: type from 6063, commitment from the SCC's 4017,
period from its C329 2013 frequency (the codes of X12 681) with 2015/2017 as the
delivery pattern, start/end from the group's DTMs (2, 10, 50, 51, 64 and 194 start it,
52, 63 and 206 end it, a 2/10 range sets both; others go to ``dates`` by name), RFF of
the group as its references.

Where an SCC stands differs between directories: in D96A's DELFOR and in DELJIT it
follows its QTY (QTY-SCC-DTM); from D97A on, DELFOR's SCC starts a group whose QTYs all
take its commitment (SCC-QTY-DTM...). Detail NADs (D96A SG4 before its lines, D01B SG7
under GIS) name the place the following lines are for: they are added to each following
line's parties; a NAD after a line's LIN is that line's party. PAC groups (packaging, with
their own QTY) are not mapped. A line's unit is its first quantity's. The DTMs of a DELJIT SEQ
group date each line of that sequence. CNT gives the line count and the quantity total.
Accounting (``translators.accounting``): ``DELFOR_COVERAGE`` and ``DELJIT_COVERAGE``
name what is mapped; a segment with no place where it stands (the DTM of a reference, a
PAC group's QTY, DTM and RFF, a second BGM, an SCC no QTY takes, a DTM whose name is
already filed, a SEQ date no line follows) is passed as skipped, so all its values are
listed. A detail NAD no line follows stays among the record's parties.
It must not raise on valid-but-odd input: unreadable values become ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.codes import coded
from translators.edifact.mappers.code_lists import PURPOSES
from translators.edifact.mappers.commercial import read_ftx, read_rff
from translators.edifact.mappers.dates import date_name, read_dtm
from translators.edifact.mappers.document import ENVELOPE_COVERAGE, PARTY_COVERAGE
from translators.edifact.mappers.party import PARTY_GROUP_TAGS, add_to_party, start_party
from translators.edifact.mappers.products import add_lin_ids, add_pia_ids, description, read_qty
from translators.edifact.mappers.tree import append_to
from translators.edifact.mappers.values import to_decimal
from translators.edifact.segment import Segment
from translators.record_data import RecordData, complete, new_record
from translators.schedules import (
    EDIFACT_COMMITMENTS,
    EDIFACT_QUANTITY_TYPES,
    PERIODS,
    SCHEDULE_TYPES,
)
from translators.text import stripped, text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = ["DELFOR_COVERAGE", "DELJIT_COVERAGE", "map_delivery_jit", "map_delivery_schedule"]

DELFOR_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "BGM": "1.1 2.1 3", "DTM": "1.1q 1.2 1.3q", "RFF": "1.1q 1.2", "LIN": "1 3.1 3.2q",
    "PIA": " ".join(f"{i}.1 {i}.2q" for i in range(2, 7)), "IMD": "3.4 3.5",
    "QTY": "1.1 1.2 1.3", "SCC": "1 3.1 3.2 3.3", "FTX": "4", "CNT": "1.1q 1.2",
    "UNS": "*q",
})
"""What the DELFOR mapper maps: LOC, GIS, PAC groups, TDT, MEA, SCC 4493 and the rest
are listed as unmapped."""

DELJIT_COVERAGE: Final = DELFOR_COVERAGE
"""DELJIT uses the same segments for the same things (its SEQ is listed)."""

# 2005 qualifiers that start or end a quantity's period.
_STARTS: Final = frozenset({"2", "10", "50", "51", "64", "194"})
_ENDS: Final = frozenset({"52", "63", "206"})
# Of those, the ones whose value may be a range (2379 718/719) giving both ends.
_RANGES: Final = frozenset({"2", "10"})

# Header references that are record fields.
_HEADER_REFERENCES: Final = {"AAN": "release_number", "CT": "contract_number", "ON": "po_number"}

# Segments of a PAC group (not mapped) that must not be taken for the line's.
_PAC_TAGS: Final = frozenset({"PAC", "MEA", "QTY", "DTM", "PCI", "GIN", "QVR", "RFF"})


class _Schedule:
    """The record dict being built and where the next segment belongs."""

    __slots__ = (
        "commitment",
        "detail",
        "group",
        "in_pac",
        "line",
        "locations",
        "mark",
        "pac_groups",
        "place_dates",
        "place_dtms",
        "quantity",
        "record",
        "reference",
        "scc_leads",
        "scc_pattern",
        "scc_segment",
        "skipped",
    )

    def __init__(self, source: RecordData, message_type: str, mark: str,
                 scc_leads: bool) -> None:
        self.record: dict[str, Any] = new_record(
            source, schedule_type=SCHEDULE_TYPES[message_type], lines=[]
        )
        self.mark = mark
        self.scc_leads = scc_leads
        self.line: dict[str, Any] | None = None
        self.quantity: dict[str, Any] | None = None
        # The party whose CTA/COM/RFF/LOC follow, the header reference whose DTM follows.
        self.group: dict[str, Any] | None = None
        self.reference = False
        self.in_pac = False
        # Past the header: after UNS (D96A DELFOR), GIS (D01B DELFOR), SEQ (DELJIT), LIN.
        self.detail = False
        # Detail-level NADs naming the place of the lines that follow.
        self.locations: list[dict[str, Any]] = []
        # DTMs of a DELJIT SEQ group: the dates of the lines that follow it.
        self.place_dates: dict[str, str] = {}
        # DELFOR's PAC starts a group with its own QTY and DTM; DELJIT's PAC is one segment.
        self.pac_groups = message_type == "DELFOR"
        # A leading SCC's commitment and pattern (D97A on), for the QTYs that follow it.
        self.commitment: tuple[str | None, str | None] = (None, None)
        self.scc_pattern: dict[str, Any] | None = None
        # That SCC while no QTY has taken it yet.
        self.scc_segment: Segment | None = None
        # The DTMs of ``place_dates`` while no line has taken them yet.
        self.place_dtms: list[Segment] = []
        # Segments with no place where they stood: listed as unmapped.
        self.skipped: list[Segment] = []

    def end_place(self) -> None:
        """The lines of a place (or sequence) are over: what no line took is accounted
        for (a place stays a party of the record, unused dates and SCC are listed)."""
        for party in self.locations:
            if not any(party in line.get("parties", ()) for line in self.record["lines"]):
                append_to(self.record, "parties", party)
        self.locations = []
        self.place_dates = {}
        self.skipped.extend(self.place_dtms)
        self.place_dtms = []
        self.end_scc()

    def end_scc(self) -> None:
        if self.scc_segment is not None:
            self.skipped.append(self.scc_segment)
            self.scc_segment = None

    def feed(self, segment: Segment) -> None:
        tag = segment.tag
        if self.group is not None:
            if tag in PARTY_GROUP_TAGS:
                # CTA, COM and RFF go into the party; its DTMs date a reference or a
                # document and have no field there.
                if tag == "DTM" or (tag == "RFF" and read_rff(segment) is None):
                    self.skipped.append(segment)
                else:
                    add_to_party(self.group, segment)
                return
            self.group = None
        if self.reference:
            self.reference = False
            if tag == "DTM":
                self.skipped.append(segment)  # the date of a reference: no field for it
                return
        if self.in_pac:
            if tag in _PAC_TAGS:
                self.skipped.append(segment)
                return
            self.in_pac = False
        line = self.line
        if tag == "LIN":
            self._start_line(segment)
        elif tag == "QTY":
            if line is not None:
                self._qty(line, segment)
            else:
                self.skipped.append(segment)
        elif tag == "SCC":
            self._scc(segment)
        elif tag == "DTM":
            self._dtm(segment)
        elif tag == "RFF":
            self._rff(segment)
        elif tag == "NAD":
            self._nad(segment)
        elif tag == "BGM":
            record = self.record
            if "purpose" in record:
                self.skipped.append(segment)
                return
            record["schedule_type_code"] = text_or_none(segment.get(1, 1))
            record["document_number"] = text_or_none(segment.get(2, 1))
            record["purpose"], record["purpose_code"] = coded(PURPOSES, segment.get(3))
        elif tag == "FTX":
            # A line's FTX comes before its quantities; one after them is the message's
            # (the closing FTX of DELJIT and of D96A DELFOR).
            note = read_ftx(segment)
            if note:
                own = line is not None and not line["quantities"]
                append_to(line if own and line is not None else self.record, "notes", note)
        elif tag == "PAC":
            self.in_pac = self.pac_groups
            self.quantity = None
        elif tag == "GIS" or tag == "UNS" or tag == "SEQ":
            # Each ends the lines before it and the places they were for.
            self.line = None
            self.quantity = None
            self.end_place()
            self.detail = True
        elif tag == "CNT":
            self._cnt(segment)
        elif tag == "PIA" and line is not None:
            add_pia_ids(line["item_ids"], segment)
        elif tag == "IMD" and line is not None and line.get("description") is None:
            line["description"] = description(segment)
        elif tag == "PIA" or tag == "IMD":
            self.skipped.append(segment)

    def _cnt(self, segment: Segment) -> None:
        # 6069: 1 algebraic total of the quantities, 2 number of line items.
        record = self.record
        counted = stripped(segment.get(1, 1))
        total = to_decimal(segment.get(1, 2), self.mark)
        if counted == "2" and "line_count" not in record and (
                total is None or total == total.to_integral()):
            record["line_count"] = int(total) if total is not None else None
        elif counted == "1" and "quantity_total" not in record:
            record["quantity_total"] = total
        else:
            self.skipped.append(segment)

    def _start_line(self, segment: Segment) -> None:
        line: dict[str, Any] = {
            "line_number": text_or_none(segment.get(1)),
            "item_ids": {},
            "unit": None,
            "unit_rec20": None,
            "quantities": [],
        }
        add_lin_ids(line["item_ids"], segment)
        if self.locations:
            line["parties"] = [dict(p) for p in self.locations]
        if self.place_dates:
            line["dates"] = dict(self.place_dates)
            self.place_dtms = []
        self.record["lines"].append(line)
        self.line = line
        self.detail = True
        self.quantity = None
        self.end_scc()
        self.commitment = (None, None)
        self.scc_pattern = None

    def _nad(self, segment: Segment) -> None:
        party = start_party(segment)
        self.group = party
        self.quantity = None
        line = self.line
        if not self.detail:
            append_to(self.record, "parties", party)
        elif line is None:
            # Before the first line of a place (D96A SG4, D01B SG7 after GIS).
            self.locations.append(party)
        elif self.scc_leads or not self.locations:
            # A line's own party (D96A SG24, D01B SG22).
            append_to(line, "parties", party)
        else:
            # D96A: a NAD after the lines of an SG4 place starts the next place.
            self.locations = [party]
            self.line = None

    def _qty(self, line: dict[str, Any], segment: Segment) -> None:
        qualifier, quantity, unit = read_qty(segment, self.mark)
        found: dict[str, Any] = {
            "type": EDIFACT_QUANTITY_TYPES.get(qualifier, f"qty_{qualifier}"),
            "type_code": qualifier or None,
            "quantity": quantity,
            "unit": unit,
            "unit_rec20": edifact_unit_to_rec20(unit),
        }
        if self.scc_leads:
            found["commitment"], found["commitment_code"] = self.commitment
            if self.scc_pattern is not None:
                _set_pattern(found, self.scc_pattern)
            self.scc_segment = None
        if line.get("unit") is None and unit is not None:
            line["unit"] = unit
            line["unit_rec20"] = found["unit_rec20"]
        line["quantities"].append(found)
        self.quantity = found

    def _scc(self, segment: Segment) -> None:
        # SCC: 4017 commitment, 4493 delivery requirements (not mapped), C329 (2013
        # frequency, 2015 despatch pattern, 2017 its timing).
        commitment = coded(EDIFACT_COMMITMENTS, segment.get(1))
        pattern = {
            "period_code": stripped(segment.get(3, 1)),
            "code": text_or_none(segment.get(3, 2)),
            "time_code": text_or_none(segment.get(3, 3)),
        }
        if self.scc_leads:
            self.end_scc()
            self.commitment = commitment
            self.scc_pattern = pattern
            self.scc_segment = segment
            self.quantity = None
        elif self.quantity is not None and "commitment" not in self.quantity:
            self.quantity["commitment"], self.quantity["commitment_code"] = commitment
            _set_pattern(self.quantity, pattern)
        else:
            self.skipped.append(segment)

    def _dtm(self, segment: Segment) -> None:
        if not self._place_dtm(segment):
            self.skipped.append(segment)

    def _place_dtm(self, segment: Segment) -> bool:
        """File a DTM where it belongs; false when it has no place there."""
        found = read_dtm(segment)
        if found is None:
            return False
        code, value = found
        quantity = self.quantity
        if quantity is not None:
            if code in _RANGES and "/" in value:
                start, _, end = value.partition("/")
                return _set_free(quantity, "start", start) and _set_free(quantity, "end", end)
            if code in _STARTS:
                return _set_free(quantity, "start", value)
            if code in _ENDS:
                return _set_free(quantity, "end", value)
            return _set_free(quantity.setdefault("dates", {}), date_name(code), value)
        line = self.line
        if line is not None:
            return _set_free(line.setdefault("dates", {}), date_name(code), value)
        if self.detail:
            # A DELJIT SEQ group's date: it dates the lines of the sequence.
            if _set_free(self.place_dates, date_name(code), value):
                self.place_dtms.append(segment)
                return True
            return False
        record = self.record
        if code == "137":
            return _set_free(record, "document_date", value)
        if code == "158":
            return _set_free(record, "horizon_start", value)
        if code == "159":
            return _set_free(record, "horizon_end", value)
        return _set_free(record["dates"], date_name(code), value)

    def _rff(self, segment: Segment) -> None:
        ref = read_rff(segment)
        if ref is None:
            self.skipped.append(segment)
            return
        if self.quantity is not None:
            append_to(self.quantity, "references", ref)
        elif self.line is not None:
            append_to(self.line, "references", ref)
        else:
            field = _HEADER_REFERENCES.get(ref["qualifier"])
            record = self.record
            if field is not None and record.get(field) is None:
                record[field] = ref["value"]
            else:
                append_to(record, "references", ref)
        # The DTM of an RFF group dates the reference: ``Reference`` has no field for it.
        self.reference = True


def _set_free(holder: dict[str, Any], key: str, value: Any) -> bool:
    """Set ``key`` of ``holder`` unless a value is there; whether it was set."""
    if holder.get(key) is not None:
        return False
    holder[key] = value
    return True


def _set_pattern(quantity: dict[str, Any], pattern: dict[str, Any]) -> None:
    quantity["period"], quantity["period_code"] = coded(PERIODS, pattern["period_code"])
    if pattern["code"] is not None or pattern["time_code"] is not None:
        quantity["patterns"] = [{"code": pattern["code"], "time_code": pattern["time_code"]}]


def _scc_leads(message_type: str, version: str) -> bool:
    """Whether an SCC comes before the QTYs it applies to: DELFOR from D97A on."""
    if message_type != "DELFOR":
        return False
    year = version[1:3]
    return not (year.isdigit() and 90 <= int(year) <= 96)


def _map(segments: Sequence[Segment], source: RecordData, message_type: str,
         mark: str) -> dict[str, Any]:
    doc = _Schedule(source, message_type, mark,
                    _scc_leads(message_type, str(source.get("version", ""))))
    for segment in segments:
        tag = segment.tag
        if tag != "UNH" and tag != "UNT":
            doc.feed(segment)
    doc.end_place()
    record = doc.record
    coverage = DELFOR_COVERAGE if message_type == "DELFOR" else DELJIT_COVERAGE
    record["unmapped"] = unmapped_edifact(segments, coverage, doc.skipped)
    return record


def map_delivery_schedule(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData:
    """Map a DELFOR message (UNH..UNT) to a ``PlanningSchedule``."""
    return complete("PlanningSchedule", _map(segments, source, "DELFOR", decimal_mark))


def map_delivery_jit(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData:
    """Map a DELJIT message (UNH..UNT) to a ``PlanningSchedule``."""
    return complete("PlanningSchedule", _map(segments, source, "DELJIT", decimal_mark))
