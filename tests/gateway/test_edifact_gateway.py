"""EDIFACT through the gateway: the UNB sender is bound to the authenticated partner and
the recipient to the gateway; messages become the same canonical records as X12, and a
CONTRL goes back when the partner's preference (or UNB 0031) asks for one. Every UNB of a
body is checked at intake, and a control character in one is refused there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.api.api_keys import issue_key
from gateway.runtime.app import create_app
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.store.models import Acknowledgment, Message, RecordRow
from translators.edifact.reader import EDIFACTReader

REPO = Path(__file__).resolve().parents[2]
ORDERS = (REPO / "gateway" / "runtime" / "demo_data" / "initech-orders.edi").read_bytes()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, GatewayState, str]]:
    settings = Settings(database_url=database_url, partners_dir=REPO / "partners",
                        var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem", workers=0)
    state = GatewayState.build(settings, lease=timedelta(seconds=30))
    Base.metadata.create_all(state.db.engine)
    with state.db.transaction() as session:
        key = issue_key(session, "partner", partner_id="initech-eu")[0]
    with TestClient(create_app(settings, state=state, start_workers=False)) as client:
        yield client, state, key
    state.close()


def _post(client: TestClient, key: str, body: bytes, **params: str) -> object:
    return client.post("/v1/messages", content=body, params=params,
                       headers={"Authorization": f"Bearer {key}",
                                "Content-Type": "application/edifact"})


def test_orders_become_a_purchase_order_record(env: tuple[TestClient, GatewayState, str]
                                               ) -> None:
    """An ORDERS from Initech is stored, processed into a purchase_order record with the
    EDIFACT source, and (preference "errors", none found) no CONTRL is sent."""
    client, state, key = env
    response = _post(client, key, ORDERS, sync="true")
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == "PROCESSED", body
    assert body["transactions"][0]["set_id"] == "ORDERS"
    assert body["acknowledgments"] == []
    with state.db.read() as s:
        record = s.scalars(select(RecordRow)).one()
        message = s.scalars(select(Message)).one()
    assert (record.kind, record.standard, record.business_number) == \
        ("purchase_order", "edifact", "PO-IE-1001")
    assert message.standard == "edifact" and message.interchange_control == "IO0001"
    assert message.interchange_sender == "14:5412345000013"


def test_errors_get_a_contrl_that_reads_back(env: tuple[TestClient, GatewayState, str]
                                            ) -> None:
    """A message with a wrong UNT count is rejected and a CONTRL (from the gateway to the
    partner, UCM action 4) is built and stored."""
    client, state, key = env
    broken = ORDERS.replace(b"UNT+22+1'", b"UNT+99+1'").replace(b"IO0001", b"IO0002")
    body = _post(client, key, broken, sync="true").json()  # type: ignore[attr-defined]
    assert body["transactions"][0]["status"] == "R"
    assert [a["kind"] for a in body["acknowledgments"]] == ["CONTRL"]
    contrl = body["acknowledgments"][0]["content"].encode("latin-1")
    segments = list(EDIFACTReader(contrl))
    unb = next(s for s in segments if s.tag == "UNB")
    assert (unb.get(2, 1), unb.get(3, 1)) == ("EDIGATE", "5412345000013")
    ucm = next(s for s in segments if s.tag == "UCM")
    assert ucm.get(3) == "4"
    with state.db.read() as s:
        assert s.scalars(select(Acknowledgment)).one().kind == "CONTRL"


@pytest.mark.parametrize(("old", "new", "status", "slug"), [
    (b"+5412345000013:14+", b"+8712345000002:14+", 403, "sender-mismatch"),
    (b"+EDIGATE:ZZ+", b"+SOMEONE:ZZ+", 422, "receiver-mismatch"),
])
def test_unb_parties_are_checked_at_intake(env: tuple[TestClient, GatewayState, str],
                                           old: bytes, new: bytes, status: int,
                                           slug: str) -> None:
    """Another sender in UNB S002 is 403 and another recipient in S003 is 422, as for X12."""
    client, _state, key = env
    response = _post(client, key, ORDERS.replace(old, new))
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.json()["type"].endswith(slug)  # type: ignore[attr-defined]


def test_ack_requested_in_unb_gets_a_contrl(env: tuple[TestClient, GatewayState, str]
                                           ) -> None:
    """UNB 0031 = 1 asks for an acknowledgment: a CONTRL is built even without errors."""
    client, _state, key = env
    asked = ORDERS.replace(b"+IO0001++ORDERS'", b"+IO0003++ORDERS++1'").replace(
        b"UNZ+1+IO0001'", b"UNZ+1+IO0003'")
    body = _post(client, key, asked, sync="true").json()  # type: ignore[attr-defined]
    assert body["status"] == "PROCESSED", body
    assert [a["kind"] for a in body["acknowledgments"]] == ["CONTRL"]
    assert "UCI+IO0003" in body["acknowledgments"][0]["content"]


def test_inbound_contrl_becomes_a_functional_ack_record(
        env: tuple[TestClient, GatewayState, str]) -> None:
    """A CONTRL the partner sends for one of our interchanges is stored as a
    functional_ack record and is not itself acknowledged with a CONTRL."""
    client, state, key = env
    contrl = (b"UNA:+.? 'UNB+UNOC:3+5412345000013:14+EDIGATE:ZZ+261126:0900+CT1++++1'"
              b"UNH+1+CONTRL:D:3:UN'UCI+OUT42+EDIGATE:ZZ+5412345000013:14+7'UNT+3+1'"
              b"UNZ+1+CT1'")
    body = _post(client, key, contrl, sync="true").json()  # type: ignore[attr-defined]
    assert body["status"] == "PROCESSED", body
    assert body["acknowledgments"] == []
    with state.db.read() as s:
        record = s.scalars(select(RecordRow)).one()
    assert (record.kind, record.transaction_type) == ("functional_ack", "CONTRL")


def _nothing_stored(state: GatewayState) -> bool:
    with state.db.read() as s:
        return not s.scalar(select(func.count()).select_from(Message)) and \
            not s.scalar(select(func.count()).select_from(Acknowledgment))


def test_a_second_unb_of_another_sender_refuses_the_body(
        env: tuple[TestClient, GatewayState, str]) -> None:
    """An interchange of Initech followed by one from another sender, both asking for a
    CONTRL (UNB 0031): 403 naming the second interchange and its sender; nothing stored,
    no CONTRL queued."""
    client, state, key = env
    asked = ORDERS.replace(b"+IO0001++ORDERS'", b"+IO0041++ORDERS++1'").replace(
        b"UNZ+1+IO0001'", b"UNZ+1+IO0041'")
    other = asked.replace(b"5412345000013:14", b"8712345000002:14").replace(
        b"IO0041", b"IO0042")
    response = _post(client, key, asked + other, sync="true")
    assert response.status_code == 403, response.text  # type: ignore[attr-defined]
    problem = response.json()  # type: ignore[attr-defined]
    assert problem["type"].endswith("sender-mismatch")
    assert "'14:8712345000002'" in problem["detail"] and "'IO0042'" in problem["detail"]
    assert _nothing_stored(state)


@pytest.mark.parametrize(("old", "new"), [
    (b"+IO0001++ORDERS'", b"+IO\x000043++ORDERS'"),  # 0020, the stored control reference
    (b"+5412345000013:14+", b"+5412345000013\x01:14+"),  # S002, the stored sender
    (b"+261126:0900+", b"+261126:09\x1b00+"),  # S004
])
def test_a_control_character_in_unb_is_refused_at_intake(
        env: tuple[TestClient, GatewayState, str], old: bytes, new: bytes) -> None:
    """A control character in the UNB, the header intake reads and stores: a located 422
    problem on either database (PostgreSQL cannot store a NUL: no 5xx, no driver text)."""
    client, state, key = env
    assert old in ORDERS
    response = _post(client, key, ORDERS.replace(old, new), sync="true")
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    problem = response.json()  # type: ignore[attr-defined]
    assert problem["type"].endswith("invalid-character")
    assert "UNB" in problem["detail"] and "byte offset" in problem["detail"]
    assert _nothing_stored(state)
