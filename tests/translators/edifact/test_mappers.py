"""EDIFACT -> canonical record mappers, pinned on small hand-written messages.

Each test writes the segments of one message (UNH..UNT, with a UNA declaring the decimal
mark) and checks the record fields one family at a time: header, parties, dates, lines,
prices, units, allowances, taxes, terms, totals, packing hierarchy.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.envelope import Message, walk
from translators.edifact.mappers import MAPPERS, map_message
from translators.edifact.mappers.dates import iso_value
from translators.edifact.mappers.values import to_decimal
from translators.edifact.reader import EDIFACTReader
from translators.edifact.segment import Segment
from translators.records import (
    Identity,
    Invoice,
    OrderResponse,
    PurchaseOrder,
    PurchaseOrderChange,
    Record,
    ShipNotice,
    Source,
)


def source(message_type: str) -> Source:
    return Source(
        standard="edifact",
        version="D96A",
        transaction_type=message_type,
        sender=Identity(qualifier="14", id="SENDER"),
        receiver=Identity(qualifier="14", id="RECEIVER"),
        interchange_control="1",
        transaction_control="1",
    )


def segments(message_type: str, body: str, mark: str = ".") -> list[Segment]:
    """The segments (UNH..UNT) of a message whose body is ``body`` (one segment a line)."""
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    data = (
        f"UNA:+{mark}? '\nUNB+UNOC:3+SENDER:14+RECEIVER:14+261120:1430+1'\n"
        f"UNH+1+{message_type}:D:96A:UN'\n"
        + "\n".join(lines)
        + f"\nUNT+{len(lines) + 2}+1'\nUNZ+1+1'\n"
    )
    [message] = [e for e in walk(EDIFACTReader(data.encode("latin-1"))) if isinstance(e, Message)]
    return message.segments


def mapped(message_type: str, body: str, mark: str = ".") -> Record:
    record = map_message(
        segments(message_type, body, mark), source(message_type), decimal_mark=mark
    )
    assert record is not None
    return record


def order(body: str, mark: str = ".") -> PurchaseOrder:
    record = mapped("ORDERS", body, mark)
    assert isinstance(record, PurchaseOrder)
    return record


def invoice(body: str, mark: str = ".") -> Invoice:
    record = mapped("INVOIC", body, mark)
    assert isinstance(record, Invoice)
    return record


def advice(body: str) -> ShipNotice:
    record = mapped("DESADV", body)
    assert isinstance(record, ShipNotice)
    return record


# --- registry -----------------------------------------------------------------------------


def test_registry_lists_the_mapped_message_types() -> None:
    """The registry maps the seven supply-chain message types and the two acknowledgments."""
    assert set(MAPPERS) == {"ORDERS", "ORDCHG", "ORDRSP", "INVOIC", "DESADV", "DELFOR",
                            "DELJIT", "INVRPT", "SLSRPT", "CONTRL", "APERAK"}


def test_message_type_comes_from_unh() -> None:
    """map_message takes the type from UNH S009.0065, whatever the source says."""
    segs = segments("INVOIC", "BGM+380+INV-1+9'")
    record = map_message(segs, source("ORDERS"))
    assert isinstance(record, Invoice)
    assert record.invoice_number == "INV-1"


def test_message_type_falls_back_to_source_without_unh() -> None:
    """Without a leading UNH the source's transaction type chooses the mapper."""
    segs = segments("ORDERS", "BGM+220+PO-1+9'")[1:-1]
    record = map_message(segs, source("ORDERS"))
    assert isinstance(record, PurchaseOrder)
    assert record.po_number == "PO-1"


def test_unmapped_message_type_gives_none() -> None:
    """A message type without a mapper (PRICAT) maps to None rather than raising."""
    assert map_message(segments("PRICAT", "BGM+9+P1'"), source("PRICAT")) is None
    assert map_message([], source("IFTMIN")) is None


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mark", "expected"),
    [
        ("10.50", ".", Decimal("10.50")),
        ("10,50", ",", Decimal("10.50")),
        ("-3", ".", Decimal("-3")),
        ("0012", ".", Decimal("12")),
        (".5", ".", Decimal("0.5")),
        ("10,50", ".", Decimal("10.50")),  # ISO 9735: either mark, whatever the UNA says
        ("10.50", ",", Decimal("10.50")),
        ("1.234,5", ",", None),  # a triad separator: invalid decimal notation
        ("1E3", ".", None),
        ("+5", ".", None),
        ("1.2.3", ".", None),
        ("", ".", None),
        ("NaN", ".", None),
    ],
)
def test_numbers_are_read_with_either_mark(
    text: str, mark: str, expected: Decimal | None
) -> None:
    """Numeric values are read with a comma or a full stop as decimal mark, whichever the
    UNA declares (ISO 9735); anything else is None."""
    assert to_decimal(text, mark) == expected


