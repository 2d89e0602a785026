"""Mappers for the 830 planning schedule and the 862 shipping schedule.

Responsible for the beginning segments (BFR of the 830, BSS of the 862), the header DTM,
REF and N1 loops, and the LIN loop: item ids (LIN), unit and unit price (UIT), PID
description, DTM, REF, the N1 loops of a line, and its scheduled quantities
(``ScheduledQuantity``):

- FST (forecast schedule): quantity, commitment (FST02 680), period (FST03 681) from
  FST04 to FST05, FST06/FST07 a dated event, FST08/FST09 a reference; the SDP before it
  gives its ship/delivery pattern (830: the FSTs of an SDP loop; 862: every FST of the
  line after its SDP); a DTM of the 862 FST loop dates it;
- JIT (862): a delivery time of the FST day before it, type ``jit`` (a split of that
  FST's quantity, not an additional one), with the REFs of its loop;
- SHP: shipped/received quantities, discrete or cumulative, from SHP04 to SHP06, with
  the REFs of its loop;
- ATH: a resource authorisation, type ``cumulative``, commitment from ATH01 (672),
  from ATH05 through ATH02;
- QTY at line level: type from 673 as the 846 names it.
Every quantity carries the line's unit (UIT01) unless its segment has its own (QTY03).
CTT gives the line count and the hash total.
Accounting (``translators.accounting``): ``SCHEDULE_COVERAGE`` names what is mapped; a
segment with no place where it stands (a second BFR, UIT or CTT, a DTM whose name is
already filed, a line segment before the first LIN, an SDP no FST follows, a JIT without
its FST day, a PER outside an N1 loop) is passed as skipped, so all its values are listed.
It must not raise on valid-but-odd input: unreadable values become ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_x12
from translators.codes import coded
from translators.record_data import RecordData, complete, new_record
from translators.schedules import (
    PERIODS,
    SCHEDULE_TYPES,
    X12_AUTHORISATIONS,
    X12_COMMITMENTS,
    is_shp_pair,
    shp_type,
)
from translators.text import text_or_none
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.commercial import read_ref
from translators.x12.mappers.dates import date_name, read_dtm
from translators.x12.mappers.document import (
    ENVELOPE_COVERAGE,
    PARTY_COVERAGE,
    component_separator,
    id_pairs,
)
from translators.x12.mappers.elements import element, iso_date, iso_datetime, to_decimal, to_int
from translators.x12.mappers.inventory import QUANTITY_TYPES
from translators.x12.mappers.party_loop import PARTY_LOOP_TAGS, add_to_party, start_party
from translators.x12.mappers.po import PURPOSES
from translators.x12.mappers.products import add_product_ids
from translators.x12.segment import Segment

__all__ = ["SCHEDULE_COVERAGE", "map_planning_schedule", "map_shipping_schedule"]

SCHEDULE_COVERAGE: Final = ENVELOPE_COVERAGE | PARTY_COVERAGE | Coverage({
    "BFR": "1 2 3 4 5 6 7 8 9 10 11", "BSS": "1 2 3 4 5 6 7 9 10 11",
    "DTM": "1q 2 3 5 6q 7", "REF": "1 2 3", "LIN": f"1 {id_pairs(2, 31)}", "UIT": "1.1 2",
    "PID": "5", "FST": "1 2 3 4 5 6q 7 8 9", "SDP": "1 2 3 4 5 6 7 8", "JIT": "1 2",
    "SHP": "1 2 3q 4 5 6 7", "ATH": "1 2 3 5", "QTY": "1 2 3.1", "CTT": "1 2",
})
"""What the 830 and 862 mappers map: BFR12/BFR13, BSS08, FST10, ATH04 and the segments
the record has no place for (SDQ, TD5, SAC, ...) are listed as unmapped."""

_COVERED_TAGS: Final = SCHEDULE_COVERAGE.tags()

# Segments that may follow an FST inside the SDP loop of an 830 (the FSTs themselves):
# any other segment ends the loop and with it the pattern.
_SDP_LOOP_830 = frozenset({"FST", "SDP"})


class _Schedule:
    """The record dict being built and where the next segment belongs."""

    __slots__ = (
        "component",
        "fst",
        "line",
        "party",
        "pattern_fields",
        "pattern_used",
        "patterns",
        "quantity",
        "record",
        "set_id",
        "skipped",
    )

    def __init__(self, source: RecordData, set_id: str, component: str) -> None:
        self.record: dict[str, Any] = new_record(
            source, schedule_type=SCHEDULE_TYPES[set_id], lines=[]
        )
        self.set_id = set_id
        self.component = component
        self.line: dict[str, Any] | None = None
        self.party: dict[str, Any] | None = None
        # The quantity that the REF/DTM of its loop (SHP, JIT, FST of an 862) belong to.
        self.quantity: dict[str, Any] | None = None
        # The last FST: a JIT's day and commitment.
        self.fst: dict[str, Any] | None = None
        self.patterns: list[dict[str, Any]] = []
        # The SDP the patterns come from, and whether an FST took them.
        self.pattern_fields: list[str] | None = None
        self.pattern_used = False
        # Field lists of segments with no place where they stood: listed as unmapped.
        self.skipped: list[list[str]] = []

    def end_patterns(self) -> None:
        """The SDP's pattern holds no longer; an SDP no FST followed is listed."""
        if self.pattern_fields is not None and not self.pattern_used:
            self.skipped.append(self.pattern_fields)
        self.pattern_fields = None
        self.patterns = []

    def feed(self, tag: str, f: list[str]) -> None:
        if self.party is not None:
            if tag in PARTY_LOOP_TAGS:
                add_to_party(self.party, tag, f)
                return
            self.party = None
        if self.pattern_fields is not None and self.set_id == "830" and (
                tag not in _SDP_LOOP_830):
            self.end_patterns()
        line = self.line
        if tag == "LIN":
            self._start_line(f)
        elif tag == "BFR" or tag == "BSS":
            if "document_date" in self.record:
                self.skipped.append(f)  # a second beginning segment
            elif tag == "BFR":
                self._bfr(f)
            else:
                self._bss(f)
        elif tag == "N1":
            self.party = start_party(f)
            self.quantity = None
            target = line if line is not None else self.record
            target.setdefault("parties", []).append(self.party)
        elif tag == "DTM":
            found = read_dtm(f)
            holder = self.quantity if self.quantity is not None else line
            if holder is None:
                holder = self.record
            dates: dict[str, str] = holder.setdefault("dates", {})
            if found is not None and found[0] not in dates:
                dates[found[0]] = found[1]
            else:
                self.skipped.append(f)
        elif tag == "REF":
            ref = read_ref(f)
            if ref is not None:
                holder = self.quantity if self.quantity is not None else line
                if holder is None:
                    holder = self.record
                holder.setdefault("references", []).append(ref)
            else:
                self.skipped.append(f)
        elif tag == "CTT":
            if "line_count" in self.record:
                self.skipped.append(f)
            else:
                self.record["line_count"] = to_int(element(f, 1))
                self.record["quantity_total"] = to_decimal(element(f, 2))
            self.end_patterns()
            self.line = None
            self.quantity = None
        elif line is not None:
            self._line_segment(line, tag, f)
        elif tag in _COVERED_TAGS:
            # A line segment before the first LIN, or a PER/N2/N3/N4 outside an N1 loop.
            self.skipped.append(f)

    # -- header ------------------------------------------------------------------------
    def _bfr(self, f: list[str]) -> None:
        # BFR01 purpose (353), 02 reference id, 03 release, 04 schedule type (675), 05
        # schedule quantity qualifier (676), 06/07 horizon start/end, 08 date generated,
        # 09 date updated, 10 contract, 11 purchase order; 12 and 13 are not mapped.
        record = self.record
        record["purpose"], record["purpose_code"] = coded(PURPOSES, element(f, 1))
        record["document_number"] = text_or_none(element(f, 2))
        record["release_number"] = text_or_none(element(f, 3))
        record["schedule_type_code"] = text_or_none(element(f, 4))
        record["quantity_basis_code"] = text_or_none(element(f, 5))
        record["horizon_start"] = iso_date(element(f, 6))
        record["horizon_end"] = iso_date(element(f, 7))
        record["document_date"] = iso_date(element(f, 8))
        updated = iso_date(element(f, 9))
        if updated is not None:
            record["dates"]["forecast_updated"] = updated
        record["contract_number"] = text_or_none(element(f, 10))
        record["po_number"] = text_or_none(element(f, 11))

    def _bss(self, f: list[str]) -> None:
        # BSS01 purpose (353), 02 reference id, 03 date, 04 schedule type (675), 05/06
        # horizon start/end, 07 release, 08 reference id (not mapped), 09 contract, 10
        # purchase order, 11 schedule quantity qualifier (676).
        record = self.record
        record["purpose"], record["purpose_code"] = coded(PURPOSES, element(f, 1))
        record["document_number"] = text_or_none(element(f, 2))
        record["document_date"] = iso_date(element(f, 3))
        record["schedule_type_code"] = text_or_none(element(f, 4))
        record["horizon_start"] = iso_date(element(f, 5))
        record["horizon_end"] = iso_date(element(f, 6))
        record["release_number"] = text_or_none(element(f, 7))
        record["contract_number"] = text_or_none(element(f, 9))
        record["po_number"] = text_or_none(element(f, 10))
        record["quantity_basis_code"] = text_or_none(element(f, 11))

    # -- lines -------------------------------------------------------------------------
    def _start_line(self, f: list[str]) -> None:
        line: dict[str, Any] = {
            "line_number": text_or_none(element(f, 1)),
            "item_ids": {},
            "quantities": [],
        }
        add_product_ids(line["item_ids"], f, 2)
        self.record["lines"].append(line)
        self.line = line
        self.party = None
        self.quantity = None
        self.fst = None
        self.end_patterns()

    def _quantity(self, line: dict[str, Any], quantity_type: str, quantity: Any,
                  unit: str | None = None) -> dict[str, Any]:
        if unit is None:
            unit = line.get("unit")
        found: dict[str, Any] = {
            "type": quantity_type,
            "quantity": quantity,
            "unit": unit,
            "unit_rec20": x12_unit_to_rec20(unit),
        }
        line["quantities"].append(found)
        return found

    def _line_segment(self, line: dict[str, Any], tag: str, f: list[str]) -> None:
        if tag == "FST":
            self._fst(line, f)
        elif tag == "JIT":
            self._jit(line, f)
        elif tag == "SHP":
            self._shp(line, f)
        elif tag == "ATH":
            self._ath(line, f)
        elif tag == "SDP":
            # Pairs of 678 (days) and 679 (time of day): SDP01/02, 03/04, 05/06, 07/08.
            self.end_patterns()
            self.pattern_fields = f
            self.patterns = [
                {"code": text_or_none(element(f, p)), "time_code": text_or_none(element(f, p + 1))}
                for p in (1, 3, 5, 7)
                if element(f, p) or element(f, p + 1)
            ]
            self.quantity = None
        elif tag == "QTY":
            # QTY01 673, 02 quantity, 03 C001 unit.
            qualifier = element(f, 1)
            unit = text_or_none(element(f, 3).split(self.component, 1)[0])
            found = self._quantity(
                line, QUANTITY_TYPES.get(qualifier, f"qty_{qualifier}"),
                to_decimal(element(f, 2)), unit,
            )
            found["type_code"] = text_or_none(qualifier)
            self.quantity = None
        elif tag == "UIT":
            # UIT01 C001 unit (its first component), UIT02 unit price; once a line.
            if "unit_price" in line:
                self.skipped.append(f)
                return
            unit = text_or_none(element(f, 1).split(self.component, 1)[0])
            line["unit"] = unit
            line["unit_rec20"] = x12_unit_to_rec20(unit)
            line["unit_price"] = to_decimal(element(f, 2))
        elif tag == "PID":
            if line.get("description") is None:
                line["description"] = text_or_none(element(f, 5))
            else:
                self.skipped.append(f)
        elif tag in _COVERED_TAGS:
            self.skipped.append(f)  # a header segment among the lines (a PER, ...)

    def _fst(self, line: dict[str, Any], f: list[str]) -> None:
        found = self._quantity(line, "scheduled", to_decimal(element(f, 1)))
        found["commitment"], found["commitment_code"] = coded(X12_COMMITMENTS, element(f, 2))
        found["period"], found["period_code"] = coded(PERIODS, element(f, 3))
        found["start"] = iso_date(element(f, 4))
        found["end"] = iso_date(element(f, 5))
        if self.patterns:
            found["patterns"] = [dict(p) for p in self.patterns]
            self.pattern_used = True
        qualifier = element(f, 6)
        if qualifier:
            # FST06 374 names the event, FST07 its time on the FST04 date.
            when = iso_datetime(element(f, 4), element(f, 7))
            if when is not None:
                found["dates"] = {date_name(qualifier): when}
        ref = read_ref(["REF", element(f, 8), element(f, 9)])
        if ref is not None:
            found["references"] = [ref]
        self.fst = found
        self.quantity = found if self.set_id == "862" else None

    def _jit(self, line: dict[str, Any], f: list[str]) -> None:
        # JIT01 quantity, JIT02 time of the FST's day; without that day it has no place.
        fst = self.fst
        day = fst.get("start") if fst is not None else None
        if fst is None or day is None:
            self.skipped.append(f)
            self.quantity = None
            return
        found = self._quantity(line, "jit", to_decimal(element(f, 1)))
        found["commitment"] = fst.get("commitment")
        found["commitment_code"] = fst.get("commitment_code")
        found["start"] = iso_datetime(day.replace("-", ""), element(f, 2))
        self.quantity = found

    def _shp(self, line: dict[str, Any], f: list[str]) -> None:
        # SHP01 673, 02 quantity, 03 374, 04/05 date and time, 06/07 end date and time.
        # A 374 the type does not name (shipped, received, cumulative start) files the
        # SHP04 date under its own name.
        qualifier = element(f, 1)
        date_qualifier = element(f, 3)
        quantity_type = shp_type(qualifier, date_qualifier)
        found = self._quantity(line, quantity_type, to_decimal(element(f, 2)))
        found["type_code"] = text_or_none(qualifier)
        found["start"] = iso_datetime(element(f, 4), element(f, 5))
        found["end"] = iso_datetime(element(f, 6), element(f, 7))
        if date_qualifier and found["start"] is not None and not is_shp_pair(
                qualifier, date_qualifier):
            found["dates"] = {date_name(date_qualifier): found["start"]}
        self.quantity = found

    def _ath(self, line: dict[str, Any], f: list[str]) -> None:
        # ATH01 672, 02 authorised through date, 03 cumulative quantity, 04 (not mapped),
        # 05 cumulative start date.
        found = self._quantity(line, "cumulative", to_decimal(element(f, 3)))
        found["commitment"], found["commitment_code"] = coded(X12_AUTHORISATIONS,
                                                                element(f, 1))
        found["start"] = iso_date(element(f, 5))
        found["end"] = iso_date(element(f, 2))
        self.quantity = None


def _map(segments: Sequence[Segment], source: RecordData, set_id: str) -> dict[str, Any]:
    doc = _Schedule(source, set_id, component_separator(segments))
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if tag != "ST" and tag != "SE":
            doc.feed(tag, f)
    doc.end_patterns()
    record = doc.record
    record["unmapped"] = unmapped_x12(segments, SCHEDULE_COVERAGE, doc.skipped)
    return record


def map_planning_schedule(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 830 transaction set (ST..SE) to a ``PlanningSchedule``."""
    return complete("PlanningSchedule", _map(segments, source, "830"))


def map_shipping_schedule(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 862 transaction set (ST..SE) to a ``PlanningSchedule``."""
    return complete("PlanningSchedule", _map(segments, source, "862"))
