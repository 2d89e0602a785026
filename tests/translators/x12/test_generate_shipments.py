"""Outbound X12 856 and 846: ``translate_x12(generate_x12(record))`` gives the ship notice or
inventory report back, pyx12 accepts what is generated, the HL hierarchy is the one the
record (or the partner's ``asn_structure``) says, and records that cannot be written raise
errors naming their field.

The golden records are every accepted (status A) 856 and 846 in the corpus golden files
(tests/golden/x12/*.json, read as stored) and in the hand-written files of tests/data/x12,
as in test_generate.py. Those accepted with warnings only (status E: every one an SSCC
check-digit warning) are round-tripped as well, since they hold the tare, measure and
cross-dock trees the accepted ones lack.

Excluded from the comparison, and why:
- ``source``, ``unmapped``, ``schema_version``: as in test_generate.py.
- ``line_count`` (CTT01): computed by the generator (the number of HL segments of an 856,
  of LIN segments of an 846); the golden's value is replaced by the computed one, which
  the round trip checks against the HLs or LINs written (CTT is optional and some
  goldens have none).
No golden 856 or 846 record had to be excluded for something the inbound mappers lose.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.translators.x12.test_generate import envelope, golden_records, read_back
from translators.record_data import record_from_data
from translators.x12.generate import SUPPORTED_KINDS, GenerationError, generate_x12

SETS = {"856": "ship_notice", "846": "inventory_report"}
EXCLUDED = ("source", "unmapped", "schema_version")


def _warned(status: str, severities: list[str], version: str) -> bool:
    """Status E from warnings only, in 004010 or 005010."""
    return status == "E" and set(severities) == {"warning"} and version[:6] in _VERSIONS


_VERSIONS = ("004010", "005010")


GOLDEN_RECORDS = list(golden_records(SETS))
# Accepted with warnings only (wrong SSCC check digits): what they read is all there is.
WARNED_RECORDS = list(golden_records(SETS, _warned))


def prepared(record: dict[str, Any]) -> dict[str, Any]:
    """The golden record as the generator gets it: the computed CTT01 emptied."""
    record = copy.deepcopy(record)
    record["line_count"] = None
    return record


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the envelope values and with the computed count emptied."""
    data = record_from_data(record).model_dump()
    for key in EXCLUDED:
        data.pop(key, None)
    data["line_count"] = None
    return data


def segments(data: bytes, tag: str) -> list[list[str]]:
    """The element lists of every ``tag`` segment in generated X12 (test delimiters)."""
    found = [s.strip().split("*") for s in data.decode().split("~")]
    return [s for s in found if s[0] == tag]


def levels(data: bytes) -> list[tuple[str, str, str]]:
    """(HL01, HL02, HL03) of every HL written."""
    return [(s[1], s[2], s[3]) for s in segments(data, "HL")]


def golden(kind: str, name: str = "") -> dict[str, Any]:
    return prepared(next(r for n, _, r in GOLDEN_RECORDS if r["kind"] == kind and name in n))


def test_golden_records_cover_both_kinds_and_versions() -> None:
    """The round trip below runs over 856 and 846 records of 004010 and 005010."""
    found = {(record["kind"], version) for _, version, record in GOLDEN_RECORDS}
    for kind in SETS.values():
        assert (kind, "004010") in found
        assert (kind, "005010") in found
    assert set(SETS.values()) <= SUPPORTED_KINDS


@pytest.mark.parametrize(
    ("name", "version", "record"), GOLDEN_RECORDS, ids=[n for n, _, _ in GOLDEN_RECORDS]
)
def test_golden_record_round_trips(name: str, version: str, record: dict[str, Any]) -> None:
    """Generating a golden record and translating the X12 gives the record back, apart
    from the excluded fields, with CTT01 the HLs (856) or LINs (846) written."""
    given_record = prepared(record)
    data = generate_x12([given_record], envelope(version))
    (outcome,) = read_back(data)
    assert outcome.errors == []
    assert outcome.data is not None
    assert comparable(outcome.data) == comparable(given_record)
    counted = segments(data, "HL" if record["kind"] == "ship_notice" else "LIN")
    assert outcome.data["line_count"] == len(counted)