_ISO_9735_NUMBER = re.compile(r"-?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)")
_NUMBER_CHARS = st.sampled_from("0123456789.,-+ eE_\u0660\u00b2")


@settings(max_examples=3000, deadline=None)
@given(text=st.text(_NUMBER_CHARS, max_size=8) | st.text(max_size=6), mark=st.sampled_from(".,"))
def test_number_reading_is_the_iso_9735_pattern(text: str, mark: str) -> None:
    """``to_decimal`` tests ISO 9735's numeric form without a regex; it accepts exactly
    what the pattern ``_ISO_9735_NUMBER`` (optional minus, digits, at most one decimal
    mark, comma or full stop, some digit) accepts, after surrounding spaces, whatever the
    declared mark."""
    value = text.strip()
    expected = (Decimal(value.replace(",", ".")) if value and _ISO_9735_NUMBER.fullmatch(value)
                else None)
    assert to_decimal(text, mark) == expected


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("20261125", "102", "2026-11-25"),
        ("261125", "101", "2026-11-25"),
        ("202611251430", "203", "2026-11-25T14:30:00"),
        ("20261125143015", "204", "2026-11-25T14:30:15"),
        ("20261125-20261130", "718", "2026-11-25/2026-11-30"),
        ("202611250800-202611251700", "719", "2026-11-25T08:00:00/2026-11-25T17:00:00"),
        ("202648", "616", "2026-W48"),
        ("202611", "610", "2026-11"),
        ("20261125", "", "2026-11-25"),  # no 2379: inferred from the length
        ("202611251430", "", "2026-11-25T14:30:00"),
        ("20261332", "102", None),
        ("2026112", "102", None),
        ("20261125", "999", None),
        ("202660", "616", None),
    ],
)
def test_dates_follow_their_2379_format(text: str, fmt: str, expected: str | None) -> None:
    """DTM values become ISO 8601 text per 2379; unreadable ones become None."""
    assert iso_value(text, fmt) == expected


# --- orders --------------------------------------------------------------------------------


def test_orders_header() -> None:
    """BGM, DTM 137, RFF CT, CUX and the header dates fill the purchase order header."""
    po = order(
        """
        BGM+221+PO-9+5'
        DTM+137:20261120:102'
        DTM+2:20261125:102'
        DTM+64:20261124:102'
        DTM+63:202611271800:203'
        DTM+999:20261101:102'
        RFF+CT:K-1'
        RFF+DQ:DN-1'
        CUX+2:USD:9'
        """
    )
    assert (po.po_number, po.order_date, po.contract_number) == ("PO-9", "2026-11-20", "K-1")
    assert (po.order_type, po.order_type_code) == ("blanket", "221")
    assert (po.purpose, po.purpose_code) == ("replace", "5")
    assert po.currency == "USD"
    assert po.dates == {
        "requested_delivery": "2026-11-25",
        "delivery_not_before": "2026-11-24",
        "delivery_not_after": "2026-11-27T18:00:00",
        "dtm_999": "2026-11-01",
    }
    assert [(r.qualifier, r.value) for r in po.references] == [("DQ", "DN-1")]


