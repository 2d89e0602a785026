"""AS2 header values with any bytes: an error MDN, or a 400 problem+json when no MDN can
answer the request (AS2-From or Message-ID unusable), never a 5xx, on SQLite and
PostgreSQL; a refused request leaves nothing stored, and a resend with good headers is
processed. Requests are made at the ASGI level so that header bytes no HTTP client would
send (NUL, CR, non-ASCII) reach the gateway as a server could hand them over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AS2Gateway = Any  # conftest.AS2Gateway

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _raw(headers: dict[str, str], **replace: bytes | None) -> list[tuple[bytes, bytes]]:
    """``headers`` as ASGI header bytes, with fields replaced (``None``: removed);
    keyword names use "_" for "-"."""
    changed = {name.replace("_", "-").lower(): value for name, value in replace.items()}
    result = [(name.lower().encode(), value.encode("latin-1"))
              for name, value in headers.items() if name.lower() not in changed]
    result += [(name.encode(), value) for name, value in changed.items() if value is not None]
    return result


def _whole(body: bytes) -> list[bytes]:
    return [body]


BAD_ADDRESSING = [
    ("AS2-From", b"AC\tME"),
    ("AS2-From", b"ACM\xc9"),
    ("AS2-From", "ACMÉ".encode()),
    ("AS2-From", b"A" * 129),
    ("AS2-From", b"AC\x00ME"),
    ("AS2-From", b"AC\x1bME"),
    ("AS2-From", b'"AC\rME"'),
    ("AS2-From", b""),
    ("AS2-From", None),
    ("Message-ID", "<café@acme.example>".encode()),
    ("Message-ID", b"<a\x00b@acme.example>"),
    ("Message-ID", b"<" + b"x" * 300 + b"@acme.example>"),
    ("Message-ID", b"<a b@acme.example>"),
    ("Message-ID", b"<>"),
    ("Message-ID", None),
]


@pytest.mark.parametrize(("field", "value"), BAD_ADDRESSING)
def test_unanswerable_addressing_is_a_400_and_stores_nothing(
        as2_gateway: Callable[..., AS2Gateway], field: str, value: bytes | None) -> None:
    """An AS2-From or Message-ID with a tab, a control or non-ASCII byte, more than
    RFC 4130's 128 (or 255) characters, or none at all: 400 problem+json naming the
    header, only the ledger's AS2_REJECTED entry, no payload, message or AS2 row."""
    gateway = as2_gateway()
    headers, body = gateway.message()
    response = gateway.raw(_raw(headers, **{field.replace("-", "_"): value}), _whole(body))
    assert response.status == 400, response.body
    assert response.is_problem
    assert field.encode() in response.body
    assert gateway.stored() == {"Payload": 0, "Message": 0, "AS2Message": 0}
    assert [e["header"] for e in gateway.events("AS2_REJECTED")] == [field]


def test_signed_message_with_a_bad_message_id_is_refused_each_time_then_processed(
        as2_gateway: Callable[..., AS2Gateway]) -> None:
    """A valid signed message whose Message-ID is not ASCII is refused before anything is
    stored, as often as it is sent; sent again with a good Message-ID it is taken in and
    gets its "processed" receipt (the partner is never left without one)."""
    gateway = as2_gateway()
    headers, body = gateway.message()
    for _ in range(2):
        response = gateway.raw(_raw(headers, message_id="<bestellung-ä@acme>".encode()),
                               _whole(body))
        assert response.status == 400 and response.is_problem
        assert gateway.stored() == {"Payload": 0, "Message": 0, "AS2Message": 0}
    response = gateway.raw(_raw(headers), _whole(body))
    assert response.status == 200
    assert b"; processed\r\n" in response.body and b"error" not in response.body
    assert gateway.stored()["Message"] == 1


@pytest.mark.parametrize("options", [
    b"signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, "
    b"sha256\x85",
    b"signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, "
    b"sha-256\x0b",
    b"signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=optional, "
    b"\xff\xfe, sha\x00256",
    b"signed-receipt-micalg=required, md5\xa0",
    b"=;=;,,,;signed-receipt-protocol",
    b"\x00\r\n\t",
])
def test_odd_disposition_notification_options_get_an_mdn(
        as2_gateway: Callable[..., AS2Gateway], options: bytes) -> None:
    """Disposition-Notification-Options with control, non-ASCII or malformed parts on a
    valid signed message: a receipt (processed, or an error disposition) with only
    printable ASCII in its headers, never a 500 after the payload was stored."""
    gateway = as2_gateway()
    headers, body = gateway.message()
    response = gateway.raw(_raw(headers, disposition_notification_options=options),
                           _whole(body))
    assert response.status == 200, response.body
    assert b"disposition-notification" in response.body
    assert all(" " <= c <= "~" for value in response.headers.values() for c in value)


