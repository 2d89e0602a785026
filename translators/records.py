"""Canonical records: the one JSON shape of a business document, whatever the source standard.

Responsible for the Pydantic models that mappers produce and consumers read: purchase
orders (850/ORDERS), order changes (860/ORDCHG), order responses (855/ORDRSP), invoices
(810/INVOIC), ship notices (856/DESADV), inventory reports (846/INVRPT) and functional
acknowledgments (997/999/CONTRL), all in one discriminated union ``Record``.
Conventions pinned here: money and quantities are ``Decimal`` and serialise to JSON strings
(never floats, never exponent notation); dates are ISO 8601 strings without an invented
zone; control numbers are strings; codes are kept as sent beside their normalised names.
It must not parse EDI: that is the job of the mappers.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Final, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter

from translators.record_data import decimal_text

__all__ = [
    "RECORD_ADAPTER",
    "RECORD_MODELS",
    "SCHEMA_VERSION",
    "AcknowledgedGroup",
    "AcknowledgedTransaction",
    "Address",
    "AllowanceCharge",
    "Amount",
    "Carrier",
    "Contact",
    "DestinationQuantity",
    "Dimensions",
    "Equipment",
    "Fob",
    "FunctionalAck",
    "Identity",
    "InventoryItem",
    "InventoryQuantity",
    "InventoryReport",
    "Invoice",
    "InvoiceTotals",
    "ItemIdentification",
    "ItemIds",
    "Line",
    "LineAck",
    "LoadDetail",
    "Location",
    "Measurement",
    "OrderResponse",
    "OrderTotals",
    "Packaging",
    "Party",
    "PartyId",
    "PaymentTerms",
    "Price",
    "ProductId",
    "PurchaseOrder",
    "PurchaseOrderChange",
    "Quantity",
    "Record",
    "RecordKind",
    "Reference",
    "Schedule",
    "Seal",
    "ShipCarrier",
    "ShipItem",
    "ShipNotice",
    "ShipOrder",
    "ShipPack",
    "ShipQuantity",
    "Source",
    "SpecialHandling",
    "SubLine",
    "Tare",
    "Tax",
    "TransactionError",
    "UnmappedValue",
    "Volume",
    "Weight",
]


Amount = Annotated[
    Decimal,
    PlainSerializer(decimal_text, return_type=str, when_used="json"),
]
"""A decimal quantity or amount; JSON form is a string such as ``"123.45"``."""

Quantity = Amount

RecordKind = Literal[
    "purchase_order",
    "purchase_order_change",
    "order_response",
    "invoice",
    "ship_notice",
    "inventory_report",
    "functional_ack",
]


SCHEMA_VERSION: Final = "2.0"
"""The record contract's version: the major part changes when a field's meaning or type
changes or a field goes, the minor part when fields are added."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- provenance -------------------------------------------------------------------------


class Identity(_Model):
    """A trading-partner identity as the envelope names it (ISA05/ISA06, UNB S002)."""

    qualifier: str | None = None
    id: str


class Source(_Model):
    """Where a record came from: standard, version, envelope identities and control numbers."""

    standard: Literal["x12", "edifact"]
    version: str
    transaction_type: str
    sender: Identity
    receiver: Identity
    interchange_control: str
    group_control: str | None = None
    transaction_control: str
    implementation_ref: str | None = None
    test: bool = False
    message_id: str | None = None
    partner_id: str | None = None


# --- shared building blocks -------------------------------------------------------------


class PartyId(_Model):
    """An identifier with the qualifier saying what kind of identifier it is (N103/N104)."""

    qualifier: str | None = None
    value: str


class ProductId(_Model):
    """A product identifier with its qualifier as sent (X12 235)."""

    qualifier: str
    value: str


class Reference(_Model):
    qualifier: str
    value: str | None = None
    description: str | None = None


class Address(_Model):
    lines: list[str] = Field(default_factory=list)
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Contact(_Model):
    function: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    fax: str | None = None