def test_parties_roles_addresses_and_contacts() -> None:
    """NAD roles normalise as X12's do; address, contacts and party references are kept."""
    po = order(
        """
        BGM+220+PO-1+9'
        NAD+BY+5412345000013::9++BUYER:GMBH+MARKT 1:HOF 2+BERLIN+BE+10115+DE'
        RFF+VA:DE123'
        DTM+171:20260101:102'
        CTA+OC+PD1:ANNA'
        COM+0049301234:TE'
        COM+0049305678:FX'
        COM+anna@example.com:EM'
        NAD+DP+5412345000020::9'
        NAD+IV+5412345000037::9+LINE ONE:LINE TWO'
        NAD+PE+5412345000044::9'
        NAD+SF+5412345000051::9'
        NAD+ZZZ+X1'
        """
    )
    roles = [(p.role, p.role_code) for p in po.parties]
    assert roles == [
        ("buyer", "BY"),
        ("ship_to", "DP"),
        ("bill_to", "IV"),
        ("payee", "PE"),
        ("ship_from", "SF"),
        ("other", "ZZZ"),
    ]
    buyer = po.parties[0]
    assert (buyer.name, buyer.additional_names) == ("BUYER", ["GMBH"])
    assert buyer.ids[0].qualifier == "9" and buyer.ids[0].value == "5412345000013"
    assert buyer.ids[0].scheme == "gln"
    assert buyer.address is not None
    assert buyer.address.lines == ["MARKT 1", "HOF 2"]
    assert (buyer.address.city, buyer.address.region) == ("BERLIN", "BE")
    assert (buyer.address.postal_code, buyer.address.country) == ("10115", "DE")
    assert [(r.qualifier, r.value) for r in buyer.references] == [("VA", "DE123")]
    [contact] = buyer.contacts
    assert (contact.function, contact.name) == ("OC", "ANNA")
    assert (contact.phone, contact.fax, contact.email) == (
        "0049301234",
        "0049305678",
        "anna@example.com",
    )
    assert po.parties[1].address is None
    # C058 without C080: its first line names the party, the others are address lines.
    assert po.parties[2].name == "LINE ONE"
    assert po.parties[2].address is not None
    assert po.parties[2].address.lines == ["LINE TWO"]
    assert po.dates == {}  # the DTM dated the party's reference


def test_order_lines_ids_quantities_units_prices() -> None:
    """LIN/PIA ids land in the X12 ItemIds fields, QTY 21 with its Rec 20 unit, PRI AAA."""
    po = order(
        """
        BGM+220+PO-1+9'
        LIN+1++4000862141404:EN'
        PIA+1+B-1:BP+S-1:SA+M-1:MF+XX-1:ZZZ'
        PIA+1+4000862141411:EN'
        IMD+F++:::BLUE:WIDGET'
        IMD+F++:::IGNORED'
        QTY+21:12:KGM'
        QTY+59:6'
        DTM+2:20261201:102'
        FTX+AAA+++NOTE ONE'
        PRI+AAB:12.00'
        DTM+194:20260101:102'
        PRI+AAA:10.00:CT::1:KGM'
        RFF+LI:7'
        DTM+171:20260101:102'
        LIN+2'
        QTY+1:3'
        """
    )
    first, second = po.lines
    ids = first.item_ids
    assert (ids.ean, ids.buyer_item, ids.vendor_item, ids.manufacturer_part) == (
        "4000862141404",
        "B-1",
        "S-1",
        "M-1",
    )
    assert [(o.qualifier, o.value) for o in ids.other] == [
        ("ZZZ", "XX-1"),
        ("EN", "4000862141411"),
    ]
    assert first.description == "BLUE WIDGET"
    assert (first.quantity, first.unit, first.unit_rec20) == (Decimal(12), "KGM", "KGM")
    assert first.pack == Decimal(6)
    assert first.dates == {"requested_delivery": "2026-12-01"}
    assert first.notes == ["NOTE ONE"]
    assert (first.unit_price, first.price_basis) == (Decimal("10.00"), "CT")
    # The net price keeps its basis quantity and unit; the gross price stands beside it.
    net, gross = first.net_price, first.gross_price
    assert net is not None and gross is not None
    # Their 5125 qualifiers (AAA, AAB) are carried by the fields they are in.
    assert (net.type, net.type_code, net.unit_price, net.quantity, net.unit) == (
        "net",
        None,
        Decimal("10.00"),
        Decimal(1),
        "KGM",
    )
    assert (gross.type, gross.type_code, gross.unit_price) == ("gross", None, Decimal("12.00"))
    assert first.prices == []
    # QTY 59 is the pack and, like every QTY but the line's own, one of its quantities.
    assert [(q.type, q.qualifier, q.quantity) for q in first.quantities] == [
        ("units_per_pack", "59", Decimal(6))
    ]
    assert [(r.qualifier, r.value) for r in first.references] == [("LI", "7")]
    assert second.quantity == Decimal(3)  # QTY 1 when there is no QTY 21
    assert second.unit is None and second.unit_rec20 is None


def test_only_a_gross_price_is_the_unit_price() -> None:
    """Without a net (AAA) price the first PRI is the unit price and stays in prices."""
    po = order("BGM+220+PO-1+9'\nLIN+1'\nPRI+INV:6.5'")
    [line] = po.lines
    assert line.unit_price == Decimal("6.5")
    assert line.net_price is None and line.gross_price is None
    assert [(p.type, p.type_code, p.per_unit_price) for p in line.prices] == [
        ("other", "INV", Decimal("6.5"))
    ]


