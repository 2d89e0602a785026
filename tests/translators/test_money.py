"""Money in orders and invoices, both standards, pinned on hand-written documents in
tests/data/money: line amounts, gross and net prices with their basis and a price per one
unit, taxes (with category and taxable base) also inside allowances and charges, payment
terms with every element, named totals beside every other amount kept with its qualifier,
line quantities by qualifier, X12 sub-lines and EDIFACT order-response codes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.translators.edifact.test_mappers import mapped
from tests.translators.test_cross_standard import edifact_record, x12_record
from translators.records import Invoice, MonetaryAmount, OrderResponse, PurchaseOrder

DATA = Path(__file__).resolve().parents[1] / "data" / "money"


def _amounts(items: list[MonetaryAmount]) -> list[tuple[str, str, Decimal | None, str | None]]:
    return [(a.type, a.qualifier, a.amount, a.currency) for a in items]


# --- X12 ---------------------------------------------------------------------------------


def test_810_price_per_hundred_keeps_its_basis() -> None:
    """IT104 12.50 per hundred (HP) stays the unit price as sent; a CTP naming the net
    price (NET) is the net price, 11 per hundred, 0.11 a unit; a catalog CTP per thousand
    (TP) is 0.15 a unit."""
    invoice = x12_record(DATA / "810-money.x12")
    assert isinstance(invoice, Invoice)
    first = invoice.lines[0]
    assert (first.unit_price, first.price_basis) == (Decimal("12.50"), "HP")
    net = first.net_price
    assert net is not None
    assert (net.type, net.unit_price, net.basis_code, net.per_unit_price) == (
        "net",
        Decimal(11),
        "HP",
        Decimal("0.11"),
    )
    [catalog] = first.prices
    assert (catalog.type, catalog.type_code, catalog.basis_code, catalog.per_unit_price) == (
        "other",
        "CAT",
        "TP",
        Decimal("0.15"),
    )
    # Without a CTP the IT1 price is the net price, per one unit as no basis is named.
    second = invoice.lines[1].net_price
    assert second is not None
    assert (second.unit_price, second.per_unit_price) == (Decimal("2.00"), Decimal("2.00"))


def test_810_taxes_of_lines_allowances_and_header() -> None:
    """A TXI after a SAC in the 810 is the SAC's own tax; TXI08 is the taxable base;
    TXI06 the exemption with its category."""
    invoice = x12_record(DATA / "810-money.x12")
    assert isinstance(invoice, Invoice)
    first, second = invoice.lines
    [line_tax] = first.taxes
    assert (line_tax.amount, line_tax.percent, line_tax.taxable_amount) == (
        Decimal(5),
        Decimal(20),
        Decimal(25),
    )
    [allowance] = first.allowances_charges
    assert (allowance.indicator, allowance.amount) == ("allowance", Decimal("5.00"))
    assert [(t.type_code, t.amount) for t in allowance.taxes] == [("VA", Decimal("1.00"))]
    [exempt] = second.taxes
    assert (exempt.type_code, exempt.exempt_code, exempt.category) == ("ST", "1", "exempt")
    [charge] = invoice.allowances_charges
    assert [(t.amount, t.percent) for t in charge.taxes] == [(Decimal("2.00"), Decimal(20))]
    assert [t.amount for t in invoice.taxes] == [Decimal("4.00")]


def test_810_terms_totals_quantities_sub_lines() -> None:
    """Every ITD element, every TDS element, AMT 1 as the line items total and any other
    AMT kept with its qualifier, QTY by qualifier, SLN with its REF and PID."""
    invoice = x12_record(DATA / "810-money.x12")
    assert isinstance(invoice, Invoice)
    [terms] = invoice.payment_terms
    assert (terms.type_code, terms.basis_date_code, terms.discount_percent) == (
        "05",
        "3",
        Decimal(2),
    )
    assert (terms.discount_due_date, terms.discount_days) == ("2026-12-11", 10)
    assert (terms.net_due_date, terms.net_days) == ("2026-12-31", 30)
    assert terms.discount_amount == Decimal("12.50")  # ITD08 is N2
    assert (terms.deferred_due_date, terms.deferred_amount) == ("2027-01-15", Decimal("500.00"))
    assert (terms.percent_payable, terms.description, terms.day_of_month) == (
        Decimal(50),
        "HALF DEFERRED",
        15,
    )
    totals = invoice.totals
    assert (totals.amount, totals.amount_subject_to_discount) == (
        Decimal("26.50"),
        Decimal("25.00"),
    )
    assert (totals.discounted_amount, totals.terms_discount) == (
        Decimal("24.75"),
        Decimal("0.25"),
    )
    assert totals.line_items_amount == Decimal("25.00")
    assert _amounts(totals.amounts) == [("amount_paid", "TP", Decimal("7.77"), None)]
    first = invoice.lines[0]
    assert [(q.type, q.qualifier, q.quantity, q.unit) for q in first.quantities] == [
        ("despatched", "39", Decimal(190), "EA")
    ]
    assert first.quantity == Decimal(200)
    [sub] = first.sub_lines
    assert (sub.line_number, sub.parent_line_number, sub.relationship_code) == ("1A", "1", "I")
    assert (sub.quantity, sub.unit, sub.unit_price, sub.price_basis) == (
        Decimal(2),
        "EA",
        Decimal("3.00"),
        "PE",
    )
    assert (sub.item_ids.vendor_item, sub.description) == ("V-1A", "SUB PART")
    assert [(r.qualifier, r.value) for r in sub.references] == [("ZZ", "SUB-REF")]
    # The segments mapped here leave nothing of theirs unmapped.
    money_tags = {"ITD", "TDS", "AMT", "SLN", "TXI", "CTP"}
    assert [u for u in invoice.unmapped if u.segment in money_tags] == []


def test_850_per_thousand_line_amount_and_taxes_beside_allowances() -> None:
    """PO104 45 per thousand (TP) is 0.045 a unit; AMT 1 in the line is its amount and AMT
    TT the order total; in an 850 a TXI after a SAC is the line's tax, not the SAC's."""
    po = x12_record(DATA / "850-money.x12")
    assert isinstance(po, PurchaseOrder)
    [line] = po.lines
    assert line.net_price is not None
    assert (line.net_price.unit_price, line.net_price.per_unit_price) == (
        Decimal(45),
        Decimal("0.045"),
    )
    assert line.amount == Decimal(135)
    assert po.totals.amount == Decimal(135)
    [allowance] = line.allowances_charges
    assert allowance.taxes == []
    assert (allowance.agency_qualifier, allowance.agency_code) == ("VI", "ABC1")
    assert [(t.type_code, t.amount) for t in line.taxes] == [("ST", Decimal("2.00"))]
    assert [(q.type, q.quantity) for q in line.quantities] == [("original", Decimal(3500))]
    [sub] = line.sub_lines
    assert (sub.item_ids.vendor_item, sub.description) == ("V-9A", "INCLUDED CLIP")


# --- EDIFACT -----------------------------------------------------------------------------


def test_invoic_line_amounts_prices_quantities() -> None:
    """MOA 203 is the line amount, the MOA 66 before it stays with its qualifier; PRI AAA
    and AAB per 100 PCE are the net and gross prices, 0.125 and 0.15 a unit; QTY 47 is
    the line's quantity, 46 and 59 stay in its quantities."""
    invoice = edifact_record(DATA / "invoic-money.d96a.edi")
    assert isinstance(invoice, Invoice)
    [line] = invoice.lines
    assert line.amount == Decimal("25.00")
    assert _amounts(line.amounts) == [("line_amount", "66", Decimal("24.00"), None)]
    net, gross = line.net_price, line.gross_price
    assert net is not None and gross is not None
    assert (net.unit_price, net.quantity, net.unit, net.basis_code, net.per_unit_price) == (
        Decimal("12.50"),
        Decimal(100),
        "PCE",
        "CT",
        Decimal("0.125"),
    )
    assert (gross.unit_price, gross.per_unit_price) == (Decimal("15.00"), Decimal("0.15"))
    assert (line.unit_price, line.price_basis) == (Decimal("12.50"), "CT")
    assert (line.quantity, line.unit) == (Decimal(200), "PCE")
    assert [(q.type, q.qualifier, q.quantity) for q in line.quantities] == [
        ("delivered", "46", Decimal(190)),
        ("units_per_pack", "59", Decimal(20)),
    ]
    assert line.pack == Decimal(20)


