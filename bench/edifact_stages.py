"""Where the EDIFACT pipeline's time goes, stage by stage, against pydifact's parse.

Runs in one process on the generated D.96A file of ``bench/edifact.py`` (same seed,
same sizes) and times, as CPU seconds (best of ``--repeat``), each stage cumulatively:
the reader alone; the envelope walk and validation; the mappers with their records
completed (``translators.record_data.complete``: what the gateway stores); the records'
JSON (``record_json``: what consumers get, the row issue 16 point 13 counts); and, as a
what-if, the same run with completion left out, so that each record is the tree its
mapper built (the fields at their defaults absent) and its JSON is written as it is.
The last row is no record the gateway could store: it measures what the contract's
every-field-present records cost. pydifact parses the same file in a child process, as
``bench/edifact.py`` runs it, and each row's ratio is pydifact's CPU time over the row's.

    python bench/edifact_stages.py                 # compiled build, 10 MB
    python bench/edifact_stages.py --pure --size 1

This is a script, not a test: it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MB = 1_000_000


def _best(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--size", type=float, default=10.0, help="MB (default 10)")
    parser.add_argument("--pure", action="store_true", help="the pure-Python build")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="where bench/edifact.py keeps files")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO / "bench"))
    import edifact  # bench/edifact.py: the generator and the file cache

    # After that import, which puts the repository first on the path.
    sys.path.insert(0, str(REPO if args.pure else REPO / "build" / "compiled"))

    import translators.record_plans as plans
    from translators.edifact.pipeline import MessageOutcome, translate_edifact
    from translators.edifact.reader import EDIFACTReader
    from translators.record_data import record_json

    build = "pure Python" if args.pure else "mypyc"
    if not args.pure and Path(plans.__file__).suffix != ".so":
        print("build/compiled is missing or stale: run `make compiled` first")
        return 2
    workdir = Path(args.workdir or Path(tempfile.gettempdir()) / "edigate-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    data = edifact._dataset(workdir, int(args.size * MB))
    path = data.path

    def reader() -> None:
        with path.open("rb") as f:
            for _segment in EDIFACTReader(f):
                pass

    def pipeline(translate: bool, to_json: bool) -> None:
        with path.open("rb") as f:
            for outcome in translate_edifact(f, validate=True, translate=translate):
                if to_json and isinstance(outcome, MessageOutcome) and outcome.data:
                    record_json(outcome.data)

    completers = dict(plans.COMPLETERS)

    def uncompleted(to_json: bool) -> None:
        plans.COMPLETERS.update({name: _as_built for name in completers})
        try:
            pipeline(True, to_json)
        finally:
            plans.COMPLETERS.update(completers)

    rows = [
        ("reader", reader),
        ("+ envelope walk and validation", lambda: pipeline(False, False)),
        ("+ mappers, records completed", lambda: pipeline(True, False)),
        ("+ record_json (issue 16 point 13)", lambda: pipeline(True, True)),
        ("what-if: mappers, records not completed", lambda: uncompleted(False)),
        ("what-if: + their record_json", lambda: uncompleted(True)),
    ]
    pipeline(True, True)  # warm: schemas loaded, code paths imported
    print(f"python {sys.version.split()[0]}, {build} build, {path.name} "
          f"({data.size / MB:.1f} MB, {data.segments:,} segments), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # pydifact as bench/edifact.py runs it: in a child process of its own, so that its
    # collections do not walk this process's heap of loaded schemas.
    peer = edifact._measure("pydifact", path, 3600.0)["cpu_seconds"]
    print(f"{'stage (cumulative)':40s} {'CPU s':>8s} {'seg/CPU s':>11s} {'x pydifact':>11s}")
    print(f"{'pydifact parse':40s} {peer:8.3f} {data.segments / peer:11,.0f} {1:11.2f}")
    for label, run in rows:
        seconds = _best(run, args.repeat)
        print(f"{label:40s} {seconds:8.3f} {data.segments / seconds:11,.0f} "
              f"{peer / seconds:11.2f}")
    return 0


def _as_built(tree: dict[str, object]) -> dict[str, object]:
    return tree


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
