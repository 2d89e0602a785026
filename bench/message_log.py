"""Message log at scale: fill N synthetic messages (default 1 million) quickly, then time
the log's page queries (the ones the API and the ops UI run) with and without filters and
search, and print their query plans.

    python bench/message_log.py                       # SQLite under bench/out/
    python bench/message_log.py --url postgresql://postgres@127.0.0.1:5432/test
    python bench/message_log.py --reuse               # skip the fill when already filled

The schema comes from the Alembic migrations (as in production). Rows are written with
Core multi-row inserts (``gateway.store.bulk.MultiRowInsert``): payloads, messages and
their search terms, times spread over 90 days, a few percent rejected or failed. On
PostgreSQL the tables live in schema ``bench_message_log`` (dropped and re-created).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The benchmark measures the gateway's own store: the dependency rule is for the packages.
from gateway.store.bulk import MultiRowInsert  # noqa: E402, TID251
from gateway.store.migrate import upgrade  # noqa: E402, TID251
from gateway.store.models import Message, Payload  # noqa: E402, TID251
from gateway.store.search import (  # noqa: E402, TID251
    INSERT_TERMS,
    LogFilters,
    log_page_query,
    term_rows,
)

SCHEMA = "bench_message_log"
TYPES = ("850", "850", "850", "856", "810", "855", "860")
_MESSAGES = MultiRowInsert(Message.__table__, (  # type: ignore[arg-type]
    "id", "partner_id", "direction", "transport", "standard", "status", "payload_sha256",
    "size", "received_at", "updated_at", "interchange_sender", "interchange_receiver",
    "interchange_control", "transaction_types", "search_text", "summary", "ack_status",
    "attempts"))
_PAYLOADS = MultiRowInsert(Payload.__table__,  # type: ignore[arg-type]
                           ("sha256", "size", "data", "created_at"))


def _url(url: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgresql"):
        sep = "&" if "?" in url else "?"
        url += f"{sep}options=-csearch_path%3D{SCHEMA}"
    return url


def fill(url: str, count: int, partners: int, seed: int = 7) -> None:
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            c.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    upgrade(url)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=90)
    step = timedelta(days=90) / count
    payload_count = -(-count // partners)  # (partner, payload) is unique: reuse per partner
    started = time.perf_counter()
    with engine.begin() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("PRAGMA synchronous=OFF")
        batch: list[dict[str, Any]] = []
        for i in range(payload_count):
            batch.append({"sha256": f"{i:064x}", "size": 1, "data": b"~", "created_at": start})
            if len(batch) == 20_000:
                _PAYLOADS.execute(c, batch)
                batch = []
        _PAYLOADS.execute(c, batch)
    chunk = 10_000
    for base in range(0, count, chunk):
        messages: list[dict[str, Any]] = []
        terms: list[dict[str, Any]] = []
        for i in range(base, min(base + chunk, count)):
            at = start + step * i
            partner = i % partners
            kind = TYPES[rng.randrange(len(TYPES))]
            roll = rng.random()
            status = ("REJECTED" if roll < 0.03 else "FAILED" if roll < 0.04
                      else "RECEIVED" if roll < 0.045 else "PROCESSED")
            control = f"{i:09d}"
            po = f"PO-{i // 3:07d}"  # an order, its ship notice and invoice share a PO
            search = f"{control} {po} 0001 {i % 100_000}"
            message_id = f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
            messages.append({
                "id": message_id, "partner_id": f"partner-{partner:03d}",
                "direction": "inbound", "transport": "as2" if partner % 2 else "https",
                "standard": "x12", "status": status, "payload_sha256": f"{i // partners:064x}",
                "size": 2000, "received_at": at, "updated_at": at,
                "interchange_sender": f"ZZ:P{partner:03d}", "interchange_receiver": "ZZ:EDIGATE",
                "interchange_control": control, "transaction_types": kind,
                "search_text": search,
                "summary": f'{{"transactions":[{{"set_id":"{kind}","business_number":"{po}"}}]}}',
                "ack_status": "rejected" if status == "REJECTED" else "accepted",
                "attempts": 1})
            terms += term_rows(message_id, at, search)
        with engine.begin() as c:
            if engine.dialect.name == "sqlite":
                c.exec_driver_sql("PRAGMA synchronous=OFF")
            _MESSAGES.execute(c, messages)
            INSERT_TERMS.execute(c, terms)
        if (base // chunk) % 20 == 0:
            print(f"  {base + len(messages):>9} messages  {time.perf_counter() - started:6.1f} s",
                  flush=True)
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    print(f"filled {count} messages in {time.perf_counter() - started:.1f} s")
    engine.dispose()


def _explain(c: Connection, query: Select[Any]) -> list[str]:
    compiled = query.compile(dialect=c.dialect)
    params = compiled.construct_params()
    processors = compiled._bind_processors
    values = {k: processors[k](v) if k in processors and v is not None else v
              for k, v in params.items()}
    if c.dialect.name == "sqlite":
        args: Any = tuple(values[k] for k in compiled.positiontup or ())
        rows = c.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, args).all()
        return [f"{'  ' * (1 if r[1] else 0)}{r[3]}" for r in rows]
    rows = c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + compiled.string,
                             values).all()
    return [r[0] for r in rows]


def bench(url: str, repeat: int, show_plans: bool) -> None:
    engine = create_engine(url)
    with engine.connect() as c:
        total = c.scalar(select(func.count()).select_from(Message))
        newest = c.execute(select(Message.received_at).order_by(
            Message.received_at.desc()).limit(1)).scalar_one()
        middle = c.execute(select(Message.received_at, Message.id).order_by(
            Message.received_at.desc(), Message.id.desc()).offset(total // 2).limit(1)).one()
        rare_po = c.scalar(select(Message.search_text).order_by(
            Message.received_at).offset(total // 3).limit(1)).split()[1]
    print(f"\n{engine.dialect.name}: {total} messages")
    cases: list[tuple[str, LogFilters, tuple[datetime, str] | None]] = [
        ("newest page, no filter", LogFilters(), None),
        ("page in the middle (keyset cursor)", LogFilters(), (middle[0], middle[1])),
        ("status=FAILED", LogFilters(status="FAILED"), None),
        ("partner=partner-007", LogFilters(partner="partner-007"), None),
        ("partner + status=REJECTED", LogFilters(partner="partner-007", status="REJECTED"),
         None),
        ("type=810", LogFilters(transaction_type="810"), None),
        ("last 24 h", LogFilters(since=newest - timedelta(hours=24)), None),
        ("time range 10 days ago, 1 day", LogFilters(since=newest - timedelta(days=10),
                                                     until=newest - timedelta(days=9)), None),
        (f"search {rare_po} (3 matches)", LogFilters(q=rare_po), None),
        ("search '0001' (every message)", LogFilters(q="0001"), None),
        ("search '0001' + status=FAILED", LogFilters(q="0001", status="FAILED"), None),
        ("search '0001' + partner, middle page", LogFilters(q="0001", partner="partner-007"),
         (middle[0], middle[1])),
        ("search '4242' (10 matches) + 30-day range", LogFilters(
            q="4242", since=newest - timedelta(days=30)), None),
        ("search by message id", LogFilters(q=middle[1]), None),
    ]
    print(f"{'query':<46} {'median ms':>10} {'max ms':>8} {'rows':>5}")
    plans: list[tuple[str, list[str]]] = []
    with engine.connect() as c:
        for name, filters, cursor in cases:
            query = log_page_query(filters, cursor=cursor, limit=50)
            timings = []
            rows = 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                rows = len(c.execute(query).all())
                timings.append((time.perf_counter() - t0) * 1000)
                c.rollback()
            print(f"{name:<46} {statistics.median(timings):>10.2f} {max(timings):>8.2f} "
                  f"{rows:>5}")
            if show_plans:
                plans.append((name, _explain(c, query)))
                c.rollback()
    for name, plan in plans:
        print(f"\n-- {name}")
        for line in plan:
            print("   " + line)
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=f"sqlite:///{ROOT / 'bench/out/message_log.db'}")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep an already filled database")
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    url = _url(args.url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
    if not args.reuse:
        fill(url, args.count, args.partners)
    bench(url, args.repeat, not args.no_plans)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