class Party(_Model):
    """A party with its normalised role (buyer, ship_to, ...) and the code as sent."""

    role: str
    role_code: str
    name: str | None = None
    ids: list[PartyId] = Field(default_factory=list)
    address: Address | None = None
    contacts: list[Contact] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)


class ItemIds(_Model):
    """Product identifiers by kind; unrecognised qualifiers and repeats land in ``other``."""

    buyer_item: str | None = None
    vendor_item: str | None = None
    upc: str | None = None
    gtin: str | None = None
    ean: str | None = None
    sku: str | None = None
    isbn: str | None = None
    model: str | None = None
    manufacturer_part: str | None = None
    other: list[ProductId] = Field(default_factory=list)


class AllowanceCharge(_Model):
    indicator: Literal["allowance", "charge", "no_charge"] | None = None
    indicator_code: str | None = None
    code: str | None = None
    description: str | None = None
    amount: Amount | None = None
    percent: Amount | None = None
    rate: Amount | None = None
    quantity: Amount | None = None
    unit: str | None = None
    method_code: str | None = None


class Tax(_Model):
    type_code: str | None = None
    amount: Amount | None = None
    percent: Amount | None = None
    jurisdiction_qualifier: str | None = None
    jurisdiction: str | None = None
    exempt_code: str | None = None
    tax_id: str | None = None


class PaymentTerms(_Model):
    type_code: str | None = None
    basis_date_code: str | None = None
    discount_percent: Amount | None = None
    discount_due_date: str | None = None
    discount_days: int | None = None
    net_due_date: str | None = None
    net_days: int | None = None
    discount_amount: Amount | None = None
    day_of_month: int | None = None
    description: str | None = None


class Fob(_Model):
    payment_method_code: str | None = None
    location_qualifier: str | None = None
    location: str | None = None
    terms_qualifier: str | None = None
    terms_code: str | None = None


class Carrier(_Model):
    """Carrier details (TD5, CAD); ``scac`` when the carrier is identified by its SCAC."""

    scac: str | None = None
    id_qualifier: str | None = None
    id_code: str | None = None
    mode: str | None = None
    name: str | None = None
    tracking_number: str | None = None
    routing: str | None = None
    service_level: str | None = None


class ShipCarrier(Carrier):
    """A ship notice's carrier, with all of X12 TD5 (01 routing sequence, 06 status, 07/08
    location, 09-11 transit, 12-14 service levels, 15 country) and EDIFACT TDT (02
    conveyance reference, 04 means of transport, 06 transit direction, 08 transport id).
    ``routing_sequence_code`` is the leg of the route as sent: TD501 (133) or TDT 8051
    (transport stage). ``service_level`` is the first of ``service_levels``."""

    routing_sequence_code: str | None = None
    status_code: str | None = None
    location_qualifier: str | None = None
    location: str | None = None
    transit_direction_code: str | None = None
    transit_time_qualifier: str | None = None
    transit_time: Amount | None = None
    service_levels: list[str] = Field(default_factory=list)
    country: str | None = None
    conveyance_reference: str | None = None
    transport_means_code: str | None = None
    transport_id: str | None = None


class Weight(_Model):
    """A weight: value, unit as sent and its Rec 20 code, qualifier as sent (X12 187 or
    EDIFACT 6313: G gross, N net, ...)."""

    value: Amount | None = None
    unit: str | None = None
    qualifier: str | None = None
    unit_rec20: str | None = None


class Volume(_Model):
    """A volume (TD109/TD110, PO408/PO409, MEA VOL; EDIFACT MEA with a volume unit)."""

    value: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    qualifier: str | None = None


class Dimensions(_Model):
    """Length, width and height in one unit (PO410-PO413; MEA LN/WD/HT)."""

    length: Amount | None = None
    width: Amount | None = None
    height: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None


class Measurement(_Model):
    """A measurement that is neither a weight, a volume nor a dimension (MEA), kept as sent:
    ``reference`` is X12 MEA01 (737) or EDIFACT 6311, ``qualifier`` MEA02 (738) or 6313."""

    reference: str | None = None
    qualifier: str | None = None
    value: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    range_minimum: Amount | None = None
    range_maximum: Amount | None = None


