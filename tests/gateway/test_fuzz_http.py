"""Whatever a partner posts, the gateway answers with a 2xx or a located 4xx problem, never
a 5xx: arbitrary bytes, and valid X12 and EDIFACT interchanges with random bytes changed,
to /v1/messages; arbitrary headers and bodies to /as2 (an MDN or a 4xx problem)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.as2.keys import generate_identity
from gateway.demo import demo_interchange
from gateway.keys import issue_key
from gateway.settings import Settings
from gateway.state import GatewayState
from gateway.store.base import Base

REPO = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], GatewayState]]:
    generate_identity("EDIGATE", tmp_path / "as2.key", tmp_path / "as2.crt", bits=2048)
    settings_ = Settings(database_url=f"sqlite:///{tmp_path / 'fuzz.db'}",
                         partners_dir=REPO / "partners", var_dir=tmp_path,
                         ledger_key_path=tmp_path / "ledger.pem", max_body_bytes=100_000,
                         workers=0, as2_id="EDIGATE", as2_key=tmp_path / "as2.key",
                         as2_cert=tmp_path / "as2.crt")
    state = GatewayState.build(settings_, lease=timedelta(seconds=30))
    Base.metadata.create_all(state.db.engine)
    with state.db.transaction() as session:
        keys = {"acme": issue_key(session, "partner", partner_id="acme-retail")[0],
                "initech": issue_key(session, "partner", partner_id="initech-eu")[0]}
    with TestClient(create_app(settings_, state=state, start_workers=False),
                    raise_server_exceptions=False) as test_client:
        yield test_client, keys, state
    state.close()


def _valid(state: GatewayState) -> list[tuple[str, bytes]]:
    x12 = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings, 9)
    edifact = (REPO / "gateway" / "demo_data" / "initech-orders.edi").read_bytes()
    return [("acme", x12), ("initech", edifact)]


def _check(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, response.text  # type: ignore[attr-defined]
    if status >= 400:
        assert response.headers["content-type"].startswith(  # type: ignore[attr-defined]
            "application/problem+json")
        assert response.json()["detail"]  # type: ignore[attr-defined]


@FUZZ
@given(body=st.binary(max_size=2000), sync=st.booleans())
def test_arbitrary_bytes(client: tuple[TestClient, dict[str, str], GatewayState],
                         body: bytes, sync: bool) -> None:
    """Random bytes (sync or not) are refused with a 4xx problem or taken in."""
    test_client, keys, _ = client
    _check(test_client.post("/v1/messages", content=body, params={"sync": str(sync).lower()},
                            headers={"Authorization": f"Bearer {keys['acme']}"}))


@FUZZ
@given(data=st.data())
def test_mutated_interchanges(client: tuple[TestClient, dict[str, str], GatewayState],
                              data: st.DataObject) -> None:
    """A valid interchange with bytes replaced, inserted or cut, processed inline: stored
    and processed (PROCESSED/REJECTED), or refused with a 4xx problem."""
    test_client, keys, state = client
    partner, body = data.draw(st.sampled_from(_valid(state)))
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(body) - 1), st.binary(max_size=3)),
                               min_size=1, max_size=4))
    mutated = bytearray(body)
    for at, new in edits:
        mutated[at:at + 1] = new
    cut = data.draw(st.integers(1, len(mutated) or 1))
    response = test_client.post("/v1/messages", content=bytes(mutated[:cut]),
                                params={"sync": "true"},
                                headers={"Authorization": f"Bearer {keys[partner]}"})
    _check(response)
    if response.status_code == 200 and not response.json().get("duplicate"):
        assert response.json()["status"] in ("PROCESSED", "REJECTED")


HEADER_NAMES = st.sampled_from(["AS2-From", "AS2-To", "Message-ID", "Content-Type",
                                "Disposition-Notification-To",
                                "Disposition-Notification-Options",
                                "Receipt-Delivery-Option", "Content-Transfer-Encoding"])
HEADER_VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                        max_size=60)


@FUZZ
@given(headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=8),
       body=st.binary(max_size=1500))
def test_as2_endpoint_never_fails(client: tuple[TestClient, dict[str, str], GatewayState],
                                  headers: dict[str, str], body: bytes) -> None:
    """Arbitrary AS2 headers and bodies (to a gateway with an AS2 identity): an MDN or a
    4xx problem, never a 500."""
    test_client, _, _ = client
    _check(test_client.post("/as2", content=body, headers=headers))