@pytest.mark.parametrize(
    ("name", "version", "record"), WARNED_RECORDS, ids=[n for n, _, _ in WARNED_RECORDS]
)
def test_warned_record_round_trips(name: str, version: str, record: dict[str, Any]) -> None:
    """A record accepted with warnings only (tares, measures, cross-dock orders among
    them) reads back as given too."""
    given_record = prepared(record)
    (outcome,) = read_back(generate_x12([given_record], envelope(version)))
    assert outcome.errors == []
    assert outcome.data is not None
    assert comparable(outcome.data) == comparable(given_record)


def test_warned_records_include_every_level() -> None:
    """The warned records hold tares, packs, loose items and several orders."""
    notices = [r for _, _, r in WARNED_RECORDS if r["kind"] == "ship_notice"]
    assert any(r["tares"] for r in notices)
    assert any(len(r["orders"]) > 1 and any(o["packs"] for o in r["orders"]) for r in notices)


def test_ship_notice_hash_total_is_the_units_shipped() -> None:
    """CTT02 of an 856 is the sum of its SN102 quantities (the 856's hash total)."""
    record = golden("ship_notice", "856.4010")
    (ctt,) = segments(generate_x12([record], envelope("004010")), "CTT")
    assert ctt == ["CTT", "5", "168"]


def test_inventory_hash_total_is_the_quantities() -> None:
    """CTT02 of an 846 is the sum of its QTY02 quantities; CTT01 counts the LINs."""
    record = golden("inventory_report", "846-held-at")
    data = generate_x12([record], envelope("004010"))
    quantities = [Decimal(q[2]) for q in segments(data, "QTY")]
    (ctt,) = segments(data, "CTT")
    assert ctt == ["CTT", str(len(segments(data, "LIN"))), str(sum(quantities))]


@pytest.mark.parametrize("kind", sorted(SETS.values()))
@pytest.mark.parametrize("version", ["004010", "005010"])
def test_pyx12_accepts_generated_interchanges(
    kind: str, version: str, pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """pyx12, with edigate's maps, finds zero errors in what is generated of each kind."""
    records = [prepared(r) for _, _, r in GOLDEN_RECORDS if r["kind"] == kind]
    if kind == "ship_notice":
        records.append(tared_notice())
    assert records
    assert pyx12_errors(generate_x12(records, envelope(version))) == []


# --- the hierarchy ------------------------------------------------------------------------


def test_auto_writes_the_records_own_tree() -> None:
    """With ``auto`` an order with one pack and one loose item is written S, O, P, I, I
    with each HL02 its parent's HL01."""
    data = generate_x12([golden("ship_notice", "856.4010")], envelope("004010"))
    assert levels(data) == [
        ("1", "", "S"),
        ("2", "1", "O"),
        ("3", "2", "P"),
        ("4", "3", "I"),
        ("5", "2", "I"),
    ]


def tared_notice() -> dict[str, Any]:
    """A hand-made S/O/T/P/I notice: one order, two tares of one and two packs."""
    item = {
        "line_number": "1",
        "item_ids": {"vendor_item": "V-1"},
        "quantity_shipped": Decimal(4),
        "unit": "EA",
    }
    packs = [
        {
            "sscc": f"0001234560000000{n:02d}",
            "tare_sscc": tare,
            "items": [dict(item, line_number=str(n))],
        }
        for n, tare in (
            (1, "000123456000000900"),
            (2, "000123456000000917"),
            (3, "000123456000000917"),
        )
    ]
    return {
        "kind": "ship_notice",
        "source": {
            "standard": "x12",
            "version": "005010",
            "transaction_type": "856",
            "sender": {"id": "X"},
            "receiver": {"id": "Y"},
            "interchange_control": "1",
            "transaction_control": "1",
        },
        "purpose_code": "00",
        "shipment_id": "SHP-1",
        "dates": {"transaction_creation": "2024-05-01T08:00:00"},
        "orders": [{"po_number": "PO-1", "packs": packs}],
        "tares": [
            {"sscc": "000123456000000900", "po_number": "PO-1"},
            {"sscc": "000123456000000917", "po_number": "PO-1"},
        ],
    }


def test_tares_are_written_between_order_and_packs() -> None:
    """SOTPI puts each pack under the tare of its ``tare_sscc``, says 0001 in BSN05 and
    reads back as given."""
    data = generate_x12([tared_notice()], envelope(asn_structure="SOTPI"))
    assert [code for _, _, code in levels(data)] == list("SOTPITPIPI")
    by_id = {hl: (parent, code) for hl, parent, code in levels(data)}
    for _, parent, code in levels(data):
        if code == "P":
            assert by_id[parent][1] == "T"
    (bsn,) = segments(data, "BSN")
    assert bsn[5] == "0001"
    (outcome,) = read_back(data)
    assert outcome.errors == []
    assert outcome.data is not None
    assert [p["tare_sscc"] for p in outcome.data["orders"][0]["packs"]] == [
        "000123456000000900",
        "000123456000000917",
        "000123456000000917",
    ]


def test_a_loose_item_is_refused_in_sopi() -> None:
    """SOPI refuses an order's item outside a pack, naming the order's ``items``."""
    with pytest.raises(GenerationError) as caught:
        generate_x12([golden("ship_notice", "856.4010")], envelope(asn_structure="SOPI"))
    assert caught.value.fields == ["records[0].orders[0].items"]


def test_a_pack_without_items_is_refused_where_the_structure_needs_them() -> None:
    """SOTPI refuses a pack with no items, naming that pack's ``items``."""
    record = tared_notice()
    record["orders"][0]["packs"][1]["items"] = []
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope(asn_structure="SOTPI"))
    assert caught.value.fields == ["records[0].orders[0].packs[1].items"]


