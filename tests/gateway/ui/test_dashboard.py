"""The dashboard's counts come from ``message_rollups``, kept in the transactions that store
and finish messages: after intake, processing, a failure, reprocessing and an outbound
document they equal a direct count of the messages, on SQLite and PostgreSQL, and
``edigate db upgrade`` counts the messages a database held before the table existed."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Table, select, text

from gateway.api.api_keys import issue_key
from gateway.processing.processor import Processor
from gateway.runtime.demo import demo_interchange
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Message
from gateway.store.rollups import DailyRollup, MessageRollup
from gateway.ui import queries

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI

# The status groups as the dashboard names them, written out here rather than imported.
_GROUP = {"RECEIVED": "waiting", "PROCESSING": "waiting", "PROCESSED": "processed",
          "REJECTED": "rejected", "FAILED": "failed", "GENERATED": "generated",
          "HELD": "held"}
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_COUNTERS = ("messages", "waiting", "processed", "rejected", "failed", "generated", "held")


def _direct(session: Any) -> Counter[tuple[Any, ...]]:
    """Every message counted by (hour, partner, first type, direction, counter)."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for at, partner, types, direction, status in session.execute(select(
            Message.received_at, Message.partner_id, Message.transaction_types,
            Message.direction, Message.status)):
        key = (at.replace(minute=0, second=0, microsecond=0), partner,
               (types or "none").split(",")[0], direction)
        counts[(*key, "messages")] += 1
        counts[(*key, _GROUP[status])] += 1
    return counts


def _rolled_up(session: Any) -> Counter[tuple[Any, ...]]:
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in session.scalars(select(MessageRollup)):
        for name in _COUNTERS:
            value = getattr(row, name)
            assert value >= 0, (row.hour, row.partner_id, name, value)
            if value:
                counts[(row.hour, row.partner_id, row.transaction_type, row.direction,
                        name)] = value
    return counts


def _by_day(session: Any) -> Counter[tuple[Any, ...]]:
    """The daily rollups, as ``_rolled_up`` reads the hourly ones."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in session.scalars(select(DailyRollup)):
        for name in _COUNTERS:
            if getattr(row, name):
                counts[(row.day, row.partner_id, row.transaction_type, row.direction,
                        name)] = getattr(row, name)
    return counts


def _summed_by_day(hourly: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    counts: Counter[tuple[Any, ...]] = Counter()
    for (hour, *rest), value in hourly.items():
        counts[(hour.replace(hour=0), *rest)] += value
    return +counts


def _assert_counts_match(ui: UI) -> dict[str, Any]:
    with ui.state.db.read() as session:
        direct, rolled = _direct(session), _rolled_up(session)
        daily = _by_day(session)
        data = queries.dashboard(session)
    assert rolled == direct
    assert daily == _summed_by_day(direct)  # the daily table moves with the hourly one
    inbound = [(k, v) for k, v in direct.items() if k[3] == "inbound"]
    errors = sum(v for k, v in inbound if k[4] in ("rejected", "failed"))
    finished = sum(v for k, v in inbound if k[4] in ("processed", "rejected", "failed"))
    assert data["total"] == sum(v for k, v in direct.items() if k[4] == "messages")
    assert (data["errors"], data["finished"]) == (errors, finished)
    assert data["error_rate"] == pytest.approx(errors / finished)
    return data


def test_dashboard_counts_equal_a_direct_count_through_every_move(
        ui: UI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Received, processed, rejected, failed, reprocessed (back to waiting and finished
    again) and generated outbound messages: after each step the rollups equal a direct
    count, and the dashboard's totals and error rate are read from them."""
    api = ui.client()
    ok = ui.post_edi(ui.po(1001))
    ui.post_edi(ui.po(1002, break_it=True))
    invoice = ui.post_edi(demo_interchange("globex-810.edi", "01", "123456789", "00501",
                                           ui.state.settings, 1003), key="globex")
    waiting = api.post("/v1/messages", content=ui.po(1004), headers={
        "Authorization": f"Bearer {ui.keys['acme']}"}).json()["message_id"]
    data = _assert_counts_match(ui)
    assert data["total"] == 4 and (data["errors"], data["finished"]) == (1, 3)

    def broken(self: Processor, message: Any) -> Any:
        raise RuntimeError("translator bug")

    monkeypatch.setattr(Processor, "_translate", broken)
    assert [r.status for r in ui.state.pipeline.drain("w")] == ["FAILED"]
    monkeypatch.undo()
    data = _assert_counts_match(ui)
    assert (data["errors"], data["finished"]) == (2, 4)

    # Reprocessing moves a message back to waiting under the type it had, then on.
    assert ui.state.pipeline.reprocess(invoice, "test")
    assert ui.state.pipeline.reprocess(waiting, "test")  # FAILED, no types
    _assert_counts_match(ui)
    assert sorted(r.status for r in ui.state.pipeline.drain("w")) == [
        "PROCESSED", "PROCESSED"]
    assert ui.state.pipeline.reprocess(ok, "test")
    data = _assert_counts_match(ui)
    assert data["total"] == 4 and (data["errors"], data["finished"]) == (1, 3)

    with ui.state.db.transaction() as session:
        sender = issue_key(session, "consumer", scope="scm", can_send=True)[0]
    answer = api.post("/v1/documents", headers={"Authorization": f"Bearer {sender}"}, json={
        "partner_id": "acme-retail", "records": [{
            "kind": "invoice", "invoice_number": "INV-9", "invoice_date": "2024-03-05",
            "po_number": "PO-4711", "totals": {"amount": "25.00"},
            "lines": [{"line_number": "1", "quantity": "10", "unit": "EA",
                       "unit_price": "2.50", "item_ids": {"vendor_item": "V-100"}}]}]})
    assert answer.status_code == 202, answer.text
    data = _assert_counts_match(ui)
    assert data["total"] == 5 and data["finished"] == 3  # outbound is no error-rate case

    html = ui.login("vic").get("/ui/dashboard").text
    assert re.search(r'id="total">5<', html) and re.search(r'id="finished">3<', html)


