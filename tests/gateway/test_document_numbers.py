"""The numbers a received document is found and shown by, from its record or, when it has
none (a rejected transaction), from its raw segments, in both syntaxes."""

from __future__ import annotations

from gateway.processing.numbers import (
    DocumentNumbers,
    edifact_numbers,
    record_numbers,
    x12_numbers,
)
from translators.edifact.reader import EDIFACTReader
from translators.x12.segment import Delimiters, Segment


def test_a_records_own_number_comes_before_its_po_number() -> None:
    """An invoice is shown by its invoice number and also found by its PO number; a ship
    notice by its shipment id and every order's PO number, each once; an order by its
    PO number alone."""
    assert record_numbers({"kind": "invoice", "invoice_number": "INV-1",
                           "po_number": "PO-1"}) == DocumentNumbers("INV-1", ("PO-1",))
    assert record_numbers({"kind": "ship_notice", "shipment_id": "SHP-1", "orders": [
        {"po_number": "PO-1"}, {"po_number": "PO-2"}, {"po_number": "PO-1"}]}
    ) == DocumentNumbers("SHP-1", ("PO-1", "PO-2"))
    assert record_numbers({"kind": "purchase_order", "po_number": " PO-9 "}).all == ["PO-9"]
    assert record_numbers({"kind": "functional_ack"}) == DocumentNumbers()


def _x12(text: str) -> list[Segment]:
    return [Segment(fields.split("*"), 0, n, Delimiters())
            for n, fields in enumerate(text.split("~"), start=1) if fields]


def test_x12_numbers_are_read_from_the_header_segment_of_the_set() -> None:
    """BIG02/BIG04 of an 810, BSN02 and PRF01 of an 856, BEG03 of an 850; a set without
    a known header has no own number."""
    segments = _x12("ST*810*0001~BIG*20240318*INV-7*20240312*PO-7~SE*3*0001~")
    assert x12_numbers("810", segments) == DocumentNumbers("INV-7", ("PO-7",))
    segments = _x12("ST*856*0001~BSN*00*SHP-7*20240315*1630~HL*1**S~PRF*PO-8~PRF*PO-9~"
                    "SE*5*0001~")
    assert x12_numbers("856", segments) == DocumentNumbers("SHP-7", ("PO-8", "PO-9"))
    segments = _x12("ST*850*0001~BEG*00*SA*PO-1**20240101~SE*3*0001~")
    assert x12_numbers("850", segments).own == "PO-1"
    assert x12_numbers("997", segments).own is None


def test_edifact_numbers_are_bgm_1004_and_the_orders_referred_to() -> None:
    """An INVOIC's BGM document number is its own number and RFF+ON its order's."""
    body = (b"UNA:+.? 'UNB+UNOC:3+A:14+B:ZZ+261126:0900+1'UNH+1+INVOIC:D:96A:UN'"
            b"BGM+380+INV-EU-1+9'RFF+ON:PO-EU-1'RFF+DQ:DN-1'UNT+4+1'UNZ+1+1'")
    segments = list(EDIFACTReader(body))
    assert edifact_numbers(segments) == DocumentNumbers("INV-EU-1", ("PO-EU-1",))
