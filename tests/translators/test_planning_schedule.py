"""Planning and shipping schedules (X12 830/862, EDIFACT DELFOR/DELJIT): validated,
acknowledged positively and translated into ``planning_schedule`` records.

The documents are hand-written (tests/data/x12/valid, tests/data/edifact, tests/data/cross);
each expected value below can be read off the document it comes from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.contrl import CONTRLOptions, build_contrl
from translators.edifact.mappers import map_message
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.edifact.reader import EDIFACTReader
from translators.record_data import check_canonical
from translators.records import Identity, PlanningSchedule, Source
from translators.x12.ack import AckOptions, build_acknowledgment
from translators.x12.mappers import map_transaction
from translators.x12.pipeline import TransactionOutcome, X12InterchangeOutcome, translate_x12
from translators.x12.reader import X12Reader
from translators.x12.segment import Delimiters, Segment

DATA = Path(__file__).resolve().parents[1] / "data"
X12_SAMPLES = [
    DATA / "x12" / "valid" / name
    for name in ("830.4010.edi", "830.5010.edi", "862.4010.edi", "862.5010.edi")
] + [DATA / "cross" / "830-planning-schedule.x12"]
EDIFACT_SAMPLES = [
    DATA / "edifact" / name
    for name in ("deljit-d96a.edi", "deljit-d01b.edi", "delfor-d96a-places.edi")
] + [DATA / "cross" / f"830-planning-schedule.{d}.edi" for d in ("d96a", "d01b")]
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
# The samples send RFF+DK (dock number), which the D.96A 1153 list does not have (it is
# closed, schemas/edifact/source/d96a/codes.txt): relaxed here as the partner profile of
# such a sender would (``[validation] relax_code_lists``), the finding stays a warning.
RELAXED = ("1153",)


def x12_schedule(path: Path) -> PlanningSchedule:
    [outcome] = [o for o in translate_x12(path.read_bytes()) if isinstance(o, TransactionOutcome)]
    assert outcome.errors == []
    assert isinstance(outcome.record, PlanningSchedule)
    return outcome.record


def edifact_schedule(path: Path) -> PlanningSchedule:
    [outcome] = [
        o for o in translate_edifact(path.read_bytes(), relax_code_lists=RELAXED)
        if isinstance(o, MessageOutcome)
    ]
    assert [i for i in outcome.issues if i.severity == "error"] == []
    assert isinstance(outcome.record, PlanningSchedule)
    return outcome.record


def _quantities(record: PlanningSchedule, line: int = 0) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in q.model_dump().items() if v not in (None, [], {})}
        for q in record.lines[line].quantities
    ]


# --- pipelines: validate, acknowledge, translate --------------------------------------


@pytest.mark.parametrize("path", X12_SAMPLES, ids=lambda p: p.name)
def test_x12_schedules_are_accepted_and_translated(path: Path) -> None:
    """No validation error, a 997 (004010) or 999 (005010) accepting set and group, and a
    canonical record of kind ``planning_schedule``."""
    [interchange] = [
        o for o in translate_x12(path.read_bytes()) if isinstance(o, X12InterchangeOutcome)
    ]
    ack = build_acknowledgment(interchange, AckOptions(now=NOW))
    assert ack is not None
    segments = [s.fields for s in X12Reader(ack)]
    trailers = [s for s in segments if s[0] in ("AK5", "IK5")]
    assert trailers and all(s[1] == "A" for s in trailers)
    assert [s[1] for s in segments if s[0] == "AK9"] == ["A"]
    record = x12_schedule(path)
    check_canonical(record.model_dump())
    assert record.kind == "planning_schedule" and record.lines


@pytest.mark.parametrize("path", EDIFACT_SAMPLES, ids=lambda p: p.name)
def test_edifact_schedules_are_accepted_and_translated(path: Path) -> None:
    """No validation error, a CONTRL whose UCI and UCM say 7 (accepted), and a record."""
    found = list(translate_edifact(path.read_bytes(), relax_code_lists=RELAXED))
    [interchange] = [o for o in found if isinstance(o, EDIFACTInterchangeOutcome)]
    contrl = build_contrl(interchange, CONTRLOptions(now=NOW))
    assert contrl is not None
    text = contrl.decode("latin-1")
    assert "+7'UCM+" in text and text.count("UCM+") == 1
    assert "+7'UNT" in text
    record = edifact_schedule(path)
    check_canonical(record.model_dump())
    assert record.kind == "planning_schedule" and record.lines


# --- X12 830 -----------------------------------------------------------------------------


def test_830_header() -> None:
    record = x12_schedule(DATA / "x12" / "valid" / "830.4010.edi")
    assert record.schedule_type == "planning"
    assert (record.purpose, record.purpose_code) == ("replace", "05")
    assert record.schedule_type_code == "SH"
    assert record.quantity_basis_code == "A"
    assert (record.document_number, record.release_number) == (None, "R-2026-49")
    assert (record.contract_number, record.po_number) == ("K-17", "PO-55")
    assert (record.horizon_start, record.horizon_end) == ("2026-12-07", "2027-02-28")
    assert record.document_date == "2026-12-03"
    assert record.dates == {
        "forecast_updated": "2026-12-02",
        "transaction_creation": "2026-12-03T06:45:00",
    }
    assert [r.value for r in record.references] == ["PS-441"]
    plant, supplier = record.parties
    assert (plant.role_code, plant.name) == ("MI", "MOTORWORKS PLANT 2")
    assert plant.address is not None and plant.address.city == "DEARBORN"
    assert plant.contacts[0].phone == "313-555-0144"
    assert supplier.role == "supplier"
    assert (record.line_count, record.quantity_total) == (2, Decimal("4450"))


def test_830_line_quantities() -> None:
    record = x12_schedule(DATA / "x12" / "valid" / "830.4010.edi")
    line = record.lines[0]
    assert line.line_number == "10"
    assert line.item_ids.buyer_item == "MW-7781"
    assert [(o.qualifier, o.value) for o in line.item_ids.other] == [("EC", "C")]
    assert (line.unit, line.unit_rec20, line.unit_price) == ("EA", "EA", Decimal("1.25"))
    assert line.description == "BRACKET, LEFT"
    assert [r.value for r in line.references] == ["D12"]
    unit = {"unit": "EA", "unit_rec20": "EA"}
    assert _quantities(record) == [
        {"type": "cumulative", "quantity": Decimal("4000"), **unit, "commitment": "material",
         "commitment_code": "MT", "start": "2026-01-01", "end": "2027-01-31"},
        {"type": "cumulative", "quantity": Decimal("3000"), **unit,
         "commitment": "manufacturing_and_material", "commitment_code": "FI",
         "start": "2026-01-01", "end": "2026-12-31"},
        {"type": "scheduled", "quantity": Decimal("300"), **unit, "commitment": "firm",
         "commitment_code": "C", "period": "discrete", "period_code": "D",
         "start": "2026-12-07"},
        {"type": "scheduled", "quantity": Decimal("300"), **unit, "commitment": "firm",
         "commitment_code": "C", "period": "discrete", "period_code": "D",
         "start": "2026-12-14"},
        {"type": "scheduled", "quantity": Decimal("1200"), **unit, "commitment": "planning",
         "commitment_code": "D", "period": "weekly", "period_code": "W",
         "start": "2026-12-21"},
        {"type": "scheduled", "quantity": Decimal("2500"), **unit, "commitment": "planning",
         "commitment_code": "D", "period": "flexible", "period_code": "F",
         "start": "2027-01-01", "end": "2027-02-28"},
        # Only the FST inside the SDP loop follows its pattern.
        {"type": "scheduled", "quantity": Decimal("150"), **unit, "commitment": "firm",
         "commitment_code": "C", "period": "discrete", "period_code": "D",
         "start": "2026-12-08", "patterns": [{"code": "N", "time_code": "Y"}]},
        {"type": "received", "type_code": "01", "quantity": Decimal("300"), **unit,
         "start": "2026-12-01",
         "references": [{"qualifier": "SI", "value": "ASN-9001", "description": None,
                         "dates": {}}]},
        {"type": "cumulative_received", "type_code": "02", "quantity": Decimal("18400"),
         **unit, "start": "2026-01-01", "end": "2026-12-01"},
    ]
    second = record.lines[1]
    assert second.quantities[0].quantity == Decimal("0")
    assert second.quantities[0].period == "monthly"


# --- X12 862 -----------------------------------------------------------------------------


def test_862_header_and_jit_deliveries() -> None:
    record = x12_schedule(DATA / "x12" / "valid" / "862.4010.edi")
    assert record.schedule_type == "shipping"
    assert (record.document_number, record.document_date) == ("SS-2026-338", "2026-12-04")
    assert (record.horizon_start, record.horizon_end) == ("2026-12-07", "2026-12-11")
    assert (record.release_number, record.contract_number, record.po_number) == (
        "R-338", "K-17", "PO-55")
    assert (record.schedule_type_code, record.quantity_basis_code) == ("DL", "A")
    assert record.line_count == 1
    quantities = _quantities(record)
    assert [(q["type"], q["quantity"], q.get("start")) for q in quantities] == [
        ("scheduled", Decimal("120"), "2026-12-07"),
        ("jit", Decimal("60"), "2026-12-07T06:00:00"),
        ("jit", Decimal("60"), "2026-12-07T14:00:00"),
        ("scheduled", Decimal("90"), "2026-12-08"),
        ("received", Decimal("300"), "2026-12-03T11:30:00"),
    ]
    # The 862's SDP holds for every FST of its line.
    assert quantities[0]["patterns"] == quantities[3]["patterns"] == [
        {"code": "Y", "time_code": "A"}]
    # A JIT takes its FST's commitment; the REF of its loop is its own.
    assert quantities[1]["commitment_code"] == quantities[2]["commitment_code"] == "C"
    assert quantities[2]["references"][0]["value"] == "LINE-3"
    assert "references" not in quantities[1]
    # The DTM of an FST loop dates that FST.
    assert quantities[3]["dates"] == {"requested_ship": "2026-12-07"}
    assert quantities[4]["references"][0]["value"] == "ASN-9001"


def test_x12_4010_and_5010_give_the_same_records() -> None:
    for name in ("830", "862"):
        a = x12_schedule(DATA / "x12" / "valid" / f"{name}.4010.edi")
        b = x12_schedule(DATA / "x12" / "valid" / f"{name}.5010.edi")
        assert a.model_dump(exclude={"source", "unmapped"}) == b.model_dump(
            exclude={"source", "unmapped"})


# --- EDIFACT -----------------------------------------------------------------------------


def test_delfor_places_quantities_and_packaging() -> None:
    """D96A SG4: each NAD before its lines is their place; a PAC group's QTY is packaging,
    not a scheduled quantity; a week (616) is kept as an ISO week; CNT counts lines."""
    record = edifact_schedule(DATA / "edifact" / "delfor-d96a-places.edi")
    assert record.parties == []
    assert [[p.name for p in line.parties] for line in record.lines] == [
        ["PLANT ONE"], ["PLANT TWO"]]
    assert _quantities(record, 1) == [
        {"type": "scheduled", "type_code": "1", "quantity": Decimal("20.5"), "unit": "PCE",
         "commitment": "planning", "commitment_code": "4",
         "period": "weekly", "period_code": "W", "start": "2027-W02"},
    ]
    assert record.line_count == 2


def test_deljit_sequence_dates_line_dates_and_notes() -> None:
    record = edifact_schedule(DATA / "edifact" / "deljit-d96a.edi")
    assert (record.schedule_type, record.schedule_type_code) == ("shipping", "242")
    assert record.document_date == "2026-12-04T04:55:00"
    assert record.release_number == "R-338"
    line = record.lines[0]
    # SEQ's DTM dates the lines of its sequence; the DTM after the line's PAC is the line's.
    assert line.dates == {"requested_delivery": "2026-12-07", "requested_ship": "2026-12-06"}
    assert record.notes == ["CALL BEFORE DELIVERY"] and line.notes == []
    quantities = _quantities(record)
    assert [(q["type"], q["quantity"], q.get("commitment_code"), q["start"])
            for q in quantities] == [
        ("scheduled", Decimal("60"), "1", "2026-12-07T06:00:00"),
        ("scheduled", Decimal("60"), "1", "2026-12-07T14:00:00"),
        ("received", Decimal("300"), None, "2026-12-03T11:30:00"),
    ]
    assert quantities[1]["references"][0]["value"] == "LINE-3"
    assert quantities[2]["references"][0]["value"] == "ASN-9001"


def test_deljit_d96a_and_d01b_agree_apart_from_the_closing_note() -> None:
    a, b = (edifact_schedule(DATA / "edifact" / name).model_dump(exclude={"source", "unmapped"})
            for name in ("deljit-d96a.edi", "deljit-d01b.edi"))
    assert a["notes"] == ["CALL BEFORE DELIVERY"] and b["notes"] == []
    a["notes"] = []
    assert a == b


# --- accounting --------------------------------------------------------------------------


def _unmapped(record: PlanningSchedule) -> list[tuple[int, str, str]]:
    return [(u.position, u.element, u.value) for u in record.unmapped]


def test_830_lists_what_it_does_not_map() -> None:
    """BFR12 (783), the second quantity of ATH (ATH04), FST10 and the segments with no
    field (SDQ, TD5) are listed with their place; a second DTM of the same name is listed
    whole rather than dropped."""
    text = (DATA / "x12" / "valid" / "830.4010.edi").read_text()
    text = text.replace("20261202*K-17*PO-55~", "20261202*K-17*PO-55*BB~")
    text = text.replace("ATH*MT*20270131*4000**", "ATH*MT*20270131*4000*3500*")
    text = text.replace("FST*300*C*D*20261214~", "FST*300*C*D*20261214******ZZ~"
                        "SDQ*EA*92*S1*100~")
    text = text.replace("DTM*097*20261203*0645~", "DTM*097*20261203*0645~DTM*097*20261204~")
    text = text.replace("SE*29*", "SE*31*")
    [outcome] = [o for o in translate_x12(text.encode()) if isinstance(o, TransactionOutcome)]
    assert isinstance(outcome.record, PlanningSchedule)
    listed = _unmapped(outcome.record)
    assert (2, "BFR12", "BB") in listed
    assert (5, "DTM01", "097") in listed and (5, "DTM02", "20261204") in listed
    assert outcome.record.dates["transaction_creation"] == "2026-12-03T06:45:00"
    assert any(e == "ATH04" and v == "3500" for _, e, v in listed)
    assert any(e == "FST10" and v == "ZZ" for _, e, v in listed)
    assert any(e == "SDQ03" and v == "S1" for _, e, v in listed)


def test_862_jit_without_its_day_is_listed() -> None:
    text = (DATA / "x12" / "valid" / "862.4010.edi").read_text()
    text = text.replace("JIT*60*0600~\n", "", 1).replace("SDP*Y*A~", "SDP*Y*A~JIT*60*0600~")
    [outcome] = [o for o in translate_x12(text.encode()) if isinstance(o, TransactionOutcome)]
    assert isinstance(outcome.record, PlanningSchedule)
    assert [q.type for q in outcome.record.lines[0].quantities].count("jit") == 1
    assert ("JIT02", "0600") in [(e, v) for _, e, v in _unmapped(outcome.record)]


def test_delfor_lists_packaging_and_reference_dates() -> None:
    """A PAC group's QTY and the DTM of a header RFF have no field: they are listed."""
    record = edifact_schedule(DATA / "edifact" / "delfor-d96a-places.edi")
    listed = [(e, v) for _, e, v in _unmapped(record)]
    assert ("QTY01-02", "5") in listed and ("PAC01", "2") in listed
    text = (DATA / "cross" / "830-planning-schedule.d96a.edi").read_text()
    text = text.replace("RFF+CT:CTR-9'", "RFF+CT:CTR-9'DTM+171:20260101:102'")
    text = text.replace("UNT+41+1", "UNT+42+1")
    record = map_message(_messages(text.encode())[0], Source(
        standard="edifact", version="D96A", transaction_type="DELFOR",
        sender=Identity(id="A"), receiver=Identity(id="B"), interchange_control="1",
        transaction_control="1"))
    assert isinstance(record, PlanningSchedule)
    assert ("DTM01-02", "20260101") in [(e, v) for _, e, v in _unmapped(record)]


