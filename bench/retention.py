"""Retention at scale: fill N messages (bench/message_log.py's ``fill``), then purge what
is due while intake keeps storing messages, and print intake's p50/p99 without and during
the purge, the purge's peak RSS, and what its archive holds against what it deleted.

    python bench/retention.py --messages 100000
    python bench/retention.py --messages 1000000 --url postgresql://postgres@127.0.0.1:5432/test

The filled messages spread over 90 days, each with what processing stores beside it (a
record, an acknowledgment, an AS2 row for half of them: ``_fill_children``); the policy
``processed=30,rejected=10,failed=10`` makes about two thirds of them due. Intake is the
gateway's own group commit (``IntakeWriter``: payload, message row, search terms,
dashboard counts and the RECEIVED ledger entries under the ledger head lock, which each
purge batch takes too), fed bursts of ``--intake-batch`` messages; an intake time is a
burst's, from its submission until its last message is stored. It is the database-side
stall being measured, not the HTTP path. The purge runs in a child process, so its peak
RSS is its own. Afterwards the archive is read back: the message ids its batches name
and its rows per table, against the purge's counts of what it deleted. On PostgreSQL the
tables live in schema ``bench_retention`` (dropped and re-created).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, case, create_engine, func, insert, literal, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import message_log  # noqa: E402

# The benchmark measures the gateway's own store: the dependency rule is for the packages.
from gateway.intake.group_commit import IntakeWriter, Pending  # noqa: E402, TID251
from gateway.ledger.chain import Ledger, LedgerSigner  # noqa: E402, TID251
from gateway.retention import purge  # noqa: E402, TID251
from gateway.retention.policy import RetentionPolicy  # noqa: E402, TID251
from gateway.store.as2 import AS2Message  # noqa: E402, TID251
from gateway.store.db import Database  # noqa: E402, TID251
from gateway.store.models import Acknowledgment, Message, RecordRow  # noqa: E402, TID251
from gateway.store.rollups import rebuild as rebuild_rollups  # noqa: E402, TID251

SCHEMA = "bench_retention"
POLICY = {"processed": 30, "rejected": 10, "failed": 10}
KINDS = {"850": "purchase_order", "855": "order_response", "856": "ship_notice",
         "860": "purchase_order_change", "810": "invoice"}


def _fill_children(c: Connection) -> None:
    """What processing stores beside each filled message, derived from its row in SQL:
    a record per processed message, an acknowledgment per final one, and for messages
    that came over AS2 their AS2 row, the raw request being the payload itself."""
    m = Message.__table__.c
    kind = case(*((m.transaction_types == t, literal(k)) for t, k in KINDS.items()),
                else_=literal("purchase_order"))
    c.execute(insert(RecordRow).from_select(
        ["id", "message_id", "partner_id", "kind", "standard", "transaction_type",
         "transaction_control", "business_number", "status", "data", "created_at"],
        select(func.replace(m.id, "-8000-", "-8001-"), m.id, m.partner_id, kind, m.standard,
               m.transaction_types, literal("0001"), m.interchange_control, literal("A"),
               literal('{"kind":"record"}'), m.received_at)
        .where(m.status == "PROCESSED").order_by(m.received_at)))
    c.execute(insert(Acknowledgment).from_select(
        ["id", "message_id", "kind", "control_number", "content", "created_at"],
        select(func.replace(m.id, "-8000-", "-8002-"), m.id, literal("997"),
               m.interchange_control, literal("ISA*00*...*997~"), m.received_at)
        .where(m.status.in_(("PROCESSED", "REJECTED"))).order_by(m.received_at)))
    c.execute(insert(AS2Message).from_select(
        ["id", "direction", "partner_id", "as2_message_id", "message_id", "status", "kind",
         "raw_sha256", "mic", "mdn_mode", "mdn_status", "attempts", "created_at",
         "updated_at"],
        select(func.replace(m.id, "-8000-", "-8003-"), literal("in"), m.partner_id,
               m.id, m.id, literal("received"), literal("document"), m.payload_sha256,
               literal("bWlj, sha-256"), literal("sync"), literal("sent"), literal(0),
               m.received_at, m.received_at)
        .where(m.transport == "as2").order_by(m.received_at)))


_CONTROLS = itertools.count(1)


def _intake(url: str, stop: threading.Event, burst: int,
            timings: list[tuple[float, float]]) -> None:
    """Store bursts of ``burst`` new messages until ``stop``: (start, milliseconds) each."""
    database = Database(url)
    writer = IntakeWriter(database, Ledger(LedgerSigner.generate(), 1000))
    while not stop.is_set():
        items = []
        for _ in range(burst):
            control = f"{next(_CONTROLS):09d}"
            body = f"ISA*INTAKE*{control}~".encode()
            items.append(Pending("partner-intake", "https", "x12", body,
                                 hashlib.sha256(body).hexdigest(), "ZZ:INTAKE",
                                 "ZZ:EDIGATE", control, "bench", {}))
        started = time.perf_counter()
        for future in [writer.submit(item) for item in items]:
            future.result()
        timings.append((started, (time.perf_counter() - started) * 1000))
        stop.wait(0.02)
    writer.close()
    database.dispose()


def _peak_rss_kib() -> int:
    """This process's peak RSS. Linux's ``VmHWM``, not ``ru_maxrss``: a child started by
    exec keeps the parent's ``ru_maxrss``, and the parent holds the filled batches."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _purge(url: str, folder: str, batch: int, out: Any) -> None:
    db = Database(url)
    ledger = Ledger(LedgerSigner.generate(), 1000)
    started = time.perf_counter()
    report = purge.run(db, ledger, RetentionPolicy(POLICY), Path(folder),
                       now=datetime.now(UTC), actor="bench", batch=batch)
    out.send((report.as_dict(), time.perf_counter() - started, _peak_rss_kib()))
    db.dispose()


