"""Mapper for SLSRPT (sales data report) messages: the ``product_activity`` record.

Responsible for BGM (1001 report type code as sent, 1004 report id, 1225 purpose), header
DTM (137 report date; 194 or 90 and 206 or 91 the reporting period; others by name),
header RFF, NAD groups (parties with their CTA/COM/RFF), CUX, and the two ways SLSRPT
reports activity:
- by location (D96A SG5, D01B SG6): LOC names the location, then each LIN below it is a
  line of its own whose one ``ActivityLocation`` is that location (its DTM and RFF copied);
- by item (D01B SG11 GIS and below): LIN is the line, each LOC under it an
  ``ActivityLocation`` of that line.
LOC C517: 3225 id is ``location``, 3055 agency the ``qualifier``. The NAD group of the
9x releases is NAD-CTA-COM (an RFF after it is the header's); later ones (D01B) add its
own RFF-DTM. QTY (C186: 6063, 6060, 6411) is an
``Activity`` of the open location, or of the line when no location is open; 6063 is
normalised by ``ACTIVITY_NAMES`` (others keep their code as ``qty_<code>``); the DTM and
RFF after a QTY are its own. MOA goes to the open location, else the line; PIA, IMD and
PRI to the line; NAD after a QTY to the location's parties; FTX to the notes of the line
or the report.
Not mapped (listed in the record's ``unmapped``, ``SLSRPT_COVERAGE``): MKS, PAC, DOC,
ALI, GIN, PAI, STS, GIS, the LOC function code (3227), the CUX of a price, the summary
MOA of D01B, and any segment with no place where it stands (a second BGM, a QTY before
any LIN, a second date of the same kind, ...), which is listed whole.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.edifact.mappers.commercial import read_cux, read_ftx, read_moa, read_rff
from translators.edifact.mappers.dates import date_name, read_dtm
from translators.edifact.mappers.document import ENVELOPE_COVERAGE, PARTY_COVERAGE
from translators.edifact.mappers.party import PARTY_GROUP_TAGS, add_to_party, start_party
from translators.edifact.mappers.products import add_lin_ids, add_pia_ids, description, read_pri
from translators.edifact.mappers.values import to_decimal
from translators.edifact.segment import Segment
from translators.record_data import RecordData, complete, new_record
from translators.text import text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = ["ACTIVITY_NAMES", "SLSRPT_COVERAGE", "map_product_activity"]

SLSRPT_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "BGM": "1.1 2.1 3", "DTM": "1.1q 1.2 1.3q", "CUX": "1.2", "LOC": "2.1 2.3",
    "LIN": "1 3.1 3.2q", "PIA": " ".join(f"{i}.1 {i}.2q" for i in range(2, 7)),
    "IMD": "3.4 3.5", "PRI": "1.1q 1.2 1.5 1.6", "MOA": "1.1 1.2", "QTY": "1.1 1.2 1.3",
    "FTX": "4", "UNS": "*q",
})
"""What the SLSRPT mapper maps where a segment stands at a level that has a place for it."""

# 6063 Quantity type code qualifier -> canonical activity name, the names the X12 852
# mapper gives the 859 codes of the same meaning.
ACTIVITY_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "153": "sold",  # Statistical sales quantity
        "25": "retail_sales",  # Retail sales
        "28": "military_sales",  # Military sales quantity
        "29": "on_premise_sales",  # On premises sales
        "30": "off_premise_sales",  # Off premises sales
        "145": "available",  # Actual stock: on hand, undamaged, available for sale
        "17": "on_hand",  # Quantity on hand
        "48": "received",  # Received quantity
        "61": "returned",  # Return quantity
        "66": "committed",  # Committed quantity
        "27": "on_hold",  # On hold for shipment
    }
)

# Segments mapped only where they have a place (once, at the header, in a NAD group):
# anywhere else they are listed whole.
_PLACED_ABOVE: Final = frozenset({"CTA", "COM"})
_PARTY_TAGS_9X: Final = frozenset({"CTA", "COM"})
_PERIOD_START: Final = frozenset({"194", "90"})  # Start date/time; Report start date
_PERIOD_END: Final = frozenset({"206", "91"})  # End date/time; Report end date


def activity_name(code: str) -> str:
    """Canonical name of a 6063 code; ``qty_<code>`` when it has none."""
    name = ACTIVITY_NAMES.get(code)
    return name if name is not None else f"qty_{code}"


def read_activity(segment: Segment, mark: str) -> dict[str, Any]:
    """An ``Activity`` dict from a QTY."""
    code = segment.get(1, 1).strip()
    unit = text_or_none(segment.get(1, 3))
    return {
        "activity": activity_name(code),
        "activity_code": code,
        "quantity": to_decimal(segment.get(1, 2), mark),
        "unit": unit,
        "unit_rec20": edifact_unit_to_rec20(unit),
        "dates": {},
        "references": [],
    }


def read_location(segment: Segment) -> dict[str, Any] | None:
    """An ``ActivityLocation`` dict from a LOC; ``None`` when C517 names no location."""
    location = segment.get(2, 1).strip()
    if not location:
        return None
    return {
        "qualifier": text_or_none(segment.get(2, 3)),
        "location": location,
        "activities": [],
        "amounts": [],
        "dates": {},
        "references": [],
        "parties": [],
    }


class _Report:
    """Where the next segment of an SLSRPT belongs."""

    __slots__ = (
        "activity", "by_item", "group", "line", "location", "mark", "party", "party_tags",
        "record", "report_location", "report_segments", "skipped",
    )

    def __init__(self, source: RecordData, mark: str) -> None:
        self.record: dict[str, Any] = new_record(source, lines=[])
        self.mark = mark
        # Segments with no place where they stood: listed as unmapped.
        self.skipped: list[Segment] = []
        # D96A's NAD group is NAD-CTA-COM, and an RFF after it is the header's (SG3); D01B's
        # has its own RFF-DTM (SG4) and puts the header RFF (SG1) before the NADs. The 9x
        # releases are read with the D96A layout.
        version: str = source.get("version") or ""
        self.party_tags = _PARTY_TAGS_9X if version.startswith("D9") else PARTY_GROUP_TAGS
        self.by_item = False
        self.report_location: dict[str, Any] | None = None
        # The LOC of a by-location report and the DTM/RFF dating it: copied into each
        # line below it, and listed when no line follows (their values have no place).
        self.report_segments: list[Segment] = []
        self.line: dict[str, Any] | None = None
        self.location: dict[str, Any] | None = None
        self.activity: dict[str, Any] | None = None
        self.party: dict[str, Any] | None = None
        # The innermost open level a DTM or RFF belongs to.
        self.group: dict[str, Any] | None = None

    def feed(self, segment: Segment) -> None:
        tag = segment.tag
        if self.party is not None:
            if tag in self.party_tags and tag != "LOC":
                add_to_party(self.party, segment)
                return
            self.party = None
        if not self._feed(segment, tag):
            self.skipped.append(segment)
        elif self.line is None and self.group is not None and \
                self.group is self.report_location and (tag == "DTM" or tag == "RFF"):
            self.report_segments.append(segment)

    def _feed(self, segment: Segment, tag: str) -> bool:
        """Route one segment; false when it has no place where it stands."""
        record = self.record
        line = self.line
        if tag == "QTY":
            holder = self.location if self.location is not None else line
            if holder is None:
                return False
            activity = read_activity(segment, self.mark)
            holder["activities"].append(activity)
            self.activity = activity
            self.group = activity
        elif tag == "DTM":
            return self._dtm(segment)
        elif tag == "RFF":
            ref = read_rff(segment)
            if ref is None:
                return False
            holder = self.group if self.group is not None else record
            holder["references"].append(ref)
        elif tag == "LIN":
            self._lin(segment)
        elif tag == "LOC":
            return self._loc(segment)
        elif tag == "MOA":
            holder = self.location if self.location is not None else line
            if holder is None:
                return False
            qualifier, amount = read_moa(segment, self.mark)
            holder["amounts"].append({"qualifier": qualifier, "amount": amount})
        elif tag == "PIA":
            if line is None:
                return False
            add_pia_ids(line["item_ids"], segment)
        elif tag == "IMD":
            if line is None or line.get("description") is not None:
                return False
            line["description"] = description(segment)
        elif tag == "PRI":
            if line is None:
                return False
            line["prices"].append(read_pri(segment, self.mark))
        elif tag == "NAD":
            party = start_party(segment)
            if self.activity is not None and self.location is not None:
                self.location["parties"].append(party)
            else:
                record["parties"].append(party)
            self.party = party
        elif tag == "BGM":
            if "report_id" in record:
                return False
            record["report_type_code"] = text_or_none(segment.get(1, 1))
            record["report_id"] = text_or_none(segment.get(2, 1))
            record["purpose_code"] = text_or_none(segment.get(3))
        elif tag == "CUX":
            if line is not None or self.report_location is not None or "currency" in record:
                return False
            record["currency"] = read_cux(segment)
        elif tag == "FTX":
            note = read_ftx(segment)
            if note:
                (line if line is not None else record)["notes"].append(note)
        elif tag == "GIS":
            self.by_item = True
            self._close_report_location()
        elif tag == "UNS":
            self._close_report_location()
        elif tag in _PLACED_ABOVE:
            return False
        return True

    def _close_report_location(self) -> None:
        self._close_lines()
        self.report_location = None
        # Values of a location no line took: listed.
        self.skipped.extend(self.report_segments)
        self.report_segments = []

    def finish(self) -> None:
        self._close_report_location()

    def _close_lines(self) -> None:
        self.line = None
        self.location = None
        self.activity = None
        self.group = None

    def _dtm(self, segment: Segment) -> bool:
        found = read_dtm(segment)
        if found is None:
            return False
        code, value = found
        record = self.record
        holder = self.group
        if holder is None:
            if code == "137" and record.get("report_date") is None:
                record["report_date"] = value
                return True
            if code in _PERIOD_START and record.get("period_start") is None:
                record["period_start"] = value
                return True
            if code in _PERIOD_END and record.get("period_end") is None:
                record["period_end"] = value
                return True
            holder = record
        dates: dict[str, str] = holder["dates"]
        name = date_name(code)
        if name in dates:
            return False
        dates[name] = value
        return True

    def _lin(self, segment: Segment) -> None:
        line: dict[str, Any] = {
            "line_number": text_or_none(segment.get(1)),
            "item_ids": {},
            "prices": [],
            "amounts": [],
            "activities": [],
            "locations": [],
            "dates": {},
            "references": [],
            "notes": [],
        }
        add_lin_ids(line["item_ids"], segment)
        self.record["lines"].append(line)
        self.line = line
        self.activity = None
        self.group = line
        self.location = None
        template = self.report_location
        if template is not None and not self.by_item:
            self.report_segments = []  # taken by this line
            # Reporting by location: the line's activity is at the location above it.
            location = {
                **template,
                "activities": [],
                "amounts": [],
                "dates": dict(template["dates"]),
                "references": [dict(r) for r in template["references"]],
                "parties": [],
            }
            line["locations"].append(location)
            self.location = location

    def _loc(self, segment: Segment) -> bool:
        location = read_location(segment)
        self.activity = None
        if self.by_item and self.line is not None:
            self.location = location
            self.group = location
            if location is not None:
                self.line["locations"].append(location)
            return location is not None
        # Reporting by location: a new location closes the lines of the previous one.
        self._close_report_location()
        self.report_location = location
        self.group = location
        if location is not None:
            self.report_segments = [segment]
        return location is not None


def map_product_activity(
    segments: Sequence[Segment], source: RecordData, /, *, decimal_mark: str = "."
) -> RecordData:
    """Map an SLSRPT message (UNH..UNT) to a ``ProductActivity``."""
    report = _Report(source, decimal_mark)
    for segment in segments:
        report.feed(segment)
    report.finish()
    record = report.record
    record["unmapped"] = unmapped_edifact(segments, SLSRPT_COVERAGE, report.skipped)
    return complete("ProductActivity", record)
