"""Orders at scale (issue 19 point 12): the order list, an order page, a partner scorecard
and the dashboard on a database of 1,000,000 messages and 100,000 orders, and processing
throughput with order maintenance on and off.

    python bench/orders.py --url postgresql://postgres@127.0.0.1:5432/test
    python bench/orders.py --url ... --reuse            # time again without refilling
    python bench/orders.py --url ... --quick            # 100,000 messages, 10,000 orders

1. Fill (schema ``bench_orders``, dropped and re-created): the messages come from
   ``bench/message_log.py``'s filler (20 partners over 90 days, its PO numbers), counted
   into the dashboard's rollups as ``edigate db upgrade`` counts existing messages; the
   orders are written with Core multi-row inserts as the order book stores them: per order
   three lines, a PO, an order response, a ship notice and for most an invoice as its
   documents, a finding on one order in ten, statuses and scorecard counts spread as real
   traffic would have them.
2. Queries, each timed ``--repeat`` times in-process (the functions the API and UI
   handlers call, with their JSON shaping; no HTTP framing), p50 and p95 in ms: the order
   list (first page; by partner; with a discrepancy; a later keyset page), one order's page
   (lines, documents with their acknowledgment state, findings), a partner's 30-day
   scorecard, and the dashboard.
3. Throughput: ``--documents`` POs (acme-retail) and ship notices and invoices naming them
   (globex-distribution), or with ``--workload buyer`` POs sent to Globex and its ship
   notices and invoices, are received by gateways on fresh schemas, each in a process of
   its own (``bench/orders_side.py``): one as the gateway runs, one with the order book
   and the demand store switched off, and with ``--previous-tree`` one running the
   previous release's code; their batches are then processed in turn, each timed.
   Messages per second each, and what order maintenance costs against each of the
   others, for each of ``--pairs`` runs and their median.

A script, not a test: nothing asserts on timings. Figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The benchmark measures the gateway's own store: the dependency rule is for the packages.
import message_log  # noqa: E402
from orders_side import schema_url  # noqa: E402

from gateway.orders.queries import OrderFilters, order_json, order_page, order_view  # noqa: E402, TID251
from gateway.orders.scorecards import scorecard  # noqa: E402, TID251
from gateway.store.bulk import MultiRowInsert  # noqa: E402, TID251
from gateway.store.orders import (  # noqa: E402, TID251
    OrderDocumentRow,
    OrderFindingRow,
    OrderLineRow,
    OrderRow,
)
from gateway.store.rollups import rebuild as rebuild_rollups  # noqa: E402, TID251
from gateway.ui import queries as ui_queries  # noqa: E402, TID251

SCHEMA = "bench_orders"
STATUSES = (("closed", 40), ("invoiced", 20), ("shipped", 15), ("partially_shipped", 8),
            ("acknowledged", 8), ("open", 6), ("cancelled", 3))

_ORDERS = MultiRowInsert(OrderRow.__table__, tuple(  # type: ignore[arg-type]
    c.name for c in OrderRow.__table__.columns))
_LINES = MultiRowInsert(OrderLineRow.__table__, tuple(  # type: ignore[arg-type]
    c.name for c in OrderLineRow.__table__.columns))
_DOCUMENTS = MultiRowInsert(OrderDocumentRow.__table__, tuple(  # type: ignore[arg-type]
    c.name for c in OrderDocumentRow.__table__.columns))
_FINDINGS = MultiRowInsert(OrderFindingRow.__table__, tuple(  # type: ignore[arg-type]
    c.name for c in OrderFindingRow.__table__.columns))


def fill_orders(url: str, count: int, partners: int, seed: int = 11) -> None:
    engine = create_engine(url)
    rng = random.Random(seed)
    weights = [w for _, w in STATUSES]
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=90)
    step = timedelta(days=90) / count
    started = time.perf_counter()
    chunk = 5_000
    for base in range(0, count, chunk):
        orders, lines, documents, findings = [], [], [], []
        for i in range(base, min(base + chunk, count)):
            at = start + step * i
            order_id = str(uuid.UUID(int=rng.getrandbits(128)))
            status = rng.choices([s for s, _ in STATUSES], weights)[0]
            shipped = status in ("closed", "invoiced", "shipped", "partially_shipped")
            invoiced = status in ("closed", "invoiced")
            flagged = i % 10 == 0
            orders.append({
                "id": order_id, "partner_id": f"partner-{i % partners:03d}",
                "po_number": f"PO-{i:07d}", "role": "sell" if i % 3 else "buy",
                "status": status, "order_date": at.date().isoformat(), "currency": "USD",
                "ordered_amount": f"{rng.randrange(100, 99_999)}.50",
                "invoiced_amount": "0", "line_count": 3, "document_count": 4 if invoiced else 3,
                "finding_count": 1 if flagged else 0, "has_discrepancy": flagged,
                "late": i % 17 == 0, "lines_live": 3 if status != "cancelled" else 0,
                "lines_filled": 3 if status in ("closed", "invoiced", "shipped") else 1,
                "asn_count": 1 if shipped else 0, "asn_late": 1 if shipped and i % 17 == 0 else 0,
                "invoice_count": 1 if invoiced else 0,
                "invoice_flagged": 1 if invoiced and flagged else 0,
                "ack_seconds": rng.randrange(600, 172_800) if status != "open" else None,
                "ordered_at": at, "acknowledged_at": at + timedelta(hours=3),
                "shipped_at": at + timedelta(days=2) if shipped else None,
                "invoiced_at": at + timedelta(days=3) if invoiced else None,
                "due_at": at + timedelta(days=1) if status == "open" else None,
                "created_at": at, "updated_at": at + timedelta(days=3)})
            for n in range(3):
                lines.append({
                    "order_id": order_id, "position": n, "key": f"line {n + 1}",
                    "line_number": str(n + 1), "item_ids": json.dumps({"gtin": f"{i:014d}"}),
                    "description": "WIDGET", "unit": "EA", "status": "confirmed",
                    "ordered": "10", "confirmed": "10", "shipped": "10" if shipped else "0",
                    "invoiced": "10" if invoiced else "0", "ordered_price": "2.5",
                    "invoiced_price": "2.5" if invoiced else None,
                    "invoiced_amount": "25" if invoiced else "0"})
            kinds = ["purchase_order", "order_response", "ship_notice", "invoice"]
            for n, kind in enumerate(kinds[:4 if invoiced else 3]):
                documents.append({
                    "order_id": order_id, "document": f"record:{uuid.uuid4()}",
                    "message_id": str(uuid.uuid4()), "kind": kind,
                    "direction": "inbound" if n in (0, 2) else "outbound",
                    "number": f"D-{i}-{n}", "at": at + timedelta(days=n), "superseded": False})
            if flagged:
                findings.append({
                    "order_id": order_id, "position": 0, "code": "price_mismatch",
                    "category": "discrepancy", "message": "invoiced at 2.6 where 2.5",
                    "line_key": "line 1", "documents": "[]",
                    "values": '{"invoiced_price": "2.6", "ordered_price": "2.5"}',
                    "fingerprint": f"price_mismatch|line 1|{i}", "found_at": at})
        with engine.begin() as c:
            _ORDERS.execute(c, orders)
            _LINES.execute(c, lines)
            _DOCUMENTS.execute(c, documents)
            _FINDINGS.execute(c, findings)
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    print(f"filled {count} orders in {time.perf_counter() - started:.1f} s")
    engine.dispose()


def _timed(name: str, repeat: int, run: Callable[[], object]) -> None:
    run()  # warm the caches and the plan
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(f"{name:<44} p50 {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms")


def time_queries(url: str, repeat: int) -> None:
    engine = create_engine(url)
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(OrderRow))
        messages = session.scalar(text("SELECT count(*) FROM messages"))
        print(f"\n{messages:,} messages, {total:,} orders\n")
        first, _ = order_page(session, OrderFilters(), limit=50)
        middle = first[-1]
        later = session.scalars(select(OrderRow).order_by(OrderRow.created_at.desc())
                                .offset((total or 1) // 2).limit(1)).one()
        now = datetime.now(UTC)

        def page(filters: OrderFilters, cursor: tuple[datetime, str] | None = None) -> object:
            rows, _ = order_page(session, filters, cursor=cursor, limit=50)
            return [order_json(r) for r in rows]

        _timed("order list, first page", repeat, lambda: page(OrderFilters()))
        _timed("order list, one partner", repeat,
               lambda: page(OrderFilters(partner="partner-007")))
        _timed("order list, with a discrepancy", repeat,
               lambda: page(OrderFilters(has_discrepancy=True)))
        _timed("order list, one partner, late", repeat,
               lambda: page(OrderFilters(partner="partner-007", late=True)))
        _timed("order list, a page in the middle", repeat,
               lambda: page(OrderFilters(), (later.created_at, later.id)))
        _timed("order list, second page", repeat,
               lambda: page(OrderFilters(), (middle.created_at, middle.id)))
        _timed("order page", repeat,
               lambda: order_view(session, later.partner_id, later.po_number))
        _timed("scorecard, one partner, 30 days", repeat,
               lambda: scorecard(session, "partner-007", now - timedelta(days=30), now, 24))
        _timed("scorecard, one partner, 90 days", repeat,
               lambda: scorecard(session, "partner-007", now - timedelta(days=90), now, 24))
        _timed("dashboard", repeat, lambda: ui_queries.dashboard(session, now))
    engine.dispose()


class _Side:
    """One gateway of the comparison, in a process of its own (``bench/orders_side.py``,
    running ``tree``'s code), and the time its batches took."""

    def __init__(self, label: str, tree: Path, url: str, documents: int, workload: str,
                 *, off: bool = False) -> None:
        self.label = label
        self.messages = 0
        self.seconds = 0.0
        self.cpu = 0.0
        command = [sys.executable, str(ROOT / "bench" / "orders_side.py"), "--url", url,
                   "--schema", f"bench_orders_{label}", "--documents", str(documents),
                   "--workload", workload, "--tree", str(tree), *(["--off"] if off else [])]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)})

    def ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"the {self.label} side did not start (exit "
                             f"{self.process.wait()})")

    def batch(self) -> bool:
        """One batch processed and timed; False when nothing was waiting."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("batch\n")
        self.process.stdin.flush()
        count, wall, cpu, server = self.process.stdout.readline().split()
        self.messages += int(count)
        self.seconds += float(wall)
        self.cpu += float(cpu) + float(server)
        return int(count) > 0

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def throughput(url: str, documents: int, pairs: int, workload: str = "mixed",
               previous: Path | None = None) -> None:
    """Processing throughput with order maintenance on and off (and, given the
    ``previous`` release's checkout, the previous release), in ``pairs`` runs. In a run,
    each side is a gateway in a process of its own, on a fresh schema, that receives the
    same messages; then their batches are processed in turn, one of each (which goes
    first rotates), each batch timed. A machine that slows down or speeds up for a while
    slows or speeds up every side alike: on the 2-CPU machine, whole rounds of a few
    seconds each, one side after the other, gave costs from 6 % to 29 % for one and the
    same build.

    ``workload``: ``mixed`` (acme-retail's POs, and Globex's ship notices and invoices
    naming the same numbers: two orders each, one without its PO) or ``buyer`` (POs sent
    to Globex first, then its ship notice and invoice for each: one order with all three,
    matched line by line)."""
    costs: dict[str, list[float]] = {"off": [], "previous": []}
    cpu_costs: dict[str, list[float]] = {"off": [], "previous": []}
    for run in range(pairs):
        sides = [_Side("on", ROOT, url, documents, workload),
                 _Side("off", ROOT, url, documents, workload, off=True)]
        if previous is not None:
            sides.append(_Side("previous", previous, url, documents, workload))
        try:
            for side in sides:
                side.ready()
            waiting, turn = list(sides), 0
            while waiting:
                for side in waiting[turn % len(waiting):] + waiting[:turn % len(waiting)]:
                    if not side.batch():
                        waiting.remove(side)
                turn += 1
        finally:
            for side in sides:
                side.close()
        on = sides[0]
        line = (f"processing, run {run + 1}: on {on.messages} messages in {on.seconds:.2f} s "
                f"({on.rate:.1f}/s, CPU {1000 * on.cpu / on.messages:.2f} ms a message)")
        for other in sides[1:]:
            costs[other.label].append(100 * (1 - on.rate / other.rate))
            cpu_costs[other.label].append(100 * (1 - other.cpu / on.cpu))
            line += (f"; {other.label} {other.messages} in {other.seconds:.2f} s "
                     f"({other.rate:.1f}/s, CPU {1000 * other.cpu / other.messages:.2f} ms): "
                     f"on costs {costs[other.label][-1]:.1f} % of its throughput, "
                     f"{cpu_costs[other.label][-1]:.1f} % by CPU")
        print(line, flush=True)
    for label, name in (("off", "order maintenance off (this build)"),
                        ("previous", f"the previous release ({previous})")):
        if costs[label]:
            print(f"on vs {name}, median of {pairs} runs: "
                  f"{statistics.median(costs[label]):.1f} % of processing throughput "
                  f"(runs: {', '.join(f'{c:.1f}' for c in costs[label])} %); by CPU "
                  f"(the side's process and its database sessions) "
                  f"{statistics.median(cpu_costs[label]):.1f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--documents", type=int, default=150,
                        help="POs processed (each with a ship notice and an invoice)")
    parser.add_argument("--pairs", type=int, default=5,
                        help="throughput runs, each with order maintenance on and off")
    parser.add_argument("--workload", choices=("mixed", "buyer"), default="mixed",
                        help="throughput documents (see throughput())")
    parser.add_argument("--quick", action="store_true", help="100,000 messages, 10,000 orders")
    parser.add_argument("--reuse", action="store_true", help="keep the filled schema")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--no-queries", action="store_true",
                        help="only the throughput rows (no fill, no query timings)")
    parser.add_argument("--previous-tree", type=Path,
                        help="a checkout of the previous release (git worktree add DIR "
                             "REF): its throughput is measured beside this build's")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.orders, args.documents = 100_000, 10_000, 50
    if not args.url.startswith("postgresql"):
        parser.error("the order tables are measured on PostgreSQL (--url postgresql://...)")
    url = schema_url(args.url, SCHEMA)
    if args.no_queries:
        throughput(args.url, args.documents, args.pairs, args.workload, args.previous_tree)
        return 0
    if not args.reuse:
        message_log.SCHEMA = SCHEMA
        message_log.fill(url, args.messages, args.partners)
        # The filler writes message rows directly: count them into the dashboard's rollups
        # as `edigate db upgrade` does for a database that had none.
        engine = create_engine(url)
        with engine.begin() as c:
            print(f"counted {rebuild_rollups(c)} messages into the rollups")
        engine.dispose()
        fill_orders(url, args.orders, args.partners)
    time_queries(url, args.repeat)
    if not args.no_throughput:
        print()
        throughput(args.url, args.documents, args.pairs, args.workload, args.previous_tree)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
