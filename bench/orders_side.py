"""One side of ``bench/orders.py``'s throughput rows: a gateway, in a process of its own,
that receives the workload's messages and then processes one batch each time it is asked.

    python bench/orders_side.py --url postgresql://... --schema S --documents N \
        --workload buyer [--off]

It runs the code of whichever tree is first on ``PYTHONPATH`` (``bench/orders.py`` starts
the current tree's and, with ``--previous-tree``, the previous release's), so it uses only
what both have: ``GatewayState``, the pipeline's ``receive``, the processor's ``claim``
and ``process``, the outbound service's ``submit``, the demo interchanges. ``--off``
switches the order book and the demand store off (the current tree only).

On standard output: ``ready`` once the messages are received, then for each ``batch``
line read one line ``<messages> <wall s> <CPU s of this process> <CPU s of its database
sessions>`` (0 messages: nothing was waiting). It ends at end of input.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from gateway.intake.pipeline import Delivery  # noqa: TID251
from gateway.runtime.demo import demo_interchange  # noqa: TID251
from gateway.runtime.settings import Settings  # noqa: TID251
from gateway.runtime.state import GatewayState  # noqa: TID251
from gateway.store.migrate import upgrade  # noqa: TID251


def schema_url(url: str, schema: str) -> str:
    """``url`` (postgresql://...) for SQLAlchemy's psycopg driver, on ``schema``."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def _gateway(url: str, schema: str, var: Path, tree: Path) -> GatewayState:
    """A gateway on a fresh ``schema``, its database sessions named after it (their CPU is
    read from /proc by that name)."""
    engine = create_engine(schema_url(url, "public"))
    with engine.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    target = schema_url(url, schema)
    upgrade(target)
    settings = Settings(database_url=f"{target}&application_name={schema}",
                        partners_dir=tree / "partners", var_dir=var,
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


def receive_buyer(state: GatewayState, documents: int, first: int = 0) -> None:
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


def receive_mixed(state: GatewayState, documents: int, first: int = 0) -> None:
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


def _switch_off(state: GatewayState) -> None:
    """The order book and the demand store off: what the previous release did not do."""
    from gateway.processing import processor  # noqa: TID251

    state.pipeline.processor.orders.join = (  # type: ignore[method-assign]
        lambda *args, **kwargs: [])
    processor.store_points = lambda *args, **kwargs: 0  # type: ignore[attr-defined]


def _backends(state: GatewayState) -> list[int]:
    """The process ids of the database sessions the gateway's pool holds (PostgreSQL on
    this machine): the ones the batches will use, opened by a first statement each."""
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
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--documents", type=int, required=True)
    parser.add_argument("--workload", choices=("mixed", "buyer"), required=True)
    parser.add_argument("--tree", type=Path, required=True,
                        help="the checkout whose code runs (first on PYTHONPATH)")
    parser.add_argument("--off", action="store_true")
    args = parser.parse_args()
    tree = args.tree.resolve()
    fill = receive_buyer if args.workload == "buyer" else receive_mixed
    with tempfile.TemporaryDirectory() as var:
        state = _gateway(args.url, args.schema, Path(var), tree)
        try:
            if args.off:
                _switch_off(state)
            # A first few messages load what every run loads once (schemas, code lists,
            # the driver's statements); not counted.
            fill(state, 10, first=args.documents)
            list(state.pipeline.drain("bench"))
            fill(state, args.documents)
            backends = _backends(state)
            processor = state.pipeline.processor
            batch = state.settings.worker_batch
            # A worker settles its heap when it goes idle between bursts; the run starts
            # from a settled heap (as gateway.runtime.heap settles it, which the previous
            # release does not have).
            gc.collect()
            gc.freeze()
            print("ready", flush=True)
            for _ in sys.stdin:
                cpu, server = time.process_time(), _server_cpu(backends)
                started = time.perf_counter()
                claimed = processor.claim("bench", limit=batch)
                if claimed:
                    processor.process(claimed, "bench")
                wall = time.perf_counter() - started
                print(f"{len(claimed)} {wall:.6f} {time.process_time() - cpu:.6f} "
                      f"{_server_cpu(backends) - server:.6f}", flush=True)
        finally:
            state.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
