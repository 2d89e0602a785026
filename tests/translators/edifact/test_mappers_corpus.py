"""Every real-world EDIFACT message of a mapped type in ../shared/corpus maps to a valid
record, and arbitrary segments never make a mapper raise.

No golden files: the corpus pins that mapping never fails on what partners really send;
field-level expectations live in test_mappers.py and tests/translators/test_cross_standard.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.envelope import Message, walk
from translators.edifact.mappers import MAPPERS, map_message, map_message_data
from translators.edifact.reader import EDIFACTReader
from translators.edifact.segment import Segment
from translators.errors import EDISyntaxError
from translators.record_data import check_canonical
from translators.records import RECORD_ADAPTER, Identity, Source

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / ".." / "shared" / "corpus"


def _samples() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in (CORPUS / "edifact").rglob("*") if p.is_file())


def _source(message: Message) -> Source:
    unb = message.interchange
    return Source(
        standard="edifact",
        version=f"{message.version}{message.release}",
        transaction_type=message.type or "UNKNOWN",
        sender=Identity(qualifier=unb.sender.qualifier or None, id=unb.sender.id or "?"),
        receiver=Identity(qualifier=unb.recipient.qualifier or None, id=unb.recipient.id or "?"),
        interchange_control=unb.control_reference or "?",
        transaction_control=message.reference or "?",
        test=unb.test,
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} not present (CI has it)")
@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.name)
def test_corpus_messages_map_to_valid_records(path: Path) -> None:
    """Each ORDERS/ORDCHG/ORDRSP/INVOIC/DESADV message of a corpus file maps to a record
    that survives a JSON round trip through the record schema."""
    mapped = 0
    try:
        for event in walk(EDIFACTReader(path.read_bytes())):
            if isinstance(event, Message) and event.type in MAPPERS:
                record = map_message(
                    event.segments,
                    _source(event),
                    decimal_mark=event.interchange.delimiters.decimal,
                )
                assert record is not None
                assert RECORD_ADAPTER.validate_json(record.model_dump_json()) == record
                check_canonical(map_message_data(
                    event.segments, _source(event).model_dump(),
                    decimal_mark=event.interchange.delimiters.decimal))
                mapped += 1
    except EDISyntaxError:
        pass  # files the reader refuses are the reader's tests' business
    if mapped == 0:
        pytest.skip(f"{path.name}: no message of a mapped type")


_TAGS = st.sampled_from(
    [
        "BGM",
        "DTM",
        "RFF",
        "NAD",
        "CTA",
        "COM",
        "CUX",
        "PAT",
        "PCD",
        "MOA",
        "TDT",
        "TOD",
        "LOC",
        "ALC",
        "RTE",
        "TAX",
        "LIN",
        "PIA",
        "IMD",
        "QTY",
        "PRI",
        "SCC",
        "PAC",
        "MEA",
        "PCI",
        "GIN",
        "CPS",
        "FTX",
        "UNS",
        "CNT",
        "ZZZ",
    ]
)
_TEXT = st.text(alphabet="0123456789.,-:ABCENSTVJ ", max_size=14)
_SEGMENTS = st.lists(
    st.builds(
        lambda tag, elements: Segment(tag, elements),
        _TAGS,
        st.lists(st.lists(_TEXT, min_size=1, max_size=6), max_size=9),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    segments=_SEGMENTS, message_type=st.sampled_from(sorted(MAPPERS)), mark=st.sampled_from(".,")
)
def test_mappers_never_raise(segments: list[Segment], message_type: str, mark: str) -> None:
    """Whatever segments a message holds, its mapper returns a record."""
    source = Source(
        standard="edifact",
        version="D96A",
        transaction_type=message_type,
        sender=Identity(id="S"),
        receiver=Identity(id="R"),
        interchange_control="1",
        transaction_control="1",
    )
    data = MAPPERS[message_type](segments, source.model_dump(), decimal_mark=mark)
    check_canonical(data)
