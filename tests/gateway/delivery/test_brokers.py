"""Events published to message brokers, through the REAL brokers on this machine:
RabbitMQ on 127.0.0.1:5672 (guest/guest) and NATS with JetStream on 127.0.0.1:4222. Each
case skips, saying which, when its broker's port does not answer (`.ci/run` starts both).

An independent client (pika, nats-py: not edigate's publisher) consumes what was
published, from an exchange or stream named for the one test, so runs never see each
other's messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
import pika
import pytest
from sqlalchemy import select

from gateway.delivery.brokers import BrokerConfigError, BrokerDeliverer, broker_targets
from gateway.delivery.egress import EgressPolicy
from gateway.delivery.webhooks import create_webhook, enqueue_events
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.runtime.workers import WorkerThreads
from gateway.store.base import Base, utcnow
from gateway.store.brokers import BrokerDelivery, BrokerStatus
from gateway.store.events import Event
from gateway.store.webhooks import DeliveryStatus, WebhookDelivery
from tests.gateway.receiver import LoopbackReceiver

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
NATS_URL = "nats://127.0.0.1:4222"
REPO = Path(__file__).resolve().parents[3]
BROKER_EVENTS = ("BROKER_PUBLISHED", "BROKER_PUBLISH_RETRY", "BROKER_PUBLISH_FAILED")


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- independent consumers --------------------------------------------------------------

@dataclass
class AMQPConsumer:
    """A queue of its own bound to every routing key of the test's exchange."""

    exchange: str
    channel: Any
    queue: str

    def messages(self) -> list[tuple[str, Any, bytes]]:
        """(routing key, properties, body) of every message waiting, oldest first."""
        got = []
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return got
            got.append((method.routing_key, properties, body))


@pytest.fixture
def amqp() -> Iterator[AMQPConsumer]:
    if not _answers(5672):
        pytest.skip("RabbitMQ does not answer on 127.0.0.1:5672 (start rabbitmq-server): "
                    "AMQP broker cases skipped")
    exchange = f"edigate.test.{uuid.uuid4().hex[:12]}"
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, "#")
    yield AMQPConsumer(exchange, channel, queue)
    channel.exchange_delete(exchange)
    connection.close()


@dataclass
class NATSConsumer:
    """Reads the test's stream directly (JetStream's stored messages, by sequence)."""

    prefix: str
    stream: str

    def messages(self) -> list[tuple[str, dict[str, str], bytes]]:
        """(subject, headers, body) of every message the stream holds, oldest first."""

        async def read() -> list[tuple[str, dict[str, str], bytes]]:
            nc = await nats.connect(NATS_URL)
            try:
                js = nc.jetstream()
                info = await js.stream_info(self.stream)
                got = []
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    if info.state.messages == 0:
                        break
                    msg = await js.get_msg(self.stream, seq)
                    got.append((msg.subject, dict(msg.headers or {}), msg.data or b""))
                return got
            finally:
                await nc.close()

        return asyncio.run(read())


@pytest.fixture
def jetstream() -> Iterator[NATSConsumer]:
    if not _answers(4222):
        pytest.skip("NATS does not answer on 127.0.0.1:4222 (start nats-server -js): "
                    "NATS JetStream broker cases skipped")
    name = uuid.uuid4().hex[:12]
    consumer = NATSConsumer(f"edigate.test.{name}", f"EDIGATE_TEST_{name}")
    yield consumer

    async def delete() -> None:
        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().delete_stream(consumer.stream)
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await nc.close()

    asyncio.run(delete())


# -- the gateway ------------------------------------------------------------------------

def _broker_settings(amqp: AMQPConsumer | None = None, jetstream: NATSConsumer | None = None,
                     *, amqp_url: str = AMQP_URL, nats_url: str = NATS_URL,
                     **more: Any) -> dict[str, Any]:
    settings: dict[str, Any] = dict(more)
    if amqp is not None:
        settings |= {"amqp_url": amqp_url, "amqp_exchange": amqp.exchange}
    if jetstream is not None:
        settings |= {"nats_url": nats_url, "nats_subject_prefix": jetstream.prefix,
                     "nats_stream": jetstream.stream}
    return settings


