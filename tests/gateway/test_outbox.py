"""The one leased outbox: every channel (webhook deliveries, AS2's async MDNs) through the
same cases — claim, lease expiry and resume, the backoff schedule, giving up, no double
claim between workers — on every backend; and an AS2 send that cannot ever succeed."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.delivery.as2_sending import AS2Deliverer, AS2Outbox
from gateway.delivery.egress import EgressPolicy
from gateway.delivery.outbox import Outbox, backoff, retry_after
from gateway.delivery.webhooks import Deliverer, create_webhook
from gateway.intake.pipeline import Delivery
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.base import Base, utcnow
from gateway.store.webhooks import WebhookDelivery
from tests.gateway.conftest import partners_with_receipt_url, queue_mdn
from tests.gateway.receiver import LoopbackReceiver, Request

REPO = Path(__file__).resolve().parents[2]
LEASE = timedelta(seconds=30)
BASE = 5.0
MAX_ATTEMPTS = 3


class _Receiver(LoopbackReceiver):
    """Answers every POST with ``status``; ``posts`` counts them."""

    path = "/hook"

    def __init__(self) -> None:
        super().__init__()
        self.status = 200

    @property
    def posts(self) -> int:
        return len(self.requests)

    def answer(self, request: Request) -> int:
        return self.status


@dataclass
class Channel:
    """One outbound channel as the cases drive it."""

    state: GatewayState
    enqueue: Callable[[], str]  # one due item; its row id
    worker: Callable[..., Outbox[Any, Any]]  # worker name, settings= -> its outbox
    status: Callable[[str], str]  # the row's status
    done: tuple[str, str]  # (status, ledger event)
    retry: tuple[str, str]
    gave_up: tuple[str, str]
    made: list[Outbox[Any, Any]] = field(default_factory=list)

    def outbox(self, name: str, settings: Settings | None = None) -> Outbox[Any, Any]:
        made = self.worker(name, settings)
        self.made.append(made)
        return made

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        names = {self.done[1], self.retry[1], self.gave_up[1]}
        with self.state.db.read() as session:
            return [(e.event, json.loads(e.details)) for e in session.scalars(
                select(LedgerEntry).where(LedgerEntry.event.in_(names))
                .order_by(LedgerEntry.seq))]


def _settings(**overrides: Any) -> dict[str, Any]:
    return {"egress_allow": "loopback", "outbox_backoff_seconds": BASE,
            "outbox_max_attempts": MAX_ATTEMPTS, **overrides}


def _webhooks(build_state: Callable[..., GatewayState], receiver: _Receiver,
              tmp_path: Path) -> Channel:
    state = build_state(**_settings())
    with state.db.transaction() as session:
        create_webhook(session, state.ledger, url=receiver.url, kinds="purchase_order",
                       actor="test", policy=EgressPolicy.parse("loopback"))
    controls = iter(range(101, 10_000))

    def enqueue() -> str:
        data = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                                next(controls))
        state.pipeline.receive(Delivery("acme-retail", "https", data), "test")
        assert sum(1 for _ in state.pipeline.drain("test")) == 1
        with state.db.read() as session:
            return session.scalars(select(WebhookDelivery.id).order_by(
                WebhookDelivery.record_seq.desc())).first() or ""

    def worker(name: str, settings: Settings | None) -> Outbox[Any, Any]:
        return Deliverer(state.db, state.ledger, settings or state.settings, worker=name,
                         lease=LEASE, timeout=5)

    def status(row_id: str) -> str:
        with state.db.read() as session:
            row = session.get(WebhookDelivery, row_id)
            assert row is not None
            return row.status

    return Channel(state, enqueue, worker, status, ("delivered", "WEBHOOK_DELIVERED"),
                   ("pending", "WEBHOOK_RETRY"), ("dead", "WEBHOOK_DEAD"))


def _as2_mdns(build_state: Callable[..., GatewayState], receiver: _Receiver,
              tmp_path: Path) -> Channel:
    folder = partners_with_receipt_url(tmp_path, receiver.url)
    state = build_state(**_settings(partners_dir=folder))
    assert state.as2 is not None
    outbox = state.as2.outbox

    def enqueue() -> str:
        return queue_mdn(state, receiver.url)

    def worker(name: str, settings: Settings | None) -> Outbox[Any, Any]:
        if settings is not None:
            # An outbox of the same rows under other settings (a stricter egress).
            return AS2Deliverer(AS2Outbox(settings, state.db, state.ledger, outbox.partners),
                                worker=name, lease=LEASE, timeout=5)
        return AS2Deliverer(outbox, worker=name, lease=LEASE, timeout=5)

    def status(row_id: str) -> str:
        with state.db.read() as session:
            row = session.get(AS2Message, row_id)
            assert row is not None and row.mdn_status is not None
            return row.mdn_status

    return Channel(state, enqueue, worker, status, ("sent", "MDN_SENT"),
                   ("pending", "MDN_RETRY"), ("failed", "MDN_FAILED"))


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    made = _Receiver()
    yield made
    made.close()


@pytest.fixture(params=["webhooks", "as2-mdns"])
def channel(request: pytest.FixtureRequest, build_state: Callable[..., GatewayState],
            receiver: _Receiver, tmp_path: Path) -> Iterator[Channel]:
    make = _webhooks if request.param == "webhooks" else _as2_mdns
    made = make(build_state, receiver, tmp_path)
    yield made
    for outbox in made.made:
        outbox.close()


def _later() -> datetime:
    return utcnow() + timedelta(seconds=2)


def test_a_claim_counts_the_attempt_and_holds_a_lease(channel: Channel) -> None:
    """A due item is claimed once: the attempt is counted, the claim's token is on the
    row and it falls due again at the end of the lease; another worker gets nothing."""
    row_id = channel.enqueue()
    t0 = _later()
    claimed = channel.outbox("a").claim(t0)
    assert claimed is not None and claimed.row_id == row_id and claimed.number == 1
    with channel.state.db.read() as session:
        row = session.get(channel.outbox("a").channel.model, row_id)
        assert row is not None and row.attempts == 1 and row.locked_by == claimed.token
        assert row.next_attempt_at == t0 + LEASE
    assert channel.outbox("b").claim(t0) is None
    assert channel.outbox("a").send(claimed, t0) == channel.done[0]
    assert channel.status(row_id) == channel.done[0]
    assert [e for e, _ in channel.events()] == [channel.done[1]]


def test_a_lease_a_dead_worker_left_is_resumed_after_it_ends(channel: Channel,
                                                             receiver: _Receiver) -> None:
    """A claim never reported on stays with its worker until the lease ends; then the
    next claim ledgers that attempt as failed (outcome unknown) and sends again; the
    dead worker's late result changes nothing."""
    row_id = channel.enqueue()
    t0 = _later()
    lost = channel.outbox("crashed").claim(t0)
    assert lost is not None
    assert channel.outbox("b").claim(t0 + LEASE - timedelta(seconds=1)) is None
    second = channel.outbox("b").claim(t0 + LEASE)
    assert second is not None and second.row_id == row_id and second.number == 2
    [(event, details)] = channel.events()
    assert event == channel.retry[1] and details["attempt"] == 1
    assert "no result from" in details["error"] and "crashed" in details["error"]
    assert channel.outbox("crashed").send(lost, t0 + LEASE) == "lost"
    assert receiver.posts == 1  # the lost one's post reached the receiver, uncounted
    assert channel.outbox("b").send(second, t0 + LEASE) == channel.done[0]
    assert [e for e, _ in channel.events()] == [channel.retry[1], channel.done[1]]


