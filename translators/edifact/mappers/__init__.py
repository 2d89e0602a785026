"""UN/EDIFACT mappers: one message (UNH..UNT) in, one canonical record out.

Responsible for the explicit registry ``MAPPERS`` keyed by message type (UNH S009.0065)
and ``map_message``. The same mappers serve D96A, D01B and neighbouring directories: the
segments and components they read did not change meaning between them. Records are the
ones the X12 mappers make of the corresponding transaction sets (ORDERS 850, ORDCHG 860,
ORDRSP 855, INVOIC 810, DESADV 856), field for field; codes are kept as sent beside the
normalised names.

Decimal mark: numeric values (QTY, PRI, MOA, PCD, ...) are read with the decimal mark the
interchange declared (UNA position 3, the full stop without UNA), passed as the keyword
``decimal_mark``; the pipeline passes ``message.interchange.delimiters.decimal``. It is a
keyword rather than a ``Source`` field because it describes the syntax of the bytes, not
the provenance of the record. A value written with the other mark is invalid (0085 code 19,
reported by validation) and is read as ``None``.

It must not look mappers up by name, and mappers never raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Protocol

from translators.accounting import Coverage
from translators.edifact.acks import APERAK_COVERAGE, CONTRL_COVERAGE, map_functional_ack
from translators.edifact.mappers.despatch_advice import DESADV_COVERAGE, map_ship_notice
from translators.edifact.mappers.invoice import INVOICE_COVERAGE, map_invoice
from translators.edifact.mappers.orders import (
    ORDCHG_COVERAGE,
    ORDERS_COVERAGE,
    ORDRSP_COVERAGE,
    map_order_change,
    map_order_response,
    map_purchase_order,
)
from translators.edifact.segment import Segment
from translators.record_data import RecordData, record_from_data

if TYPE_CHECKING:
    from translators.records import Record, Source

__all__ = ["COVERAGES", "MAPPERS", "Mapper", "map_message", "map_message_data"]


class Mapper(Protocol):
    """A message mapper: ``(segments, source data, *, decimal_mark=".") -> record data``."""

    def __call__(
        self, segments: Sequence[Segment], source: RecordData, /, *, decimal_mark: str = "."
    ) -> RecordData: ...


def _functional_ack(segments: Sequence[Segment], source: RecordData, /, *,
                    decimal_mark: str = ".") -> RecordData:
    """Inbound CONTRL and APERAK become ``functional_ack`` records (no amounts to read)."""
    return map_functional_ack(segments, source)


MAPPERS: Final[Mapping[str, Mapper]] = MappingProxyType(
    {
        "ORDERS": map_purchase_order,
        "ORDCHG": map_order_change,
        "ORDRSP": map_order_response,
        "INVOIC": map_invoice,
        "DESADV": map_ship_notice,
        "CONTRL": _functional_ack,
        "APERAK": _functional_ack,
    }
)

COVERAGES: Final[Mapping[str, Coverage]] = MappingProxyType(
    {
        "ORDERS": ORDERS_COVERAGE,
        "ORDCHG": ORDCHG_COVERAGE,
        "ORDRSP": ORDRSP_COVERAGE,
        "INVOIC": INVOICE_COVERAGE,
        "DESADV": DESADV_COVERAGE,
        "CONTRL": CONTRL_COVERAGE,
        "APERAK": APERAK_COVERAGE,
    }
)
"""What each mapper maps (``translators.accounting``): the coverage report and the
tests read it; the mappers list everything else in their record's ``unmapped``."""


def map_message_data(
    segments: Sequence[Segment], source: RecordData, *, decimal_mark: str = "."
) -> RecordData | None:
    """The record data of one message (UNH..UNT), or ``None`` when its type is not mapped.

    ``source`` is the record's ``source`` block as data (``pipeline.source_of``). The type
    is taken from UNH S009.0065 when the segments start with UNH, else from the source's
    ``transaction_type``. This is what the pipeline calls: see ``translators.record_data``.
    """
    message_type: str = source["transaction_type"]
    if segments and segments[0].tag == "UNH":
        found = segments[0].get(2, 1).strip()
        if found:
            message_type = found
    mapper = MAPPERS.get(message_type)
    if mapper is None:
        return None
    return mapper(segments, source, decimal_mark=decimal_mark)


def map_message(
    segments: Sequence[Segment], source: Source, *, decimal_mark: str = "."
) -> Record | None:
    """``map_message_data`` as a validated Pydantic record, for typed use."""
    data = map_message_data(segments, source.model_dump(), decimal_mark=decimal_mark)
    return record_from_data(data) if data is not None else None
