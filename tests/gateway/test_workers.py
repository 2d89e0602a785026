"""Worker processes: they get the web process's settings, are restarted when they exit,
stop on shutdown, and die with a parent killed by SIGKILL (Linux)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.workers import WorkerProcesses

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
        from gateway.settings import Settings
        from gateway.workers import WorkerProcesses
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