# --- odd input ---------------------------------------------------------------------------


def _x12_source(set_id: str) -> Source:
    return Source(standard="x12", version="004010", transaction_type=set_id,
                  sender=Identity(id="A"), receiver=Identity(id="B"),
                  interchange_control="1", transaction_control="1")


@pytest.mark.parametrize("set_id", ["830", "862"])
def test_x12_mappers_survive_odd_input(set_id: str) -> None:
    body = (
        f"ST*{set_id}*1~BFR*~BSS*00~FST~FST*x*Q*?*2026XXXX*1~JIT*~JIT*5*9999~SDP~"
        "LIN~FST*NaN*C*W*20261399~JIT*1*0600~SHP*02~SHP**1*050*20260230~ATH~ATH*FI*x*y~"
        "QTY*01~UIT~REF~DTM*002~N1*ST~PER~CTT*x*y~SE*1*1~"
    )
    delimiters = Delimiters()
    segments = [
        Segment(raw.split("*"), offset=0, index=i, delimiters=delimiters)
        for i, raw in enumerate(body.split("~"), start=1)
        if raw
    ]
    record = map_transaction(segments, _x12_source(set_id))
    assert isinstance(record, PlanningSchedule)
    check_canonical(record.model_dump())


@pytest.mark.parametrize("message_type", ["DELFOR", "DELJIT"])
@pytest.mark.parametrize("version", ["96A", "01B"])
def test_edifact_mappers_survive_odd_input(message_type: str, version: str) -> None:
    text = (
        f"UNA:+.? 'UNB+UNOC:3+A+B+240101:1200+1'UNH+1+{message_type}:D:{version}:UN'"
        "BGM'DTM+137:2026XXXX:102'RFF'RFF+AAN'NAD'SCC+9'QTY+1:x'LIN'QTY'SCC'"
        "DTM+2:20270101-2026:718'QTY+3:5:PCE'SCC+1++W:'DTM+51:x'DTM+52'RFF+ON:1'DTM+171'"
        "PAC'QTY+52:1'GIS'NAD+ST'LIN+2'CNT+2:1.5'CNT+1:x'SEQ'DTM+2:1'UNS+S'FTX'"
        "UNT+40+1'UNZ+1+1'"
    )
    [segments] = [
        m for m in _messages(text.encode())
    ]
    record = map_message(segments, Source(
        standard="edifact", version=f"D{version}", transaction_type=message_type,
        sender=Identity(id="A"), receiver=Identity(id="B"), interchange_control="1",
        transaction_control="1"))
    assert isinstance(record, PlanningSchedule)
    check_canonical(record.model_dump())