def test_failures_follow_the_one_backoff_and_are_given_up_after_the_last(
        channel: Channel, receiver: _Receiver) -> None:
    """Every channel waits base, 2 base, ... between tries (``outbox.backoff``) and gives
    the item up after ``outbox_max_attempts`` tries, each in the ledger."""
    receiver.status = 500
    row_id = channel.enqueue()
    worker = channel.outbox("w")
    at = _later()
    for attempt in range(1, MAX_ATTEMPTS):
        assert worker.run_once(at) == 1
        assert channel.status(row_id) == channel.retry[0]
        wait = backoff(channel.state.settings, attempt)
        assert wait == timedelta(seconds=BASE * 2 ** (attempt - 1))
        assert worker.run_once(at + wait - timedelta(seconds=1)) == 0
        at += wait
    assert worker.run_once(at) == 1
    assert channel.status(row_id) == channel.gave_up[0]
    assert worker.run_once(at + timedelta(days=30)) == 0
    events = channel.events()
    assert [e for e, _ in events] == [channel.retry[1]] * (MAX_ATTEMPTS - 1) + \
        [channel.gave_up[1]]
    assert [d["attempt"] for _, d in events] == list(range(1, MAX_ATTEMPTS + 1))
    assert all(d["error"] == "HTTP 500" for _, d in events)