def test_decimal_comma_is_read_everywhere() -> None:
    """With UNA declaring a decimal comma, QTY, PRI, MOA, PCD and CNT are read with it."""
    po = order(
        """
        BGM+220+PO-1+9'
        PAT+1++5:3:D:30'
        PCD+12:2,5'
        ALC+A++++DI'
        PCD+1:3,25'
        MOA+204:10,40'
        LIN+1'
        QTY+21:2,5:KGM'
        PRI+AAA:3,99'
        UNS+S'
        MOA+86:9,98'
        CNT+1:2,5'
        """,
        mark=",",
    )
    assert po.payment_terms[0].discount_percent == Decimal("2.5")
    alc = po.allowances_charges[0]
    assert (alc.percent, alc.amount) == (Decimal("3.25"), Decimal("10.40"))
    assert po.lines[0].quantity == Decimal("2.5")
    assert po.lines[0].unit_price == Decimal("3.99")
    assert po.totals.amount == Decimal("9.98")
    assert po.totals.quantity_total == Decimal("2.5")


def test_decimal_point_under_a_declared_comma_is_a_decimal_mark() -> None:
    """ISO 9735 allows either mark whatever the UNA declares and has no triad separators:
    1.000 under a declared comma is one, with three places (as the validator reads it)."""
    po = order("BGM+220+PO-1+9'\nLIN+1'\nQTY+21:1.000'", mark=",")
    assert po.lines[0].quantity == Decimal("1.000")


def test_release_characters_in_free_text() -> None:
    """Released service characters arrive as plain text in notes, names and ids."""
    po = order(
        """
        BGM+220+PO?+1+9'
        FTX+AAI+++50?% OFF?: TODAY?'S ?+ TOMORROW??'
        NAD+BY+++O?'HARA?:SONS'
        """
    )
    assert po.po_number == "PO+1"
    assert po.notes == ["50% OFF: TODAY'S + TOMORROW?"]
    assert po.parties[0].name == "O'HARA:SONS"


def test_missing_optional_segments_leave_fields_empty() -> None:
    """A message with only its BGM maps to a record with every optional field empty."""
    po = order("BGM+220'")
    assert po.po_number is None and po.order_date is None and po.purpose is None
    assert po.lines == [] and po.parties == [] and po.payment_terms == []
    assert po.totals.amount is None and po.carrier is None and po.currency is None


def test_odd_but_valid_input_does_not_raise() -> None:
    """Unknown segments, header QTYs, empty elements and stray groups are skipped."""
    po = order(
        """
        BGM+++'
        QTY+21:5'
        DTM+137'
        DTM+2:notadate:102'
        ZZZ+1+2'
        PCD+1:5'
        MOA+86:1'
        LIN'
        PIA+1'
        QTY+21:abc'
        PRI+AAA'
        TAX'
        ALC'
        UNS+S'
        CNT+2:1.5'
        """
    )
    assert po.totals.amount is None  # MOA outside the summary
    assert po.totals.line_count is None  # not a whole number
    assert po.lines[0].quantity is None and po.lines[0].unit_price is None


