"""Processing in batches: a worker claims several messages in one transaction and finishes
them in one, and each message still comes out as if it had been processed alone. What a
partner sent never makes processing fail or lie: an interchange of another sender is never
acknowledged, and control characters are rejected with a negative acknowledgment and kept
out of every text column, on SQLite as on PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.delivery.webhooks import create_webhook
from gateway.intake.group_commit import Pending
from gateway.intake.pipeline import Delivery
from gateway.ledger.chain import LedgerEntry
from gateway.processing import processor as processing
from gateway.runtime.demo import demo_interchange
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.store.models import Acknowledgment, Message, RecordRow
from gateway.store.search import MessageTerm
from gateway.store.webhooks import WebhookDelivery
from translators.edifact.reader import EDIFACTReader
from translators.x12.reader import X12Reader

ORDERS = (Path(__file__).resolve().parents[2] / "gateway" / "runtime" / "demo_data"
          / "initech-orders.edi").read_bytes()


@pytest.fixture
def state(build_state: Callable[..., GatewayState]) -> GatewayState:
    return build_state(lease=timedelta(seconds=30), ledger_checkpoint_every=7, worker_batch=4)


def receive(state: GatewayState, count: int, first: int = 500) -> list[str]:
    ids = []
    for control in range(first, first + count):
        body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                                control)
        ids.append(state.pipeline.receive(Delivery("acme-retail", "https", body),
                                          "test").message_id)
    return ids


def statuses(state: GatewayState) -> dict[str, str]:
    with state.db.read() as session:
        return {m.id: m.status for m in session.scalars(select(Message))}


def events(state: GatewayState, message_id: str) -> list[str]:
    with state.db.read() as session:
        return list(session.scalars(select(LedgerEntry.event).where(
            LedgerEntry.message_id == message_id).order_by(LedgerEntry.seq)))


def test_a_batch_is_claimed_in_order_and_finished_as_single_messages_would_be(
        state: GatewayState) -> None:
    """Four of six waiting messages are claimed (the oldest, in received order), each ends
    PROCESSED with its record, 997, search terms, webhook delivery and ledger steps; the
    997s carry consecutive control numbers; the other two wait; the ledger verifies."""
    with state.db.transaction() as session:
        create_webhook(session, state.ledger, url="https://crm.example.test/hook",
                       kinds="purchase_order", actor="test")
    ids = receive(state, 6)
    processor = state.pipeline.processor
    claimed = processor.claim("worker-a", limit=4)
    assert [c.id for c in claimed] == ids[:4]
    assert all(c.body.startswith(b"ISA") for c in claimed)
    assert statuses(state) == {**dict.fromkeys(ids[:4], "PROCESSING"),
                               **dict.fromkeys(ids[4:], "RECEIVED")}

    results = processor.process(claimed, "worker-a")
    assert [r.status if r else None for r in results] == ["PROCESSED"] * 4
    assert statuses(state) == {**dict.fromkeys(ids[:4], "PROCESSED"),
                               **dict.fromkeys(ids[4:], "RECEIVED")}
    for message_id in ids[:4]:
        assert events(state, message_id) == ["RECEIVED", "PROCESSING", "TRANSLATED",
                                             "ACK_BUILT", "PROCESSED"]
    with state.db.read() as session:
        records = session.scalars(select(RecordRow).order_by(RecordRow.seq)).all()
        assert sorted(r.message_id for r in records) == sorted(ids[:4])
        assert {r.business_number for r in records} == {"PO-4711"}
        deliveries = session.scalars(select(WebhookDelivery)).all()
        assert {(d.record_id, d.record_seq) for d in deliveries} == {
            (r.id, r.seq) for r in records}
        acks = session.scalars(select(Acknowledgment)).all()
        isa13 = sorted(int(next(iter(X12Reader(a.content.encode())))[13]) for a in acks)
        assert isa13 == list(range(isa13[0], isa13[0] + 4))
        terms = {(t.message_id, t.term) for t in session.scalars(select(MessageTerm))}
        for message_id in ids[:4]:
            assert (message_id, "po-4711") in terms
        message = session.get(Message, ids[0])
        assert message is not None and message.locked_by is None
        assert message.search_text is not None and "PO-4711" in message.search_text
        assert message.ack_status == "accepted" and message.transaction_types == "850"
    report = state.ledger.verify
    with state.db.read() as session:
        assert report(session).ok


def test_drain_goes_in_batches_until_nothing_waits(state: GatewayState) -> None:
    """``drain`` takes worker_batch (4) at a time and processes all ten."""
    ids = receive(state, 10)
    results = list(state.pipeline.drain("worker-a"))
    assert sorted(r.message_id for r in results) == sorted(ids)
    assert set(statuses(state).values()) == {"PROCESSED"}


def test_one_message_that_cannot_be_stored_fails_alone(
        state: GatewayState, monkeypatch: pytest.MonkeyPatch) -> None:
    """When storing one message's outcome raises, the batch is finished message by
    message: that message becomes FAILED with the error, the others are PROCESSED."""
    ids = receive(state, 4)
    real = processing.record_json

    def record_json(data: dict[str, Any]) -> str:
        if data["source"]["message_id"] == ids[2]:
            raise ValueError("cannot encode this record")
        return real(data)

    monkeypatch.setattr(processing, "record_json", record_json)
    results = state.pipeline.run_batch("worker-a", 4)
    assert [r.status for r in results] == ["PROCESSED", "PROCESSED", "FAILED", "PROCESSED"]
    assert "cannot encode this record" in (results[2].error or "")
    assert statuses(state)[ids[2]] == "FAILED"
    assert events(state, ids[2]) == ["RECEIVED", "PROCESSING", "FAILED"]
    with state.db.read() as session:
        assert sorted(session.scalars(select(RecordRow.message_id))) == sorted(
            ids[:2] + ids[3:])
        assert state.ledger.verify(session).ok


def test_a_lease_taken_over_mid_batch_is_left_to_its_new_holder(
        state: GatewayState) -> None:
    """worker-a claims three; one lease expires and worker-b takes that message over.
    worker-a's batch stores the other two and nothing of the third; worker-b's result for
    it is the only one."""
    ids = receive(state, 3)
    processor = state.pipeline.processor
    claimed = processor.claim("worker-a", limit=3)
    with state.db.transaction() as session:
        message = session.get(Message, ids[1])
        assert message is not None
        message.locked_until = message.received_at  # worker-a stalled past its lease
    taken = processor.claim("worker-b", limit=3)
    assert [c.id for c in taken] == [ids[1]]
    results = processor.process(claimed, "worker-a")
    assert [r is None for r in results] == [False, True, False]
    assert statuses(state)[ids[1]] == "PROCESSING"
    assert processor.process(taken, "worker-b")[0] is not None
    assert events(state, ids[1]).count("PROCESSED") == 1
    with state.db.read() as session:
        assert sorted(session.scalars(select(RecordRow.message_id))) == sorted(ids)
        assert session.scalars(select(Message.attempts).where(
            Message.id == ids[1])).one() == 2


def test_a_dead_workers_batch_is_released_and_resumed(state: GatewayState) -> None:
    """A batch claimed by a local worker process that died is released as a whole and the
    next worker processes each message once."""
    import os
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_worker = f"worker:{os.uname().nodename}-{dead.stdout.strip()}:0"
    ids = receive(state, 3)
    assert len(state.pipeline.processor.claim(dead_worker, limit=3)) == 3
    assert state.pipeline.run_batch("worker-b", 3) == []  # leases still running
    assert state.pipeline.release_dead_local_claims("test") == 3
    results = state.pipeline.run_batch("worker-b", 3)
    assert [r.message_id for r in results] == ids
    for message_id in ids:
        assert events(state, message_id).count("PROCESSED") == 1


def test_a_batch_stops_at_its_byte_budget_but_takes_at_least_one(
        state: GatewayState, monkeypatch: pytest.MonkeyPatch) -> None:
    """Claims stop adding messages once their payloads pass MAX_BATCH_BYTES; the first
    message is taken whatever its size; the rest stay RECEIVED for the next claim."""
    ids = receive(state, 4)
    with state.db.read() as session:
        size = session.get_one(Message, ids[0]).size
    processor = state.pipeline.processor
    monkeypatch.setattr(processing, "MAX_BATCH_BYTES", 2 * size + size // 2)
    assert [c.id for c in processor.claim("worker-a", limit=4)] == ids[:2]
    monkeypatch.setattr(processing, "MAX_BATCH_BYTES", 1)
    assert [c.id for c in processor.claim("worker-a", limit=4)] == ids[2:3]
    assert statuses(state)[ids[3]] == "RECEIVED"


def test_inline_processing_combines_waiting_callers_into_one_batch(
        state: GatewayState) -> None:
    """sync=true callers that queue while another holds the turn are processed together,
    in one claim and one finish, and each gets its own message's result; a message a
    worker holds comes back None (processed all the same)."""
    import threading

    ids = receive(state, 7)
    held_by_worker = state.pipeline.processor.claim("worker-a", message_ids=[ids[6]])
    assert [c.id for c in held_by_worker] == [ids[6]]
    inline = state.pipeline.inline
    results: dict[str, object] = {}
    inline._turn.acquire()  # as if a caller were mid-batch
    threads = [threading.Thread(target=lambda m=m: results.__setitem__(m, inline.process(m)))
               for m in ids]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(inline._queued) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(inline._queued) == len(ids)
    finally:
        inline._turn.release()
    for thread in threads:
        thread.join(30)
    assert results[ids[6]] is None
    for message_id in ids[:6]:
        result = results[message_id]
        assert isinstance(result, processing.ProcessResult)
        assert result.message_id == message_id and result.status == "PROCESSED"
    with state.db.read() as session:
        claims = session.execute(select(LedgerEntry.at, LedgerEntry.actor).where(
            LedgerEntry.event == "PROCESSING", LedgerEntry.message_id.in_(ids[:6]))).all()
    assert len(claims) == 6 and len({at for at, _ in claims}) == 1  # one claim transaction
    assert {actor for _, actor in claims} == {inline.worker}


def store_unchecked(state: GatewayState, partner_id: str, standard: str, body: bytes) -> str:
    """Store ``body`` as intake's writer would, without intake's envelope checks: what a
    gateway before those checks may hold, and may be asked to reprocess."""
    pending = Pending(partner_id=partner_id, transport="https", standard=standard, body=body,
                      digest=hashlib.sha256(body).hexdigest(), sender="stored", receiver="",
                      control=hashlib.sha256(body).hexdigest()[:12], actor="test",
                      evidence={})
    return state.pipeline.submit(pending).result(30).message_id


def assert_no_nul(state: GatewayState) -> None:
    """No text value of any table holds a NUL (PostgreSQL cannot store one; SQLite must
    hold the same as PostgreSQL)."""
    with state.db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for column, value in row._mapping.items():
                    assert not (isinstance(value, str) and "\x00" in value), (
                        f"{table.name}.{column}: {value!r}")


def test_an_interchange_of_another_sender_is_never_acknowledged(
        state: GatewayState) -> None:
    """A stored body whose second interchange is Globex's (intake now refuses such bodies):
    the message is REJECTED with no records, and NO 997 is built, neither AK5*A to the
    partner nor anything to Globex."""
    acme = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings, 61)
    globex = demo_interchange("globex-856.edi", "01", "123456789", "00501", state.settings,
                              62)
    message_id = store_unchecked(state, "acme-retail", "x12", acme + globex)
    result = state.pipeline.inline.process(message_id)
    assert result is not None and result.status == "REJECTED"
    assert "01:123456789" in (result.error or "")
    assert result.acknowledgments == []
    with state.db.read() as session:
        assert session.scalars(select(Acknowledgment)).all() == []
        assert session.scalars(select(RecordRow)).all() == []


def test_an_edifact_interchange_of_another_sender_is_never_acknowledged(
        state: GatewayState) -> None:
    """The same for EDIFACT, with UNB 0031 asking for a CONTRL: none is built (no CONTRL
    action 7 for an interchange that was refused)."""
    asked = ORDERS.replace(b"+IO0001++ORDERS'", b"+IO0021++ORDERS++1'").replace(
        b"UNZ+1+IO0001'", b"UNZ+1+IO0021'")
    other = asked.replace(b"5412345000013:14", b"8712345000002:14").replace(
        b"IO0021", b"IO0022")
    message_id = store_unchecked(state, "initech-eu", "edifact", asked + other)
    result = state.pipeline.inline.process(message_id)
    assert result is not None and result.status == "REJECTED"
    assert "14:8712345000002" in (result.error or "")
    assert result.acknowledgments == []
    with state.db.read() as session:
        assert session.scalars(select(Acknowledgment)).all() == []
        assert session.scalars(select(RecordRow)).all() == []


def _x12(state: GatewayState, control: int) -> bytes:
    return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                            control)


@pytest.mark.parametrize(("old", "new", "where"), [
    (b"*X*004010~", b"*X*004\x00010~", "GS"),  # GS08
    (b"ST*850*0001", b"ST*850*0\x00001", "ST"),  # ST02
    (b"BEG*00*SA*", b"BEG*00*S\x00*", "BEG"),  # an ID element
    (b"*PO-4711*", b"*PO-\x004711*", "BEG"),  # an AN element, the business number
])
def test_a_control_character_in_x12_is_a_negative_997(
        state: GatewayState, old: bytes, new: bytes, where: str) -> None:
    """A NUL in a GS, an ST or a data element: the message is REJECTED (not FAILED) with a
    997 that rejects the set (AK5*R; AK4 code 6 for a data element) and the group (AK9*R);
    no record, and no NUL stored anywhere."""
    body = _x12(state, 63)
    assert old in body
    message_id = state.pipeline.receive(
        Delivery("acme-retail", "https", body.replace(old, new, 1)), "test").message_id
    result = state.pipeline.inline.process(message_id)
    assert result is not None and result.status == "REJECTED", result
    assert [t["status"] for t in result.transactions] == ["R"]
    [ack] = result.acknowledgments
    segments = {seg.tag: seg for seg in X12Reader(ack["content"].encode("ascii"))}
    assert segments["AK5"][1] == "R" and segments["AK9"][1] == "R"
    if where == "BEG":
        assert (segments["AK3"][1], segments["AK4"][3]) == ("BEG", "6")
    with state.db.read() as session:
        assert session.scalars(select(RecordRow)).all() == []
    assert_no_nul(state)


def test_a_control_character_in_a_stored_isa_is_rejected_with_a_ta1(
        state: GatewayState) -> None:
    """A NUL in ISA13 of a stored body (intake refuses it now): TA1 rejects the
    interchange (note code 018), the 997 rejects the set, no record, no NUL stored."""
    body = _x12(state, 64).replace(b"*000000064*", b"*0000\x000064*")
    message_id = store_unchecked(state, "acme-retail", "x12", body)
    result = state.pipeline.inline.process(message_id)
    assert result is not None and result.status == "REJECTED", result
    [ack] = result.acknowledgments
    segments = {seg.tag: seg for seg in X12Reader(ack["content"].encode("ascii"))}
    assert (segments["TA1"][4], segments["TA1"][5]) == ("R", "018")
    assert segments["AK5"][1] == "R"
    assert_no_nul(state)


@pytest.mark.parametrize(("old", "new"), [
    (b"UNH+1+ORDERS", b"UNH+1\x00+ORDERS"),  # UNH 0062
    (b"BGM+220+PO-IE-1001", b"BGM+220+PO-IE\x00-1001"),  # a data element
    (b"UNH+1+ORDERS", b"UNG+ORDERS+5412345000013:14+EDIGATE:ZZ+261126:0900+G\x001+UN"
     b"+D:96A'UNH+1+ORDERS"),  # UNG 0048 (the UNE is missing: a group error as well)
])
def test_a_control_character_in_edifact_is_a_negative_contrl(
        state: GatewayState, old: bytes, new: bytes) -> None:
    """A NUL in UNH, UNG or a data element: the message is REJECTED (not FAILED) and a
    CONTRL rejects it (UCM, or the group's UCF, action 4; syntax error 21 invalid
    character on it or on the UCD locating it); no record, and no NUL stored anywhere."""
    body = ORDERS.replace(b"IO0001", b"IO0031").replace(old, new, 1)
    message_id = state.pipeline.receive(
        Delivery("initech-eu", "https", body), "test").message_id
    result = state.pipeline.inline.process(message_id)
    assert result is not None and result.status == "REJECTED", result
    [ack] = result.acknowledgments
    segments = list(EDIFACTReader(ack["content"].encode("latin-1")))
    # (action, code) of the message's report, or of its group's (UCF) when the whole
    # group is rejected: 0083 and 0085 are elements 3-4 of UCM, 4-5 of UCF.
    reports = [(s.get(3), s.get(4)) if s.tag == "UCM" else (s.get(4), s.get(5))
               for s in segments if s.tag in ("UCM", "UCF")]
    codes = {code for _, code in reports} | {s.get(1) for s in segments if s.tag == "UCD"}
    assert reports and {action for action, _ in reports} == {"4"}, ack["content"]
    assert "21" in codes, ack["content"]
    with state.db.read() as session:
        assert session.scalars(select(RecordRow)).all() == []
    assert_no_nul(state)
