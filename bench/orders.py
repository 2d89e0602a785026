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
   (globex-distribution) are received by two gateways on fresh schemas, one as the gateway
   runs, one with the order book and the demand store switched off (what the previous
   release did); their batches are then processed alternately, each timed. Messages per
   second each, and the ratio, for each of ``--pairs`` runs and their median.

A script, not a test: nothing asserts on timings. Figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The benchmark measures the gateway's own store: the dependency rule is for the packages.
import message_log  # noqa: E402

from gateway.intake.pipeline import Delivery  # noqa: E402, TID251
from gateway.orders.queries import OrderFilters, order_json, order_page, order_view  # noqa: E402, TID251
from gateway.orders.scorecards import scorecard  # noqa: E402, TID251
from gateway.processing import processor as processor_module  # noqa: E402, TID251
from gateway.runtime.demo import demo_interchange  # noqa: E402, TID251
from gateway.runtime.heap import HeapSettler  # noqa: E402, TID251
from gateway.runtime.settings import Settings  # noqa: E402, TID251
from gateway.runtime.state import GatewayState  # noqa: E402, TID251
from gateway.store.bulk import MultiRowInsert  # noqa: E402, TID251
from gateway.store.migrate import upgrade  # noqa: E402, TID251
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


def _url(url: str, schema: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


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


def _gateway(url: str, schema: str, var: Path) -> GatewayState:
    """A gateway on a fresh ``schema``, its database sessions named after it (their CPU is
    read from /proc by that name)."""
    engine = create_engine(_url(url, "public"))
    with engine.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    target = _url(url, schema)
    upgrade(target)
    settings = Settings(database_url=f"{target}&application_name={schema}",
                        partners_dir=ROOT / "partners", var_dir=var,
                        ledger_key_path=var / "ledger.pem", workers=0)
    return GatewayState.build(settings)


def _purchase_order(po: str) -> dict[str, Any]:
    """The PO a buyer sends Globex for what its ship notice and invoice samples carry."""
    return {"kind": "purchase_order", "po_number": po, "order_date": "2024-03-12",
            "purpose_code": "00", "order_type_code": "SA",
            "currency": "USD", "lines": [
                {"line_number": "1", "quantity": "120", "unit": "EA", "unit_price": "4.25",
                 "item_ids": {"upc": "012345678905", "vendor_item": "WID-100",
                              "buyer_item": "88001"}},
                {"line_number": "2", "quantity": "48", "unit": "CA", "unit_price": "31.5",
                 "item_ids": {"upc": "012345678912", "vendor_item": "WID-200",
                              "buyer_item": "88002"}}]}


def _receive_buyer(state: GatewayState, documents: int, first: int = 0) -> None:
    """The buyer's side: ``documents`` POs sent to Globex through the outbound service
    (joined to their orders as they are sent, not timed), then Globex's ship notice and
    invoice for each received, naming it, their lines the PO's."""
    partner = state.registry.get("globex-distribution")
    assert partner is not None and state.outbound is not None
    for n in range(first, first + documents):
        state.outbound.submit(partner, [_purchase_order(f"PO-{n:07d}")], actor="bench")
    for n in range(first, first + documents):
        po = f"PO-{n:07d}".encode()
        for k, name in enumerate(("globex-856.edi", "globex-810.edi")):
            body = demo_interchange(name, "01", "123456789", "00501", state.settings,
                                    100_000 * (k + 2) + n).replace(b"PO-4471200", po)
            state.pipeline.receive(Delivery("globex-distribution", "https", body), "bench")


def _receive(state: GatewayState, documents: int, first: int = 0) -> None:
    """``documents`` POs (acme-retail) numbered from ``first``, each followed by a ship
    notice and an invoice naming it (globex-distribution)."""
    for n in range(first, first + documents):
        po = f"PO-{n:07d}".encode()
        for k, (name, partner, sender, qualifier, old) in enumerate((
                ("acme-850.edi", "acme-retail", "ACMERETAIL", "ZZ", b"PO-4711"),
                ("globex-856.edi", "globex-distribution", "123456789", "01", b"PO-4471200"),
                ("globex-810.edi", "globex-distribution", "123456789", "01", b"PO-4471200"))):
            body = demo_interchange(name, qualifier, sender,
                                    "00501" if partner != "acme-retail" else "00401",
                                    state.settings, 100_000 * (k + 1) + n).replace(old, po)
            state.pipeline.receive(Delivery(partner, "https", body), "bench")


class _Mode:
    """One side of the comparison: its gateway, and the time its batches took."""

    def __init__(self, label: str, state: GatewayState) -> None:
        self.label = label
        self.state = state
        self.backends = _backends(state)
        self.messages = 0
        self.seconds = 0.0
        self.cpu = 0.0

    def batch(self) -> bool:
        """Claim and process one batch, timed; False when nothing was waiting."""
        processor = self.state.pipeline.processor
        cpu = time.process_time() + _server_cpu(self.backends)
        started = time.perf_counter()
        claimed = processor.claim("bench", limit=self.state.settings.worker_batch)
        if claimed:
            processor.process(claimed, "bench")
        self.seconds += time.perf_counter() - started
        self.cpu += time.process_time() + _server_cpu(self.backends) - cpu
        self.messages += len(claimed)
        return bool(claimed)


def throughput(url: str, documents: int, pairs: int, workload: str = "mixed") -> None:
    """Processing throughput with order maintenance on and off, in ``pairs`` runs. In a
    run, two gateways on fresh schemas receive the same messages; then their batches are
    processed alternately, one of each in turn (which goes first alternates too), each
    batch timed. A machine that slows down or speeds up for a while slows or speeds up
    both sides alike: on the 2-CPU machine, whole rounds of a few seconds each, one side
    after the other, gave costs from 6 % to 29 % for one and the same build.

    ``workload``: ``mixed`` (acme-retail's POs, and Globex's ship notices and invoices
    naming the same numbers: two orders each, one without its PO) or ``buyer`` (POs sent
    to Globex first, then its ship notice and invoice for each: one order with all three,
    matched line by line)."""
    costs: list[float] = []
    cpu_costs: list[float] = []
    real_demand_points = processor_module.store_points
    demand_off = [False]  # while the off side's batch runs

    def demand_points(*args: Any, **kwargs: Any) -> int:
        return 0 if demand_off[0] else real_demand_points(*args, **kwargs)

    processor_module.store_points = demand_points  # type: ignore[assignment]
    for run in range(pairs):
        with tempfile.TemporaryDirectory() as on_var, tempfile.TemporaryDirectory() as off_var:
            on_state = _gateway(url, "bench_orders_on", Path(on_var))
            off_state = _gateway(url, "bench_orders_off", Path(off_var))
            # The previous release: no order book, no demand store.
            off_state.pipeline.processor.orders.join = (  # type: ignore[method-assign]
                lambda *args, **kwargs: [])
            try:
                fill = _receive_buyer if workload == "buyer" else _receive
                for state in (on_state, off_state):
                    # A first few messages load what every run loads once (schemas, code
                    # lists, the driver's statements); not counted.
                    demand_off[0] = state is off_state
                    fill(state, 10, first=documents)
                    list(state.pipeline.drain("bench"))
                    fill(state, documents)
                on, off = _Mode("on", on_state), _Mode("off", off_state)
                # A worker settles its heap when it goes idle between bursts
                # (gateway.runtime.heap); the run starts from a settled heap.
                settler = HeapSettler(every_seconds=0)
                settler.worked()
                settler.idle()
                turn = 0
                waiting = [on, off]
                while waiting:
                    for mode in waiting if turn % 2 == 0 else waiting[::-1]:
                        demand_off[0] = mode is off
                        if not mode.batch():
                            waiting.remove(mode)
                    turn += 1
            finally:
                on_state.close()
                off_state.close()
        on_rate, off_rate = on.messages / on.seconds, off.messages / off.seconds
        costs.append(100 * (1 - on_rate / off_rate))
        cpu_costs.append(100 * (1 - off.cpu / on.cpu))
        print(f"processing, run {run + 1}: on {on.messages} messages in {on.seconds:.2f} s "
              f"({on_rate:.1f}/s, CPU {1000 * on.cpu / on.messages:.2f} ms a message); off "
              f"{off.messages} in {off.seconds:.2f} s ({off_rate:.1f}/s, CPU "
              f"{1000 * off.cpu / off.messages:.2f} ms); order maintenance costs "
              f"{costs[-1]:.1f} % of throughput, {cpu_costs[-1]:.1f} % by CPU")
    processor_module.store_points = real_demand_points  # type: ignore[assignment]
    print(f"order maintenance costs, median of {pairs} runs: {statistics.median(costs):.1f} % "
          f"of processing throughput (runs: {', '.join(f'{c:.1f}' for c in costs)} %); "
          f"by CPU (this process and its database sessions) "
          f"{statistics.median(cpu_costs):.1f} %")


def _backends(state: GatewayState) -> list[int]:
    """The process ids of the database sessions the gateway's pool holds (PostgreSQL on
    this machine): the ones the drain will use, opened by a first statement each."""
    with state.db.engine.connect() as c:
        return [int(pid) for pid in c.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = current_setting('application_name')")).scalars()]


def _server_cpu(pids: list[int]) -> float:
    """CPU seconds (user and system) the server processes ``pids`` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / ticks


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
    args = parser.parse_args()
    if args.quick:
        args.messages, args.orders, args.documents = 100_000, 10_000, 50
    if not args.url.startswith("postgresql"):
        parser.error("the order tables are measured on PostgreSQL (--url postgresql://...)")
    url = _url(args.url, SCHEMA)
    if args.no_queries:
        throughput(args.url, args.documents, args.pairs, args.workload)
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
        throughput(args.url, args.documents, args.pairs, args.workload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