def test_allowances_taxes_terms_carrier() -> None:
    """ALC with PCD/MOA/RTE/QTY, TAX with MOA, PAT with DTM/PCD/MOA, TDT, TOD."""
    po = order(
        """
        BGM+220+PO-1+9'
        PAT+22++5:3:D:10'
        DTM+12:20261210:102'
        PCD+12:2'
        MOA+52:4.00'
        PAT+1+NET 30::::30 DAYS NET+5:3:D:30'
        DTM+13:20261230:102'
        TDT+20++30++DHL::182:DHL FREIGHT'
        LOC+9+DEHAM'
        TOD+6+PP+FOB'
        LOC+1+NLRTM'
        ALC+C+1:FC+2++FC::9:FREIGHT'
        QTY+1:2:PCE'
        RTE+1:5.50'
        MOA+25:100'
        MOA+23:11.00'
        TAX+7+VAT+++:::19+S'
        MOA+124:2.09'
        LIN+1'
        TAX+7+VAT+++:::7+S+DE123'
        MOA+125:10'
        MOA+124:0.70'
        """
    )
    discount, net = po.payment_terms
    assert (discount.type_code, discount.basis_date_code) == ("22", "5")
    assert (discount.discount_days, discount.net_days) == (10, None)
    assert discount.discount_due_date == "2026-12-10"
    assert (discount.discount_percent, discount.discount_amount) == (Decimal(2), Decimal(4))
    assert (net.net_days, net.net_due_date, net.description) == (30, "2026-12-30", "30 DAYS NET")
    assert po.carrier is not None
    assert (po.carrier.scac, po.carrier.id_code, po.carrier.id_qualifier) == ("DHL", "DHL", "182")
    assert (po.carrier.mode, po.carrier.name) == ("30", "DHL FREIGHT")
    assert po.fob is not None
    assert (po.fob.payment_method_code, po.fob.terms_code) == ("PP", "FOB")
    [alc] = po.allowances_charges
    assert (alc.indicator, alc.indicator_code, alc.code, alc.description) == (
        "charge",
        "C",
        "FC",
        "FREIGHT",
    )
    assert (alc.amount, alc.rate, alc.quantity, alc.unit, alc.method_code) == (
        Decimal("11.00"),
        Decimal("5.50"),
        Decimal(2),
        "PCE",
        "2",
    )
    # The ALC's own TAX-MOA has no place in an allowance and is not a header tax either.
    assert po.taxes == []
    [tax] = po.lines[0].taxes
    assert (tax.type_code, tax.percent, tax.amount, tax.tax_id) == (
        "VAT",
        Decimal(7),
        Decimal("0.70"),
        "DE123",
    )


def test_schedules_and_destinations() -> None:
    """SCC-QTY-DTM become schedules; LOC-QTY become destination quantities."""
    po = order(
        """
        BGM+220+PO-1+9'
        LIN+1'
        QTY+21:30:PCE'
        LOC+7+STORE12::92'
        QTY+11:10:PCE'
        LOC+7+STORE34::92'
        QTY+11:20:PCE'
        SCC+1'
        QTY+21:10:PCE'
        DTM+2:20261201:102'
        QTY+21:20:PCE'
        DTM+2:20261215:102'
        """
    )
    [line] = po.lines
    assert line.quantity == Decimal(30)
    assert [(d.location_qualifier, d.location, d.quantity, d.unit) for d in line.destinations] == [
        ("92", "STORE12", Decimal(10), "PCE"),
        ("92", "STORE34", Decimal(20), "PCE"),
    ]
    # PCE (EANCOM's piece) is not a Rec 20 code: kept as sent, no Rec 20 code.
    assert [(s.quantity, s.unit, s.unit_rec20, s.dates) for s in line.schedules] == [
        (Decimal(10), "PCE", None, {"requested_delivery": "2026-12-01"}),
        (Decimal(20), "PCE", None, {"requested_delivery": "2026-12-15"}),
    ]


def test_order_totals() -> None:
    """The summary MOA 86 (else 128, 79) is the order total; CNT 1 and 2 the counts."""
    po = order("BGM+220+PO-1+9'\nUNS+S'\nMOA+79:90'\nMOA+86:100'\nMOA+128:95'\nCNT+2:4'")
    assert po.totals.amount == Decimal(100)
    assert po.totals.line_count == 4


# --- order change and response -----------------------------------------------------------


def test_order_change() -> None:
    """ORDCHG: RFF ON is the PO, DTM 171 its date, BGM 1004 the change, LIN 1229 the action."""
    record = mapped(
        "ORDCHG",
        """
        BGM+230+CHG-2+4'
        DTM+137:20261122:102'
        RFF+ON:PO-1'
        DTM+171:20261120:102'
        LIN+1+3++'
        QTY+21:10:PCE'
        LIN+2+2'
        LIN+3+1'
        LIN+4+99'
        """,
    )
    assert isinstance(record, PurchaseOrderChange)
    assert (record.po_number, record.order_date) == ("PO-1", "2026-11-20")
    assert (record.change_sequence, record.change_date) == ("CHG-2", "2026-11-22")
    assert (record.purpose, record.purpose_code) == ("change", "4")
    assert record.references == []
    assert [(line.status, line.status_code) for line in record.lines] == [
        ("changed", "3"),
        ("deleted", "2"),
        ("added", "1"),
        ("other", "99"),
    ]


def test_order_change_without_order_reference() -> None:
    """Without RFF ON the BGM number is the PO number and there is no change sequence."""
    record = mapped("ORDCHG", "BGM+230+PO-7+4'")
    assert isinstance(record, PurchaseOrderChange)
    assert (record.po_number, record.change_sequence) == ("PO-7", None)


