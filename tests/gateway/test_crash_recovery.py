"""Real servers under load: kill -9 mid-load, restart, and nothing acknowledged is lost.

Each case runs ``edigate serve`` (uvicorn) in subprocesses on one database, posts distinct
850s from several client threads, kills a server with SIGKILL while messages are in flight,
restarts or carries on, and then checks from the database itself: every message that got a
2xx is PROCESSED exactly once, has exactly one record in the feed, and the ledger verifies.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from gateway.ledger.chain import LedgerEntry
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.store.models import Message, MessageStatus, RecordRow

REPO = Path(__file__).resolve().parents[2]
CONTROL_BASE = 700_000_000
WAITING = (MessageStatus.RECEIVED, MessageStatus.PROCESSING)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _gateway_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update({
        "EDIGATE_DATABASE_URL": database_url,
        "EDIGATE_PARTNERS_DIR": str(REPO / "partners"),
        "EDIGATE_VAR_DIR": str(tmp_path / "var"),
        "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "ledger-ed25519.pem"),
        "EDIGATE_LEASE_SECONDS": "2",
        "EDIGATE_WORKERS": "2",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def _cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.runtime.cli", *argv], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


def _issue(env: dict[str, str], *argv: str) -> str:
    done = _cli(env, *argv)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1].strip()


@dataclass
class Server:
    """One ``edigate serve`` subprocess with its output in a log file."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"--- start {self.name} on port {self.port}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.runtime.cli", "serve", "--port", str(self.port)],
                env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} not ready on port {self.port} within 30 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def tail(self, chars: int = 6000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-chars:]


@contextmanager
def running(*servers: Server) -> Iterator[None]:
    """Always kill the servers; show their logs when the block fails."""
    try:
        yield
    except BaseException:
        for server in servers:
            print(f"===== {server.name} log ({server.log}) =====\n{server.tail()}")
        raise
    finally:
        for server in servers:
            server.kill()


@dataclass
class Poster:
    """Posts 850s with distinct control numbers and remembers which ones got a 2xx."""

    settings: Settings
    partner_key: str
    acked: dict[int, str] = field(default_factory=dict)  # control -> message id
    failed: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    first_acks: threading.Event = field(default_factory=threading.Event)
    kill_after: int = 0

    def post(self, base: str, control: int) -> None:
        body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", self.settings,
                                CONTROL_BASE + control)
        params = {"sync": "true"} if control % 4 == 0 else {}
        try:
            response = httpx.post(f"{base}/v1/messages", content=body, params=params,
                                  headers={"Authorization": f"Bearer {self.partner_key}"},
                                  timeout=30)
        except httpx.HTTPError:
            with self.lock:
                self.failed.add(control)
            return
        with self.lock:
            if 200 <= response.status_code < 300:
                self.acked[control] = response.json()["message_id"]
                self.failed.discard(control)
                if self.kill_after and len(self.acked) >= self.kill_after:
                    self.first_acks.set()
            else:
                self.failed.add(control)

    def post_all(self, jobs: list[tuple[str, int]], threads: int = 8) -> None:
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(self.post, base, control) for base, control in jobs]:
                future.result()


def _waiting(db: Engine) -> int:
    with Session(db) as s:
        return int(s.scalar(select(func.count()).select_from(Message)
                            .where(Message.status.in_(WAITING))) or 0)


def _kill_while_busy(server: Server, db: Engine, poster: Poster) -> None:
    """SIGKILL the server once enough posts got a 2xx and some message is still waiting."""
    assert poster.first_acks.wait(60), "too few posts got a 2xx before the kill"
    deadline = time.monotonic() + 20
    while _waiting(db) == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    server.kill()


def _wait_until_done(db: Engine, expected: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with Session(db) as s:
            counts = dict(s.execute(select(Message.status, func.count())
                                    .group_by(Message.status)).all())
        if not any(counts.get(w) for w in WAITING) and sum(counts.values()) >= expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"messages still waiting after {seconds} s: {counts}")


def _assert_exactly_once(db: Engine, poster: Poster, expected: int, ops_key: str,
                         base: str) -> list[str]:
    """Every acknowledged message is PROCESSED once, with one record; returns PROCESSED actors."""
    ids = set(poster.acked.values())
    assert len(ids) == len(poster.acked) == expected
    with Session(db) as s:
        messages = {m.id: m for m in s.scalars(select(Message))}
        assert set(messages) == ids, "a message row without a 2xx, or a 2xx without a row"
        for control, message_id in poster.acked.items():
            message = messages[message_id]
            assert message.interchange_control == str(CONTROL_BASE + control)
            assert message.status == MessageStatus.PROCESSED, (message_id, message.error)
            assert message.locked_by is None
        events = s.execute(select(LedgerEntry.message_id, LedgerEntry.event, LedgerEntry.actor)
                           .where(LedgerEntry.message_id.is_not(None))).all()
        records = s.execute(select(RecordRow.message_id, func.count())
                            .group_by(RecordRow.message_id)).all()
    for event in ("RECEIVED", "TRANSLATED", "ACK_BUILT", "PROCESSED"):
        per_message: dict[str, int] = {}
        for message_id, name, _ in events:
            if name == event:
                per_message[message_id] = per_message.get(message_id, 0) + 1
        assert per_message == dict.fromkeys(ids, 1), f"{event} not exactly once per message"
    assert dict(records) == dict.fromkeys(ids, 1), "not exactly one record per message"
    # The records feed (what consumers read) carries each of them exactly once.
    fed: list[str] = []
    cursor = "0"
    with httpx.Client(base_url=base, timeout=30,
                      headers={"Authorization": f"Bearer {ops_key}"}) as client:
        while True:
            page = client.get("/v1/records", params={"after": cursor, "limit": 1000})
            assert page.status_code == 200, page.text
            items = page.json()["items"]
            if not items:
                break
            fed += [item["message_id"] for item in items]
            cursor = page.json()["next_cursor"]
    assert sorted(fed) == sorted(ids)
    return [actor for _, name, actor in events if name == "PROCESSED"]


