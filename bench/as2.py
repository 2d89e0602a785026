"""Inbound AS2 benchmark: edigate's unwrap + signed MDN against pyas2lib's parse + MDN.

Builds signed (sha256) and encrypted (AES-256-CBC) AS2 messages with pyas2lib 1.4.4 — the
peer, so neither side parses its own output — for 100 KB and 5 MB payloads (and one
compressed variant of each), then measures in one child process per tool and case:

- edigate: ``gateway.as2.unwrap(headers, body)`` + ``build_reply_mdn(...)`` (a signed MDN);
- pyas2lib: ``Message().parse(raw, ...)``, which builds its signed MDN, + serialising that
  MDN (``headers_str`` + ``content``).

    python bench/as2.py --quick                  # 3 runs a case, no warm-up (about 30 s)
    python bench/as2.py                          # 7 runs a case after 1 warm-up (about 45 s)
    python bench/as2.py --cases 5mb --runs 3

Messages are generated before any clock starts and are the same bytes for both tools; the
keys are the same RSA-2048 pair for both. See bench/README.md. This is a script, not a test:
it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import pickle
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MB = 1_000_000
KB = 1_000
SEED = 20240413
TOOLS = ("edigate", "pyas2lib")


@dataclass(frozen=True)
class Case:
    """One kind of message: payload size, how pyas2lib wraps it, how many of it a run takes."""

    name: str
    size: int
    compress: bool
    per_run: int  # distinct messages processed per timed run

    @property
    def label(self) -> str:
        what = "signed+encrypted" + ("+compressed" if self.compress else "")
        size = f"{self.size // MB} MB" if self.size >= MB else f"{self.size // KB} KB"
        return f"{size} {what}"


CASES = {
    c.name: c
    for c in (
        Case("100kb", 100 * KB, False, 20),
        Case("100kb-z", 100 * KB, True, 20),
        Case("5mb", 5 * MB, False, 2),
        Case("5mb-z", 5 * MB, True, 2),
    )
}


# -- keys and messages (built before any clock starts) ----------------------------------------


def _make_party(workdir: Path, name: str) -> None:
    """An RSA-2048 key and a self-signed certificate, written as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (workdir / f"{name}.cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (workdir / f"{name}.key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _payload(size: int, rng: random.Random) -> bytes:
    """X12-looking text of exactly ``size`` bytes, CRLF after each segment (pyas2lib would
    turn bare LFs into CRLF)."""
    chunks: list[bytes] = []
    total = 0
    line = 0
    while total < size:
        line += 1
        segment = (
            f"PO1*{line}*{rng.randint(1, 500)}*EA*{rng.randint(1, 900)}.{rng.randint(0, 99):02d}"
            f"**UP*{rng.randint(10**10, 10**11 - 1)}*VP*SKU{rng.randint(1, 99999):05d}~\r\n"
            f"PID*F****WIDGET {rng.randint(1, 99)}MM~\r\n"
        ).encode("ascii")
        chunks.append(segment)
        total += len(segment)
    return b"".join(chunks)[:size]


def generate(workdir: Path, cases: list[Case]) -> None:
    """Keys for EDIGATE (receiver) and ACME (sender); pyas2lib builds every message."""
    from pyas2lib import as2

    for name in ("EDIGATE", "ACME"):
        _make_party(workdir, name)
    acme_pem = (workdir / "ACME.cert.pem").read_bytes() + (workdir / "ACME.key.pem").read_bytes()
    edigate_cert = (workdir / "EDIGATE.cert.pem").read_bytes()
    acme = as2.Organization(as2_name="ACME", sign_key=acme_pem, decrypt_key=acme_pem)
    rng = random.Random(SEED)
    for case in cases:
        edigate = as2.Partner(
            as2_name="EDIGATE",
            verify_cert=edigate_cert,
            encrypt_cert=edigate_cert,
            sign=True,
            digest_alg="sha256",
            encrypt=True,
            enc_alg="aes_256_cbc",
            compress=case.compress,
            mdn_mode="SYNC",
            mdn_digest_alg="sha256",
        )
        messages = []
        # A small message first (warms imports and caches before the memory probe), then
        # the distinct messages of one timed run.
        for size in [10 * KB] + [case.size] * case.per_run:
            payload = _payload(size, rng)
            out = as2.Message(acme, edigate)
            out.build(payload, content_type="application/edi-x12", filename="orders.x12")
            headers = {k: " ".join(str(v).split()) for k, v in out.headers.items()}
            body = out.content
            raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n" + body
            messages.append(
                {
                    "headers": headers,
                    "body": body,
                    "raw": raw,
                    "payload_sha256": hashlib.sha256(payload).hexdigest(),
                    "mic": out.mic.decode(),
                }
            )
        with (workdir / f"{case.name}.pickle").open("wb") as file:
            pickle.dump(messages, file)


# -- the child: one tool, one case -----------------------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


Processor = Callable[[dict[str, Any]], tuple[str, str]]


def _edigate(workdir: Path) -> Processor:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from gateway.as2 import (  # noqa: TID251 - the benchmark measures the gateway itself
        AS2Identity,
        PartnerSecurity,
        build_reply_mdn,
        unwrap,
    )

    key = serialization.load_pem_private_key((workdir / "EDIGATE.key.pem").read_bytes(), None)
    ours = AS2Identity(
        as2_id="EDIGATE",
        key=key,  # type: ignore[arg-type]  # an RSA key: we wrote it
        certificate=x509.load_pem_x509_certificate((workdir / "EDIGATE.cert.pem").read_bytes()),
    )
    partner = PartnerSecurity(
        as2_id="ACME",
        certificates=(x509.load_pem_x509_certificate((workdir / "ACME.cert.pem").read_bytes()),),
    )

    def process(message: dict[str, Any]) -> tuple[str, str]:
        inbound = unwrap(
            message["headers"], message["body"], ours=ours, partner=partner, max_size=64 * MB
        )
        mdn = build_reply_mdn(message["headers"], ours=ours, outcome=inbound)
        if mdn is None or not mdn.headers["Content-Type"].startswith("multipart/signed"):
            raise RuntimeError("edigate built no signed MDN")
        return hashlib.sha256(inbound.payload).hexdigest(), inbound.mic.value

    return process


def _pyas2lib(workdir: Path) -> Processor:
    from pyas2lib import as2

    pem = (workdir / "EDIGATE.cert.pem").read_bytes() + (workdir / "EDIGATE.key.pem").read_bytes()
    org = as2.Organization(as2_name="EDIGATE", sign_key=pem, decrypt_key=pem)
    acme = as2.Partner(as2_name="ACME", verify_cert=(workdir / "ACME.cert.pem").read_bytes())

    def process(message: dict[str, Any]) -> tuple[str, str]:
        received = as2.Message()
        status, (exc, _), mdn = received.parse(
            message["raw"], find_org_cb=lambda _: org, find_partner_cb=lambda _: acme
        )
        if status != "processed" or mdn is None:
            raise RuntimeError(f"pyas2lib: {status} {exc}")
        wire = mdn.headers_str + b"\r\n" + mdn.content  # what its server writes back
        if b"multipart/signed" not in wire[:4000]:
            raise RuntimeError("pyas2lib built no signed MDN")
        return hashlib.sha256(received.content).hexdigest(), received.mic.decode()

    return process


def _load(case: Case, workdir: Path) -> list[dict[str, Any]]:
    with (workdir / f"{case.name}.pickle").open("rb") as file:
        messages: list[dict[str, Any]] = pickle.load(file)
    return messages


def child_time(tool: str, case: Case, workdir: Path, runs: int, warmup: int) -> dict[str, Any]:
    """Check every message, then time ``runs`` runs (each over all messages) after ``warmup``."""
    messages = _load(case, workdir)[1:]
    process = _edigate(workdir) if tool == "edigate" else _pyas2lib(workdir)
    # Correctness before speed: the payload, and the MIC pyas2lib computed when it signed.
    for message in messages:
        digest, mic = process(message)
        if digest != message["payload_sha256"] or mic != message["mic"]:
            raise RuntimeError(f"{tool} unwrapped a different payload or MIC")
    for _ in range(warmup):
        for message in messages:
            process(message)
    seconds: list[float] = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        for message in messages:
            process(message)
        seconds.append(time.perf_counter() - start)
    return {"seconds": seconds, "messages": len(messages)}


def child_memory(tool: str, case: Case, workdir: Path) -> dict[str, Any]:
    """Peak RSS while processing one message, over the RSS just before it (warm imports)."""
    small, message = _load(case, workdir)[:2]
    process = _edigate(workdir) if tool == "edigate" else _pyas2lib(workdir)
    process(small)
    gc.collect()
    if not _reset_peak():
        return {"peak_delta_mb": None}
    before = _status_kib("VmRSS")
    process(message)
    return {"peak_delta_mb": (_status_kib("VmHWM") - before) / 1024}


# -- the parent ------------------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    tool: str
    msgs_s: float | None = None
    mb_s: float | None = None
    ms_msg: float | None = None
    spread: str = ""
    peak_delta_mb: float | None = None
    note: str = ""


def _run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO, check=False, env=env or dict(os.environ)
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(last[:120])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def measure(tool: str, case: Case, workdir: Path, runs: int, warmup: int) -> Row:
    common = ["--workdir", str(workdir), "--runs", str(runs), "--warmup", str(warmup)]
    try:
        timed = _run_child(["--child", tool, case.name, *common])
        peak: float | None = None
        if case.size >= MB:
            # A fixed mmap threshold makes glibc hand big blocks back on free, so the RSS
            # before the message is what is live, not what earlier messages left cached.
            env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
            peak = _run_child(["--child", tool, case.name, "--memory", *common], env)[
                "peak_delta_mb"
            ]
    except RuntimeError as exc:
        return Row(case, tool, note=f"failed: {exc}")
    seconds = timed["seconds"]
    median = statistics.median(seconds)
    count = timed["messages"]
    return Row(
        case,
        tool,
        msgs_s=count / median,
        mb_s=count * case.size / MB / median,
        ms_msg=median / count * 1000,
        spread=f"{min(seconds) / count * 1000:.1f}-{max(seconds) / count * 1000:.1f}",
        peak_delta_mb=peak,
    )


def _fmt(value: float | None, spec: str) -> str:
    width = int(spec.split(".")[0].rstrip(","))
    return "-".rjust(width) if value is None else format(value, spec)


def print_table(rows: list[Row]) -> None:
    print(
        f"\n{'case':<34} {'tool':<9} {'msgs/s':>8} {'MB/s':>7} {'ms/msg':>8} "
        f"{'min-max ms':>13} {'peak RSS +MB':>12}  note"
    )
    for r in rows:
        print(
            f"{r.case.label:<34} {r.tool:<9} {_fmt(r.msgs_s, '8.1f')} {_fmt(r.mb_s, '7.2f')} "
            f"{_fmt(r.ms_msg, '8.1f')} {r.spread:>13} {_fmt(r.peak_delta_mb, '12.1f')}  {r.note}"
        )
    print()
    for case in dict.fromkeys(r.case for r in rows):
        by_tool = {r.tool: r for r in rows if r.case == case and r.msgs_s}
        if len(by_tool) == 2:
            ratio = by_tool["edigate"].msgs_s / by_tool["pyas2lib"].msgs_s  # type: ignore[operator]
            print(f"ratio edigate / pyas2lib, {case.label}: {ratio:.2f}x (msgs/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"subset of {list(CASES)}")
    parser.add_argument("--runs", type=int, default=7, help="timed runs a case (median shown)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before them")
    parser.add_argument("--quick", action="store_true", help="3 timed runs, no warm-up run")
    parser.add_argument("--workdir", default=None, help="keep keys and messages here")
    parser.add_argument("--child", nargs=2, metavar=("TOOL", "CASE"), help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.warmup = 3, 0

    if args.child:
        tool, name = args.child
        case, workdir = CASES[name], Path(args.workdir)
        if args.memory:
            result = child_memory(tool, case, workdir)
        else:
            result = child_time(tool, case, workdir, args.runs, args.warmup)
        print(json.dumps(result))
        return 0

    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {list(CASES)}")
    cases = [CASES[n] for n in names]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="edigate-bench-as2-"))
    workdir.mkdir(parents=True, exist_ok=True)
    import cryptography
    import pyas2lib

    print(
        f"python {sys.version.split()[0]} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"cryptography {cryptography.__version__}, pyas2lib {pyas2lib.__version__}"
    )
    print(
        f"messages built by pyas2lib (sha256 signature, aes-256-cbc, RSA-2048), "
        f"{args.runs} timed runs after {args.warmup} warm-up, median shown"
    )
    started = time.perf_counter()
    generate(workdir, cases)
    print(f"generated in {time.perf_counter() - started:.1f} s under {workdir}")
    rows = [
        measure(tool, case, workdir, args.runs, args.warmup) for case in cases for tool in TOOLS
    ]
    print_table(rows)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
