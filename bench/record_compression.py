"""How PostgreSQL's compression of stored values (TOAST) weighs on writing records: the
demo's record JSON inserted 16 rows a statement (a batch finish's records) into tables
whose text column uses pglz (the server's default), lz4 (migration 0020) or none.

    python bench/record_compression.py --url postgresql://postgres@127.0.0.1:5432/test

Prints, per method, the time per record (median of ``--repeat`` rounds, each inserting
``--records`` records) and the bytes each record takes in the table. The records are the
demo interchanges' (ship notice, invoice, purchase orders) translated, each copy given its
own document number, so that no two stored values are the same text. A script, not a
test: nothing asserts on timings. Figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from translators.record_data import record_json  # noqa: E402
from translators.x12.pipeline import TransactionOutcome, translate_x12  # noqa: E402

DEMO = ROOT / "gateway" / "runtime" / "demo_data"
METHODS = {"pglz": "COMPRESSION pglz", "lz4": "COMPRESSION lz4", "none": None}
BATCH = 16


def demo_records() -> list[str]:
    """The record JSON of every transaction in the demo's X12 samples."""
    found = []
    for name in ("globex-856.edi", "globex-810.edi", "acme-850.edi", "acme-860.edi"):
        for outcome in translate_x12((DEMO / name).read_bytes()):
            if isinstance(outcome, TransactionOutcome) and outcome.data is not None:
                found.append(record_json(outcome.data))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--records", type=int, default=1600)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    samples = demo_records()
    records = [samples[n % len(samples)].replace('"PO-', f'"PO-{n:07d}-', 1)
               for n in range(args.records)]
    print(f"{len(records)} records, {statistics.mean(map(len, records)):.0f} characters "
          f"each on average, {BATCH} a statement")
    with psycopg.connect(args.url, autocommit=True) as connection:
        # Each statement commits; without waiting for the WAL's flush, whose time would
        # swamp what is measured (the gateway's commits wait for it once a batch).
        connection.execute("SET synchronous_commit = off")
        times: dict[str, list[float]] = {method: [] for method in METHODS}
        for _ in range(args.repeat):
            # Methods interleaved round by round: a slower minute of the machine falls on
            # every method alike.
            for method, clause in METHODS.items():
                table = f"bench_record_compression_{method}"
                connection.execute(f"DROP TABLE IF EXISTS {table}")
                connection.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, "
                                   f"data text {clause or ''})")
                if clause is None:
                    connection.execute(f"ALTER TABLE {table} ALTER COLUMN data "
                                       "SET STORAGE EXTERNAL")
                started = time.perf_counter()
                for start in range(0, len(records), BATCH):
                    # One JSON parameter, as the gateway sends a batch's rows (psycopg
                    # escapes a text array's elements in Python, which would be timed).
                    connection.execute(
                        f"INSERT INTO {table} (data) SELECT json_array_elements_text(%s::json)",
                        (json.dumps(records[start:start + BATCH]),))
                times[method].append(time.perf_counter() - started)
        for method in METHODS:
            table = f"bench_record_compression_{method}"
            stored = connection.execute(
                f"SELECT avg(pg_column_size(data)) FROM {table}").fetchone()
            assert stored is not None
            per_record = statistics.median(times[method]) / len(records) * 1e6
            print(f"{method:5} {per_record:7.1f} us a record, {float(stored[0]):7.0f} bytes "
                  f"stored a record")
            connection.execute(f"DROP TABLE {table}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
