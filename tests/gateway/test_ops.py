"""Operations endpoints: /readyz fails (503, a generic reason, details in the log only)
when the database cannot take writes or its disk is full or the ledger head is off, and
/metrics needs an ops key or lives on a listener of its own."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from gateway.api.api_keys import issue_key
from gateway.ledger.chain import LedgerHead
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.metrics import MetricsServer
from gateway.runtime.state import GatewayState
from gateway.store.health import ReadinessHeartbeat

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Ops:
    client: TestClient
    state: GatewayState
    keys: dict[str, str]

    def get(self, url: str, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return self.client.get(url, headers=headers)


@pytest.fixture
def make_ops(build_state: Callable[..., GatewayState]) -> Iterator[Callable[..., Ops]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Ops:
        state = build_state(**overrides)
        keys: dict[str, str] = {}
        with state.db.transaction() as session:
            keys["acme"] = issue_key(session, "partner", partner_id="acme-retail")[0]
            keys["crm"] = issue_key(session, "consumer", scope="crm")[0]
            keys["viewer"] = issue_key(session, "ops", role="viewer")[0]
        client = TestClient(create_app(state.settings, state=state, start_workers=False))
        client.__enter__()
        clients.append(client)
        return Ops(client, state, keys)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def make_read_only(state: GatewayState) -> None:
    """Every new connection may read but not write: SQLite's query_only, PostgreSQL's
    default_transaction_read_only (what a read-only replica or a file mounted read-only
    gives); the pool is emptied so that no writable connection is left."""
    sqlite = state.db.dialect.name == "sqlite"

    @event.listens_for(state.db.engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if sqlite:
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
        cursor.close()
        if not sqlite:
            dbapi_connection.commit()

    state.db.engine.dispose()


def assert_not_ready(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": reason}
    assert int(response.headers["retry-after"]) > 0


def test_readyz_is_ready_and_writes_a_heartbeat(make_ops: Callable[..., Ops]) -> None:
    """A healthy gateway is ready, and the probe has committed its heartbeat row."""
    ops = make_ops()
    response = ops.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ready"}
    with ops.state.db.read() as session:
        beat = session.scalars(select(ReadinessHeartbeat)).one()
    assert beat.beat_by == ops.state.settings.worker_id


def test_readyz_fails_when_the_database_is_read_only(
        make_ops: Callable[..., Ops], caplog: pytest.LogCaptureFixture) -> None:
    """A database that answers reads but refuses writes is not ready: 503 with the generic
    reason 'database not writable'; the driver's words are in the log only."""
    ops = make_ops()
    assert ops.get("/readyz").status_code == 200
    make_read_only(ops.state)
    with caplog.at_level(logging.WARNING, logger="edigate"):
        response = ops.get("/readyz")
    assert_not_ready(response, "database not writable")
    assert any("read" in r.getMessage().lower() and "only" in r.getMessage().lower()
               for r in caplog.records if r.name.startswith("edigate"))


def test_readyz_fails_when_the_sqlite_disk_is_full(make_ops: Callable[..., Ops]) -> None:
    """Less free space beside the SQLite file than readyz_min_free_bytes is not ready."""
    ops = make_ops(readyz_min_free_bytes=2**62)
    if ops.state.db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL reports a full disk as a failed write, not by free space")
    assert_not_ready(ops.get("/readyz"), "database disk full")


def test_readyz_ledger_mismatch_has_a_generic_reason(make_ops: Callable[..., Ops]) -> None:
    """A ledger head that does not match its newest entry is 'ledger head mismatch',
    without the head's sequence number or hash."""
    ops = make_ops()
    with ops.state.db.transaction() as session:
        ops.state.ledger.append(session, event="TEST", actor="test", details={})
    assert ops.get("/readyz").status_code == 200
    with ops.state.db.transaction() as session:
        session.execute(update(LedgerHead).values(seq=LedgerHead.seq + 5))
    response = ops.get("/readyz")
    assert_not_ready(response, "ledger head mismatch")
    assert "seq" not in response.text


def test_metrics_needs_an_ops_key(make_ops: Callable[..., Ops]) -> None:
    """/metrics names partners: no key is 401, partner and consumer keys are 403, a
    viewer's key sees the counters."""
    ops = make_ops()
    edi = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401",
                           ops.state.settings, 101)
    posted = ops.client.post("/v1/messages", content=edi,
                             headers={"Authorization": f"Bearer {ops.keys['acme']}"})
    assert posted.status_code == 202
    assert ops.get("/metrics").status_code == 401
    assert ops.get("/metrics", "acme").status_code == 403
    assert ops.get("/metrics", "crm").status_code == 403
    response = ops.get("/metrics", "viewer")
    assert response.status_code == 200
    assert 'edigate_messages_received_total{partner="acme-retail",transport="https"} 1.0' \
        in response.text


def test_metrics_bind_serves_them_apart(make_ops: Callable[..., Ops]) -> None:
    """With metrics_bind the API's /metrics is 404 even for ops keys, and a listener of
    its own serves /metrics (and nothing else) without a key."""
    ops = make_ops(metrics_bind="127.0.0.1:0")
    assert ops.get("/metrics", "viewer").status_code == 404
    server = MetricsServer("127.0.0.1:0", ops.state.metrics.render)
    server.start()
    try:
        host, port = server.address
        with httpx.Client(base_url=f"http://{host}:{port}") as client:
            scraped = client.get("/metrics")
            assert scraped.status_code == 200
            assert "edigate_messages_received_total" in scraped.text
            assert client.get("/v1/messages").status_code == 404
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_metrics_bind(tmp_path: Path) -> None:
    """`edigate serve` with EDIGATE_METRICS_BIND serves /metrics on that address and not
    on the API's port."""
    api, scrape = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update({"EDIGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}",
                "EDIGATE_PARTNERS_DIR": str(REPO / "partners"),
                "EDIGATE_VAR_DIR": str(tmp_path), "EDIGATE_WORKERS": "0",
                "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "ledger.pem"),
                "EDIGATE_METRICS_BIND": f"127.0.0.1:{scrape}"})
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "gateway.runtime.cli", "serve",
                             "--port", str(api)],
                            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{api}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        scraped = httpx.get(f"http://127.0.0.1:{scrape}/metrics", timeout=5)
        assert scraped.status_code == 200 and "edigate_messages_total" in scraped.text
        assert httpx.get(f"http://127.0.0.1:{api}/metrics", timeout=5).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