@pytest.mark.parametrize(("field", "value", "disposition"), [
    ("AS2-To", "EDIGATÉ".encode(), b"processed/error: unexpected-processing-error"),
    ("AS2-To", b"EDI\x00GATE", b"processed/error: unexpected-processing-error"),
    ("AS2-To", b"E" * 200, b"processed/error: unexpected-processing-error"),
    ("Content-Type", b"application/edi-x12\x00; charset=\xff", b"processed/error"),
    ("Content-Type", b'multipart/signed; boundary="\x01\x02"', b"processed/error"),
    ("Content-Type", b"\x1b[31m", b"processed/error"),
])
def test_junk_in_other_headers_is_an_error_mdn(
        as2_gateway: Callable[..., AS2Gateway], field: str, value: bytes,
        disposition: bytes) -> None:
    """AS2-To or Content-Type with control or non-ASCII bytes: an error MDN (its text
    without those bytes), nothing stored."""
    gateway = as2_gateway()
    headers, body = gateway.message()
    response = gateway.raw(_raw(headers, **{field.replace("-", "_"): value}), _whole(body))
    assert response.status == 200, response.body
    assert disposition in response.body
    text = response.body.split(b"disposition-notification", 1)[-1]
    assert all(32 <= byte < 127 or byte in b"\r\n" for byte in text.split(b"\r\n--")[0])
    assert gateway.stored()["Payload"] == 0


def test_nul_in_the_receipt_url_does_not_reach_the_database(
        as2_gateway: Callable[..., AS2Gateway]) -> None:
    """A Receipt-Delivery-Option that is a listed URL plus a NUL is not that URL: the
    receipt is on the response and the ledger keeps the value escaped (PostgreSQL text
    cannot hold a NUL)."""
    gateway = as2_gateway(receipt_urls=["http://127.0.0.1:9/mdn"])
    headers, body = gateway.message(receipt_url="http://127.0.0.1:9/mdn")
    response = gateway.raw(_raw(headers, receipt_delivery_option=b"http://127.0.0.1:9/mdn\x00"),
                           _whole(body))
    assert response.status == 200 and b"; processed\r\n" in response.body
    assert gateway.events("MDN_ASYNC_REFUSED")[0]["url"] == "http://127.0.0.1:9/mdn\x00"


HEADER_NAMES = st.sampled_from([
    "as2-from", "as2-to", "message-id", "content-type", "content-transfer-encoding",
    "disposition-notification-to", "disposition-notification-options",
    "receipt-delivery-option", "subject", "as2-version", "content-disposition"])
HEADER_BYTES = (
    st.binary(max_size=300)
    | st.text(max_size=150).map(lambda text: text.encode("utf-8"))
    | st.text(alphabet=st.characters(codec="latin-1"), max_size=150).map(
        lambda text: text.encode("latin-1"))
    | st.sampled_from([b"ACME", b"EDIGATE", b"<m@acme>", b"A" * 129, b"x" * 5000]))


@pytest.fixture
def fuzz_target(as2_gateway: Callable[..., AS2Gateway]
                ) -> tuple[AS2Gateway, dict[str, str], bytes]:
    """One gateway and one valid signed message for all examples of a run (Hypothesis
    calls the test many times with the same function-scoped fixtures)."""
    gateway = as2_gateway()
    headers, body = gateway.message()
    return gateway, headers, body


@FUZZ
@given(data=st.data())
def test_any_header_bytes_never_get_a_5xx(
        fuzz_target: tuple[AS2Gateway, dict[str, str], bytes], data: st.DataObject) -> None:
    """Any bytes in any AS2 header, on a valid signed message, an asynchronous MDN or a
    random body: a 2xx (an MDN or empty) or a 4xx problem+json, never a 5xx; a 4xx
    stores nothing."""
    gateway, message_headers, message = fuzz_target
    base = data.draw(st.sampled_from(["message", "mdn", "random"]))
    if base == "mdn":
        raw_headers, body = _report(data.draw(st.sampled_from([b"<m@edigate>"]) | HEADER_BYTES))
        headers = {k.decode(): v.decode("latin-1") for k, v in raw_headers}
    else:
        headers, body = message_headers, message
        if base == "random":
            body = data.draw(st.binary(max_size=1000))
    changes = data.draw(st.dictionaries(HEADER_NAMES, HEADER_BYTES | st.none(), max_size=4))
    before = gateway.stored()
    response = gateway.raw(_raw(headers, **{k.replace("-", "_"): v for k, v in changes.items()}),
                           _whole(body))
    assert 200 <= response.status < 500, (response.status, response.body[:500])
    if response.status >= 400:
        assert response.is_problem, response.body[:500]
        assert gateway.stored() == before


def _report(original_message_id: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """An unsigned asynchronous MDN from ACME answering ``original_message_id``."""
    headers = [(b"as2-from", b"ACME"), (b"as2-to", b"EDIGATE"),
               (b"message-id", b"<mdn-1@acme.example>"),
               (b"content-type",
                b'multipart/report; report-type=disposition-notification; boundary="b"')]
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nreceipt\r\n"
            b"--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
            b"Original-Message-ID: " + original_message_id + b"\r\n"
            b"Disposition: automatic-action/MDN-sent-automatically; processed\r\n"
            b"\r\n--b--\r\n")
    return headers, body


@pytest.mark.parametrize("original", [b"<a\x00b@edigate>", b"<" + b"x" * 400 + b">",
                                      "<é@edigate>".encode(), b"<nothing-sent@edigate>"])
def test_async_mdn_with_an_unusable_original_message_id(
        as2_gateway: Callable[..., AS2Gateway], original: bytes) -> None:
    """An asynchronous MDN whose Original-Message-ID holds a NUL, is over-long or not
    ASCII (400), or answers nothing edigate sent (404): problem+json, never a 5xx."""
    gateway = as2_gateway()
    headers, body = _report(original)
    response = gateway.raw(headers, [body])
    assert response.status == (404 if original == b"<nothing-sent@edigate>" else 400)
    assert response.is_problem, response.body