def write_event(state: GatewayState, kind: str = "document.rejected") -> Event:
    """An event written as the gateway writes them: the row, then enqueue_events, in one
    transaction."""
    with state.db.transaction() as session:
        event = Event(id=str(uuid.uuid4()), type=kind, partner_id="acme",
                      message_id=str(uuid.uuid4()), created_at=utcnow(),
                      data=json.dumps({"document_id": "d-1", "business_number": "PO-7",
                                       "note": "grüße"}, ensure_ascii=False))
        session.add(event)
        session.flush()
        enqueue_events(session, [event])
    return event


def deliveries(state: GatewayState) -> list[BrokerDelivery]:
    with state.db.read() as session:
        return list(session.scalars(select(BrokerDelivery).order_by(
            BrokerDelivery.event_seq, BrokerDelivery.broker)))


def entries(state: GatewayState) -> list[tuple[str, dict[str, Any]]]:
    with state.db.read() as session:
        rows = session.scalars(select(LedgerEntry).where(
            LedgerEntry.event.in_(BROKER_EVENTS)).order_by(LedgerEntry.seq))
        return [(row.event, json.loads(row.details)) for row in rows]


def deliverer(state: GatewayState, broker: str) -> BrokerDeliverer:
    [found] = [d for d in state.broker_deliverers() if d.target.broker == broker]
    return found


# -- what is enqueued -------------------------------------------------------------------

def test_without_a_broker_an_event_enqueues_nothing_for_brokers(
        build_state: Callable[..., GatewayState]) -> None:
    """No broker configured: writing an event adds no broker delivery (nothing changes)."""
    state = build_state()
    write_event(state)
    assert state.brokers == ()
    assert deliveries(state) == []


def test_each_broker_gets_one_row_per_event_its_filter_takes(
        build_state: Callable[..., GatewayState]) -> None:
    """One pending row per (event, broker), and a broker's event filter leaves out the
    types it does not name; the rows commit with the event (no broker is contacted)."""
    state = build_state(amqp_url=f"amqp://127.0.0.1:{_closed_port()}/",
                        amqp_events="document.overdue",
                        nats_url=f"nats://127.0.0.1:{_closed_port()}")
    rejected = write_event(state, "document.rejected")
    overdue = write_event(state, "document.overdue")
    rows = deliveries(state)
    assert [(r.event_id, r.broker, r.status, r.attempts) for r in rows] == [
        (rejected.id, "nats", BrokerStatus.PENDING, 0),
        (overdue.id, "amqp", BrokerStatus.PENDING, 0),
        (overdue.id, "nats", BrokerStatus.PENDING, 0)]


def test_an_event_that_rolls_back_leaves_no_broker_delivery(
        build_state: Callable[..., GatewayState]) -> None:
    """The event and its broker deliveries commit together or not at all."""
    state = build_state(nats_url=f"nats://127.0.0.1:{_closed_port()}")
    with pytest.raises(RuntimeError), state.db.transaction() as session:
        event = Event(id=str(uuid.uuid4()), type="document.overdue", partner_id="acme",
                      created_at=utcnow(), data="{}")
        session.add(event)
        session.flush()
        assert enqueue_events(session, [event]) == 1
        raise RuntimeError("the writer failed after enqueueing")
    assert deliveries(state) == []


