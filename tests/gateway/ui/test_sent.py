"""The ops console for documents edigate sends: the "sent, not acknowledged" view with its
filters, an outbound message's detail with its sent documents and "Send again", a held
message shown with its errors, and the sent-documents gauge on /metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from gateway.ledger.chain import LedgerEntry
from gateway.processing.reconcile import mark_overdue
from gateway.store.base import utcnow

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI

RESPONSE: dict[str, Any] = {
    "kind": "order_response", "po_number": "PO-4711", "order_date": "2024-03-01",
    "purpose_code": "00",
    "response_code": "AC",
    "lines": [{"line_number": "1", "quantity": "10", "unit": "EA",
               "item_ids": {"vendor_item": "V-100"}}],
}


def _submit(ui: UI, *records: dict[str, Any]) -> Any:
    partner = ui.state.registry.get("acme-retail")
    assert partner is not None and ui.state.outbound is not None
    return ui.state.outbound.submit(partner, list(records), actor="test")


def _send(ui: UI, *records: dict[str, Any]) -> Any:
    result = _submit(ui, *records)
    assert result.status == "GENERATED", result.errors
    return result


def test_the_sent_view_lists_what_awaits_acknowledgment(ui: UI) -> None:
    """Pending and overdue documents are listed, overdue marked as an error; filtering
    by acknowledgment state and type narrows the list."""
    first = _send(ui, dict(RESPONSE, po_number="PO-OLD"))
    assert mark_overdue(ui.state.db, ui.state.ledger, utcnow() + timedelta(hours=25), "t") == 1
    _send(ui, dict(RESPONSE, po_number="PO-NEW"))
    client = ui.login("vic")
    page = client.get("/ui/sent").text
    assert "PO-OLD" in page and "PO-NEW" in page
    assert page.index("PO-OLD") < page.index("PO-NEW")  # the longest waiting first
    assert 'class="error-text">overdue' in page
    assert f"/ui/messages/{first.message_id}" in page
    overdue = client.get("/ui/sent", params={"ack": "overdue"}).text
    assert "PO-OLD" in overdue and "PO-NEW" not in overdue
    assert "PO-NEW" not in client.get("/ui/sent", params={"type": "810"}).text


def test_an_outbound_message_is_sent_again_not_reprocessed(ui: UI) -> None:
    """An outbound message's page lists its sent documents and offers "Send again" (not
    Reprocess); sending again is ledgered with the operator's name; reprocessing it is
    refused."""
    sent = _send(ui, RESPONSE)
    client = ui.login("olga")
    page_url = f"/ui/messages/{sent.message_id}"
    page = client.get(page_url).text
    assert 'id="sent-documents"' in page and "PO-4711" in page
    assert 'id="resend"' in page and 'id="reprocess"' not in page
    response = ui.post_form(client, f"{page_url}/resend", page_url)
    assert response.status_code == 303 and "done=resent-pickup" in response.headers["location"]
    refused = ui.post_form(client, f"{page_url}/reprocess", page_url)
    assert refused.status_code == 409
    with ui.state.db.read() as session:
        events = session.execute(select(LedgerEntry.event, LedgerEntry.actor).where(
            LedgerEntry.message_id == sent.message_id)).all()
    assert ("RESEND_REQUESTED", "ui:olga") in events
    assert not any(event == "REPROCESS_REQUESTED" for event, _ in events)


def test_a_held_message_shows_its_errors(ui: UI) -> None:
    """A held submission's page shows HELD and the located error; its records download
    as they were submitted."""
    held = _submit(ui, dict(RESPONSE, purpose_code=None))
    assert held.status == "HELD"
    client = ui.login("vic")
    page = client.get(f"/ui/messages/{held.message_id}").text
    assert "HELD" in page and "BAK01" in page
    raw = client.get(f"/ui/messages/{held.message_id}/raw")
    assert raw.status_code == 200 and b'"po_number": "PO-4711"' in raw.content


def test_metrics_count_sent_documents_by_acknowledgment_state(ui: UI) -> None:
    """``edigate_sent_documents`` gives each partner's documents per acknowledgment state,
    read from the database when scraped."""
    _send(ui, RESPONSE, RESPONSE)
    text = ui.state.metrics.render().decode()
    assert 'edigate_sent_documents{ack_status="pending",partner="acme-retail"} 2.0' in text
    mark_overdue(ui.state.db, ui.state.ledger, utcnow() + timedelta(hours=25), "t")
    text = ui.state.metrics.render().decode()
    assert 'edigate_sent_documents{ack_status="overdue",partner="acme-retail"} 2.0' in text


def test_the_message_log_filters_by_direction_and_standard(ui: UI) -> None:
    """The log's direction filter tells what partners sent from what edigate sent, and the
    standard filter X12 from EDIFACT."""
    inbound = ui.post_edi(ui.po(101))
    sent = _send(ui, RESPONSE)
    client = ui.login("vic")

    def ids(**params: str) -> set[str]:
        page = client.get("/ui/messages", params=params).text
        return {m for m in (inbound, sent.message_id) if f"/ui/messages/{m}" in page}

    assert ids() == {inbound, sent.message_id}
    assert ids(direction="outbound") == {sent.message_id}
    assert ids(direction="inbound") == {inbound}
    assert ids(standard="edifact") == set()
    assert ids(standard="x12", direction="bogus") == {inbound, sent.message_id}
