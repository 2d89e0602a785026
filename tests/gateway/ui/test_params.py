"""The ops UI's query strings and path ids: what a database cannot take never reaches it.

Control characters are refused before routing (400 problem, as in the API), datetimes
without a UTC equivalent are ignored like any unreadable filter, and forged page links
are a 400 page, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI


def _cursor(at: str, item_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at, item_id]).encode()).decode().rstrip("=")


@pytest.mark.parametrize("url", [
    "/ui/messages?q=%00", "/ui/messages?partner=a%00", "/ui/messages?status=%01",
    "/ui/messages?type=%7F", "/ui/messages?cursor=%00", "/ui/messages/updates?after_id=%00",
    "/ui/messages/a%00b", "/ui/messages/a%00b/status", "/ui/messages/a%00b/raw",
    "/ui/partners/a%00b", "/ui/partners/acme-retail/po/%00", "/ui/users?done=%C2%85",
])
def test_control_characters_are_refused_before_any_page(ui: UI, url: str) -> None:
    """A control character in a UI path or query value is a 400 problem naming where it
    was, not a 500 on PostgreSQL and a page on SQLite."""
    response = ui.login("ada").get(url)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:edigate:problem:invalid-characters"


def test_datetimes_without_utc_equivalent_and_forged_links(ui: UI) -> None:
    """since/until/after that overflow UTC are ignored (the page renders); a page link
    whose time overflows is a 400 page; an over-long after_id is a 422."""
    message_id = ui.post_edi(ui.po())
    client = ui.login("vic")
    for query in ("since=0001-01-01T00:00:00%2B14:00", "until=9999-12-31T23:59:59-14:00"):
        page = client.get(f"/ui/messages?{query}")
        assert page.status_code == 200 and message_id in page.text
    for after in ("0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00"):
        updates = client.get(f"/ui/messages/updates?after={after}")
        assert updates.status_code == 200 and updates.json() == {"items": []}
    forged = client.get("/ui/messages?cursor=" + _cursor("0001-01-01T00:00:00+14:00", "x"))
    assert forged.status_code == 400 and "not valid" in forged.text
    long_id = client.get("/ui/messages/updates?after=2020-01-01T00:00:00&after_id=" + "i" * 500)
    assert long_id.status_code == 422
