"""X12 -> canonical record mappers, pinned on hand-written documents in tests/data/x12/mapping."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from translators.records import (
    FunctionalAck,
    Identity,
    InventoryReport,
    Invoice,
    OrderResponse,
    PurchaseOrder,
    PurchaseOrderChange,
    Record,
    ShipNotice,
    Source,
)
from translators.x12.mappers import MAPPERS, map_transaction
from translators.x12.reader import X12Reader
from translators.x12.segment import Delimiters, Segment

DATA = Path(__file__).resolve().parents[2] / "data" / "x12" / "mapping"


def transactions(data: bytes) -> list[tuple[list[Segment], Source]]:
    """Every ST..SE of ``data`` with a Source built from its ISA, GS and ST."""
    out: list[tuple[list[Segment], Source]] = []
    isa: Segment | None = None
    gs: Segment | None = None
    current: list[Segment] | None = None
    for segment in X12Reader(data):
        tag = segment.tag
        if tag == "ISA":
            isa = segment
        elif tag == "GS":
            gs = segment
        elif tag == "ST":
            current = [segment]
        elif current is not None:
            current.append(segment)
            if tag == "SE":
                assert isa is not None and gs is not None
                st = current[0]
                source = Source(
                    standard="x12",
                    version=gs[8][:6],
                    transaction_type=st[1],
                    sender=Identity(qualifier=isa[5], id=isa[6].strip()),
                    receiver=Identity(qualifier=isa[7], id=isa[8].strip()),
                    interchange_control=isa[13],
                    group_control=gs[6],
                    transaction_control=st[2],
                    implementation_ref=st[3] or None,
                    test=isa[15] == "T",
                )
                out.append((current, source))
                current = None
    return out


def record_of(name: str) -> Record:
    """The record of the single transaction in data file ``name``."""
    [(segments, source)] = transactions((DATA / name).read_bytes())
    record = map_transaction(segments, source)
    assert record is not None
    return record


def test_850_header_fields() -> None:
    """An 850 maps BEG, CUR, REF, ITD, DTM and TD5 into the purchase order header."""
    po = record_of("850-three-lines.x12")
    assert isinstance(po, PurchaseOrder)
    assert po.kind == "purchase_order"
    assert po.po_number == "PO-4711"
    assert po.order_date == "2026-11-20"
    assert (po.purpose, po.purpose_code) == ("original", "00")
    assert (po.order_type, po.order_type_code) == ("stand_alone", "SA")
    assert po.currency == "USD"
    assert po.references[0].qualifier == "DP" and po.references[0].value == "042"
    assert po.dates == {"requested_delivery": "2026-11-25", "requested_ship": "2026-11-22T14:30:00"}
    terms = po.payment_terms[0]
    assert (terms.type_code, terms.basis_date_code) == ("01", "3")
    assert (terms.discount_percent, terms.discount_days, terms.net_days) == (Decimal("2"), 10, 30)
    assert po.carrier is not None and po.carrier.scac == "UPSN" and po.carrier.mode == "M"
    assert po.source.test is True and po.source.interchange_control == "000000101"


def test_850_parties() -> None:
    """N1 loops become parties with normalised roles, ids, address and contacts."""
    po = record_of("850-three-lines.x12")
    buyer, ship_to = po.parties
    assert (buyer.role, buyer.role_code, buyer.name) == ("buyer", "BY", "ACME RETAIL")
    assert buyer.ids[0].qualifier == "92" and buyer.ids[0].value == "0042"
    assert buyer.address is not None
    assert buyer.address.lines == ["1 MAIN STREET", "SUITE 5"]
    assert (buyer.address.city, buyer.address.region) == ("SPRINGFIELD", "IL")
    assert (buyer.address.postal_code, buyer.address.country) == ("62701", "US")
    contact = buyer.contacts[0]
    assert (contact.name, contact.phone, contact.email) == (
        "JANE BUYER",
        "555-0100",
        "jane@example.com",
    )
    assert (ship_to.role, ship_to.name) == ("ship_to", "ACME DC 7")
    assert ship_to.address is not None and ship_to.address.country is None


def test_850_lines_and_totals() -> None:
    """PO1 lines carry quantities, units (as sent and Rec 20), prices, ids and descriptions."""
    po = record_of("850-three-lines.x12")
    assert isinstance(po, PurchaseOrder)
    first, second, third = po.lines
    assert first.line_number == "1"
    assert first.quantity == Decimal("8")
    assert (first.unit, first.unit_rec20) == ("EA", "EA")
    assert first.unit_price == Decimal("10.50") and first.price_basis == "PE"
    assert first.item_ids.buyer_item == "B-100"
    assert first.item_ids.vendor_item == "V-100"
    assert first.item_ids.upc == "012345678905"
    assert first.description == "RED WIDGET"
    assert (second.unit, second.unit_rec20) == ("CA", "CS")
    assert second.item_ids.ean == "4006381333931"
    assert second.dates == {"requested_delivery": "2026-12-01"}
    assert (third.unit_rec20, third.item_ids.sku) == ("LBR", "SKU-3")
    assert third.item_ids.other[0].qualifier == "ZZ"
    assert po.totals.line_count == 3
    assert po.totals.quantity_total == Decimal("22.5")
    assert po.totals.amount == Decimal("398.99")


def test_850_json_uses_decimal_strings() -> None:
    """The JSON form of a mapped record has decimal strings: "0008" is "8", "10.50" stays."""
    po = record_of("850-three-lines.x12")
    data = json.loads(po.model_dump_json())
    assert data["lines"][0]["quantity"] == "8"
    assert data["lines"][0]["unit_price"] == "10.50"
    assert data["totals"]["amount"] == "398.99"


def test_860_change_lines() -> None:
    """An 860 maps BCH and POC lines with their change types normalised."""
    change = record_of("860-change.x12")
    assert isinstance(change, PurchaseOrderChange)
    assert (change.po_number, change.purpose, change.change_sequence) == ("PO-4711", "change", "3")
    assert change.order_date == "2026-11-20" and change.change_date == "2026-11-21"
    assert change.source.version == "005010"
    statuses = [(line.line_number, line.status, line.status_code) for line in change.lines]
    assert statuses == [
        ("1", "quantity_changed", "QI"),
        ("2", "deleted", "DI"),
        ("4", "added", "AI"),
    ]
    assert change.lines[0].quantity == Decimal("16")
    assert change.lines[0].quantity_left_to_receive == Decimal("16")
    assert change.lines[2].item_ids.vendor_item == "V-400"
    assert change.lines[2].description == "GREEN WIDGET"
    assert change.totals.line_count == 3


def test_855_response_and_line_acks() -> None:
    """An 855 maps BAK into the response and each ACK into the line's acknowledgments."""
    ack = record_of("855-ack.x12")
    assert isinstance(ack, OrderResponse)
    assert (ack.response, ack.response_code) == ("accepted_with_changes", "AC")
    assert (ack.po_number, ack.order_date, ack.ack_date) == ("PO-4711", "2026-11-20", "2026-11-21")
    assert ack.seller_order_number == "SO-998"
    assert ack.dates == {"estimated_delivery": "2026-11-26"}
    first, second, third = ack.lines
    assert (first.status, first.status_code) == ("accepted", "IA")
    assert first.acknowledgments[0].dates == {"current_schedule_ship": "2026-11-24"}
    assert [a.status for a in second.acknowledgments] == ["accepted", "backordered"]
    assert second.acknowledgments[1].quantity == Decimal("2")
    assert second.acknowledgments[1].unit_rec20 == "CS"
    assert (third.status, third.status_code) == ("rejected", "IR")