def test_order_response_from_function_code_alone() -> None:
    """ORDRSP with 1225 29 and no 4343: the response is 'accepted', no purpose is invented."""
    record = mapped(
        "ORDRSP",
        """
        BGM+231+RSP-1+29'
        RFF+VN:SO-1'
        LIN+1+7'
        QTY+21:5:PCE'
        LIN+2'
        """,
    )
    assert isinstance(record, OrderResponse)
    assert (record.response, record.response_code) == ("accepted", "29")
    assert record.purpose is None
    assert record.seller_order_number == "SO-1"
    rejected, plain = record.lines
    assert rejected.status == "rejected"
    assert rejected.acknowledgments[0].quantity is None
    assert plain.status is None and plain.acknowledgments == []


# --- invoice ---------------------------------------------------------------------------------


def test_invoice_header_lines_and_totals() -> None:
    """INVOIC: BGM, DTM 137, RFF ON/171, QTY 47, MOA totals by 5025, summary TAX and ALC."""
    inv = invoice(
        """
        BGM+381+CN-1+9'
        DTM+137:20261130:102'
        DTM+3:20261129:102'
        RFF+ON:PO-1'
        DTM+171:20261120:102'
        RFF+AAK:DN-1'
        CUX+2:EUR:4'
        LIN+1++4000862141404:EN'
        QTY+12:9:PCE'
        QTY+47:8:PCE'
        MOA+203:80'
        PRI+AAA:10'
        UNS+S'
        CNT+2:1'
        MOA+86:99'
        MOA+77:95.20'
        MOA+129:80'
        MOA+52:1.60'
        MOA+176:15.20'
        TAX+7+VAT+++:::19+S'
        MOA+125:80'
        MOA+124:15.20'
        ALC+A++++DI'
        MOA+8:5'
        """
    )
    assert (inv.invoice_type, inv.invoice_type_code) == ("credit_note", "381")
    assert (inv.invoice_number, inv.purpose_code) == ("CN-1", "9")
    assert (inv.invoice_date, inv.po_number, inv.po_date) == ("2026-11-30", "PO-1", "2026-11-20")
    assert inv.dates == {"invoice": "2026-11-29"}
    assert [(r.qualifier, r.value) for r in inv.references] == [("AAK", "DN-1")]
    assert inv.currency == "EUR"
    [line] = inv.lines
    assert (line.quantity, line.unit, line.unit_price) == (Decimal(8), "PCE", Decimal(10))
    totals = inv.totals
    assert totals.amount == Decimal("95.20")  # 77 wins over 86
    assert totals.amount_subject_to_discount == Decimal(80)
    assert totals.terms_discount == Decimal("1.60")
    assert totals.line_count == 1
    [tax] = inv.taxes
    assert (tax.type_code, tax.percent, tax.amount) == ("VAT", Decimal(19), Decimal("15.20"))
    [alc] = inv.allowances_charges
    assert (alc.indicator, alc.amount) == ("allowance", Decimal(5))


# --- despatch advice ------------------------------------------------------------------------


