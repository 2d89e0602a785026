"""Group commit at intake: concurrent messages share transactions, each answered only after
its own commit; duplicates inside a batch are caught; one failing message fails alone (a
503 that names an incident, never the database's text); and the key cache saves lookups
without outliving its time-to-live. Intake's envelope checks judge every interchange of a
body, and refuse control characters in the headers it stores."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.api.api_keys import Caller, KeyCache, issue_key
from gateway.intake.group_commit import IntakeUnavailable, Pending, ReceiveResult
from gateway.intake.pipeline import Delivery
from gateway.ledger.chain import LedgerEntry, verify_ledger
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.state import GatewayState
from gateway.store.models import Acknowledgment, Message, Payload


@pytest.fixture
def state(build_state: Callable[..., GatewayState]) -> GatewayState:
    return build_state(lease=timedelta(seconds=30), ledger_checkpoint_every=7)


def po(state: GatewayState, control: int) -> bytes:
    return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                            control)


def delivery(body: bytes) -> Delivery:
    return Delivery("acme-retail", "https", body)


class SlowFirstCommit:
    """Holds the writer's first transaction open until released, so that the messages
    submitted meanwhile pile up and must be stored together in the next one."""

    def __init__(self, state: GatewayState) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self._original = state.pipeline.intake._store
        self._first = True
        state.pipeline.intake._store = self  # type: ignore[method-assign]

    def __call__(self, batch: list[Pending]) -> object:
        if self._first:
            self._first = False
            self.entered.set()
            self.release.wait(10)
        return self._original(batch)


def one_batch(state: GatewayState, first: int, controls: tuple[int, ...]
              ) -> list[Future[ReceiveResult]]:
    """Submit the 850s with ``controls`` so that they are stored together: they queue while
    the commit of a first message (ISA13 ``first``) is held, and the next transaction
    takes them all."""
    gate = SlowFirstCommit(state)
    pipeline = state.pipeline
    pipeline.submit(pipeline.prepare(delivery(po(state, first)), "partner:acme-retail"))
    assert gate.entered.wait(10)
    futures = [pipeline.submit(pipeline.prepare(delivery(po(state, n)), "partner:acme-retail"))
               for n in controls]
    gate.release.set()
    return futures


def test_concurrent_messages_share_one_transaction(state: GatewayState) -> None:
    """Messages that arrive while a commit is in progress are stored by ONE following
    transaction; every one gets its own id, message row and RECEIVED entry, and the chain
    (crossing a checkpoint inside the batch) verifies."""
    gate = SlowFirstCommit(state)
    pipeline = state.pipeline
    first = pipeline.submit(pipeline.prepare(delivery(po(state, 1)), "partner:acme-retail"))
    assert gate.entered.wait(10)
    waiting = [pipeline.submit(pipeline.prepare(delivery(po(state, n)), "partner:acme-retail"))
               for n in range(2, 22)]
    time.sleep(0.05)
    assert not any(f.done() for f in waiting), "answered before its commit"
    gate.release.set()
    results = [first.result(10)] + [f.result(10) for f in waiting]
    assert pipeline.intake.batches == 2
    assert len({r.message_id for r in results}) == 21 and not any(r.duplicate for r in results)
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 21
        events = session.scalars(select(LedgerEntry.event)).all()
    assert events.count("RECEIVED") == 21
    assert verify_ledger(state.db, state.signer).ok


def test_duplicates_within_one_batch_point_to_the_first(state: GatewayState) -> None:
    """The same bytes twice and the same ISA13 with other bytes, all in one batch, are one
    message: the later ones answer duplicate with the first one's id and one payload row."""
    gate = SlowFirstCommit(state)
    pipeline = state.pipeline
    pipeline.submit(pipeline.prepare(delivery(po(state, 500)), "partner:acme-retail"))
    assert gate.entered.wait(10)
    body = po(state, 42)
    other_bytes = body.replace(b"PO-4711", b"PO-4712")
    futures = [pipeline.submit(pipeline.prepare(delivery(b), "partner:acme-retail"))
               for b in (body, body, other_bytes)]
    gate.release.set()
    first, same, same_control = (f.result(10) for f in futures)
    assert pipeline.intake.batches == 2
    assert not first.duplicate and same.duplicate and same_control.duplicate
    assert same.message_id == same_control.message_id == first.message_id
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        assert session.scalar(select(func.count()).select_from(Payload)) == 2
        dup = session.scalars(select(LedgerEntry.details).where(
            LedgerEntry.event == "DUPLICATE").order_by(LedgerEntry.seq)).all()
    assert ['"same_payload":true' in d for d in dup] == [True, False]


