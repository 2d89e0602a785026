"""Canonical records: the one JSON shape of a business document, whatever the source standard.

Responsible for the Pydantic models that mappers produce and consumers read: purchase
orders (850/ORDERS), order changes (860/ORDCHG), order responses (855/ORDRSP), invoices
(810/INVOIC), ship notices (856/DESADV), inventory reports (846/INVRPT), planning and
shipping schedules (830/DELFOR, 862/DELJIT), product activity (852/SLSRPT) and functional
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
    "Activity",
    "ActivityAmount",
    "ActivityLine",
    "ActivityLocation",
    "Address",
    "AllowanceCharge",
    "Amount",
    "Carrier",
    "Communication",
    "Contact",
    "DeliveryPattern",
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
    "LineQuantity",
    "LoadDetail",
    "Location",
    "Measurement",
    "MonetaryAmount",
    "OrderResponse",
    "OrderTotals",
    "Packaging",
    "Party",
    "PartyId",
    "PaymentTerms",
    "PlanningSchedule",
    "Price",
    "ProductActivity",
    "ProductId",
    "PurchaseOrder",
    "PurchaseOrderChange",
    "Quantity",
    "Record",
    "RecordKind",
    "Reference",
    "Schedule",
    "ScheduleLine",
    "ScheduledQuantity",
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
    "planning_schedule",
    "product_activity",
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
    """A party identifier: ``value`` with its ``qualifier`` as sent (X12 N103, 66; EDIFACT
    NAD C082 3055, the agency responsible for the code list), ``code_list`` (EDIFACT 1131,
    sent rarely) and ``scheme``, the kind of identifier whatever the standard: ``gln``,
    ``duns``, ``duns4``, ``scac``, ``assigned_by_buyer``, ``assigned_by_seller``, ... or
    ``None`` when the qualifier has no name in ``translators.parties.ID_SCHEMES``."""

    qualifier: str | None = None
    value: str
    scheme: str | None = None
    code_list: str | None = None


class ProductId(_Model):
    """A product identifier with its qualifier as sent (X12 235)."""

    qualifier: str
    value: str


class Reference(_Model):
    """A reference (X12 REF/N9, EDIFACT RFF) with the dates that date it (EDIFACT DTM in the
    RFF group: ``reference`` for 2005 171, other names as in a record's ``dates``)."""

    qualifier: str
    value: str | None = None
    description: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)


class Address(_Model):
    """A postal address. ``lines`` are street lines (X12 N301/N302, EDIFACT NAD C059) and,
    first, the unstructured name-and-address lines of EDIFACT NAD C058 that did not give the
    party its name. ``region`` is the state or province code (N402, NAD 3229) and
    ``region_name`` its name (NAD C819 3228, D01B); ``location_qualifier``/``location_id``
    are X12 N405/N406 (a location identified by code, e.g. a port), ``country_subdivision``
    X12 N407."""

    lines: list[str] = Field(default_factory=list)
    city: str | None = None
    region: str | None = None
    region_name: str | None = None
    postal_code: str | None = None
    country: str | None = None
    country_subdivision: str | None = None
    location_qualifier: str | None = None
    location_id: str | None = None


class Communication(_Model):
    """One communication number (X12 PER03/04, 05/06, 07/08; EDIFACT COM C076) with its
    channel qualifier as sent (X12 365, EDIFACT 3155: TE telephone, EM e-mail, FX fax, ...)."""

    qualifier: str | None = None
    value: str


class Contact(_Model):
    """A contact (X12 PER, EDIFACT CTA with its COMs). ``function`` is the code as sent
    (X12 366, EDIFACT 3139: IC information contact, ...); ``id`` the department or employee
    (EDIFACT C056 3413); ``reference`` the contact inquiry reference (PER09). ``phone``,
    ``email`` and ``fax`` are the first number of qualifier TE, EM and FX; every number,
    those included, is in ``communications`` in the order sent."""

    function: str | None = None
    name: str | None = None
    id: str | None = None
    phone: str | None = None
    email: str | None = None
    fax: str | None = None
    communications: list[Communication] = Field(default_factory=list)
    reference: str | None = None


