"""Whatever a partner posts, the gateway answers with a 2xx or a located 4xx problem, never
a 5xx, on SQLite and on PostgreSQL alike: arbitrary bytes, and valid X12 and EDIFACT
interchanges (alone or followed by another one) with random bytes changed, NUL and other
control bytes among them, to /v1/messages; arbitrary headers and bodies to /as2 (an MDN or
a 4xx problem). A message taken in is processed to PROCESSED or REJECTED, never FAILED."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.api.api_keys import issue_key
from gateway.as2.keys import generate_identity
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.store.models import Acknowledgment, Message, RecordRow
from gateway.store.search import MessageTerm

REPO = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Control bytes, NUL most often: what PostgreSQL text cannot hold and no EDI character set
# has.
CONTROL = st.sampled_from([b"\x00", b"\x00", b"\x00\x00", b"\x01", b"\x08", b"\x1b",
                           b"\x1f", b"\x7f", b"\xc2\x85"])


@pytest.fixture
def client(database_url: str, tmp_path: Path
           ) -> Iterator[tuple[TestClient, dict[str, str], GatewayState]]:
    generate_identity("EDIGATE", tmp_path / "as2.key", tmp_path / "as2.crt", bits=2048)
    settings_ = Settings(database_url=database_url,
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
    edifact = (REPO / "gateway" / "runtime" / "demo_data" / "initech-orders.edi").read_bytes()
    return [("acme", x12), ("initech", edifact)]


def _check(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, response.text  # type: ignore[attr-defined]
    if status >= 400:
        assert response.headers["content-type"].startswith(  # type: ignore[attr-defined]
            "application/problem+json")
        assert response.json()["detail"]  # type: ignore[attr-defined]


@FUZZ
@given(body=st.one_of(st.binary(max_size=2000),
                      st.builds(bytes.__add__, CONTROL, st.binary(max_size=200))),
       sync=st.booleans())
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
    """A valid interchange, alone or followed by another (the same partner's or the other
    partner's), with bytes replaced, inserted or cut, control bytes among them, processed
    inline: stored and processed (PROCESSED/REJECTED), or refused with a 4xx problem."""
    test_client, keys, state = client
    valid = _valid(state)
    partner, body = data.draw(st.sampled_from(valid))
    if data.draw(st.booleans()):
        body += data.draw(st.sampled_from(valid))[1]
    # Half the edits in the first interchange header, which intake reads and stores.
    where = st.one_of(st.integers(0, min(len(body), 120) - 1), st.integers(0, len(body) - 1))
    edits = data.draw(st.lists(st.tuples(where, st.one_of(CONTROL, st.binary(max_size=3))),
                               min_size=1, max_size=4))
    mutated = bytearray(body)
    for at, new in edits:
        mutated[at:at + 1] = new
    # Cut or not: a cut at a random place leaves little for processing to see.
    cut = data.draw(st.one_of(st.just(len(mutated) or 1), st.integers(1, len(mutated) or 1)))
    response = test_client.post("/v1/messages", content=bytes(mutated[:cut]),
                                params={"sync": "true"},
                                headers={"Authorization": f"Bearer {keys[partner]}"})
    _check(response)
    if response.status_code == 200 and not response.json().get("duplicate"):
        assert response.json()["status"] in ("PROCESSED", "REJECTED")
    _assert_no_nul(state)


def _assert_no_nul(state: GatewayState) -> None:
    """What is stored holds no NUL: PostgreSQL cannot, and SQLite must hold the same."""
    with state.db.read() as session:
        for table in (Message.__table__, RecordRow.__table__, Acknowledgment.__table__,
                      LedgerEntry.__table__, MessageTerm.__table__):
            for row in session.execute(select(table)):
                for column, value in row._mapping.items():
                    assert not (isinstance(value, str) and "\x00" in value), (
                        f"{table.name}.{column}: {value!r}")


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
