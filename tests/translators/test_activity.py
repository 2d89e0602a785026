"""Product activity (852, SLSRPT) and inventory (846, INVRPT) records from hand-written
documents: the mappers field by field, and the pipelines validating, acknowledging and
translating them (INVRPT used to be acknowledged without a definition or a record)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.contrl import CONTRLOptions, build_contrl
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.record_data import check_canonical
from translators.records import InventoryReport, ProductActivity
from translators.x12.ack import AckOptions, build_acknowledgment
from translators.x12.pipeline import TransactionOutcome, X12InterchangeOutcome, translate_x12
from translators.x12.reader import X12Reader

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def x12_outcome(data: bytes) -> TransactionOutcome:
    [outcome] = [o for o in translate_x12(data) if isinstance(o, TransactionOutcome)]
    return outcome


def edifact(body: str, message_type: str, version: str = "96A") -> bytes:
    """An interchange holding one message whose segments are the lines of ``body``."""
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    return (
        "UNA:+.? 'UNB+UNOC:3+ACMESTORES:ZZZ+WIDGETCO:ZZZ+261201:0800+77'"
        f"UNH+1+{message_type}:D:{version}:UN'"
        + "".join(lines)
        + f"UNT+{len(lines) + 2}+1'UNZ+1+77'"
    ).encode()


def edifact_outcome(data: bytes) -> MessageOutcome:
    [outcome] = [o for o in translate_edifact(data) if isinstance(o, MessageOutcome)]
    return outcome


# --- 852 ----------------------------------------------------------------------------------


def test_852_header_lines_and_per_location_activity() -> None:
    """XQ, N9, the N1 loop; per line its ids, price, pack, amount, references; a ZA with a
    quantity is the line's own activity, its SDQ pairs the same activity per location."""
    outcome = x12_outcome((DATA / "x12" / "mapping" / "852-activity.x12").read_bytes())
    assert outcome.errors == []
    report = outcome.record
    assert isinstance(report, ProductActivity)
    assert (report.report_type_code, report.period_start, report.period_end) == (
        "F", "2026-11-01", "2026-11-30")
    assert [(r.qualifier, r.value) for r in report.references] == [("IA", "VENDOR42")]
    [location_party] = report.parties
    assert (location_party.role_code, location_party.ids[0].value) == ("RL", "0012345000027")
    assert [(r.qualifier, r.value) for r in location_party.references] == [
        ("ST", "REGION-EAST")]
    first, second = report.lines
    assert (first.item_ids.upc, first.item_ids.vendor_item) == ("012345678905", "W-100")
    assert (first.prices[0].type_code, first.prices[0].unit_price) == ("RES", Decimal("2.99"))
    assert first.pack == Decimal("12")
    assert [(r.qualifier, r.value) for r in first.references] == [("PD", "PROMO-7")]
    assert [(a.qualifier, a.amount) for a in first.amounts] == [("1", Decimal("59.80"))]
    # ZA02 totals: sold with its ZA04/ZA05 date, available; QO has no total.
    assert [(a.activity, a.activity_code, a.quantity, a.unit_rec20, a.dates)
            for a in first.activities] == [
        ("sold", "QS", Decimal("20"), "EA", {"period_end": "2026-11-30"}),
        ("available", "QA", Decimal("40"), "EA", {}),
    ]
    by_location = {
        loc.location: [(a.activity, a.quantity) for a in loc.activities]
        for loc in first.locations
    }
    assert by_location == {
        "0001": [("sold", Decimal("12")), ("available", Decimal("25"))],
        "0002": [("sold", Decimal("8")), ("available", Decimal("15"))],
        "0003": [("out_of_stock", Decimal("1"))],
    }
    assert {loc.qualifier for loc in first.locations} == {"92"}
    assert first.locations[0].activities[0].dates == {"period_end": "2026-11-30"}
    [odd] = second.activities
    assert (odd.activity, odd.activity_code, odd.unit, odd.unit_rec20) == (
        "za_XX", "XX", "CA", "CS")
    assert [(r.qualifier, r.value) for r in odd.references] == [("IA", "REF-9")]
    assert report.line_count == 2
    # No place in the record: the preassigned PO numbers, the header contact and a ZA
    # that reports no quantity (neither ZA02 nor an SDQ) are listed where they stood.
    listed = [(u.segment, u.position, u.element, u.value) for u in report.unmapped]
    assert listed == [
        ("XPO", 3, "XPO01", "PO-7001"), ("XPO", 3, "XPO02", "PO-7099"),
        ("PER", 5, "PER01", "IC"), ("PER", 5, "PER02", "JANE ROE"),
        ("PER", 5, "PER03", "TE"), ("PER", 5, "PER04", "5551234"),
        ("ZA", 20, "ZA01", "QP"),
    ]
    assert report.unmapped[-1].loop == "LIN_LOOP/ZA_LOOP"