def test_a_pack_is_refused_in_soi_and_a_pack_off_tare_in_sotpi() -> None:
    """SOI has no pack level and SOTPI puts every pack on a tare: each names the field."""
    with pytest.raises(GenerationError) as caught:
        generate_x12([tared_notice()], envelope(asn_structure="SOI"))
    assert caught.value.fields == ["records[0].tares"]
    record = tared_notice()
    record["orders"][0]["packs"][0]["tare_sscc"] = None
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope(asn_structure="SOTPI"))
    assert caught.value.fields == ["records[0].orders[0].packs[0].tare_sscc"]


def test_soi_writes_orders_and_items() -> None:
    """A record of orders with items only is written S, O, I... under SOI, BSN05 kept."""
    record = golden("ship_notice", "small-partner3")
    data = generate_x12([record], envelope("004010", asn_structure="SOI"))
    assert {code for _, _, code in levels(data)} == {"S", "O", "I"}
    (bsn,) = segments(data, "BSN")
    assert bsn[5] == record["structure_code"]


# --- dates and derived values -------------------------------------------------------------


def test_the_ship_date_is_dtm_011_and_bsn03_the_notice_date() -> None:
    """A ship date given only as ``ship_date``/``ship_time`` is written DTM*011, never as
    BSN03, which is the notice's creation date."""
    record = tared_notice()
    record.update(ship_date="2024-05-03", ship_time="14:15:00")
    data = generate_x12([record], envelope())
    (bsn,) = segments(data, "BSN")
    assert bsn[3:5] == ["20240501", "0800"]
    assert ["DTM", "011", "20240503", "1415"] in segments(data, "DTM")
    (outcome,) = read_back(data)
    assert outcome.data is not None
    assert (outcome.data["ship_date"], outcome.data["ship_time"]) == ("2024-05-03", "14:15:00")
    assert outcome.data["dates"]["transaction_creation"] == "2024-05-01T08:00:00"