# -- settings ---------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "variable"), [
    ({"amqp_url": "amqp://127.0.0.1/", "amqp_events": "document.rejected,order.nonsense"},
     "EDIGATE_AMQP_EVENTS"),
    ({"amqp_url": "http://u:hunter2-S3CRET@127.0.0.1/"}, "EDIGATE_AMQP_URL"),
    ({"amqp_url": "amqp://127.0.0.1/", "amqp_exchange": " "}, "EDIGATE_AMQP_EXCHANGE"),
    ({"nats_url": "nats://u:hunter2-S3CRET@"}, "EDIGATE_NATS_URL"),
    ({"nats_url": "nats://127.0.0.1", "nats_subject_prefix": "edigate.*"},
     "EDIGATE_NATS_SUBJECT_PREFIX"),
    ({"nats_url": "nats://127.0.0.1", "nats_stream": "a.b"}, "EDIGATE_NATS_STREAM"),
    ({"nats_url": "nats://127.0.0.1", "nats_events": "nope"}, "EDIGATE_NATS_EVENTS"),
])
def test_a_broker_setting_that_cannot_work_is_refused_naming_its_variable(
        overrides: dict[str, str], variable: str) -> None:
    """Broker settings are checked before anything starts; the error names the variable
    and never quotes a password."""
    with pytest.raises(BrokerConfigError) as caught:
        broker_targets(Settings(**overrides))
    assert str(caught.value).startswith(variable + ":")
    assert "hunter2" not in str(caught.value)


def test_a_broker_password_is_not_in_the_settings_repr_but_reaches_child_processes(
        ) -> None:
    """A broker URL is a secret setting: hidden from repr, handed whole to the gateway's
    own worker processes."""
    settings = Settings(amqp_url="amqp://edi:hunter2-S3CRET@mq.internal/prod")
    assert "hunter2" not in repr(settings)
    assert Settings.from_env(settings.to_env()).amqp_url == settings.amqp_url
    [target] = broker_targets(settings)
    assert target.public == "amqp://mq.internal/prod exchange edigate.events"
    assert "hunter2" not in repr(target)


# -- AMQP -------------------------------------------------------------------------------

def test_amqp_publishes_an_event_once_with_its_id(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer) -> None:
    """An event goes to the topic exchange once: routing key = its type, message_id = its
    id, persistent, JSON; the row is delivered and ledgered BROKER_PUBLISHED."""
    state = build_state(**_broker_settings(amqp))
    event = write_event(state)
    with deliverer(state, "amqp") as outbox:
        assert outbox.run_once() == 1
        assert outbox.run_once() == 0
    [(key, properties, body)] = amqp.messages()
    assert key == "document.rejected"
    assert (properties.message_id, properties.content_type, properties.delivery_mode,
            properties.type) == (event.id, "application/json", 2, "document.rejected")
    assert json.loads(body)["id"] == event.id
    [row] = deliveries(state)
    assert (row.status, row.attempts, row.locked_by) == (BrokerStatus.DELIVERED, 1, None)
    [(name, details)] = entries(state)
    assert name == "BROKER_PUBLISHED"
    assert (details["event_id"], details["broker"], details["attempt"]) == (event.id,
                                                                            "amqp", 1)
    assert details["target"] == f"amqp://127.0.0.1:5672/%2F exchange {amqp.exchange}"


def test_amqp_down_leaves_the_delivery_pending_until_the_broker_is_back(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer) -> None:
    """A broker that does not answer is a failed attempt, retried after the backoff; when
    the broker answers again the event goes out, once."""
    down = build_state(**_broker_settings(
        amqp, amqp_url=f"amqp://guest:guest@127.0.0.1:{_closed_port()}/%2F"),
        outbox_backoff_seconds=30)
    event = write_event(down)
    with deliverer(down, "amqp") as outbox:
        assert outbox.run_once() == 1
    [row] = deliveries(down)
    assert (row.status, row.attempts) == (BrokerStatus.PENDING, 1)
    assert "AMQPConnectionError" in (row.last_error or "")
    [(name, details)] = entries(down)
    assert name == "BROKER_PUBLISH_RETRY" and details["next_attempt_at"]
    assert amqp.messages() == []

    [back] = broker_targets(Settings(**_broker_settings(amqp)))
    with BrokerDeliverer(back, down.db, down.ledger, down.settings) as outbox:
        assert outbox.run_once() == 0  # not due before its backoff
        assert outbox.run_once(utcnow() + timedelta(seconds=31)) == 1
    [(_, properties, _)] = amqp.messages()
    assert properties.message_id == event.id
    assert deliveries(down)[0].status == BrokerStatus.DELIVERED
    assert [n for n, _ in entries(down)] == ["BROKER_PUBLISH_RETRY", "BROKER_PUBLISHED"]