def test_852_is_validated_and_acknowledged() -> None:
    """A clean 852 group is accepted in the 997 (AK5*A, AK9*A) and yields its record; an
    852 without its mandatory XQ is rejected, so the schema is really applied."""
    data = (DATA / "cross" / "852-product-activity.x12").read_bytes()
    [end] = [o for o in translate_x12(data) if isinstance(o, X12InterchangeOutcome)]
    ack = build_acknowledgment(end, AckOptions(now=NOW))
    assert ack is not None
    fields = [s.fields for s in X12Reader(ack)]
    assert [f[:2] for f in fields if f[0] == "AK1"] == [["AK1", "PD"]]
    assert [f[1] for f in fields if f[0] in ("AK5", "IK5")] == ["A"]
    assert [f[1] for f in fields if f[0] == "AK9"] == ["A"]
    assert isinstance(x12_outcome(data).record, ProductActivity)
    without_xq = data.replace(b"XQ*H*20261101*20261107*WK45*00~", b"").replace(
        b"SE*16*0001", b"SE*15*0001")
    assert x12_outcome(without_xq).errors != []


# --- 846 ----------------------------------------------------------------------------------


def test_846_quantity_in_an_n1_loop_is_held_at_that_party() -> None:
    """A QTY of the LIN's N1 loop carries the party's N103/N104 as its location; the
    LIN's own QTY has none."""
    outcome = x12_outcome((DATA / "x12" / "mapping" / "846-held-at.x12").read_bytes())
    assert outcome.errors == []
    report = outcome.record
    assert isinstance(report, InventoryReport)
    [item] = report.items
    assert [(q.type, q.quantity, q.location_qualifier, q.location) for q in item.quantities] == [
        ("on_hand", Decimal("300"), None, None),
        ("available", Decimal("120"), "92", "DC-EAST"),
        ("available", Decimal("80"), "92", "DC-WEST"),
    ]
    assert [p.name for p in item.parties] == ["EAST DC", "WEST DC"]


# --- INVRPT -------------------------------------------------------------------------------

_INVRPT = """
BGM+35+INV-9+9'
DTM+137:20261201:102'
DTM+366:20261130:102'
NAD+SU+0098765000011::9++WIDGET CO'
CUX+2:EUR:9'
LIN+1++012345678905:UP'
PIA+1+W-100:SA'
IMD+F++:::WIDGET BLUE'
QTY+145:12.5:KGM'
LOC+18+DC-EAST::92'
DTM+179:20261130:102'
PRI+AAA:4.20'
QTY+17:20:KGM'
"""