def test_a_notice_without_a_creation_date_is_dated_by_the_envelope() -> None:
    """BSN03/BSN04 of a record without ``transaction_creation`` is the envelope's moment."""
    record = tared_notice()
    record["dates"] = {}
    created = datetime(2024, 6, 1, 7, 5, tzinfo=UTC)
    (bsn,) = segments(generate_x12([record], envelope(created_at=created)), "BSN")
    assert bsn[3:5] == ["20240601", "0705"]


def test_derived_values_are_written_from_where_they_are_read() -> None:
    """A pack's ``sscc``, the ``bill_of_lading``, the carrier's tracking number and single
    ``weight`` given alone are written as MAN GM, REF BM, REF 2I and a TD1."""
    record = tared_notice()
    record.update(
        bill_of_lading="BOL-1",
        carrier={"scac": "UPSN", "tracking_number": "1Z1"},
        weight={"value": Decimal("12.5"), "unit": "LB", "qualifier": "G"},
    )
    data = generate_x12([record], envelope())
    assert ["MAN", "GM", "000123456000000001"] in segments(data, "MAN")
    assert {("BM", "BOL-1"), ("2I", "1Z1")} <= {(s[1], s[2]) for s in segments(data, "REF")}
    assert ["TD1", "", "", "", "", "", "G", "12.5", "LB"] in segments(data, "TD1")


# --- what cannot be written ---------------------------------------------------------------


def test_a_record_note_is_refused() -> None:
    """The 856 has no NTE: a record note raises an error naming ``notes``."""
    record = tared_notice()
    record["notes"] = ["FRAGILE"]
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope())
    assert caught.value.fields == ["records[0].notes"]


def test_item_notes_without_a_description_are_refused() -> None:
    """An item's notes are PIDs after its description: without one they are refused."""
    record = tared_notice()
    record["orders"][0]["packs"][0]["items"][0]["notes"] = ["RED"]
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope())
    assert caught.value.fields == ["records[0].orders[0].packs[0].items[0].notes"]


def test_a_value_with_no_856_form_names_its_field() -> None:
    """An EDIFACT-only value (a pack's marking code) does not read back and is named."""
    record = tared_notice()
    record["orders"][0]["packs"][0]["marking_codes"] = ["33E"]
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope())
    assert caught.value.fields == ["records[0].orders[0].packs[0].marking_codes"]


def test_a_held_quantity_without_its_party_is_refused() -> None:
    """A quantity held at a location no N1 of the item names is refused, naming it."""
    record = golden("inventory_report", "846.5010")
    record["items"][0]["quantities"][0].update(location_qualifier="92", location="NOWHERE")
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope())
    assert caught.value.fields == ["records[0].items[0].quantities[0]"]


# --- generated ship notices ---------------------------------------------------------------

_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=2, max_size=12)
_amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2)


