"""The two queries every message pays for keep their index whatever the statistics say.

Intake's duplicate lookup runs for every batch and a worker's claim for every message. Both
were once planned well only after ``messages`` had been analyzed: before that PostgreSQL
took the partner's index for the lookup (filtering every message of the partner) and
sorted every waiting message for a claim, so each grew slower with the table until
autovacuum's next ANALYZE. These tests migrate a database as ``edigate db upgrade`` does,
store a few thousand messages of one partner without analyzing, and read the plans.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.orm import Session

from gateway.processing.processor import claim_queries
from gateway.retention import purge
from gateway.retention.archive import TABLES
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Message
from gateway.store.postgresql import FIND_STORED

MESSAGES = 3000
PARTNER = "acme-retail"


@pytest.fixture
def migrated(database_url: str) -> Iterator[Database]:
    upgrade(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def _fill(connection: Connection) -> None:
    """MESSAGES messages of one partner, the oldest two thirds PROCESSED, the rest
    RECEIVED: a backlog behind a processed history, as under load."""
    processed = MESSAGES * 2 // 3
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            "INSERT INTO payloads (sha256, size, data, created_at) SELECT "
            "lpad(to_hex(n), 64, '0'), 3, '\\x414243'::bytea, now() "
            "FROM generate_series(1, :n) AS n"), {"n": MESSAGES})
        connection.execute(text(
            "INSERT INTO messages (id, partner_id, direction, transport, standard, status, "
            "payload_sha256, size, received_at, updated_at, interchange_sender, "
            "interchange_receiver, interchange_control, attempts) SELECT "
            "'m-' || n, :partner, 'inbound', 'https', 'x12', "
            "CASE WHEN n <= :processed THEN 'PROCESSED' ELSE 'RECEIVED' END, "
            "lpad(to_hex(n), 64, '0'), 3, now() - (:n - n) * interval '1 ms', now(), "
            "'ZZ:ACMERETAIL', 'ZZ:EDIGATE', lpad(n::text, 9, '0'), 0 "
            "FROM generate_series(1, :n) AS n"),
            {"n": MESSAGES, "partner": PARTNER, "processed": processed})
        return
    connection.execute(text(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
        "INSERT INTO payloads (sha256, size, data, created_at) "
        "SELECT printf('%064x', n), 3, X'414243', '2026-12-03 00:00:00' FROM s"),
        {"n": MESSAGES})
    connection.execute(text(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
        "INSERT INTO messages (id, partner_id, direction, transport, standard, status, "
        "payload_sha256, size, received_at, updated_at, interchange_sender, "
        "interchange_receiver, interchange_control, attempts) SELECT "
        "'m-' || n, :partner, 'inbound', 'https', 'x12', "
        "CASE WHEN n <= :processed THEN 'PROCESSED' ELSE 'RECEIVED' END, "
        "printf('%064x', n), 3, printf('2026-12-03 00:00:%02d.%06d', n / 1000, n % 1000), "
        "'2026-12-03 00:00:00', 'ZZ:ACMERETAIL', 'ZZ:EDIGATE', printf('%09d', n), 0 FROM s"),
        {"n": MESSAGES, "partner": PARTNER, "processed": processed})


def _plan(connection: Connection, sql: str, params: object) -> str:
    if connection.dialect.name == "postgresql":
        with connection.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute("EXPLAIN " + sql, params, prepare=False)
            return "\n".join(row[0] for row in cursor.fetchall())
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "\n".join(str(row[-1]) for row in rows)


def _compiled_plan(connection: Connection, query: Any,
                   values: dict[str, Any] | None = None) -> str:
    """The plan of Core ``query`` on the connection's database, its parameters bound to
    ``values`` where given (else to the values the query carries)."""
    compiled = query.compile(dialect=connection.dialect,
                             compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params(values)
    return _plan(connection, str(compiled), params if connection.dialect.paramstyle ==
                 "pyformat" else tuple(params[name] for name in compiled.positiontup or ()))


def test_claims_walk_the_queue_index(migrated: Database) -> None:
    """Each claim query reads only its status's rows of ix_messages_status_received; the
    RECEIVED one (the backlog, which can be long) in received order, without a sort."""
    now = utcnow() + timedelta(hours=1)
    with migrated.engine.begin() as connection:
        _fill(connection)
        expired, received = claim_queries(now)
        for query in (expired, received):
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            plan = _compiled_plan(connection, query)
            assert "ix_messages_status_received" in plan, plan
            # PROCESSING rows are the messages in flight, a few per worker: sorting them
            # is cheap. The RECEIVED ones are walked in order and the walk stops early.
            if query is received:
                assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_claims_payload_read_probes_the_payloads_key(migrated: Database) -> None:
    """A claim reads its payloads by digest, the digests one JSON parameter: a lookup of
    each on the payloads' primary key, never a scan of the table (as a join of the list,
    PostgreSQL scanned these few thousand payloads)."""
    from gateway.processing.processor import _payloads

    with migrated.engine.begin() as connection:
        _fill(connection)
        read = _payloads(connection.dialect).statement
        digests = '["' + "0" * 63 + '1", "' + "0" * 62 + '2a"]'
        plan = _compiled_plan(connection, read, {"digests": digests})
        assert "pk_payloads" in plan or "sqlite_autoindex_payloads" in plan, plan
        assert "Seq Scan on payloads" not in plan and "SCAN payloads" not in plan, plan
        rows = connection.execute(read, {"digests": digests}).all()
        assert rows == [("0" * 63 + "1", b"ABC"), ("0" * 62 + "2a", b"ABC")]


def test_the_order_books_reads_by_key_probe_the_orders_and_their_links(
        migrated: Database) -> None:
    """The order book reads a batch's orders by (partner, PO number), the keys one JSON
    parameter, with their links and their findings: lookups on the orders' unique key
    and the links' and findings' primary keys, not scans, on a few thousand orders
    analyzed as autovacuum leaves them (taking the JSON array for a hundred rows,
    PostgreSQL scanned the orders there)."""
    import json

    from sqlalchemy import insert

    from gateway.orders.book import _by_key
    from gateway.store.orders import OrderDocumentRow, OrderFindingRow, OrderRow

    orders, now = 3000, utcnow()
    with migrated.engine.begin() as connection:
        connection.execute(insert(OrderRow), [{
            "id": f"o-{n}", "partner_id": PARTNER, "po_number": f"PO-{n}", "status": "open",
            "ordered_amount": "0", "invoiced_amount": "0", "line_count": 0,
            "document_count": 3, "finding_count": 1, "has_discrepancy": True, "late": False,
            "lines_live": 0, "lines_filled": 0, "asn_count": 1, "asn_late": 0,
            "invoice_count": 1, "invoice_flagged": 0, "created_at": now, "updated_at": now}
            for n in range(orders)])
        connection.execute(insert(OrderDocumentRow), [{
            "order_id": f"o-{n}", "document": f"record:{n}-{k}", "message_id": f"m-{n}",
            "kind": "ship_notice", "direction": "inbound", "at": now, "superseded": False}
            for n in range(orders) for k in range(3)])
        connection.execute(insert(OrderFindingRow), [{
            "order_id": f"o-{n}", "position": 0, "code": "late", "category": "timing",
            "message": "late", "documents": "[]", "values": "{}", "fingerprint": f"f-{n}",
            "found_at": now} for n in range(orders)])
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE orders, order_documents, order_findings"))
        keys = json.dumps([[PARTNER, f"PO-{n}"] for n in range(0, orders, 300)])
        for read, tables in ((_by_key(connection.dialect).with_links,
                              ("orders", "order_documents")),
                             (_by_key(connection.dialect).found_at,
                              ("orders", "order_findings"))):
            plan = _compiled_plan(connection, read.statement, {"keys": keys})
            for table in tables:
                assert f"Seq Scan on {table}" not in plan, plan
                assert f"SCAN {table}" not in plan, plan
            assert len(connection.execute(read.statement, {"keys": keys}).all()) == \
                (30 if read is _by_key(connection.dialect).with_links else 10)
        if connection.dialect.name == "postgresql":
            # The order rows' update (MultiRowUpdate: one statement joining the rows to
            # the orders by id) probes the orders' key too.
            from gateway.orders.book import _UPDATE_ORDERS
            from gateway.store.driver import UpdateTarget
            from gateway.store.postgresql import POSTGRESQL

            target = UpdateTarget.of(connection.dialect, _UPDATE_ORDERS.table, "id",
                                     _UPDATE_ORDERS.columns)
            with connection.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
                explaining = _Explaining(cursor)
                POSTGRESQL.update_rows(explaining, target, [
                    [f"o-{n}", *([None] * len(_UPDATE_ORDERS.columns))]
                    for n in range(0, orders, 300)])
            [plan] = explaining.plans
            assert "pk_orders" in plan and "Seq Scan on orders" not in plan, plan


class _Explaining:
    """A driver cursor that asks PostgreSQL for the plan of each statement instead of
    running it (the statements a dialect builds and sends itself), keeping the plans."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.plans: list[str] = []

    def execute(self, sql: str, params: Any = None) -> None:
        self.cursor.execute("EXPLAIN " + sql, params, prepare=False)
        self.plans.append("\n".join(row[0] for row in self.cursor.fetchall()))


