"""Orders kept at processing time (issue 19 points 1-6): an inbound PO and the documents
edigate sends for it join one order, visible through /v1/orders, with events for the
webhooks; reprocessing and the time rules keep it right."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from gateway.delivery.webhooks import create_webhook, subscriptions
from gateway.ledger.chain import LedgerEntry
from gateway.orders.book import Joining, OrderBook
from gateway.orders.story import Rules
from gateway.store.base import utcnow
from gateway.store.brokers import BrokerDelivery, BrokerRoute, session_info
from gateway.store.db import Database
from gateway.store.events import Event
from gateway.store.orders import OrderDocumentRow, OrderFindingRow, OrderLineRow, OrderRow
from gateway.store.webhooks import WebhookDelivery
from tests.gateway.test_documents import Env, _asn

REPO = Path(__file__).resolve().parents[3]
PO_EDI = (REPO / "samples" / "acme-850.x12").read_bytes()
RESPONSE = json.loads((REPO / "samples" / "acme-855.json").read_text())["records"][0]


def receive(env: Env, body: bytes) -> str:
    answer = env.client.post("/v1/messages", content=body, headers={
        "Authorization": f"Bearer {env.keys['acme']}", "Content-Type": "application/edi-x12"})
    assert answer.status_code == 202, answer.text
    message_id: str = answer.json()["message_id"]
    list(env.state.pipeline.drain("test"))
    return message_id


def order(env: Env, po: str = "PO-4711", key: str = "reader") -> dict[str, Any]:
    answer = env.get(f"/v1/orders/acme-retail/{po}", key=key)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


ORDER_EVENTS = ("order.created,order.acknowledged,order.shipped,order.invoiced,"
                "order.discrepancy,order.late,order.cancelled")


def subscribe(env: Env, kinds: str = ORDER_EVENTS) -> None:
    """A webhook taking the order events (events nothing subscribes to are not made)."""
    with env.state.db.transaction() as session:
        create_webhook(session, env.state.ledger, url="https://crm.invalid/orders",
                       kinds=kinds, actor="test")


def event_types(env: Env) -> list[str]:
    with env.state.db.read() as session:
        return list(session.scalars(select(Event.type).where(Event.type.like("order.%"))
                                    .order_by(Event.seq)))


def shipment(quantity: str, **changes: Any) -> dict[str, Any]:
    item = {"line_number": "1", "item_ids": {"vendor_item": "V-100"},
            "quantity_shipped": quantity, "unit": "EA"}
    return _asn(orders=[{"po_number": "PO-4711", "packs": [
        {"sscc": "000123456000000012", "items": [item]}]}], **changes)


def test_an_inbound_po_and_what_we_send_for_it_are_one_order(env: Env) -> None:
    subscribe(env)
    receive(env, PO_EDI)
    listed = env.get("/v1/orders", key="reader", partner="acme-retail").json()["items"]
    assert [(o["po_number"], o["status"], o["role"]) for o in listed] == [
        ("PO-4711", "open", "sell")]
    story = order(env)
    assert [(ln["line_number"], ln["ordered"], ln["unit"]) for ln in story["lines"]] == [
        ("1", "8", "EA"), ("2", "12", "CS"), ("3", "2.5", "LBR")]
    assert story["ordered_amount"] == "381.975"  # 8 x 10.50 + 12 x 24.00 + 2.5 x 3.99
    assert story["documents"][0]["functional_ack"] == "accepted"  # the 997 we sent

    assert env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).status_code == 202
    story = order(env)
    assert story["status"] == "acknowledged"
    # The response leaves line 3 out: accepted as ordered.
    assert [ln["confirmed"] for ln in story["lines"]] == ["8", "12", "2.5"]
    assert story["documents"][1]["direction"] == "outbound"
    assert story["documents"][1]["functional_ack"] == "pending"  # the partner's 997

    assert env.send({"partner_id": "acme-retail", "records": [shipment("8")]}
                    ).status_code == 202
    story = order(env)
    assert story["status"] == "partially_shipped"  # line 2 not shipped yet
    assert [ln["shipped"] for ln in story["lines"]] == ["8", "0", "0"]

    invoice = {"kind": "invoice", "invoice_number": "INV-1", "po_number": "PO-4711",
               "invoice_date": "2026-12-01",
               "lines": [{"line_number": "1", "quantity": "8", "unit": "EA",
                          "unit_price": "11.00", "item_ids": {"vendor_item": "V-100"}}],
               "totals": {"amount": "88.00"}}
    assert env.send({"partner_id": "acme-retail", "records": [invoice]}).status_code == 202
    story = order(env)
    assert story["status"] == "invoiced" and story["has_discrepancy"]
    price = next(f for f in story["findings"] if f["code"] == "price_mismatch")
    assert price["values"] == {"invoiced_price": "11", "ordered_price": "10.5"}
    assert price["line"] == "line 1"
    assert [d["kind"] for d in story["documents"]] == [
        "purchase_order", "order_response", "ship_notice", "invoice"]
    # The sample's requested delivery date (2026-11-25) is past: no ship notice by then is
    # late from the start, and the notice that comes is late too (after that date, and
    # long after its ship date).
    assert event_types(env) == ["order.created", "order.late", "order.acknowledged",
                                "order.shipped", "order.late", "order.invoiced",
                                "order.discrepancy"]
    flagged = env.get("/v1/orders", key="reader", has_discrepancy="true").json()["items"]
    assert [o["po_number"] for o in flagged] == ["PO-4711"]
    assert env.get("/v1/orders", key="reader", has_discrepancy="false").json()["items"] == []
    with env.state.db.read() as session:
        updates = list(session.scalars(select(LedgerEntry).where(
            LedgerEntry.event == "ORDER_UPDATED")))
    assert updates and all(json.loads(e.details)["po_number"] == "PO-4711" for e in updates)


def test_reprocessing_the_po_tells_the_same_story(env: Env) -> None:
    message_id = receive(env, PO_EDI)
    assert env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).status_code == 202
    before = order(env)
    answer = env.client.post(f"/v1/messages/{message_id}/reprocess",
                             headers={"Authorization": f"Bearer {env.keys['ops']}"})
    assert answer.status_code in (200, 202), answer.text
    waiting = order(env)  # the PO's record is gone until the new run stores it again
    assert [f["code"] for f in waiting["findings"]] == ["no_purchase_order"]
    list(env.state.pipeline.drain("test"))
    after = order(env)
    volatile = {"updated_at", "documents", "findings", "due_at"}
    assert {k: v for k, v in after.items() if k not in volatile} == {
        k: v for k, v in before.items() if k not in volatile}
    assert [(d["kind"], d["direction"]) for d in after["documents"]] == [
        ("purchase_order", "inbound"), ("order_response", "outbound")]


def test_an_order_told_with_fewer_lines_and_findings_keeps_no_stale_rows(env: Env) -> None:
    """Lines and findings are written over the rows at their positions; when a document
    leaves the order (its message reprocessed) and the order is told with fewer, the rows
    past the new counts are deleted, and the rest say what the story says now."""
    message_id = receive(env, PO_EDI)
    assert env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).status_code == 202
    item = {"line_number": "9", "item_ids": {"vendor_item": "V-999"},
            "quantity_shipped": "1", "unit": "EA"}
    assert env.send({"partner_id": "acme-retail", "records": [_asn(orders=[{
        "po_number": "PO-4711", "packs": [{"sscc": "000123456000000012", "items": [
            item]}]}])]}).status_code == 202

    def stored() -> tuple[OrderRow, list[tuple[int, str | None]], list[tuple[int, str]]]:
        with env.state.db.read() as session:
            return (session.scalars(select(OrderRow)).one(),
                    [tuple(r) for r in session.execute(select(
                        OrderLineRow.position, OrderLineRow.line_number)
                        .order_by(OrderLineRow.position))],
                    [tuple(r) for r in session.execute(select(
                        OrderFindingRow.position, OrderFindingRow.code)
                        .order_by(OrderFindingRow.position))])

    row, lines, findings = stored()
    assert row.line_count == len(lines) == 4  # the PO's three and the one not ordered
    assert row.finding_count == len(findings) == 3
    answer = env.client.post(f"/v1/messages/{message_id}/reprocess",
                             headers={"Authorization": f"Bearer {env.keys['ops']}"})
    assert answer.status_code in (200, 202), answer.text
    waiting = order(env)  # told from the order response alone
    row, lines, findings = stored()
    assert lines == [(n, line["line_number"]) for n, line in enumerate(waiting["lines"])]
    assert row.line_count == len(lines) < 4
    assert findings == [(n, f["code"]) for n, f in enumerate(waiting["findings"])]
    assert row.finding_count == len(findings) < 3
    list(env.state.pipeline.drain("test"))
    row, lines, findings = stored()
    assert row.line_count == len(lines) == 4
    assert row.finding_count == len(findings) == 3


def test_po_numbers_with_any_character_and_a_missing_order(env: Env) -> None:
    receive(env, PO_EDI.replace(b"BEG*00*SA*PO-4711", b"BEG*00*SA*PO/47 11%"))
    assert order(env, "PO/47%2011%25")["po_number"] == "PO/47 11%"
    listed = env.get("/v1/orders", key="ops", po_number="PO/47 11%").json()["items"]
    assert len(listed) == 1
    missing = env.get("/v1/orders/acme-retail/NOPE/1", key="reader")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "NOPE/1" in missing.json()["detail"]
    bad = env.get("/v1/orders", key="reader", status="lost")
    assert bad.status_code == 422


def test_a_document_joins_an_order_once(db: Database) -> None:
    """Two PO numbers of a ship notice alike in the 80 characters an order's number keeps
    name one order, which lists the ship notice once (no X12 or EDIFACT element carries
    such a number, but a submitted record may)."""
    book = OrderBook(lambda partner: Rules())
    long = "P" * 80
    now = utcnow()
    with db.transaction() as session:
        book.join(session, [
            Joining("acme-retail", f"record:{n}", f"m-{n}", "ship_notice", "inbound", now,
                    {"kind": "ship_notice", "shipment_id": f"SHP-{n}",
                     "orders": [{"po_number": long + "A"}, {"po_number": long + "B"}]})
            for n in (1, 2)], now, "test")
    with db.read() as session:
        orders = session.execute(select(OrderRow.po_number, OrderRow.document_count)).all()
        links = session.execute(select(OrderDocumentRow.document)
                                .order_by(OrderDocumentRow.document)).scalars().all()
    assert [tuple(o) for o in orders] == [(long, 2)]
    assert links == ["record:1", "record:2"]


def test_a_missing_order_response_becomes_a_finding_on_the_clock(env: Env) -> None:
    subscribe(env)
    receive(env, PO_EDI)
    with env.state.db.read() as session:
        row = session.scalars(select(OrderRow)).one()
        due = row.due_at
    assert due is not None and due > utcnow()
    book = env.state.pipeline.processor.orders
    assert book.sweep(env.state.db, env.state.ledger, utcnow(), "test") == 0
    assert book.sweep(env.state.db, env.state.ledger, due + timedelta(minutes=1), "test") == 1
    story = order(env)
    assert story["late"] and story["due_at"] is None
    assert "acknowledgment_late" in [f["code"] for f in story["findings"]]
    assert event_types(env)[-1] == "order.late"
    # Swept once: the finding is not told again.
    assert book.sweep(env.state.db, env.state.ledger, due + timedelta(hours=2), "test") == 0
    late = env.get("/v1/orders", key="reader", late="true").json()["items"]
    assert [o["po_number"] for o in late] == ["PO-4711"]


def test_rebuild_joins_documents_stored_before_the_order_tables(env: Env) -> None:
    """A database upgraded with documents already in it: ``edigate orders rebuild`` joins
    them (received and sent alike) into the orders processing would have made, quietly,
    and a second run changes nothing."""
    subscribe(env)
    receive(env, PO_EDI)
    assert env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).status_code == 202
    before = order(env)
    told = event_types(env)
    with env.state.db.transaction() as session:
        for table in (OrderFindingRow, OrderLineRow, OrderDocumentRow, OrderRow):
            session.execute(delete(table))
    book = env.state.pipeline.processor.orders
    for _ in range(2):
        assert book.rebuild(env.state.db, env.state.ledger, utcnow(), "test") == 2
        after = order(env)
        volatile = {"id", "created_at", "updated_at", "due_at", "findings"}
        assert {k: v for k, v in after.items() if k not in volatile} == {
            k: v for k, v in before.items() if k not in volatile}
        assert [f["code"] for f in after["findings"]] == [
            f["code"] for f in before["findings"]]
    assert event_types(env) == told


def test_the_scorecard_adds_up_the_partners_orders(env: Env) -> None:
    """Two orders: one answered, shipped in full on time and invoiced with a wrong price,
    one never answered; the scorecard's figures are what those documents say."""
    receive(env, PO_EDI)
    receive(env, PO_EDI.replace(b"PO-4711", b"PO-4712").replace(b"000004711", b"000004712")
            .replace(b"*4711*", b"*4712*").replace(b"GE*1*4711", b"GE*1*4712"))
    assert env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).status_code == 202
    items = [{"line_number": n, "item_ids": ids, "quantity_shipped": q, "unit": u}
             for n, ids, q, u in (("1", {"vendor_item": "V-100"}, "8", "EA"),
                                  ("2", {"vendor_item": "V-200"}, "12", "CS"),
                                  ("3", {"sku": "SKU-3"}, "2.5", "LB"))]
    notice = _asn(ship_date=utcnow().date().isoformat(), orders=[{
        "po_number": "PO-4711", "packs": [{"sscc": "000123456000000012", "items": items}]}])
    assert env.send({"partner_id": "acme-retail", "records": [notice]}).status_code == 202
    card = env.get("/v1/partners/acme-retail/scorecard", key="reader").json()
    assert card["orders"] == 2
    assert card["acknowledgment"]["acknowledged_orders"] == 1
    assert card["acknowledgment"]["within_due_rate"] == 1.0
    assert (card["lines_to_ship"], card["lines_filled"], card["fill_rate"]) == (3, 3, 1.0)
    # The notice came after the requested delivery date (2026-11-25): not on time.
    assert (card["ship_notices"], card["on_time_ship_notice_rate"]) == (1, 0.0)
    assert card["ordered_amount"] == {"USD": "763.95"}
    assert card["volumes"] == {"received": 2, "sent": 2}
    assert card["rejected"] == {"received": 0, "sent": 0}
    assert card["invoices"] == 0 and card["invoice_accuracy"] is None
    past = env.get("/v1/partners/acme-retail/scorecard", key="reader",
                   until="2020-01-01T00:00:00Z").json()
    assert past["orders"] == 0 and past["fill_rate"] is None
    assert env.get("/v1/partners/nobody/scorecard", key="reader").status_code == 404
    assert env.get("/v1/partners/acme-retail/scorecard", key="reader",
                   since="2030-01-01T00:00:00Z", until="2029-01-01T00:00:00Z"
                   ).status_code == 422