def sscc(first17: str) -> str:
    """The SSCC-18 of 17 digits: the GS1 mod-10 check digit appended."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first17)))
    return first17 + str(-total % 10)


_sscc = st.text(alphabet="0123456789", min_size=17, max_size=17).map(sscc)


@st.composite
def _items(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [
        {
            "line_number": str(n + 1),
            "item_ids": {"vendor_item": draw(_text), "buyer_item": draw(st.none() | _text)},
            "quantity_shipped": draw(_amount),
            "unit": draw(st.sampled_from(["EA", "CA", "LB"])),
            "description": draw(st.none() | _text),
            "weights": draw(
                st.lists(st.builds(_weight, _amount, st.sampled_from(["G", "N"])), max_size=2)
            ),
        }
        for n in range(draw(st.integers(1, 3)))
    ]


def _weight(value: Decimal, qualifier: str) -> dict[str, Any]:
    return {"value": value, "unit": "LB", "qualifier": qualifier}


@st.composite
def ship_notices(draw: st.DrawFn) -> dict[str, Any]:
    """Generated 856 records: orders with packs (SSCCs, weights, packagings, some on a
    tare) or loose items, shipment weights and a carrier."""
    orders = []
    tares = []
    for n in range(draw(st.integers(1, 3))):
        packs = [
            {
                "sscc": draw(_sscc),
                "weight": draw(st.none() | st.builds(_weight, _amount, st.just("G"))),
                "packaging": draw(
                    st.none()
                    | st.builds(lambda q: {"code": "CTN25", "quantity": q}, st.integers(1, 99))
                ),
                "items": draw(_items()),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]
        if packs and draw(st.booleans()):
            tare = {"sscc": draw(_sscc), "po_number": f"PO-{n}"}
            tares.append(tare)
            for pack in packs[: draw(st.integers(1, len(packs)))]:
                pack["tare_sscc"] = tare["sscc"]
        orders.append(
            {
                "po_number": f"PO-{n}",
                "po_date": draw(st.none() | st.dates().map(lambda d: d.isoformat())),
                "packs": packs,
                "items": [] if packs and draw(st.booleans()) else draw(_items()),
            }
        )
    return {
        "kind": "ship_notice",
        "source": tared_notice()["source"],
        "purpose_code": "00",
        "shipment_id": draw(_text),
        "dates": {
            "transaction_creation": "2024-05-01T08:00:00",
            "shipped": draw(st.dates().map(lambda d: d.isoformat())),
        },
        "weights": draw(
            st.lists(st.builds(_weight, _amount, st.sampled_from(["G", "N"])), max_size=3)
        ),
        "carriers": [{"scac": draw(_text), "mode": "M"}],
        "orders": orders,
        "tares": tares,
    }


def _without_rec20(value: Any) -> Any:
    """``value`` without the Rec 20 units the reader derives from the units as sent."""
    if isinstance(value, dict):
        return {k: _without_rec20(v) for k, v in value.items() if not k.endswith("rec20")}
    if isinstance(value, list):
        return [_without_rec20(v) for v in value]
    return value


@given(ship_notices(), st.sampled_from(["004010", "005010"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_ship_notices_round_trip(record: dict[str, Any], version: str) -> None:
    """Any such 856 reads back as given, without a single issue: every order, tare, pack
    (SSCC, weight), item and shipment weight in its place of the record's tree."""
    data = generate_x12([record], envelope(version))
    (outcome,) = read_back(data)
    assert outcome.issues == []
    back = _without_rec20(record_from_data(outcome.data or {}).model_dump())
    given_data = _without_rec20(record_from_data(record).model_dump())
    assert back["weights"] == given_data["weights"]
    for order, given_order in zip(back["orders"], given_data["orders"], strict=True):
        assert order["po_number"] == given_order["po_number"]
        for key in ("sscc", "tare_sscc", "weight"):
            assert [p[key] for p in order["packs"]] == [p[key] for p in given_order["packs"]]
        for pack, given_pack in zip(order["packs"], given_order["packs"], strict=True):
            assert pack["items"] == given_pack["items"]
        assert order["items"] == given_order["items"]
    assert [(t["sscc"], t["po_number"]) for t in back["tares"]] == [
        (t["sscc"], t["po_number"]) for t in given_data["tares"]
    ]
    assert back["line_count"] == len(levels(data))


def test_an_unheld_quantity_after_a_held_one_is_refused() -> None:
    """An 846 writes an item's own QTYs before its N1 loops: a quantity held nowhere
    listed after a held one cannot stand there and is named."""
    record = golden("inventory_report", "846-held-at")
    quantities = record["items"][0]["quantities"]
    quantities.append(dict(quantities[0]))
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope("004010"))
    assert caught.value.fields == [f"records[0].items[0].quantities[{len(quantities) - 1}]"]


def test_a_report_without_a_date_is_dated_by_the_envelope() -> None:
    """BIA04/BIA05 of an 846 without ``report_date`` is the envelope's moment."""
    record = golden("inventory_report", "846.5010")
    record["report_date"] = None
    created = datetime(2024, 6, 1, 7, 5, tzinfo=UTC)
    (bia,) = segments(generate_x12([record], envelope(created_at=created)), "BIA")
    assert bia[4:6] == ["20240601", "0705"]
