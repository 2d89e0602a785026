"""The message log as an ops user meets it: every document number is searchable (rejected
documents' too), a row shows the document's own number and the message id, statuses
refresh, and the detail page shows the acknowledgment a resend sends."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from markupsafe import escape
from sqlalchemy import select

from gateway.ledger.chain import LedgerEntry
from gateway.runtime.demo import demo_interchange
from gateway.store.models import Acknowledgment, Message

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI

# The demo 810 is invoice INV-20931 for PO-4471200; the demo 856 ships SHP-77120.
_INVOICE, _INVOICE_PO, _SHIPMENT = "INV-20931", "PO-4471200", "SHP-77120"


def _globex(ui: UI, name: str, control: int, *, break_it: bool = False) -> bytes:
    return demo_interchange(name, "01", "123456789", "00501", ui.state.settings, control,
                            break_it=break_it)


def _found(ui: UI, q: str) -> list[str]:
    client = ui.login("vic")
    html = client.get("/ui/messages", params={"q": q}).text
    return re.findall(r'<tr data-id="([^"]+)">', html)


def _status(ui: UI, message_id: str) -> str:
    with ui.state.db.read() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message.status


def test_invoice_shipment_and_po_numbers_are_searchable(ui: UI) -> None:
    """A processed 810 is found by its invoice number and its PO number, an 856 by its
    shipment id and the PO it ships (the same PO), an 850 by its PO number."""
    invoice = ui.post_edi(_globex(ui, "globex-810.edi", 501), key="globex")
    notice = ui.post_edi(_globex(ui, "globex-856.edi", 502), key="globex")
    order = ui.post_edi(ui.po(503))
    assert {_status(ui, m) for m in (invoice, notice, order)} == {"PROCESSED"}
    assert _found(ui, _INVOICE) == [invoice]
    assert _found(ui, _INVOICE_PO) == [notice, invoice]
    assert _found(ui, _SHIPMENT) == [notice]
    assert _found(ui, "PO-4711") == [order]


def test_a_rejected_invoice_is_found_by_its_invoice_number(ui: UI) -> None:
    """An 810 rejected for a bad element (its record still read) and one rejected for a
    missing SE (no record: the numbers come from its BIG segment) are both found by the
    invoice number and the PO number, and the log row shows the invoice number."""
    bad = ui.post_edi(_globex(ui, "globex-810.edi", 601, break_it=True), key="globex")
    cut = re.sub(rb"SE\*\d+\*0001~\s*", b"", _globex(ui, "globex-810.edi", 602))
    truncated = ui.post_edi(cut, key="globex")
    assert _status(ui, bad) == _status(ui, truncated) == "REJECTED"
    with ui.state.db.read() as session:
        message = session.get(Message, truncated)
        assert message is not None and message.summary is not None
        assert all(t["record_id"] is None
                   for t in json.loads(message.summary)["transactions"])
    assert _found(ui, _INVOICE) == [truncated, bad]
    assert _found(ui, _INVOICE_PO) == [truncated, bad]
    html = ui.login("vic").get("/ui/messages").text
    row = re.search(rf'<tr data-id="{bad}">(.*?)</tr>', html, re.S)
    assert row is not None and f'<td class="mono">{_INVOICE}</td>' in row.group(1)


def test_a_log_row_shows_the_documents_own_number_and_the_message_id(ui: UI) -> None:
    """An invoice's row shows its invoice number, not its PO's; a ship notice's its
    shipment id; every row the message id's distinguishing end, the full id on hover;
    the time columns say UTC. The live-update rows carry the same."""
    first = ui.post_edi(ui.po(700))
    invoice = ui.post_edi(_globex(ui, "globex-810.edi", 701), key="globex")
    notice = ui.post_edi(_globex(ui, "globex-856.edi", 702), key="globex")
    client = ui.login("vic")
    html = client.get("/ui/messages").text
    assert "<th>Received (UTC)</th>" in html and "From (UTC)" in html
    rows = dict(re.findall(r'<tr data-id="([^"]+)">(.*?)</tr>', html, re.S))
    assert f'<td class="mono">{_INVOICE}</td>' in rows[invoice]
    # The PO number is not the invoice's own number: it is the order the row links to.
    assert f'<td class="mono">{_INVOICE_PO}</td>' not in rows[invoice]
    assert (f'<a href="/ui/orders/globex-distribution/{_INVOICE_PO}">{_INVOICE_PO}</a>'
            in rows[invoice])
    assert f'<td class="mono">{_SHIPMENT}</td>' in rows[notice]
    for message_id in (invoice, notice):
        assert f'title="{message_id}"' in rows[message_id]
        assert f"…{message_id[-8:]}</a>" in rows[message_id]
    # Two ids of one burst differ at their end (their start is the time received).
    assert invoice[-8:] != notice[-8:]
    with ui.state.db.read() as session:
        at = session.get(Message, first).received_at  # type: ignore[union-attr]
    items = client.get("/ui/messages/updates", params={
        "after": at.isoformat(), "after_id": first}).json()["items"]
    by_id = {item["id"]: item for item in items}
    assert by_id[invoice]["number"] == _INVOICE
    assert by_id[invoice]["short_id"] == "…" + invoice[-8:]


def test_row_statuses_are_read_for_the_rows_shown(ui: UI) -> None:
    """The statuses endpoint answers each shown row's current status: RECEIVED right after
    intake, the final status once a worker processed it; unknown ids are left out, and
    more ids than a page shows are refused with a 4xx."""
    api = ui.client()
    response = api.post("/v1/messages", content=ui.po(801),
                        headers={"Authorization": f"Bearer {ui.keys['acme']}"})
    message_id = response.json()["message_id"]
    client = ui.login("vic")
    html = client.get("/ui/messages").text
    assert 'data-statuses="/ui/messages/statuses"' in html

    def statuses() -> dict[str, dict[str, str]]:
        answer = client.get("/ui/messages/statuses",
                            params={"id": [message_id, "00000000-no-such-message"]})
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        return dict(answer.json()["items"])

    assert statuses() == {message_id: {"status": "RECEIVED", "ack_status": ""}}
    assert sum(1 for _ in ui.state.pipeline.drain("w")) == 1
    assert statuses() == {message_id: {"status": "PROCESSED", "ack_status": "accepted"}}
    too_many = client.get("/ui/messages/statuses",
                          params={"id": [f"id-{n}" for n in range(51)]})
    assert 400 <= too_many.status_code < 500


def test_the_acknowledgment_shown_is_the_one_resend_sends(ui: UI) -> None:
    """A reprocessed message has two acknowledgments; the detail page opens and marks the
    newest, and "Resend acknowledgment" sends that same one (its id in the ledger)."""
    message_id = ui.post_edi(ui.po(901))
    client = ui.login("olga")
    page = f"/ui/messages/{message_id}"
    ui.post_form(client, f"{page}/reprocess", page)
    assert sum(1 for _ in ui.state.pipeline.drain("w")) == 1
    with ui.state.db.read() as session:
        acks = session.scalars(select(Acknowledgment).where(
            Acknowledgment.message_id == message_id)
            .order_by(Acknowledgment.created_at)).all()
    assert len(acks) == 2 and acks[0].content != acks[1].content
    html = client.get(page).text
    shown = re.search(r'<details open id="ack-resent" data-ack-id="([^"]+)">', html)
    assert shown is not None and shown.group(1) == acks[1].id
    opened = re.search(r'id="ack-resent".*?<pre class="edi-text">(.*?)</pre>', html, re.S)
    assert opened is not None and opened.group(1) == str(escape(acks[1].content))
    assert "earlier run" in html
    response = ui.post_form(client, f"{page}/resend-ack", page)
    assert response.status_code == 303
    with ui.state.db.read() as session:
        details = session.scalars(select(LedgerEntry.details).where(
            LedgerEntry.message_id == message_id,
            LedgerEntry.event == "ACK_RESEND_REQUESTED")).one()
    assert json.loads(details)["ack_id"] == shown.group(1)


def test_acknowledgments_built_together_resend_the_one_shown(ui: UI) -> None:
    """Two acknowledgments with the same build time (one run, two interchanges): the page
    marks one as sent by Resend and the resend sends exactly that one."""
    message_id = ui.post_edi(ui.po(902))
    with ui.state.db.transaction() as session:
        ack = session.scalars(select(Acknowledgment).where(
            Acknowledgment.message_id == message_id)).one()
        twin = Acknowledgment(id="ffffffff-ffff-4fff-8fff-ffffffffffff",
                              message_id=message_id, kind=ack.kind,
                              control_number="999999999", content=ack.content + "\n",
                              created_at=ack.created_at)
        session.add(twin)
    client = ui.login("olga")
    page = f"/ui/messages/{message_id}"
    shown = re.search(r'<details open id="ack-resent" data-ack-id="([^"]+)">',
                      client.get(page).text)
    assert shown is not None
    ui.post_form(client, f"{page}/resend-ack", page)
    with ui.state.db.read() as session:
        details = session.scalars(select(LedgerEntry.details).where(
            LedgerEntry.message_id == message_id,
            LedgerEntry.event == "ACK_RESEND_REQUESTED")).one()
    assert json.loads(details)["ack_id"] == shown.group(1)