def test_invrpt_is_translated_validated_and_acknowledged() -> None:
    """INVRPT is validated against its D96A definition, gets a positive CONTRL and an
    inventory_report: BGM, dates, party, currency, item ids, description, quantities, the
    LOC, DTM and PRI of a QTY group."""
    data = edifact(_INVRPT, "INVRPT")
    outcome = edifact_outcome(data)
    assert outcome.schema == "INVRPT D96A"
    assert outcome.issues == [] and outcome.action == "7"
    [end] = [o for o in translate_edifact(data, translate=False)
             if isinstance(o, EDIFACTInterchangeOutcome)]
    contrl = build_contrl(end, CONTRLOptions(now=NOW))
    assert contrl is not None and b"UCM+1+INVRPT:D:96A:UN+7'" in contrl
    assert outcome.record is not None
    report = outcome.record
    assert isinstance(report, InventoryReport)
    assert (report.report_type, report.report_id, report.purpose_code) == (
        "35", "INV-9", "9")
    assert report.report_date == "2026-12-01"
    assert report.dates == {"dtm_366": "2026-11-30"}
    assert (report.currency, report.parties[0].role) == ("EUR", "supplier")
    [item] = report.items
    assert (item.item_ids.upc, item.item_ids.vendor_item) == ("012345678905", "W-100")
    assert item.description == "WIDGET BLUE"
    available, on_hand = item.quantities
    assert (available.qualifier, available.type, available.quantity) == (
        "145", "available", Decimal("12.5"))
    assert (available.unit, available.unit_rec20) == ("KGM", "KGM")
    assert (available.location_qualifier, available.location) == ("92", "DC-EAST")
    assert available.dates == {"dtm_179": "2026-11-30"}
    assert (on_hand.type, on_hand.location) == ("on_hand", None)
    assert [(p.type_code, p.unit_price) for p in item.prices] == [("AAA", Decimal("4.20"))]


def test_invrpt_missing_mandatory_segment_is_rejected() -> None:
    """INVRPT without its mandatory DTM is rejected (action 4): the definition applies."""
    body = "\n".join(line for line in _INVRPT.splitlines() if not line.startswith("DTM"))
    outcome = edifact_outcome(edifact(body, "INVRPT"))
    assert outcome.action == "4"


# --- SLSRPT -------------------------------------------------------------------------------


def test_slsrpt_d96a_reports_by_location() -> None:
    """D96A SLSRPT: each LOC's LINs are lines of their own whose one location is that LOC
    (its DTM copied); the QTY, MOA and NAD below a LIN belong to that location."""
    body = """
    BGM+73E+WK48+9'
    DTM+137:20261201:102'
    DTM+90:20261123:102'
    DTM+91:20261129:102'
    NAD+BY+0012345000010::9++ACME STORES'
    RFF+IA:VENDOR42'
    CUX+2:EUR:9'
    LOC+162+0001::92'
    DTM+356:20261129:102'
    LIN+1++012345678905:UP'
    PIA+1+W-100:SA'
    IMD+F++:::WIDGET BLUE'
    MOA+128:35.88'
    PRI+AAE:2.99'
    QTY+153:12:PCE'
    NAD+SN+0001::92'
    QTY+145:30:PCE'
    LOC+162+0002::92'
    LIN+1++012345678905:UP'
    QTY+153:8:PCE'
    """
    outcome = edifact_outcome(edifact(body, "SLSRPT"))
    # 73E is EANCOM's sales report code, not a UNCL D.96A 1001 code: the closed D.96A list
    # reports it (a partner sending it is relaxed in its profile); the record maps it all
    # the same.
    assert outcome.schema == "SLSRPT D96A"
    assert [(i.code, i.data_element, i.bad_value) for i in outcome.issues] == [
        ("12", "1001", "73E")]
    report = outcome.record
    assert isinstance(report, ProductActivity)
    assert (report.report_type_code, report.report_id, report.purpose_code) == (
        "73E", "WK48", "9")
    assert (report.report_date, report.period_start, report.period_end) == (
        "2026-12-01", "2026-11-23", "2026-11-29")
    assert (report.currency, [r.value for r in report.references]) == ("EUR", ["VENDOR42"])
    store1, store2 = report.lines
    assert store1.item_ids.vendor_item == "W-100" and store1.description == "WIDGET BLUE"
    assert [(p.type_code, p.unit_price) for p in store1.prices] == [("AAE", Decimal("2.99"))]
    [at1] = store1.locations
    assert (at1.qualifier, at1.location, at1.dates) == ("92", "0001", {"dtm_356": "2026-11-29"})
    assert [(a.qualifier, a.amount) for a in at1.amounts] == [("128", Decimal("35.88"))]
    assert [(a.activity, a.activity_code, a.quantity, a.unit) for a in at1.activities] == [
        ("sold", "153", Decimal("12"), "PCE"), ("available", "145", Decimal("30"), "PCE")]
    assert [(p.role_code, p.ids[0].value) for p in at1.parties] == [("SN", "0001")]
    [at2] = store2.locations
    assert (at2.location, at2.dates) == ("0002", {})
    [sold] = at2.activities
    assert (sold.quantity, sold.dates) == (Decimal("8"), {})
    assert store1.activities == [] and report.parties[0].role == "buyer"


