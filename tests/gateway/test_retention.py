"""Retention: due messages are archived, then purged batch by batch with a ledger entry
each; the ledger still verifies; a hold keeps a message; an archive restores what it
holds, once, and only when its manifest vouches for it."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select

from gateway.intake.pipeline import Delivery
from gateway.ledger.chain import LedgerEntry, verify_ledger
from gateway.orders.queries import order_view
from gateway.retention import purge
from gateway.retention.archive import TABLES, ArchiveError, file_sha256
from gateway.retention.policy import RetentionPolicy
from gateway.runtime.demo import demo_interchange
from gateway.runtime.state import GatewayState
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.base import utcnow
from gateway.store.https import HTTPSStatus, HTTPSTransfer
from gateway.store.models import Message, MessageStatus, add_payload
from gateway.store.orders import OrderLineRow, OrderRow
from gateway.store.rollups import MessageRollup, rebuild
from gateway.store.sftp import SFTPStatus, SFTPTransfer
from gateway.store.webhooks import DeliveryStatus, Webhook, WebhookDelivery


@pytest.fixture
def state(build_state: Callable[..., GatewayState]) -> GatewayState:
    return build_state(retention="purchase_order=30,rejected=10", ledger_checkpoint_every=7)


def receive(state: GatewayState, controls: range, *, broken: bool = False) -> list[str]:
    ids = []
    for control in controls:
        body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                                control, break_it=broken)
        ids.append(state.pipeline.receive(Delivery("acme-retail", "https", body),
                                          "test").message_id)
    list(state.pipeline.drain("test-worker"))
    return ids


def policy(state: GatewayState) -> RetentionPolicy:
    return RetentionPolicy.of(state.settings, state.registry)


def snapshot(state: GatewayState) -> dict[str, list[tuple[Any, ...]]]:
    """Every archived table's rows, sorted (records without their feed seq)."""
    with state.db.read() as session:
        out = {}
        for table in TABLES:
            columns = [c for c in table.columns if c.name != "seq"]
            out[table.name] = sorted((tuple(map(repr, row)) for row in session.execute(
                select(*columns))), key=repr)
        return out


def rollups(connection: Connection) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in connection.execute(select(MessageRollup.__table__)))


def rollups_match_a_rebuild(state: GatewayState) -> bool:
    with state.db.engine.begin() as connection:
        kept = rollups(connection)
        rebuild(connection)
        rebuilt = rollups(connection)
    return [r for r in kept if any(r[4:])] == rebuilt


def test_due_messages_are_archived_then_purged_and_the_ledger_verifies(
        state: GatewayState) -> None:
    """Processed orders past 30 days and rejected ones past 10 go, with their payloads,
    records, acknowledgments and terms, into a checksummed archive and out of the
    database; the held one stays; `ledger verify` passes before and after; each batch is
    a RETENTION_PURGED entry naming the archive and the ids removed."""
    orders = receive(state, range(700, 703))
    rejected = receive(state, range(710, 712), broken=True)
    with state.db.read() as session:
        assert {m.id: m.status for m in session.scalars(select(Message))} == (
            dict.fromkeys(orders, MessageStatus.PROCESSED)
            | dict.fromkeys(rejected, MessageStatus.REJECTED))
    assert purge.hold(state.db, state.ledger, orders[0], actor="test", reason="dispute",
                      now=utcnow())
    assert verify_ledger(state.db, state.signer).ok

    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=utcnow() + timedelta(days=31), actor="test", batch=2)

    assert (report.due, report.purged, report.skipped) == (4, 4, 0)
    assert report.archive is not None and report.archive.is_file()
    digest = file_sha256(report.archive)
    assert report.archive_sha256 == digest
    manifest = report.archive.with_name(report.archive.name + ".sha256").read_text()
    assert manifest == f"{digest}  {report.archive.name}\n"
    left = snapshot(state)
    assert [row[0] for row in left["messages"]] == [repr(orders[0])]
    assert all(repr(orders[0]) in row for row in left["records"])
    assert all(repr(orders[0]) in row for row in left["message_terms"])
    assert len(left["payloads"]) == 1
    assert verify_ledger(state.db, state.signer).ok
    with state.db.read() as session:
        entries = list(session.scalars(select(LedgerEntry).where(
            LedgerEntry.event == "RETENTION_PURGED").order_by(LedgerEntry.seq)))
    details = [json.loads(e.details) for e in entries]
    assert [d["messages"] for d in details] == [2, 2]
    assert {d["archive_sha256"] for d in details} == {digest}
    purged = sorted([*orders[1:], *rejected])
    with gzip.open(report.archive, "rt") as stream:
        batches = [json.loads(line)["message_ids"] for line in stream if '"batch"' in line[:9]]
    assert sorted(i for b in batches for i in b) == purged
    assert [d["message_ids_sha256"] for d in details] == [
        hashlib.sha256("".join(f"{i}\n" for i in sorted(b)).encode()).hexdigest()
        for b in batches]
    assert rollups_match_a_rebuild(state)