class Packaging(_Model):
    """Packaging and lading quantity (TD101/TD102, PO4, PAC); ``commodity_*`` TD103/TD104,
    ``level_code`` EDIFACT PAC 02 (C531 7075 packaging level); ``pack`` (inner units per
    pack), ``pack_size`` with its unit and ``inner_pack`` PO401-PO403 and PO414."""

    code: str | None = None
    quantity: Amount | None = None
    description: str | None = None
    commodity_code_qualifier: str | None = None
    commodity_code: str | None = None
    level_code: str | None = None
    pack: Amount | None = None
    pack_size: Amount | None = None
    pack_size_unit: str | None = None
    inner_pack: Amount | None = None


class Seal(_Model):
    """A seal on equipment (TD309, REF SN; EDIFACT SEL): number, issuer, condition code."""

    number: str | None = None
    issuer: str | None = None
    status_code: str | None = None


class Equipment(_Model):
    """Transport equipment (X12 TD3; EDIFACT EQD with its SEL and MEA).

    ``type_code`` is TD301 (40) or EQD 8053 as sent; ``initial`` and ``number`` TD302/TD303
    (EDIFACT sends one identifier: ``number``); ``size_type`` TD310 or EQD C224 8155."""

    type_code: str | None = None
    initial: str | None = None
    number: str | None = None
    size_type: str | None = None
    ownership_code: str | None = None
    weight: Weight | None = None
    seals: list[Seal] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)


class SpecialHandling(_Model):
    """Special handling or hazardous material (TD4)."""

    code: str | None = None
    hazardous_material_qualifier: str | None = None
    hazardous_material_code: str | None = None
    description: str | None = None


class Location(_Model):
    """A place named by the document (EDIFACT LOC): 3227 qualifier, C517 id and name."""

    qualifier: str | None = None
    id: str | None = None
    agency: str | None = None
    name: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)


class Price(_Model):
    """Pricing information (CTP): price type code, unit price and its quantity basis."""

    class_code: str | None = None
    type_code: str | None = None
    unit_price: Amount | None = None
    quantity: Amount | None = None
    unit: str | None = None
    multiplier_qualifier: str | None = None
    multiplier: Amount | None = None


class Schedule(_Model):
    """A scheduled or requested quantity of a line (SCH), with its dates."""

    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)


class DestinationQuantity(_Model):
    """A quantity for one destination (SDQ), e.g. a store of a multi-store order."""

    location_qualifier: str | None = None
    location: str
    quantity: Amount | None = None
    unit: str | None = None


class LineAck(_Model):
    """One line-item acknowledgment (ACK): status and the quantity/date it applies to."""

    status: str | None = None
    status_code: str | None = None
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)


class Line(_Model):
    """An order, order-change, order-response or invoice line."""

    line_number: str | None = None
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    unit_price: Amount | None = None
    price_basis: str | None = None
    item_ids: ItemIds = Field(default_factory=ItemIds)
    description: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)
    status: str | None = None
    status_code: str | None = None
    quantity_left_to_receive: Amount | None = None
    acknowledgments: list[LineAck] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    destinations: list[DestinationQuantity] = Field(default_factory=list)
    prices: list[Price] = Field(default_factory=list)
    pack: Amount | None = None
    pack_size: Amount | None = None
    pack_size_unit: str | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class OrderTotals(_Model):
    line_count: int | None = None
    quantity_total: Amount | None = None
    amount: Amount | None = None


class InvoiceTotals(_Model):
    amount: Amount | None = None
    amount_subject_to_discount: Amount | None = None
    discounted_amount: Amount | None = None
    terms_discount: Amount | None = None
    line_count: int | None = None
    quantity_total: Amount | None = None


# --- records ----------------------------------------------------------------------------