def test_810_totals_use_implied_decimals() -> None:
    """TDS01-04 are N2: "12345" maps to 123.45; CTT gives line count and hash total."""
    invoice = record_of("810-invoice.x12")
    assert isinstance(invoice, Invoice)
    totals = invoice.totals
    assert totals.amount == Decimal("123.45")
    assert totals.amount_subject_to_discount == Decimal("123.45")
    assert totals.discounted_amount == Decimal("120.98")
    assert totals.terms_discount == Decimal("2.47")
    assert (totals.line_count, totals.quantity_total) == (2, Decimal("18"))
    assert json.loads(invoice.model_dump_json())["totals"]["amount"] == "123.45"


def test_810_header_lines_charges_taxes() -> None:
    """An 810 maps BIG, IT1 lines, line and header SAC (SAC05 N2) and TXI (R)."""
    invoice = record_of("810-invoice.x12")
    assert isinstance(invoice, Invoice)
    assert (invoice.invoice_number, invoice.invoice_date) == ("INV-9001", "2026-11-25")
    assert (invoice.po_number, invoice.po_date) == ("PO-4711", "2026-11-20")
    assert (invoice.invoice_type, invoice.invoice_type_code) == ("invoice", "DI")
    assert invoice.currency == "USD"
    assert [p.role for p in invoice.parties] == ["remit_to", "bill_to"]
    assert invoice.payment_terms[0].description == "2% 10 NET 30"
    assert invoice.dates == {"shipped": "2026-11-24"}
    line = invoice.lines[1]
    assert (line.quantity, line.unit_price, line.unit_rec20) == (
        Decimal("10"),
        Decimal("24.00"),
        "CS",
    )
    promo = line.allowances_charges[0]
    assert (promo.indicator, promo.code, promo.amount) == ("allowance", "C310", Decimal("5.00"))
    assert promo.description == "PROMO"
    freight = invoice.allowances_charges[0]
    assert (freight.indicator, freight.code, freight.amount) == ("charge", "D240", Decimal("15.00"))
    tax = invoice.taxes[0]
    assert (tax.type_code, tax.amount, tax.percent, tax.jurisdiction) == (
        "ST",
        Decimal("6.25"),
        Decimal("6.25"),
        "IL",
    )


