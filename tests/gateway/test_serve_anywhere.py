"""``edigate serve`` started from a folder of its own, as an operator would: partner
profiles in ``./partners`` (the default ``EDIGATE_PARTNERS_DIR``), database and keys under
``./var``. Its worker and intake writer processes must start the same way as from the
repository, and a worker that cannot start must show in ``/readyz`` and in the log.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from gateway.runtime import workers as workers_module
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.workers import WorkerProcesses

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _edigate() -> list[str]:
    """The installed console script (no working directory on its sys.path, like an
    operator's ``edigate``), else the module run the same way."""
    script = Path(sys.executable).with_name("edigate")
    return [str(script)] if script.exists() else [sys.executable, "-P", "-m", "gateway.runtime.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder holding ``partners/`` with the demo profiles. Under an editable install
    the TOML files alone shadow the ``partners`` package for a child run with the working
    directory on sys.path (a namespace package found before the editable finder); the
    ``__init__.py`` makes the same happen under any install, so that this test fails
    without the fix wherever it runs."""
    (tmp_path / "partners").mkdir()
    for profile in (REPO / "partners").glob("*.toml"):
        shutil.copy(profile, tmp_path / "partners" / profile.name)
    shutil.copytree(REPO / "partners" / "guides", tmp_path / "partners" / "guides")
    (tmp_path / "partners" / "__init__.py").write_text(
        'raise ImportError("the partners folder of the working directory was imported")\n')
    return tmp_path


@pytest.fixture
def env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update({"EDIGATE_WORKERS": "1", "EDIGATE_READYZ_MIN_FREE_BYTES": "0"})
    return env


@pytest.fixture
def served(site: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    for argv in (["db", "upgrade"],):
        done = subprocess.run([*_edigate(), *argv], cwd=site, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    with (site / "serve.log").open("wb") as log:
        proc = subprocess.Popen([*_edigate(), "serve", "--port", str(port)], cwd=site, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (site / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not answer /healthz in 30 s"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _until(check: object, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} within {seconds} s:\n{log.read_text()}"
        time.sleep(0.2)


def test_serve_from_a_folder_holding_partners_processes_and_reports_broken_workers(
        site: Path, env: dict[str, str],
        served: tuple[str, subprocess.Popen[bytes]]) -> None:
    """A message posted to a gateway served from a folder holding ``partners/`` is
    processed (not only stored) and ``/readyz`` is ready. Then a partner file is broken
    and the worker process killed: its restarts fail, the log says so as an error with
    the located problem, and ``/readyz`` answers 503 "workers failing to start"."""
    base, proc = served
    log = site / "serve.log"
    key = subprocess.run([*_edigate(), "partners", "issue-key", "acme-retail"], cwd=site,
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    partner_key = key.stdout.strip().splitlines()[-1]
    ops_key = subprocess.run([*_edigate(), "ops", "issue-key", "--role", "viewer"], cwd=site,
                             env=env, capture_output=True, text=True, timeout=60,
                             check=True).stdout.strip().splitlines()[-1]
    body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", Settings(), 4711)
    posted = httpx.post(f"{base}/v1/messages", content=body, timeout=30,
                        headers={"Authorization": f"Bearer {partner_key}"})
    assert posted.status_code == 202, posted.text
    message = f"{base}/v1/messages/{posted.json()['message_id']}"
    ops = {"Authorization": f"Bearer {ops_key}"}

    def processed() -> bool:
        return httpx.get(message, headers=ops, timeout=10).json()["status"] == "PROCESSED"

    _until(processed, 120, "the message was not processed", log)
    assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200

    (site / "partners" / "zz-broken.toml").write_text('id = "broken"\nname = \n')
    workers = [c for c in psutil.Process(proc.pid).children()
               if "worker" in " ".join(c.cmdline())]
    assert len(workers) == 1, [c.cmdline() for c in psutil.Process(proc.pid).children()]
    workers[0].kill()

    def not_ready() -> bool:
        answer = httpx.get(f"{base}/readyz", timeout=10)
        return answer.status_code == 503 and answer.json().get("reason") == \
            "workers failing to start"

    _until(not_ready, 120, "/readyz did not report the failing worker", log)
    text = log.read_text()
    assert "starts in a row failed" in text, text  # logged as an error: the test below
    assert "zz-broken.toml: is not valid TOML" in text and "line 2" in text, text
    assert "Traceback" not in text, text


def test_a_worker_that_keeps_exiting_at_start_is_an_error_and_failing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Each exit is logged at ERROR; after FAILED_STARTS exits in a row, each within
    STARTUP_SECONDS of its start, ``failing()`` names the reason /readyz gives. A worker
    that stays up is not failing."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", var_dir=tmp_path,
                        partners_dir=REPO / "partners", worker_nice=0)
    broken = WorkerProcesses(settings, 1, restart_backoff=0.05,
                             command=[sys.executable, "-c", "raise SystemExit(2)"])
    steady = WorkerProcesses(settings, 1, restart_backoff=0.05,
                             command=[sys.executable, "-c", "import time; time.sleep(60)"])
    caplog.set_level("ERROR", logger="edigate.workers")
    broken.start()
    steady.start()
    try:
        deadline = time.monotonic() + 30
        while broken.failing() is None:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.1)
        assert broken.failing() == "workers failing to start"
        assert steady.failing() is None
    finally:
        broken.shutdown(timeout=5)
        steady.shutdown(timeout=5)
    failed = [r for r in caplog.records if "starts in a row failed" in r.getMessage()]
    assert failed and all(r.levelname == "ERROR" for r in failed)
    assert workers_module.FAILED_STARTS >= 2  # one crash alone is not "keeps failing"
