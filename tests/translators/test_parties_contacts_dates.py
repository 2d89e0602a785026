"""Parties, contacts, dates and normalised codes keep every value a partner sent (issue 16
points 3, 5 and 8), pinned on hand-written documents in tests/data/parties.

Each test reads one document through the pipeline, as the gateway does, and checks one of
the losses a user found: header and line contacts (X12 PER outside N1, EDIFACT CTA/COM
outside NAD), every communication number, party names given in NAD C058, N2/N4/C082
values, mark-for kept apart from ship-to, identifier schemes, repeated and unnamed dates,
time codes, and the invoice type of a credit note in both standards.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from translators.codes import edifact_invoice_type, x12_invoice_type
from translators.edifact.mappers.dates import DATE_NAMES as EDIFACT_DATE_NAMES
from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.parties import (
    EDIFACT_ID_SCHEMES,
    EDIFACT_PARTY_ROLES,
    ID_SCHEMES,
    PARTY_ROLES,
    X12_ENTITY_ROLES,
    X12_ID_SCHEMES,
)
from translators.records import Contact, InventoryReport, Invoice, Party, PurchaseOrder, Record
from translators.x12.mappers.dates import DATE_NAMES as X12_DATE_NAMES
from translators.x12.mappers.dates import add_date, add_dtm
from translators.x12.pipeline import TransactionOutcome, translate_x12

DATA = Path(__file__).resolve().parents[1] / "data" / "parties"


def x12_records(name: str) -> list[Record]:
    outcomes = [
        o for o in translate_x12((DATA / name).read_bytes()) if isinstance(o, TransactionOutcome)
    ]
    records = [o.record for o in outcomes]
    assert all(r is not None for r in records)
    return [r for r in records if r is not None]


def edifact_records(name: str) -> list[Record]:
    outcomes = [
        o for o in translate_edifact((DATA / name).read_bytes()) if isinstance(o, MessageOutcome)
    ]
    records = [o.record for o in outcomes]
    assert all(r is not None for r in records)
    return [r for r in records if r is not None]


def x12_order() -> PurchaseOrder:
    [record] = x12_records("850-contacts-parties-dates.x12")
    assert isinstance(record, PurchaseOrder)
    return record


def edifact_order() -> PurchaseOrder:
    [record] = edifact_records("orders-d96a-contacts-parties-dates.edi")
    assert isinstance(record, PurchaseOrder)
    return record


def numbers(contact: Contact) -> list[tuple[str | None, str]]:
    return [(c.qualifier, c.value) for c in contact.communications]


def party(record: PurchaseOrder, role_code: str) -> Party:
    [found] = [p for p in record.parties if p.role_code == role_code]
    return found


# --- contacts -----------------------------------------------------------------------------


def test_x12_header_per_before_first_n1_is_a_record_contact() -> None:
    """PER before the first N1 lands in the record's contacts with all three numbers
    (EX, an extension, has no named field but is kept) and PER09."""
    [contact] = x12_order().contacts
    assert (contact.function, contact.name, contact.reference) == ("BD", "PAT BUYER", "INQ-9")
    assert (contact.phone, contact.fax, contact.email) == ("555-0101", "555-0102", None)
    assert numbers(contact) == [("TE", "555-0101"), ("EX", "12"), ("FX", "555-0102")]


def test_x12_party_per_keeps_a_second_number_of_the_same_kind() -> None:
    """Two TE numbers in one PER: the first names the phone, both are kept."""
    [contact] = party(x12_order(), "BY").contacts
    assert (contact.phone, contact.email) == ("555-0100", "jane@example.com")
    assert numbers(contact) == [
        ("EM", "jane@example.com"),
        ("TE", "555-0100"),
        ("TE", "555-0199"),
    ]


def test_x12_line_per_and_line_party_per() -> None:
    """A PER in the PO1 loop is the line's contact; one in the line's N1 loop, its party's."""
    line = x12_order().lines[0]
    [contact] = line.contacts
    assert (contact.function, contact.name, contact.phone) == ("OC", "LINE DESK", "555-0200")
    [drop_ship] = line.parties
    assert drop_ship.role == "ship_to"
    [dock] = drop_ship.contacts
    assert (dock.name, dock.fax) == ("DOCK", "555-0300")
    assert x12_order().lines[1].contacts == []


