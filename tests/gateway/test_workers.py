"""Worker processes: they get the web process's settings, are restarted when they exit,
stop on shutdown, and die with a parent killed by SIGKILL (Linux)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.delivery.egress import EgressPolicy
from gateway.delivery.webhooks import create_webhook
from gateway.intake.pipeline import Delivery
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.runtime.workers import WorkerProcesses, WorkerThreads
from gateway.store.webhooks import Webhook, WebhookDelivery

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_settings_round_trip_through_the_environment(tmp_path: Path) -> None:
    """What a worker process reads back from EDIGATE_* equals the parent's settings."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", partners_dir=tmp_path,
                        lease_seconds=7.5, worker_nice=3, x12_id="01:123456789")
    assert Settings.from_env(settings.to_env()) == settings.model_copy(
        update={"worker_id": Settings.from_env(settings.to_env()).worker_id})


def test_children_get_settings_restart_and_stop(tmp_path: Path) -> None:
    """A child sees the parent's settings (not the parent's environment), an exited child
    is replaced, and shutdown stops them all."""
    out = tmp_path / "seen"
    script = textwrap.dedent(f"""
        import os, sys, time
        with open({str(out)!r}, "a") as f:
            f.write(os.environ.get("EDIGATE_DATABASE_URL", "?") + "\\n")
        if len(open({str(out)!r}).read().splitlines()) == 1:
            sys.exit(3)  # the first child exits at once: it must be restarted
        time.sleep(60)
    """)
    settings = Settings(database_url="sqlite:////nowhere/from-settings.db", worker_nice=0)
    workers = WorkerProcesses(settings, 1, restart_backoff=0.1,
                              command=[sys.executable, "-c", script])
    workers.start()
    try:
        assert _wait(lambda: out.exists() and len(out.read_text().splitlines()) == 2)
        assert out.read_text().splitlines() == ["sqlite:////nowhere/from-settings.db"] * 2
        child = workers.children[0]
        assert child.poll() is None
    finally:
        workers.shutdown(timeout=5)
    assert child.poll() is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_children_die_with_a_parent_killed_by_sigkill(tmp_path: Path) -> None:
    """kill -9 of the web process takes its worker processes with it (no orphan keeps
    processing with a stale view of the world)."""
    parent_script = textwrap.dedent("""
        import sys, time
        from gateway.runtime.settings import Settings
        from gateway.runtime.workers import WorkerProcesses
        w = WorkerProcesses(Settings(worker_nice=0), 2,
                            command=[sys.executable, "-c", "import time; time.sleep(60)"])
        w.start()
        print(" ".join(str(c.pid) for c in w.children), flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_script], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert _wait(lambda: not any(_alive(p) for p in pids)), "orphaned worker processes"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_worker_processes_run_niced(tmp_path: Path) -> None:
    """Worker processes get the configured nice increment: intake goes first under load."""
    out = tmp_path / "nice"
    script = (f"import os, time; open({str(out)!r}, 'w').write(str(os.nice(0))); "
              "time.sleep(30)")
    workers = WorkerProcesses(Settings(worker_nice=7), 1, command=[sys.executable, "-c", script])
    workers.start()
    try:
        assert _wait(lambda: out.exists() and out.read_text() != "")
        assert int(out.read_text()) == os.nice(0) + 7
    finally:
        workers.shutdown(timeout=5)


# -- outbound: a bounded pool with per-destination limits ------------------------------------

class _Endpoint:
    """A webhook receiver on 127.0.0.1; with ``hang`` each request is held until
    ``release`` is set. Counts requests and the most held at once."""

    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        self.holding = 0
        self.most_held = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests += 1
                    outer.holding += 1
                    outer.most_held = max(outer.most_held, outer.holding)
                try:
                    if outer.hang:
                        outer.release.wait(60)
                    self.send_response(204)
                    self.end_headers()
                finally:
                    with outer.lock:
                        outer.holding -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_hanging_webhook_holds_only_its_own_slots(
        build_state: Callable[..., GatewayState]) -> None:
    """Four deliveries to an endpoint that hangs, queued before one to a good endpoint:
    the good one is delivered while the hanging endpoint still holds exactly its
    per-destination limit (2) of the pool's threads, and no delivery is sent twice."""
    state = build_state(egress_allow="loopback", egress_pool_size=4,
                        egress_per_destination=2)
    hanging, good = _Endpoint(hang=True), _Endpoint(hang=False)

    def post(*controls: int) -> None:
        for control in controls:
            data = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401",
                                    state.settings, control)
            state.pipeline.receive(Delivery("acme-retail", "https", data), "test")
        assert sum(1 for _ in state.pipeline.drain("test")) == len(controls)

    def subscribe(url: str) -> None:
        with state.db.transaction() as session:
            create_webhook(session, state.ledger, url=url, kinds="purchase_order",
                           actor="test", policy=EgressPolicy.parse("loopback"))

    def statuses(url: str) -> list[str]:
        with state.db.read() as session:
            return list(session.scalars(
                select(WebhookDelivery.status).join(Webhook).where(Webhook.url == url)))

    workers = WorkerThreads(state, 1, deliverer_idle_seconds=0.05)
    try:
        subscribe(hanging.url)
        post(101, 102, 103)  # three deliveries, to the hanging endpoint only
        subscribe(good.url)
        post(104)  # one more to each
        workers.start()
        assert _wait(lambda: statuses(good.url) == ["delivered"], timeout=20), \
            "the good endpoint waited behind the hanging one"
        assert hanging.holding == 2 and hanging.most_held == 2 and hanging.requests == 2
        assert statuses(hanging.url).count("delivered") == 0
        hanging.release.set()
        assert _wait(lambda: statuses(hanging.url) == ["delivered"] * 4, timeout=20)
    finally:
        workers.shutdown()
        hanging.close()
        good.close()
    assert hanging.requests == 4 and good.requests == 1  # each delivery sent once