def test_856_shipment_order_pack_item() -> None:
    """An S/O/P/I 856 keeps the hierarchy: one order with two packs, each with its SSCC and item."""
    asn = record_of("856-sopi.x12")
    assert isinstance(asn, ShipNotice)
    assert (asn.shipment_id, asn.structure_code, asn.purpose) == ("SHP-5001", "0001", "original")
    assert (asn.ship_date, asn.ship_time) == ("2026-11-24", "15:45:00")
    assert asn.bill_of_lading == "BOL-777"
    assert asn.carrier is not None
    assert (asn.carrier.scac, asn.carrier.tracking_number) == ("UPSN", "1Z999AA10123456784")
    assert asn.packaging is not None and asn.packaging.code == "CTN25"
    assert asn.weight is not None and (asn.weight.value, asn.weight.unit) == (Decimal("31.5"), "LB")
    assert [p.role for p in asn.parties] == ["ship_from", "ship_to"]
    [order] = asn.orders
    assert (order.po_number, order.po_date) == ("PO-4711", "2026-11-20")
    assert [pack.sscc for pack in order.packs] == [
        "00012345600000000017",
        "00012345600000000024",
    ]
    item = order.packs[0].items[0]
    assert (item.line_number, item.item_ids.buyer_item, item.item_ids.upc) == (
        "1",
        "B-100",
        "012345678905",
    )
    assert (item.quantity_shipped, item.unit, item.quantity_ordered) == (
        Decimal("8"),
        "EA",
        Decimal("8"),
    )
    assert item.description == "RED WIDGET"
    assert order.packs[1].items[0].unit_rec20 == "CS"
    assert order.items == [] and asn.line_count == 6
    assert asn.dates == {
        "transaction_creation": "2026-11-24T16:00:00",
        "shipped": "2026-11-24T15:45:00",
    }