def test_nothing_is_due_before_its_period(state: GatewayState) -> None:
    """Processed orders at 29 days stay; only the rejected message (10 days) goes."""
    receive(state, range(720, 722))
    rejected = receive(state, range(730, 731), broken=True)
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=utcnow() + timedelta(days=29), actor="test")
    assert (report.examined, report.purged) == (3, 1)
    with state.db.read() as session:
        assert rejected[0] not in set(session.scalars(select(Message.id)))
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=utcnow() + timedelta(days=5), actor="test")
    assert report.archive is None and report.purged == 0


def test_restore_loads_the_archive_back_once(state: GatewayState) -> None:
    """After a purge, restore brings back exactly the rows that were there; a second
    restore inserts nothing and fails nothing; the rollups still match the messages."""
    receive(state, range(740, 743))
    receive(state, range(750, 751), broken=True)
    before = snapshot(state)
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=utcnow() + timedelta(days=31), actor="test", batch=3)
    assert report.purged == 4 and report.archive is not None
    assert snapshot(state)["messages"] == []

    restored = purge.restore(state.db, state.ledger, report.archive, actor="test")
    assert restored["messages"] == 4
    assert snapshot(state) == before
    assert rollups_match_a_rebuild(state)
    again = purge.restore(state.db, state.ledger, report.archive, actor="test")
    assert again["messages"] == 0
    assert snapshot(state) == before
    assert verify_ledger(state.db, state.signer).ok


def test_an_acknowledgment_uploaded_over_sftp_goes_and_comes_back_with_its_message(
        state: GatewayState) -> None:
    """The SFTP upload row of a message's acknowledgment, and its payload, are archived
    and purged with the message (a foreign key refers to both) and restored with it."""
    ids = receive(state, range(780, 782), broken=True)
    with state.db.transaction() as session:
        digest = add_payload(session, b"ISA*00*TA1 for 780~")
        session.add(SFTPTransfer(id="sftp-780", partner_id="acme-retail", message_id=ids[0],
                                 kind="ack", remote_path="/out/780.ack",
                                 payload_sha256=digest, status="delivered"))
    before = snapshot(state)
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=utcnow() + timedelta(days=11), actor="test")
    assert (report.purged, report.rows["sftp_transfers"]) == (2, 1)
    left = snapshot(state)
    assert left["sftp_transfers"] == [] and left["payloads"] == []
    assert report.archive is not None
    assert purge.restore(state.db, state.ledger, report.archive,
                         actor="test")["sftp_transfers"] == 1
    assert snapshot(state) == before


def _pending_work(session: Any, kind: str, message_id: str) -> Any:
    """A row of ``kind``'s outbox still on its way for ``message_id``."""
    if kind == "webhook":
        session.add(Webhook(id="hook-1", url="https://crm.example/hook", kinds="",
                            secret="s"))
        session.flush()
        return WebhookDelivery(id="delivery-1", webhook_id="hook-1", subject="record",
                               record_id="record-1", record_seq=1, message_id=message_id,
                               status=DeliveryStatus.PENDING)
    digest = add_payload(session, b"ISA*00*TA1 for 790~")
    if kind == "https":
        return HTTPSTransfer(id="https-1", partner_id="acme-retail", message_id=message_id,
                             url="https://acme.example/in", payload_sha256=digest,
                             content_type="application/edi-x12", status=HTTPSStatus.PENDING)
    if kind == "sftp":
        return SFTPTransfer(id="sftp-1", partner_id="acme-retail", message_id=message_id,
                            kind="ack", remote_path="/out/790.ack", payload_sha256=digest,
                            status=SFTPStatus.PENDING)
    return AS2Message(id="as2-1", partner_id="acme-retail", direction="in",
                      as2_message_id="<790@acme>", message_id=message_id,
                      status=AS2Status.RECEIVED, mdn_status=AS2Status.PENDING)


_DONE = {"webhook": DeliveryStatus.DELIVERED, "https": HTTPSStatus.DELIVERED,
         "sftp": SFTPStatus.FAILED, "as2": AS2Status.SENT}


@pytest.mark.parametrize("kind", sorted(_DONE))
def test_a_message_waits_for_its_outbox_work_before_it_is_purged(
        state: GatewayState, kind: str) -> None:
    """A rejected message past its 10 days whose acknowledgment (or record delivery, or
    MDN) is still pending stays, counted as waiting; once the work is done (delivered,
    or failed for good), the next run purges it."""
    ids = receive(state, range(790, 792), broken=True)
    with state.db.transaction() as session:
        row = _pending_work(session, kind, ids[0])
        session.add(row)
    later = utcnow() + timedelta(days=11)
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=later, actor="test")
    assert (report.due, report.waiting, report.purged) == (1, 1, 1)
    with state.db.read() as session:
        assert set(session.scalars(select(Message.id))) == {ids[0]}
    with state.db.transaction() as session:
        stored = session.get(type(row), row.id)
        if kind == "as2":
            stored.mdn_status = _DONE[kind]
        else:
            stored.status = _DONE[kind]
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=later + timedelta(seconds=1), actor="test")
    assert (report.due, report.waiting, report.purged) == (1, 0, 1)
    with state.db.read() as session:
        assert list(session.scalars(select(Message.id))) == []