def test_only_subscribed_order_events_are_made(env: Env) -> None:
    """Events are outbox rows: with nothing subscribed none is stored (the order and its
    ledger entry are, whatever the subscriptions); a subscription to some types makes
    those only, each with a webhook delivery."""
    receive(env, PO_EDI)
    assert event_types(env) == []
    assert order(env)["status"] == "open"
    subscribe(env, "order.acknowledged")
    assert env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).status_code == 202
    assert event_types(env) == ["order.acknowledged"]
    with env.state.db.read() as session:
        subjects = list(session.scalars(select(WebhookDelivery.subject)))
    assert subjects == ["event"]


def test_a_broker_taking_order_events_makes_them(env: Env) -> None:
    """A broker route counts as a subscriber: the events it takes are made (and a
    broker delivery with them), those it does not are not."""
    receive(env, PO_EDI)
    with env.state.db.transaction() as session:
        session.info.update(session_info([BrokerRoute("nats", frozenset({"order.late"}))]))
        assert subscriptions(session).event_types == {"order.late"}
        book = env.state.pipeline.processor.orders
        row = session.scalars(select(OrderRow)).one()
        book.retell_due(session, (row.due_at or utcnow()) + timedelta(minutes=1), "test")
    assert event_types(env) == ["order.late"]
    with env.state.db.read() as session:
        assert list(session.scalars(select(BrokerDelivery.event_type))) == ["order.late"]