def test_856_cross_dock_uses_parent_links() -> None:
    """A cross-dock 856 (S -> O, O; O -> P -> I; O -> I) places packs and items by HL02."""
    asn = record_of("856-crossdock.x12")
    assert isinstance(asn, ShipNotice)
    first, second = asn.orders
    assert first.po_number == "PO-100" and second.po_number == "PO-200"
    assert first.parties[0].name == "STORE 12" and second.parties[0].ids[0].value == "0034"
    assert first.packs == []
    assert [i.item_ids.upc for i in first.items] == ["036000291452"]
    [pack] = second.packs
    assert pack.sscc == "00012345600000000031"
    assert pack.items[0].quantity_shipped == Decimal("6")
    assert second.items == []


def test_856_measures_equipment_and_carriers_at_every_level() -> None:
    """Weights, volumes, dimensions and packagings stay on the HL level that sent them (TD1,
    PO4, MEA); TD3, TD4 and every TD5 reach the record; BSN03 is no ship date."""
    asn = record_of("856-measures.x12")
    assert isinstance(asn, ShipNotice)
    # BSN03/BSN04 is when the notice was made; without DTM*011 there is no ship date.
    assert (asn.ship_date, asn.ship_time) == (None, None)
    assert asn.dates == {
        "transaction_creation": "2026-11-24T16:00:00",
        "estimated_delivery": "2026-11-27",
    }
    assert [(v.value, v.unit, v.unit_rec20) for v in asn.volumes] == [
        (Decimal("96.25"), "CF", "FTQ")
    ]
    assert asn.weight is not None and asn.weight.value == Decimal("820.5")
    first, second = asn.carriers
    assert asn.carrier == first
    assert (first.scac, first.routing_sequence_code, first.status_code) == ("ABFS", "O", "CC")
    assert (first.location_qualifier, first.location) == ("PP", "CHICAGO")
    assert (first.transit_direction_code, first.transit_time_qualifier) == ("SB", "SD")
    assert first.transit_time == Decimal(3)
    assert (first.service_level, first.service_levels) == ("SE", ["SE", "G2"])
    assert first.tracking_number == "PRO-55501"
    assert (second.scac, second.mode, second.routing_sequence_code) == ("UPSN", "U", "1")
    assert (asn.pro_number, asn.bill_of_lading) == ("PRO-55501", "BOL-9001")
    [equipment] = asn.equipment
    assert (equipment.type_code, equipment.initial, equipment.number) == (
        "TL", "ABFU", "778899"
    )
    assert equipment.ownership_code == "C"
    assert equipment.weight is not None and equipment.weight.value == Decimal(9100)
    assert [(s.number, s.status_code) for s in equipment.seals] == [("SEAL-4411", "EC")]
    [handling] = asn.special_handling
    assert (handling.code, handling.description) == ("FRZ", "KEEP FROZEN")

    [order] = asn.orders
    assert [(w.qualifier, w.value) for w in order.weights] == [("N", Decimal(790))]
    [tare] = asn.tares
    assert tare.sscc == "000123456000000901"
    assert tare.packaging is not None and tare.packaging.code == "PLT94"
    assert tare.weight is not None and tare.weight.value == Decimal("410.25")
    assert [(v.value, v.unit) for v in tare.volumes] == [(Decimal(48), "CF")]
    assert tare.dimensions is not None
    assert (tare.dimensions.length, tare.dimensions.width, tare.dimensions.height) == (
        Decimal(48), Decimal(40), Decimal(50)
    )
    assert tare.dimensions.unit_rec20 == "INH"

    [pack] = order.packs
    assert (pack.sscc, pack.tare_sscc) == ("000123456000000918", "000123456000000901")
    assert [m.value for m in pack.marks] == ["000123456000000918", "000123456000000925"]
    # PO4 in a pack HL: the gross weight per pack; MEA adds the net weight.
    assert [(w.qualifier, w.value, w.unit_rec20) for w in pack.weights] == [
        ("G", Decimal("19.75"), "LBR"),
        ("N", Decimal(18), "LBR"),
    ]
    assert pack.weight == pack.weights[0]
    assert pack.packaging is not None
    assert (pack.packaging.code, pack.packaging.pack, pack.packaging.pack_size) == (
        "CTN25", Decimal(12), Decimal("1.5")
    )
    assert pack.dimensions is not None
    assert (pack.dimensions.length, pack.dimensions.width, pack.dimensions.height) == (
        Decimal(16), Decimal(12), None
    )
    [other] = pack.measurements
    assert (other.reference, other.qualifier, other.value) == ("PD", "ZZ", Decimal("2.5"))
    assert [p.role_code for p in pack.parties] == ["Z7"]

    [item] = pack.items
    assert (item.quantity_shipped, item.quantity_shipped_to_date) == (Decimal(12), Decimal(48))
    assert (item.quantity_ordered, item.quantity_ordered_unit_rec20) == (Decimal(24), "EA")
    assert item.status_code == "IS"
    assert (item.description, item.notes) == ("GREEN WIDGET", ["SPARE PARTS BAG"])
    assert item.packaging is not None and item.packaging.code == "BOX"
    assert (item.pack, item.pack_size, item.pack_size_unit) == (Decimal(6), Decimal(250), "GR")
    assert [(s.line_number, s.quantity, s.unit_rec20) for s in item.sub_lines] == [
        ("1", Decimal(8), "EA"),
        ("2", Decimal(4), "EA"),
    ]
    assert item.sub_lines[1].unit_price == Decimal("1.25")
    assert item.sub_lines[1].item_ids.upc == "012345678912"
    [load] = item.loads
    assert (load.loads, load.units_shipped, load.packaging_code) == (Decimal(2), Decimal(6), "BOX")
    assert item.dates == {"expiration": "2028-01-31"}
    assert [(r.qualifier, r.value) for r in item.references] == [("LT", "LOT-77")]
    # Only what has no field is listed: PID01 (F, free-form description) twice.
    assert [(u.element, u.value) for u in asn.unmapped] == [("PID01", "F"), ("PID01", "F")]


