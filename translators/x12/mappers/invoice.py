"""Mapper for the 810 invoice.

Responsible for BIG, IT1, TDS, CAD and CTT; shared segments go through ``LineDocument``
(with the 810's SAC loop: a TXI after a SAC is the SAC's tax). TDS01-TDS04 are N2
(implied two decimals: "12345" is 123.45); IT102 and IT104 are R. Summary AMTs fill the
invoice's named totals (AMT 1 the line items total, 5 the invoice amount when TDS01 has
not, ...) and the rest stay in ``totals.amounts`` with their qualifier.
It must not raise on valid-but-odd input: unreadable fields become ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from translators.accounting import Coverage, unmapped_x12
from translators.codes import x12_invoice_type
from translators.money import INVOICE_TOTAL_FIELDS
from translators.record_data import RecordData, complete
from translators.text import text_or_none
from translators.x12.mappers.document import (
    DOCUMENT_COVERAGE,
    LineDocument,
    component_separator,
    id_pairs,
    priced_line,
)
from translators.x12.mappers.elements import element, implied_decimal, iso_date, to_decimal, to_int
from translators.x12.segment import Segment

__all__ = ["INVOICE_COVERAGE", "map_invoice"]

INVOICE_COVERAGE: Final = DOCUMENT_COVERAGE | Coverage({
    "BIG": "1 2 3 4 5 7 8", "IT1": f"1 2 3 4 5 {id_pairs(6, 25)}", "TDS": "1 2 3 4",
    "CTT": "1 2", "CAD": "1 4 5",
})
"""What the 810 mapper maps."""


def _big(record: dict[str, Any], f: list[str]) -> None:
    # BIG01 invoice date, 02 invoice number, 03 PO date, 04 PO number, 05 release,
    # 07 transaction type code (640), 08 purpose code (353).
    record["invoice_date"] = iso_date(element(f, 1))
    record["invoice_number"] = text_or_none(element(f, 2))
    record["po_date"] = iso_date(element(f, 3))
    record["po_number"] = text_or_none(element(f, 4))
    record["release_number"] = text_or_none(element(f, 5))
    record["invoice_type"], record["invoice_type_code"] = x12_invoice_type(element(f, 7))
    record["purpose_code"] = text_or_none(element(f, 8))


def _cad(f: list[str]) -> dict[str, Any]:
    # CAD01 transportation method, 04 SCAC, 05 routing, 07/08 reference qualifier/number.
    reference = element(f, 8)
    return {
        "mode": text_or_none(element(f, 1)),
        "scac": text_or_none(element(f, 4)),
        "routing": text_or_none(element(f, 5)),
        "tracking_number": text_or_none(reference) if element(f, 7) == "CN" else None,
    }


def map_invoice(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an 810 transaction set (ST..SE) to an ``Invoice``."""
    doc = LineDocument(source, component_separator(segments), sac_taxes=True)
    record = doc.record
    totals = record["totals"]
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if tag == "IT1":
            doc.start_line(priced_line(f))
        elif tag == "BIG":
            _big(record, f)
        elif tag == "TDS":
            doc.end_lines()
            totals["amount"] = implied_decimal(element(f, 1))
            totals["amount_subject_to_discount"] = implied_decimal(element(f, 2))
            totals["discounted_amount"] = implied_decimal(element(f, 3))
            totals["terms_discount"] = implied_decimal(element(f, 4))
        elif tag == "CTT":
            doc.end_lines()
            totals["line_count"] = to_int(element(f, 1))
            totals["quantity_total"] = to_decimal(element(f, 2))
        elif tag == "CAD":
            if record.get("carrier") is None:
                record["carrier"] = _cad(f)
            else:
                doc.skipped.append(f)
        elif tag != "ST" and tag != "SE" and tag != "ISS":
            doc.feed(tag, f)
    doc.finish(INVOICE_TOTAL_FIELDS, ("5", "TT"))
    record["unmapped"] = unmapped_x12(segments, INVOICE_COVERAGE, doc.skipped)
    return complete("Invoice", record)