def _assert_ledger_verifies(env: dict[str, str]) -> None:
    done = _cli(env, "ledger", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is True


def test_kill_9_mid_load_then_restart_loses_nothing_and_processes_once(
        database_url: str, tmp_path: Path) -> None:
    """A server killed with SIGKILL while messages wait is restarted; every message that got
    a 2xx (before or after, resends included) ends PROCESSED once with one record, and the
    ledger verifies."""
    env = _gateway_env(database_url, tmp_path)
    upgraded = _cli(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    partner_key = _issue(env, "partners", "issue-key", "acme-retail")
    ops_key = _issue(env, "ops", "issue-key", "--role", "operator")
    total, first_wave = 150, 100
    poster = Poster(Settings.from_env(env), partner_key, kill_after=first_wave // 2)
    # Plain reads (no BEGIN IMMEDIATE on SQLite), so watching does not hold up the server.
    db = create_engine(database_url)
    server = Server("gateway", env, tmp_path / "gateway.log")
    try:
        with running(server):
            server.start()
            loader = threading.Thread(target=poster.post_all,
                                      args=([(server.base, c) for c in range(first_wave)],))
            loader.start()
            _kill_while_busy(server, db, poster)
            loader.join(60)
            assert not loader.is_alive()
            # The database as the dead process left it: work was in flight.
            in_flight = _waiting(db)
            acked_before_kill = len(poster.acked)
            assert in_flight >= 1, "the kill came after all work was done; nothing was tested"
            assert poster.failed, "the kill came after the last post; nothing was tested"

            server.start()
            resend = sorted(poster.failed)  # what a partner does without a 2xx
            poster.post_all([(server.base, c) for c in resend + list(range(first_wave, total))])
            assert not poster.failed and len(poster.acked) == total
            _wait_until_done(db, total)
            _assert_exactly_once(db, poster, total, ops_key, server.base)
            server.kill()
            _assert_ledger_verifies(env)
            print(f"acked before kill {acked_before_kill}, waiting at kill {in_flight}, "
                  f"resent {len(resend)}")
    finally:
        db.dispose()


def test_two_processes_share_one_postgresql_and_survive_one_being_killed(
        database_url: str, tmp_path: Path) -> None:
    """Two servers on one PostgreSQL database take posts alternately; one is killed with
    SIGKILL mid-load and the other resumes its leased work: each message is PROCESSED exactly
    once, both processes did work, and the one ledger verifies."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several gateway processes on one database is a PostgreSQL setup "
                    "(SKIP LOCKED work queue); SQLite is one process")
    env_a = _gateway_env(database_url, tmp_path, EDIGATE_WORKER_ID="alpha")
    env_b = _gateway_env(database_url, tmp_path, EDIGATE_WORKER_ID="beta")
    upgraded = _cli(env_a, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    partner_key = _issue(env_a, "partners", "issue-key", "acme-retail")
    ops_key = _issue(env_a, "ops", "issue-key", "--role", "viewer")
    total, first_wave = 150, 100
    poster = Poster(Settings.from_env(env_a), partner_key, kill_after=(2 * first_wave) // 3)
    db = create_engine(database_url)
    alpha = Server("alpha", env_a, tmp_path / "alpha.log")
    beta = Server("beta", env_b, tmp_path / "beta.log")
    try:
        with running(alpha, beta):
            alpha.start()
            beta.start()
            jobs = [((alpha, beta)[c % 2].base, c) for c in range(first_wave)]
            loader = threading.Thread(target=poster.post_all, args=(jobs,))
            loader.start()
            _kill_while_busy(alpha, db, poster)
            loader.join(60)
            assert not loader.is_alive()
            # alpha's claims (worker id without a pid) wait for their 2 s lease; beta
            # resumes them, and takes every post from now on.
            resend = sorted(poster.failed)
            poster.post_all([(beta.base, c) for c in resend + list(range(first_wave, total))])
            assert not poster.failed and len(poster.acked) == total
            _wait_until_done(db, total)
            actors = _assert_exactly_once(db, poster, total, ops_key, beta.base)
            # Worker processes of a named server are "<name>.w<n>".
            by_process = {actor.split(":")[1].split(".")[0] for actor in actors}
            assert by_process == {"alpha", "beta"}, actors
            beta.kill()
            _assert_ledger_verifies(env_a)
            print(f"resent {len(resend)}; PROCESSED by alpha "
                  f"{sum(a.split(':')[1].startswith('alpha') for a in actors)}, by beta "
                  f"{sum(a.split(':')[1].startswith('beta') for a in actors)}")
    finally:
        db.dispose()