def test_846_inventory_quantities() -> None:
    """An 846 maps BIA and each LIN with its typed QTY quantities and their dates."""
    report = record_of("846-inventory.x12")
    assert isinstance(report, InventoryReport)
    assert (report.report_type, report.report_id) == ("DD", "INV-RPT-1")
    assert report.report_date == "2026-11-20T06:00:00"
    assert report.parties[0].role == "supplier"
    first, second = report.items
    assert first.item_ids.vendor_item == "V-100" and first.description == "RED WIDGET"
    kinds = [(q.qualifier, q.type, q.quantity) for q in first.quantities]
    assert kinds == [("33", "available", Decimal("150")), ("17", "on_hand", Decimal("175"))]
    assert first.quantities[1].dates == {"available": "2026-12-01"}
    assert second.quantities[0].unit_rec20 == "CS" and second.quantities[0].quantity == 0
    assert report.line_count == 2


def test_997_errors() -> None:
    """A 997 maps AK1/AK2/AK3/AK4/AK5/AK9, one error per element error with its segment."""
    ack = record_of("997-errors.x12")
    assert isinstance(ack, FunctionalAck)
    [group] = ack.acknowledged_groups
    assert (group.functional_id, group.group_control) == ("PO", "101")
    assert (group.status, group.status_code) == ("partially_accepted", "P")
    assert (group.transactions_included, group.transactions_received) == (2, 2)
    assert group.transactions_accepted == 1
    rejected, accepted = group.transactions
    assert (rejected.set_id, rejected.control_number) == ("850", "0001")
    assert (rejected.status, rejected.codes) == ("rejected", ["5"])
    assert len(rejected.errors) == 3
    first, second, ref = rejected.errors
    assert (first.segment_tag, first.segment_position, first.code) == ("PO1", 17, "8")
    assert (first.element_position, first.code_element, first.bad_value) == (2, "7", "0008X")
    assert (second.element_position, second.data_element) == (3, "355")
    assert (ref.segment_tag, ref.code, ref.element_position) == ("REF", "3", None)
    assert (accepted.status, accepted.errors) == ("accepted", [])


