"""The HTTP API through the ASGI app: intake, rejections, duplicates, processing, feed, log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.api.api_keys import issue_key
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.store.models import Message, RecordRow

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Env:
    client: TestClient
    state: GatewayState
    keys: dict[str, str]

    def post(self, data: bytes, key: str = "acme", **params: str) -> object:
        return self.client.post("/v1/messages", content=data, params=params,
                                headers={"Authorization": f"Bearer {self.keys[key]}"})

    def get(self, url: str, key: str = "ops", **params: str) -> object:
        return self.client.get(url, params=params,
                               headers={"Authorization": f"Bearer {self.keys[key]}"})

    def events(self, message_id: str | None = None) -> list[str]:
        with self.state.db.transaction() as s:
            query = select(LedgerEntry.event).order_by(LedgerEntry.seq)
            if message_id is not None:
                query = query.where(LedgerEntry.message_id == message_id)
            return list(s.scalars(query))

    def drain(self) -> int:
        return sum(1 for _ in self.state.pipeline.drain("test-worker"))


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = Settings(database_url=database_url, partners_dir=REPO / "partners",
                        var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem",
                        max_body_bytes=200_000, workers=0, ledger_checkpoint_every=5)
    state = GatewayState.build(settings, lease=timedelta(seconds=30))
    Base.metadata.create_all(state.db.engine)
    keys: dict[str, str] = {}
    with state.db.transaction() as session:
        keys["acme"] = issue_key(session, "partner", partner_id="acme-retail")[0]
        keys["globex"] = issue_key(session, "partner", partner_id="globex-distribution")[0]
        keys["crm"] = issue_key(session, "consumer", scope="crm")[0]
        keys["scm"] = issue_key(session, "consumer", scope="scm")[0]
        keys["ops"] = issue_key(session, "ops", role="operator")[0]
        keys["viewer"] = issue_key(session, "ops", role="viewer")[0]
    app = create_app(settings, state=state, start_workers=False)
    with TestClient(app) as client:
        yield Env(client, state, keys)
    state.close()


def po(env: Env, control: int = 101, **kw: bool) -> bytes:
    return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", env.state.settings,
                            control, **kw)


def asn(env: Env, control: int = 201) -> bytes:
    return demo_interchange("globex-856.edi", "01", "123456789", "00501", env.state.settings,
                            control)


def assert_problem(response: object, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:edigate:problem:{slug}" and body["status"] == status
    return body


def test_intake_stores_before_answering_and_processing_follows(env: Env) -> None:
    """202 comes with a RECEIVED message whose payload and ledger entry are committed;
    processing then makes it PROCESSED with a record, an acknowledgment and ledger steps."""
    response = env.post(po(env))
    assert response.status_code == 202  # type: ignore[attr-defined]
    message_id = response.json()["message_id"]  # type: ignore[attr-defined]
    assert response.content == JSONResponse(  # type: ignore[attr-defined]
        {"message_id": message_id, "duplicate": False, "status": "RECEIVED"}).body
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/v1/messages/{message_id}"  # type: ignore[attr-defined]
    with env.state.db.transaction() as s:
        assert s.get(Message, message_id).status == "RECEIVED"  # type: ignore[union-attr]
    assert env.events(message_id) == ["RECEIVED"]
    assert env.drain() == 1
    assert env.events(message_id) == ["RECEIVED", "PROCESSING", "TRANSLATED", "ACK_BUILT",
                                      "PROCESSED"]
    detail = env.get(f"/v1/messages/{message_id}").json()  # type: ignore[attr-defined]
    assert detail["status"] == "PROCESSED" and detail["ack_status"] == "accepted"
    assert "ST*997*" in detail["acknowledgments"][0]["content"]
    assert detail["records"][0]["kind"] == "purchase_order"
    assert detail["records"][0]["business_number"] == "PO-4711"


def test_sync_processing_returns_outcomes(env: Env) -> None:
    """?sync=true answers with per-transaction outcomes, record ids and the ack text."""
    body = env.post(po(env), sync="true").json()  # type: ignore[attr-defined]
    assert body["status"] == "PROCESSED"
    assert body["transactions"][0]["set_id"] == "850"
    assert body["transactions"][0]["record_id"]
    assert "AK9*A*1*1*1" in body["acknowledgments"][0]["content"]


def test_rejected_transaction_gets_negative_ack_and_no_record(env: Env) -> None:
    """A bad BEG01 makes the message REJECTED with an AK5*R, and nothing reaches the feed."""
    body = env.post(po(env, break_it=True), sync="true").json()  # type: ignore[attr-defined]
    assert body["status"] == "REJECTED"
    assert "AK5*R" in body["acknowledgments"][0]["content"]
    assert env.get("/v1/records", key="crm").json()["items"] == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("headers", "status", "slug"),
    [({}, 401, "unauthenticated"), ({"Authorization": "Bearer edg_p_nope-nope-nope-nope"}, 401,
                                    "unauthenticated"),
     ({"Authorization": "Basic abc"}, 401, "unauthenticated")],
)
def test_missing_or_bad_key_is_401(env: Env, headers: dict[str, str], status: int,
                                   slug: str) -> None:
    """No key, an unknown key or another scheme is 401 problem+json."""
    response = env.client.post("/v1/messages", content=po(env), headers=headers)
    assert_problem(response, status, slug)


def test_wrong_kind_of_key_is_403(env: Env) -> None:
    """A consumer key cannot post EDI; a partner key cannot read the records feed."""
    assert_problem(env.post(po(env), key="crm"), 403, "forbidden")
    assert_problem(env.get("/v1/records", key="acme"), 403, "forbidden")


def test_sender_not_the_partner_is_403_and_logged(env: Env) -> None:
    """Globex posting an interchange from Acme's ISA id is refused and the refusal is in
    the ledger; nothing is stored."""
    response = env.post(po(env), key="globex")
    body = assert_problem(response, 403, "sender-mismatch")
    assert "ZZ:ACMERETAIL" in str(body["detail"])
    assert env.events() == ["INTAKE_REJECTED"]
    with env.state.db.transaction() as s:
        assert s.scalars(select(Message)).all() == []


def test_receiver_not_this_gateway_is_422(env: Env) -> None:
    """An interchange addressed to someone else is 422 naming ISA07/ISA08."""
    data = po(env).replace(b"*ZZ*EDIGATE        *", b"*ZZ*OTHERHUB       *", 1)
    body = assert_problem(env.post(data), 422, "receiver-mismatch")
    assert "ZZ:OTHERHUB" in str(body["detail"])


@pytest.mark.parametrize("data", [b"hello world", b"\x00\x01\x02garbage", b"   "])
def test_not_edi_is_422(env: Env, data: bytes) -> None:
    """Bodies that are not EDI are 422 problem+json and leave a ledger entry."""
    response = env.post(data)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert env.events() == ["INTAKE_REJECTED"]


def test_body_over_the_limit_is_413(env: Env) -> None:
    """A body larger than EDIGATE_MAX_BODY_BYTES is refused with 413 before it is stored."""
    assert_problem(env.post(po(env) + b" " * 250_000), 413, "too-large")


def test_duplicates_are_idempotent(env: Env) -> None:
    """The same bytes, or another body with the same sender and ISA13, answer with the
    original message id, are not processed again, and are noted in the ledger."""
    first = env.post(po(env), sync="true").json()  # type: ignore[attr-defined]
    again = env.post(po(env))
    assert again.status_code == 200  # type: ignore[attr-defined]
    assert again.json() == {"message_id": first["message_id"], "duplicate": True,  # type: ignore[attr-defined]
                            "status": "PROCESSED"}
    same_control = po(env).replace(b"PO-4711", b"PO-9999")
    assert env.post(same_control).json()["message_id"] == first["message_id"]  # type: ignore[attr-defined]
    assert env.drain() == 0
    assert env.events(first["message_id"]).count("DUPLICATE") == 2
    with env.state.db.transaction() as s:
        assert len(s.scalars(select(RecordRow)).all()) == 1


def test_records_feed_scopes_and_cursor(env: Env) -> None:
    """CRM and SCM both follow an order (ship notices included); only SCM reads demand
    and inventory; the cursor resumes after the last."""
    env.post(po(env, 101), sync="true")
    env.post(asn(env, 201), key="globex", sync="true")
    env.post(po(env, 102), sync="true")
    crm = env.get("/v1/records", key="crm").json()  # type: ignore[attr-defined]
    assert [i["kind"] for i in crm["items"]] == ["purchase_order", "ship_notice",
                                                 "purchase_order"]
    scm = env.get("/v1/records", key="scm", limit="2").json()  # type: ignore[attr-defined]
    assert [i["kind"] for i in scm["items"]] == ["purchase_order", "ship_notice"]
    rest = env.get("/v1/records", key="scm", after=scm["next_cursor"]).json()  # type: ignore[attr-defined]
    assert [i["kind"] for i in rest["items"]] == ["purchase_order"]
    assert env.get("/v1/records", key="scm", after=rest["next_cursor"]).json()["items"] == []  # type: ignore[attr-defined]
    one = env.get(f"/v1/records/{crm['items'][0]['id']}", key="crm").json()  # type: ignore[attr-defined]
    assert one["record"]["po_number"] == "PO-4711"
    assert_problem(env.get("/v1/records", key="crm", kind="inventory_report"), 403,
                   "forbidden")


def test_message_log_filters_search_and_partner_isolation(env: Env) -> None:
    """Ops filter by partner/status and search by PO number; a partner sees only its own."""
    env.post(po(env, 101), sync="true")
    env.post(po(env, 102, break_it=True), sync="true")
    env.post(asn(env, 201), key="globex", sync="true")
    items = env.get("/v1/messages").json()["items"]  # type: ignore[attr-defined]
    assert len(items) == 3
    rejected = env.get("/v1/messages", status="rejected").json()["items"]  # type: ignore[attr-defined]
    assert [m["status"] for m in rejected] == ["REJECTED"]
    found = env.get("/v1/messages", q="PO-4711").json()["items"]  # type: ignore[attr-defined]
    assert {m["partner_id"] for m in found} == {"acme-retail"}
    own = env.get("/v1/messages", key="globex").json()["items"]  # type: ignore[attr-defined]
    assert [m["partner_id"] for m in own] == ["globex-distribution"]
    other = items[-1]["id"] if items[-1]["partner_id"] == "acme-retail" else items[0]["id"]
    assert_problem(env.get(f"/v1/messages/{other}", key="globex"), 404, "not-found")
    page = env.get("/v1/messages", limit="2").json()  # type: ignore[attr-defined]
    nxt = env.get("/v1/messages", limit="2", cursor=page["next_cursor"]).json()  # type: ignore[attr-defined]
    ids = [m["id"] for m in page["items"] + nxt["items"]]
    assert len(ids) == 3 and len(set(ids)) == 3 and nxt["next_cursor"] is None


def test_raw_download_and_reprocess(env: Env) -> None:
    """The raw bytes come back as sent; an operator's reprocess runs the message again,
    records it in the ledger with the operator, and the feed holds one record, not two."""
    data = po(env)
    message_id = env.post(data, sync="true").json()["message_id"]  # type: ignore[attr-defined]
    assert env.get(f"/v1/messages/{message_id}/raw").content == data  # type: ignore[attr-defined]
    assert_problem(env.client.post(f"/v1/messages/{message_id}/reprocess",
                                   headers={"Authorization": f"Bearer {env.keys['viewer']}"}),
                   403, "forbidden")
    response = env.client.post(f"/v1/messages/{message_id}/reprocess",
                               headers={"Authorization": f"Bearer {env.keys['ops']}"})
    assert response.status_code == 202
    assert env.drain() == 1
    events = env.events(message_id)
    assert events.count("PROCESSED") == 2 and "REPROCESS_REQUESTED" in events
    with env.state.db.transaction() as s:
        assert len(s.scalars(select(RecordRow)).all()) == 1


def test_an_operator_holds_and_releases_a_message(env: Env) -> None:
    """PUT .../hold places a legal hold (201; 200 and unchanged when held already), the
    message detail shows it, DELETE releases it (204; 404 problem when none); viewers
    and partners may not, and each change is in the ledger."""
    message_id = env.post(po(env), sync="true").json()["message_id"]  # type: ignore[attr-defined]
    url = f"/v1/messages/{message_id}/hold"

    def call(method: str, key: str, **kw: Any) -> Any:
        return env.client.request(method, url, headers={
            "Authorization": f"Bearer {env.keys[key]}"}, **kw)

    assert_problem(call("PUT", "viewer", json={"reason": "x"}), 403, "forbidden")
    assert_problem(call("PUT", "acme"), 403, "forbidden")  # partners never hold
    placed = call("PUT", "ops", json={"reason": "dispute over PO 4711"})
    assert placed.status_code == 201
    assert placed.json()["legal_hold"]["reason"] == "dispute over PO 4711"
    again = call("PUT", "ops", json={"reason": "another"})
    assert again.status_code == 200
    assert again.json()["legal_hold"]["reason"] == "dispute over PO 4711"
    detail = env.get(f"/v1/messages/{message_id}").json()  # type: ignore[attr-defined]
    assert detail["legal_hold"]["held_by"] == placed.json()["legal_hold"]["held_by"]
    assert_problem(call("PUT", "ops", json={"reason": "a\x00b"}), 422, "invalid-request")
    assert_problem(env.client.put("/v1/messages/nope/hold", headers={
        "Authorization": f"Bearer {env.keys['ops']}"}), 404, "not-found")
    assert call("DELETE", "ops").status_code == 204
    assert_problem(call("DELETE", "ops"), 404, "not-held")
    assert env.get(f"/v1/messages/{message_id}").json()["legal_hold"] is None  # type: ignore[attr-defined]
    events = env.events(message_id)
    assert events.count("LEGAL_HOLD") == 1 and events.count("LEGAL_HOLD_RELEASED") == 1


def test_lost_lease_is_never_processed_twice(env: Env) -> None:
    """A worker whose lease expired and was taken over cannot commit its result."""
    message_id = env.post(po(env)).json()["message_id"]  # type: ignore[attr-defined]
    pipeline = env.state.pipeline
    assert pipeline.claim(message_id, "worker-a") == message_id
    with env.state.db.transaction() as s:
        message = s.get(Message, message_id)
        assert message is not None
        message.locked_until = message.received_at  # worker-a "died": its lease is over
    assert pipeline.claim(None, "worker-b") == message_id
    assert pipeline.process(message_id, "worker-a") is None
    result = pipeline.process(message_id, "worker-b")
    assert result is not None and result.status == "PROCESSED"
    assert env.events(message_id).count("PROCESSED") == 1
    with env.state.db.transaction() as s:
        assert len(s.scalars(select(RecordRow)).all()) == 1


def test_ledger_verify_health_and_metrics(env: Env) -> None:
    """The ledger verifies over the API, probes answer, and metrics count messages."""
    env.post(po(env), sync="true")
    report = env.get("/v1/ledger/verify", key="viewer").json()  # type: ignore[attr-defined]
    assert report["ok"] is True
    assert env.client.get("/healthz").json() == {"status": "ok"}
    assert env.client.get("/readyz").status_code == 200
    metrics = env.get("/metrics", key="viewer").text  # type: ignore[attr-defined]
    assert 'edigate_messages_total{partner="acme-retail",standard="x12",status="PROCESSED",' \
           'transaction_type="850"} 1.0' in metrics
    assert_problem(env.get("/v1/ledger/verify", key="crm"), 403, "forbidden")


def test_unknown_routes_are_problem_json(env: Env) -> None:
    """Even a 404 for an unknown path is problem+json."""
    assert_problem(env.client.get("/v1/nothing-here"), 404, "not-found")


def test_summary_json_is_valid(env: Env) -> None:
    """The stored per-message summary is JSON with one entry per transaction."""
    message_id = env.post(po(env), sync="true").json()["message_id"]  # type: ignore[attr-defined]
    with env.state.db.transaction() as s:
        message = s.get(Message, message_id)
        assert message is not None and message.summary is not None
        summary = json.loads(message.summary)
    assert [t["set_id"] for t in summary["transactions"]] == ["850"]


def test_claims_of_a_dead_local_process_are_released(env: Env) -> None:
    """A message claimed by a worker of this host whose process no longer exists is made
    claimable at once (not after its lease), with a ledger entry saying so."""
    import os
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_worker = f"worker:{os.uname().nodename}-{dead.stdout.strip()}:0"
    message_id = env.post(po(env)).json()["message_id"]  # type: ignore[attr-defined]
    assert env.state.pipeline.claim(message_id, dead_worker) == message_id
    assert env.state.pipeline.claim(None, "worker-b") is None  # the lease is still running
    assert env.state.pipeline.release_dead_local_claims("test") == 1
    assert env.state.pipeline.claim(None, "worker-b") == message_id
    assert "LEASE_RELEASED" in env.events(message_id)


def test_docs_work_without_internet(env: Env) -> None:
    """/docs references only assets served by the gateway itself, and they are there."""
    page = env.client.get("/docs").text
    assert "_docs-assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert env.client.get("/_docs-assets/swagger-ui-bundle.js").status_code == 200
    assert env.client.get("/openapi.json").json()["info"]["title"] == "edigate"


def test_transaction_types_the_partner_may_not_send_are_rejected(env: Env) -> None:
    """Globex may send 856/810 only: an 850 from it is rejected (AK5*R*1), with no record."""
    data = demo_interchange("acme-850.edi", "01", "123456789", "00501", env.state.settings, 301)
    body = env.post(data, key="globex", sync="true").json()  # type: ignore[attr-defined]
    assert body["status"] == "REJECTED"
    assert body["transactions"][0]["errors"][0]["code"] == "1"
    assert "IK5*R*1" in body["acknowledgments"][0]["content"]


@settings(max_examples=300, deadline=None)
@given(message_id=st.text(), status=st.text(), duplicate=st.booleans())
def test_intake_answer_is_what_jsonresponse_renders(message_id: str, status: str,
                                                    duplicate: bool) -> None:
    """The intake answer, written without JSONResponse, is byte for byte what
    JSONResponse renders for the same content, whatever the strings hold."""
    from gateway.api.messages import _received
    from gateway.intake.group_commit import ReceiveResult

    answer = _received(ReceiveResult(message_id, duplicate, status), 202, {})
    assert answer.body == JSONResponse({"message_id": message_id, "duplicate": duplicate,
                                        "status": status}).body
    assert answer.headers["content-type"] == "application/json"


# ------------------------------------------------------------------ hostile parameters

_OPS_ROUTES_WITH_IDS = ("/v1/messages/{}", "/v1/messages/{}/raw", "/v1/records/{}",
                        "/v1/webhooks/{}", "/v1/deliveries/{}", "/v1/as2/{}")
_STRING_QUERIES = {"/v1/messages": ("partner", "status", "standard", "transaction_type", "q",
                                    "cursor", "since"),
                   "/v1/records": ("after", "kind"),
                   "/v1/deliveries": ("status", "webhook", "record", "cursor"),
                   "/v1/webhooks": ("active",)}


def _lenient(env: Env) -> TestClient:
    """A client that returns a 500 as a response instead of raising it."""
    return TestClient(env.client.app, raise_server_exceptions=False)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1f", "\x7f", "\x85"])
def test_control_characters_in_paths_and_queries_are_a_located_400(env: Env,
                                                                   char: str) -> None:
    """A NUL or other control character in any path id or query value of the API is a
    400 problem naming the parameter, the same on SQLite and PostgreSQL (not a 500)."""
    client = _lenient(env)
    auth = {"Authorization": f"Bearer {env.keys['ops']}"}
    for route in _OPS_ROUTES_WITH_IDS:
        body = assert_problem(client.get(route.format(quote(f"a{char}b")), headers=auth),
                              400, "invalid-characters")
        assert body["parameter"] == "path"
    for path, names in _STRING_QUERIES.items():
        for name in names:
            body = assert_problem(client.get(path, params={name: f"x{char}"}, headers=auth),
                                  400, "invalid-characters")
            assert body["parameter"] == name and name in str(body["detail"])
    # Before any key is looked up, and on the partner's intake too.
    assert_problem(client.post("/v1/messages", params={"sync": char}, content=po(env),
                               headers={"Authorization": f"Bearer {env.keys['acme']}"}),
                   400, "invalid-characters")
    assert_problem(client.get(f"/v1/messages/{quote(char)}"), 400, "invalid-characters")


def _cursor(at: str, item_id: object) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps([at, item_id]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("path", "params", "slug"), [
    ("/v1/records", {"after": str(2**64)}, "invalid-request"),
    ("/v1/records", {"after": "9" * 30}, "invalid-request"),
    ("/v1/records", {"after": str(2**63)}, "bad-cursor"),
    ("/v1/records", {"after": "\u00b2"}, "invalid-request"),  # a digit to str.isdigit
    ("/v1/records", {"kind": "k" * 10_000}, "invalid-request"),
    ("/v1/messages", {"q": "q" * 10_000}, "invalid-request"),
    ("/v1/messages", {"partner": "p" * 10_000}, "invalid-request"),
    ("/v1/messages", {"cursor": "c" * 10_000}, "invalid-request"),
    ("/v1/messages", {"limit": str(2**64)}, "invalid-request"),
    ("/v1/messages", {"since": "0001-01-01T00:00:00+14:00"}, "invalid-parameter"),
    ("/v1/messages", {"until": "9999-12-31T23:59:59-14:00"}, "invalid-parameter"),
    ("/v1/messages", {"cursor": _cursor("0001-01-01T00:00:00+14:00", "x")}, "bad-cursor"),
    ("/v1/messages", {"cursor": _cursor("2020-01-01T00:00:00", "x")}, "bad-cursor"),
    ("/v1/messages", {"cursor": _cursor("2020-01-01T00:00:00+00:00", "a\x00")}, "bad-cursor"),
    ("/v1/messages", {"cursor": _cursor("2020-01-01T00:00:00+00:00", 7)}, "bad-cursor"),
    ("/v1/messages", {"cursor": _cursor("2020-01-01T00:00:00+00:00", "i" * 100)},
     "bad-cursor"),
    ("/v1/deliveries", {"cursor": _cursor("0001-01-01T00:00:00+14:00", "x")}, "bad-cursor"),
    ("/v1/messages/" + "m" * 10_000, {}, "invalid-request"),
    ("/v1/records/" + "r" * 10_000, {}, "invalid-request"),
])
def test_values_out_of_range_are_a_422(env: Env, path: str, params: dict[str, str],
                                       slug: str) -> None:
    """Integers beyond 64 bits, datetimes without a UTC equivalent, over-long values and
    forged cursors are a 422 problem on both databases, never a 500."""
    response = _lenient(env).get(path, params=params,
                                 headers={"Authorization": f"Bearer {env.keys['ops']}"})
    assert_problem(response, 422, slug)


def test_largest_cursor_and_naive_datetimes_are_answered(env: Env) -> None:
    """The largest 64-bit cursor is an empty page (PostgreSQL's INTEGER seq included), and
    a since/until without an offset is taken as UTC, as the UI does."""
    message_id = env.post(po(env), sync="true").json()["message_id"]  # type: ignore[attr-defined]
    client = _lenient(env)
    auth = {"Authorization": f"Bearer {env.keys['ops']}"}
    for after in (str(2**63 - 1), str(2**31), "0" * 19):
        response = client.get("/v1/records", params={"after": after}, headers=auth)
        assert response.status_code == 200, response.text
        assert (response.json()["items"] == []) == (after != "0" * 19)
    page = client.get("/v1/messages", params={"since": "2000-01-01T00:00:00",
                                              "until": "9999-12-31T23:59:59"}, headers=auth)
    assert page.status_code == 200, page.text
    assert [m["id"] for m in page.json()["items"]] == [message_id]


def test_spec_declares_bounds_and_problem_answers(env: Env) -> None:
    """The OpenAPI document states the bounds of ids and cursors, the bearer scheme, and
    that errors (400, 401, 403, 404, 422, 503) are problem documents."""
    spec = env.client.get("/openapi.json").json()
    detail = spec["paths"]["/v1/messages/{message_id}"]["get"]
    assert detail["parameters"][0]["schema"]["maxLength"] == 64
    assert detail["security"] == [{"apiKey": []}]
    for status in ("400", "401", "403", "404", "422", "503"):
        assert list(detail["responses"][status]["content"]) == ["application/problem+json"]
    after = next(p for p in spec["paths"]["/v1/records"]["get"]["parameters"]
                 if p["name"] == "after")
    assert after["schema"]["anyOf"][0]["pattern"] == "^[0-9]*$"
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert "503" not in spec["paths"]["/healthz"]["get"]["responses"]


def test_odd_methods_media_types_and_bodies_are_4xx(env: Env) -> None:
    """HEAD/OPTIONS/TRACE on every route, odd Accept and Content-Type headers, and JSON
    bodies that are deeply nested, huge numbers or not JSON are answered with a 4xx
    problem (or the route's answer), never a 5xx. Held before issue 15; pinned here."""
    client = _lenient(env)
    auth = {"Authorization": f"Bearer {env.keys['ops']}"}
    for path in ("/v1/messages", "/v1/records", "/v1/webhooks", "/v1/deliveries", "/as2",
                 "/healthz", "/openapi.json", "/docs", "/_docs-assets/..%2f..%2fetc%2fpasswd"):
        for method in ("HEAD", "OPTIONS", "TRACE", "PATCH"):
            response = client.request(method, path, headers={**auth, "Accept": "text/xml"})
            assert 400 <= response.status_code < 500 or response.status_code == 200, \
                (method, path, response.status_code)
    bodies = [b"[" * 100_000 + b"]" * 100_000, b'{"url": 1e999, "kinds": "invoice"}',
              b'{"url": "https://a.invalid/", "kinds": ' + b"9" * 5000 + b"}",
              b'{"url": "https://a.invalid/\\ud800", "kinds": "invoice"}', b"\xff\xfe", b""]
    for body in bodies:
        for media_type in ("application/json", "text/plain", "multipart/form-data; boundary=x",
                           "application/x-www-form-urlencoded"):
            response = client.post("/v1/webhooks", content=body,
                                   headers={**auth, "Content-Type": media_type})
            assert 400 <= response.status_code < 500, (body[:20], media_type, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("char", ["\\u0000", "\\u001b", "\\u0085"])
def test_webhook_url_with_a_control_character_is_a_422(env: Env, char: str) -> None:
    """A webhook URL holding a control character is a 422 problem naming body.url on both
    databases, not stored (SQLite) or a 500 (PostgreSQL)."""
    body = f'{{"url": "https://crm.example.internal/a{char}b", "kinds": "invoice"}}'
    response = _lenient(env).post("/v1/webhooks", content=body.encode(), headers={
        "Authorization": f"Bearer {env.keys['ops']}", "Content-Type": "application/json"})
    problem = assert_problem(response, 422, "invalid-request")
    assert "body.url" in str(problem["detail"])
    assert env.get("/v1/webhooks").json()["items"] == []  # type: ignore[attr-defined]