def test_a_stored_record_reads_as_json_reads_it() -> None:
    """Stored records are parsed with orjson: what telling reads of them is what the
    standard library reads, and what orjson refuses (NaN, a lone surrogate) json reads."""
    from gateway.orders.book import _record

    record = RESPONSE | {"note": "\u00e9\u4e2d\U0001f600", "totals": {"amount": "10.50"}}
    texts = [json.dumps(record, ensure_ascii=False), json.dumps(record),
             '{"po_number": "PO-1", "lines": [], "x": NaN}', '{"po_number": "\\ud800"}']
    for text in texts:
        assert repr(_record(text)) == repr(json.loads(text))


def test_transactions_joining_the_same_orders_at_once_all_commit(db: Database) -> None:
    """Workers join ship notices naming the same orders at once, each naming them in its
    own order (new orders among them), while others take documents out again
    (``forget_message``, which finds its orders by id): on PostgreSQL, where they really
    run at once, every transaction commits (each takes the orders' locks in one order: no
    deadlock), and every order holds exactly the documents that joined it and stayed."""
    import random
    import threading
    import time

    from sqlalchemy import update

    book = OrderBook(lambda partner: Rules())
    pool = [f"PO-{n}" for n in range(6)]
    failures: list[BaseException] = []
    kept: set[tuple[str, str]] = set()  # (PO number, document) of the documents that stay

    def work(worker: int) -> None:
        chosen = random.Random(worker)
        joined: list[tuple[str, set[tuple[str, str]]]] = []
        try:
            for n in range(12):
                if joined and chosen.random() < 0.3:  # a reprocess request's transaction
                    with db.transaction() as session:
                        book.forget_message(session, joined.pop(0)[0], utcnow(), "test")
                        time.sleep(0.002)
                with db.transaction() as session:
                    now = utcnow()
                    message = f"m-{worker}-{n}"
                    named = {f"record:{message}-{k}": chosen.sample(pool, 3) for k in range(2)}
                    book.join(session, [
                        Joining("acme-retail", key, message, "ship_notice", "inbound", now,
                                {"kind": "ship_notice", "shipment_id": key,
                                 "orders": [{"po_number": po} for po in pos]})
                        for key, pos in named.items()], now, "test")
                    # No record row stands behind these documents: their links keep the
                    # data, so that later transactions tell the orders from all of them.
                    for key, pos in named.items():
                        session.execute(update(OrderDocumentRow).where(
                            OrderDocumentRow.document == key).values(kept=json.dumps(
                                {"kind": "ship_notice", "shipment_id": key,
                                 "orders": [{"po_number": po} for po in pos]})))
                    joined.append((message, {(po, key) for key, pos in named.items()
                                             for po in pos}))
                    time.sleep(0.002)  # hold the locks while the others come for them
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        for _, links in joined:
            kept.update(links)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with db.read() as session:
        stored = session.execute(select(OrderRow.po_number, OrderDocumentRow.document).join(
            OrderDocumentRow, OrderDocumentRow.order_id == OrderRow.id)).all()
        orders = session.scalars(select(OrderRow.po_number)).all()
        told = dict(session.execute(select(OrderRow.po_number, OrderRow.document_count)).all())
    assert sorted(orders) == pool  # one order a PO number, however many made it at once
    assert {tuple(link) for link in stored} == kept
    # Each order was last told by a transaction that saw every document it holds: no
    # telling was lost to one that read the links before another's commit.
    assert told == {po: sum(1 for named, _ in kept if named == po) for po in pool}


