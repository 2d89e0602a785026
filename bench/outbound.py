"""Outbound benchmark: canonical records to validated, enveloped EDI (issue 18 point 11).

Records come from translating bench/x12.py's 004010 file (850/810/856) and
bench/edifact.py's D.96A file (ORDERS/INVOIC/DESADV), kept as JSON Lines under the
workdir: what an internal system would submit. Each row runs in its own subprocess:
``generate_x12`` / ``generate_edifact`` over batches of records (pure and compiled
builds), inbound translation of what the generator wrote (the comparison the issue
sets), and pyx12's XML-to-X12 writer on the simple XML form of the same X12.

    python bench/outbound.py --quick                 # about 1 MB of output
    python bench/outbound.py --sizes 10
    python bench/outbound.py --sizes 10,100 --tools edigate-generate-x12   # memory

See bench/README.md ("Outbound") for what each row means. This is a script, not a test:
it asserts nothing about timings. It must not change what the generators write: every
interchange goes through them as the gateway calls them.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
# The mypyc-compiled copy of the translators (``make compiled``), measured as its own row.
COMPILED = REPO / "build" / "compiled"
if os.environ.get("EDIGATE_BENCH_COMPILED") == "1":
    sys.path.insert(0, str(COMPILED))
else:
    sys.path.insert(0, str(REPO))

MB = 1_000_000
STANDARDS = ("x12", "edifact")
# Tools in table order, per standard.
ROWS = {
    "x12": [
        "edigate-generate-x12",
        "edigate-generate-x12-mypyc",
        "edigate-translate-x12",
        "edigate-translate-x12-mypyc",
        "pyx12-xmlx12",
    ],
    "edifact": [
        "edigate-generate-edifact",
        "edigate-generate-edifact-mypyc",
        "edigate-translate-edifact",
        "edigate-translate-edifact-mypyc",
    ],
}
ALL_TOOLS = [tool for rows in ROWS.values() for tool in rows]
# The issue's goal: generating takes at most this many times inbound translation.
GOAL_GENERATE_OVER_TRANSLATE = 2.0
# pyx12's writer parses the whole XML document into one ElementTree, and making that XML
# (untimed) validates at pyx12's pace; above this output size the row is not run.
PYX12_CAP = 10 * MB
# Envelope options of every generated interchange: fixed, so that reruns write the same
# bytes and the pure and compiled rows can be compared byte for byte.
CREATED_AT = datetime(2024, 1, 2, 15, 30, tzinfo=UTC)


def _bench_module(name: str) -> ModuleType:
    """bench/<name>.py imported by path (bench/ is not a package), for its generators."""
    qualified = f"bench_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is made.
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


# -- the generators, as the gateway calls them ---------------------------------------------


def _generator(standard: str) -> Any:
    """A function (records, interchange number) -> bytes: one checked interchange."""
    if standard == "x12":
        from translators.x12.generate import X12Envelope, generate_x12

        def x12(records: list[dict[str, Any]], number: int) -> bytes:
            envelope = X12Envelope(
                sender_id="EDIGATEBENCH", receiver_id="PARTNER",
                interchange_control=f"{number:09d}", created_at=CREATED_AT,
                version="004010", group_control=str(number))
            return generate_x12(records, envelope)

        return x12
    from translators.edifact.generate import EDIFACTEnvelope, generate_edifact

    def edifact(records: list[dict[str, Any]], number: int) -> bytes:
        envelope = EDIFACTEnvelope(
            sender_id="5412345000013", sender_qualifier="14", receiver_id="8712345678920",
            receiver_qualifier="14", interchange_control=str(number), created_at=CREATED_AT)
        return generate_edifact(records, envelope)

    return edifact


_EDIFACT_RELEASED = re.compile(rb"\?.", re.DOTALL)


def count_segments(standard: str, data: bytes) -> int:
    """Segments in one generated interchange: terminators, less released ones in EDIFACT
    (the UNA, whose service string holds the terminator, is not a segment)."""
    if standard == "x12":
        # ISA is fixed-length: its 106th byte is the segment terminator. A terminator
        # cannot occur in X12 data, so counting it counts segments.
        return data.count(data[105:106])
    if data.startswith(b"UNA"):
        data = data[9:]
    return _EDIFACT_RELEASED.sub(b"", data).count(b"'")


# -- the inputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    standard: str
    label: str  # size label used in file names, "1", "10", ...
    source: Path  # the inbound EDI the records were translated from
    records: Path  # JSON Lines, one record a line
    meta: dict[str, Any]

    def output(self, compiled: bool) -> Path:
        suffix = "-mypyc" if compiled else ""
        return self.records.with_name(f"outbound-{self.standard}-{self.label}mb{suffix}.edi")

    @property
    def xml(self) -> Path:
        return self.records.with_name(f"outbound-{self.standard}-{self.label}mb.xml")


def _source_file(workdir: Path, standard: str, size: int) -> Path:
    """The inbound file of bench/x12.py or bench/edifact.py, generated there once."""
    if standard == "x12":
        x12 = _bench_module("x12")
        name = f"x12-004010-{size // MB}mb.edi"
        return Path(x12._dataset(workdir, "004010 850/810/856", name, size, False).path)
    edifact = _bench_module("edifact")
    return Path(edifact._dataset(workdir, size).path)


def _translated(standard: str, source: Path) -> Iterator[tuple[dict[str, Any] | None, str]]:
    """(record data or None, reason) for every transaction set / message of ``source``."""
    if standard == "x12":
        from translators.x12.pipeline import TransactionOutcome, translate_x12

        with source.open("rb") as f:
            for outcome in translate_x12(f):
                if isinstance(outcome, TransactionOutcome):
                    yield outcome.data, _not_translated(outcome.document.set_id, outcome.issues)
        return
    from translators.edifact.pipeline import MessageOutcome, translate_edifact

    with source.open("rb") as f:
        for message in translate_edifact(f):
            if isinstance(message, MessageOutcome):
                yield message.data, _not_translated(message.document.type,
                                                    message.issues)


def _not_translated(name: str, issues: list[Any]) -> str:
    first = next((i for i in issues if i.severity == "error"), None)
    return f"{name} not translated" + (f": {first.message}" if first else "")


def prepare(standard: str, source: Path, records: Path, batch: int) -> dict[str, Any]:
    """Write the records of ``source`` that generate without error to ``records``.

    Runs in a child. Records are checked the way the timed row will use them, a batch at a
    time; a batch that fails is retried a record at a time so that only the records that
    fail are left out. Returns the counts and the first reasons, so nothing hides."""
    import orjson

    from translators.generation import GenerationError
    from translators.record_data import record_json

    if standard == "x12":
        from translators.x12.generate import SUPPORTED_KINDS
    else:
        from translators.edifact.generate import SUPPORTED_KINDS
    generate = _generator(standard)
    kept: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    reasons: list[str] = []

    def skip(kind: str, reason: str) -> None:
        skipped[kind] += 1
        if len(reasons) < 5:
            reasons.append(reason[:300])

    def flush(pending: list[str], out: io.BufferedWriter) -> None:
        trees = [orjson.loads(line) for line in pending]
        try:
            generate(trees, 1)
            good = list(range(len(pending)))
        except GenerationError:
            good = []
            for n, tree in enumerate(trees):
                try:
                    generate([tree], 1)
                    good.append(n)
                except GenerationError as exc:
                    skip(str(tree["kind"]), f"{tree['kind']}: {exc}")
        for n in good:
            kept[str(trees[n]["kind"])] += 1
            out.write(pending[n].encode() + b"\n")

    pending: list[str] = []
    with records.open("wb") as out:
        for data, reason in _translated(standard, source):
            if data is None:
                skip("(not translated)", reason)
            elif data["kind"] not in SUPPORTED_KINDS:
                skip(str(data["kind"]), f"kind {data['kind']} is not generated")
            else:
                pending.append(record_json(data))
                if len(pending) == batch:
                    flush(pending, out)
                    pending = []
        if pending:
            flush(pending, out)
    return {"records": sum(kept.values()), "kinds": dict(kept), "skipped": dict(skipped),
            "reasons": reasons, "batch": batch}


def _inputs(workdir: Path, standard: str, size: int, batch: int, timeout: float) -> Inputs:
    """The JSON Lines of ``size`` MB of inbound EDI, prepared once per (size, batch)."""
    label = f"{size / MB:g}"
    source = _source_file(workdir, standard, size)
    records = workdir / f"outbound-{standard}-{label}mb.jsonl"
    meta_path = records.with_name(records.name + ".meta.json")
    meta: dict[str, Any] = {}
    if meta_path.exists() and records.exists():
        meta = json.loads(meta_path.read_text())
    if meta.get("batch") != batch:
        print(f"preparing {records.name} from {source.name} (translate, check each batch) ...",
              flush=True)
        meta = _run_child("prepare-" + standard, [str(source), str(records)], batch, timeout)
        meta_path.write_text(json.dumps(meta))
    return Inputs(standard, label, source, records, meta)


# -- the tools, each run in a child process ------------------------------------------------


def _run_generate(standard: str, records: Path, out_path: Path, batch: int) -> dict[str, Any]:
    """Records from the JSON Lines, ``batch`` an interchange, each written as soon as it is
    generated: one batch of records and one interchange are held at a time."""
    import orjson

    generate = _generator(standard)
    segments = interchanges = count = 0
    with records.open("rb") as src, out_path.open("wb") as out:
        pending: list[dict[str, Any]] = []
        for line in src:
            pending.append(orjson.loads(line))
            if len(pending) == batch:
                interchanges += 1
                data = generate(pending, interchanges)
                out.write(data)
                segments += count_segments(standard, data)
                count += len(pending)
                pending = []
        if pending:
            interchanges += 1
            data = generate(pending, interchanges)
            out.write(data)
            segments += count_segments(standard, data)
            count += len(pending)
    return {"count": segments, "records": count, "interchanges": interchanges}


def _run_translate(standard: str, path: Path) -> dict[str, Any]:
    """Inbound translation and ``record_json`` of every record, as bench/x12.py's and
    bench/edifact.py's ``-json`` rows run it (their functions, imported)."""
    if standard == "x12":
        outcomes = _bench_module("x12")._run_edigate_full(path, to_json=True)
        return {"count": outcomes}
    segments, issues = _bench_module("edifact")._run_edigate(path, translate=True, to_json=True)
    return {"count": segments, "issues": issues}