class Party(_Model):
    """A party with its normalised role (buyer, ship_to, mark_for, ...: the vocabulary of
    ``translators.parties.PARTY_ROLES``) and the code as sent (X12 N101, EDIFACT NAD 3035).
    ``name`` is the first name line (N102; NAD C080 first 3036, or the first C058 line when
    C080 is absent); ``additional_names`` the further ones (N201/N202, further C080 3036)."""

    role: str
    role_code: str
    name: str | None = None
    additional_names: list[str] = Field(default_factory=list)
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


class MonetaryAmount(_Model):
    """A monetary amount kept with its qualifier as sent (EDIFACT MOA 5025, X12 AMT01 522)
    and the qualifier's normalised name (``"other"`` when the name is not known)."""

    type: str
    qualifier: str
    amount: Amount | None = None
    currency: str | None = None


class Tax(_Model):
    """A tax line (X12 TXI, EDIFACT TAX with the MOA of its group).

    ``percent`` is the rate; ``amount`` the tax; ``taxable_amount`` the base it is computed
    on (TXI08, MOA 125). ``exempt_code`` is the category or exemption code as sent (X12
    TXI06 441, EDIFACT TAX 5305) and ``category`` its normalised name (``standard``,
    ``zero_rated``, ``exempt``, ``reverse_charge``, ``taxable``, ...; ``other`` when
    unknown).
    """

    type_code: str | None = None
    amount: Amount | None = None
    percent: Amount | None = None
    jurisdiction_qualifier: str | None = None
    jurisdiction: str | None = None
    exempt_code: str | None = None
    tax_id: str | None = None
    category: str | None = None
    taxable_amount: Amount | None = None


class AllowanceCharge(_Model):
    """An allowance or charge (X12 SAC, EDIFACT ALC with its group); ``taxes`` are its own
    (X12 810 TXI in the SAC loop, EDIFACT TAX-MOA in the ALC group), ``basis_amount`` the
    amount a percentage applies to (MOA 25). ``agency_qualifier``/``agency_code`` are an
    X12 SAC's agency (559) and that agency's allowance or charge code (1301)."""

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
    basis_amount: Amount | None = None
    taxes: list[Tax] = Field(default_factory=list)
    agency_qualifier: str | None = None
    agency_code: str | None = None


class PaymentTerms(_Model):
    """Payment terms (X12 ITD, EDIFACT PAT with the DTM, PCD and MOA of its group).

    A period in days is ``discount_days`` (discount terms) or ``net_days``; a period in
    other units is ``periods`` with its ``period_type_code`` (EDIFACT 2151) as sent.
    ``dates`` holds dates of the terms other than the discount and net due dates; ``amounts``
    the amounts other than the discount amount.
    """

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
    terms_code: str | None = None
    time_relation_code: str | None = None
    period_type_code: str | None = None
    periods: int | None = None
    deferred_due_date: str | None = None
    deferred_amount: Amount | None = None
    percent_payable: Amount | None = None
    payment_method_code: str | None = None
    percent: Amount | None = None
    penalty_percent: Amount | None = None
    dates: dict[str, str] = Field(default_factory=dict)
    amounts: list[MonetaryAmount] = Field(default_factory=list)


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
    """A weight: value, ``unit`` as sent (X12 355 LB, KG, 01 ...; EDIFACT 6411) and
    ``unit_rec20``, its UN/ECE Rec 20 code (``translators.units``), ``None`` when it has
    none; qualifier as sent (X12 187 or EDIFACT 6313: G gross, N net, ...)."""

    value: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    qualifier: str | None = None


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
    """A price as sent with its basis and a normalised price per one unit.

    ``unit_price`` is the price as sent (X12 CTP03, PO104/IT104; EDIFACT PRI 5118);
    ``type`` its normalised kind (``net``, ``gross``, ``other``) beside ``type_code`` as
    sent (CTP02 236, PRI 5125); ``basis_code`` the basis as sent (X12 639, EDIFACT 5375);
    ``quantity``/``unit`` the quantity the price is for as sent (EDIFACT 5284/6411; in an
    X12 CTP, CTP04/CTP05). ``per_unit_price`` is the price of one unit: ``unit_price``
    divided by the basis quantity (EDIFACT 5284; the quantity an X12 639 code names: per
    hundred, per thousand, per dozen, ...); ``None`` when the basis is unknown.
    """

    class_code: str | None = None
    type_code: str | None = None
    unit_price: Amount | None = None
    quantity: Amount | None = None
    unit: str | None = None
    multiplier_qualifier: str | None = None
    multiplier: Amount | None = None
    type: str | None = None
    basis_code: str | None = None
    per_unit_price: Amount | None = None


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