def test_a_finding_told_again_keeps_when_it_was_first_found(db: Database) -> None:
    """A finding that stands when its order is told again (a later document joins, or
    one leaves) keeps its first-found time, whichever way the order's stored findings
    were read (with the orders by key when documents join, by id when one leaves)."""
    from sqlalchemy import update

    book = OrderBook(lambda partner: Rules())
    first = utcnow() - timedelta(hours=2)

    def notice(n: int, at: Any) -> Joining:
        return Joining("acme-retail", f"record:sn-{n}", f"m-{n}", "ship_notice", "inbound",
                       at, {"kind": "ship_notice", "shipment_id": f"SN-{n}",
                            "orders": [{"po_number": "PO-NONE"}]})

    def join(n: int, at: Any) -> None:
        with db.transaction() as session:
            book.join(session, [notice(n, at)], at, "test")
            # No record row stands behind these documents: their links keep the data,
            # as a retention purge leaves them.
            session.execute(update(OrderDocumentRow).where(
                OrderDocumentRow.document == f"record:sn-{n}").values(
                kept=json.dumps(notice(n, at).data)))

    def found() -> dict[str, Any]:
        with db.read() as session:
            return dict(session.execute(select(OrderFindingRow.code,
                                               OrderFindingRow.found_at)).all())

    join(1, first)
    assert found() == {"no_purchase_order": first}
    later = first + timedelta(hours=1)
    join(2, later)
    assert found() == {"no_purchase_order": first}
    with db.transaction() as session:
        book.forget_message(session, "m-2", later + timedelta(minutes=5), "test")
    assert found() == {"no_purchase_order": first}
