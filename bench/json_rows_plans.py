"""What PostgreSQL's row estimate for a batch's JSON rows costs the batch finish: its one
UPDATE of ``messages`` (16 rows as one JSON parameter, joined by id), with the rows
counted as a hundred (``json_populate_recordset`` as it is, the form before the fifth
round of bench/README.md's "Orders at scale") and as ten (through ``unnest(ARRAY(...))``,
``gateway.store.postgresql._few``), on tables of several sizes, analyzed.

    python bench/json_rows_plans.py --url postgresql://postgres@127.0.0.1:5432/test

Prints, per table size and form, the plan's access to ``messages`` (a scan or the key)
and the server's execution time (``EXPLAIN ANALYZE``, median of ``--repeat``, each
rolled back). The tables live in schema ``bench_json_rows`` (dropped and re-created). A
script, not a test: nothing asserts on timings (tests/gateway/test_query_plans.py pins the
plans). Figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from orders_side import schema_url  # noqa: E402

from gateway.store.migrate import upgrade  # noqa: E402, TID251
from gateway.store.postgresql import _FINISH  # noqa: E402, TID251

SCHEMA = "bench_json_rows"
FEW = "unnest(ARRAY(SELECT json_populate_recordset(NULL::messages, %s::json)))"
FORMS = {"a hundred": _FINISH.replace(FEW, "json_populate_recordset(NULL::messages, %s::json)"),
         "ten": _FINISH}


def fill(url: str, messages: int, summary: int) -> None:
    """``messages`` processed messages of one partner on a fresh schema, analyzed, each
    with a summary of ``summary`` characters (none for 0)."""
    engine = create_engine(schema_url(url, "public"))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    upgrade(schema_url(url, SCHEMA))
    engine = create_engine(schema_url(url, SCHEMA))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO payloads (sha256, size, data, created_at) SELECT "
            "lpad(to_hex(n), 64, '0'), 3, '\\x414243'::bytea, now() "
            "FROM generate_series(1, :n) AS n"), {"n": messages})
        connection.execute(text(
            "INSERT INTO messages (id, partner_id, direction, transport, standard, status, "
            "payload_sha256, size, received_at, updated_at, interchange_sender, "
            "interchange_receiver, interchange_control, attempts, search_text, summary) "
            "SELECT 'm-' || n, 'acme-retail', 'inbound', 'https', 'x12', 'PROCESSED', "
            "lpad(to_hex(n), 64, '0'), 3, now() - (:n - n) * interval '1 s', now(), "
            "'ZZ:ACMERETAIL', 'ZZ:EDIGATE', lpad(n::text, 9, '0'), 1, "
            "'PO-' || n || ' 0001 ' || n, NULLIF(repeat('x', :summary), '') "
            "FROM generate_series(1, :n) AS n"), {"n": messages, "summary": summary})
        connection.execute(text("ANALYZE messages"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sizes", default="1000,3000,8000,12000,20000,50000")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--summary-chars", type=int, default=250,
                        help="each message's summary (0: none, narrower rows)")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        fill(args.url, size, args.summary_chars)
        engine = create_engine(schema_url(args.url, SCHEMA))
        raw = engine.raw_connection()
        cursor = raw.cursor()
        rows = json.dumps([{"id": f"m-{n}", "status": "PROCESSED", "search_text": "x",
                            "summary": "{}"} for n in range(size - 15, size + 1)])
        for form, sql in FORMS.items():
            times, plan = [], ""
            for _ in range(args.repeat):
                cursor.execute("EXPLAIN (ANALYZE) " + sql, (datetime.now(UTC), rows))
                plan = "\n".join(row[0] for row in cursor.fetchall())
                found = re.search(r"Execution Time: ([0-9.]+)", plan)
                assert found is not None, plan
                times.append(float(found.group(1)))
                raw.rollback()
            access = "scan" if "Seq Scan on messages" in plan else "key"
            print(f"{size:>7} messages, rows counted as {form:9}: {access:4} "
                  f"{statistics.median(times):6.2f} ms")
        raw.close()
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