def test_amqp_an_unroutable_event_is_retried_not_lost(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer) -> None:
    """With no queue bound for its type the broker returns the message (mandatory): the
    attempt fails and the event waits for a queue, rather than vanishing confirmed."""
    amqp.channel.queue_unbind(amqp.queue, amqp.exchange, "#")
    state = build_state(**_broker_settings(amqp))
    write_event(state)
    with deliverer(state, "amqp") as outbox:
        outbox.run_once()
        [row] = deliveries(state)
        assert row.status == BrokerStatus.PENDING
        assert "unroutable" in (row.last_error or "")
        amqp.channel.queue_bind(amqp.queue, amqp.exchange, "document.*")
        assert outbox.run_once(utcnow() + timedelta(hours=1)) == 1
    assert len(amqp.messages()) == 1
    assert deliveries(state)[0].status == BrokerStatus.DELIVERED


def test_amqp_a_retried_publish_carries_the_same_id(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer) -> None:
    """A worker that published and died before recording it: the lease ends, the event
    is published again with the same message_id (the consumer's idempotency key)."""
    state = build_state(**_broker_settings(amqp), lease_seconds=10)
    event = write_event(state)
    with deliverer(state, "amqp") as outbox:
        claimed = outbox.claim()
        assert claimed is not None
        outbox.channel.send(claimed.work, outbox.egress, utcnow())  # ... then "dies"
        assert outbox.run_once(utcnow() + timedelta(seconds=11)) == 1
    assert [p.message_id for _, p, _ in amqp.messages()] == [event.id, event.id]
    assert [n for n, _ in entries(state)] == ["BROKER_PUBLISH_RETRY", "BROKER_PUBLISHED"]


def test_amqp_the_publisher_reconnects_after_the_connection_dropped(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer) -> None:
    """The dispatcher keeps its connection between events and opens a new one when the
    old one is gone: the next event still goes out on its first attempt."""
    state = build_state(**_broker_settings(amqp))
    with deliverer(state, "amqp") as outbox:
        write_event(state)
        assert outbox.run_once() == 1
        publisher: Any = outbox.publisher
        first = publisher._connection
        # The socket dies under the connection, as when the broker restarts.
        first._impl._transport._sock.shutdown(socket.SHUT_RDWR)
        write_event(state)
        assert outbox.run_once() == 1
        assert publisher._connection is not first
    assert len(amqp.messages()) == 2
    assert [r.attempts for r in deliveries(state)] == [1, 1]


@pytest.mark.parametrize("keep_alive", [True, False])
def test_amqp_an_idle_publisher_keeps_its_connection_by_answering_heartbeats(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer,
        keep_alive: bool) -> None:
    """Between events the worker calls ``idle``, which answers the broker's heartbeats:
    the connection outlives several heartbeat timeouts (without it, the broker closes
    it and the next event needs a new one)."""
    state = build_state(**_broker_settings(amqp, amqp_url=AMQP_URL + "?heartbeat=1"))
    with deliverer(state, "amqp") as outbox:
        write_event(state)
        assert outbox.run_once() == 1
        publisher: Any = outbox.publisher
        first = publisher._connection
        until = time.monotonic() + 4
        while time.monotonic() < until:
            if keep_alive:
                outbox.idle()
            time.sleep(0.1)
        write_event(state)
        assert outbox.run_once() == 1
        assert (publisher._connection is first) is keep_alive
    assert len(amqp.messages()) == 2


