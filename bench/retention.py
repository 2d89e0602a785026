"""Retention at scale: fill N messages (bench/message_log.py's ``fill``), then purge what
is due while a thread keeps writing intake batches, and print the intake batches' p50/p99
commit times without and during the purge and the purge's peak RSS.

    python bench/retention.py --messages 100000
    python bench/retention.py --messages 1000000 --url postgresql://postgres@127.0.0.1:5432/test

The filled messages spread over 90 days; the policy ``processed=30,rejected=10,failed=10``
makes about two thirds of them due. The intake thread writes what intake's group commit
writes per message (payload, message row, search terms) in one transaction per batch,
on a connection of its own; it is the database-side stall being measured, not the HTTP
path. The purge runs in a child process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.message_log import _MESSAGES, _PAYLOADS, _url, fill  # noqa: E402

# The benchmark measures the gateway's own store: the dependency rule is for the packages.
from gateway.ledger.chain import Ledger, LedgerSigner  # noqa: E402, TID251
from gateway.retention import purge  # noqa: E402, TID251
from gateway.retention.policy import RetentionPolicy  # noqa: E402, TID251
from gateway.store.db import Database  # noqa: E402, TID251
from gateway.store.search import INSERT_TERMS, term_rows  # noqa: E402, TID251

POLICY = {"processed": 30, "rejected": 10, "failed": 10}


def _intake(url: str, stop: threading.Event, batch: int, timings: list[float]) -> None:
    # The gateway's engine options (SQLite: WAL, busy timeout, BEGIN IMMEDIATE).
    database = Database(url)
    engine = database.engine
    n = 0
    while not stop.is_set():
        now = datetime.now(UTC)
        payloads, messages, terms = [], [], []
        for _ in range(batch):
            n += 1
            key = uuid.uuid4()
            sha = f"{key.int:064x}"
            message_id = str(key)
            payloads.append({"sha256": sha, "size": 1, "data": b"~", "created_at": now})
            messages.append({
                "id": message_id, "partner_id": "partner-intake", "direction": "inbound",
                "transport": "https", "standard": "x12", "status": "RECEIVED",
                "payload_sha256": sha, "size": 1, "received_at": now, "updated_at": now,
                "interchange_sender": "ZZ:INTAKE", "interchange_receiver": "ZZ:EDIGATE",
                "interchange_control": str(key.int % 10**20), "attempts": 0})
            terms += term_rows(message_id, now, f"{n:09d}")
        started = time.perf_counter()
        with engine.begin() as c:
            _PAYLOADS.execute(c, payloads)
            _MESSAGES.execute(c, messages)
            INSERT_TERMS.execute(c, terms)
        timings.append((time.perf_counter() - started) * 1000)
        stop.wait(0.02)
    database.dispose()


def _purge(url: str, folder: str, batch: int, out: Any) -> None:
    db = Database(url)
    ledger = Ledger(LedgerSigner.generate(), 100)
    started = time.perf_counter()
    report = purge.run(db, ledger, RetentionPolicy(POLICY), Path(folder),
                       now=datetime.now(UTC), actor="bench", batch=batch)
    out.send((report.purged, time.perf_counter() - started,
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    db.dispose()


def _measure(url: str, seconds: float, batch: int) -> list[float]:
    stop, timings = threading.Event(), list[float]()
    thread = threading.Thread(target=_intake, args=(url, stop, batch, timings))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    return timings


def _line(name: str, timings: list[float]) -> str:
    q = statistics.quantiles(timings, n=100) if len(timings) > 1 else [timings[0]] * 99
    return (f"{name:<24} batches {len(timings):>6}  p50 {q[49]:7.2f} ms  "
            f"p99 {q[98]:7.2f} ms  max {max(timings):7.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=f"sqlite:///{ROOT / 'bench/out/retention.db'}")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000, help="messages per purge batch")
    parser.add_argument("--intake-batch", type=int, default=50)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    args = parser.parse_args()
    url = _url(args.url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    fill(url, args.messages, args.partners)
    Database(url).dispose()  # WAL on from here (the gateway's engine options)
    baseline = _measure(url, args.baseline_seconds, args.intake_batch)
    stop, during = threading.Event(), list[float]()
    thread = threading.Thread(target=_intake, args=(url, stop, args.intake_batch, during))
    with tempfile.TemporaryDirectory() as folder:
        receiver, sender = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("spawn").Process(
            target=_purge, args=(url, folder, args.batch, sender))
        thread.start()
        child.start()
        purged, seconds, rss_kb = receiver.recv()
        child.join()
        stop.set()
        thread.join()
    print(f"\n{args.messages} messages, purge batch {args.batch}: purged {purged} in "
          f"{seconds:.1f} s ({purged / seconds:.0f}/s), purge peak RSS {rss_kb / 1024:.0f} MiB")
    print(_line("intake without purge", baseline))
    print(_line("intake during purge", during))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