def test_invoic_taxes_in_allowances_and_categories() -> None:
    """TAX 5305 E is an exempt tax; an ALC group's TAX-MOA is the allowance's tax with its
    amount and taxable base (MOA 124, 125); MOA 25 is the allowance's basis."""
    invoice = edifact_record(DATA / "invoic-money.d96a.edi")
    assert isinstance(invoice, Invoice)
    [line] = invoice.lines
    [exempt] = line.taxes
    assert (exempt.exempt_code, exempt.category, exempt.percent, exempt.amount) == (
        "E",
        "exempt",
        Decimal(0),
        Decimal(0),
    )
    [allowance] = line.allowances_charges
    assert (allowance.amount, allowance.basis_amount) == (Decimal("1.00"), Decimal("25.00"))
    [tax] = allowance.taxes
    assert (tax.category, tax.percent, tax.amount, tax.taxable_amount) == (
        "standard",
        Decimal(20),
        Decimal("0.20"),
        Decimal("1.00"),
    )


def test_invoic_terms_and_totals() -> None:
    """PAT in months keeps its period; DTM 13 is the net due date, PCD 15 the penalty, a
    MOA other than 52 stays with its qualifier. Summary MOAs fill the named totals (77
    before 86 for the invoice amount); the rest, and an amount in another currency, stay
    in ``totals.amounts``."""
    invoice = edifact_record(DATA / "invoic-money.d96a.edi")
    assert isinstance(invoice, Invoice)
    [terms] = invoice.payment_terms
    assert (terms.type_code, terms.terms_code, terms.description) == ("1", "NET2M", "TWO MONTHS")
    assert (terms.basis_date_code, terms.time_relation_code) == ("5", "3")
    assert (terms.period_type_code, terms.periods, terms.net_days) == ("M", 2, None)
    assert (terms.net_due_date, terms.penalty_percent) == ("2027-02-01", Decimal("1.5"))
    assert _amounts(terms.amounts) == [("amount_due", "9", Decimal("31.00"), None)]
    totals = invoice.totals
    assert totals.amount == Decimal("30.00")
    assert (totals.line_items_amount, totals.taxable_amount, totals.tax_amount) == (
        Decimal("25.00"),
        Decimal("25.00"),
        Decimal("5.00"),
    )
    assert (totals.allowances_amount, totals.charges_amount, totals.amount_due) == (
        Decimal("1.00"),
        Decimal("2.00"),
        Decimal("31.00"),
    )
    assert _amounts(totals.amounts) == [
        ("total_amount", "86", Decimal("31.00"), None),
        ("prepaid_amount", "113", Decimal("10.00"), "USD"),
    ]
    assert totals.line_count == 1


