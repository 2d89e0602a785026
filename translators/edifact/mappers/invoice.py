"""Mapper for the INVOIC invoice (and credit/debit notes).

Responsible for BGM (1001 document name as ``invoice_type``, 1004 number, 1225 function
as ``purpose_code``), DTM 137 (invoice date, BIG01), RFF ON with its DTM 171 (PO number
and date, BIG04/BIG03) and which summary MOA fills which total, matched to the X12 810 TDS
amounts: TDS01 total invoice amount <- 77 invoice amount (else 86 message total, 39
invoice total amount, 128 total amount); TDS02 amount subject to terms discount <- 129;
TDS04 terms discount <- 52 discount amount; and the named totals (79 line items, 125
taxable, 124/176 tax, 260 allowances, 259 charges, 9 amount due). Shared segments (NAD,
ALC, TAX, PAT, CUX, TDT, LIN, MOA, ...) go through ``LineDocument``.
It must not raise on valid-but-odd input: unreadable fields become ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.codes import edifact_invoice_type
from translators.edifact.mappers.document import DOCUMENT_COVERAGE, LineDocument
from translators.edifact.segment import Segment
from translators.money import INVOICE_TOTAL_FIELDS
from translators.record_data import RecordData, complete
from translators.text import text_or_none

__all__ = ["INVOICE_COVERAGE", "map_invoice"]

INVOICE_COVERAGE: Final = DOCUMENT_COVERAGE | Coverage({"BGM": "1.1 2.1 3"})
"""What the INVOIC mapper maps."""

_INVOICE_TOTALS: Final = ("77", "86", "39", "128")

# 6063: 47 invoiced quantity, else 46 delivered, 12 despatched, 1 discrete quantity.
_INVOICED: Final = ("47", "46", "12", "1")


class _Invoice(LineDocument):
    __slots__ = ("order_ref",)

    def __init__(self, source: RecordData, mark: str) -> None:
        super().__init__(source, mark, _INVOICED, INVOICE_TOTAL_FIELDS, _INVOICE_TOTALS)
        self.order_ref: dict[str, Any] | None = None

    def header_segment(self, segment: Segment) -> bool:
        if segment.tag != "BGM":
            return False
        record = self.record
        record["invoice_type"], record["invoice_type_code"] = edifact_invoice_type(
            segment.get(1, 1)
        )
        record["invoice_number"] = text_or_none(segment.get(2, 1))
        record["purpose_code"] = text_or_none(segment.get(3))
        return True

    def header_date(self, code: str, value: str) -> bool:
        if code == "137" and self.record.get("invoice_date") is None:
            self.record["invoice_date"] = value[:10]
            return True
        return False

    def header_reference(self, ref: dict[str, Any]) -> bool:
        if ref["qualifier"] == "ON" and self.record.get("po_number") is None:
            self.record["po_number"] = ref["value"]
            self.order_ref = ref
            return True
        return False

    def reference_date(self, ref: dict[str, Any], code: str, value: str) -> None:
        # 171 reference date; 4 order date (sent by some partners in place of 171).
        if (
            ref is self.order_ref
            and (code == "171" or code == "4")
            and self.record.get("po_date") is None
        ):
            self.record["po_date"] = value[:10]


def map_invoice(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData:
    """Map an INVOIC message (UNH..UNT) to ``Invoice`` record data."""
    doc = _Invoice(source, decimal_mark)
    for segment in segments:
        tag = segment.tag
        # Not UNH or UNT; a body tag rarely has N second, so one code point test mostly.
        if len(tag) < 2 or ord(tag[1]) != 0x4E or (tag != "UNH" and tag != "UNT"):
            doc.feed(segment)
    record = doc.finish()
    record["unmapped"] = unmapped_edifact(segments, INVOICE_COVERAGE, doc.skipped)
    return complete("Invoice", record)
