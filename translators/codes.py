"""Document-level codes whose normalised meaning must not depend on the standard.

Responsible for the invoice type: X12 640 (Transaction Type Code, BIG07) and UN/EDIFACT
1001 (Document name code, INVOIC BGM) onto one vocabulary, so a credit note is
``credit_note`` whether it came as ``BIG07=CR`` or as ``BGM+381``. Codes not in a table
normalise to ``"other"``; the code as sent is kept beside the name by the caller
(``invoice_type_code``). Also ``coded``, the one way every mapper turns a code into
``(normalised name, code as sent)``.
It must not parse segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "EDIFACT_INVOICE_TYPES",
    "INVOICE_TYPES",
    "X12_INVOICE_TYPES",
    "coded",
    "edifact_invoice_type",
    "x12_invoice_type",
]

INVOICE_TYPES: Final = (
    "invoice",
    "credit_note",
    "debit_note",
    "corrected_invoice",
    "consolidated_invoice",
    "prepayment_invoice",
    "self_billed_invoice",
    "factored_invoice",
    "proforma_invoice",
    "other",
)

# X12 640 (Transaction Type Code) as BIG07 uses it. A debit invoice is the ordinary
# invoice (it debits the buyer); a credit invoice is a credit note.
X12_INVOICE_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "DI": "invoice",  # Debit Invoice
        "CN": "credit_note",  # Credit Invoice
        "CR": "credit_note",  # Credit Memo
        "DR": "debit_note",  # Debit Memo
    }
)

# UN/EDIFACT 1001 (Document name code) of an INVOIC.
EDIFACT_INVOICE_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "380": "invoice",  # Commercial invoice
        "381": "credit_note",  # Credit note
        "383": "debit_note",  # Debit note
        "384": "corrected_invoice",  # Corrected invoice
        "385": "consolidated_invoice",  # Consolidated invoice
        "386": "prepayment_invoice",  # Prepayment invoice
        "389": "self_billed_invoice",  # Self-billed invoice
        "393": "factored_invoice",  # Factored invoice
        "325": "proforma_invoice",  # Proforma invoice
    }
)


def coded(table: Mapping[str, str], code: str | None) -> tuple[str | None, str | None]:
    """``(normalised name, code as sent)`` of ``code`` without surrounding spaces;
    unknown codes normalise to ``"other"``, an empty or missing one gives
    ``(None, None)``."""
    if code is None:
        return None, None
    code = code.strip()
    if not code:
        return None, None
    return table.get(code, "other"), code


def x12_invoice_type(code: str | None) -> tuple[str | None, str | None]:
    """``(invoice_type, code as sent)`` of BIG07 ``code``; ``(None, None)`` when empty."""
    return coded(X12_INVOICE_TYPES, code)


def edifact_invoice_type(code: str | None) -> tuple[str | None, str | None]:
    """``(invoice_type, code as sent)`` of INVOIC BGM 1001 ``code``."""
    return coded(EDIFACT_INVOICE_TYPES, code)