def test_a_repeated_percentage_is_listed_not_dropped() -> None:
    """The first PCD of an ALC group is its percent; a second one has no field and is
    listed as unmapped rather than overwriting or vanishing; so is a CUX group's PCD."""
    invoice = mapped(
        "INVOIC",
        """
        BGM+380+INV-1+9'
        CUX+2:EUR:4'
        PCD+1:3'
        ALC+A++++DI'
        PCD+1:5'
        PCD+1:7'
        """,
    )
    assert isinstance(invoice, Invoice)
    assert invoice.allowances_charges[0].percent == Decimal(5)
    assert [(u.segment, u.element, u.value) for u in invoice.unmapped if u.segment == "PCD"] == [
        ("PCD", "PCD01-01", "1"),
        ("PCD", "PCD01-02", "3"),
        ("PCD", "PCD01-01", "1"),
        ("PCD", "PCD01-02", "7"),
    ]


def _ordrsp(function: str) -> OrderResponse:
    record = mapped("ORDRSP", f"BGM+231+RSP-1+{function}'")
    assert isinstance(record, OrderResponse)
    return record


def test_ordrsp_message_function_is_the_response() -> None:
    """ORDRSP BGM 1225 4 (change) is an acceptance with changes, 27 a rejection, 29 an
    acceptance; none of them is presented as the document's purpose."""
    assert [
        (r.response, r.response_code, r.purpose)
        for r in (_ordrsp("4"), _ordrsp("27"), _ordrsp("29"))
    ] == [
        ("accepted_with_changes", "4", None),
        ("rejected", "27", None),
        ("accepted", "29", None),
    ]
