"""The ops console's order pages (issue 19 points 7-9): the order list with its filters,
an order's lines, findings and timeline, the way there from a message, the partner 360
page with its scorecard, and a product's demand chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gateway.orders.demand import store_points

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI


def rows_of(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body, flags=re.S)[1:]  # without the header row


def test_an_order_is_reached_from_its_message_and_shows_its_story(ui: UI) -> None:
    message_id = ui.post_edi(ui.po(101))
    client = ui.login("vic")
    detail = client.get(f"/ui/messages/{message_id}").text
    link = re.search(r'id="orders"><a class="mono" href="([^"]+)">PO-4711</a>', detail)
    assert link is not None, detail[:2000]
    page = client.get(link.group(1))
    assert page.status_code == 200
    lines = rows_of(page.text, "order-lines")
    assert len(lines) == 3 and ">8<" in lines[0] and "buyer_item B-100" in lines[0]
    timeline = rows_of(page.text, "order-documents")
    assert len(timeline) == 1 and "purchase_order" in timeline[0]
    assert f"/ui/messages/{message_id}" in timeline[0]
    # The demo PO's requested delivery date is past and no ship notice came.
    assert "asn_missing" in page.text.split('id="order-findings"', 1)[1]
    log = client.get("/ui/messages").text
    row = next(r for r in re.findall(r"<tr data-id=.*?</tr>", log, flags=re.S)
               if message_id in r)
    assert f'href="{link.group(1)}"' in row  # the log opens the order too
    old = client.get("/ui/partners/acme-retail/po/PO-4711", follow_redirects=False)
    assert old.status_code == 308 and old.headers["location"] == link.group(1)


def test_the_order_list_filters_and_a_po_number_with_a_slash(ui: UI) -> None:
    ui.post_edi(ui.po(101))
    ui.post_edi(ui.po(102).replace(b"PO-4711", b"PO/77 A"))
    client = ui.login("vic")
    everything = rows_of(client.get("/ui/orders").text, "orders")
    assert len(everything) == 2
    late = rows_of(client.get("/ui/orders", params={"late": "yes"}).text, "orders")
    assert len(late) == 2  # both past their delivery date without a ship notice
    assert "No orders match." in client.get("/ui/orders", params={"late": "no"}).text
    one = rows_of(client.get("/ui/orders", params={"po": "PO/77 A"}).text, "orders")
    assert len(one) == 1
    href = re.search(r'href="(/ui/orders/acme-retail/[^"]+)"', one[0])
    assert href is not None
    assert client.get(href.group(1)).status_code == 200
    assert client.get("/ui/orders/acme-retail/PO-0000").status_code == 404


def test_the_partner_page_has_orders_scorecard_and_demand(ui: UI) -> None:
    ui.post_edi(ui.po(101))
    now = datetime.now(UTC)
    with ui.state.db.transaction() as session:
        store_points(session, [("acme-retail", "r-1", "m-1", "product_activity", now, {
            "period_start": "2026-11-01", "period_end": "2026-11-30",
            "lines": [{"item_ids": {"upc": "012345678905"}, "description": "RED WIDGET",
                       "activities": [{"activity": "sold", "quantity": "20", "unit": "EA"}],
                       "locations": []}]}),
                                ("acme-retail", "r-2", "m-2", "product_activity", now, {
            "period_start": "2026-12-01", "lines": [
                {"item_ids": {"upc": "012345678905"},
                 "activities": [{"activity": "sold", "quantity": "35", "unit": "EA"}]}]})])
    client = ui.login("vic")
    page = client.get("/ui/partners/acme-retail").text
    assert len(rows_of(page, "partner-orders")) == 1
    card = page.split('id="scorecard"', 1)[1].split("</section>", 1)[0]
    assert "<dt>Orders</dt><dd>1 " in card
    demand = rows_of(page, "partner-demand")
    assert len(demand) == 1 and "gtin:00012345678905" in demand[0]
    href = re.search(r'href="([^"]+)"', demand[0])
    assert href is not None
    chart = client.get(href.group(1))
    assert chart.status_code == 200
    assert len(re.findall(r"<polyline ", chart.text)) == 1
    assert len(re.findall(r"<circle ", chart.text)) == 2
    assert len(rows_of(chart.text, "demand-points")) == 2