def _run_pyx12_xmlx12(xml: Path, out_path: Path) -> dict[str, Any]:
    import pyx12.xmlx12_simple

    with out_path.open("w", encoding="utf-8", newline="") as out:
        pyx12.xmlx12_simple.convert(str(xml), out)
    return {"count": out_path.read_bytes().count(b"~")}


def _check_compiled(standard: str) -> None:
    """Refuse to report a -mypyc row that did not run the compiled modules."""
    import translators.record_data as record_data

    if standard == "x12":
        import translators.x12.pipeline as pipeline
    else:
        import translators.edifact.pipeline as pipeline  # type: ignore[no-redef]
    for module in (pipeline, record_data):
        if not module.__file__ or not module.__file__.endswith(".so"):
            raise SystemExit(f"not the compiled build: {module.__file__}")


def _child(tool: str, files: list[str], batch: int) -> None:
    start = time.perf_counter()
    cpu_start = time.process_time()
    standard = "x12" if "x12" in tool else "edifact"
    if tool.endswith("-mypyc"):
        _check_compiled(standard)
    result: dict[str, Any]
    if tool.startswith("prepare-"):
        result = prepare(standard, Path(files[0]), Path(files[1]), batch)
    elif tool.startswith("edigate-generate-"):
        result = _run_generate(standard, Path(files[0]), Path(files[1]), batch)
    elif tool.startswith("edigate-translate-"):
        result = _run_translate(standard, Path(files[0]))
    elif tool == "pyx12-xmlx12":
        result = _run_pyx12_xmlx12(Path(files[0]), Path(files[1]))
    elif tool == "idle":
        result = {"count": 0}
    else:
        raise SystemExit(f"unknown tool {tool}")
    result["seconds"] = time.perf_counter() - start
    result["cpu_seconds"] = time.process_time() - cpu_start
    result["peak_rss_mb"] = _bench_module("x12")._peak_rss_kib() / 1024
    print(json.dumps(result))