def test_edifact_cta_com_at_header_party_and_line() -> None:
    """CTA-COM outside a NAD group are the header's or the line's contacts; under NAD, the
    party's; every COM is kept (AL, a mobile number, has no named field), and so is the
    CTA C056 department id."""
    order = edifact_order()
    [header] = order.contacts
    assert (header.function, header.name, header.phone) == ("BD", "PAT BUYER", "555-0101")
    assert numbers(header) == [("TE", "555-0101"), ("EX", "12")]
    [jane] = party(order, "BY").contacts
    assert (jane.function, jane.id, jane.name) == ("IC", "D1", "JANE")
    assert (jane.phone, jane.email) == ("555-0100", "jane@example.com")
    assert numbers(jane) == [
        ("EM", "jane@example.com"),
        ("TE", "555-0100"),
        ("TE", "555-0199"),
        ("AL", "555-0177"),
    ]
    [accounts] = party(order, "PR").contacts
    assert (accounts.name, accounts.fax) == ("ACCOUNTS", "555-0400")
    line = order.lines[0]
    [desk] = line.contacts
    assert (desk.name, desk.phone) == ("LINE DESK", "555-0200")
    [dock] = line.parties[0].contacts
    assert (dock.name, dock.fax) == ("DOCK", "555-0300")


# --- names, addresses, ids ------------------------------------------------------------------


def test_x12_n2_names_and_every_n4_element() -> None:
    """N2's two names are additional names; N3 gives both lines; N4 keeps its location
    qualifier and id (N405/N406) beside city, state, postcode, country."""
    buyer = party(x12_order(), "BY")
    assert (buyer.name, buyer.additional_names) == ("ACME RETAIL", ["PURCHASING", "DEPT 4"])
    assert buyer.address is not None
    assert buyer.address.lines == ["1 MAIN ST", "FLOOR 2"]
    address = buyer.address
    assert (address.city, address.region, address.postal_code, address.country) == (
        "SPRINGFIELD",
        "IL",
        "62701",
        "US",
    )
    assert (address.location_qualifier, address.location_id) == ("SN", "0042")


def test_edifact_names_from_c080_or_c058() -> None:
    """A NAD names its party from C080; without C080, from C058's first line, whose other
    lines become address lines; with both, C058's lines are kept as address lines before
    the street (NAD05), not dropped."""
    order = edifact_order()
    buyer = party(order, "BY")
    assert (buyer.name, buyer.additional_names) == ("ACME RETAIL", ["PURCHASING"])
    supplier = party(order, "SU")
    assert supplier.name == "ACME SUPPLY LTD"
    assert supplier.address is not None
    assert supplier.address.lines == ["HARBOUR ROAD 5", "DOCK 3", "BRISTOL"]
    delivery = party(order, "DP")
    assert delivery.name == "ACME DC 7"
    assert delivery.address is not None and delivery.address.lines == ["DOCK ENTRANCE B"]
    invoicee = party(order, "IV")
    assert invoicee.name == "ACME BILLING"
    assert invoicee.address is not None
    assert invoicee.address.lines == ["ACCOUNTS DEPT", "PO BOX 9"]
    assert (invoicee.address.city, invoicee.address.postal_code) == ("LEEDS", "LS1 1AA")
    assert invoicee.address.country == "GB"


def test_edifact_c082_code_list_and_c819_region_name() -> None:
    """NAD C082 1131 is the id's code list; D01B's C819 gives a region code and name."""
    [record] = edifact_records("orders-d01b-c082-c819.edi")
    assert isinstance(record, PurchaseOrder)
    [buyer] = record.parties
    [party_id] = buyer.ids
    assert (party_id.value, party_id.code_list, party_id.qualifier) == ("B-7", "160", "92")
    assert party_id.scheme == "assigned_by_buyer"
    assert buyer.address is not None
    assert (buyer.address.region, buyer.address.region_name) == ("BY", "BAVARIA")


