"""The message log's search index and page query, on SQLite and PostgreSQL: terms are
written at intake and replaced by processing, the API and UI find by exact term, and
keyset pages neither skip nor repeat rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway.store.models import Message, MessageStatus, Payload
from gateway.store.search import (
    INSERT_TERMS,
    LogFilters,
    MessageTerm,
    log_page_query,
    query_terms,
    term_rows,
    terms_of,
)

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI


def test_terms_are_tokens_and_their_alphanumeric_parts() -> None:
    """'PO-4711' is found as itself and as '4711', case-insensitively; short parts are not
    terms of their own, and a query keeps at most four terms."""
    assert terms_of("PO-4711 000000101") == {"po-4711", "4711", "000000101"}
    assert terms_of(None) == set()
    assert query_terms("  Po-4711   po-4711 a b c d") == ["po-4711", "a", "b", "c"]


def test_intake_indexes_the_control_number_and_processing_the_business_numbers(ui: UI) -> None:
    """Right after intake the ISA13 is a term; after processing the PO number is too."""
    api = ui.client()
    response = api.post("/v1/messages", content=ui.po(777),
                        headers={"Authorization": f"Bearer {ui.keys['acme']}"})
    message_id = response.json()["message_id"]
    with ui.state.db.read() as session:
        terms = set(session.scalars(select(MessageTerm.term).where(
            MessageTerm.message_id == message_id)))
    assert terms == {"000000777"}
    assert sum(1 for _ in ui.state.pipeline.drain("w")) == 1
    with ui.state.db.read() as session:
        terms = set(session.scalars(select(MessageTerm.term).where(
            MessageTerm.message_id == message_id)))
    assert {"000000777", "po-4711", "4711"} <= terms


def test_api_search_finds_by_term_and_by_message_id(ui: UI) -> None:
    """GET /v1/messages?q= finds a message by its PO number (any case), a part of it, or
    its id, and nothing for a term it does not have."""
    first = ui.post_edi(ui.po(101))
    second = ui.post_edi(ui.po(102))
    api = ui.client()

    def ids(q: str) -> list[str]:
        response = api.get("/v1/messages", params={"q": q},
                           headers={"Authorization": f"Bearer {ui.keys['ops']}"})
        assert response.status_code == 200
        return [item["id"] for item in response.json()["items"]]

    assert ids("po-4711") == [second, first]
    assert ids("4711") == [second, first]
    assert ids("000000101") == [first]
    assert ids(first) == [first]
    assert ids("PO-4712") == []
    assert ids("po-4711 000000102") == [second]


def _fill(ui: UI, count: int) -> list[str]:
    """``count`` processed messages a second apart, each with terms 'common' and its own."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids: list[str] = []
    with ui.state.db.core_transaction() as connection:
        connection.execute(Payload.__table__.insert(), [  # type: ignore[attr-defined]
            {"sha256": f"{i:064x}", "size": 1, "data": b"x", "created_at": base}
            for i in range(count)])
        rows, terms = [], []
        for i in range(count):
            at = base + timedelta(seconds=i // 2)  # pairs share a time: ties need the id
            message_id = f"00000000-0000-0000-0000-{i:012d}"
            ids.append(message_id)
            text = f"common N{i:05d} {'odd' if i % 2 else 'even'}"
            rows.append({"id": message_id, "partner_id": "acme-retail" if i % 3 else "globex",
                         "direction": "inbound", "transport": "https", "standard": "x12",
                         "status": MessageStatus.REJECTED if i % 5 == 0 else "PROCESSED",
                         "payload_sha256": f"{i:064x}", "size": 1, "received_at": at,
                         "updated_at": at, "search_text": text, "attempts": 1,
                         "transaction_types": "850"})
            terms += term_rows(message_id, at, text)
        connection.execute(Message.__table__.insert(), rows)  # type: ignore[attr-defined]
        INSERT_TERMS.execute(connection, terms)
    return ids


def _walk(ui: UI, filters: LogFilters, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    with ui.state.db.read() as session:
        while True:
            rows = list(session.scalars(log_page_query(filters, cursor=cursor, limit=limit)))
            seen += [m.id for m in rows[:limit]]
            if len(rows) <= limit:
                return seen
            cursor = (rows[limit - 1].received_at, rows[limit - 1].id)


def test_keyset_pages_cover_every_match_once_in_order(ui: UI) -> None:
    """Walking pages of 7 (with ties in received_at) returns exactly the matching messages,
    newest first, for no filter, a term, a term AND a filter, and a time range."""
    ids = _fill(ui, 60)
    newest_first = list(reversed(ids))
    assert _walk(ui, LogFilters(), 7) == newest_first
    assert _walk(ui, LogFilters(q="common"), 7) == newest_first
    odd = [i for n, i in enumerate(ids) if n % 2][::-1]
    assert _walk(ui, LogFilters(q="ODD"), 7) == odd
    rejected_odd = [i for n, i in enumerate(ids) if n % 2 and n % 5 == 0][::-1]
    assert _walk(ui, LogFilters(q="odd", status="rejected"), 3) == rejected_odd
    assert _walk(ui, LogFilters(q="common odd"), 4) == odd
    since = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    until = datetime(2026, 1, 1, 0, 0, 20, tzinfo=UTC)
    window = [i for n, i in enumerate(ids) if 20 <= n < 40][::-1]
    assert _walk(ui, LogFilters(q="common", since=since, until=until), 6) == window
    assert _walk(ui, LogFilters(since=since, until=until), 6) == window
    assert _walk(ui, LogFilters(q="n00042"), 5) == [ids[42]]


def test_ui_log_filters_and_pages(ui: UI) -> None:
    """The log page applies partner/status/type filters and search, and its Older link
    leads to the next page without repeating rows."""
    ids = _fill(ui, 120)
    client = ui.login("vic")
    first = client.get("/ui/messages").text
    assert ids[-1] in first and ids[-50] in first and ids[-51] not in first
    older = first.split('id="older" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(older).text
    assert ids[-51] in second and ids[-1] not in second
    rejected = client.get("/ui/messages", params={"status": "REJECTED",
                                                  "partner": "globex"}).text
    expected = [i for n, i in enumerate(ids) if n % 5 == 0 and n % 3 == 0]
    assert all(i in rejected for i in expected)
    assert ids[1] not in rejected
    found = client.get("/ui/messages", params={"q": "N00007"}).text
    assert ids[7] in found and ids[8] not in found
