"""The order story told from documents (gateway.orders.story): lines, status, findings."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.orders.lines import convert, product_keys
from gateway.orders.story import Document, Rules, Story, po_numbers, tell

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_keys = itertools.count(1)


def doc(kind: str, hours: float, data: dict[str, Any], *, direction: str = "inbound",
        key: str | None = None) -> Document:
    return Document(key or f"record:{kind}-{next(_keys)}", "m", kind,
                    direction,  # type: ignore[arg-type]
                    T0 + timedelta(hours=hours), data)


def po(*lines: dict[str, Any], purpose: str = "original", **extra: Any) -> dict[str, Any]:
    return {"kind": "purchase_order", "po_number": "PO-1", "purpose": purpose,
            "order_date": "2026-11-20", "currency": "USD", "lines": list(lines), **extra}


def line(number: str, quantity: str, price: str = "10", unit: str = "EA",
         **ids: str) -> dict[str, Any]:
    return {"line_number": number, "quantity": quantity, "unit": unit, "unit_rec20": unit,
            "unit_price": price, "item_ids": ids}


WIDGET = {"buyer_item": "B-100", "vendor_item": "V-100", "upc": "012345678905"}
GADGET = {"vendor_item": "V-200"}


def asn(*items: dict[str, Any], shipment: str = "S-1", purpose: str = "original",
        ship_date: str | None = None) -> dict[str, Any]:
    return {"kind": "ship_notice", "shipment_id": shipment, "purpose": purpose,
            "ship_date": ship_date,
            "orders": [{"po_number": "PO-1", "packs": [{"items": list(items)}], "items": []}]}


def shipped(number: str | None, quantity: str, unit: str = "EA", **ids: str
            ) -> dict[str, Any]:
    return {"line_number": number, "quantity_shipped": quantity, "unit": unit,
            "unit_rec20": unit, "item_ids": ids}


def invoice(*lines: dict[str, Any], number: str = "INV-1", **extra: Any) -> dict[str, Any]:
    return {"kind": "invoice", "invoice_number": number, "po_number": "PO-1",
            "lines": list(lines), **extra}


def codes(story: Story) -> list[str]:
    return sorted(f.code for f in story.findings)


def by_number(story: Story) -> dict[str | None, Any]:
    return {ln.line_number: ln for ln in story.lines}


QUIET = Rules(expect_acknowledgment=False, asn_before_delivery=False)


def test_a_response_confirms_and_rejects_lines_and_a_rejected_line_is_not_confirmed() -> None:
    order = doc("purchase_order", 0, po(line("1", "8", **WIDGET), line("2", "12", **GADGET)))
    response = doc("order_response", 2, {
        "kind": "order_response", "po_number": "PO-1", "response": "accepted_with_changes",
        "lines": [
            {"line_number": "1", "acknowledgments": [
                {"status": "accepted", "quantity": "6", "unit": "EA"},
                {"status": "backordered", "quantity": "2", "unit": "EA"}]},
            {"line_number": "2", "acknowledgments": [
                {"status": "rejected", "quantity": "12", "unit": "EA"}]}]})
    story = tell([order, response], QUIET, T0 + timedelta(hours=3))
    lines = by_number(story)
    assert (lines["1"].confirmed, lines["1"].status) == (Decimal(8), "confirmed")
    assert (lines["2"].confirmed, lines["2"].status) == (Decimal(0), "rejected")
    assert story.status == "acknowledged"
    assert story.acknowledged_at == response.at
    assert story.findings == []


def test_ship_notice_lines_match_by_any_shared_product_id_not_the_first_one() -> None:
    """A buyer's item number on the PO and the vendor's on the ASN are one line; the UPC-A
    and its GTIN-14 form are one product."""
    order = doc("purchase_order", 0, po(line("1", "8", **WIDGET), line("2", "12", **GADGET)))
    notice = doc("ship_notice", 5, asn(
        shipped("7", "8", vendor_item="V-100"),  # LIN number differs: the id decides
        shipped(None, "12", vendor_item="V-200")))
    story = tell([order, notice], QUIET, T0 + timedelta(hours=6))
    lines = by_number(story)
    assert len(story.lines) == 2
    assert (lines["1"].shipped, lines["2"].shipped) == (Decimal(8), Decimal(12))
    assert story.status == "shipped"

    gtin_only = doc("ship_notice", 5, asn(shipped(None, "3", gtin="00012345678905")))
    story = tell([order, gtin_only], QUIET, T0 + timedelta(hours=6))
    assert by_number(story)["1"].shipped == Decimal(3)
    assert story.status == "partially_shipped"


def test_line_numbers_match_only_when_the_ids_do_not_contradict() -> None:
    order = doc("purchase_order", 0, po(line("1", "8", **WIDGET)))
    other = doc("ship_notice", 5, asn(shipped("1", "8", vendor_item="V-999")))
    story = tell([order, other], QUIET, T0 + timedelta(hours=6))
    assert story.lines[0].key == "line 1" and story.lines[0].shipped == 0
    assert "unmatched_line" in codes(story)
    extra = next(ln for ln in story.lines if ln.status == "not_ordered")
    assert extra.shipped == Decimal(8)


def test_quantities_are_converted_to_the_order_lines_unit() -> None:
    order = doc("purchase_order", 0, po(
        {**line("1", "24", **WIDGET), "pack": "12"},  # 24 each, 12 to a case
        line("2", "2", unit="DZN", **GADGET)))
    notice = doc("ship_notice", 5, asn(shipped("1", "2", unit="CS", **WIDGET),
                                      shipped("2", "24", unit="EA", **GADGET)))
    story = tell([order, notice], QUIET, T0 + timedelta(hours=6))
    lines = by_number(story)
    assert lines["1"].shipped == Decimal(24)
    assert lines["2"].shipped == Decimal(2)
    assert story.status == "shipped"
    assert story.findings == []


def test_a_unit_that_cannot_be_converted_is_a_finding_not_a_silent_zero() -> None:
    order = doc("purchase_order", 0, po(line("1", "10", **WIDGET)))
    notice = doc("ship_notice", 5, asn(shipped("1", "3", unit="KGM", **WIDGET)))
    story = tell([order, notice], QUIET, T0 + timedelta(hours=6))
    finding = next(f for f in story.findings if f.code == "unit_mismatch")
    assert finding.values == {"quantity": "3", "unit": "KGM", "order_unit": "EA"}
    assert finding.documents == (notice.key,)


def test_a_resent_or_replaced_document_counts_once() -> None:
    order = doc("purchase_order", 0, po(line("1", "10", **WIDGET)))
    first = doc("ship_notice", 5, asn(shipped("1", "4", **WIDGET)))
    again = doc("ship_notice", 6, asn(shipped("1", "5", **WIDGET), purpose="replace"))
    second = doc("ship_notice", 7, asn(shipped("1", "5", **WIDGET), shipment="S-2"))
    bill = invoice(line("1", "10", **WIDGET))
    bills = [doc("invoice", 8, bill), doc("invoice", 9, bill)]
    story = tell([order, first, again, second, *bills], QUIET, T0 + timedelta(hours=10))
    lines = by_number(story)
    assert (lines["1"].shipped, lines["1"].invoiced) == (Decimal(10), Decimal(10))
    assert story.superseded == {first.key, bills[0].key}
    assert story.status == "closed"
    assert story.invoiced_amount == Decimal(100)


def test_a_cancelled_shipment_no_longer_counts() -> None:
    order = doc("purchase_order", 0, po(line("1", "10", **WIDGET)))
    notice = doc("ship_notice", 5, asn(shipped("1", "10", **WIDGET)))
    cancel = doc("ship_notice", 6, asn(shipped("1", "10", **WIDGET), purpose="cancel"))
    story = tell([order, notice, cancel], QUIET, T0 + timedelta(hours=7))
    assert by_number(story)["1"].shipped == 0
    assert story.status == "open"


def test_three_way_match_findings_name_the_documents_and_values() -> None:
    order = doc("purchase_order", 0, po(line("1", "10", "2.50", **WIDGET),
                                        line("2", "5", "4.00", **GADGET)))
    notice = doc("ship_notice", 5, asn(shipped("1", "12", **WIDGET),
                                      shipped("2", "5", **GADGET)))
    bill = doc("invoice", 8, invoice(line("1", "12", "2.50", **WIDGET),
                                     line("2", "4", "4.40", **GADGET),
                                     totals={"amount": "47.00"}))
    story = tell([order, notice, bill], QUIET, T0 + timedelta(hours=9))
    found = {(f.code, f.line_key): f for f in story.findings}
    over = found[("over_shipped", "line 1")]
    assert over.values == {"expected": "10", "shipped": "12"}
    assert over.documents == (notice.key,)
    short_bill = found[("invoice_quantity_mismatch", "line 2")]
    assert short_bill.values == {"invoiced": "4", "shipped": "5"}
    assert set(short_bill.documents) == {bill.key, notice.key}
    price = found[("price_mismatch", "line 2")]
    assert price.values == {"invoiced_price": "4.4", "ordered_price": "4"}
    total = found[("invoice_total_mismatch", None)]
    assert total.values == {"stated": "47", "computed": "47.6"}
    assert story.has_discrepancy and story.status == "invoiced"


def test_tolerances_come_from_the_rules() -> None:
    order = doc("purchase_order", 0, po(line("1", "100", "1.00", **WIDGET)))
    notice = doc("ship_notice", 5, asn(shipped("1", "102", **WIDGET)))
    bill = doc("invoice", 8, invoice(line("1", "102", "1.01", **WIDGET)))
    strict = tell([order, notice, bill], QUIET, T0 + timedelta(hours=9))
    assert {"over_shipped", "price_mismatch"} <= set(codes(strict))
    loose = Rules(expect_acknowledgment=False, asn_before_delivery=False,
                  quantity_tolerance_percent=Decimal(5), price_tolerance_percent=Decimal(2))
    story = tell([order, notice, bill], loose, T0 + timedelta(hours=9))
    assert story.findings == []
    assert story.status == "closed"


def test_invoice_totals_add_charges_allowances_and_taxes() -> None:
    order = doc("purchase_order", 0, po(line("1", "10", "5", **WIDGET)))
    notice = doc("ship_notice", 5, asn(shipped("1", "10", **WIDGET)))
    bill = doc("invoice", 8, invoice(
        {**line("1", "10", "5", **WIDGET), "amount": "50"},
        allowances_charges=[{"indicator": "charge", "amount": "7.5"},
                            {"indicator": "allowance", "amount": "2.5"}],
        totals={"amount": "60.00", "tax_amount": "5.00"}))
    story = tell([order, notice, bill], QUIET, T0 + timedelta(hours=9))
    assert story.findings == []


def test_changes_add_change_and_delete_lines_and_a_cancel_cancels() -> None:
    order = doc("purchase_order", 0, po(line("1", "10", **WIDGET), line("2", "5", **GADGET)))
    change = doc("purchase_order_change", 1, {
        "kind": "purchase_order_change", "po_number": "PO-1", "purpose": "change",
        "lines": [{"line_number": "1", "status": "quantity_changed", "quantity": "15",
                   "unit": "EA", "item_ids": {}},
                  {"line_number": "2", "status": "deleted", "item_ids": {}},
                  {**line("3", "4", vendor_item="V-300"), "status": "added"}]})
    story = tell([order, change], QUIET, T0 + timedelta(hours=2))
    lines = by_number(story)
    assert lines["1"].ordered == Decimal(15)
    assert (lines["2"].ordered, lines["2"].status) == (Decimal(0), "cancelled")
    assert lines["3"].ordered == Decimal(4)
    assert story.ordered_amount == Decimal(190)

    cancel = doc("purchase_order_change", 3, {
        "kind": "purchase_order_change", "po_number": "PO-1", "purpose": "cancel",
        "lines": []})
    assert tell([order, change, cancel], QUIET, T0 + timedelta(hours=4)).status == "cancelled"
    withdrawn = doc("purchase_order", 3, po(purpose="cancel"))
    assert tell([order, withdrawn], QUIET, T0 + timedelta(hours=4)).status == "cancelled"


def test_a_rejected_order_is_cancelled_with_a_finding() -> None:
    order = doc("purchase_order", 0, po(line("1", "10", **WIDGET)))
    response = doc("order_response", 1, {"kind": "order_response", "po_number": "PO-1",
                                         "response": "rejected", "response_code": "RJ"})
    story = tell([order, response], QUIET, T0 + timedelta(hours=2))
    assert story.status == "cancelled"
    assert codes(story) == ["order_rejected"]
    assert by_number(story)["1"].status == "rejected"


def test_documents_without_a_purchase_order_are_a_finding() -> None:
    notice = doc("ship_notice", 5, asn(shipped("1", "8", **WIDGET)))
    story = tell([notice], QUIET, T0 + timedelta(hours=6))
    assert codes(story) == ["no_purchase_order"]
    assert story.role == "buy"  # the partner ships to us: it is our supplier
    assert story.lines[0].shipped == Decimal(8)


def test_the_acknowledgment_time_rule() -> None:
    rules = Rules(ack_due_hours=24, asn_before_delivery=False)
    order = doc("purchase_order", 0, po(line("1", "10", **WIDGET)))
    waiting = tell([order], rules, T0 + timedelta(hours=23))
    assert waiting.findings == [] and waiting.due_at == T0 + timedelta(hours=24)
    missing = tell([order], rules, T0 + timedelta(hours=25))
    assert codes(missing) == ["acknowledgment_late"] and missing.due_at is None
    assert missing.late and not missing.has_discrepancy
    late = doc("order_response", 30, {"kind": "order_response", "po_number": "PO-1",
                                      "response": "accepted"})
    story = tell([order, late], rules, T0 + timedelta(hours=31))
    finding = story.findings[0]
    assert finding.code == "acknowledgment_late"
    assert finding.documents == (order.key, late.key)
    on_time = doc("order_response", 3, late.data)
    assert tell([order, on_time], rules, T0 + timedelta(hours=40)).findings == []


def test_ship_notice_time_rules_and_invoice_after_asn() -> None:
    rules = Rules(expect_acknowledgment=False, asn_due_hours=12)
    order = doc("purchase_order", 0, po(line("1", "10", **WIDGET),
                                        dates={"requested_delivery": "2026-11-22"}))
    # The delivery date is kept if the notice comes that day (until its end).
    assert tell([order], rules, T0).due_at == datetime(2026, 11, 22, 23, 59, 59, 999999,
                                                       tzinfo=UTC)
    assert codes(tell([order], rules, T0 + timedelta(days=3))) == ["asn_missing"]
    late = doc("ship_notice", 64, asn(shipped("1", "10", **WIDGET),
                                      ship_date="2026-11-21T08:00:00"))
    bill = doc("invoice", 50, invoice(line("1", "10", **WIDGET)))
    story = tell([order, late, bill], rules, T0 + timedelta(hours=70))
    assert codes(story) == ["asn_after_delivery", "asn_late", "invoice_before_asn"]
    asn_late = next(f for f in story.findings if f.code == "asn_late")
    assert asn_late.values["due"] == "2026-11-21T20:00:00+00:00"


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(6)))
def test_the_story_does_not_depend_on_the_order_documents_are_given(
        order_of: list[int]) -> None:
    """A story is a function of its documents: given in any order (as reprocessing may
    store them), the same documents tell the same story."""
    documents = [
        doc("purchase_order", 0, po(line("1", "10", **WIDGET), line("2", "5", **GADGET)),
            key="record:a"),
        doc("order_response", 1, {"kind": "order_response", "po_number": "PO-1",
                                  "response": "accepted"}, key="record:b"),
        doc("ship_notice", 5, asn(shipped("1", "6", **WIDGET)), key="record:c"),
        doc("ship_notice", 6, asn(shipped("2", "5", vendor_item="V-200"), shipment="S-2"),
            key="record:d"),
        doc("invoice", 8, invoice(line("1", "6", **WIDGET), line("2", "5", **GADGET)),
            key="record:e"),
        doc("invoice", 9, invoice(line("1", "6", **WIDGET), number="INV-2"),
            key="record:f"),
    ]
    now = T0 + timedelta(hours=10)
    expected = tell(documents, Rules(), now)
    story = tell([documents[i] for i in order_of], Rules(), now)
    assert story == expected


def test_po_numbers_of_a_ship_notice_with_several_orders() -> None:
    data = {"kind": "ship_notice", "orders": [
        {"po_number": "A", "items": [{"po_number": "C"}], "packs": []},
        {"po_number": "B", "items": [], "packs": []}],
        "items": [{"po_number": "A"}]}
    assert po_numbers("ship_notice", data) == ["A", "B", "C"]
    assert po_numbers("invoice", {"po_number": "X/1"}) == ["X/1"]
    assert po_numbers("inventory_report", {"po_number": "X"}) == []


@pytest.mark.parametrize(("quantity", "unit", "to", "pack", "expected"), [
    ("2", "DZN", "EA", None, "24"),
    ("1", "LBR", "KGM", None, "0.45359237"),
    ("3", "CS", "EA", "12", "36"),
    ("36", "EA", "CS", "12", "3"),
    ("3", "CS", "EA", None, None),
    ("3", "KGM", "EA", None, None),
    ("3", None, "EA", None, "3"),
])
def test_unit_conversion(quantity: str, unit: str | None, to: str, pack: str | None,
                         expected: str | None) -> None:
    result = convert(Decimal(quantity), unit, to, Decimal(pack) if pack else None)
    assert result == (Decimal(expected) if expected is not None else None)


def test_gtin_family_numbers_compare_as_gtin_14() -> None:
    assert product_keys({"upc": "012345678905"}) == product_keys({"gtin": "00012345678905"})
    assert product_keys({"ean": "4006381333931"}) == {("gtin", "04006381333931")}
