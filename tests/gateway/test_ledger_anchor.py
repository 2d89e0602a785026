"""The ledger's newest entries are protected by the anchor file (a signed head kept outside
the database): a rewritten or cut tail that the chain and its checkpoints alone accept is
caught by ``verify`` with the anchor, on SQLite and PostgreSQL; the gateway's appenders keep
the file up to date and never move it backwards or onto a rewritten chain."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.api.api_keys import issue_key
from gateway.intake.pipeline import Delivery
from gateway.ledger.anchor import AnchorWriter, anchor_path, read_anchor, verify_with_anchor
from gateway.ledger.chain import (
    GENESIS_SHA256,
    Ledger,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerSigner,
    SignedHead,
    VerifyReport,
    entry_sha256,
    verify_ledger,
)
from gateway.runtime.app import create_app
from gateway.runtime.cli import main
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.db import Database

EVERY = 5
ACTOR = "partner:acme-retail"


@pytest.fixture(scope="module")
def signer() -> LedgerSigner:
    return LedgerSigner.generate()


@pytest.fixture
def anchored(db: Database, signer: LedgerSigner, tmp_path: Path
             ) -> Iterator[tuple[Ledger, AnchorWriter]]:
    """A ledger checkpointing every five entries whose appends are anchored in a file;
    the tests write the anchor with ``flush`` (the interval is never waited for)."""
    writer = AnchorWriter(tmp_path / "ledger-anchor.json", signer, db, interval=3600)
    yield Ledger(signer, EVERY, anchor=writer), writer
    writer.close()


def _fill(db: Database, ledger: Ledger, count: int) -> None:
    with db.transaction() as session:
        for i in range(count):
            ledger.append(session, event="RECEIVED", actor=ACTOR, message_id=f"m-{i}",
                          details={"i": i})


def _rewrite(session: Session, seq: int, actor: str) -> None:
    """What an attacker with the database but not the key does: change entry ``seq`` and
    recompute the hashes of it and every later entry, and the head row."""
    entries = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)))
    prev = GENESIS_SHA256
    for entry in entries:
        if entry.seq == seq:
            entry.actor = actor
        if entry.seq >= seq:
            entry.prev_sha256 = prev
            entry.entry_sha256 = entry_sha256(
                seq=entry.seq, at=entry.at, message_id=entry.message_id, event=entry.event,
                actor=entry.actor, details=json.loads(entry.details), prev_sha256=prev)
        prev = entry.entry_sha256
    session.execute(update(LedgerHead).values(seq=entries[-1].seq, sha256=prev))


def _cut(session: Session, keep: int, *, next_checkpoint: int) -> None:
    """Delete the entries after ``keep`` and every checkpoint among them, and rewind the
    head row to ``keep``, as the ledger would look had they never been appended."""
    session.execute(delete(LedgerEntry).where(LedgerEntry.seq > keep))
    session.execute(delete(LedgerCheckpoint).where(LedgerCheckpoint.seq > keep))
    last = session.get_one(LedgerEntry, keep)
    session.execute(update(LedgerHead).values(seq=keep, sha256=last.entry_sha256,
                                              next_checkpoint_seq=next_checkpoint))


def _with_anchor(db: Database, signer: LedgerSigner, writer: AnchorWriter) -> VerifyReport:
    return verify_with_anchor(db, signer, writer.path)


def test_rewritten_tail_after_the_last_checkpoint_is_caught(
        db: Database, signer: LedgerSigner,
        anchored: tuple[Ledger, AnchorWriter]) -> None:
    """Entry 11 (after the checkpoint at 10) edited and the hashes after it and the head
    recomputed: the chain alone verifies, the anchor of seq 12 names entry 12 and says the
    rewrite is after the checkpoint at 10."""
    ledger, writer = anchored
    _fill(db, ledger, 12)
    assert writer.flush() is not None
    with db.transaction() as session:
        _rewrite(session, 11, "intruder")
    assert verify_ledger(db, signer).ok  # what the checkpoints alone can tell
    report = _with_anchor(db, signer, writer)
    assert not report.ok and report.first_bad_seq == 12 and report.anchor_seq == 12
    assert "differs from the signed anchor" in (report.reason or "")
    assert "after seq 10" in (report.reason or "")


def test_tail_cut_back_to_the_last_checkpoint_is_caught(
        db: Database, signer: LedgerSigner,
        anchored: tuple[Ledger, AnchorWriter]) -> None:
    """Entries 11 and 12 deleted, the checkpoint at 10 kept, the head rewound: the chain
    alone verifies, the anchor names the missing entries 11..12."""
    ledger, writer = anchored
    _fill(db, ledger, 12)
    writer.flush()
    with db.transaction() as session:
        _cut(session, 10, next_checkpoint=15)
    assert verify_ledger(db, signer).ok
    report = _with_anchor(db, signer, writer)
    assert not report.ok and report.first_bad_seq == 11
    assert "entries 11..12 are missing" in (report.reason or "")


def test_tail_cut_with_its_checkpoint_is_caught(
        db: Database, signer: LedgerSigner,
        anchored: tuple[Ledger, AnchorWriter]) -> None:
    """Entries 10 to 12 and the checkpoint at 10 deleted, the head rewound to 9 (where the
    checkpoint at 5 says the next is due at 10): the chain alone verifies, the anchor names
    the missing entries 10..12."""
    ledger, writer = anchored
    _fill(db, ledger, 12)
    writer.flush()
    with db.transaction() as session:
        _cut(session, 9, next_checkpoint=10)
    assert verify_ledger(db, signer).ok
    report = _with_anchor(db, signer, writer)
    assert not report.ok and report.first_bad_seq == 10
    assert "entries 10..12 are missing" in (report.reason or "")


def test_untouched_ledger_with_appends_after_the_anchor_verifies(
        db: Database, signer: LedgerSigner,
        anchored: tuple[Ledger, AnchorWriter]) -> None:
    """Entries appended after the anchor was written do not fail it: the ledger verifies
    against the anchor of seq 12 with 19 entries."""
    ledger, writer = anchored
    _fill(db, ledger, 12)
    writer.flush()
    _fill(db, ledger, 7)
    report = _with_anchor(db, signer, writer)
    assert report.ok and report.count == 19 and report.anchor_seq == 12, report


def test_forged_anchors_are_reported(db: Database, signer: LedgerSigner,
                                     anchored: tuple[Ledger, AnchorWriter],
                                     tmp_path: Path) -> None:
    """An anchor whose fields were changed, one signed by another key and one that is not
    an anchor at all each fail verification with the reason, though the chain is good."""
    ledger, writer = anchored
    _fill(db, ledger, 12)
    writer.flush()
    doc = json.loads(writer.path.read_text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc | {"seq": 11}))
    report = verify_with_anchor(db, signer, forged)
    assert not report.ok and "signature is invalid" in (report.reason or "")

    stranger = SignedHead.sign(LedgerSigner.generate(), 12, doc["head_sha256"],
                               read_anchor(writer.path).at)
    forged.write_text(json.dumps(stranger.as_dict()))
    report = verify_with_anchor(db, signer, forged)
    assert not report.ok and "unknown key" in (report.reason or "")

    forged.write_text(json.dumps(doc | {"seq": "12"}))
    report = verify_with_anchor(db, signer, forged)
    assert not report.ok and "seq is not a positive integer" in (report.reason or "")
    report = verify_with_anchor(db, signer, tmp_path / "nowhere.json")
    assert not report.ok and "does not exist" in (report.reason or "")


def test_writer_never_moves_the_anchor_back_or_onto_a_rewritten_chain(
        db: Database, signer: LedgerSigner, anchored: tuple[Ledger, AnchorWriter],
        caplog: pytest.LogCaptureFixture) -> None:
    """After the tail was cut, or rewritten and appended to, the writer keeps the anchor
    it has (the evidence) and logs an error, so verification still fails; another process's
    writer with an older head does not lower it either."""
    ledger, writer = anchored
    _fill(db, ledger, 12)
    writer.flush()
    with db.transaction() as session:
        _rewrite(session, 11, "intruder")
    _fill(db, ledger, 4)  # the gateway appends on top of the forged chain
    with caplog.at_level(logging.ERROR, logger="gateway.ledger.anchor"):
        kept = writer.flush()
    assert kept is not None and kept.seq == 12
    assert "was rewritten" in caplog.text
    assert not _with_anchor(db, signer, writer).ok

    with db.transaction() as session:
        _cut(session, 9, next_checkpoint=10)
    other = AnchorWriter(writer.path, signer, db, interval=3600)  # another process
    other.note(9)
    other.close()
    assert read_anchor(writer.path).seq == 12
    with caplog.at_level(logging.ERROR, logger="gateway.ledger.anchor"):
        writer.flush()  # it appended up to 16
    assert read_anchor(writer.path).seq == 12
    assert "behind the anchor" in caplog.text


def test_writers_of_several_processes_keep_the_highest_head(
        db: Database, signer: LedgerSigner, tmp_path: Path) -> None:
    """Two appenders sharing the file: each anchors a head that extends the other's, and
    one that noted an older seq leaves a newer anchor in place."""
    path = tmp_path / "ledger-anchor.json"
    first = AnchorWriter(path, signer, db, interval=3600)
    second = AnchorWriter(path, signer, db, interval=3600)
    try:
        _fill(db, Ledger(signer, EVERY, anchor=first), 3)
        _fill(db, Ledger(signer, EVERY, anchor=second), 4)
        assert second.flush() is not None and read_anchor(path).seq == 7
        first.flush()  # it noted seq 3: covered
        assert read_anchor(path).seq == 7
        _fill(db, Ledger(signer, EVERY, anchor=first), 2)
        assert first.flush() is not None and read_anchor(path).seq == 9
        assert verify_with_anchor(db, signer, path).ok
    finally:
        first.close()
        second.close()


# ------------------------------------------------------------------- a running gateway


def _po(state: GatewayState, control: int) -> bytes:
    return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                            control)


def _head_seq(state: GatewayState) -> int:
    with state.db.read() as session:
        return session.scalar(select(LedgerHead.seq)) or 0


def _wait_for_anchor(state: GatewayState, seq: int) -> int:
    """The anchor's seq once it reaches ``seq`` (the background write), or what it is after
    a generous deadline."""
    path = anchor_path(state.settings.var_dir)
    deadline = time.monotonic() + 30
    anchored = 0
    while time.monotonic() < deadline:
        if path.exists():
            anchored = read_anchor(path).seq
            if anchored >= seq:
                break
        time.sleep(0.02)
    return anchored


@pytest.mark.parametrize("intake_writer", ["thread", "process"])
def test_a_running_gateway_anchors_intake_and_processing(
        build_state: Callable[..., GatewayState], intake_writer: str) -> None:
    """Messages received (by the intake writer thread or process) and then processed move
    the anchor file to the ledger's head while the gateway runs, and at shutdown the file
    holds exactly the head; the ledger verifies against it."""
    state = build_state(lease=timedelta(seconds=30), ledger_checkpoint_every=7,
                        ledger_anchor_seconds=0.05, intake_writer=intake_writer)
    pipeline = state.pipeline
    for control in range(1, 6):
        pipeline.receive(Delivery("acme-retail", "https", _po(state, control)), ACTOR)
    received = _head_seq(state)
    assert received >= 5
    assert _wait_for_anchor(state, received) >= received  # intake's appends

    assert len(list(pipeline.drain("test-worker"))) == 5
    processed = _head_seq(state)
    assert processed > received
    assert _wait_for_anchor(state, processed) >= processed  # processing's appends

    pipeline.receive(Delivery("acme-retail", "https", _po(state, 6)), ACTOR)
    state.close()
    assert read_anchor(anchor_path(state.settings.var_dir)).seq == _head_seq(state)
    report = verify_with_anchor(state.db, state.signer, anchor_path(state.settings.var_dir))
    assert report.ok and report.anchor_seq == report.head_seq, report


def test_verify_route_uses_the_anchor_file(build_state: Callable[..., GatewayState]) -> None:
    """GET /v1/ledger/verify checks the ledger against the var directory's anchor file: a
    cut tail the chain alone accepts is reported there."""
    state = build_state(ledger_checkpoint_every=EVERY)
    with state.db.transaction() as session:
        viewer = issue_key(session, "ops", role="viewer")[0]
    _fill(state.db, state.ledger, 8)
    state.ledger.close()  # what shutdown does: anchor the head
    app = create_app(state.settings, state=state, start_workers=False)
    with TestClient(app) as client:
        def verify() -> dict[str, object]:
            response = client.get("/v1/ledger/verify",
                                  headers={"Authorization": f"Bearer {viewer}"})
            assert response.status_code == 200
            body: dict[str, object] = response.json()
            return body

        assert verify()["ok"] is True and verify()["anchor_seq"] == _head_seq(state)
        with state.db.transaction() as session:
            _cut(session, 5, next_checkpoint=10)
        assert verify_ledger(state.db, state.signer).ok
        body = verify()
    assert body["ok"] is False and body["first_bad_seq"] == 6


def test_a_gateway_signs_its_head_at_shutdown(
        build_state: Callable[..., GatewayState]) -> None:
    """A gateway that appended signs a checkpoint of its head when it closes, so an edit
    of its newest entries is caught from the database alone (no anchor), at the head."""
    state = build_state(ledger_checkpoint_every=EVERY)
    _fill(state.db, state.ledger, 8)
    state.close()
    with state.db.read() as session:
        signed = session.scalars(select(LedgerCheckpoint.seq).order_by(
            LedgerCheckpoint.seq)).all()
    assert signed == [1, 5, 8]
    assert verify_ledger(state.db, state.signer).ok
    with state.db.transaction() as session:
        _rewrite(session, 7, "intruder")
    report = verify_ledger(state.db, state.signer)
    assert not report.ok and report.first_bad_seq == 8
    assert "checkpoint head mismatch" in (report.reason or "")


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    values = {
        "EDIGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "EDIGATE_VAR_DIR": str(tmp_path),
        "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "ledger.pem"),
        "EDIGATE_LEDGER_CHECKPOINT_EVERY": str(EVERY),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


def test_cli_verify_checks_the_anchor(cli_env: Settings, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`ledger verify` uses the default anchor file (and says so), `--anchor FILE` another
    one; both exit 1 and name the first missing entry after the tail was cut, and a
    missing --anchor file fails with its name."""
    assert main(["db", "upgrade"]) == 0
    for _ in range(7):  # each CLI command appends, and anchors the head as it exits
        main(["ops", "issue-key", "--role", "viewer"])
    capsys.readouterr()
    default = anchor_path(tmp_path)
    assert read_anchor(default).seq == 7
    copy = tmp_path / "copy.json"
    copy.write_bytes(default.read_bytes())

    assert main(["ledger", "verify"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["anchor_seq"] == 7 and str(default) in err

    state = GatewayState.build(cli_env)
    try:
        with state.db.transaction() as session:
            _cut(session, 5, next_checkpoint=10)
    finally:
        state.close()
    default.unlink()  # the anchor elsewhere still catches it
    assert main(["ledger", "verify"]) == 0  # the chain alone
    capsys.readouterr()
    assert main(["ledger", "verify", "--anchor", str(copy)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["first_bad_seq"] == 6 and "entries 6..7 are missing" in report["reason"]
    assert report["anchor_file"] == str(copy)
    assert main(["ledger", "verify", "--anchor", str(tmp_path / "none.json")]) == 1
    assert "none.json does not exist" in json.loads(capsys.readouterr().out)["reason"]