def test_despatch_advice_hierarchy_from_parent_ids() -> None:
    """CPS parents, not segment order, build shipment -> tare -> packs -> items."""
    notice = advice(
        """
        BGM+351+DES-1+9'
        DTM+137:20261124:102'
        RFF+ON:PO-1'
        CPS+1'
        PAC+3++CT'
        MEA+WT+AAD+KGM:40'
        CPS+3+2'
        PAC+1++CT'
        GIN+BJ+354123450000000021'
        LIN+2++4000862141411:EN'
        QTY+12:4:PCE'
        CPS+2+1'
        PAC+1++201'
        PCI+33E+MARK A:MARK B'
        GIN+BJ+354123450000000014'
        CPS+4+2'
        GIN+BJ+354123450000000038+354123450000000045'
        LIN+1++4000862141404:EN'
        QTY+12:6:PCE'
        QTY+21:8:PCE'
        DTM+36:20271231:102'
        RFF+LI:10'
        DTM+171:20261120:102'
        PCI+36E'
        QTY+12:999'
        CNT+2:2'
        """
    )
    # DTM 137 is when the message was made: no ship date without DTM 11.
    assert (notice.ship_date, notice.ship_time) == (None, None)
    assert notice.dates == {"transaction_creation": "2026-11-24"}
    assert notice.packaging is not None and notice.packaging.quantity == Decimal(3)
    assert notice.weight is not None
    assert (notice.weight.value, notice.weight.unit, notice.weight.qualifier) == (
        Decimal(40),
        "KGM",
        "AAD",
    )
    [tare] = notice.tares
    assert (tare.sscc, tare.po_number) == ("354123450000000014", "PO-1")
    assert [(m.qualifier, m.value) for m in tare.marks] == [
        ("33E", "MARK A"),
        ("33E", "MARK B"),
        ("BJ", "354123450000000014"),
    ]
    [ship_order] = notice.orders
    assert ship_order.po_number == "PO-1"
    first, second = ship_order.packs
    assert (first.sscc, first.tare_sscc) == ("354123450000000021", "354123450000000014")
    assert second.sscc == "354123450000000038"
    assert [m.value for m in second.marks] == ["354123450000000038", "354123450000000045"]
    [item] = second.items
    assert (item.quantity_shipped, item.quantity_ordered, item.unit, item.unit_rec20) == (
        Decimal(6),
        Decimal(8),
        "PCE",
        None,  # PCE is not a Rec 20 code
    )
    assert item.dates == {"expiration": "2027-12-31", "reference": "2026-11-20"}
    assert [(r.qualifier, r.value) for r in item.references] == [("LI", "10")]
    # The item's own PCI group keeps its quantity apart from the item's quantities.
    [identification] = item.identifications
    assert (identification.marking_code, identification.quantity_qualifier) == ("36E", "12")
    assert identification.quantity == Decimal(999)
    assert notice.line_count == 2