def test_999_errors() -> None:
    """A 999 maps IK3/IK4 (component position included) and IK5, skipping CTX."""
    ack = record_of("999-errors.x12")
    assert isinstance(ack, FunctionalAck)
    assert ack.source.implementation_ref == "005010X231A1"
    [group] = ack.acknowledged_groups
    assert (group.version, group.status) == ("005010", "rejected")
    [tx] = group.transactions
    [error] = tx.errors
    assert (error.segment_tag, error.segment_position, error.code) == ("POC", 4, "8")
    assert (error.element_position, error.component_position) == (3, 1)
    assert (error.data_element, error.code_element, error.bad_value) == ("380", "6", "ABC")


def test_every_data_file_maps_to_its_kind() -> None:
    """Every mapping data file maps through map_transaction to the kind its set id names."""
    expected = {
        "850": "purchase_order",
        "860": "purchase_order_change",
        "855": "order_response",
        "810": "invoice",
        "856": "ship_notice",
        "846": "inventory_report",
        "852": "product_activity",
        "997": "functional_ack",
        "999": "functional_ack",
    }
    for path in sorted(DATA.glob("*.x12")):
        for segments, source in transactions(path.read_bytes()):
            record = map_transaction(segments, source)
            assert record is not None, path.name
            assert record.kind == expected[source.transaction_type], path.name


def _segments(text: str) -> list[Segment]:
    delimiters = Delimiters()
    return [
        Segment(raw.split("*"), offset=0, index=i, delimiters=delimiters)
        for i, raw in enumerate(text.split("~"), start=1)
        if raw
    ]


def _source(set_id: str) -> Source:
    return Source(
        standard="x12",
        version="004010",
        transaction_type=set_id,
        sender=Identity(id="A"),
        receiver=Identity(id="B"),
        interchange_control="1",
        transaction_control="1",
    )


def test_unsupported_set_maps_to_none() -> None:
    """map_transaction returns None for a transaction set without a mapper."""
    assert map_transaction(_segments("ST*940*1~W05*N*1~SE*3*1~"), _source("940")) is None


@pytest.mark.parametrize("set_id", sorted(MAPPERS))
def test_mappers_survive_odd_input(set_id: str) -> None:
    """Mappers carry on over empty elements, junk numbers and dates, and missing segments."""
    body = (
        f"ST*{set_id}*1~BEG*00**~BIG*2026XXXX*~BSN**~BIA~BAK*~BCH~AK1~AK2~AK3~AK4*x:y:z~"
        "IK3~IK4~AK5~IK5*Q~AK9*A*x~HL*1*9*I~HL*2**O~HL*3*3*P~LIN~SN1**ABC*EA~MAN*GM~"
        "PO1*1*1.2.3*EA*NaN~POC~ACK*IA*x*EA*002*20261399~IT1**Infinity~PID~SAC*A**"
        "**junk~TXI~ITD*01*3*x**y~DTM*002*991301~DTM*002**2561~DTM*063****RD8*20260101-~"
        "N1~N3~N4~PER*IC**TE~REF~TDS*x~CTT*q*r~AMT*TT*z~QTY*33*~TD1*CTN*x~SE*1*1~"
    )
    record = map_transaction(_segments(body), _source(set_id))
    assert record is not None
    json.loads(record.model_dump_json())


def test_empty_transaction_maps() -> None:
    """A transaction with only ST and SE still maps to an empty record of the right kind."""
    for set_id in MAPPERS:
        record = map_transaction(_segments(f"ST*{set_id}*1~SE*2*1~"), _source(set_id))
        assert record is not None