def test_slsrpt_d01b_reports_by_item() -> None:
    """D01B SLSRPT after GIS: one line per LIN, one location per LOC under it with its MOA;
    the DTM and RFF after a QTY are that activity's."""
    body = """
    BGM+73E+WK48+9'
    DTM+137:20261201:102'
    RFF+IA:VENDOR42'
    NAD+BY+0012345000010::9++ACME STORES'
    RFF+VA:DE123'
    GIS+37'
    LIN+1++012345678905:UP'
    MOA+128:59.80'
    LOC+162+0001::92'
    MOA+128:35.88'
    QTY+153:12:EA'
    DTM+11:20261128:102'
    RFF+PD:PROMO-7'
    LOC+162+0002::92'
    QTY+153:8:EA'
    UNS+S'
    """
    outcome = edifact_outcome(edifact(body, "SLSRPT", "01B"))
    # 73E is not in the closed D.01B 1001 list either (EANCOM's code): reported, mapped.
    assert outcome.schema == "SLSRPT D01B"
    assert [(i.code, i.data_element, i.bad_value) for i in outcome.issues] == [
        ("12", "1001", "73E")]
    report = outcome.record
    assert isinstance(report, ProductActivity)
    assert [r.value for r in report.references] == ["VENDOR42"]
    # D01B: the RFF after a NAD is the party's own (SG4).
    assert [r.value for r in report.parties[0].references] == ["DE123"]
    [line] = report.lines
    assert [(a.qualifier, a.amount) for a in line.amounts] == [("128", Decimal("59.80"))]
    first, second = line.locations
    assert [(a.qualifier, a.amount) for a in first.amounts] == [("128", Decimal("35.88"))]
    [sold] = first.activities
    assert sold.dates == {"shipped": "2026-11-28"}
    assert [(r.qualifier, r.value) for r in sold.references] == [("PD", "PROMO-7")]
    assert (second.location, second.activities[0].quantity) == ("0002", Decimal("8"))


# --- odd input ----------------------------------------------------------------------------

_VALUES = st.text(alphabet="0123456789.,-AEGQSUXZ ", max_size=6)
_EDIFACT_TAGS = ("BGM", "DTM", "NAD", "RFF", "CTA", "COM", "CUX", "LOC", "GIS", "LIN", "PIA",
                 "IMD", "PRI", "MOA", "QTY", "FTX", "INV", "UNS", "MKS")
_X12_TAGS = ("XQ", "N9", "N1", "N3", "N4", "PER", "DTM", "LIN", "CTP", "PO4", "AMT", "ZA",
             "SDQ", "QTY", "CTT", "BIA", "REF", "PID", "UIT")


@settings(max_examples=200, deadline=None)
@given(
    message_type=st.sampled_from(["INVRPT", "SLSRPT"]),
    version=st.sampled_from(["96A", "01B"]),
    body=st.lists(st.tuples(st.sampled_from(_EDIFACT_TAGS),
                            st.lists(st.lists(_VALUES, max_size=4), max_size=5)), max_size=25),
)
def test_edifact_mappers_never_raise_and_stay_canonical(
    message_type: str, version: str, body: list[tuple[str, list[list[str]]]]
) -> None:
    """Any sequence of the segments these mappers read, with odd values (junk numbers and
    dates, missing elements, the other decimal mark), maps without raising to data equal
    to its validated record."""
    text = "\n".join(tag + "".join("+" + ":".join(e) for e in elements) + "'"
                     for tag, elements in body)
    outcome = edifact_outcome(edifact(text, message_type, version))
    assert outcome.record is not None
    assert outcome.data is not None
    check_canonical(outcome.data)


