"""The ops UI pages through the ASGI app: each page renders for a viewer with real data,
the message detail shows the located error, the ledger checks and the evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI


def test_every_page_renders_for_a_viewer(ui: UI) -> None:
    """Log, detail, partners, partner, orders, an order and dashboard answer 200 with the
    data in them."""
    ok = ui.post_edi(ui.po(101))
    bad = ui.post_edi(ui.po(102, break_it=True))
    client = ui.login("vic")
    log = client.get("/ui/messages")
    assert log.status_code == 200 and ok in log.text and bad in log.text
    assert "PO-4711" in log.text
    for url in (f"/ui/messages/{ok}", f"/ui/messages/{bad}", "/ui/partners",
                "/ui/partners/acme-retail", "/ui/orders", "/ui/orders/acme-retail/PO-4711",
                "/ui/dashboard"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:500])
