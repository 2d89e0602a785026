"""The same business document written in X12 004010 and in UN/EDIFACT (D96A, D01B) maps to
the same canonical record, source apart.

The documents in tests/data/cross carry the same content in each standard. Codes the
records keep "as sent" come from each standard's own code list (X12 353 ``00`` and
EDIFACT 1225 ``9`` both say "original"); ``CODE_PAIRS`` lists, field by field, the X12
code and the EDIFACT code the two documents use for the same thing, and the X12 record's
codes are rewritten through it before the comparison, so the test pins both the
normalised fields and the codes. Everything else must be equal as it stands.

The purchase order twins also carry what issue 16 found lost: a second communication
number of a contact, a name continued in N2 / a second C080 component, a party named in
NAD C058 (name and address lines, no C080), a mark-for party (N1*Z7 / NAD+UC) beside the
ship-to, a repeated requested delivery date and dates by meaning. Header contacts (PER
before the first N1) are not in the twins: EDIFACT ORDERS has CTA-COM only in a NAD group
(tests/translators/test_parties_contacts_dates.py pins both standards' header contacts).

What the standards cannot both carry was left out of both documents (X12-only: the BSN05
hierarchical structure code, CAD routing without a SCAC qualifier, an ITD with both a
discount period and a net period, which EDIFACT splits into two PAT groups, TD302 the
equipment initial, which EDIFACT sends inside the one equipment id; EDIFACT-only: MOA 203
line amounts, which the 810's IT1 loop has no AMT for, the PAT 2009 time relation and the
TAX 5305 category S, which X12 441 cannot say, and PCI marking instructions such as 33E,
which X12 says through MAN01 GM). The invoice pair carries money in both: an allowance at
line level, a charge with its own tax (TXI in the 810's SAC loop, TAX-MOA in the ALC
group), line and header taxes, payment terms with a discount amount and a due date, and
the line items total (AMT 1, MOA 79).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from translators.edifact.envelope import Message, walk
from translators.edifact.mappers import map_message
from translators.edifact.reader import EDIFACTReader
from translators.records import Identity, Record, Source
from translators.x12.pipeline import TransactionOutcome, translate_x12

DATA = Path(__file__).resolve().parents[1] / "data" / "cross"

# What says where a record came from rather than what it says: the envelope, and the
# unmapped values, which are located in each standard's own syntax (segment, element).
PROVENANCE = {"source", "unmapped"}

# field name -> {X12 code: EDIFACT code} for codes kept as sent whose lists differ.
CodePairs = dict[str, dict[str, str]]

_COMMON: CodePairs = {
    "purpose_code": {"00": "9"},  # 353 Original / 1225 Original
    "id_qualifier": {"2": "182"},  # TD502 66 SCAC / 3055 US, Standard Carrier Alpha Code
    "mode": {"M": "30"},  # TD504 91 Motor / 8067 Road transport
    # 235 / 7143 mutually defined; 88 / 7405 SSCC; 66 GLN / 3055 9 GS1 (EAN)
    "qualifier": {"ZZ": "ZZZ", "GM": "BJ", "UL": "9"},
    "unit": {"KG": "KGM", "LB": "LBR", "IN": "INH", "CF": "FTQ"},  # 355 / Rec 20
}

CASES: dict[str, tuple[str, CodePairs]] = {
    "850-purchase-order": (
        "ORDERS",
        {
            **_COMMON,
            "order_type_code": {"KN": "220"},  # 92 Purchase Order / 1001 Order
            "role_code": {"Z7": "UC"},  # 98 Mark-for Party / 3035 Ultimate consignee
            "type_code": {"01": "1"},  # 336 Basic / 4279 Basic
            "basis_date_code": {"3": "5"},  # 333 Invoice Date / 2475 Date of invoice
            "code": {"D240": "FC", "C310": "DI"},  # 1300 freight, discount / 7161
        },
    ),
    "810-invoice": (
        "INVOIC",
        {
            **_COMMON,
            "invoice_type_code": {"DI": "380"},  # 640 Debit Invoice / 1001 Commercial invoice
            "type_code": {"08": "22", "VA": "VAT"},  # 336 / 4279 discount; 963 / 5153 VAT
            "basis_date_code": {"3": "5"},
            "code": {"D240": "FC", "C310": "DI"},
        },
    ),
    "856-ship-notice": (
        "DESADV",
        {
            **_COMMON,
            # TD101 103 corrugated carton, wooden pallet / 7065 Carton, Pallet
            "code": {"CTN25": "CT", "PLT94": "PX"},
            "type_code": {"TL": "TE"},  # TD301 40 Trailer / EQD 8053 Trailer
            # TD501 133 Origin/Delivery Carrier (the one carrier, door to door) / TDT 8051
            # 20 Main-carriage transport
            "routing_sequence_code": {"B": "20"},
            "document_type_code": {"AS": "351"},  # BSN06 640 Shipment Advice / 1001
        },
    ),
    "855-order-response": (
        "ORDRSP",
        {
            **_COMMON,
            # 668 accepted, rejected, changes made / 1229 accepted, not accepted, amended
            "status_code": {"IA": "5", "IR": "7", "IC": "6"},
        },
    ),
    "846-inventory": (
        "INVRPT",
        {
            **_COMMON,
            "report_type": {"DD": "35"},  # 755 Distributor Inventory Report / 1001 Inventory report
            # 673 Quantity Available for Sale / 6063 Actual stock; 17 on hand in both lists
            "qualifier": {**_COMMON["qualifier"], "33": "145"},
        },
    ),
    # One 852 against both SLSRPT methods: D96A reports by location (LOC, then its LINs),
    # the D01B document by item (GIS, LIN, then its LOCs).
    "852-product-activity": (
        "SLSRPT",
        {
            **_COMMON,
            "report_type_code": {"H": "73E"},  # XQ01 305 / BGM 1001 sales data report
            # 859 sold, available for sale, received / 6063 statistical sales, actual stock,
            # received
            "activity_code": {"QS": "153", "QA": "145", "QR": "48"},
        },
    ),
}


def x12_record(path: Path) -> Record:
    """The record of the single transaction set in ``path``, read by the X12 pipeline."""
    outcomes = [o for o in translate_x12(path.read_bytes()) if isinstance(o, TransactionOutcome)]
    assert len(outcomes) == 1
    [outcome] = outcomes
    assert outcome.errors == [], outcome.errors
    assert outcome.record is not None
    return outcome.record


def edifact_source(message: Message) -> Source:
    """A ``Source`` for ``message`` built from its UNB, UNG and UNH."""
    unb = message.interchange
    return Source(
        standard="edifact",
        version=f"{message.version}{message.release}",
        transaction_type=message.type,
        sender=Identity(qualifier=unb.sender.qualifier or None, id=unb.sender.id),
        receiver=Identity(qualifier=unb.recipient.qualifier or None, id=unb.recipient.id),
        interchange_control=unb.control_reference,
        group_control=message.group.control_reference if message.group is not None else None,
        transaction_control=message.reference,
        test=unb.test,
    )


def edifact_record(path: Path) -> Record:
    """The record of the single message in ``path``, read with its declared decimal mark."""
    messages = [e for e in walk(EDIFACTReader(path.read_bytes())) if isinstance(e, Message)]
    assert len(messages) == 1
    [message] = messages
    assert [i for i in message.issues if i.severity == "error"] == []
    record = map_message(
        message.segments,
        edifact_source(message),
        decimal_mark=message.interchange.delimiters.decimal,
    )
    assert record is not None
    return record


def as_edifact_codes(value: Any, pairs: CodePairs, field: str = "") -> Any:
    """``value`` (a model dump) with each X12 code of ``pairs`` replaced by its EDIFACT code."""
    if isinstance(value, dict):
        return {k: as_edifact_codes(v, pairs, k) for k, v in value.items()}
    if isinstance(value, list):
        return [as_edifact_codes(v, pairs, field) for v in value]
    if isinstance(value, str) and field in pairs:
        return pairs[field].get(value, value)
    return value


def _pairs() -> list[tuple[str, str]]:
    found = []
    for name in CASES:
        for path in sorted(DATA.glob(f"{name}.d*.edi")):
            found.append((name, path.name))
    return found


@pytest.mark.parametrize(("name", "edifact_file"), _pairs())
def test_same_document_same_record(name: str, edifact_file: str) -> None:
    """An X12 transaction set and an EDIFACT message with the same content map to equal
    records, source apart, once each X12 code is read as its EDIFACT counterpart."""
    message_type, pairs = CASES[name]
    x12 = x12_record(DATA / f"{name}.x12")
    edifact = edifact_record(DATA / edifact_file)
    assert edifact.source.transaction_type == message_type
    assert edifact.kind == x12.kind
    expected = as_edifact_codes(x12.model_dump(exclude=PROVENANCE), pairs)
    assert edifact.model_dump(exclude=PROVENANCE) == expected


def test_every_pair_is_present() -> None:
    """Each X12/EDIFACT pair has its documents, and one pair is also written in D01B."""
    for name in CASES:
        assert (DATA / f"{name}.x12").is_file()
        assert (DATA / f"{name}.d96a.edi").is_file()
    assert list(DATA.glob("*.d01b.edi"))


@pytest.mark.parametrize("name", list(CASES))
def test_code_pairs_are_used(name: str) -> None:
    """Every code pair of a case rewrites something: no stale entries hide a change."""
    _, pairs = CASES[name]
    dump = x12_record(DATA / f"{name}.x12").model_dump(exclude=PROVENANCE)
    seen: set[tuple[str, str]] = set()

    def visit(value: Any, field: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(v, k)
        elif isinstance(value, list):
            for v in value:
                visit(v, field)
        elif isinstance(value, str) and value in pairs.get(field, {}):
            seen.add((field, value))

    visit(dump, "")
    used_fields = {field for field, _ in seen}
    specific = {f for f in pairs if f not in _COMMON or pairs[f] is not _COMMON[f]}
    assert specific <= used_fields