@settings(max_examples=200, deadline=None)
@given(
    set_id=st.sampled_from(["852", "846"]),
    body=st.lists(st.tuples(st.sampled_from(_X12_TAGS), st.lists(_VALUES, max_size=8)),
                  max_size=25),
)
def test_x12_mappers_never_raise_and_stay_canonical(
    set_id: str, body: list[tuple[str, list[str]]]
) -> None:
    """The same for the 852 and 846 mappers over X12 segments with odd values."""
    segments = [f"ST*{set_id}*0001", *("*".join([tag, *fields]) for tag, fields in body)]
    segments.append(f"SE*{len(segments) + 1}*0001")
    data = "~".join([
        "ISA*00*          *00*          *ZZ*ACMESTORES     *ZZ*WIDGETCO       "
        "*261201*0800*U*00401*000000501*0*T*>",
        f"GS*{'PD' if set_id == '852' else 'IB'}*ACMESTORES*WIDGETCO*20261201*0800*501*X*004010",
        *segments, "GE*1*501", "IEA*1*000000501"]) + "~"
    outcome = x12_outcome(data.encode())
    assert outcome.data is not None
    check_canonical(outcome.data)


def test_invrpt_d01b_quantity_groups_start_with_inv() -> None:
    """D01B INVRPT opens each quantity group with INV; the QTY after it is still the
    item's quantity, with the LOC of its group; a NAD of the line is the item's party."""
    body = """
    BGM+35+INV-10+9'
    DTM+137:20261201:102'
    LIN+1++4006381333931:EN'
    NAD+WH+DC-EAST::92'
    INV+2+1'
    QTY+145:40:PCE'
    LOC+18+DC-EAST::92'
    INV+2+2'
    QTY+17:44:PCE'
    """
    outcome = edifact_outcome(edifact(body, "INVRPT", "01B"))
    assert outcome.schema == "INVRPT D01B" and outcome.issues == []
    report = outcome.record
    assert isinstance(report, InventoryReport)
    [item] = report.items
    assert item.item_ids.ean == "4006381333931"
    assert [p.role_code for p in item.parties] == ["WH"]
    assert [(q.type, q.quantity, q.location) for q in item.quantities] == [
        ("available", Decimal("40"), "DC-EAST"), ("on_hand", Decimal("44"), None)]


def test_edifact_segments_without_a_place_are_listed_whole() -> None:
    """A location no line takes (with its DTM), a second BGM, a QTY before any LIN and
    the DTM of an INVRPT price have nowhere to go: listed whole, not dropped."""
    body = """
    BGM+73E+WK48+9'
    DTM+137:20261201:102'
    NAD+BY+0012345000010::9'
    LOC+162+0009::92'
    DTM+356:20261129:102'
    LOC+162+0001::92'
    LIN+1++012345678905:UP'
    QTY+153:12:PCE'
    """
    report = edifact_outcome(edifact(body, "SLSRPT")).record
    assert isinstance(report, ProductActivity)
    [line] = report.lines
    assert [loc.location for loc in line.locations] == ["0001"]
    listed = [(u.position, u.element, u.value) for u in report.unmapped]
    assert (5, "LOC02-01", "0009") in listed and (6, "DTM01-02", "20261129") in listed
    assert (7, "LOC01", "162") in listed  # the function of a location that is mapped
    invrpt = """
    BGM+35+INV-9+9'
    DTM+137:20261201:102'
    QTY+145:3:PCE'
    LIN+1++012345678905:UP'
    QTY+145:12:PCE'
    PRI+AAA:4.20'
    DTM+194:20261201:102'
    """
    inventory = edifact_outcome(edifact(invrpt, "INVRPT")).record
    assert isinstance(inventory, InventoryReport)
    assert inventory.items[0].quantities[0].dates == {}
    listed = [(u.position, u.element, u.value) for u in inventory.unmapped]
    assert (4, "QTY01-02", "3") in listed and (8, "DTM01-02", "20261201") in listed
