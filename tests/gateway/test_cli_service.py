"""The service commands of the CLI: db upgrade, partners, keys, worker, ledger verify."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gateway.api.api_keys import authenticate
from gateway.runtime.cli import main
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    values = {
        "EDIGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "EDIGATE_PARTNERS_DIR": str(REPO / "partners"),
        "EDIGATE_VAR_DIR": str(tmp_path),
        "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "ledger.pem"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_db_upgrade_then_keys_work(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """After `db upgrade`, issued keys authenticate with the right kind, scope and role,
    and issuing is recorded in the ledger, which then verifies."""
    assert run(capsys, "db", "upgrade")[0] == 0
    code, partner_key = run(capsys, "partners", "issue-key", "acme-retail")
    assert code == 0
    _, consumer_key = run(capsys, "consumers", "issue-key", "--scope", "scm")
    _, ops_key = run(capsys, "ops", "issue-key", "--role", "viewer")
    state = GatewayState.build(env)
    try:
        with state.db.transaction() as session:
            partner = authenticate(session, partner_key.strip())
            consumer = authenticate(session, consumer_key.strip())
            ops = authenticate(session, ops_key.strip())
    finally:
        state.close()
    assert partner is not None and partner.partner_id == "acme-retail"
    assert consumer is not None and consumer.scope == "scm"
    assert ops is not None and ops.role == "viewer"
    code, out = run(capsys, "ledger", "verify")
    assert code == 0 and json.loads(out)["count"] == 3


def test_issue_key_for_unknown_partner_fails(env: Settings,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A key cannot be issued for a partner that has no profile."""
    run(capsys, "db", "upgrade")
    with pytest.raises(SystemExit, match="no partner 'nobody'"):
        main(["partners", "issue-key", "nobody"])


def test_partners_list_shows_identities(env: Settings,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`partners list` prints each demo partner with its interchange identities."""
    code, out = run(capsys, "partners", "list")
    assert code == 0
    assert "acme-retail" in out and "x12 ZZ:ACMERETAIL" in out
    assert "initech-eu" in out and "edifact 5412345000013" in out


def test_ledger_verify_fails_on_tampering(env: Settings,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`ledger verify` exits 1 and names the entry when one was modified."""
    from sqlalchemy import update

    from gateway.ledger.chain import LedgerEntry

    run(capsys, "db", "upgrade")
    run(capsys, "ops", "issue-key", "--role", "viewer")
    run(capsys, "ops", "issue-key", "--role", "operator")
    state = GatewayState.build(env)
    try:
        with state.db.transaction() as session:
            session.execute(update(LedgerEntry).where(LedgerEntry.seq == 2)
                            .values(actor="someone-else"))
    finally:
        state.close()
    code, out = run(capsys, "ledger", "verify")
    assert code == 1 and json.loads(out)["first_bad_seq"] == 2


def test_demo_posts_traffic_and_prints_how_to_get_in(tmp_path: Path) -> None:
    """`edigate demo` (what `make run` serves) migrates, posts the background traffic with
    the outcomes the demo promises, and prints keys, commands and the UI login (what they
    answer: tests/gateway/test_first_hour.py)."""
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update({"EDIGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
                "EDIGATE_VAR_DIR": str(tmp_path / "var"),
                "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "var" / "ledger.pem"),
                "EDIGATE_PARTNERS_DIR": str(REPO / "partners"), "EDIGATE_WORKERS": "0"})
    done = subprocess.run([sys.executable, "-m", "gateway.runtime.cli", "demo", "--port",
                           str(port)],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    posted = [" ".join(line.split()[1:7]) for line in lines if line.startswith("posted")]
    assert posted == [
        "globex-856.x12 as globex-distribution: HTTP 200 PROCESSED",
        "globex-810.x12 as globex-distribution: HTTP 200 PROCESSED",
    ], done.stdout
    # Run from elsewhere, the samples are named by their absolute paths.
    assert f"@{REPO / 'samples' / 'acme-850.x12'} " in done.stdout
    assert any("ops UI:" in line and "user demo" in line for line in lines)


def test_retention_commands_hold_run_release_restore(
        env: Settings, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`retention hold` keeps a due message through `retention run`; released, the next
    run archives and purges it and `ledger verify` passes; `retention restore` brings it
    back, and refuses an archive without its manifest (exit 2, no traceback)."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from gateway.intake.pipeline import Delivery
    from gateway.runtime.demo import demo_interchange
    from gateway.store.base import utcnow
    from gateway.store.models import Message

    monkeypatch.setenv("EDIGATE_RETENTION", "rejected=10")
    run(capsys, "db", "upgrade")
    state = GatewayState.build(Settings.from_env())
    try:
        body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                                900, break_it=True)
        message_id = state.pipeline.receive(Delivery("acme-retail", "https", body),
                                            "test").message_id
        list(state.pipeline.drain("test"))
        old = utcnow() - timedelta(days=11)
        with state.db.transaction() as session:
            session.execute(update(Message).values(received_at=old, updated_at=old))
    finally:
        state.close()

    assert run(capsys, "retention", "hold", message_id, "--reason", "audit") == (
        0, f"message {message_id} held\n")
    code, out = run(capsys, "retention", "run")
    assert code == 0 and json.loads(out)["purged"] == 0
    assert run(capsys, "retention", "release", message_id)[0] == 0
    code, out = run(capsys, "retention", "run")
    report = json.loads(out)
    assert code == 0 and report["purged"] == 1 and report["rows"]["payloads"] == 1
    assert run(capsys, "ledger", "verify")[0] == 0

    code, out = run(capsys, "retention", "restore", report["archive"])
    assert code == 0 and json.loads(out)["restored"]["messages"] == 1
    state = GatewayState.build(Settings.from_env())
    try:
        with state.db.read() as session:
            assert list(session.scalars(select(Message.id))) == [message_id]
    finally:
        state.close()
    Path(report["archive"] + ".sha256").unlink()
    assert main(["retention", "restore", report["archive"]]) == 2
    assert "manifest is missing" in capsys.readouterr().err