class LineQuantity(_Model):
    """One quantity of a line with its qualifier as sent (EDIFACT QTY 6063, X12 QTY01 673)
    and the qualifier's normalised name (``ordered``, ``invoiced``, ``despatched``,
    ``delivered``, ``units_per_pack``, ...; ``other`` when unknown)."""

    type: str
    qualifier: str
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None


class SubLine(_Model):
    """A sub-line of an order or invoice line or of a shipped item (X12 SLN with its PID,
    DTM, REF, CTP, MSG)."""

    line_number: str | None = None
    parent_line_number: str | None = None
    relationship_code: str | None = None
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    unit_price: Amount | None = None
    price_basis: str | None = None
    net_price: Price | None = None
    price_relationship_code: str | None = None
    item_ids: ItemIds = Field(default_factory=ItemIds)
    description: str | None = None
    prices: list[Price] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Line(_Model):
    """An order, order-change, order-response or invoice line.

    ``unit_price``/``price_basis`` are the line's price and basis code as sent (PO104/
    PO105, IT104/IT105; the EDIFACT net price, else the first PRI); ``net_price`` and
    ``gross_price`` the same prices with their basis and per-unit price; ``prices`` every
    other price (in ``net_price`` and ``gross_price`` the price qualifier, EDIFACT 5125
    AAA/AAB or X12 CTP02 NET, is carried by the field: their ``type_code`` is empty).
    ``amount`` is the line amount (EDIFACT MOA 203, X12 AMT 1 in the line),
    ``amounts`` any other amount of the line with its qualifier. ``quantities`` lists the
    line's other quantities with their qualifiers (EDIFACT QTY, X12 QTY): every one but the
    line's own ``quantity`` (PO102/IT102, or the EDIFACT QTY chosen for it)."""

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
    contacts: list[Contact] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    amount: Amount | None = None
    net_price: Price | None = None
    gross_price: Price | None = None
    quantities: list[LineQuantity] = Field(default_factory=list)
    amounts: list[MonetaryAmount] = Field(default_factory=list)
    sub_lines: list[SubLine] = Field(default_factory=list)


class OrderTotals(_Model):
    """An order's summary. ``amount`` is the total amount of the order (X12 AMT TT, EDIFACT
    MOA 86/128); ``line_items_amount`` the goods (sum of line amounts: AMT 1, MOA 79);
    ``taxable_amount`` (MOA 125), ``tax_amount`` (MOA 176/124), ``allowances_amount``
    (MOA 260/131), ``charges_amount`` (MOA 259), ``amount_due`` (MOA 9); ``amounts`` every
    other summary amount with its qualifier, and any repeat of one already named."""

    line_count: int | None = None
    quantity_total: Amount | None = None
    amount: Amount | None = None
    line_items_amount: Amount | None = None
    taxable_amount: Amount | None = None
    tax_amount: Amount | None = None
    allowances_amount: Amount | None = None
    charges_amount: Amount | None = None
    amount_due: Amount | None = None
    amounts: list[MonetaryAmount] = Field(default_factory=list)