class UnmappedValue(_Model):
    """An element value the partner sent that has no field in the record: kept as sent,
    with where it stood (see ``translators.accounting``)."""

    segment: str
    position: int
    """The segment's position in its transaction set or message; ST or UNH is 1."""
    element: str
    """``N104`` (element 4 of N1), ``REF04-02`` (component 2 of element 4)."""
    repetition: int | None = None
    """The repetition's number when it is not the first (EDIFACT syntax version 4)."""
    value: str
    loop: str | None = None
    """The loop or segment group path (``N1``, ``PO1/N1``, ``SG2/SG5``) where the pipeline
    validated the transaction; ``None`` otherwise."""


class _RecordBase(_Model):
    schema_version: str = SCHEMA_VERSION
    """The version of this record contract (``schemas/records/CHANGELOG.md``)."""
    source: Source
    parties: list[Party] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    unmapped: list[UnmappedValue] = Field(default_factory=list)
    """Every element value the record has no field for (nothing a partner sent is
    dropped without a word)."""


class _OrderBase(_RecordBase):
    po_number: str | None = None
    order_date: str | None = None
    release_number: str | None = None
    contract_number: str | None = None
    purpose: str | None = None
    purpose_code: str | None = None
    order_type: str | None = None
    order_type_code: str | None = None
    currency: str | None = None
    payment_terms: list[PaymentTerms] = Field(default_factory=list)
    fob: Fob | None = None
    carrier: Carrier | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    totals: OrderTotals = Field(default_factory=OrderTotals)


class PurchaseOrder(_OrderBase):
    """A purchase order (X12 850, EDIFACT ORDERS)."""

    kind: Literal["purchase_order"] = "purchase_order"


class PurchaseOrderChange(_OrderBase):
    """A buyer's change to a purchase order (X12 860, EDIFACT ORDCHG).

    Lines carry the change type in ``status``/``status_code`` (POC02).
    """

    kind: Literal["purchase_order_change"] = "purchase_order_change"
    change_sequence: str | None = None
    change_date: str | None = None


class OrderResponse(_OrderBase):
    """A seller's acknowledgment of a purchase order (X12 855, EDIFACT ORDRSP)."""

    kind: Literal["order_response"] = "order_response"
    response: str | None = None
    response_code: str | None = None
    ack_date: str | None = None
    seller_order_number: str | None = None


class Invoice(_RecordBase):
    """An invoice or credit/debit memo (X12 810, EDIFACT INVOIC)."""

    kind: Literal["invoice"] = "invoice"
    invoice_number: str | None = None
    invoice_date: str | None = None
    po_number: str | None = None
    po_date: str | None = None
    release_number: str | None = None
    invoice_type: str | None = None
    purpose_code: str | None = None
    currency: str | None = None
    payment_terms: list[PaymentTerms] = Field(default_factory=list)
    fob: Fob | None = None
    carrier: Carrier | None = None
    lines: list[Line] = Field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    totals: InvoiceTotals = Field(default_factory=InvoiceTotals)


class ShipQuantity(_Model):
    """A quantity of a shipped item without a field of its own (EDIFACT QTY 6063 as sent)."""

    qualifier: str
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None


class SubLine(_Model):
    """A sub-line of a shipped item (SLN): its id, relationship, quantity and products."""

    line_number: str | None = None
    parent_line_number: str | None = None
    relationship_code: str | None = None
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    unit_price: Amount | None = None
    price_basis: str | None = None
    item_ids: ItemIds = Field(default_factory=ItemIds)


class ItemIdentification(_Model):
    """A package or batch identification of an item (DESADV PCI group under LIN): marking
    instruction (4233), marks and ids (GIN, GIR, PCI C210), dates (expiry, production, ...),
    quantity and measurements."""

    marking_code: str | None = None
    marks: list[PartyId] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    quantity: Amount | None = None
    quantity_qualifier: str | None = None
    unit: str | None = None
    unit_rec20: str | None = None


class LoadDetail(_Model):
    """Load detail of an item (CLD): loads, units shipped, packaging, size and unit."""

    loads: Amount | None = None
    units_shipped: Amount | None = None
    packaging_code: str | None = None
    size: Amount | None = None
    unit: str | None = None