@pytest.mark.parametrize(
    ("role_code", "scheme"),
    [("BY", "gln"), ("Z7", "assigned_by_buyer"), ("ST", "duns"), ("RI", "duns4"),
     ("BT", "assigned_by_seller")],
)
def test_x12_id_schemes(role_code: str, scheme: str) -> None:
    """N103 66 qualifiers become schemes: UL GLN, 1 DUNS, 9 DUNS+4, 92 buyer, 91 seller."""
    [party_id] = party(x12_order(), role_code).ids
    assert party_id.scheme == scheme


@pytest.mark.parametrize(
    ("role_code", "scheme"),
    [("BY", "gln"), ("UC", "assigned_by_buyer"), ("SU", "duns"), ("IV", "assigned_by_seller")],
)
def test_edifact_id_schemes(role_code: str, scheme: str) -> None:
    """NAD C082 3055 agencies become the same schemes: 9 GS1 (GLN), 16 DUNS, 92, 91."""
    [party_id] = party(edifact_order(), role_code).ids
    assert party_id.scheme == scheme


# --- roles -----------------------------------------------------------------------------------


def test_mark_for_is_not_ship_to() -> None:
    """N1*Z7 and NAD+UC are mark-for parties, distinct from the ship-to of the same order;
    remit-to, bill-to and payer keep their own roles."""
    x12 = x12_order()
    assert [(p.role, p.role_code) for p in x12.parties] == [
        ("buyer", "BY"),
        ("mark_for", "Z7"),
        ("ship_to", "ST"),
        ("remit_to", "RI"),
        ("bill_to", "BT"),
        ("payer", "PR"),
    ]
    edifact = edifact_order()
    assert [(p.role, p.role_code) for p in edifact.parties] == [
        ("buyer", "BY"),
        ("mark_for", "UC"),
        ("ship_to", "DP"),
        ("supplier", "SU"),
        ("bill_to", "IV"),
        ("payer", "PR"),
    ]


def test_role_tables_use_the_vocabulary() -> None:
    """Every role of both tables is one of PARTY_ROLES, every scheme one of ID_SCHEMES, and
    a code both standards define with the same meaning has the same role in both."""
    assert set(X12_ENTITY_ROLES.values()) <= set(PARTY_ROLES)
    assert set(EDIFACT_PARTY_ROLES.values()) <= set(PARTY_ROLES)
    assert set(X12_ID_SCHEMES.values()) <= set(ID_SCHEMES)
    assert set(EDIFACT_ID_SCHEMES.values()) <= set(ID_SCHEMES)
    for code in ("BY", "SE", "ST", "SF", "SU", "MF", "CN", "CA", "OB", "WH", "SN", "PR", "PE",
                 "RE", "II"):
        assert X12_ENTITY_ROLES[code] == EDIFACT_PARTY_ROLES[code], code
    assert "ship_to" not in {X12_ENTITY_ROLES["Z7"], X12_ENTITY_ROLES["MA"],
                             EDIFACT_PARTY_ROLES["UC"]}


# --- dates -----------------------------------------------------------------------------------


def test_x12_dates_by_meaning_repeats_unknown_and_time_code() -> None:
    """DTM 004 is the order date; a second 002 with another date is requested_delivery_2;
    DTM04's time code is kept beside its date; an unnamed qualifier keeps its code."""
    assert x12_order().dates == {
        "requested_delivery": "2026-11-25",
        "requested_delivery_2": "2026-11-26",
        "requested_ship": "2026-11-22T14:30:00",
        "requested_ship_time_code": "ET",
        "order": "2026-11-19",
        "dtm_999": "2026-11-01",
    }


