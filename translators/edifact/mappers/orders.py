"""Mappers for the order family: ORDERS purchase order, ORDCHG order change, ORDRSP order
response.

Responsible for BGM (1001 document name, 1004 number, 1225 function, 4343 response type),
the header dates and references that are header fields (DTM 137, RFF ON/CT/VN with the
DTM 171 dating the order), the line actions of LIN 1229 and which summary MOA is the
order's total amount (86, else 128); the other named totals are ``LineDocument``'s.
Shared segments go through ``LineDocument``. One pass; the record model is built once.
Field by field the records match what the X12 mappers make of 850/860/855: BGM 1004 is the
PO number of an order (BEG03), RFF ON the PO number an ORDCHG or ORDRSP refers to (BCH03,
BAK03) and the DTM 171 after it the PO date (BCH06, BAK04); DTM 137 is the order date
(BEG05), the change date (BCH11) or the acknowledgment date (BAK09).
It must not raise on valid-but-odd input: unreadable fields become ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.edifact.mappers.code_lists import (
    CHANGE_ACTIONS,
    LINE_ACTIONS,
    ORDER_TYPES,
    PURPOSES,
    RESPONSES,
    coded,
)
from translators.edifact.mappers.document import DOCUMENT_COVERAGE, LineDocument
from translators.edifact.segment import Segment
from translators.money import ORDER_TOTAL_FIELDS
from translators.record_data import RecordData, complete
from translators.text import text_or_none
from translators.units import edifact_unit_to_rec20

__all__ = [
    "ORDCHG_COVERAGE",
    "ORDERS_COVERAGE",
    "ORDRSP_COVERAGE",
    "map_order_change",
    "map_order_response",
    "map_purchase_order",
]

# 5025 qualifiers of an order's total amount, best first: 86 message total monetary
# amount, 128 total amount (79, the line items total, is ``line_items_amount``).
_ORDER_TOTALS: Final = ("86", "128")

# 1225 Message function code 4 (Change) in an ORDRSP: the seller answers with changes.
_RESPONSE_FUNCTIONS: Final = {"4": "accepted_with_changes"}

# 6063: 21 ordered quantity, 1 discrete quantity; 113 quantity to be delivered.
_ORDERED: Final = ("21", "1")
_TO_BE_DELIVERED: Final = "113"


class _Order(LineDocument):
    """ORDERS, and the base of ORDCHG and ORDRSP."""

    __slots__ = ("order_ref",)

    def __init__(self, source: RecordData, mark: str) -> None:
        super().__init__(source, mark, _ORDERED, ORDER_TOTAL_FIELDS, _ORDER_TOTALS)
        self.order_ref: dict[str, Any] | None = None

    def header_segment(self, segment: Segment) -> bool:
        if segment.tag != "BGM":
            return False
        self.bgm(segment)
        return True

    def bgm(self, segment: Segment) -> None:
        record = self.record
        record["order_type"], record["order_type_code"] = coded(ORDER_TYPES, segment.get(1, 1))
        record["po_number"] = text_or_none(segment.get(2, 1))
        record["purpose"], record["purpose_code"] = coded(PURPOSES, segment.get(3))

    def header_date(self, code: str, value: str) -> bool:
        if code == "137" and self.record.get("order_date") is None:
            self.record["order_date"] = value[:10]
            return True
        return False

    def header_reference(self, ref: dict[str, Any]) -> bool:
        if ref["qualifier"] == "CT" and self.record.get("contract_number") is None:
            self.record["contract_number"] = ref["value"]
            return True
        return False


class _Referring(_Order):
    """ORDCHG and ORDRSP: they refer to an order by RFF ON, dated by the DTM 171 after it."""

    __slots__ = ()

    def header_reference(self, ref: dict[str, Any]) -> bool:
        if ref["qualifier"] == "ON" and self.record.get("po_number") is None:
            self.record["po_number"] = ref["value"]
            self.order_ref = ref
            return True
        return super().header_reference(ref)

    def reference_date(self, ref: dict[str, Any], code: str, value: str) -> None:
        # 171 reference date; 4 order date (sent by some partners in place of 171).
        if (
            ref is self.order_ref
            and (code == "171" or code == "4")
            and self.record.get("order_date") is None
        ):
            self.record["order_date"] = value[:10]

    def header_date(self, code: str, value: str) -> bool:
        return False


class _Change(_Referring):
    __slots__ = ("document_number",)

    def __init__(self, source: RecordData, mark: str) -> None:
        super().__init__(source, mark)
        self.document_number: str | None = None

    def bgm(self, segment: Segment) -> None:
        record = self.record
        self.document_number = text_or_none(segment.get(2, 1))
        record["purpose"], record["purpose_code"] = coded(PURPOSES, segment.get(3))

    def header_date(self, code: str, value: str) -> bool:
        if code == "137" and self.record.get("change_date") is None:
            self.record["change_date"] = value[:10]
            return True
        return False

    def start_line(self, segment: Segment) -> dict[str, Any]:
        line = super().start_line(segment)
        line["status"], line["status_code"] = coded(CHANGE_ACTIONS, segment.get(2))
        return line

    def finish(self) -> dict[str, Any]:
        # BGM 1004 numbers the change (BCH05); it is the PO number only when no RFF ON is.
        record = super().finish()
        if record.get("po_number") is None:
            record["po_number"] = self.document_number
        else:
            record["change_sequence"] = self.document_number
        return record


class _Response(_Referring):
    __slots__ = ("document_number",)

    def __init__(self, source: RecordData, mark: str) -> None:
        super().__init__(source, mark)
        self.document_number: str | None = None

    def bgm(self, segment: Segment) -> None:
        # 1225 is either a purpose (9 original) or itself the answer (29 accepted, 27 not
        # accepted, and 4 change: the order accepted with changes); 4343 (response type)
        # is the answer when sent, and 1225 then is the purpose.
        record = self.record
        self.document_number = text_or_none(segment.get(2, 1))
        function = segment.get(3).strip()
        response = segment.get(4).strip()
        if response:
            if function in PURPOSES or function not in RESPONSES:
                record["purpose"], record["purpose_code"] = coded(PURPOSES, function)
            record["response"], record["response_code"] = coded(RESPONSES, response)
        elif function in RESPONSES:
            record["response"], record["response_code"] = coded(RESPONSES, function)
        elif function in _RESPONSE_FUNCTIONS:
            record["response"], record["response_code"] = _RESPONSE_FUNCTIONS[function], function
        else:
            record["purpose"], record["purpose_code"] = coded(PURPOSES, function)

    def header_reference(self, ref: dict[str, Any]) -> bool:
        if ref["qualifier"] == "VN" and self.record.get("seller_order_number") is None:
            self.record["seller_order_number"] = ref["value"]
            return True
        return super().header_reference(ref)

    def header_date(self, code: str, value: str) -> bool:
        if code == "137" and self.record.get("ack_date") is None:
            self.record["ack_date"] = value[:10]
            return True
        return False

    def start_line(self, segment: Segment) -> dict[str, Any]:
        line = super().start_line(segment)
        status, code = coded(LINE_ACTIONS, segment.get(2))
        if code is not None:
            line["status"], line["status_code"] = status, code
            line["acknowledgments"] = [
                {
                    "status": status,
                    "status_code": code,
                    "quantity": None,
                    "unit": None,
                    "unit_rec20": None,
                    "dates": {},
                }
            ]
        return line

    def line_quantity(
        self, line: dict[str, Any], qualifier: str, quantity: Decimal | None, unit: str | None
    ) -> bool:
        # QTY 113 (to be delivered) is the quantity the line's acknowledgment confirms.
        acks: list[dict[str, Any]] | None = line.get("acknowledgments")
        if qualifier == _TO_BE_DELIVERED and acks and acks[0]["quantity"] is None:
            acks[0]["quantity"] = quantity
            acks[0]["unit"] = unit
            acks[0]["unit_rec20"] = edifact_unit_to_rec20(unit)
            return True
        return False

    def finish(self) -> dict[str, Any]:
        # BGM 1004 numbers the response; it stands for the seller's order number (BAK08)
        # unless RFF VN gives that.
        record = super().finish()
        if record.get("seller_order_number") is None:
            record["seller_order_number"] = self.document_number
        return record


ORDERS_COVERAGE: Final = DOCUMENT_COVERAGE | Coverage({"BGM": "1.1 2.1 3"})
ORDCHG_COVERAGE: Final = DOCUMENT_COVERAGE | Coverage({"BGM": "2.1 3"})
ORDRSP_COVERAGE: Final = DOCUMENT_COVERAGE | Coverage({"BGM": "2.1 3 4"})


def _map(doc: LineDocument, segments: Sequence[Segment], coverage: Coverage) -> dict[str, Any]:
    for segment in segments:
        tag = segment.tag
        # Not UNH or UNT; a body tag rarely has N second, so one code point test mostly.
        if len(tag) < 2 or ord(tag[1]) != 0x4E or (tag != "UNH" and tag != "UNT"):
            doc.feed(segment)
    record = doc.finish()
    record["unmapped"] = unmapped_edifact(segments, coverage, doc.skipped)
    return record


def map_purchase_order(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData:
    """Map an ORDERS message (UNH..UNT) to a ``PurchaseOrder``."""
    return complete("PurchaseOrder", _map(_Order(source, decimal_mark), segments, ORDERS_COVERAGE))


def map_order_change(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData:
    """Map an ORDCHG message (UNH..UNT) to a ``PurchaseOrderChange``."""
    record = _map(_Change(source, decimal_mark), segments, ORDCHG_COVERAGE)
    return complete("PurchaseOrderChange", record)


def map_order_response(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData:
    """Map an ORDRSP message (UNH..UNT) to an ``OrderResponse``."""
    record = _map(_Response(source, decimal_mark), segments, ORDRSP_COVERAGE)
    return complete("OrderResponse", record)
