"""Received CONTRL and APERAK messages become the canonical ``functional_ack`` record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from translators.edifact.acks import map_functional_ack
from translators.edifact.contrl import CONTRLOptions, build_contrl
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    source_of,
    translate_edifact,
)
from translators.record_data import record_from_data
from translators.records import FunctionalAck

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "edifact"


def message_outcomes(data: bytes) -> list[MessageOutcome]:
    return [o for o in translate_edifact(data, translate=False) if isinstance(o, MessageOutcome)]


def record(data: bytes) -> dict[str, object]:
    [outcome] = message_outcomes(data)
    ack = record_from_data(
        map_functional_ack(outcome.document.segments, source_of(outcome.document)))
    assert isinstance(ack, FunctionalAck)
    return ack.model_dump(mode="json", exclude_none=True)


def test_contrl_with_errors() -> None:
    """UCI, UCF, UCM, UCS, UCD: levels, actions, message references and located errors."""
    data = (b"UNA:+.? 'UNB+UNOC:3+R:14+S:14+240101:1200+9'UNH+1+CONTRL:D:3:UN'"
            b"UCI+IC1+S:14+R:14+7'UCF+G1+APP:ZZ+REC:ZZ+7'UCM+M1+INVOIC:D:96A:UN:EAN008+4'"
            b"UCS+5+15'UCS+7'UCD+37+1:2'UCM+M2+INVOIC:D:96A:UN+7'UNT+9+1'UNZ+1+9'")
    groups = record(data)["acknowledged_groups"]
    assert groups == [
        {"functional_id": "UCI", "group_control": "IC1", "status": "accepted",
         "status_code": "7", "errors": [], "transactions": []},
        {"functional_id": "UCF", "group_control": "G1", "status": "accepted",
         "status_code": "7", "transactions_received": 2, "transactions_accepted": 1,
         "errors": [],
         "transactions": [
             {"set_id": "INVOIC", "control_number": "M1", "implementation_ref": "EAN008",
              "status": "rejected", "status_code": "4", "codes": [],
              "errors": [{"segment_position": 5, "code": "15"},
                         {"segment_position": 7, "code": "37", "element_position": 1,
                          "component_position": 2}]},
             {"set_id": "INVOIC", "control_number": "M2", "status": "accepted",
              "status_code": "7", "codes": [], "errors": []},
         ]},
    ]


def test_rejected_interchange_contrl() -> None:
    """UCI action 4 with its 0085 code and service segment tag."""
    data = (b"UNB+UNOA:3+R+S+240101:1200+9'UNH+1+CONTRL:2:2:UN'UCI+IC1+S+R+4+29+UNZ+1'"
            b"UNT+3+1'UNZ+1+9'")
    [group] = record(data)["acknowledged_groups"]  # type: ignore[misc]
    assert group == {"functional_id": "UCI", "group_control": "IC1", "status": "rejected",
                     "status_code": "4", "errors": ["29"], "transactions": []}


def test_corpus_contrl_v4_receipt() -> None:
    """The syntax version 4 CONTRL from the corpus: interchange received (action 8)."""
    path = CORPUS / "CONTRL" / "edifabric-contrl-v4-two-messages-utf8-bom.txt"
    if not path.is_file():
        import pytest

        pytest.skip(f"{path} not present")
    first = message_outcomes(path.read_bytes())[0]
    ack = record_from_data(map_functional_ack(first.document.segments, source_of(first.document)))
    assert isinstance(ack, FunctionalAck)
    assert ack.acknowledged_groups[0].status == "received"
    assert ack.acknowledged_groups[0].group_control == "131"


def test_round_trip_of_our_contrl() -> None:
    """What edigate writes as CONTRL reads back as the same actions and errors."""
    received = (b"UNA:+.? 'UNB+UNOC:3+S:14+R:14+240101:1200+IC1'UNH+1+ORDERS:D:96A:UN'"
                b"BGM+220+PO1+9'QTY+21:1'DTM+137:20240101:102'UNS+S'UNT+6+1'UNZ+1+IC1'")
    outcome = next(o for o in translate_edifact(received, translate=False)
                   if isinstance(o, EDIFACTInterchangeOutcome))
    built = build_contrl(outcome, CONTRLOptions(now=datetime(2024, 1, 1, tzinfo=UTC)))
    assert built is not None
    [group] = record(built)["acknowledged_groups"]  # type: ignore[misc]
    [transaction] = group["transactions"]  # type: ignore[index]
    assert transaction["status"] == "rejected" and transaction["control_number"] == "1"
    assert transaction["errors"] == [{"segment_position": 3, "code": "15"}]


def test_aperak_rejected() -> None:
    """APERAK BGM 1225 27 (not accepted): rejected, with the referenced order number and
    the ERC codes."""
    data = (b"UNB+UNOA:3+R+S+240101:1200+9'UNH+1+APERAK:D:96A:UN'BGM+23+AP1+27'"
            b"DTM+137:20240101:102'RFF+ON:PO123'ERC+12'FTX+AAI+++invalid product'"
            b"UNT+7+1'UNZ+1+9'")
    [group] = record(data)["acknowledged_groups"]  # type: ignore[misc]
    assert group == {
        "functional_id": "APERAK", "errors": [],
        "transactions": [{"control_number": "PO123", "status": "rejected",
                          "status_code": "27", "codes": ["12"],
                          "errors": [{"code": "12", "code_element": "9321"}]}],
    }


def test_aperak_without_function_has_no_status() -> None:
    """An APERAK whose BGM names no message function keeps the status open (None)."""
    data = (b"UNB+UNOA:3+R+S+240101:1200+9'UNH+14+APERAK:D:96A:UN'BGM++14'"
            b"RFF+ACW:MSG7'UNT+4+14'UNZ+1+9'")
    [group] = record(data)["acknowledged_groups"]  # type: ignore[misc]
    assert group["transactions"] == [{"control_number": "MSG7", "codes": [], "errors": []}]  # type: ignore[index]