def _run_child(tool: str, files: list[str], batch: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tool, *files,
           "--batch", str(batch)]
    env = dict(os.environ)
    # The inputs are prepared with the compiled build when there is one: the records are
    # the same (the goldens hold both builds to it), and preparing is untimed.
    compiled = tool.endswith("-mypyc") or (tool.startswith("prepare-") and _compiled_ok())
    env["EDIGATE_BENCH_COMPILED"] = "1" if compiled else "0"
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          check=False, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(last[:200])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _compiled_ok() -> bool:
    return not _bench_module("x12")._compiled_is_stale()


# -- the parent ----------------------------------------------------------------------------


@dataclass
class Row:
    tool: str
    note: str = ""
    seg_s: float | None = None
    cpu_seg_s: float | None = None
    rss_mb: float | None = None
    seconds: float | None = None
    cpu_seconds: float | None = None
    records_s: float | None = None


def _best(tool: str, files: list[str], batch: int, timeout: float, repeat: int
          ) -> dict[str, Any]:
    runs = [_run_child(tool, files, batch, timeout) for _ in range(repeat)]
    return min(runs, key=lambda r: float(r["seconds"]))


def _make_xml(x12: Path, xml: Path) -> None:
    """pyx12's simple XML of ``x12`` (untimed), validated with the project's 004010 maps."""
    import logging

    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    maps = _bench_module("x12")._supply_chain_maps()
    with xml.open("w", encoding="utf-8") as out:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), str(x12), io.StringIO(), None,
                                          out, map_path=maps)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def bench(inputs: Inputs, tools: list[str], batch: int, timeout: float
          ) -> list[tuple[str, float, float]]:
    """Run and print the rows of one standard and size; return (generate row, MB written,
    peak RSS MB) for the memory summary."""
    standard = inputs.standard
    wanted = [t for t in ROWS[standard] if t in tools]
    generated = inputs.output(compiled=False)
    meta_path = generated.with_name(generated.name + ".meta.json")
    gen_meta: dict[str, Any] | None = None
    if (meta_path.exists() and generated.exists()
            and generated.stat().st_mtime >= inputs.records.stat().st_mtime):
        gen_meta = json.loads(meta_path.read_text())
        if gen_meta.get("batch") != batch:
            gen_meta = None
    rows: list[Row] = []
    results: dict[str, dict[str, Any]] = {}
    for tool in wanted:
        compiled = tool.endswith("-mypyc")
        if tool.startswith("edigate-generate-"):
            files = [str(inputs.records), str(inputs.output(compiled))]
        elif tool.startswith("edigate-translate-"):
            files = [str(generated)]
        else:
            files = [str(inputs.xml), str(inputs.xml.with_suffix(".pyx12.edi"))]
        if not tool.startswith("edigate-generate-") and gen_meta is None:
            print(f"generating {generated.name} first (untimed) ...", flush=True)
            gen_meta = _run_child(f"edigate-generate-{standard}", [str(inputs.records),
                                  str(generated)], batch, timeout)
            meta_path.write_text(json.dumps({"count": gen_meta["count"], "batch": batch}))
        if tool == "pyx12-xmlx12":
            if generated.stat().st_size > PYX12_CAP * 1.5:
                rows.append(Row(tool, f"skipped: capped at {PYX12_CAP // MB} MB (whole XML "
                                      "tree in memory)"))
                continue
            if not inputs.xml.exists() or inputs.xml.stat().st_mtime < generated.stat().st_mtime:
                print(f"making {inputs.xml.name} with pyx12's x12n_document (untimed) ...",
                      flush=True)
                _make_xml(generated, inputs.xml)
        repeat = 3 if inputs.source.stat().st_size <= 2 * MB and tool != "pyx12-xmlx12" else 1
        try:
            result = _best(tool, files, batch, timeout, repeat)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            rows.append(Row(tool, f"failed: {exc}"[:120]))
            continue
        results[tool] = result
        if tool == f"edigate-generate-{standard}":
            gen_meta = {"count": result["count"], "batch": batch}
            meta_path.write_text(json.dumps(gen_meta))
        rows.append(_row(tool, result, gen_meta, inputs))
    if f"edigate-generate-{standard}-mypyc" in results and generated.exists():
        same = _digest(generated) == _digest(inputs.output(compiled=True))
        note = "same bytes as the pure build" if same else "DIFFERENT bytes from the pure build"
        for row in rows:
            if row.tool.endswith("generate-" + standard + "-mypyc"):
                row.note = (row.note + "; " if row.note else "") + note
    _print_table(inputs, generated, gen_meta, rows)
    return [(r.tool, inputs.output(r.tool.endswith("-mypyc")).stat().st_size / MB, r.rss_mb)
            for r in rows if r.tool.startswith("edigate-generate-") and r.rss_mb is not None]