class InvoiceTotals(_Model):
    """An invoice's summary: the X12 TDS amounts (``amount`` TDS01 / MOA 77, 86, 39, 128;
    ``amount_subject_to_discount`` TDS02 / MOA 129; ``discounted_amount`` TDS03;
    ``terms_discount`` TDS04 / MOA 52) and the same named totals as ``OrderTotals``."""

    amount: Amount | None = None
    amount_subject_to_discount: Amount | None = None
    discounted_amount: Amount | None = None
    terms_discount: Amount | None = None
    line_count: int | None = None
    quantity_total: Amount | None = None
    line_items_amount: Amount | None = None
    taxable_amount: Amount | None = None
    tax_amount: Amount | None = None
    allowances_amount: Amount | None = None
    charges_amount: Amount | None = None
    amount_due: Amount | None = None
    amounts: list[MonetaryAmount] = Field(default_factory=list)


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
    """What every record has. ``contacts`` are those given outside any party (X12 PER
    before the first N1, EDIFACT CTA-COM outside a NAD group).

    ``dates`` (here and on lines, schedules, items, ...) maps a date's meaning to its ISO
    8601 value. The names are the same for X12 (374) and EDIFACT (2005): ``order``,
    ``invoice``, ``requested_delivery``, ``requested_ship``, ``shipped``,
    ``estimated_delivery``, ``estimated_arrival``, ``delivered``, ``promised_delivery``,
    ``cancel_after``, ``effective``, ``transaction_creation``, ... (the tables in
    ``translators.x12.mappers.dates`` and ``translators.edifact.mappers.dates``). A
    qualifier without a name is kept under ``dtm_<code as sent>`` (``dtm_999``). A second
    date of the same name with another value is kept as ``<name>_2`` (then ``_3``, ...), so
    none is dropped. An X12 time code (DTM04: ET, UT, ...) is kept as ``<name>_time_code``;
    no zone is invented or converted."""

    schema_version: str = SCHEMA_VERSION
    """The version of this record contract (``schemas/records/CHANGELOG.md``)."""
    source: Source
    parties: list[Party] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
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
    """An invoice or credit/debit memo (X12 810, EDIFACT INVOIC).

    ``invoice_type`` is normalised (``invoice``, ``credit_note``, ``debit_note``, ...: see
    ``translators.codes``) from ``invoice_type_code`` as sent (X12 BIG07, EDIFACT BGM 1001).
    """

    kind: Literal["invoice"] = "invoice"
    invoice_number: str | None = None
    invoice_date: str | None = None
    po_number: str | None = None
    po_date: str | None = None
    release_number: str | None = None
    invoice_type: str | None = None
    invoice_type_code: str | None = None
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
    """A quantity of an item, with the location it is held at when the document says
    (846: the N1 loop the QTY sits in, N103/N104; INVRPT: the LOC of its QTY group)."""

    qualifier: str
    type: str
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    location_qualifier: str | None = None
    location: str | None = None
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


class DeliveryPattern(_Model):
    """A ship/delivery pattern: which days (X12 678, EDIFACT 2015) and at what time of the
    day (X12 679, EDIFACT 2017); both code lists as sent."""

    code: str | None = None
    time_code: str | None = None


class ScheduledQuantity(_Model):
    """One quantity of a schedule line: what it counts (``type``), how firm it is
    (``commitment``), the period it covers and its codes as sent.

    ``type``: ``scheduled`` (to be delivered or shipped: X12 FST, EDIFACT QTY 1/113),
    ``jit`` (an 862 JIT delivery time within its FST day), ``received``, ``shipped``,
    ``cumulative_received``, ``cumulative_shipped`` (830/862 SHP, EDIFACT QTY 48/12/70),
    ``cumulative`` (resource authorisations, X12 ATH and EDIFACT QTY 3), else
    ``qty_<code>``. ``period`` comes from X12 681 or EDIFACT 2013, which share their codes
    (``discrete``, ``weekly``, ``monthly``, ``flexible``, ...); ``start``/``end`` bound
    it (ISO dates or date-times, never invented).
    """

    type: str
    type_code: str | None = None
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    commitment: str | None = None
    commitment_code: str | None = None
    period: str | None = None
    period_code: str | None = None
    start: str | None = None
    end: str | None = None
    patterns: list[DeliveryPattern] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)