def test_edifact_dates_by_meaning_and_reference_dates() -> None:
    """The same names in EDIFACT: DTM+4 order, repeated DTM+2 kept; the DTM 137 date-time
    keeps its time in dates beside the order date; a DTM in an RFF group dates its
    reference."""
    order = edifact_order()
    assert order.order_date == "2026-11-20"
    assert order.dates == {
        "transaction_creation": "2026-11-20T08:15:00",
        "requested_delivery": "2026-11-25",
        "requested_delivery_2": "2026-11-26",
        "order": "2026-11-19",
        "dtm_999": "2026-11-01",
    }
    [reference] = order.references
    assert (reference.qualifier, reference.value, reference.dates) == (
        "ON",
        "PO-76",
        {"order": "2026-10-01"},
    )


def test_date_names_are_shared() -> None:
    """A 374 code and the 2005 code of the same meaning have the same name."""
    pairs = {"002": "2", "003": "3", "004": "4", "010": "10", "011": "11", "017": "17",
             "035": "35", "069": "69", "097": "97", "037": "37", "038": "38", "063": "63",
             "064": "64", "007": "7", "036": "36"}
    for x12, edifact in pairs.items():
        assert X12_DATE_NAMES[x12] == EDIFACT_DATE_NAMES[edifact], (x12, edifact)
    assert X12_DATE_NAMES["371"] == EDIFACT_DATE_NAMES["132"] == "estimated_arrival"
    # Document creation is never a ship date.
    assert "shipped" not in {X12_DATE_NAMES["097"], EDIFACT_DATE_NAMES["137"]}


def test_add_date_keeps_every_value() -> None:
    """A repeated name with a new value gets the next suffix; the same value is one entry."""
    dates: dict[str, str] = {}
    for value in ("2026-01-01", "2026-01-02", "2026-01-01", "2026-01-03", "2026-01-02"):
        add_date(dates, "shipped", value)
    assert dates == {
        "shipped": "2026-01-01",
        "shipped_2": "2026-01-02",
        "shipped_3": "2026-01-03",
    }


def test_time_code_stays_beside_its_date() -> None:
    """A repeated DTM's time code is filed beside the key its own date went to."""
    dates: dict[str, str] = {}
    assert add_dtm(dates, ["DTM", "010", "20261122", "1430"])
    assert add_dtm(dates, ["DTM", "010", "20261123", "0900", "PT"])
    assert not add_dtm(dates, ["DTM", "010", "2026"])
    assert dates == {
        "requested_ship": "2026-11-22T14:30:00",
        "requested_ship_2": "2026-11-23T09:00:00",
        "requested_ship_2_time_code": "PT",
    }


# --- codes -----------------------------------------------------------------------------------


def test_credit_note_in_both_standards() -> None:
    """BIG07 CR and INVOIC BGM 381 are both credit notes, their codes kept as sent."""
    [x12] = x12_records("810-credit-memo.x12")
    [edifact] = edifact_records("invoic-d96a-credit-note.edi")
    assert isinstance(x12, Invoice) and isinstance(edifact, Invoice)
    assert (x12.invoice_type, x12.invoice_type_code) == ("credit_note", "CR")
    assert (edifact.invoice_type, edifact.invoice_type_code) == ("credit_note", "381")
    assert x12_invoice_type("DR") == ("debit_note", "DR")
    assert edifact_invoice_type("383") == ("debit_note", "383")
    assert x12_invoice_type("ZZ") == ("other", "ZZ")
    assert x12_invoice_type("") == (None, None)


def test_x12_846_header_per_is_a_record_contact() -> None:
    """An inventory advice's PER before its N1 loops is the report's contact."""
    [report] = x12_records("846-header-contact.x12")
    assert isinstance(report, InventoryReport)
    [contact] = report.contacts
    assert (contact.function, contact.name) == ("IC", "STOCK DESK")
    assert numbers(contact) == [("TE", "555-0500"), ("EM", "stock@example.com")]
    assert report.unmapped == []
