"""X12 mappers: one validated transaction set (ST..SE) in, one canonical record out.

Responsible for the explicit registry ``MAPPERS`` keyed by transaction set identifier and
``map_transaction``. The same mappers serve 004010 and 005010 (and neighbouring versions):
the segments they read did not change meaning between them.
It must not look mappers up by name, and mappers never raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from translators.accounting import Coverage
from translators.record_data import RecordData, record_from_data
from translators.x12.mappers.functional_ack import ACK_COVERAGE, map_functional_ack
from translators.x12.mappers.inventory import INVENTORY_COVERAGE, map_inventory_report
from translators.x12.mappers.invoice import INVOICE_COVERAGE, map_invoice
from translators.x12.mappers.po import (
    ORDER_COVERAGE,
    map_order_change,
    map_order_response,
    map_purchase_order,
)
from translators.x12.mappers.ship_notice import SHIP_NOTICE_COVERAGE, map_ship_notice
from translators.x12.segment import Segment

if TYPE_CHECKING:
    from translators.records import Record, Source

__all__ = ["COVERAGES", "MAPPERS", "Mapper", "map_transaction", "map_transaction_data"]

Mapper = Callable[[Sequence[Segment], RecordData], RecordData]
"""A transaction mapper: ``(segments, source data) -> record data``."""

MAPPERS: Final[Mapping[str, Mapper]] = MappingProxyType(
    {
        "850": map_purchase_order,
        "860": map_order_change,
        "855": map_order_response,
        "810": map_invoice,
        "856": map_ship_notice,
        "846": map_inventory_report,
        "997": map_functional_ack,
        "999": map_functional_ack,
    }
)

COVERAGES: Final[Mapping[str, Coverage]] = MappingProxyType(
    {
        "850": ORDER_COVERAGE,
        "860": ORDER_COVERAGE,
        "855": ORDER_COVERAGE,
        "810": INVOICE_COVERAGE,
        "856": SHIP_NOTICE_COVERAGE,
        "846": INVENTORY_COVERAGE,
        "997": ACK_COVERAGE,
        "999": ACK_COVERAGE,
    }
)
"""What each mapper maps (``translators.accounting``): the coverage report and the
tests read it; the mappers list everything else in their record's ``unmapped``."""


def map_transaction_data(segments: Sequence[Segment], source: RecordData) -> RecordData | None:
    """The record data of one transaction set (ST..SE), or ``None`` when its set is
    unsupported. ``source`` is the record's ``source`` block as data
    (``pipeline.source_of``). The set is taken from ST01 when the segments start with ST,
    else from the source's ``transaction_type``. This is what the pipeline calls: see
    ``translators.record_data``.
    """
    set_id: str = source["transaction_type"]
    if segments:
        first = segments[0].fields
        if first[0] == "ST" and len(first) > 1 and first[1]:
            set_id = first[1]
    mapper = MAPPERS.get(set_id)
    if mapper is None:
        return None
    return mapper(segments, source)


def map_transaction(segments: Sequence[Segment], source: Source) -> Record | None:
    """``map_transaction_data`` as a validated Pydantic record, for typed use."""
    data = map_transaction_data(segments, source.model_dump())
    return record_from_data(data) if data is not None else None