class Activity(_Model):
    """One reported activity quantity: what happened (``activity``, normalised from the
    code as sent in ``activity_code``: X12 ZA01 859, EDIFACT QTY 6063), how much, in which
    unit (as sent, and on Rec 20 where it is a Rec 20 code), and its dates."""

    activity: str
    activity_code: str
    quantity: Amount | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)


class ScheduleLine(_Model):
    """One item of a planning or shipping schedule with its scheduled quantities."""

    line_number: str | None = None
    item_ids: ItemIds = Field(default_factory=ItemIds)
    description: str | None = None
    unit: str | None = None
    unit_rec20: str | None = None
    unit_price: Amount | None = None
    quantities: list[ScheduledQuantity] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class PlanningSchedule(_RecordBase):
    """A planning schedule / forecast (X12 830, EDIFACT DELFOR) or a shipping schedule
    (X12 862, EDIFACT DELJIT): ``schedule_type`` is ``planning`` or ``shipping``, with
    the code as sent in ``schedule_type_code`` (X12 675 BFR04/BSS04, EDIFACT BGM 1001)."""

    kind: Literal["planning_schedule"] = "planning_schedule"
    schedule_type: str | None = None
    schedule_type_code: str | None = None
    purpose: str | None = None
    purpose_code: str | None = None
    quantity_basis_code: str | None = None
    document_number: str | None = None
    release_number: str | None = None
    contract_number: str | None = None
    po_number: str | None = None
    document_date: str | None = None
    horizon_start: str | None = None
    horizon_end: str | None = None
    lines: list[ScheduleLine] = Field(default_factory=list)
    line_count: int | None = None
    quantity_total: Amount | None = None


class ActivityAmount(_Model):
    """A monetary amount of a line or location (X12 AMT, EDIFACT MOA): qualifier as sent."""

    qualifier: str
    amount: Amount | None = None


class ActivityLocation(_Model):
    """The activity of one line at one location (store, warehouse): X12 SDQ pairs under a
    ZA, EDIFACT LOC (C517: 3225 id, 3055 agency as ``qualifier``)."""

    qualifier: str | None = None
    location: str
    activities: list[Activity] = Field(default_factory=list)
    amounts: list[ActivityAmount] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)


class ActivityLine(_Model):
    """An item of a product activity report: its ids and the activity reported for it,
    in total (``activities``) and per location (``locations``)."""

    line_number: str | None = None
    item_ids: ItemIds = Field(default_factory=ItemIds)
    description: str | None = None
    prices: list[Price] = Field(default_factory=list)
    pack: Amount | None = None
    pack_size: Amount | None = None
    pack_size_unit: str | None = None
    amounts: list[ActivityAmount] = Field(default_factory=list)
    activities: list[Activity] = Field(default_factory=list)
    locations: list[ActivityLocation] = Field(default_factory=list)
    dates: dict[str, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class ProductActivity(_RecordBase):
    """Product activity data: sales, stock and other movements of items per location over a
    reporting period (X12 852, EDIFACT SLSRPT).

    ``report_type_code`` is the code that says what the report is, as sent (X12 XQ01
    transaction handling code, EDIFACT BGM 1001); ``purpose_code`` is X12 XQ05 (005010) or
    EDIFACT BGM 1225. The period is XQ02/XQ03 or DTM 194/206 (90/91) of the header.
    """

    kind: Literal["product_activity"] = "product_activity"
    report_id: str | None = None
    report_type_code: str | None = None
    purpose_code: str | None = None
    report_date: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    currency: str | None = None
    lines: list[ActivityLine] = Field(default_factory=list)
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
        PlanningSchedule,
        ProductActivity,
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
    "planning_schedule": PlanningSchedule,
    "product_activity": ProductActivity,
    "functional_ack": FunctionalAck,
})