def test_counts_past_any_scan_cap_are_exact(ui: UI) -> None:
    """Rollups of many messages (written as counts, not rows) are shown exactly: the
    dashboard says 204378, not a capped 200000, and the error rate is of all of them."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with ui.state.db.transaction() as session:
        counts = {"partner_id": "acme-retail", "transaction_type": "850",
                  "direction": "inbound", "messages": 204_378, "waiting": 0,
                  "processed": 194_378, "rejected": 6_000, "failed": 4_000, "generated": 0,
                  "held": 0}
        session.add(MessageRollup(hour=hour, **counts))
        session.add(DailyRollup(day=hour.replace(hour=0), **counts))
    with ui.state.db.read() as session:
        data = queries.dashboard(session)
    assert data["total"] == 204_378 and data["errors"] == 10_000
    assert data["error_rate"] == pytest.approx(10_000 / 204_378)
    assert sum(data["hourly_type"]["850"].values()) == 204_378
    html = ui.login("vic").get("/ui/dashboard").text
    assert 'id="total">204378<' in html


def test_upgrade_counts_the_messages_stored_before_the_rollups(database_url: str) -> None:
    """A database at revision 0010 with messages in several states, hours and types is
    upgraded: the new table holds their direct count."""
    upgrade(database_url, "0010")
    database = Database(database_url)
    try:
        rows = [("a", "2026-01-01 10:15:00", "acme-retail", "850", "inbound", "PROCESSED"),
                ("b", "2026-01-01 10:45:00", "acme-retail", "850,860", "inbound",
                 "REJECTED"),
                ("c", "2026-01-01 11:00:00", "acme-retail", None, "inbound", "RECEIVED"),
                ("d", "2026-01-02 09:00:00", "globex-distribution", "810", "outbound",
                 "GENERATED")]
        with database.engine.begin() as connection:
            for message_id, at, partner, types, direction, status in rows:
                connection.execute(text(
                    "INSERT INTO payloads (sha256, size, data, created_at) "
                    "VALUES (:sha, 1, :data, :at)"),
                    {"sha": message_id, "data": b"x", "at": datetime(2026, 1, 1, tzinfo=UTC)})
                connection.execute(MESSAGES.insert().values(
                    id=message_id, partner_id=partner, direction=direction,
                    transport="https", standard="x12", status=status,
                    payload_sha256=message_id, size=1,
                    received_at=datetime.fromisoformat(at).replace(tzinfo=UTC),
                    updated_at=datetime(2026, 1, 3, tzinfo=UTC), transaction_types=types,
                    attempts=0, interchange_control=message_id, interchange_sender="s"))
        upgrade(database_url)
        with database.read() as session:
            assert _rolled_up(session) == _direct(session)
            assert _by_day(session) == _summed_by_day(_direct(session))
            rolled = _rolled_up(session)
        ten = datetime(2026, 1, 1, 10, tzinfo=UTC)
        assert len(rolled) == 7  # two keys of two counters, one of three
        assert rolled[(ten, "acme-retail", "850", "inbound", "messages")] == 2
    finally:
        database.dispose()
