"""HTTPS intake benchmark: the gateway's POST /v1/messages against a bare FastAPI endpoint.

Starts ``edigate serve`` (one worker process, niced and deferring to intake bursts for up
to 5 s, see gateway/intake/activity.py, and the intake writer process beside the web process, or
``--intake-writer thread`` for the writer as a thread; SQLite under
a temporary directory unless ``--database-url`` names a PostgreSQL database, in which case
a schema of its own is created and dropped) and, in another subprocess under the same
uvicorn settings, the bare app of this module (``POST /bare``: read the body, answer 202
JSON). Then drives each with a closed loop of ``--concurrency`` clients (keep-alive,
127.0.0.1 only) until ``--requests`` requests are answered, and prints messages/s and
p50/p99 latency; a gateway with a worker is driven once that worker has processed a
message (its process started, not starting beside the run). Two diagnostic rows run the
gateway again: with a worker that never defers (``EDIGATE_WORKER_DEFER_SECONDS=0``: it
translates beside the burst) and with no worker at all:

    python bench/intake.py --quick
    python bench/intake.py                       # 2,000 requests a target, 16 clients
    python bench/intake.py --database-url postgresql://postgres@127.0.0.1:5432/test

Every gateway post is a distinct 10-line 850 (PO1/PID x10) with its own ISA13, so none is a
duplicate: each one is stored durably (payload, message row, ledger entry, commit) before
its 202. See bench/README.md. This is a script, not a test: it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from translators.x12.segment import Delimiters  # noqa: E402
from translators.x12.writer import (  # noqa: E402
    GroupSpec,
    InterchangeSpec,
    TransactionSpec,
    write_interchange,
)

# The gateway's identity (EDIGATE_X12_ID default) and a partner profile in partners/.
GATEWAY_QUALIFIER, GATEWAY_ID = "ZZ", "EDIGATE"
PARTNER, PARTNER_QUALIFIER, PARTNER_ID = "acme-retail", "ZZ", "ACMERETAIL"
LINES = 10

# -- the bare endpoint ----------------------------------------------------------------------
app = FastAPI(title="bare")


@app.post("/bare", status_code=202)
async def bare(request: Request) -> JSONResponse:
    """Read the body and answer as the gateway's async intake does, storing nothing."""
    body = await request.body()
    return JSONResponse({"message_id": str(uuid.uuid4()), "duplicate": False,
                         "status": "RECEIVED", "size": len(body)}, status_code=202)


def serve_bare(port: int) -> None:
    """The bare app under the uvicorn settings ``edigate serve`` uses."""
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", access_log=False)


# -- payloads -------------------------------------------------------------------------------
def purchase_order(control: int) -> bytes:
    """A 004010 850 with ten PO1/PID lines from acme-retail to the gateway."""
    now = datetime.now(UTC)
    po_number = f"PO-{control}"
    body: list[list[str]] = [
        ["BEG", "00", "SA", po_number, "", now.strftime("%Y%m%d")],
        ["CUR", "BY", "USD"],
        ["DTM", "002", now.strftime("%Y%m%d")],
        ["N1", "BY", "ACME RETAIL", "92", "0042"],
        ["N1", "ST", "ACME DC 7", "92", "0007"],
        ["N3", "700 WAREHOUSE RD"],
        ["N4", "JOLIET", "IL", "60431"],
    ]
    quantity = 0
    for n in range(1, LINES + 1):
        quantity += n
        body.append(["PO1", str(n), str(n), "EA", f"{n + 0.5:.2f}", "PE", "BP", f"B-{n:03d}",
                     "VP", f"V-{n:03d}"])
        body.append(["PID", "F", "", "", "", f"WIDGET NUMBER {n}"])
    body.append(["CTT", str(LINES), str(quantity)])
    header = InterchangeSpec(
        sender_id=PARTNER_ID, receiver_id=GATEWAY_ID, sender_qualifier=PARTNER_QUALIFIER,
        receiver_qualifier=GATEWAY_QUALIFIER, date=now.strftime("%y%m%d"),
        time=now.strftime("%H%M"), control_number=str(control), version="00401", usage="T")
    group = GroupSpec(functional_id="PO", sender_code=PARTNER_ID, receiver_code=GATEWAY_ID,
                      date=now.strftime("%Y%m%d"), time=now.strftime("%H%M"),
                      control_number=str(control), version="004010",
                      transactions=[TransactionSpec("850", "0001", body)])
    return write_interchange(header, [group], Delimiters("*", ">", "~", None), line_break=True)