def test_a_failing_message_does_not_fail_its_batch(
        state: GatewayState, caplog: pytest.LogCaptureFixture) -> None:
    """When a batch cannot commit, each message is retried alone: the bad one is answered
    503 (send again) with an incident id and none of the error's text, which is logged
    under that id; the others are stored and answered."""
    gate = SlowFirstCommit(state)
    pipeline = state.pipeline
    pipeline.submit(pipeline.prepare(delivery(po(state, 900)), "partner:acme-retail"))
    assert gate.entered.wait(10)
    good = [pipeline.prepare(delivery(po(state, n)), "partner:acme-retail") for n in (1, 2)]
    bad = pipeline.prepare(delivery(po(state, 3)), "x" * 300)  # too long for a ledger actor
    futures = [pipeline.submit(p) for p in (good[0], bad, good[1])]
    with caplog.at_level(logging.ERROR, "edigate.intake"):
        gate.release.set()
        assert not futures[0].result(10).duplicate and not futures[2].result(10).duplicate
        with pytest.raises(IntakeUnavailable) as failed:
            futures[1].result(10)
    problem = failed.value
    assert problem.status == 503 and "send it again" in problem.detail
    assert "actor" not in problem.detail and "ValueError" not in problem.detail
    assert problem.incident in problem.detail
    assert any(problem.incident in r.getMessage() and "actor" in r.getMessage()
               for r in caplog.records)
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 3
    assert verify_ledger(state.db, state.signer).ok


def test_many_threads_receiving_at_once_lose_nothing(state: GatewayState) -> None:
    """Forty concurrent blocking receives of twenty distinct interchanges (each sent twice)
    store exactly twenty messages and answer each pair with one id."""
    bodies = [po(state, n) for n in range(1, 21)] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(
            lambda b: state.pipeline.receive(delivery(b), "partner:acme-retail"), bodies))
    ids = [r.message_id for r in results]
    assert ids[:20] == ids[20:]
    assert sum(not r.duplicate for r in results) == 20
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 20
    assert verify_ledger(state.db, state.signer).ok


