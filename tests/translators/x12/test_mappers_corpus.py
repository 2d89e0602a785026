"""Corpus smoke test: every transaction of the shared X12 corpus maps to a record of its kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from translators.records import Identity, Source
from translators.x12.mappers import map_transaction
from translators.x12.reader import X12Reader
from translators.x12.segment import Segment

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "x12"
SETS = ("850", "810", "856", "855", "860", "846", "997", "999")

if not CORPUS.is_dir():
    pytest.skip("../shared/corpus not present", allow_module_level=True)

pytestmark = pytest.mark.corpus

KINDS = {
    "850": "purchase_order",
    "860": "purchase_order_change",
    "855": "order_response",
    "810": "invoice",
    "856": "ship_notice",
    "846": "inventory_report",
    "997": "functional_ack",
    "999": "functional_ack",
}

# Header segment and element holding the primary number, and the record field for it.
PRIMARY = {
    "850": ("BEG", 3, "po_number"),
    "860": ("BCH", 3, "po_number"),
    "855": ("BAK", 3, "po_number"),
    "810": ("BIG", 2, "invoice_number"),
    "856": ("BSN", 2, "shipment_id"),
    "846": ("BIA", 3, "report_id"),
}

FILES = sorted(p for name in SETS if (CORPUS / name).is_dir() for p in (CORPUS / name).iterdir())


def _transactions(path: Path) -> list[list[Segment]]:
    out: list[list[Segment]] = []
    current: list[Segment] | None = None
    for segment in X12Reader(path.read_bytes()):
        if segment.tag == "ST":
            current = [segment]
        elif current is not None:
            current.append(segment)
            if segment.tag == "SE":
                out.append(current)
                current = None
    return out


def _source(st: Segment) -> Source:
    return Source(
        standard="x12",
        version="004010",
        transaction_type=st[1],
        sender=Identity(id="S"),
        receiver=Identity(id="R"),
        interchange_control="1",
        transaction_control=st[2],
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_maps(path: Path) -> None:
    """Each transaction maps without exception to its kind, with its primary number when sent."""
    transactions = _transactions(path)
    assert transactions, "no ST..SE found"
    for segments in transactions:
        set_id = segments[0][1]
        record = map_transaction(segments, _source(segments[0]))
        if set_id not in KINDS:
            assert record is None
            continue
        assert record is not None
        assert record.kind == KINDS[set_id]
        if set_id in PRIMARY:
            tag, position, field = PRIMARY[set_id]
            header = next((s for s in segments if s.tag == tag), None)
            if header is not None and header[position].strip():
                assert getattr(record, field), f"{field} empty"
        else:
            has_groups = any(s.tag == "AK1" for s in segments)
            assert bool(record.model_dump()["acknowledged_groups"]) or not has_groups
