"""The intake writer as a child process (``EDIGATE_INTAKE_WRITER=process``).

What ``test_intake`` pins for the writer thread must hold across the process boundary:
concurrent messages share transactions and each is answered only after its commit,
duplicates answer with the original id, the ledger verifies. And what is new: a child
that dies or cannot start turns into 503 answers (never a 500, never a hang), the next
batch starts a new child, and the child goes when the web process goes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.api.api_keys import issue_key
from gateway.intake.group_commit import Pending
from gateway.intake.pipeline import Delivery
from gateway.intake.writer_process import IntakeProcess, IntakeUnavailable
from gateway.ledger.chain import LedgerEntry, verify_ledger
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.store.models import Message, MessageStatus

REPO = Path(__file__).resolve().parents[2]
ACTOR = "partner:acme-retail"


def _settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, partners_dir=REPO / "partners",
                    var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem", workers=0,
                    ledger_checkpoint_every=7, intake_writer="process")


@pytest.fixture
def state(database_url: str, tmp_path: Path) -> Iterator[GatewayState]:
    built = GatewayState.build(_settings(database_url, tmp_path),
                               lease=timedelta(seconds=30))
    Base.metadata.create_all(built.db.engine)
    yield built
    built.close()


def po(state: GatewayState, control: int) -> bytes:
    return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                            control)


def send(state: GatewayState, body: bytes) -> object:
    pipeline = state.pipeline
    return pipeline.submit(pipeline.prepare(Delivery("acme-retail", "https", body), ACTOR))


def writer_of(state: GatewayState) -> IntakeProcess:
    writer = state.pipeline.intake
    assert isinstance(writer, IntakeProcess)
    return writer


def test_messages_are_stored_by_the_child_in_shared_transactions(state: GatewayState) -> None:
    """Forty messages from eight threads: each stored once under its own id, answered after
    the commit (its row is there when the answer is), fewer transactions than messages,
    duplicates pointing at the original, metrics counted in the web process, a chain that
    verifies across checkpoints."""
    pipeline = state.pipeline

    def post(control: int) -> tuple[str, bool]:
        result = pipeline.receive(Delivery("acme-retail", "https", po(state, control)), ACTOR)
        with state.db.read() as session:  # committed before it was answered
            assert session.get(Message, result.message_id) is not None
        return result.message_id, result.duplicate

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(1, 41)))
    ids = [message_id for message_id, _ in results]
    assert len(set(ids)) == 40 and not any(dup for _, dup in results)
    writer = writer_of(state)
    assert writer.child is not None and writer.child.poll() is None
    assert writer.child.pid != os.getpid()
    assert 1 <= writer.batches < 40

    again = pipeline.receive(Delivery("acme-retail", "https", po(state, 7)), ACTOR)
    assert again.duplicate and again.message_id == ids[6]

    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 40
        events = session.scalars(select(LedgerEntry.event)).all()
    assert events.count("RECEIVED") == 40 and events.count("DUPLICATE") == 1
    assert verify_ledger(state.db, state.signer).ok
    received = state.metrics.received.labels("acme-retail", "https")._value.get()
    assert received == 40
    assert state.metrics.intake_batch_size._sum.get() == 41  # batches of 40 + 1 messages


def _wait_for(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_child_killed_between_batches_is_replaced_before_the_next_one(
        state: GatewayState) -> None:
    """SIGKILL the child while it is idle: the web process sees the channel close, reaps
    it, and the next message is stored by a new child (nobody is answered 503)."""
    first = send(state, po(state, 1)).result(30)  # type: ignore[attr-defined]
    writer = writer_of(state)
    child = writer.child
    assert child is not None
    os.kill(child.pid, signal.SIGKILL)
    _wait_for(lambda: writer.child is None)
    assert child.returncode == -signal.SIGKILL  # reaped by the web process

    second = send(state, po(state, 2)).result(30)  # type: ignore[attr-defined]
    assert not second.duplicate and second.message_id != first.message_id
    assert writer.child is not None and writer.child.pid != child.pid
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2
    assert verify_ledger(state.db, state.signer).ok


def test_a_child_killed_mid_batch_answers_503_and_a_new_child_stores_the_retry(
        state: GatewayState) -> None:
    """A child that dies with a batch in flight: that batch is answered IntakeUnavailable
    (503, send again); the retry goes to a new child and is stored once."""
    send(state, po(state, 1)).result(30)  # type: ignore[attr-defined]
    writer = writer_of(state)
    real, child = writer.command, writer.child
    assert child is not None
    # The next child reads nothing and answers nothing, so its batch stays in flight.
    writer.command = [sys.executable, "-c", "import time; time.sleep(60)"]
    os.kill(child.pid, signal.SIGKILL)
    _wait_for(lambda: writer.child is None)
    pending = send(state, po(state, 2))
    _wait_for(lambda: writer.child is not None)
    stuck = writer.child
    assert stuck is not None
    writer.command = real
    time.sleep(0.2)
    assert not pending.done()  # type: ignore[attr-defined]
    os.kill(stuck.pid, signal.SIGKILL)
    with pytest.raises(IntakeUnavailable) as failed:
        pending.result(30)  # type: ignore[attr-defined]
    assert failed.value.status == 503 and "send it again" in failed.value.detail

    retried = send(state, po(state, 2)).result(30)  # type: ignore[attr-defined]
    assert not retried.duplicate
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2
    assert verify_ledger(state.db, state.signer).ok


def test_messages_arriving_during_a_batch_go_together_in_the_next(
        state: GatewayState) -> None:
    """One batch at a time (DEPTH): what arrives while a batch is at the child waits in
    the web process and goes, all of it, as the next batch once the report is in."""
    send(state, po(state, 1)).result(30)  # type: ignore[attr-defined]
    writer = writer_of(state)
    assert writer.DEPTH == 1
    child = writer.child
    assert child is not None
    batches = writer.batches
    os.kill(child.pid, signal.SIGSTOP)  # the child holds still: nothing is reported
    try:
        first = send(state, po(state, 2))
        _wait_for(lambda: len(writer._sent) == 1)
        later = [send(state, po(state, n)) for n in (3, 4, 5)]
        _wait_for(lambda: len(writer._queue) == 3)
        time.sleep(0.1)
        assert len(writer._sent) == 1 and not first.done()  # type: ignore[attr-defined]
    finally:
        os.kill(child.pid, signal.SIGCONT)
    results = [f.result(30) for f in (first, *later)]  # type: ignore[attr-defined]
    assert len({r.message_id for r in results}) == 4 and not any(r.duplicate for r in results)
    assert writer.batches == batches + 2  # [2], then [3, 4, 5]
    assert verify_ledger(state.db, state.signer).ok


def test_a_child_that_cannot_start_is_503_over_http(database_url: str, tmp_path: Path) -> None:
    """A writer process that exits at once (here: a command that is not the writer) gives
    the partner a problem+json 503 that says to send again and names an incident (the
    cause is logged under it, not sent), and no message row."""
    settings = _settings(database_url, tmp_path)
    state = GatewayState.build(settings)
    Base.metadata.create_all(state.db.engine)
    writer = writer_of(state)
    writer.command = [sys.executable, "-c", "raise SystemExit(3)"]
    with state.db.transaction() as session:
        key = issue_key(session, "partner", partner_id="acme-retail")[0]
    try:
        with TestClient(create_app(settings, state=state, start_workers=False)) as client:
            response = client.post("/v1/messages", content=po(state, 9),
                                   headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "urn:edigate:problem:intake-unavailable"
        assert "send it again" in problem["detail"]
        assert problem["incident"] and problem["incident"] in problem["detail"]
        assert "exit code" not in problem["detail"]
        with state.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Message)) == 0
    finally:
        state.close()


def test_close_stores_what_is_queued_and_reaps_the_child(state: GatewayState) -> None:
    writer = writer_of(state)
    writer.start()  # spawns the child now, as the app's start-up does
    deadline = time.monotonic() + 30
    while writer.child is None and time.monotonic() < deadline:
        time.sleep(0.01)
    child = writer.child
    assert child is not None
    # Once the child stores messages (its start-up, imports and connection, can take
    # seconds on a loaded machine: close's own wait is for what is queued, not for that).
    assert send(state, po(state, 9)).result(60).status == MessageStatus.RECEIVED  # type: ignore[attr-defined]
    futures = [send(state, po(state, n)) for n in range(1, 6)]
    state.pipeline.close()
    assert [f.result(0).status for f in futures] == [MessageStatus.RECEIVED] * 5  # type: ignore[attr-defined]
    assert writer.child is None and child.poll() == 0  # it exited on its own, not killed


def test_the_child_dies_with_the_web_process(tmp_path: Path) -> None:
    """A web process killed with SIGKILL leaves no writer behind (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux")
    script = textwrap.dedent(f"""
        import json, os, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from gateway.runtime.demo import demo_interchange
        from gateway.intake.pipeline import Delivery
        from gateway.runtime.settings import Settings
        from gateway.runtime.state import GatewayState
        from gateway.store.base import Base
        settings = Settings(database_url="sqlite:///{tmp_path / 'e.db'}",
                            partners_dir={str(REPO / 'partners')!r}, var_dir={str(tmp_path)!r},
                            ledger_key_path={str(tmp_path / 'k.pem')!r}, workers=0,
                            intake_writer="process")
        state = GatewayState.build(settings)
        Base.metadata.create_all(state.db.engine)
        body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", settings, 5)
        state.pipeline.receive(Delivery("acme-retail", "https", body), "partner:acme-retail")
        print(json.dumps({{"child": state.pipeline.intake.child.pid}}), flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        child = json.loads(line)["child"]
        os.kill(child, 0)  # alive while its parent is
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child), "the intake writer outlived the web process"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped by init yet, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_message_the_child_cannot_store_is_503_without_the_error_text(
        state: GatewayState) -> None:
    """A message whose transaction fails in the child (a NUL that PostgreSQL text refuses,
    evidence the ledger cannot encode): 503, send again, with an incident id; neither the
    database's nor the driver's nor the exception's text reaches the sender."""
    good = send(state, po(state, 1)).result(30)  # type: ignore[attr-defined]
    assert not good.duplicate
    body = po(state, 2)
    pending = Pending(partner_id="acme-retail", transport="https", standard="x12", body=body,
                      digest=hashlib.sha256(body).hexdigest(), sender="ZZ:ACMERETAIL",
                      receiver="ZZ:EDIGATE", control="00\x002", actor=ACTOR,
                      evidence={"tags": {"not", "json"}})
    with pytest.raises(IntakeUnavailable) as failed:
        state.pipeline.submit(pending).result(30)
    detail = failed.value.detail
    assert failed.value.status == 503 and "send it again" in detail
    assert failed.value.incident in detail
    for leak in ("Error", "psycopg", "JSON", "set", "\\x00", "0x00"):
        assert leak not in detail, detail