def test_a_retry_after_longer_than_the_backoff_moves_the_next_try(
        channel: Channel, receiver: _Receiver) -> None:
    """A 503 asking for two minutes: no try before then, though the backoff is 5 s."""
    receiver.status, receiver.retry_after = 503, "120"
    row_id = channel.enqueue()
    at = _later()
    worker = channel.outbox("w")
    assert worker.run_once(at) == 1
    receiver.status = 200
    assert worker.run_once(at + timedelta(seconds=119)) == 0
    assert worker.run_once(at + timedelta(seconds=120)) == 1
    assert channel.status(row_id) == channel.done[0]
    assert receiver.posts == 2


def test_a_lost_last_attempt_gives_the_item_up(channel: Channel,
                                               receiver: _Receiver) -> None:
    """When the attempt whose worker died was the last allowed, the item is given up on
    resume instead of being sent once more."""
    receiver.status = 503
    row_id = channel.enqueue()
    at = _later()
    for _ in range(MAX_ATTEMPTS - 1):
        assert channel.outbox("w").run_once(at) == 1
        at += timedelta(days=1)
    assert channel.outbox("crashed").claim(at) is not None
    assert channel.outbox("b").claim(at + LEASE) is None
    assert receiver.posts == MAX_ATTEMPTS - 1
    assert channel.status(row_id) == channel.gave_up[0]
    event, details = channel.events()[-1]
    assert event == channel.gave_up[1] and details["attempt"] == MAX_ATTEMPTS
    assert "no result from" in details["error"]