def test_a_broker_password_never_reaches_the_ledger_the_row_or_the_log(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer,
        caplog: pytest.LogCaptureFixture) -> None:
    """A refused login is a retried attempt whose error, ledger entry and log lines say
    nothing of the password in the URL."""
    secret = "hunter2-S3CRET"
    state = build_state(**_broker_settings(
        amqp, amqp_url=f"amqp://guest:{secret}@127.0.0.1:5672/%2F"))
    write_event(state)
    with caplog.at_level(logging.DEBUG), deliverer(state, "amqp") as outbox:
        outbox.run_once()
    [row] = deliveries(state)
    assert row.status == BrokerStatus.PENDING and row.last_error
    assert secret not in row.last_error
    assert secret not in json.dumps(entries(state))
    assert secret not in caplog.text


# -- NATS JetStream ---------------------------------------------------------------------

def test_nats_publishes_an_event_once_with_its_id_into_a_stream_it_creates(
        build_state: Callable[..., GatewayState], jetstream: NATSConsumer) -> None:
    """The stream is created over <prefix>.> when missing; the event is stored once on
    <prefix>.<type> with Nats-Msg-Id = its id, and the PubAck's sequence is ledgered."""
    state = build_state(**_broker_settings(jetstream=jetstream))
    event = write_event(state, "document.overdue")
    with deliverer(state, "nats") as outbox:
        assert outbox.run_once() == 1
        assert outbox.run_once() == 0
    [(subject, headers, body)] = jetstream.messages()
    assert subject == f"{jetstream.prefix}.document.overdue"
    assert headers["Nats-Msg-Id"] == event.id
    assert json.loads(body)["type"] == "document.overdue"
    [row] = deliveries(state)
    assert (row.status, row.attempts) == (BrokerStatus.DELIVERED, 1)
    [(name, details)] = entries(state)
    assert (name, details["stream_seq"], details["duplicate"]) == ("BROKER_PUBLISHED", 1,
                                                                   False)


def test_nats_down_leaves_the_delivery_pending_until_the_server_is_back(
        build_state: Callable[..., GatewayState], jetstream: NATSConsumer) -> None:
    """A NATS server that does not answer is a failed attempt naming where it tried;
    the event goes out once the server answers."""
    port = _closed_port()
    down = build_state(**_broker_settings(jetstream=jetstream,
                                          nats_url=f"nats://127.0.0.1:{port}"))
    event = write_event(down)
    with deliverer(down, "nats") as outbox:
        assert outbox.run_once() == 1
    [row] = deliveries(down)
    assert (row.status, row.attempts) == (BrokerStatus.PENDING, 1)
    assert f"127.0.0.1:{port}" in (row.last_error or "")

    [back] = broker_targets(Settings(**_broker_settings(jetstream=jetstream)))
    with BrokerDeliverer(back, down.db, down.ledger, down.settings) as outbox:
        assert outbox.run_once(utcnow() + timedelta(hours=1)) == 1
    [(_, headers, _)] = jetstream.messages()
    assert headers["Nats-Msg-Id"] == event.id
    assert deliveries(down)[0].status == BrokerStatus.DELIVERED


def test_nats_a_retried_publish_is_deduplicated_by_its_id(
        build_state: Callable[..., GatewayState], jetstream: NATSConsumer) -> None:
    """A publish whose outcome was lost (the worker died after it) is sent again with the
    same Nats-Msg-Id: JetStream reports the duplicate and the stream holds one message."""
    state = build_state(**_broker_settings(jetstream=jetstream), lease_seconds=10)
    event = write_event(state)
    with deliverer(state, "nats") as outbox:
        claimed = outbox.claim()
        assert claimed is not None
        outbox.channel.send(claimed.work, outbox.egress, utcnow())  # ... then "dies"
        assert outbox.run_once(utcnow() + timedelta(seconds=11)) == 1
    [(_, headers, _)] = jetstream.messages()
    assert headers["Nats-Msg-Id"] == event.id
    [(retry, _), (published, details)] = entries(state)
    assert (retry, published, details["duplicate"]) == ("BROKER_PUBLISH_RETRY",
                                                         "BROKER_PUBLISHED", True)


