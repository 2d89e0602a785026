"""Message detail and operator actions: located errors, element names, ledger checks,
reprocess and resend acknowledgment recorded with the user's name; XSS stays inert."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from gateway.ledger.chain import LedgerEntry
from gateway.store.models import Message

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI

PAYLOADS = ("<script>window.__pwned=1</script>", '"><img src=x onerror=window.__pwned=2>',
            "<svg onload=window.__pwned=3>")


def hostile_po(ui: UI, control: int = 301) -> bytes:
    """An 850 whose free text (party name, contact, PO number) is markup."""
    body = ui.po(control)
    body = body.replace(b"ACME RETAIL", PAYLOADS[0].encode())
    body = body.replace(b"JANE BUYER", PAYLOADS[1].encode())
    return body.replace(b"PO-4711", PAYLOADS[2].encode())


def test_rejected_message_highlights_the_bad_element_with_its_name(ui: UI) -> None:
    """A bad BEG01 is marked on the BEG line at element 1, whose hover title names the
    element from the 850 map; other elements are named too."""
    message_id = ui.post_edi(ui.po(102, break_it=True))
    html = ui.login("vic").get(f"/ui/messages/{message_id}").text
    bad = re.findall(r'<span class="el bad" title="([^"]*)" data-ref="([^"]*)">([^<]*)</span>',
                     html)
    assert [(ref, value) for _, ref, value in bad] == [("BEG01", "ZZZ")]
    assert "Transaction Set Purpose Code" in bad[0][0]
    assert 'title="BEG03 Purchase Order Number"' in html
    assert 'title="ISA06 Interchange Sender ID"' in html
    assert html.count('class="seg has-error"') == 1


def test_ledger_trail_verifies_and_shows_a_modified_entry(ui: UI) -> None:
    """Every entry of a fresh message verifies; editing one entry's details in the database
    makes the page show that entry as modified and the trail as failed."""
    message_id = ui.post_edi(ui.po(101))
    client = ui.login("vic")
    html = client.get(f"/ui/messages/{message_id}").text
    assert '<span class="badge good">verified</span>' in html and "✗" not in html
    with ui.state.db.transaction() as session:
        seq = session.scalar(select(LedgerEntry.seq).where(
            LedgerEntry.message_id == message_id, LedgerEntry.event == "TRANSLATED"))
        session.execute(update(LedgerEntry).where(LedgerEntry.seq == seq).values(
            details='{"interchanges":1,"transactions":9}'))
    html = client.get(f"/ui/messages/{message_id}").text
    assert "verification failed" in html and "✗ modified" in html


def test_reprocess_is_ledgered_with_the_user_and_runs_again(ui: UI) -> None:
    """Reprocess puts the message back to RECEIVED with REPROCESS_REQUESTED by ui:olga,
    naming the status it had; the next worker pass gives it a final status again."""
    message_id = ui.post_edi(ui.po(102, break_it=True))
    client = ui.login("olga")
    page = f"/ui/messages/{message_id}"
    response = ui.post_form(client, f"{page}/reprocess", page)
    assert response.status_code == 303 and response.headers["location"].endswith(
        "?done=reprocess")
    with ui.state.db.read() as session:
        assert session.get(Message, message_id).status == "RECEIVED"  # type: ignore[union-attr]
        actors = session.execute(select(LedgerEntry.event, LedgerEntry.actor).where(
            LedgerEntry.message_id == message_id)).all()
    assert ("REPROCESS_REQUESTED", "ui:olga") in actors
    with ui.state.db.read() as session:
        details = session.scalars(select(LedgerEntry.details).where(
            LedgerEntry.message_id == message_id,
            LedgerEntry.event == "REPROCESS_REQUESTED")).one()
    assert '"previous":"REJECTED"' in details  # the status it had, not the new one
    assert "Reprocessing requested" in client.get(response.headers["location"]).text
    assert sum(1 for _ in ui.state.pipeline.drain("w")) == 1
    assert 'st-rejected' in client.get(page).text


def test_resend_ack_without_as2_is_recorded(ui: UI) -> None:
    """For a partner without AS2 in this gateway, resending records the request in the
    ledger with the user's name and says so."""
    message_id = ui.post_edi(ui.po(101))
    client = ui.login("olga")
    page = f"/ui/messages/{message_id}"
    response = ui.post_form(client, f"{page}/resend-ack", page)
    assert response.status_code == 303 and "done=ack-recorded" in response.headers["location"]
    with ui.state.db.read() as session:
        entry = session.scalars(select(LedgerEntry).where(
            LedgerEntry.message_id == message_id,
            LedgerEntry.event == "ACK_RESEND_REQUESTED")).one()
    assert entry.actor == "ui:olga" and '"transport":"none"' in entry.details


def test_partner_content_is_escaped_everywhere(ui: UI) -> None:
    """Markup in party names, contacts and the PO number appears escaped in the log, the
    detail page (raw EDI, records, errors) and the partner pages, never as tags."""
    message_id = ui.post_edi(hostile_po(ui))
    client = ui.login("vic")
    pages = [client.get("/ui/messages").text, client.get(f"/ui/messages/{message_id}").text,
             client.get("/ui/partners/acme-retail").text,
             client.get("/ui/messages", params={"q": PAYLOADS[2]}).text]
    for html in pages:
        for payload in PAYLOADS:
            assert payload not in html
        assert "<script>window" not in html and "<img src=x" not in html
        assert "<svg onload" not in html
    detail = pages[1]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in detail
    assert "&lt;img src=x onerror=window.__pwned=2&gt;" in detail
    updates = client.get("/ui/messages/updates", params={"after": "2000-01-01T00:00:00"})
    assert updates.headers["content-type"].startswith("application/json")


def test_an_operator_places_and_releases_a_legal_hold(ui: UI) -> None:
    """The hold form takes a reason; the page then shows who held the message, when and
    why, and offers the release; a viewer sees neither button and is refused."""
    message_id = ui.post_edi(ui.po(131))
    page = f"/ui/messages/{message_id}"
    viewer = ui.login("vic")
    assert 'id="hold"' not in viewer.get(page).text
    assert ui.post_form(viewer, f"{page}/hold", page, reason="x").status_code == 403
    operator = ui.login("olga")
    assert 'id="hold"' in operator.get(page).text
    held = ui.post_form(operator, f"{page}/hold", page, reason="dispute <4711>")
    assert held.status_code == 303 and held.headers["location"].endswith("?done=held")
    shown = operator.get(page).text
    assert 'id="legal-hold"' in shown and "dispute &lt;4711&gt;" in shown
    assert 'id="release"' in shown and 'id="hold"' not in shown
    assert ui.post_form(operator, f"{page}/release", page).status_code == 303
    assert 'id="legal-hold"' not in operator.get(page).text
    assert ui.post_form(operator, f"{page}/release", page).status_code == 404