def test_despatch_advice_keeps_measures_equipment_and_quantities() -> None:
    """TDT with its LOC, EQD with SEL and MEA, MEA weights, volumes and dimensions at every
    CPS level, QTY 46 and other quantities, and an item's batch (PCI, GIN, DTM) all map."""
    notice = advice(
        """
        BGM+351+DES-9+9'
        DTM+137:202611241600:203'
        DTM+11:20261124:102'
        DTM+132:20261127:102'
        RFF+CN:PRO-55501'
        MEA+AAE+AAW+MTQ:2.75'
        TDT+20+V-1+30+31+ABFS::182+++TRK-9'
        LOC+11+CHICAGO::ZZZ:CHICAGO DEPOT'
        DTM+133:20261125:102'
        TDT+30++30++UPSN::182'
        EQD+TE+ABFU778899+45G1+2'
        MEA+WT+T+KGM:4100'
        MEA+AAE+TC+CEL:-18'
        SEL+SEAL-4411+CA+1'
        SEL+SEAL-4412'
        CPS+1'
        PAC+2++PX'
        MEA+WT+G+KGM:372'
        CPS+2+1'
        PAC+1+1+CT'
        QTY+52:6'
        MEA+WT+N+KGM:8.2'
        MEA+WT+G+KGM:9'
        MEA+PD+LN+CMT:40'
        MEA+PD+WD+CMT:30'
        MEA+PD+HT+CMT:25'
        MEA+PD+HT+CMT:26'
        PCI+33E'
        GIN+BJ+354123450000000052'
        LIN+1++4000862141404:EN'
        QTY+12:6:PCE'
        QTY+21:8:PCE'
        QTY+46:5:PCE'
        QTY+192:1:PCE'
        QTY+12:7:PCE'
        MEA+WT+AAB+KGM:1.4'
        PCI+36E'
        DTM+36:20280131:102'
        QTY+12:6:PCE'
        QTY+52:2'
        GIN+BX+BATCH-77'
        GIR+1+SER-1:BN'
        CNT+2:1'
        """
    )
    assert (notice.ship_date, notice.ship_time) == ("2026-11-24", None)
    assert notice.dates["transaction_creation"] == "2026-11-24T16:00:00"
    assert notice.dates["estimated_arrival"] == "2026-11-27"
    assert notice.pro_number == "PRO-55501"
    assert [(v.value, v.unit, v.qualifier) for v in notice.volumes] == [
        (Decimal("2.75"), "MTQ", "AAW")
    ]
    main, on_carriage = notice.carriers
    assert notice.carrier == main
    assert (main.scac, main.routing_sequence_code, main.conveyance_reference) == (
        "ABFS", "20", "V-1"
    )
    assert (main.transport_means_code, main.transport_id) == ("31", "TRK-9")
    assert main.tracking_number == "PRO-55501"
    assert (on_carriage.scac, on_carriage.routing_sequence_code) == ("UPSN", "30")
    [place] = notice.locations
    assert (place.qualifier, place.id, place.name) == ("11", "CHICAGO", "CHICAGO DEPOT")
    assert place.dates == {"estimated_departure": "2026-11-25"}
    [equipment] = notice.equipment
    assert (equipment.type_code, equipment.number, equipment.size_type) == (
        "TE", "ABFU778899", "45G1"
    )
    assert equipment.ownership_code == "2"
    assert equipment.weight is not None and equipment.weight.value == Decimal(4100)
    [temperature] = equipment.measurements
    assert (temperature.qualifier, temperature.value, temperature.unit) == (
        "TC", Decimal(-18), "CEL"
    )
    assert [(s.number, s.issuer, s.status_code) for s in equipment.seals] == [
        ("SEAL-4411", "CA", "1"),
        ("SEAL-4412", None, None),
    ]
    # The shipment CPS describes the consignment.
    assert notice.packaging is not None and notice.packaging.code == "PX"
    assert [(w.qualifier, w.value) for w in notice.weights] == [("G", Decimal(372))]

    [pack] = notice.orders[0].packs if notice.orders else notice.packs
    assert pack.sscc == "354123450000000052"
    assert pack.packaging is not None
    assert (pack.packaging.code, pack.packaging.level_code) == ("CT", "1")
    assert [(w.qualifier, w.value, w.unit_rec20) for w in pack.weights] == [
        ("N", Decimal("8.2"), "KGM"),
        ("G", Decimal(9), "KGM"),
    ]
    assert pack.weight == pack.weights[1]  # the gross weight
    assert [(q.qualifier, q.quantity) for q in pack.quantities] == [("52", Decimal(6))]
    assert pack.dimensions is not None
    assert (pack.dimensions.length, pack.dimensions.width, pack.dimensions.height) == (
        Decimal(40), Decimal(30), Decimal(25)
    )
    # A second height is not overwritten into the first: it stays as a measurement.
    assert [(m.qualifier, m.value) for m in pack.measurements] == [("HT", Decimal(26))]

    [item] = pack.items
    assert (item.quantity_shipped, item.unit, item.unit_rec20) == (Decimal(6), "PCE", None)
    assert (item.quantity_ordered, item.quantity_ordered_unit_rec20) == (Decimal(8), None)
    assert (item.quantity_delivered, item.quantity_delivered_unit) == (Decimal(5), "PCE")
    assert [(q.qualifier, q.quantity) for q in item.quantities] == [
        ("192", Decimal(1)),
        ("12", Decimal(7)),
        ("52", Decimal(2)),
    ]
    assert [(w.qualifier, w.value) for w in item.weights] == [("AAB", Decimal("1.4"))]
    [batch] = item.identifications
    assert batch.marking_code == "36E"
    assert batch.dates == {"expiration": "2028-01-31"}
    assert (batch.quantity_qualifier, batch.quantity) == ("12", Decimal(6))
    assert [(m.qualifier, m.value) for m in batch.marks] == [
        ("BX", "BATCH-77"),
        ("BN", "SER-1"),
    ]
    assert notice.line_count == 1
    assert notice.document_type_code == "351"
    # Only what has no field is listed: GIR's set qualifier.
    assert [(u.segment, u.element, u.value) for u in notice.unmapped] == [("GIR", "GIR01", "1")]


def test_despatch_advice_without_packing_levels() -> None:
    """LINs without CPS are shipment-level items; several orders stay unassigned."""
    notice = advice(
        """
        BGM+351+DES-2'
        RFF+ON:PO-1'
        RFF+ON:PO-2'
        LIN+1'
        QTY+12:1'
        """
    )
    assert [o.po_number for o in notice.orders] == ["PO-1", "PO-2"]
    assert all(o.packs == [] and o.items == [] for o in notice.orders)
    assert [i.quantity_shipped for i in notice.items] == [Decimal(1)]
    assert notice.purpose is None


def test_despatch_advice_parent_loops_do_not_hang() -> None:
    """CPS levels naming each other (or themselves) as parent map without looping."""
    notice = advice(
        """
        BGM+351+DES-3'
        CPS+1+2'
        GIN+BJ+1'
        CPS+2+1'
        GIN+BJ+2'
        CPS+3+3'
        GIN+BJ+3'
        LIN+1'
        """
    )
    assert notice.tares and notice.packs
    assert {p.sscc for p in notice.packs} | {t.sscc for t in notice.tares} == {"1", "2", "3"}
