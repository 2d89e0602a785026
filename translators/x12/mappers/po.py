"""Mappers for the order family: 850 purchase order, 860 order change, 855 order response.

Responsible for the transaction-specific segments (BEG, BCH, BAK, PO1, POC, ACK, CTT)
and the code tables of their status elements (353 purpose, 92 order type, 587
acknowledgment type, 668 line item status, 670 change type). Shared segments go through
``LineDocument``, AMT among them (AMT TT is the order's total amount). One pass over the
segments; the record model is built once at the end.
It must not raise on valid-but-odd input: unreadable fields become ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from translators.accounting import Coverage, unmapped_x12
from translators.money import ORDER_TOTAL_FIELDS
from translators.record_data import RecordData, complete
from translators.text import text_or_none
from translators.units import x12_unit_to_rec20
from translators.x12.mappers.dates import date_name
from translators.x12.mappers.document import (
    DOCUMENT_COVERAGE,
    LineDocument,
    component_separator,
    id_pairs,
    new_line,
    priced_line,
)
from translators.x12.mappers.elements import element, iso_date, iso_datetime, to_decimal, to_int
from translators.x12.mappers.products import add_product_ids, line_price
from translators.x12.segment import Segment

__all__ = [
    "ACK_TYPES",
    "CHANGE_TYPES",
    "LINE_STATUSES",
    "ORDER_COVERAGE",
    "ORDER_TYPES",
    "PURPOSES",
    "map_order_change",
    "map_order_response",
    "map_purchase_order",
]

# X12 353 (Transaction Set Purpose Code).
PURPOSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "00": "original",
        "01": "cancel",
        "02": "add",
        "03": "delete",
        "04": "change",
        "05": "replace",
        "06": "confirmation",
        "07": "duplicate",
        "08": "status",
        "11": "response",
        "13": "request",
        "14": "advance_notification",
        "15": "resubmission",
        "18": "reissue",
        "22": "information_copy",
    }
)

# X12 92 (Purchase Order Type Code).
ORDER_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "SA": "stand_alone",
        "DS": "dropship",
        "BK": "blanket",
        "RL": "release",
        "NE": "new_order",
        "KN": "purchase_order",
        "CN": "consigned",
        "RO": "rush_order",
        "OS": "special_order",
        "PR": "promotion",
        "RE": "reorder",
    }
)

# X12 587 (Acknowledgment Type).
ACK_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AC": "accepted_with_changes",
        "AD": "accepted_with_detail",
        "AE": "accepted_with_exceptions",
        "AH": "on_hold",
        "AK": "accepted_no_detail",
        "AP": "accepted_replenishment",
        "AT": "accepted",
        "NA": "no_acknowledgment_needed",
        "RD": "rejected_with_detail",
        "RF": "rejected_with_exceptions",
        "RJ": "rejected",
        "RO": "rejected_with_counter_offer",
        "ZZ": "mutually_defined",
    }
)

# X12 668 (Line Item Status Code).
LINE_STATUSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "IA": "accepted",
        "AC": "accepted_and_shipped",
        "AR": "accepted_and_released",
        "IB": "backordered",
        "BP": "partially_shipped_backordered",
        "IC": "changed",
        "ID": "deleted",
        "IE": "price_pending",
        "IF": "on_hold",
        "IH": "on_hold",
        "IW": "on_hold",
        "IP": "price_changed",
        "IQ": "quantity_changed",
        "IR": "rejected",
        "R1": "rejected",
        "R2": "rejected",
        "R3": "rejected",
        "R4": "rejected",
        "R5": "rejected",
        "IS": "substituted",
        "DR": "date_rescheduled",
        "SP": "schedule_date_pending",
    }
)

# X12 670 (Change or Response Type Code).
CHANGE_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AI": "added",
        "DI": "deleted",
        "CA": "changed",
        "MU": "changed",
        "CT": "dates_changed",
        "PC": "price_changed",
        "PQ": "price_quantity_changed",
        "QD": "quantity_changed",
        "QI": "quantity_changed",
        "RQ": "rescheduled_quantity_changed",
        "RS": "rescheduled",
        "RZ": "replaced",
        "NC": "no_change",
    }
)


ORDER_COVERAGE: Final = DOCUMENT_COVERAGE | Coverage({
    "BEG": "1 2 3 4 5 6", "BCH": "1 2 3 4 5 6 8 11", "BAK": "1 2 3 4 5 7 8 9",
    "PO1": f"1 2 3 4 5 {id_pairs(6, 25)}", "POC": f"1 2 3 4 5 6 7 {id_pairs(8, 27)}",
    "ACK": "1 2 3 4q 5", "CTT": "1 2",
})
"""What the 850, 860 and 855 mappers map."""


def _coded(table: Mapping[str, str], code: str) -> tuple[str | None, str | None]:
    """``(normalised name, code as sent)``; unknown codes normalise to ``"other"``."""
    if not code:
        return None, None
    return table.get(code, "other"), code


def _header_codes(record: dict[str, Any], purpose: str, order_type: str) -> None:
    record["purpose"], record["purpose_code"] = _coded(PURPOSES, purpose)
    record["order_type"], record["order_type_code"] = _coded(ORDER_TYPES, order_type)


def _beg(record: dict[str, Any], f: list[str]) -> None:
    # BEG01 purpose, BEG02 type, BEG03 PO number, BEG04 release, BEG05 date, BEG06 contract.
    _header_codes(record, element(f, 1), element(f, 2))
    record["po_number"] = text_or_none(element(f, 3))
    record["release_number"] = text_or_none(element(f, 4))
    record["order_date"] = iso_date(element(f, 5))
    record["contract_number"] = text_or_none(element(f, 6))


def _bch(record: dict[str, Any], f: list[str]) -> None:
    # BCH01 purpose, 02 type, 03 PO number, 04 release, 05 change sequence, 06 PO date,
    # 08 contract, 10 change request date, 11 PO change date.
    _header_codes(record, element(f, 1), element(f, 2))
    record["po_number"] = text_or_none(element(f, 3))
    record["release_number"] = text_or_none(element(f, 4))
    record["change_sequence"] = text_or_none(element(f, 5))
    record["order_date"] = iso_date(element(f, 6))
    record["contract_number"] = text_or_none(element(f, 8))
    record["change_date"] = iso_date(element(f, 11)) or iso_date(element(f, 10))


def _bak(record: dict[str, Any], f: list[str]) -> None:
    # BAK01 purpose, 02 acknowledgment type, 03 PO number, 04 PO date, 05 release,
    # 07 contract, 08 seller's order number, 09 acknowledgment date.
    record["purpose"], record["purpose_code"] = _coded(PURPOSES, element(f, 1))
    record["response"], record["response_code"] = _coded(ACK_TYPES, element(f, 2))
    record["po_number"] = text_or_none(element(f, 3))
    record["order_date"] = iso_date(element(f, 4))
    record["release_number"] = text_or_none(element(f, 5))
    record["contract_number"] = text_or_none(element(f, 7))
    record["seller_order_number"] = text_or_none(element(f, 8))
    record["ack_date"] = iso_date(element(f, 9))


def _poc(f: list[str]) -> dict[str, Any]:
    # POC01 line, 02 change type, 03 quantity ordered, 04 quantity left to receive,
    # 05 unit, 06 unit price, 07 price basis, 08.. ID pairs.
    line = new_line(element(f, 1), to_decimal(element(f, 3)), element(f, 5))
    line["status"], line["status_code"] = _coded(CHANGE_TYPES, element(f, 2))
    line["quantity_left_to_receive"] = to_decimal(element(f, 4))
    price = to_decimal(element(f, 6))
    basis = text_or_none(element(f, 7))
    line["unit_price"] = price
    line["price_basis"] = basis
    line["net_price"] = line_price(price, basis)
    add_product_ids(line["item_ids"], f, 8)
    return line


def _ack(line: dict[str, Any], f: list[str]) -> None:
    # ACK01 status, 02 quantity, 03 unit, 04 date qualifier (374), 05 date, 07.. ID pairs.
    status, code = _coded(LINE_STATUSES, element(f, 1))
    unit = text_or_none(element(f, 3))
    dates: dict[str, str] = {}
    qualifier = element(f, 4)
    value = iso_datetime(element(f, 5))
    if qualifier and value:
        dates[date_name(qualifier)] = value
    line.setdefault("acknowledgments", []).append(
        {
            "status": status,
            "status_code": code,
            "quantity": to_decimal(element(f, 2)),
            "unit": unit,
            "unit_rec20": x12_unit_to_rec20(unit),
            "dates": dates,
        }
    )
    if line.get("status_code") is None:
        line["status"], line["status_code"] = status, code


def _map(
    segments: Sequence[Segment], source: RecordData, header_tag: str, line_tag: str
) -> dict[str, Any]:
    doc = LineDocument(source, component_separator(segments))
    record = doc.record
    totals = record["totals"]
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if tag == line_tag:
            doc.start_line(priced_line(f) if tag == "PO1" else _poc(f))
        elif tag == "ACK":
            if doc.line is not None:
                _ack(doc.line, f)
            else:
                doc.skipped.append(f)
        elif tag == header_tag:
            if tag == "BEG":
                _beg(record, f)
            elif tag == "BCH":
                _bch(record, f)
            else:
                _bak(record, f)
        elif tag == "CTT":
            doc.end_lines()
            totals["line_count"] = to_int(element(f, 1))
            totals["quantity_total"] = to_decimal(element(f, 2))
        elif tag != "ST" and tag != "SE":
            doc.feed(tag, f)
    doc.finish(ORDER_TOTAL_FIELDS, ("TT",))
    record["unmapped"] = unmapped_x12(segments, ORDER_COVERAGE, doc.skipped)
    return record


def map_purchase_order(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 850 transaction set (ST..SE) to a ``PurchaseOrder``."""
    return complete("PurchaseOrder", _map(segments, source, "BEG", "PO1"))


def map_order_change(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 860 transaction set (ST..SE) to a ``PurchaseOrderChange``."""
    return complete("PurchaseOrderChange", _map(segments, source, "BCH", "POC"))


def map_order_response(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 855 transaction set (ST..SE) to an ``OrderResponse``."""
    return complete("OrderResponse", _map(segments, source, "BAK", "PO1"))