def test_a_refused_destination_is_given_up_at_once(channel: Channel, receiver: _Receiver,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A send the egress policy refuses is not retried: the item is given up on its first
    attempt, with one log line saying why, and nothing connects."""
    row_id = channel.enqueue()
    strict = channel.state.settings.model_copy(update={"egress_allow": ""})
    with caplog.at_level(logging.ERROR, logger="edigate.outbox"):
        assert channel.outbox("strict", strict).run_once(_later()) == 1
    assert receiver.posts == 0
    assert channel.status(row_id) == channel.gave_up[0]
    [(event, details)] = channel.events()
    assert event == channel.gave_up[1] and details["attempt"] == 1
    [record] = caplog.records
    assert record.exc_info is None and "egress policy" in record.getMessage()
    assert row_id in record.getMessage()


def test_concurrent_workers_never_claim_the_same_item(channel: Channel) -> None:
    """Workers claiming at once (SKIP LOCKED on PostgreSQL, the write lock on SQLite) get
    disjoint items, and together all of them."""
    rows = {channel.enqueue() for _ in range(6)}
    at = _later()
    claimed: list[str] = []
    errors: list[BaseException] = []
    workers = [channel.outbox(f"w{n}") for n in range(3)]
    start = threading.Barrier(len(workers))

    def run(worker: Outbox[Any, Any]) -> None:
        try:
            start.wait()
            while (item := worker.claim(at)) is not None:
                claimed.append(item.row_id)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(claimed) == sorted(rows)


def test_backoff_doubles_up_to_the_cap(tmp_path: Path) -> None:
    """The wait after try n is base * 2^(n-1), never more than the cap, whatever n is."""
    settings = Settings(var_dir=tmp_path, outbox_backoff_seconds=30,
                        outbox_backoff_cap_seconds=3600)
    assert [backoff(settings, n).total_seconds() for n in (0, 1, 2, 3, 4)] == \
        [30, 30, 60, 120, 240]
    assert backoff(settings, 10_000) == timedelta(hours=1)


def test_the_earlier_webhook_setting_names_are_still_read() -> None:
    """EDIGATE_WEBHOOK_BACKOFF_SECONDS and _MAX_ATTEMPTS set the outbox's policy unless
    the new names are set too."""
    old = {"EDIGATE_WEBHOOK_BACKOFF_SECONDS": "7", "EDIGATE_WEBHOOK_MAX_ATTEMPTS": "4"}
    settings = Settings.from_env(old)
    assert (settings.outbox_backoff_seconds, settings.outbox_max_attempts) == (7.0, 4)
    settings = Settings.from_env(old | {"EDIGATE_OUTBOX_MAX_ATTEMPTS": "9"})
    assert settings.outbox_max_attempts == 9


def test_the_cli_worker_runs_the_as2_rows_of_the_outbox_too(
        database_url: str, tmp_path: Path, receiver: _Receiver,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`edigate worker` without --follow sends the due AS2 rows (here an asynchronous MDN)
    as well as the webhook deliveries, and says how many it tried."""
    from gateway.runtime.cli import main

    env = {"EDIGATE_DATABASE_URL": database_url, "EDIGATE_VAR_DIR": str(tmp_path),
           "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "ledger.pem"),
           "EDIGATE_PARTNERS_DIR": str(partners_with_receipt_url(tmp_path, receiver.url)),
           "EDIGATE_EGRESS_ALLOW": "loopback", "EDIGATE_AS2_ID": "EDIGATE",
           "EDIGATE_AS2_KEY": str(tmp_path / "as2" / "key.pem"),
           "EDIGATE_AS2_CERT": str(tmp_path / "as2" / "cert.pem")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["certs", "generate"]) == 0
    state = GatewayState.build(Settings.from_env())
    try:
        Base.metadata.create_all(state.db.engine)
        row_id = queue_mdn(state, receiver.url)
    finally:
        state.close()
    capsys.readouterr()
    assert main(["worker"]) == 0
    assert capsys.readouterr().out.strip().endswith("and 1 AS2 send attempt(s)")
    assert receiver.posts == 1
    state = GatewayState.build(Settings.from_env())
    try:
        with state.db.read() as session:
            sent = session.get(AS2Message, row_id)
            assert sent is not None and sent.mdn_status == AS2Status.SENT
    finally:
        state.close()


# -- Retry-After ----------------------------------------------------------------------------

_NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "wait"), [
    ("120", timedelta(seconds=120)),
    (" 0 ", timedelta(0)),
    ("Mon, 07 Dec 2026 12:01:30 GMT", timedelta(seconds=90)),
    ("Mon, 07 Dec 2026 13:01:30 +0100", timedelta(seconds=90)),
    ("Mon, 07 Dec 2026 11:00:00 GMT", timedelta(0)),  # past: no wait
    ("9" * 40, timedelta(days=3650)),
    ("-5", None), ("1.5", None), ("²", None), ("later", None), ("", None), (None, None),
])
def test_retry_after_reads_seconds_and_http_dates(value: str | None,
                                                  wait: timedelta | None) -> None:
    assert retry_after(value, _NOW) == wait


@given(st.text(max_size=60))
def test_retry_after_never_raises_and_never_asks_for_less_than_nothing(value: str) -> None:
    wait = retry_after(value, _NOW)
    assert wait is None or wait >= timedelta(0)
