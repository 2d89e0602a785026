"""``edigate translate`` on large input: memory stays bounded while records stream out.

The files are generated into tmp_path by repeating one valid transaction (X12 850) or
message (EDIFACT ORDERS) with distinct control numbers, in one interchange, so that memory
held per transaction (records, outcomes, envelope entries) would show as growth. Peak RSS
is read by the child itself at exit from /proc/self/status (VmHWM): ``ru_maxrss`` would
count the pytest process it was forked from. The outputs are read a line at a time (the
document has one record per line) so that the test process stays small too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak RSS is read from Linux /proc"
)

REPO = Path(__file__).resolve().parents[2]
PO_4010 = REPO / "tests" / "data" / "x12" / "valid" / "850.4010.edi"
ORDERS = REPO / "gateway" / "runtime" / "demo_data" / "initech-orders.edi"
SIZE = 12_000_000  # bytes: enough that holding every record in memory breaks the limit
LIMIT_MIB = 200

CHILD = (
    "import sys\n"
    "from gateway.runtime.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "with open('/proc/self/status') as f:\n"
    "    peak = next(int(x.split()[1]) for x in f if x.startswith('VmHWM:')) // 1024\n"
    "sys.stderr.write(f'peak-mib={peak}\\n')\n"
    "raise SystemExit(status)\n"
)


def big_x12(path: Path, size: int) -> int:
    """One interchange of 850s (groups of 50) of about ``size`` bytes; returns the count."""
    text = PO_4010.read_text()
    lines = text.split("~")
    st = next(i for i, s in enumerate(lines) if s.strip().startswith("ST*"))
    se = next(i for i, s in enumerate(lines) if s.strip().startswith("SE*"))
    body = "~".join(s.strip() for s in lines[st + 1 : se]) + "~"
    isa = lines[0].strip()
    gs = lines[1].strip().split("*")
    segments_in_set = se - st + 1
    count = 0
    with path.open("w") as out:
        out.write(isa + "~\n")
        group = 0
        while out.tell() < size:
            group += 1
            out.write("*".join([*gs[:6], str(group), *gs[7:]]) + "~\n")
            for n in range(1, 51):
                out.write(f"ST*850*{n:04d}~{body}SE*{segments_in_set}*{n:04d}~\n")
            count += 50
            out.write(f"GE*50*{group}~\n")
        out.write(f"IEA*{group}*{isa.split('*')[13]}~\n")
    return count


def big_edifact(path: Path, size: int) -> int:
    """One interchange of ORDERS messages of about ``size`` bytes; returns the count."""
    data = ORDERS.read_text()
    start = data.index("UNH+")
    end = data.index("'", data.index("UNT+")) + 1
    header = data[:start]
    unb_ref = header.split("UNB+")[1].split("'")[0].split("+")[4]
    message = data[start:end]
    ref = message.split("+")[1]
    count = 0
    with path.open("w") as out:
        out.write(header)
        while out.tell() < size:
            count += 1
            unt = message.rindex("UNT+")
            body = message[:unt].replace(f"UNH+{ref}+", f"UNH+M{count}+", 1)
            tail = message[unt:].replace(f"+{ref}'", f"+M{count}'")
            out.write(body + tail + "\n")
        out.write(f"UNZ+{count}+{unb_ref}'")
    return count


def read_document(path: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The records (only their ``kind``) and the envelope tree of a translate document."""
    records: list[dict[str, str]] = []
    with path.open() as lines:
        assert next(lines) == '{"records":[\n'
        for line in lines:
            if line.startswith("]"):
                break
            records.append({"kind": json.loads(line.rstrip(",\n"))["kind"]})
        rest = line + lines.read()
    assert rest.startswith('],"interchanges":[')
    return records, json.loads("{" + rest[2:])["interchanges"]


def translate(path: Path, out: Path, *options: str) -> tuple[int, int, str]:
    """Run ``edigate translate`` as a process; return (status, peak MiB, stderr)."""
    with out.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, "translate", *options, str(path)],
            stdout=sink, stderr=subprocess.PIPE, cwd=REPO, timeout=600, check=False,
        )
    err = done.stderr.decode()
    peak = int(err.rsplit("peak-mib=", 1)[1])
    return done.returncode, peak, err


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--jsonl",)], ids=["document", "jsonl"])
def test_translate_large_x12_in_bounded_memory(tmp_path: Path, options: tuple[str, ...]) -> None:
    """Translating 12 MB of X12 peaks under 200 MiB and every record comes out (a CLI
    holding every record and the whole document goes well over)."""
    source = tmp_path / "big.x12"
    count = big_x12(source, SIZE)
    out = tmp_path / "out.json"
    status, peak, err = translate(source, out, *options)
    assert status == 0, err
    assert peak < LIMIT_MIB, f"peak RSS {peak} MiB"
    if options:
        with out.open() as lines:
            kinds = [json.loads(line)["kind"] for line in lines]
        assert kinds == ["purchase_order"] * count
    else:
        records, tree = read_document(out)
        assert [r["kind"] for r in records] == ["purchase_order"] * count
        [interchange] = tree
        assert sum(len(g["transactions"]) for g in interchange["groups"]) == count


@pytest.mark.slow
def test_translate_large_edifact_in_bounded_memory(tmp_path: Path) -> None:
    """Translating 12 MB of EDIFACT (messages outside groups) peaks under 200 MiB and every
    record comes out."""
    source = tmp_path / "big.edi"
    count = big_edifact(source, SIZE)
    out = tmp_path / "out.json"
    status, peak, err = translate(source, out)
    assert status == 0, err
    assert peak < LIMIT_MIB, f"peak RSS {peak} MiB"
    records, tree = read_document(out)
    assert [r["kind"] for r in records] == ["purchase_order"] * count
    [interchange] = tree
    assert len(interchange["messages"]) == count and interchange["issues"] == []
    assert all(m["issues"] == [] for m in interchange["messages"])