# -- servers --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([*self.argv, "--port", str(self.port)], env=self.env,
                                         cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}:\n"
                                 f"{self.log.read_text(errors='replace')[-4000:]}")
            try:
                if httpx.get(self.base + ready_path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"{self.name} did not answer {ready_path} within 30 s")

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (Linux /proc) of the server: the child, and its
        intake writer process when it has one (not its worker processes: processing)."""
        if self.proc is None:
            return 0.0
        pids = [self.proc.pid]
        for listing in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            for pid in listing.read_text().split():
                cmdline = Path(f"/proc/{pid}/cmdline")
                if cmdline.exists() and b"gateway.runtime.intake_child" in cmdline.read_bytes():
                    pids.append(int(pid))
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "gateway.runtime.cli", *argv], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"edigate {' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[-1].strip()


def postgres_schema(url: str) -> tuple[str, str, object]:
    """A fresh schema on the given PostgreSQL database: (url using it, schema, admin engine)."""
    from sqlalchemy import create_engine, text

    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema, admin


def drop_schema(schema: str, admin: object) -> None:
    from sqlalchemy import Engine, text

    assert isinstance(admin, Engine)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# -- load -----------------------------------------------------------------------------------
@dataclass
class Run:
    target: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


class RawConnection:
    """One keep-alive HTTP/1.1 connection over asyncio streams: a load generator that costs
    the client a few tens of microseconds a request, so the server, not the client, is
    what is measured (httpx.AsyncClient costs about 1-2 ms of client CPU a request and, at
    16 connections, becomes the bottleneck in front of a bare endpoint)."""

    def __init__(self, url: str, headers: dict[str, str], params: dict[str, str]) -> None:
        parts = httpx.URL(url).copy_merge_params(params)
        self.host, self.port = parts.host, parts.port or 80
        target = parts.raw_path.decode("ascii")
        lines = [f"POST {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.head = "\r\n".join(lines).encode("latin-1") + b"\r\nContent-Length: "
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            content = await self.reader.readexactly(length)
            if b"connection: close" in head.lower():
                self.close()
            return status, content
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(target: str, url: str, bodies: list[bytes], concurrency: int,
                headers: dict[str, str], params: dict[str, str], client: str = "raw") -> Run:
    """Closed loop: ``concurrency`` clients, each posting the next body when answered."""
    run = Run(target)
    queue = iter(bodies)

    def record(started: float, ok: bool, error: str) -> None:
        run.latencies.append(time.perf_counter() - started)
        run.requests += 1
        run.errors += not ok
        if not ok and not run.first_error:
            run.first_error = error

    async def raw_client() -> None:
        connection = RawConnection(url, headers, params)
        try:
            for body in queue:
                started = time.perf_counter()
                try:
                    status, content = await connection.post(body)
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    record(started, False, f"{type(exc).__name__}: {exc}")
                    continue
                record(started, 200 <= status < 300, f"HTTP {status}: {content[:300]!r}")
        finally:
            connection.close()

    async def httpx_client(pool: httpx.AsyncClient) -> None:
        for body in queue:
            started = time.perf_counter()
            try:
                response = await pool.post(url, content=body, params=params)
            except httpx.HTTPError as exc:
                record(started, False, f"{type(exc).__name__}: {exc}")
                continue
            record(started, 200 <= response.status_code < 300,
                   f"HTTP {response.status_code}: {response.text[:300]}")

    started = time.perf_counter()
    if client == "raw":
        await asyncio.gather(*(raw_client() for _ in range(concurrency)))
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as pool:
            await asyncio.gather(*(httpx_client(pool) for _ in range(concurrency)))
    run.seconds = time.perf_counter() - started
    return run


def measure(target: str, child: Child, url: str, bodies: list[bytes], concurrency: int,
            headers: dict[str, str], params: dict[str, str], warmup: list[bytes],
            client: str) -> Run:
    asyncio.run(drive(target, url, warmup, concurrency, headers, params, client))
    before = child.cpu_seconds()
    run = asyncio.run(drive(target, url, bodies, concurrency, headers, params, client))
    run.server_cpu = child.cpu_seconds() - before
    return run


def waiting(child: Child, ops_key: str) -> int:
    """Messages still RECEIVED or PROCESSING, through the message log."""
    count = 0
    for status in ("RECEIVED", "PROCESSING"):
        page = httpx.get(f"{child.base}/v1/messages", params={"status": status, "limit": 500},
                         headers={"Authorization": f"Bearer {ops_key}"}, timeout=30)
        page.raise_for_status()
        count += len(page.json()["items"])
    return count


def wait_worker(child: Child, body: bytes, auth: dict[str, str], ops_key: str,
                limit: float = 60) -> None:
    """Post ``body`` without sync and wait until a worker has PROCESSED it: the server's
    worker process has started (a start costs it about half a second of CPU, imports
    mostly) and is polling, so the measured run sees the steady state, not the start."""
    posted = httpx.post(f"{child.base}/v1/messages", content=body, headers=auth, timeout=60)
    posted.raise_for_status()
    url = f"{child.base}/v1/messages/{posted.json()['message_id']}"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        got = httpx.get(url, headers={"Authorization": f"Bearer {ops_key}"}, timeout=30)
        got.raise_for_status()
        if got.json()["status"] == "PROCESSED":
            return
        time.sleep(0.05)
    raise SystemExit(f"{child.name}: the worker did not process a message within {limit} s")


def wait_drained(child: Child, ops_key: str, limit: float = 600) -> float:
    started = time.perf_counter()
    while waiting(child, ops_key) and time.perf_counter() - started < limit:
        time.sleep(0.25)
    return time.perf_counter() - started


# -- main -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per target")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (a temporary schema is used); default SQLite")
    parser.add_argument("--quick", action="store_true", help="300 requests per target")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load generator: keep-alive HTTP/1.1 over asyncio streams (default)"
                             " or httpx.AsyncClient (costs more client CPU than the bare "
                             "endpoint costs the server)")
    parser.add_argument("--intake-writer", choices=["process", "thread"], default="process",
                        help="where the gateway's group commits run (EDIGATE_INTAKE_WRITER; "
                             "edigate serve's default: process)")
    parser.add_argument("--child-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_bare:
        serve_bare(args.port)
        return 0
    requests = 300 if args.quick else args.requests
    warmup_count = max(2 * args.concurrency, 50)

    workdir = Path(tempfile.mkdtemp(prefix="edigate-intake-"))
    schema: tuple[str, object] | None = None
    if args.database_url:
        database_url, name, admin = postgres_schema(args.database_url)
        schema = (name, admin)
    else:
        database_url = f"sqlite:///{workdir / 'edigate.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update({
        "EDIGATE_DATABASE_URL": database_url,
        "EDIGATE_PARTNERS_DIR": str(REPO / "partners"),
        "EDIGATE_VAR_DIR": str(workdir / "var"),
        "EDIGATE_LEDGER_KEY_PATH": str(workdir / "ledger-ed25519.pem"),
        "EDIGATE_WORKERS": "1",
        "EDIGATE_INTAKE_WRITER": args.intake_writer,
    })
    cli(env, "db", "upgrade")
    partner_key = cli(env, "partners", "issue-key", PARTNER)
    ops_key = cli(env, "ops", "issue-key", "--role", "viewer")

    # Distinct ISA13s for warm-ups and both gateway runs, generated before any clock starts.
    base = random.randrange(1, 800_000_000)
    controls = iter(range(base, base + 10 * (requests + warmup_count)))

    def batch(n: int) -> list[bytes]:
        return [purchase_order(next(controls)) for _ in range(n)]

    probe = purchase_order(next(controls))
    started_probes = [purchase_order(next(controls)) for _ in range(2)]
    async_bodies, sync_bodies = batch(requests), batch(requests)
    async_warm, sync_warm = batch(warmup_count), batch(warmup_count)
    bare_bodies, bare_warm = batch(requests), batch(warmup_count)
    bare_again, bare_again_warm = batch(requests), batch(warmup_count)
    intake_bodies, intake_warm = batch(requests), batch(warmup_count)
    eager_bodies, eager_warm = batch(requests), batch(warmup_count)

    gateway = Child("edigate serve",
                    [sys.executable, "-m", "gateway.runtime.cli", "serve"], env,
                    workdir / "gateway.log")
    bare_child = Child("bare FastAPI", [sys.executable, str(Path(__file__).resolve()),
                                        "--child-bare"], env, workdir / "bare.log")
    eager = Child("edigate serve (EDIGATE_WORKER_DEFER_SECONDS=0)",
                  [sys.executable, "-m", "gateway.runtime.cli", "serve"],
                  {**env, "EDIGATE_WORKER_DEFER_SECONDS": "0"}, workdir / "gateway-eager.log")
    intake_only = Child("edigate serve (EDIGATE_WORKERS=0)",
                        [sys.executable, "-m", "gateway.runtime.cli", "serve"],
                        {**env, "EDIGATE_WORKERS": "0"}, workdir / "gateway-0.log")
    runs: list[Run] = []
    drain_seconds = eager_drain = 0.0
    try:
        bare_child.start("/docs")
        runs.append(measure("bare FastAPI", bare_child, f"{bare_child.base}/bare", bare_bodies,
                            args.concurrency, {}, {}, bare_warm, args.client))
        bare_child.stop()

        gateway.start("/healthz")
        auth = {"Authorization": f"Bearer {partner_key}",
                "Content-Type": "application/edi-x12"}
        checked = httpx.post(f"{gateway.base}/v1/messages", content=probe,
                             params={"sync": "true"}, headers=auth, timeout=60)
        if checked.status_code != 200 or checked.json().get("status") != "PROCESSED":
            raise SystemExit(f"the benchmark 850 is not PROCESSED: {checked.status_code} "
                             f"{checked.text[:1000]}")
        wait_worker(gateway, started_probes[0], auth, ops_key)
        url = f"{gateway.base}/v1/messages"
        run = measure("gateway async", gateway, url, async_bodies, args.concurrency, auth, {},
                      async_warm, args.client)
        runs.append(run)
        # The worker goes on processing what async intake took in; let it finish so the
        # sync run has the machine to itself, and report the rate it processes at.
        drain_seconds = wait_drained(gateway, ops_key)
        runs.append(measure("gateway sync=true", gateway, url, sync_bodies, args.concurrency,
                            auth, {"sync": "true"}, sync_warm, args.client))
        left = waiting(gateway, ops_key)
        gateway.stop()

        # Diagnostic row: workers that never defer to intake (EDIGATE_WORKER_DEFER_SECONDS=0),
        # so the worker translates the backlog beside the burst, as before intake first.
        eager.start("/healthz")
        wait_worker(eager, started_probes[1], auth, ops_key)
        runs.append(measure("gateway async, eager", eager, f"{eager.base}/v1/messages",
                            eager_bodies, args.concurrency, auth, {}, eager_warm,
                            args.client))
        eager_drain = wait_drained(eager, ops_key)
        eager.stop()

        # Diagnostic row: the same server with no worker process, so intake has the machine
        # (and its GIL) to itself; the messages stay RECEIVED in the throw-away database.
        intake_only.start("/healthz")
        runs.append(measure("gateway async, 0 wkr", intake_only,
                            f"{intake_only.base}/v1/messages", intake_bodies, args.concurrency,
                            auth, {}, intake_warm, args.client))
        intake_only.stop()

        # The bare endpoint again, last: on a shared machine one short run can be unlucky,
        # and the ratios use the faster of the two bare runs (the harder bar).
        bare_child.start("/docs")
        runs.append(measure("bare FastAPI again", bare_child, f"{bare_child.base}/bare",
                            bare_again, args.concurrency, {}, {}, bare_again_warm,
                            args.client))
        bare_child.stop()
    except BaseException:
        print(f"server logs are kept in {workdir}", file=sys.stderr)
        raise
    finally:
        gateway.stop()
        eager.stop()
        intake_only.stop()
        bare_child.stop()
        if schema is not None:
            drop_schema(*schema)
    shutil.rmtree(workdir, ignore_errors=True)

    backend = "PostgreSQL" if schema is not None else "SQLite (WAL, synchronous=FULL)"
    print(f"edigate intake benchmark: {requests} requests a target, {args.concurrency} "
          f"concurrent clients ({args.client}), {backend}")
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, uvicorn defaults "
          f"(h11/asyncio unless uvloop/httptools are installed), 1 worker process (batches of "
          f"16, deferring to intake for up to 5 s), intake writer: {args.intake_writer}; "
          f"850 of {len(probe)} bytes, {LINES} PO1/PID lines")
    print()
    print(f"{'target':<20} {'requests':>8} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7} {'srv CPU ms/req':>15}")
    for r in runs:
        print(f"{r.target:<20} {r.requests:>8} {r.rate:>9.0f} {r.percentile(50):>8.1f} "
              f"{r.percentile(99):>8.1f} {r.errors:>7} {r.server_cpu / r.requests * 1000:>15.2f}")
    by_name = {r.target: r for r in runs}
    bare_rate = max(by_name["bare FastAPI"].rate, by_name["bare FastAPI again"].rate)
    ratio = by_name["gateway async"].rate / bare_rate
    print()
    print(f"async / bare: {ratio:.0%} of the bare endpoint's throughput, the faster of its two "
          f"runs (target: 40% or more)")
    print(f"sync  / bare: {by_name['gateway sync=true'].rate / bare_rate:.0%}")
    print(f"async, workers never deferring to intake / bare: "
          f"{by_name['gateway async, eager'].rate / bare_rate:.0%} (backlog drained "
          f"{eager_drain:.1f} s after the run)")
    print(f"async with no worker process / bare: "
          f"{by_name['gateway async, 0 wkr'].rate / bare_rate:.0%}")
    async_run = by_name["gateway async"]
    print(f"the worker finished the async backlog {drain_seconds:.1f} s after the async run; "
          f"end to end about {(requests + warmup_count) / (async_run.seconds + drain_seconds):.0f}"
          f" messages/s processed by 1 worker process")
    for r in runs:
        if r.first_error:
            print(f"first error of {r.target}: {r.first_error}")
    if left:
        print(f"WARNING: {left} message(s) still waiting at the end")
    print(json.dumps({r.target: {"requests": r.requests, "rate": round(r.rate, 1),
                                 "p50_ms": round(r.percentile(50), 2),
                                 "p99_ms": round(r.percentile(99), 2), "errors": r.errors}
                      for r in runs}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