# -- both, as the gateway runs them ---------------------------------------------------------

class Receiver(LoopbackReceiver):
    """Keeps every POST and answers 200."""

    @property
    def bodies(self) -> list[bytes]:
        return [request.body for request in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def test_worker_threads_publish_to_both_brokers_the_body_a_webhook_gets(
        build_state: Callable[..., GatewayState], amqp: AMQPConsumer,
        jetstream: NATSConsumer, receiver: Receiver) -> None:
    """The worker threads publish events to every configured broker by themselves, and
    each broker carries exactly the body the event's webhook delivery POSTs."""
    state = build_state(**_broker_settings(amqp, jetstream), egress_allow="loopback")
    host, port = receiver.server.server_address[:2]
    with state.db.transaction() as session:
        create_webhook(session, state.ledger, url=f"http://{host!s}:{port}/hook",
                       kinds="document.rejected", actor="test",
                       policy=EgressPolicy.from_settings(state.settings))
    event = write_event(state)
    workers = WorkerThreads(state, 1, idle_seconds=0.05, deliverer_idle_seconds=0.05)
    workers.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
                all(r.status == BrokerStatus.DELIVERED for r in deliveries(state))
                and receiver.bodies):
            time.sleep(0.05)
    finally:
        workers.shutdown()
    with state.db.read() as session:
        assert session.scalars(select(WebhookDelivery.status)).one() == DeliveryStatus.DELIVERED
    [webhook_body] = receiver.bodies
    assert json.loads(webhook_body)["id"] == event.id
    [(_, _, amqp_body)] = amqp.messages()
    [(_, _, nats_body)] = jetstream.messages()
    assert amqp_body == webhook_body
    assert nats_body == webhook_body


# -- the command line ---------------------------------------------------------------------

def _cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path,
             **more: str) -> None:
    for name, value in {"EDIGATE_DATABASE_URL": database_url,
                        "EDIGATE_VAR_DIR": str(tmp_path),
                        "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "ledger.pem"),
                        "EDIGATE_PARTNERS_DIR": str(REPO / "partners"), **more}.items():
        monkeypatch.setenv(name, value)


def test_the_cli_worker_publishes_due_events(
        database_url: str, tmp_path: Path, jetstream: NATSConsumer,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`edigate worker` without --follow publishes the due events and says how many
    attempts it made."""
    from gateway.runtime.cli import main

    _cli_env(monkeypatch, database_url, tmp_path, EDIGATE_NATS_URL=NATS_URL,
             EDIGATE_NATS_SUBJECT_PREFIX=jetstream.prefix,
             EDIGATE_NATS_STREAM=jetstream.stream)
    state = GatewayState.build(Settings.from_env())
    try:
        Base.metadata.create_all(state.db.engine)
        event = write_event(state)
    finally:
        state.close()
    capsys.readouterr()
    assert main(["worker"]) == 0
    assert capsys.readouterr().out.strip().endswith("and 1 broker publish attempt(s)")
    [(_, headers, _)] = jetstream.messages()
    assert headers["Nats-Msg-Id"] == event.id


def test_a_bad_broker_setting_stops_a_service_command_with_one_line(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A broker setting that cannot work stops `edigate worker` with exit status 2 and
    one line naming the variable, not a traceback."""
    from gateway.runtime.cli import main

    _cli_env(monkeypatch, database_url, tmp_path, EDIGATE_AMQP_URL="amqp://127.0.0.1/",
             EDIGATE_AMQP_EVENTS="document.rejectd")
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edigate: error: EDIGATE_AMQP_EVENTS: unknown event type(s) "
                          "'document.rejectd'")
    assert "Traceback" not in err