class ShipItem(_Model):
    """A shipped item; ``unit`` is the unit of ``quantity_shipped`` (SN102 / QTY 12, the
    despatched quantity). ``packaging``, ``weights``, ``volumes`` and ``dimensions`` describe
    the item's own pack (PO4) or come from MEA at item level."""

    line_number: str | None = None
    item_ids: ItemIds = Field(default_factory=ItemIds)
    quantity_shipped: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    quantity_ordered: Amount | None = None
    quantity_ordered_unit: str | None = None
    status_code: str | None = None
    description: str | None = None
    pack: Amount | None = None
    pack_size: Amount | None = None
    pack_size_unit: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)
    quantity_ordered_unit_rec20: str | None = None
    po_number: str | None = None
    po_date: str | None = None
    release_number: str | None = None
    quantity_shipped_to_date: Amount | None = None
    quantity_delivered: Amount | None = None
    quantity_delivered_unit: str | None = None
    quantity_delivered_unit_rec20: str | None = None
    quantities: list[ShipQuantity] = Field(default_factory=list)
    packaging: Packaging | None = None
    weights: list[Weight] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    dimensions: Dimensions | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    sub_lines: list[SubLine] = Field(default_factory=list)
    identifications: list[ItemIdentification] = Field(default_factory=list)
    loads: list[LoadDetail] = Field(default_factory=list)
    packagings: list[Packaging] = Field(default_factory=list)
    marks: list[PartyId] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class ShipPack(_Model):
    """A pack (carton, pallet) at HL level P; ``sscc`` from MAN*GM (GIN+BJ);
    ``marking_codes`` EDIFACT PCI 4233 (how the package is marked, e.g. 33E SSCC).

    ``weight`` is the first weight given (as before ``weights`` existed); ``weights`` holds
    every weight (TD1, PO4, MEA) in document order, gross and net alike."""

    sscc: str | None = None
    marks: list[PartyId] = Field(default_factory=list)
    marking_codes: list[str] = Field(default_factory=list)
    tare_sscc: str | None = None
    packaging: Packaging | None = None
    weight: Weight | None = None
    items: list[ShipItem] = Field(default_factory=list)
    packagings: list[Packaging] = Field(default_factory=list)
    weights: list[Weight] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    dimensions: Dimensions | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    quantities: list[ShipQuantity] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)


class Tare(_Model):
    """A tare (pallet) at HL level T, with its packaging and measures as a pack has them."""

    sscc: str | None = None
    marks: list[PartyId] = Field(default_factory=list)
    marking_codes: list[str] = Field(default_factory=list)
    po_number: str | None = None
    packaging: Packaging | None = None
    weight: Weight | None = None
    packagings: list[Packaging] = Field(default_factory=list)
    weights: list[Weight] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    dimensions: Dimensions | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    quantities: list[ShipQuantity] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)


class ShipOrder(_Model):
    """An order at HL level O with its packs and the items directly under it."""

    po_number: str | None = None
    po_date: str | None = None
    release_number: str | None = None
    packaging: Packaging | None = None
    weight: Weight | None = None
    packagings: list[Packaging] = Field(default_factory=list)
    weights: list[Weight] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    dimensions: Dimensions | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    marks: list[PartyId] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    packs: list[ShipPack] = Field(default_factory=list)
    items: list[ShipItem] = Field(default_factory=list)