def _archived(path: Path) -> tuple[int, Counter[str]]:
    """How many message ids the archive's batches name, and its rows per table."""
    ids, rows = 0, Counter[str]()
    prefix = '{"table":"'
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith(prefix):
                rows[line[len(prefix):line.index('"', len(prefix))]] += 1
            elif line.startswith('{"batch"'):
                ids += len(json.loads(line)["message_ids"])
    return ids, rows


def _measure(url: str, seconds: float, burst: int) -> list[tuple[float, float]]:
    stop, timings = threading.Event(), list[tuple[float, float]]()
    thread = threading.Thread(target=_intake, args=(url, stop, burst, timings))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    return timings


def _line(name: str, bursts: list[tuple[float, float]]) -> str:
    timings = [ms for _, ms in bursts]
    if not timings:
        return f"{name:<24} bursts      0"
    q = (statistics.quantiles(timings, n=100, method="inclusive") if len(timings) > 1
         else [timings[0]] * 99)
    return (f"{name:<24} bursts {len(timings):>6}  p50 {q[49]:7.2f} ms  "
            f"p99 {q[98]:7.2f} ms  max {max(timings):7.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=f"sqlite:///{ROOT / 'bench/out/retention.db'}")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000, help="messages per purge batch")
    parser.add_argument("--intake-batch", type=int, default=50, help="messages per burst")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    args = parser.parse_args()
    message_log.SCHEMA = SCHEMA
    url = message_log._url(args.url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    message_log.fill(url, args.messages, args.partners)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as c:
        _fill_children(c)
        rebuild_rollups(c)  # the filler writes message rows directly: count them
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    with engine.connect() as c:
        counts = {t.name: c.scalar(select(func.count()).select_from(t)) for t in (
            RecordRow.__table__, Acknowledgment.__table__, AS2Message.__table__)}
    print(f"added {counts} in {time.perf_counter() - started:.1f} s")
    Database(url).dispose()  # WAL on from here (the gateway's engine options)
    baseline = _measure(url, args.baseline_seconds, args.intake_batch)
    stop, during = threading.Event(), list[tuple[float, float]]()
    thread = threading.Thread(target=_intake, args=(url, stop, args.intake_batch, during))
    with tempfile.TemporaryDirectory() as folder:
        receiver, sender = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("spawn").Process(
            target=_purge, args=(url, folder, args.batch, sender))
        thread.start()
        child.start()
        # The purge writes the whole archive, then deletes: the archive's final name
        # appears between the two.
        while child.is_alive() and not any(Path(folder).glob("*.jsonl.gz")):
            time.sleep(0.1)
        deleting = time.perf_counter()
        report, seconds, rss_kb = receiver.recv()
        finished = time.perf_counter()
        child.join()
        stop.set()
        thread.join()
        archived, archived_rows = _archived(Path(report["archive"]))
        archive_mib = Path(report["archive"]).stat().st_size / 2**20
    with engine.connect() as c:
        left = c.scalar(select(func.count()).select_from(Message))
        taken_in = c.scalar(select(func.count()).select_from(Message).where(
            Message.partner_id == "partner-intake"))
    engine.dispose()
    purged = report["purged"]
    print(f"\n{args.messages} messages, purge batch {args.batch}: purged {purged} "
          f"(due {report['due']}, skipped {report['skipped']}) in {seconds:.1f} s "
          f"({purged / seconds:.0f}/s; deleting the last {finished - deleting:.1f} s), "
          f"purge peak RSS {rss_kb / 1024:.0f} MiB")
    print(f"archive {archive_mib:.1f} MiB: {archived} message ids; rows archived / deleted: "
          + ", ".join(f"{name} {archived_rows[name]}/{report['rows'].get(name, 0)}"
                      for name in sorted(archived_rows)))
    print(f"messages left {left} = filled {args.messages} - purged {purged} "
          f"+ taken in {taken_in}: {'yes' if left == args.messages - purged + taken_in else 'NO'}")
    print(_line("intake without purge", baseline))
    print(_line("intake during purge", during))
    print(_line("  while archiving", [b for b in during if b[0] < deleting]))
    print(_line("  while deleting", [b for b in during if b[0] >= deleting]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
