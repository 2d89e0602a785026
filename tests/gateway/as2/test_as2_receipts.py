"""Asynchronous MDNs (Receipt-Delivery-Option) go only to a URL the partner's profile
allows, and only for a request that authenticated as that partner: anything else gets
its receipt on the HTTP response, the ledger says why, and the gateway connects nowhere.

A real HTTP listener on loopback stands for the URL an attacker names; the AS2 deliverer
is run after each request, so a queued MDN would reach it.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.delivery.as2_sending import AS2Deliverer

AS2Gateway = Any  # conftest.AS2Gateway
Parties = Any  # conftest.Parties


class Listener:
    """An HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                outer.requests.append((self.path, self.rfile.read(size)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def _deliver(gateway: AS2Gateway) -> int:
    """Run the AS2 queue once, as a worker would: how many items it tried."""
    assert gateway.state.as2 is not None
    with AS2Deliverer(gateway.state.as2.outbox, worker="test") as deliverer:
        return deliverer.run_once()


def _sync_mdn(response: object) -> bytes:
    """The MDN returned on the HTTP response (an MDN's Content-Type, a non-empty body)."""
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    content_type = response.headers.get("content-type", "")  # type: ignore[attr-defined]
    assert content_type.startswith("multipart/"), content_type
    body: bytes = response.content  # type: ignore[attr-defined]
    assert b"disposition-notification" in body
    return body


def test_unknown_partner_never_makes_the_gateway_connect(
        as2_gateway: Callable[..., AS2Gateway], listener: Listener) -> None:
    """An AS2-From no profile names, asking for an async receipt at a loopback URL: the
    error MDN is on the response, nothing is queued or sent, the ledger says why."""
    gateway = as2_gateway(receipt_urls=[f"{listener.base}/mdn"])
    headers, body = gateway.message(receipt_url=f"{listener.base}/mdn")
    headers["AS2-From"] = "NOBODY"
    mdn = _sync_mdn(gateway.post(headers, body))
    assert b"processed/error: authentication-failed" in mdn
    assert b"not posted to the Receipt-Delivery-Option URL" in mdn
    assert _deliver(gateway) == 0
    assert listener.requests == []
    refused = gateway.events("MDN_ASYNC_REFUSED")
    assert [(e["url"], e["reason"]) for e in refused] == [
        (f"{listener.base}/mdn", "the AS2-From names no trading partner")]
    assert gateway.stored()["AS2Message"] == 0


def test_failed_signature_gets_its_receipt_on_the_response(
        as2_gateway: Callable[..., AS2Gateway], listener: Listener, parties: Parties) -> None:
    """The partner's AS2-From but a signature by another key, asking for a receipt at
    one of the partner's own receipt URLs: not authenticated, so the error MDN is on the
    response and the listener gets nothing."""
    gateway = as2_gateway(receipt_urls=[f"{listener.base}/mdn"])
    headers, body = gateway.message(signer=parties.stranger,
                                    receipt_url=f"{listener.base}/mdn")
    mdn = _sync_mdn(gateway.post(headers, body))
    assert b"processed/error: authentication-failed" in mdn
    assert _deliver(gateway) == 0
    assert listener.requests == []
    reason = gateway.events("MDN_ASYNC_REFUSED")[0]["reason"]
    assert reason.startswith("the message from partner acme-as2 was refused "
                             "(processed/error: authentication-failed)")


def test_url_not_in_the_profile_gets_the_processed_mdn_on_the_response(
        as2_gateway: Callable[..., AS2Gateway], listener: Listener) -> None:
    """An authenticated partner naming a URL its profile does not list: the payload is
    taken in, the "processed" MDN (with a note) is on the response, nothing is sent."""
    gateway = as2_gateway(receipt_urls=[f"{listener.base}/mdn/*"])
    for url in (f"{listener.base}/other", f"{listener.base}/mdn/a/b",
                f"{listener.base}/mdn/x?next=http://169.254.169.254/"):
        headers, body = gateway.message(receipt_url=url)
        mdn = _sync_mdn(gateway.post(headers, body))
        assert b"; processed\r\n" in mdn and b"error" not in mdn
        assert b"not posted to the Receipt-Delivery-Option URL" in mdn
    assert _deliver(gateway) == 0
    assert listener.requests == []
    refused = gateway.events("MDN_ASYNC_REFUSED")
    assert len(refused) == 3
    assert all(e["reason"] == "the URL is not one of the receipt_urls of partner acme-as2"
               for e in refused)
    assert gateway.stored()["Message"] == 3
    assert [e["mode"] for e in gateway.events("MDN_BUILT")] == ["sync"] * 3


def test_duplicate_to_an_unlisted_url_is_answered_on_the_response(
        as2_gateway: Callable[..., AS2Gateway], listener: Listener) -> None:
    """A resent message whose receipt URL is not listed gets its duplicate-document
    warning on the response, not at the URL."""
    gateway = as2_gateway()
    headers, body = gateway.message(receipt_url=f"{listener.base}/mdn")
    _sync_mdn(gateway.post(headers, body))
    again = _sync_mdn(gateway.post(headers, body))
    assert b"duplicate-document" in again
    assert _deliver(gateway) == 0
    assert listener.requests == []
    assert len(gateway.events("MDN_ASYNC_REFUSED")) == 2


def test_allowed_url_gets_the_async_mdn(
        as2_gateway: Callable[..., AS2Gateway], listener: Listener) -> None:
    """The control: an authenticated partner naming a listed URL (pattern) gets an empty
    response and its MDN posted there by the deliverer."""
    gateway = as2_gateway(receipt_urls=[f"{listener.base}/mdn/*"])
    headers, body = gateway.message(receipt_url=f"{listener.base}/mdn/acme")
    response = gateway.post(headers, body)
    assert response.status_code == 200 and response.content == b""
    assert _deliver(gateway) == 1
    assert [path for path, _ in listener.requests] == ["/mdn/acme"]
    assert b"processed" in listener.requests[0][1]
    assert gateway.events("MDN_ASYNC_REFUSED") == []


def test_queued_mdn_to_a_url_the_profile_no_longer_lists_is_not_sent(
        as2_gateway: Callable[..., AS2Gateway], listener: Listener) -> None:
    """An MDN queued for a URL the partner's profile does not list at send time (queued
    before receipt_urls existed, or the profile changed since) fails without a connection."""
    from sqlalchemy import update

    from gateway.store.as2 import AS2Message

    gateway = as2_gateway(receipt_urls=[f"{listener.base}/mdn/*"])
    headers, body = gateway.message(receipt_url=f"{listener.base}/mdn/acme")
    assert gateway.post(headers, body).content == b""
    with gateway.state.db.transaction() as session:
        session.execute(update(AS2Message).where(AS2Message.mdn_url.is_not(None))
                        .values(mdn_url=f"{listener.base}/elsewhere"))
    assert _deliver(gateway) == 1
    assert listener.requests == []
    failed = gateway.events("MDN_FAILED")
    assert len(failed) == 1 and "receipt_urls of partner acme-as2" in failed[0]["error"]
    assert gateway.events("MDN_SENT") == []