def _row(tool: str, result: dict[str, Any], gen_meta: dict[str, Any] | None,
         inputs: Inputs) -> Row:
    """Rates over the segments the generator wrote: the same denominator for every row."""
    segments = int(gen_meta["count"]) if gen_meta else int(result["count"])
    seconds, cpu = float(result["seconds"]), float(result["cpu_seconds"])
    note = ""
    if tool.startswith("edigate-generate-"):
        note = f"{result['records']:,} records in {result['interchanges']:,} interchanges"
    elif tool == "pyx12-xmlx12":
        note = f"wrote {result['count']:,} segments"
    elif result.get("issues"):
        note = f"{result['issues']} issues"
    records = int(inputs.meta["records"])
    return Row(tool, note, segments / seconds, segments / cpu if cpu else None,
               float(result["peak_rss_mb"]), seconds, cpu, records / seconds)


def _fmt(value: float | None, spec: str) -> str:
    width = int(spec.split(".")[0].rstrip(","))
    return "-".rjust(width) if value is None else format(value, spec)


def _print_table(inputs: Inputs, generated: Path, gen_meta: dict[str, Any] | None,
                 rows: list[Row]) -> None:
    meta = inputs.meta
    size = generated.stat().st_size / MB if generated.exists() else 0.0
    segments = f"{int(gen_meta['count']):,}" if gen_meta else "?"
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(meta["kinds"].items()))
    print(f"\n## {inputs.standard.upper()} outbound: {size:.1f} MB written, {segments} segments,"
          f" {meta['records']:,} records ({kinds}) from {inputs.source.name}")
    skipped = sum(meta["skipped"].values())
    by_kind = ", ".join(f"{k} {v:,}" for k, v in meta["skipped"].items())
    print(f"skipped while preparing: {skipped:,}" + (f" ({by_kind})" if skipped else ""))
    for reason in meta["reasons"]:
        print(f"  - {reason}")
    print(f"{'tool':<32} {'segments/s':>11} {'seg/CPU s':>11} {'records/s':>10} "
          f"{'peak RSS MB':>12} {'seconds':>8} {'CPU s':>7}  note")
    for r in rows:
        print(f"{r.tool:<32} {_fmt(r.seg_s, '11,.0f')} {_fmt(r.cpu_seg_s, '11,.0f')} "
              f"{_fmt(r.records_s, '10,.0f')} {_fmt(r.rss_mb, '12.1f')} "
              f"{_fmt(r.seconds, '8.2f')} {_fmt(r.cpu_seconds, '7.2f')}  {r.note}")
    by_tool = {r.tool: r for r in rows if r.seconds}
    std = inputs.standard
    for build in ("", "-mypyc"):
        gen, tr = by_tool.get(f"edigate-generate-{std}{build}"), by_tool.get(
            f"edigate-translate-{std}{build}")
        if gen and tr and gen.seconds and tr.seconds and gen.cpu_seconds and tr.cpu_seconds:
            print(f"generate{build} / translate{build}: {gen.seconds / tr.seconds:.2f}x "
                  f"the time ({gen.cpu_seconds / tr.cpu_seconds:.2f}x the CPU time); goal at "
                  f"most {GOAL_GENERATE_OVER_TRANSLATE:g}x")
    peer = by_tool.get("pyx12-xmlx12")
    for build in ("", "-mypyc"):
        gen = by_tool.get(f"edigate-generate-{std}{build}")
        if gen and peer and gen.seg_s and peer.seg_s and gen.cpu_seg_s and peer.cpu_seg_s:
            print(f"edigate-generate-{std}{build} / pyx12-xmlx12: {gen.seg_s / peer.seg_s:.2f}x "
                  f"(segments/s), {gen.cpu_seg_s / peer.cpu_seg_s:.2f}x by CPU time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="1,10", help="MB of output, e.g. 1,10,100")
    parser.add_argument("--quick", action="store_true", help="about 1 MB only")
    parser.add_argument("--tools", default=",".join(ALL_TOOLS), help="comma-separated subset")
    parser.add_argument("--batch", type=int, default=100, help="records an interchange")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "edigate-bench"))
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per tool run")
    parser.add_argument("--child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        _child(args.child[0], args.child[1:], args.batch)
        return 0

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = sorted(set(tools) - set(ALL_TOOLS))
    if unknown:
        parser.error(f"unknown tools {unknown}; choose from {ALL_TOOLS}")
    sizes = [1 * MB] if args.quick else [int(float(s) * MB) for s in args.sizes.split(",") if s]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    loadavg = _bench_module("x12")._loadavg
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{loadavg()}, files in {workdir}, {args.batch} records an interchange")
    if any(t.endswith("-mypyc") for t in tools) and not _compiled_ok():
        print("building the mypyc-compiled copy into build/compiled (make compiled) ...",
              flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation",
             "--no-deps", "--upgrade", "--target", str(COMPILED), str(REPO)],
            check=True, env={**os.environ, "EDIGATE_MYPYC": "1"},
        )
    idle = _run_child("idle", [], args.batch, args.timeout)
    print(f"baseline: an idle child python is {idle['peak_rss_mb']:.1f} MB peak RSS")
    # Peak RSS of each generate row by output size: "flat" means it does not grow with it.
    memory: dict[str, list[str]] = {}
    for size in sizes:
        for standard in STANDARDS:
            if not any(t in tools for t in ROWS[standard]):
                continue
            inputs = _inputs(workdir, standard, size, args.batch, args.timeout)
            for tool, written, rss in bench(inputs, tools, args.batch, args.timeout):
                memory.setdefault(tool, []).append(f"{written:.1f} MB -> {rss:.1f} MB")
    if len(sizes) > 1:
        print("\npeak RSS by output size (idle child "
              f"{idle['peak_rss_mb']:.1f} MB):")
        for tool, points in memory.items():
            print(f"  {tool}: {', '.join(points)}")
    print(f"\nload average at the end: {loadavg()}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