def test_a_batch_finish_updates_its_messages_by_key(migrated: Database) -> None:
    """PostgreSQL: the batch finish's one UPDATE joins its rows (a JSON parameter) to
    ``messages`` by lookups on the primary key, on a few thousand messages analyzed as
    autovacuum leaves them (taking the rows for a hundred, it scanned them all)."""
    if migrated.engine.dialect.name != "postgresql":
        pytest.skip("SQLite updates each row by its key (an executemany)")
    from gateway.store.models import FinishedMessage
    from gateway.store.postgresql import POSTGRESQL

    with migrated.engine.begin() as connection:
        _fill(connection)
        connection.execute(text("ANALYZE messages"))
        with connection.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            explaining = _Explaining(cursor)
            POSTGRESQL.finish_messages(explaining, [
                FinishedMessage(f"m-{n}", "PROCESSED", None, "850", "x", "{}", None)
                for n in range(MESSAGES - 16, MESSAGES)], now=utcnow(), at=utcnow())
    [plan] = explaining.plans
    assert "pk_messages" in plan and "Seq Scan on messages" not in plan, plan


def test_claim_order(migrated: Database) -> None:
    """The claims' queries, run: the oldest RECEIVED message, or an expired lease first."""
    with migrated.engine.begin() as connection:
        _fill(connection)
    with Session(migrated.engine) as session:
        def first(now_offset: timedelta) -> str | None:
            for query in claim_queries(utcnow() + now_offset):
                found = session.execute(query).first()
                if found is not None:
                    return str(found.id)
            return None

        assert first(timedelta()) == f"m-{MESSAGES * 2 // 3 + 1}"
        newest = session.get_one(Message, f"m-{MESSAGES}")
        newest.status = "PROCESSING"
        newest.locked_until = utcnow() + timedelta(minutes=5)
        session.flush()
        # The lease is running: the oldest RECEIVED message is next.
        assert first(timedelta()) == f"m-{MESSAGES * 2 // 3 + 1}"
        # Ten minutes on, the lease has expired: that message comes first.
        assert first(timedelta(minutes=10)) == f"m-{MESSAGES}"