class ShipNotice(_RecordBase):
    """An advance ship notice (X12 856, EDIFACT DESADV) with its HL hierarchy kept.

    ``ship_date``/``ship_time`` are the shipped (despatch) date, DTM 011 / DTM+11, or null:
    the notice's own date (BSN03/BSN04, DTM+137) is ``dates["transaction_creation"]``.
    ``carrier`` is the first of ``carriers``; ``weight`` the first of ``weights``;
    ``packaging`` the first of ``packagings``. ``document_type_code`` is what kind of
    notice it is as sent: BSN06 (640, e.g. AS shipment advice) or BGM 1001 (351 despatch
    advice)."""

    kind: Literal["ship_notice"] = "ship_notice"
    shipment_id: str | None = None
    ship_date: str | None = None
    ship_time: str | None = None
    purpose: str | None = None
    purpose_code: str | None = None
    structure_code: str | None = None
    carrier: ShipCarrier | None = None
    bill_of_lading: str | None = None
    packaging: Packaging | None = None
    weight: Weight | None = None
    fob: Fob | None = None
    orders: list[ShipOrder] = Field(default_factory=list)
    tares: list[Tare] = Field(default_factory=list)
    packs: list[ShipPack] = Field(default_factory=list)
    items: list[ShipItem] = Field(default_factory=list)
    line_count: int | None = None
    pro_number: str | None = None
    carriers: list[ShipCarrier] = Field(default_factory=list)
    special_handling: list[SpecialHandling] = Field(default_factory=list)
    equipment: list[Equipment] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    packagings: list[Packaging] = Field(default_factory=list)
    weights: list[Weight] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    dimensions: Dimensions | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    quantities: list[ShipQuantity] = Field(default_factory=list)
    marks: list[PartyId] = Field(default_factory=list)
    marking_codes: list[str] = Field(default_factory=list)
    document_type_code: str | None = None


class InventoryQuantity(_Model):
    qualifier: str
    type: str
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)


class InventoryItem(_Model):
    line_number: str | None = None
    item_ids: ItemIds = Field(default_factory=ItemIds)
    description: str | None = None
    unit: str | None = None
    unit_price: Amount | None = None
    prices: list[Price] = Field(default_factory=list)
    quantities: list[InventoryQuantity] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)


class InventoryReport(_RecordBase):
    """An inventory inquiry/advice (X12 846, EDIFACT INVRPT)."""

    kind: Literal["inventory_report"] = "inventory_report"
    purpose_code: str | None = None
    report_type: str | None = None
    report_id: str | None = None
    report_date: str | None = None
    currency: str | None = None
    items: list[InventoryItem] = Field(default_factory=list)
    line_count: int | None = None


class TransactionError(_Model):
    """One reported error: segment context (AK3/IK3) and, when given, the element (AK4/IK4)."""

    segment_tag: str | None = None
    segment_position: int | None = None
    loop_id: str | None = None
    code: str | None = None
    element_position: int | None = None
    component_position: int | None = None
    repetition: int | None = None
    data_element: str | None = None
    code_element: str | None = None
    bad_value: str | None = None


class AcknowledgedTransaction(_Model):
    set_id: str | None = None
    control_number: str | None = None
    implementation_ref: str | None = None
    status: str | None = None
    status_code: str | None = None
    errors: list[TransactionError] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)


class AcknowledgedGroup(_Model):
    functional_id: str | None = None
    group_control: str | None = None
    version: str | None = None
    status: str | None = None
    status_code: str | None = None
    transactions_included: int | None = None
    transactions_received: int | None = None
    transactions_accepted: int | None = None
    errors: list[str] = Field(default_factory=list)
    transactions: list[AcknowledgedTransaction] = Field(default_factory=list)


class FunctionalAck(_RecordBase):
    """A functional acknowledgment (X12 997 or 999, EDIFACT CONTRL)."""

    kind: Literal["functional_ack"] = "functional_ack"
    acknowledged_groups: list[AcknowledgedGroup] = Field(default_factory=list)


Record = Annotated[
    Union[  # noqa: UP007 - a discriminated union needs the Union form under Annotated
        PurchaseOrder,
        PurchaseOrderChange,
        OrderResponse,
        Invoice,
        ShipNotice,
        InventoryReport,
        FunctionalAck,
    ],
    Field(discriminator="kind"),
]
"""Any canonical record, discriminated by ``kind``."""

RECORD_ADAPTER: TypeAdapter[Record] = TypeAdapter(Record)

RECORD_MODELS: Mapping[str, type[BaseModel]] = MappingProxyType({
    "purchase_order": PurchaseOrder,
    "purchase_order_change": PurchaseOrderChange,
    "order_response": OrderResponse,
    "invoice": Invoice,
    "ship_notice": ShipNotice,
    "inventory_report": InventoryReport,
    "functional_ack": FunctionalAck,
})