def test_writer_thread_exits_when_idle_and_restarts(
        state: GatewayState, monkeypatch: pytest.MonkeyPatch) -> None:
    """No thread lingers after the work is done, and the next message starts a new one."""
    monkeypatch.setattr("gateway.intake.group_commit.IDLE_EXIT_SECONDS", 0.05)
    state.pipeline.receive(delivery(po(state, 1)), "partner:acme-retail")
    deadline = time.monotonic() + 5
    while any(t.name == "edigate-intake" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the intake thread did not exit"
        time.sleep(0.02)
    assert not state.pipeline.receive(delivery(po(state, 2)), "partner:acme-retail").duplicate


def test_key_cache_serves_known_keys_until_the_ttl_ends(
        state: GatewayState, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached key is answered without the database, only for ``ttl`` seconds, and the
    cache keeps digests, never the key itself."""
    with state.db.transaction() as session:
        token = issue_key(session, "partner", partner_id="acme-retail")[0]
    cache = KeyCache(ttl=30)
    caller = Caller(key_id="k", kind="partner", partner_id="acme-retail")
    assert cache.get(token) is None
    cache.put(token, caller)
    assert cache.get(token) == caller
    assert token not in repr(cache._entries)
    now = time.monotonic()
    monkeypatch.setattr("gateway.api.api_keys.time.monotonic", lambda: now + 31)
    assert cache.get(token) is None


def test_stored_rows_are_what_core_would_store(state: GatewayState) -> None:
    """The writer's driver-level inserts store the message, payload, search terms and
    ledger entry with the values (and, on SQLite, the datetime text) Core would bind."""
    from gateway.store.search import MessageTerm

    body = po(state, 4242)
    result = state.pipeline.receive(delivery(body), "partner:acme-retail")
    with state.db.read() as session:
        message = session.get(Message, result.message_id)
        assert message is not None
        payload = session.get(Payload, message.payload_sha256)
        terms = session.scalars(select(MessageTerm).where(
            MessageTerm.message_id == message.id)).all()
        entry = session.scalars(select(LedgerEntry).where(
            LedgerEntry.message_id == message.id)).one()
    assert (message.partner_id, message.direction, message.transport, message.standard,
            message.status, message.size, message.interchange_sender,
            message.interchange_receiver, message.interchange_control, message.search_text,
            message.attempts) == (
        "acme-retail", "inbound", "https", "x12", "RECEIVED", len(body), "ZZ:ACMERETAIL",
        f"{state.settings.x12_qualifier}:{state.settings.x12_sender_id}", "000004242",
        "000004242", 0)
    assert payload is not None and payload.data == body and payload.size == len(body)
    assert message.received_at == message.updated_at == payload.created_at
    assert message.received_at.tzinfo is not None
    assert [(t.term, t.received_at) for t in terms] == [("000004242", message.received_at)]
    assert json.loads(entry.details)["payload_sha256"] == message.payload_sha256
    if state.db.dialect.name == "sqlite":
        with state.db.core_transaction() as conn:
            stored = conn.exec_driver_sql("SELECT received_at FROM messages").scalar_one()
            column = Message.__table__.c.received_at  # type: ignore[attr-defined]
            process = column.type._cached_bind_processor(conn.dialect)  # what Core binds
            assert process is not None
            assert stored == process(message.received_at)


def test_a_unique_violation_at_insert_is_retried_alone_as_a_duplicate(
        state: GatewayState, monkeypatch: pytest.MonkeyPatch) -> None:
    """When another process stores the same interchange between the lookup and the insert
    (simulated: the lookup misses once), the driver's unique violation fails the batch as
    SQLAlchemy's IntegrityError; each message is retried alone, the duplicate is answered
    with the stored id and the other message is stored."""
    stored = state.pipeline.receive(delivery(po(state, 7)), "partner:acme-retail")
    real = state.db.dialect.find_stored
    misses = [1]

    def lookup_missing_once(cursor: object, **keys: Any) -> list[Any]:
        found = real(cursor, **keys)
        if misses:
            misses.pop()
            return []
        return found

    monkeypatch.setattr(state.db.dialect, "find_stored", lookup_missing_once)
    again, fresh = one_batch(state, 8, (7, 9))
    assert again.result(10).duplicate and again.result(10).message_id == stored.message_id
    assert not fresh.result(10).duplicate
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 3
    assert verify_ledger(state.db, state.signer).ok


def test_message_ids_are_uuid7_in_time_order() -> None:
    """Message ids are RFC 9562 version 7 UUIDs whose first 48 bits are the Unix time in
    milliseconds, so ids taken later sort after earlier ones (across milliseconds) and
    ids are distinct."""
    import uuid

    from gateway.intake.group_commit import _message_id

    before = time.time_ns() // 1_000_000
    first = [_message_id() for _ in range(500)]
    time.sleep(0.002)
    later = _message_id()
    after = time.time_ns() // 1_000_000
    for text in [*first, later]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert before <= parsed.int >> 80 <= after
    assert len(set(first)) == 500 and max(first) < later


def test_writer_keeps_one_connection_and_replaces_it_after_a_failure(
        state: GatewayState, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer checks a connection out once for a run of batches, takes a new one after
    a batch fails (the old one may be broken) and gives it back when it goes idle."""
    from sqlalchemy import event

    monkeypatch.setattr("gateway.intake.group_commit.IDLE_EXIT_SECONDS", 0.3)
    checkouts: list[object] = []
    event.listen(state.db.engine, "checkout", lambda *a: checkouts.append(a[0]))
    pipeline = state.pipeline
    writer = pipeline.intake
    for n in range(1, 4):
        assert not pipeline.receive(delivery(po(state, n)), "partner:acme-retail").duplicate
    held = writer._connection
    assert held is not None and writer.batches == 3
    with pytest.raises(IntakeUnavailable):
        pipeline.submit(pipeline.prepare(delivery(po(state, 4)), "x" * 300)).result(10)
    assert writer._connection is None  # dropped with the failed batch
    assert not pipeline.receive(delivery(po(state, 5)), "partner:acme-retail").duplicate
    assert writer._connection is not None and writer._connection is not held
    deadline = time.monotonic() + 5
    while any(t.name == "edigate-intake" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the intake thread did not exit"
        time.sleep(0.02)
    assert writer._connection is None
    writer_checkouts = len(checkouts)
    assert verify_ledger(state.db, state.signer).ok
    assert writer_checkouts == 2, checkouts


def test_duplicates_of_stored_messages_are_found_by_the_lookup(state: GatewayState) -> None:
    """Against messages stored by earlier batches (among others of the same partner), the
    same bytes and the same ISA13 with other bytes both answer duplicate with the stored
    id, the ledger telling which of the two it was."""
    pipeline = state.pipeline
    stored = [pipeline.receive(delivery(po(state, n)), "partner:acme-retail")
              for n in range(60, 70)]
    body = po(state, 64)
    same = pipeline.receive(delivery(body), "partner:acme-retail")
    other = pipeline.receive(delivery(body.replace(b"PO-4711", b"PO-4799")),
                             "partner:acme-retail")
    assert same.duplicate and other.duplicate
    assert same.message_id == other.message_id == stored[4].message_id
    with state.db.read() as session:
        dup = session.scalars(select(LedgerEntry.details).where(
            LedgerEntry.event == "DUPLICATE").order_by(LedgerEntry.seq)).all()
    assert ['"same_payload":true' in d for d in dup] == [True, False]


def test_duplicates_are_per_partner(state: GatewayState) -> None:
    """The same bytes, sender and control number stored for one partner are no duplicate
    for another (a partner's identity may be shared, e.g. by a VAN): the lookup finds the
    stored row and the partner tells it apart. The other partner's own resend is one."""
    import dataclasses

    pipeline = state.pipeline
    body = po(state, 81)
    first = pipeline.receive(delivery(body), "partner:acme-retail")
    pending = pipeline.prepare(delivery(body), "partner:globex-distribution")
    other = dataclasses.replace(pending, partner_id="globex-distribution")
    results = [outcome for _, outcome in pipeline.intake.store_batch([other])]
    assert isinstance(results[0], ReceiveResult)
    assert not results[0].duplicate and results[0].message_id != first.message_id
    again = dataclasses.replace(pending, partner_id="globex-distribution")
    results = [outcome for _, outcome in pipeline.intake.store_batch([again])]
    assert isinstance(results[0], ReceiveResult)
    assert results[0].duplicate and results[0].message_id != first.message_id


# -- a lone writer's one-round-trip batches (PostgreSQL; gateway.ledger.chain.HeadCache) ----------
def _received(state: GatewayState, control: int) -> ReceiveResult:
    return state.pipeline.receive(delivery(po(state, control)), "partner:acme-retail")


def _is_postgres(state: GatewayState) -> bool:
    return state.db.dialect.name != "sqlite"


def test_a_lone_writer_chains_onto_the_head_it_left(state: GatewayState) -> None:
    """Once a batch found the ledger head where the writer's previous batch had left it,
    the writer skips the duplicate lookup and the head read (PostgreSQL only): batches 3
    to 6 of six. Every message is stored with its RECEIVED entry and the chain verifies.
    SQLite never takes this path (its lookup and head read cost no round trip)."""
    results = [_received(state, n) for n in range(1, 7)]
    writer = state.pipeline.intake
    assert writer.optimistic_batches == (4 if _is_postgres(state) else 0)
    assert writer.optimistic_misses == 0 and writer.batches == 6
    with state.db.read() as session:
        received = session.scalars(select(LedgerEntry.message_id).where(
            LedgerEntry.event == "RECEIVED").order_by(LedgerEntry.seq)).all()
    assert received == [r.message_id for r in results]
    assert verify_ledger(state.db, state.signer).ok


@pytest.mark.parametrize("before", [3, 6], ids=["plain", "checkpoint-due"])
def test_another_appender_sends_the_writer_back_to_the_careful_way(
        state: GatewayState, before: int) -> None:
    """A worker appends between two intake batches: the next one-round-trip batch finds
    the head moved, rolls back and is stored the careful way, chained after the worker's
    entry; after that miss the writer trusts its memory again only once two locked heads
    in a row confirmed it (one before the miss).
    ``checkpoint-due``: the failed batch also signs a checkpoint (every 7th entry here),
    whose insert reads its result mid-pipeline, so the error surfaces there and not at
    the COMMIT; the connection must still come out of the aborted transaction."""
    for n in range(1, before + 1):
        _received(state, n)
    with state.db.transaction() as session:
        worker = state.ledger.append(session, event="PROCESSING", actor="worker:test",
                                     details={"attempt": 1})
    after = _received(state, before + 1)
    writer = state.pipeline.intake
    postgres = _is_postgres(state)
    assert writer.optimistic_misses == (1 if postgres else 0)
    assert writer.optimistic_batches == (before - 2 if postgres else 0)
    _received(state, before + 2)  # careful: the locked head is the one `after` left
    _received(state, before + 3)  # careful: the second confirmation
    assert writer.optimistic_batches == (before - 2 if postgres else 0)
    _received(state, before + 4)  # trusted again
    assert writer.optimistic_batches == (before - 1 if postgres else 0)
    with state.db.read() as session:
        entry = session.scalars(select(LedgerEntry).where(
            LedgerEntry.message_id == after.message_id)).one()
    assert entry.seq == worker.seq + 1 and entry.prev_sha256 == worker.entry_sha256
    assert verify_ledger(state.db, state.signer).ok


def test_a_stored_duplicate_under_a_trusted_head_is_still_a_duplicate(
        state: GatewayState) -> None:
    """Without the lookup, a resend of a stored interchange fails the batch on the unique
    key; done again the careful way it is answered with the original id, and the other
    message of the batch is stored."""
    first = [_received(state, n) for n in range(1, 4)]
    again, fresh = one_batch(state, 10, (2, 11))
    assert again.result(10).duplicate and again.result(10).message_id == first[1].message_id
    assert not fresh.result(10).duplicate
    assert state.pipeline.intake.optimistic_misses == (1 if _is_postgres(state) else 0)
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 5
        assert session.scalar(select(func.count()).where(
            LedgerEntry.event == "DUPLICATE")) == 1
    assert verify_ledger(state.db, state.signer).ok


def test_a_trusted_batch_waits_for_an_append_in_progress_without_deadlock(
        state: GatewayState) -> None:
    """A worker's transaction has locked the ledger head but not yet written its entry
    when a one-round-trip batch starts. The batch takes the head row first, so it waits
    for the worker instead of inserting its entries and then waiting: the worker appends
    and commits, and the batch, finding the head moved, is stored the careful way after
    the worker's entry. Had the batch inserted first, the worker's entry would wait on
    the batch's key and the batch on the worker's head: a deadlock, which PostgreSQL
    breaks only after ``deadlock_timeout`` by aborting one of them."""
    from sqlalchemy import text

    for n in range(1, 4):
        _received(state, n)
    postgres = _is_postgres(state)
    holding, release = threading.Event(), threading.Event()
    worker_error: list[BaseException] = []

    def worker() -> None:
        try:
            with state.db.transaction() as session:
                session.execute(text("SELECT seq FROM ledger_head WHERE id = 1"
                                     + (" FOR UPDATE" if postgres else "")))
                holding.set()
                release.wait(10)
                state.ledger.append(session, event="PROCESSING", actor="worker:test",
                                    details={"attempt": 1})
        except BaseException as exc:  # asserted below
            worker_error.append(exc)
            holding.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert holding.wait(10)
    pipeline = state.pipeline
    submitted = time.monotonic()
    future = pipeline.submit(pipeline.prepare(delivery(po(state, 4)), "partner:acme-retail"))
    time.sleep(0.3)
    assert not future.done()  # waiting for the worker's head
    release.set()
    stored = future.result(10)
    # Waiting since it was submitted: PostgreSQL looks for a deadlock once a lock wait
    # has lasted deadlock_timeout, so a broken deadlock makes this at least that long.
    waited = time.monotonic() - submitted
    thread.join(10)
    assert not worker_error and not stored.duplicate
    if postgres:
        with state.db.read() as session:
            timeout = session.execute(text("SELECT setting::float / 1000 FROM pg_settings "
                                           "WHERE name = 'deadlock_timeout'")).scalar_one()
        assert waited < timeout, f"{waited:.2f} s: a deadlock was broken"
        assert pipeline.intake.optimistic_misses == 1
    with state.db.read() as session:
        events = session.scalars(select(LedgerEntry.event).order_by(LedgerEntry.seq)).all()
    assert events[-2:] == ["PROCESSING", "RECEIVED"]
    assert verify_ledger(state.db, state.signer).ok


@pytest.fixture
def client(state: GatewayState) -> Iterator[tuple[TestClient, str]]:
    """The app on ``state``, and a key of acme-retail."""
    with state.db.transaction() as session:
        key = issue_key(session, "partner", partner_id="acme-retail")[0]
    with TestClient(create_app(state.settings, state=state, start_workers=False)) as test:
        yield test, key


def _stored(state: GatewayState) -> tuple[int, int]:
    with state.db.read() as session:
        return (session.scalar(select(func.count()).select_from(Message)) or 0,
                session.scalar(select(func.count()).select_from(Acknowledgment)) or 0)


def test_a_body_with_another_senders_interchange_is_refused_whole(
        state: GatewayState, client: tuple[TestClient, str]) -> None:
    """A body whose second interchange is from another partner (Globex) is refused with a
    403 naming that interchange and its sender; nothing is stored, nothing acknowledged."""
    test, key = client
    globex = demo_interchange("globex-856.edi", "01", "123456789", "00501", state.settings, 77)
    response = test.post("/v1/messages", content=po(state, 76) + globex,
                         params={"sync": "true"}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:edigate:problem:sender-mismatch"
    assert "'01:123456789'" in problem["detail"] and "'000000077'" in problem["detail"]
    assert _stored(state) == (0, 0)


def test_a_later_interchange_to_another_receiver_is_refused(
        state: GatewayState, client: tuple[TestClient, str]) -> None:
    """The second interchange of a body is checked like the first: addressed to someone
    else, the body is refused (422) and nothing is stored."""
    test, key = client
    elsewhere = po(state, 79).replace(b"*ZZ*EDIGATE        *", b"*ZZ*SOMEONE        *")
    response = test.post("/v1/messages", content=po(state, 78) + elsewhere,
                         headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:edigate:problem:receiver-mismatch"
    assert _stored(state) == (0, 0)


def test_two_interchanges_of_the_partner_are_taken_and_each_acknowledged(
        state: GatewayState, client: tuple[TestClient, str]) -> None:
    """Two interchanges of the authenticated partner in one body still go through: both
    transactions become records and each interchange gets its 997."""
    test, key = client
    response = test.post("/v1/messages", content=po(state, 80) + po(state, 81),
                         params={"sync": "true"}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "PROCESSED"
    assert [t["record_id"] is not None for t in body["transactions"]] == [True, True]
    assert len(body["acknowledgments"]) == 2


@pytest.mark.parametrize("element", [6, 13, 1, 9])
def test_a_control_character_in_an_isa_is_refused_at_intake(
        state: GatewayState, client: tuple[TestClient, str], element: int) -> None:
    """A NUL in an ISA element (sender, control number, ...) is a located 422 problem on
    either database, not a 5xx and not a message stored with it."""
    test, key = client
    fields = po(state, 82).decode("ascii").split("*")
    value = fields[element]
    fields[element] = value[:1] + "\x00" + value[2:]  # same width: the fixed layout stays
    response = test.post("/v1/messages", content="*".join(fields).encode("latin-1"),
                         params={"sync": "true"}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:edigate:problem:invalid-character"
    assert f"ISA{element:02d}" in problem["detail"] and "byte offset 0" in problem["detail"]
    assert _stored(state) == (0, 0)


def test_a_control_character_in_a_later_isa_is_refused_at_intake(
        state: GatewayState, client: tuple[TestClient, str]) -> None:
    """The headers of every interchange are read at intake, not only the first one's."""
    test, key = client
    second = po(state, 84).replace(b"*000000084*", b"*00000\x00084*")
    response = test.post("/v1/messages", content=po(state, 83) + second,
                         headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422, response.text
    assert "ISA13" in response.json()["detail"]
    assert _stored(state) == (0, 0)