def test_duplicate_lookup_probes_the_unique_keys(migrated: Database) -> None:
    """PostgreSQL: the lookup of a batch finds its keys on the two unique indexes, never
    by filtering the partner's messages on ix_messages_partner_received."""
    if migrated.engine.dialect.name != "postgresql":
        pytest.skip("the array lookup is PostgreSQL's; SQLite's IN lists are checked by "
                    "test_intake's duplicate tests")
    keys = [f"{n:064x}" for n in (5, 77, 1200, 2999)]
    with migrated.engine.begin() as connection:
        _fill(connection)
        plan = _plan(connection, FIND_STORED, [
            keys, [f"{n:09d}" for n in (5, 77, 1200, 2999)], ["ZZ:ACMERETAIL"]])
        found = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        found.execute(FIND_STORED, [keys[:2], ["000001200"], ["ZZ:ACMERETAIL"]],
                      prepare=False)
        rows = found.fetchall()
    assert "uq_messages_payload" in plan and "uq_messages_interchange" in plan, plan
    assert "ix_messages_partner_received" not in plan, plan
    assert sorted(row[0] for row in rows) == ["m-1200", "m-5", "m-77"]


def test_the_due_scan_resumes_at_its_cursor(migrated: Database) -> None:
    """Each batch of a retention run's scan for due messages starts in the index where the
    previous one ended: the cursor bounds the index scan, rather than filtering every
    message from the oldest on (which made a run quadratic in the messages it passed),
    and SQLite reads the rows in index order instead of sorting them."""
    with migrated.engine.begin() as connection:
        _fill(connection)
        middle = connection.execute(select(Message.received_at, Message.id).order_by(
            Message.received_at, Message.id).offset(MESSAGES // 3).limit(1)).one()
        plan = _compiled_plan(connection, purge.due_query(
            utcnow() + timedelta(days=1), (middle.received_at, middle.id), 100))
    assert "ix_messages_received" in plan, plan
    bounds = [line for line in plan.splitlines()
              if "Index Cond" in line or line.startswith("SEARCH")]
    assert any("received_at >=" in line or "received_at>?" in line for line in bounds), plan
    assert "TEMP B-TREE" not in plan, plan


def test_what_a_purge_looks_up_leads_an_index(migrated: Database) -> None:
    """A purge finds a batch's rows in every archived table by message id, and asks of
    each payload it would delete whether any row still refers to it (PostgreSQL's foreign
    keys ask it again for each one deleted). Each of those columns leads an index, or
    every batch reads the whole table ("Retention" in bench/README.md)."""
    inspector = inspect(migrated.engine)

    def leading(table: str) -> set[str]:
        keys = [*inspector.get_indexes(table), *inspector.get_unique_constraints(table)]
        return ({key["column_names"][0] for key in keys}
                | set(inspector.get_pk_constraint(table)["constrained_columns"][:1]))

    looked_up = [purge.by_message(table) for table in TABLES[1:]]
    looked_up += purge.PAYLOAD_REFERENCES
    assert [f"{column.table.name}.{column.name}" for column in looked_up
            if column.name not in leading(column.table.name)] == []


def test_the_payload_check_looks_as2_digests_up_after_analyze(migrated: Database) -> None:
    """SQLite: with inbound AS2 rows (no payload_sha256) analyzed, the purge's check that
    no row refers to a payload still looks the digest up. A full index counted their NULLs
    as one value held by every row, and SQLite scanned the table for each payload."""
    if migrated.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's statistics keep NULLs apart (null_frac)")
    with migrated.engine.begin() as connection:
        connection.execute(text(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
            "INSERT INTO as2_messages (id, direction, partner_id, as2_message_id, status, "
            "kind, raw_sha256, attempts, created_at, updated_at) SELECT 'a-' || n, 'in', "
            ":partner, 'm-' || n, 'received', 'document', printf('%064x', n), 0, "
            "'2026-12-03 00:00:00', '2026-12-03 00:00:00' FROM s"),
            {"n": MESSAGES, "partner": PARTNER})
        connection.exec_driver_sql("ANALYZE")
        plan = _compiled_plan(connection, purge.delete_unreferenced([f"{1:064x}"]))
    assert "SCAN" not in plan, plan
    assert "ix_as2_messages_payload_sha256" in plan and "ix_as2_messages_raw_sha256" in plan