def _order(state: GatewayState) -> tuple[str, int, int, list[str]]:
    with state.db.read() as session:
        order = session.scalars(select(OrderRow)).one()
        ordered = list(session.scalars(select(OrderLineRow.ordered).where(
            OrderLineRow.order_id == order.id).order_by(OrderLineRow.position)))
        return order.status, order.line_count, order.document_count, ordered


def test_an_order_told_again_after_its_po_was_purged_keeps_the_po(
        state: GatewayState) -> None:
    """The PO's message goes at 30 days; its order stays, and when the worker's clock
    tells it again (its acknowledgment fell due) it is told from the same PO, kept with
    the order's link: the same status and lines, not an order emptied of them."""
    receive(state, range(800, 801))
    before = _order(state)
    assert before[1:3] == (3, 1)
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=utcnow() + timedelta(days=31), actor="test")
    assert (report.purged, report.rows["order_documents_kept"]) == (1, 1)
    orders = state.pipeline.processor.orders
    orders.sweep(state.db, state.ledger, utcnow() + timedelta(days=400), "test")
    assert _order(state) == before
    with state.db.read() as session:
        view = order_view(session, "acme-retail", "PO-4711")
    assert view is not None and [d["purged"] for d in view["documents"]] == [True]


def test_an_altered_archive_is_refused_before_anything_is_written(
        state: GatewayState) -> None:
    """One changed byte: the manifest no longer vouches for the archive."""
    receive(state, range(760, 761), broken=True)
    report = purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                       now=utcnow() + timedelta(days=11), actor="test")
    assert report.archive is not None
    data = bytearray(report.archive.read_bytes())
    data[-12] ^= 0x01
    report.archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="manifest"):
        purge.restore(state.db, state.ledger, report.archive, actor="test")
    assert snapshot(state)["messages"] == []


def test_release_makes_a_held_message_due_again(state: GatewayState) -> None:
    """A hold is a ledger entry and keeps the message through runs; released, it goes."""
    ids = receive(state, range(770, 771), broken=True)
    assert purge.hold(state.db, state.ledger, ids[0], actor="op", now=utcnow())
    assert not purge.hold(state.db, state.ledger, ids[0], actor="op", now=utcnow())
    later = utcnow() + timedelta(days=11)
    assert purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                     now=later, actor="test").purged == 0
    assert purge.release(state.db, state.ledger, ids[0], actor="op")
    assert not purge.release(state.db, state.ledger, ids[0], actor="op")
    assert purge.run(state.db, state.ledger, policy(state), state.settings.archive_dir,
                     now=later, actor="test").purged == 1
    with state.db.read() as session:
        events = list(session.scalars(select(LedgerEntry.event).where(
            LedgerEntry.message_id == ids[0]).order_by(LedgerEntry.seq)))
    assert events[-2:] == ["LEGAL_HOLD", "LEGAL_HOLD_RELEASED"]


def test_holding_an_unknown_message_is_a_located_404(state: GatewayState) -> None:
    with pytest.raises(purge.HoldError) as caught:
        purge.hold(state.db, state.ledger, "no-such-id", actor="op", now=utcnow())
    assert caught.value.status == 404 and "no-such-id" in caught.value.detail


def test_the_day_is_claimed_once(state: GatewayState) -> None:
    """The daily job runs in one process a day, whichever asks first."""
    assert purge.claim_day(state.db, 20000)
    assert not purge.claim_day(state.db, 20000)
    assert purge.claim_day(state.db, 20001)


@pytest.mark.parametrize(("partner", "status", "kinds", "days"), [
    ("p", "PROCESSED", ["purchase_order"], 30),
    ("p", "PROCESSED", ["purchase_order", "invoice"], 2555),  # the longest wins
    ("p", "REJECTED", [], 10),
    ("p", "REJECTED", ["invoice"], 2555),
    ("p", "PROCESSED", ["ship_notice"], 365),  # default
    ("q", "PROCESSED", ["ship_notice"], None),  # q's profile removes nothing, has no default
    ("q", "PROCESSED", ["functional_ack"], 7),  # q overrides the setting
    ("p", "RECEIVED", [], None),  # never before a final status
])
def test_policy_days(partner: str, status: str, kinds: list[str], days: int | None) -> None:
    policy = RetentionPolicy({"purchase_order": 30, "invoice": 2555, "rejected": 10,
                              "functional_ack": 90, "default": 365},
                             {"q": {"functional_ack": 7, "default": 36500}})
    expected = 36500 if (partner, days) == ("q", None) else days
    assert policy.days_for(partner, status, kinds) == expected
