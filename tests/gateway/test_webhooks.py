"""Webhooks against a real local HTTP receiver: signatures, at-least-once delivery, kinds,
backoff, dead letters, operator retries, the ledger trail and the API, on every backend."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.api.api_keys import issue_key
from gateway.delivery import webhooks
from gateway.delivery.egress import EgressPolicy
from gateway.delivery.outbox import backoff
from gateway.delivery.webhooks import Deliverer
from gateway.intake.pipeline import Delivery
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.app import create_app
from gateway.runtime.cli import main
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base, utcnow
from gateway.store.webhooks import Webhook, WebhookDelivery
from tests.gateway.receiver import LoopbackReceiver, Request

REPO = Path(__file__).resolve().parents[2]
LEASE = timedelta(seconds=30)
ATTEMPT_EVENTS = ("WEBHOOK_DELIVERED", "WEBHOOK_RETRY", "WEBHOOK_DEAD")


# -- a receiver ---------------------------------------------------------------------------

class Receiver(LoopbackReceiver):
    """Answers ``fail_status`` for the next ``fail`` requests, or always with
    ``always_fail``, and 204 otherwise."""

    path = "/hook"

    def __init__(self) -> None:
        super().__init__()
        self.fail = 0
        self.always_fail = False
        self.fail_status = 500

    def answer(self, request: Request) -> int:
        if self.always_fail:
            return self.fail_status
        if self.fail > 0:
            self.fail -= 1
            return self.fail_status
        return 204

    def body(self, status: int) -> bytes:
        return b"" if status < 300 else b"receiver says no"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


# -- the gateway --------------------------------------------------------------------------

@dataclass
class Env:
    client: TestClient
    state: GatewayState
    keys: dict[str, str]
    deliverer: Deliverer

    def call(self, method: str, url: str, key: str = "ops", **kw: Any) -> Any:
        return self.client.request(method, url,
                                   headers={"Authorization": f"Bearer {self.keys[key]}"}, **kw)

    def subscribe(self, url: str, kinds: str | list[str]) -> dict[str, Any]:
        response = self.call("POST", "/v1/webhooks", json={"url": url, "kinds": kinds})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def post(self, data: bytes, key: str = "acme") -> dict[str, Any]:
        response = self.call("POST", "/v1/messages", key=key, content=data,
                             params={"sync": "true"})
        assert response.status_code in (200, 202), response.text
        body: dict[str, Any] = response.json()
        return body

    def deliveries(self) -> list[WebhookDelivery]:
        with self.state.db.transaction() as s:
            return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.record_seq,
                                                                   WebhookDelivery.webhook_id)))

    def ledger(self, *events: str) -> list[LedgerEntry]:
        """Ledger entries of ``events`` (default: delivery attempts), oldest first."""
        wanted = events or ATTEMPT_EVENTS
        with self.state.db.transaction() as s:
            return list(s.scalars(select(LedgerEntry).where(LedgerEntry.event.in_(wanted))
                                  .order_by(LedgerEntry.seq)))


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, partners_dir=REPO / "partners",
                    var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem", workers=0,
                    ledger_checkpoint_every=5, outbox_backoff_seconds=5.0,
                    outbox_max_attempts=3, egress_allow="loopback", **overrides)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = make_settings(database_url, tmp_path)
    state = GatewayState.build(settings, lease=LEASE)
    Base.metadata.create_all(state.db.engine)
    keys: dict[str, str] = {}
    with state.db.transaction() as session:
        keys["acme"] = issue_key(session, "partner", partner_id="acme-retail")[0]
        keys["globex"] = issue_key(session, "partner", partner_id="globex-distribution")[0]
        keys["ops"] = issue_key(session, "ops", role="operator")[0]
        keys["viewer"] = issue_key(session, "ops", role="viewer")[0]
        keys["crm"] = issue_key(session, "consumer", scope="crm")[0]
    app = create_app(settings, state=state, start_workers=False)
    with TestClient(app) as client, \
            state.webhook_deliverer(worker="test-deliverer", lease=LEASE,
                                 timeout=5) as deliverer:
        yield Env(client, state, keys, deliverer)
    state.close()


def po(env: Env, control: int = 101, **kw: bool) -> bytes:
    return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", env.state.settings,
                            control, **kw)


def asn(env: Env, control: int = 201) -> bytes:
    return demo_interchange("globex-856.edi", "01", "123456789", "00501", env.state.settings,
                            control)


def soon() -> datetime:
    """A moment after everything enqueued so far, on whole seconds (as the header is)."""
    return (utcnow() + timedelta(seconds=2)).replace(microsecond=0)


def details(entry: LedgerEntry) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(entry.details)
    return parsed


# -- delivery -----------------------------------------------------------------------------

def test_record_is_posted_once_with_a_verifiable_signature(env: Env,
                                                           receiver: Receiver) -> None:
    """A processed order is POSTed once: the body is the feed item, the signature is
    HMAC-SHA256(secret, timestamp "." body), and the delivery and ledger say delivered."""
    hook = env.subscribe(receiver.url, "purchase_order,invoice")
    message_id = env.post(po(env))["message_id"]
    now = soon()
    assert env.deliverer.run_once(now) == 1
    assert env.deliverer.run_once(now + timedelta(hours=1)) == 0
    [request] = receiver.requests
    timestamp = request.headers["X-Edigate-Timestamp"]
    assert timestamp == str(int(now.timestamp()))
    expected = hmac.new(hook["secret"].encode(), timestamp.encode() + b"." + request.body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Edigate-Signature"], f"sha256={expected}")
    assert request.headers["X-Edigate-Event"] == "record.created"
    assert request.headers["Content-Type"] == "application/json"
    [feed_item] = env.call("GET", "/v1/records", key="crm").json()["items"]
    body = request.json
    assert set(body) == {"id", "cursor", "kind", "partner_id", "message_id", "record"}
    assert body["id"] == feed_item["id"] and body["cursor"] == feed_item["cursor"]
    assert body["kind"] == "purchase_order" and body["partner_id"] == "acme-retail"
    assert body["message_id"] == message_id and body["record"]["po_number"] == "PO-4711"
    [delivery] = env.deliveries()
    assert request.headers["X-Edigate-Delivery"] == delivery.id
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert delivery.last_status_code == 204 and delivery.delivered_at == now
    [entry] = env.ledger()
    assert entry.event == "WEBHOOK_DELIVERED" and entry.actor == "test-deliverer"
    assert entry.message_id == message_id
    assert details(entry) == {"delivery_id": delivery.id, "webhook_id": hook["id"],
                              "record_id": body["id"], "attempt": 1, "status_code": 204,
                              "error": None, "url": receiver.url}
    assert env.call("GET", "/v1/ledger/verify", key="viewer").json()["ok"] is True


def test_only_subscribed_kinds_of_active_webhooks_are_enqueued(env: Env,
                                                                receiver: Receiver) -> None:
    """A ship-notice webhook gets the ASN, an order webhook the PO, a deactivated
    webhook nothing."""
    ships = env.subscribe(receiver.url + "/ships", ["ship_notice"])
    orders = env.subscribe(receiver.url + "/orders", "purchase_order")
    gone = env.subscribe(receiver.url + "/gone", "purchase_order,ship_notice")
    assert env.call("DELETE", f"/v1/webhooks/{gone['id']}").json()["active"] is False
    env.post(po(env))
    env.post(asn(env), key="globex")
    assert env.deliverer.run_once(soon()) == 2
    assert sorted((r.path, r.json["kind"]) for r in receiver.requests) == [
        ("/hook/orders", "purchase_order"), ("/hook/ships", "ship_notice")]
    assert {d.webhook_id for d in env.deliveries()} == {ships["id"], orders["id"]}


def test_failures_are_retried_with_exponential_backoff(env: Env, receiver: Receiver) -> None:
    """Two 500s are retried after 5 s and then 10 s (not earlier), and the third try
    delivers; each attempt is one ledger entry with its number and status code."""
    env.subscribe(receiver.url, "purchase_order")
    receiver.fail = 2
    message_id = env.post(po(env))["message_id"]
    t0 = soon()
    assert env.deliverer.run_once(t0) == 1
    [delivery] = env.deliveries()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == t0 + timedelta(seconds=5)
    assert delivery.last_status_code == 500
    # the answer's body is not kept (gateway.delivery.webhooks)
    assert delivery.last_error == "HTTP 500"
    assert env.deliverer.run_once(t0 + timedelta(seconds=4.9)) == 0
    t1 = t0 + timedelta(seconds=5)
    assert env.deliverer.run_once(t1) == 1
    assert env.deliveries()[0].next_attempt_at == t1 + timedelta(seconds=10)
    assert env.deliverer.run_once(t1 + timedelta(seconds=9.9)) == 0
    assert env.deliverer.run_once(t1 + timedelta(seconds=10)) == 1
    assert env.deliveries()[0].status == "delivered"
    assert len(receiver.requests) == 3
    # The same delivery each time, freshly timestamped and signed.
    assert len({r.headers["X-Edigate-Delivery"] for r in receiver.requests}) == 1
    assert len({r.headers["X-Edigate-Timestamp"] for r in receiver.requests}) == 3
    entries = env.ledger()
    assert [(e.event, details(e)["attempt"], details(e)["status_code"]) for e in entries] == [
        ("WEBHOOK_RETRY", 1, 500), ("WEBHOOK_RETRY", 2, 500), ("WEBHOOK_DELIVERED", 3, 204)]
    assert details(entries[0])["next_attempt_at"] == (t0 + timedelta(seconds=5)).isoformat()
    assert {e.message_id for e in entries} == {message_id}


def test_a_receiver_asking_to_retry_later_is_not_tried_sooner(env: Env,
                                                               receiver: Receiver) -> None:
    """A 429 with Retry-After: 60 moves the next try a minute on, not the 5 s backoff."""
    env.subscribe(receiver.url, "purchase_order")
    receiver.fail, receiver.fail_status, receiver.retry_after = 1, 429, "60"
    env.post(po(env))
    t0 = soon()
    assert env.deliverer.run_once(t0) == 1
    assert env.deliveries()[0].next_attempt_at == t0 + timedelta(seconds=60)
    assert env.deliverer.run_once(t0 + timedelta(seconds=59)) == 0
    assert env.deliverer.run_once(t0 + timedelta(seconds=60)) == 1
    assert env.deliveries()[0].status == "delivered"


def test_an_event_delivery_names_its_event_in_the_ledger(env: Env,
                                                        receiver: Receiver) -> None:
    """An order event delivered to a webhook is ledgered with ``event_id`` (the id the
    receiver gets as X-Edigate-Delivery's subject), a record delivery with ``record_id``."""
    env.subscribe(receiver.url, ["purchase_order", "order.created"])
    env.post(po(env))
    assert env.deliverer.run_once(soon()) == 2
    by_kind = {r.headers["X-Edigate-Event"]: r.json for r in receiver.requests}
    entries = [details(e) for e in env.ledger("WEBHOOK_DELIVERED")]
    assert sorted(sorted(set(d) & {"event_id", "record_id"}) for d in entries) == [
        ["event_id"], ["record_id"]]
    [event] = [d["event_id"] for d in entries if "event_id" in d]
    assert event == by_kind["order.created"]["id"]
    listed = env.call("GET", "/v1/deliveries").json()["items"]
    assert sorted((d["subject"], d["record_id"] == event) for d in listed) == [
        ("event", True), ("record", False)]


def test_transport_errors_are_retried(env: Env, receiver: Receiver) -> None:
    """A refused connection is a failed attempt with the error recorded, not a crash."""
    url = receiver.url
    receiver.server.shutdown()
    receiver.server.server_close()  # nothing listens on the port any more
    env.subscribe(url, "purchase_order")
    env.post(po(env))
    assert env.deliverer.run_once(soon()) == 1
    [delivery] = env.deliveries()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert delivery.last_error is not None and delivery.last_error.startswith("ConnectError")
    [entry] = env.ledger()
    assert entry.event == "WEBHOOK_RETRY" and details(entry)["error"] == delivery.last_error


def test_dead_after_the_last_try_visible_and_retried_by_an_operator(
        env: Env, receiver: Receiver) -> None:
    """After max attempts the delivery is dead and listed by the API; only an operator can
    retry it, which is in the ledger under the operator's name and then delivers."""
    hook = env.subscribe(receiver.url, "purchase_order")
    receiver.always_fail = True
    env.post(po(env))
    now = soon()
    for _ in range(3):
        assert env.deliverer.run_once(now) == 1
        now += timedelta(hours=1)
    assert env.deliverer.run_once(now + timedelta(days=30)) == 0
    assert [e.event for e in env.ledger()] == ["WEBHOOK_RETRY", "WEBHOOK_RETRY",
                                               "WEBHOOK_DEAD"]
    dead = env.call("GET", "/v1/deliveries", key="viewer",
                    params={"status": "dead", "webhook": hook["id"]}).json()["items"]
    assert len(dead) == 1 and dead[0]["attempts"] == 3
    assert dead[0]["last_status_code"] == 500 and dead[0]["next_attempt_at"] is None
    assert env.call("GET", "/v1/deliveries", params={"status": "pending"}).json()["items"] == []
    assert env.call("GET", "/v1/deliveries",
                    params={"webhook": "other"}).json()["items"] == []
    delivery_id = dead[0]["id"]
    forbidden = env.call("POST", f"/v1/deliveries/{delivery_id}/retry", key="viewer")
    assert forbidden.status_code == 403
    receiver.always_fail = False
    response = env.call("POST", f"/v1/deliveries/{delivery_id}/retry")
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["attempts"] == 0
    requested = env.ledger("WEBHOOK_RETRY_REQUESTED")
    assert len(requested) == 1 and requested[0].actor.startswith("ops:operator:")
    assert details(requested[0])["previous_attempts"] == 3
    assert env.deliverer.run_once(utcnow() + timedelta(seconds=1)) == 1
    assert env.call("GET", f"/v1/deliveries/{delivery_id}").json()["status"] == "delivered"
    again = env.call("POST", f"/v1/deliveries/{delivery_id}/retry")
    assert again.status_code == 409 and again.json()["type"] == "urn:edigate:problem:not-dead"
    missing = env.call("POST", "/v1/deliveries/nope/retry")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_rejected_transactions_and_duplicate_posts_create_no_deliveries(
        env: Env, receiver: Receiver) -> None:
    """A rejected transaction has no record and so no delivery; posting an accepted
    interchange again is a duplicate and is not delivered again."""
    env.subscribe(receiver.url, "purchase_order")
    assert env.post(po(env, 101, break_it=True))["status"] == "REJECTED"
    assert env.deliveries() == []
    env.post(po(env, 102))
    assert env.post(po(env, 102))["duplicate"] is True
    assert env.deliverer.run_once(soon()) == 1
    assert env.state.pipeline.run_once("test-worker") is None
    assert env.deliverer.run_once(soon() + timedelta(hours=1)) == 0
    assert len(env.deliveries()) == 1 and len(receiver.requests) == 1


def test_reprocess_delivers_the_new_record_and_drops_the_superseded_one(
        env: Env, receiver: Receiver) -> None:
    """A reprocess creates a record with a new id, which is delivered; a still pending
    delivery of the superseded record becomes dead with the reason, without a request."""
    env.subscribe(receiver.url, "purchase_order")
    message_id = env.post(po(env))["message_id"]
    assert env.call("POST", f"/v1/messages/{message_id}/reprocess").status_code == 202
    assert sum(1 for _ in env.state.pipeline.drain("test-worker")) == 1
    assert env.deliverer.run_once(soon()) == 1
    old, new = env.deliveries()
    assert old.record_id != new.record_id
    assert old.status == "dead" and old.attempts == 0
    assert old.last_error is not None and "no longer exists" in old.last_error
    assert new.status == "delivered"
    [request] = receiver.requests
    assert request.json["id"] == new.record_id
    assert [e.event for e in env.ledger()] == ["WEBHOOK_DEAD", "WEBHOOK_DELIVERED"]


def test_a_deactivated_webhooks_pending_delivery_dies_unsent(env: Env,
                                                             receiver: Receiver) -> None:
    """Deactivating a webhook stops its pending deliveries: they become dead when due,
    nothing is sent, and an operator cannot retry them."""
    hook = env.subscribe(receiver.url, "purchase_order")
    env.post(po(env))
    assert env.call("DELETE", f"/v1/webhooks/{hook['id']}").status_code == 200
    assert env.deliverer.run_once(soon()) == 0
    [delivery] = env.deliveries()
    assert delivery.status == "dead" and delivery.last_error == "the webhook was deactivated"
    assert receiver.requests == []
    refused = env.call("POST", f"/v1/deliveries/{delivery.id}/retry")
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:edigate:problem:webhook-inactive"
    assert [e.event for e in env.ledger("WEBHOOK_CREATED", "WEBHOOK_DEACTIVATED",
                                        *ATTEMPT_EVENTS)] == [
        "WEBHOOK_CREATED", "WEBHOOK_DEACTIVATED", "WEBHOOK_DEAD"]


def test_a_crash_between_claim_and_result_leads_to_a_resend(env: Env,
                                                            receiver: Receiver) -> None:
    """A claim whose worker never reports holds the delivery only until its lease ends;
    then it is sent (at least once, never lost) and the lost attempt is in the ledger."""
    env.subscribe(receiver.url, "purchase_order")
    env.post(po(env))
    t0 = soon()
    with env.state.webhook_deliverer(worker="crashed", lease=LEASE) as crashed:
        attempt = crashed.claim(t0)  # ... and the process dies before sending
    assert attempt is not None and attempt.number == 1
    assert env.deliverer.claim(t0) is None  # another worker never takes a live claim
    assert env.deliverer.run_once(t0 + LEASE - timedelta(seconds=1)) == 0
    assert env.deliverer.run_once(t0 + LEASE) == 1
    [delivery] = env.deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert len(receiver.requests) == 1
    entries = env.ledger()
    assert [(e.event, details(e)["attempt"], e.actor) for e in entries] == [
        ("WEBHOOK_RETRY", 1, "test-deliverer"), ("WEBHOOK_DELIVERED", 2, "test-deliverer")]
    assert "crashed" in details(entries[0])["error"] and "lease" in details(entries[0])["error"]


def test_a_late_result_of_a_taken_over_claim_changes_nothing(env: Env,
                                                             receiver: Receiver) -> None:
    """A worker that was slow, not dead, reports after its claim was taken over: its
    result is discarded and the current attempt's claim stays intact."""
    env.subscribe(receiver.url, "purchase_order")
    env.post(po(env))
    t0 = soon()
    with env.state.webhook_deliverer(worker="slow", lease=LEASE) as slow:
        first = slow.claim(t0)
        assert first is not None
        second = env.deliverer.claim(t0 + LEASE)
        assert second is not None and second.number == 2
        assert slow.send(first, t0 + LEASE) == "lost"
    [delivery] = env.deliveries()
    assert delivery.status == "pending" and delivery.attempts == 2
    assert delivery.locked_by == second.token and delivery.last_status_code is None
    assert env.deliverer.send(second, t0 + LEASE) == "delivered"
    assert len(receiver.requests) == 2  # sent twice: at least once
    assert [(e.event, details(e)["attempt"]) for e in env.ledger()] == [
        ("WEBHOOK_RETRY", 1), ("WEBHOOK_DELIVERED", 2)]


def test_concurrent_deliverers_never_send_the_same_attempt(env: Env,
                                                           receiver: Receiver) -> None:
    """Two deliverers draining at once (SKIP LOCKED on PostgreSQL) send each delivery
    exactly once between them."""
    env.subscribe(receiver.url, "purchase_order")
    for control in range(101, 107):
        env.post(po(env, control))
    receiver.delay = 0.05
    now = soon()
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def drain(name: str) -> None:
        with env.state.webhook_deliverer(worker=name, lease=LEASE) as deliverer:
            barrier.wait()
            counts.append(deliverer.run_once(now))

    threads = [threading.Thread(target=drain, args=(f"d{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(counts) == 6
    sent = [r.headers["X-Edigate-Delivery"] for r in receiver.requests]
    assert len(sent) == 6 and set(sent) == {d.id for d in env.deliveries()}
    assert {d.status for d in env.deliveries()} == {"delivered"}


def test_a_lost_last_attempt_makes_the_delivery_dead(env: Env, receiver: Receiver) -> None:
    """A lost claim counts as an attempt: when it was the last, the delivery is dead
    (visible, retryable) instead of being tried forever."""
    env.subscribe(receiver.url, "purchase_order")
    receiver.always_fail = True
    env.post(po(env))
    now = soon()
    for _ in range(2):
        assert env.deliverer.run_once(now) == 1
        now += timedelta(hours=1)
    with env.state.webhook_deliverer(worker="crashed", lease=LEASE) as crashed:
        assert crashed.claim(now) is not None
    assert env.deliverer.run_once(now + LEASE) == 0
    [delivery] = env.deliveries()
    assert delivery.status == "dead" and delivery.attempts == 3
    assert [e.event for e in env.ledger()][-1] == "WEBHOOK_DEAD"
    assert len(receiver.requests) == 2


def test_a_destination_the_policy_refuses_at_send_time_is_dead_at_once(
        env: Env, receiver: Receiver) -> None:
    """A webhook whose address the egress policy refuses when it is sent (the setting
    changed, or DNS now names a loopback address) is not contacted and not retried: the
    delivery is dead after one attempt with the policy's reason, and an operator can
    retry it once the policy allows it."""
    env.subscribe(receiver.url, "purchase_order")
    env.post(po(env))
    strict = env.state.settings.model_copy(update={"egress_allow": ""})
    with Deliverer(env.state.db, env.state.ledger, strict, worker="strict",
                   lease=LEASE) as deliverer:
        assert deliverer.run_once(soon()) == 1
        assert deliverer.run_once(soon() + timedelta(days=1)) == 0
    [delivery] = env.deliveries()
    assert delivery.status == "dead" and delivery.attempts == 1
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("refused by the egress policy: 127.0.0.1 is a "
                                          "loopback address")
    assert receiver.requests == []
    [entry] = env.ledger()
    assert entry.event == "WEBHOOK_DEAD" and details(entry)["error"] == delivery.last_error
    assert env.call("POST", f"/v1/deliveries/{delivery.id}/retry").status_code == 202
    assert env.deliverer.run_once(utcnow() + timedelta(seconds=1)) == 1
    assert env.deliveries()[0].status == "delivered"


def test_the_receivers_answer_is_shown_to_nobody(env: Env, receiver: Receiver) -> None:
    """The body of a receiver's error answer (which could be an internal service's page)
    is not kept: neither viewers nor operators see it in the API, nor is it in the ledger;
    the status code is."""
    env.subscribe(receiver.url, "purchase_order")
    receiver.always_fail = True
    env.post(po(env))
    assert env.deliverer.run_once(soon()) == 1
    for key in ("viewer", "ops"):
        listed = env.call("GET", "/v1/deliveries", key=key)
        assert listed.status_code == 200
        assert "receiver says no" not in listed.text
        [item] = listed.json()["items"]
        assert item["last_status_code"] == 500 and item["last_error"] == "HTTP 500"
    assert all("receiver says no" not in e.details for e in env.ledger())


def test_a_trickling_receiver_holds_a_delivery_only_until_the_deadline(
        database_url: str, tmp_path: Path, trickling_port: int) -> None:
    """A receiver that sends its answer one header line every 0.3 s (so no single read
    times out) is cut off at the attempt's total deadline, and the attempt is retried."""
    settings = make_settings(database_url, tmp_path, egress_deadline_seconds=1.5)
    state = GatewayState.build(settings, lease=LEASE)
    Base.metadata.create_all(state.db.engine)
    try:
        with state.db.transaction() as session:
            webhooks.create_webhook(session, state.ledger,
                                    url=f"http://127.0.0.1:{trickling_port}/h",
                                    kinds="purchase_order", actor="test",
                                    policy=EgressPolicy.parse("loopback"))
        data = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", settings, 101)
        state.pipeline.receive(Delivery("acme-retail", "https", data), "test")
        assert sum(1 for _ in state.pipeline.drain("test")) == 1
        started = time.monotonic()
        with state.webhook_deliverer(worker="d", lease=LEASE) as deliverer:
            assert deliverer.run_once(soon()) == 1
        assert time.monotonic() - started < 10
        with state.db.transaction() as session:
            [delivery] = session.scalars(select(WebhookDelivery)).all()
        assert delivery.status == "pending" and delivery.last_status_code is None
        assert "total deadline of 1.5 s" in (delivery.last_error or "")
    finally:
        state.close()


def test_backoff_doubles_and_is_capped(tmp_path: Path) -> None:
    """The wait after try n is base * 2^(n-1), never more than the cap, whatever n is."""
    settings = make_settings("sqlite://", tmp_path, outbox_backoff_cap_seconds=86400)
    assert [backoff(settings, n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(settings, 10_000) == timedelta(days=1)


# -- the API and the CLI --------------------------------------------------------------------

def test_webhook_api_validates_shows_the_secret_once_and_needs_an_operator(env: Env) -> None:
    """Creating needs an operator and valid kinds and URL; the secret is in the creation
    response only; listing, reading and deactivating work and are in the ledger."""
    created = env.subscribe("https://crm.example.test/hook?token=abc",
                            " invoice,purchase_order,invoice")
    assert created["kinds"] == ["invoice", "purchase_order"]
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    listed = env.call("GET", "/v1/webhooks", key="viewer").json()["items"]
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    one = env.call("GET", f"/v1/webhooks/{created['id']}", key="viewer").json()
    assert "secret" not in one
    with env.state.db.transaction() as s:
        stored = s.get(Webhook, created["id"])
        assert stored is not None and stored.secret == created["secret"]
    [entry] = env.ledger("WEBHOOK_CREATED")
    assert details(entry)["url"] == "https://crm.example.test/hook?..."  # no token kept
    assert created["secret"] not in entry.details
    for body, slug in [
        ({"url": "https://x.test/h", "kinds": "purchase_order,recipe"}, "invalid-webhook"),
        ({"url": "https://x.test/h", "kinds": []}, "invalid-webhook"),
        ({"url": "ftp://x.test/h", "kinds": "invoice"}, "invalid-webhook"),
        ({"url": "https://user:pw@x.test/h", "kinds": "invoice"}, "invalid-webhook"),
        ({"url": "/relative", "kinds": "invoice"}, "invalid-webhook"),
        ({"url": "https://x.test:port/h", "kinds": "invoice"}, "invalid-webhook"),
        ({"kinds": "invoice"}, "invalid-request"),
    ]:
        response = env.call("POST", "/v1/webhooks", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == f"urn:edigate:problem:{slug}", body
    assert env.call("POST", "/v1/webhooks", key="viewer",
                    json={"url": "https://x.test/h", "kinds": "invoice"}).status_code == 403
    assert env.call("GET", "/v1/webhooks", key="crm").status_code == 403
    assert env.call("DELETE", f"/v1/webhooks/{created['id']}", key="viewer").status_code == 403
    assert env.call("DELETE", f"/v1/webhooks/{created['id']}").json()["active"] is False
    assert env.call("DELETE", f"/v1/webhooks/{created['id']}").status_code == 200
    assert len(env.ledger("WEBHOOK_DEACTIVATED")) == 1  # the second DELETE changed nothing
    assert env.call("DELETE", "/v1/webhooks/nope").status_code == 404
    assert env.call("GET", "/v1/webhooks", params={"active": "true"}).json()["items"] == []
    assert env.call("GET", "/v1/deliveries", params={"status": "lost"}).status_code == 422


def test_deliveries_are_paged_newest_first(env: Env, receiver: Receiver) -> None:
    """The delivery list pages with a cursor and returns each delivery once."""
    env.subscribe(receiver.url, "purchase_order,ship_notice")
    env.post(po(env, 101))
    env.post(po(env, 102))
    env.post(asn(env, 201), key="globex")
    first = env.call("GET", "/v1/deliveries", params={"limit": 2}).json()
    rest = env.call("GET", "/v1/deliveries",
                    params={"limit": 2, "cursor": first["next_cursor"]}).json()
    ids = [d["id"] for d in first["items"] + rest["items"]]
    assert len(ids) == 3 and len(set(ids)) == 3 and rest["next_cursor"] is None
    assert ids[0] == env.deliveries()[-1].id
    assert env.call("GET", "/v1/deliveries", params={"cursor": "!!"}).status_code == 422


def cli_environment(monkeypatch: pytest.MonkeyPatch, env: Env) -> None:
    settings = env.state.settings
    monkeypatch.setenv("EDIGATE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EDIGATE_PARTNERS_DIR", str(settings.partners_dir))
    monkeypatch.setenv("EDIGATE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("EDIGATE_LEDGER_KEY_PATH", str(settings.ledger_key_path))
    monkeypatch.setenv("EDIGATE_LEDGER_CHECKPOINT_EVERY", "5")
    monkeypatch.setenv("EDIGATE_EGRESS_ALLOW", "loopback")


def test_cli_adds_a_webhook_and_the_worker_delivers(env: Env, receiver: Receiver,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`edigate consumers add-webhook` prints the id and the secret once; `edigate worker`
    processes a waiting message and sends its record; bad kinds exit 2 with one line."""
    cli_environment(monkeypatch, env)
    assert main(["consumers", "add-webhook", "--url", receiver.url,
                 "--kinds", "purchase_order,invoice"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(None, 1) for line in out.splitlines()[:4])
    with env.state.db.transaction() as s:
        stored = s.get(Webhook, lines["webhook"])
        assert stored is not None
        assert stored.secret == lines["secret"] and stored.kinds == "invoice,purchase_order"
    env.state.pipeline.receive(Delivery("acme-retail", "https", po(env)), "test")
    assert main(["worker"]) == 0
    assert "processed 1 message(s), made 1 webhook delivery attempt(s)" in capsys.readouterr().out
    [request] = receiver.requests
    timestamp = request.headers["X-Edigate-Timestamp"]
    expected = hmac.new(lines["secret"].encode(), timestamp.encode() + b"." + request.body,
                        hashlib.sha256).hexdigest()
    assert request.headers["X-Edigate-Signature"] == f"sha256={expected}"
    assert main(["consumers", "add-webhook", "--url", receiver.url, "--kinds", "recipes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edigate: error: kinds: unknown record kind") and err.count("\n") == 1
    for url in (receiver.url + "\x00x", receiver.url + "\tx", receiver.url + "/\u00e9"):
        assert main(["consumers", "add-webhook", "--url", url, "--kinds", "invoice"]) == 2
        assert "must be visible ASCII" in capsys.readouterr().err


def test_the_app_delivers_in_the_background(database_url: str, tmp_path: Path,
                                            receiver: Receiver) -> None:
    """With workers on, the app processes a posted message and its webhook receives the
    record without anyone calling the deliverer."""
    settings = make_settings(database_url, tmp_path).model_copy(update={"workers": 1})
    state = GatewayState.build(settings, lease=LEASE)
    Base.metadata.create_all(state.db.engine)
    with state.db.transaction() as session:
        partner = issue_key(session, "partner", partner_id="acme-retail")[0]
        operator = issue_key(session, "ops", role="operator")[0]
    app = create_app(settings, state=state)
    try:
        with TestClient(app) as client:
            created = client.post("/v1/webhooks", json={"url": receiver.url,
                                                        "kinds": "purchase_order"},
                                  headers={"Authorization": f"Bearer {operator}"})
            assert created.status_code == 201
            data = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", settings, 101)
            posted = client.post("/v1/messages", content=data,
                                 headers={"Authorization": f"Bearer {partner}"})
            assert posted.status_code == 202
            deadline = time.monotonic() + 20
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(receiver.requests) == 1
            assert receiver.requests[0].json["message_id"] == posted.json()["message_id"]
    finally:
        state.close()


def test_sent_documents_overdue_are_events_for_subscribed_webhooks(
        env: Env, receiver: Receiver) -> None:
    """A webhook subscribed to ``document.overdue`` gets one signed POST per document whose
    acknowledgment is overdue, with ``X-Edigate-Event`` naming the type and the document's
    control numbers in the body; a webhook of record kinds gets nothing."""
    from gateway.processing.reconcile import mark_overdue

    hook = env.subscribe(receiver.url, "document.overdue,document.rejected")
    env.subscribe(receiver.url + "/orders", "purchase_order")
    partner = env.state.registry.get("acme-retail")
    assert partner is not None and env.state.outbound is not None
    record = {"kind": "order_response", "po_number": "PO-77", "order_date": "2024-03-01",
              "purpose_code": "00", "response_code": "AC",
              "lines": [{"line_number": "1", "quantity": "1", "unit": "EA",
                         "item_ids": {"vendor_item": "V-1"}}]}
    sent = env.state.outbound.submit(partner, [record], actor="test")
    assert sent.status == "GENERATED"
    later = utcnow() + timedelta(hours=25)
    assert mark_overdue(env.state.db, env.state.ledger, later, "test") == 1
    assert env.deliverer.run_once(later + timedelta(seconds=1)) == 1
    [request] = receiver.requests
    assert request.headers["X-Edigate-Event"] == "document.overdue"
    timestamp = request.headers["X-Edigate-Timestamp"]
    expected = hmac.new(hook["secret"].encode(), timestamp.encode() + b"." + request.body,
                        hashlib.sha256).hexdigest()
    assert request.headers["X-Edigate-Signature"] == f"sha256={expected}"
    body = request.json
    assert body["type"] == "document.overdue" and body["partner_id"] == "acme-retail"
    assert body["message_id"] == sent.message_id
    assert body["data"]["business_number"] == "PO-77"
    assert body["data"]["interchange_control"] == sent.interchange_control
    assert [d.subject for d in env.deliveries()] == ["event"]


def test_an_unknown_event_type_is_refused_at_subscription(env: Env) -> None:
    """Kinds are record kinds or event types; anything else is a 422 naming it."""
    response = env.call("POST", "/v1/webhooks",
                        json={"url": "https://hooks.example.com/x", "kinds": "document.lost"})
    assert response.status_code == 422 and "document.lost" in response.json()["detail"]