def _messages(data: bytes) -> list[list[Any]]:
    from translators.edifact.envelope import Message, walk

    return [e.segments for e in walk(EDIFACTReader(data)) if isinstance(e, Message)]


# --- generated documents ------------------------------------------------------------------

_COMMITMENTS = {"C": "1", "D": "4", "A": "10"}  # X12 680 -> EDIFACT 4017, same meaning
_DAYS = st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2035, 12, 31).date())
_AMOUNTS = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    schedules=st.lists(
        st.tuples(_AMOUNTS, st.sampled_from(sorted(_COMMITMENTS)),
                  st.sampled_from(["D", "W", "M", "Q", "F"]), _DAYS, _DAYS),
        min_size=1, max_size=6,
    ),
    received=st.one_of(st.none(), st.tuples(_AMOUNTS, _DAYS)),
)
def test_generated_830_and_delfor_twins(
    schedules: list[tuple[Decimal, str, str, Any, Any]],
    received: tuple[Decimal, Any] | None,
) -> None:
    """Any set of FST quantities (and a last receipt) written as an 830 and as a D96A
    DELFOR gives the same quantities, and each value the 830 sent is in the record."""
    fst, qty = [], []
    for amount, commitment, period, start, end in schedules:
        first, last = sorted((start, end))
        a, b = first.strftime("%Y%m%d"), last.strftime("%Y%m%d")
        fst.append(f"FST*{amount}*{commitment}*{period}*{a}*{b}~")
        qty.append(f"QTY+1:{amount}:EA'SCC+{_COMMITMENTS[commitment]}++{period}'"
                   f"DTM+64:{a}:102'DTM+63:{b}:102'")
    if received is not None:
        day = received[1].strftime("%Y%m%d")
        fst.append(f"SHP*01*{received[0]}*050*{day}~")
        qty.append(f"QTY+48:{received[0]}:EA'DTM+50:{day}:102'")
    x12_body = ["ST*830*0001~", "BFR*00*S1**DL*A*20260101**20251231~", "LIN*1*BP*P1~",
                "UIT*EA~", *fst]
    x12 = (
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              "
        "*261201*0800*U*00401*000000001*0*T*>~GS*PS*A*B*20261201*0800*1*X*004010~"
        + "".join(x12_body) + f"SE*{len(x12_body) + 1}*0001~GE*1*1~IEA*1*000000001~"
    )
    edi_body = ["UNH+1+DELFOR:D:96A:UN'", "BGM+241+S1+9'", "DTM+137:20251231:102'",
                "DTM+158:20260101:102'", "UNS+D'", "LIN+1'", "PIA+5+P1:BP'", *qty, "UNS+S'"]
    edifact = (
        "UNA:+.? 'UNB+UNOC:3+A+B+261201:0800+1'" + "".join(edi_body)
        + f"UNT+{sum(s.count(chr(39)) for s in edi_body) + 1}+1'UNZ+1+1'"
    )
    [outcome] = [o for o in translate_x12(x12.encode()) if isinstance(o, TransactionOutcome)]
    assert outcome.errors == []
    [message] = [o for o in translate_edifact(edifact.encode()) if isinstance(o, MessageOutcome)]
    assert [i for i in message.issues if i.severity == "error"] == []
    x12_record, edifact_record = outcome.record, message.record
    assert isinstance(x12_record, PlanningSchedule)
    assert isinstance(edifact_record, PlanningSchedule)
    check_canonical(x12_record.model_dump())
    check_canonical(edifact_record.model_dump())
    ours = x12_record.lines[0].quantities
    theirs = edifact_record.lines[0].quantities
    assert len(ours) == len(theirs) == len(schedules) + (received is not None)
    for q, e, (amount, commitment, period, _, _) in zip(ours, theirs, schedules, strict=False):
        assert q.quantity == e.quantity == amount
        assert (q.commitment, q.period, q.period_code) == (e.commitment, e.period, period)
        assert (q.start, q.end) == (e.start, e.end)
        assert q.commitment_code == commitment
        assert _COMMITMENTS[commitment] == e.commitment_code
    if received is not None:
        assert ours[-1].quantity == theirs[-1].quantity == received[0]
        assert ours[-1].type == theirs[-1].type == "received"
        assert ours[-1].start == theirs[-1].start == received[1].isoformat()
