"""AS2Sender against pyas2lib 1.4.4 as the receiving partner, over real local HTTP.

A ThreadingHTTPServer on 127.0.0.1 (ephemeral port) hands each POST to a responder; the
default responder parses the request with pyas2lib's ``Message().parse`` (organisation ACME
with the partner's key, partner EDIGATE with our certificate) and answers with the MDN
pyas2lib builds. Negative cases swap the responder: tampered or foreign receipts built by
pyas2lib itself, HTTP errors, a stalled server, a closed port.
"""

from __future__ import annotations

import base64
import http.server
import itertools
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.as2 import (
    MIC,
    AS2Sender,
    OutboundPartner,
    build_mdn,
    mdn_original_message_id,
)
from gateway.as2.cms import certificate_sha256
from gateway.delivery.egress import Egress, EgressPolicy

as2 = pytest.importorskip("pyas2lib.as2")

# pyas2lib converts LF to CRLF in text payloads, so the payload already uses CRLF.
PAYLOAD = (
    b"ISA*00*          *00*          *ZZ*EDIGATE        *ZZ*ACME           *240101*1200*U*"
    b"00401*000000001*0*P*>~\r\nGS*PO*EDIGATE*ACME*20240101*1200*1*X*004010~\r\n"
    b"ST*850*0001~\r\nBEG*00*SA*PO1**20240101~\r\nSE*3*0001~\r\nGE*1*1~\r\n"
    b"IEA*1*000000001~\r\n"
)
ASYNC_URL = "https://edigate.example/as2/mdn"

# The receiving server listens on loopback, which the egress policy refuses by default.
LOOPBACK = EgressPolicy.parse("loopback")

Responder = Callable[[list[tuple[str, str]], bytes], tuple[int, dict[str, str], bytes]]


# ---------------------------------------------------------------------------------------------
# The receiving side: a real HTTP server whose answers the tests choose


@dataclass
class Receiver:
    """A local HTTP server; ``respond`` answers every POST, ``seen`` keeps pyas2lib's views."""

    url: str
    respond: Responder | None = None
    seen: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receiver: Receiver  # set on the subclass made per server

    def do_POST(self) -> None:  # http.server calls do_<METHOD>
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = list(self.headers.items())
        try:
            assert self.receiver.respond is not None, "no responder set"
            status, out_headers, out_body = self.receiver.respond(headers, body)
        except Exception:
            self.receiver.errors.append(traceback.format_exc())
            status, out_headers, out_body = 599, {}, b"responder crashed"
        try:
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(out_body)))
            self.end_headers()
            self.wfile.write(out_body)
        except OSError:  # the client gave up (the timeout test)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read results, not access logs."""


@pytest.fixture(scope="module")
def server() -> Iterator[Receiver]:
    """One threaded HTTP server on 127.0.0.1 for the module; each test sets its responder."""
    receiver = Receiver(url="")
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/as2"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def receiver(server: Receiver) -> Iterator[Receiver]:
    """The module's server, reset for one test; a crash in a responder fails the test."""
    server.respond = None
    server.seen.clear()
    server.errors.clear()
    server.release.clear()
    yield server
    server.release.set()
    assert not server.errors, server.errors[0]


@pytest.fixture
def sender(parties) -> Iterator[AS2Sender]:
    """Our sender (EDIGATE) with a short timeout and an async MDN URL."""
    with Egress(LOOPBACK, deadline_seconds=10) as egress, \
            AS2Sender(parties.us.identity, egress=egress, async_mdn_url=ASYNC_URL) as made:
        yield made


def _partner(parties, receiver: Receiver, **settings: Any) -> OutboundPartner:
    values: dict[str, Any] = {
        "as2_id": "ACME",
        "url": receiver.url,
        "certificates": (parties.partner.certificate,),
    }
    values.update(settings)
    return OutboundPartner(**values)


# ---------------------------------------------------------------------------------------------
# pyas2lib as the partner


def _raw(headers: list[tuple[str, str]], body: bytes) -> bytes:
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in headers) + b"\r\n" + body


def _http_of(mdn) -> tuple[dict[str, str], bytes]:
    """A pyas2lib MDN as HTTP headers (unfolded) and body."""
    headers = {k: " ".join(str(v).split()) for k, v in mdn.headers.items()}
    return headers, mdn.content


def _org(parties, *, sign_with=None, sign: bool = True):
    """pyas2lib's ACME: decrypts with the partner key, signs MDNs with ``sign_with``'s key."""
    decrypt = parties.partner.key_and_cert_pem
    signer = (sign_with or parties.partner).key_and_cert_pem if sign else None
    return as2.Organization(as2_name="ACME", sign_key=signer, decrypt_key=decrypt)


def _edigate_seen_by_pyas2lib(parties, **settings: Any):
    pem = parties.us.cert_pem
    return as2.Partner(as2_name="EDIGATE", verify_cert=pem, encrypt_cert=pem, **settings)


def pyas2lib_parse(
    receiver: Receiver, org, partner, headers: list[tuple[str, str]], body: bytes
) -> tuple[Any, str, Any]:
    """Parse a request with pyas2lib; remember its Message; return (message, status, mdn)."""
    message = as2.Message()
    status, _, mdn = message.parse(
        _raw(headers, body), find_org_cb=lambda _: org, find_partner_cb=lambda _: partner
    )
    receiver.seen.append(message)
    return message, status, mdn


def pyas2lib_sync(
    receiver: Receiver,
    parties,
    *,
    org=None,
    rebuild: Callable[[Any], Any] | None = None,
    **partner_settings: Any,
) -> Responder:
    """Answer like a pyas2lib server: parse, then return its MDN (or 200 empty if none)."""
    organisation = org or _org(parties)
    edigate = _edigate_seen_by_pyas2lib(parties, **partner_settings)

    def respond(headers, body):
        message, _, mdn = pyas2lib_parse(receiver, organisation, edigate, headers, body)
        if rebuild is not None:
            mdn = rebuild(message)
        if mdn is None:
            return 200, {}, b""
        return (200, *_http_of(mdn))

    return respond


def _rebuild_mdn(status: str, detailed: str | None = None, mic: bytes | None = None):
    """Let pyas2lib build (and sign, if asked) a different MDN for the message it parsed."""

    def rebuild(message):
        if mic is not None:
            message.mic = mic
        mdn = as2.Mdn(mdn_mode="SYNC")
        mdn.build(message=message, status=status, detailed_status=detailed)
        return mdn

    return rebuild


# ---------------------------------------------------------------------------------------------
# Delivered: the matrix


@pytest.mark.parametrize(
    ("sign", "encrypt", "compress", "mdn_signed"),
    list(
        itertools.product(
            [None, "sha256", "sha512"],
            [None, "aes128-cbc", "aes256-cbc", "3des"],
            [False, True],
            [False, True],
        )
    ),
)
def test_pyas2lib_receives_and_its_sync_mdn_means_delivered(
    parties, receiver, sender, sign, encrypt, compress, mdn_signed
):
    """Every sign x encrypt x compress x MDN-signing combination reaches pyas2lib intact and
    its synchronous MDN is judged a trustworthy receipt: delivered, signature verified when
    signed, MIC equal to the one we sent whenever pyas2lib returns one."""
    receiver.respond = pyas2lib_sync(receiver, parties)
    partner = _partner(
        parties, receiver, sign=sign, encrypt=encrypt, compress=compress, mdn_signed=mdn_signed
    )

    result = sender.send(PAYLOAD, partner=partner, filename="po.x12", subject="PO 1")

    assert result.status == "delivered", result.error
    assert result.error is None
    assert result.http_status == 200
    [seen] = receiver.seen
    assert seen.content == PAYLOAD
    assert seen.message_id == result.message_id
    assert seen.signed is (sign is not None)
    assert seen.encrypted is (encrypt is not None)
    assert seen.compressed is compress
    mdn = result.mdn
    assert mdn is not None and mdn.ok, mdn
    assert mdn.original_message_id == result.message_id
    assert mdn.disposition_type == "processed" and mdn.modifier is None
    assert mdn.signed is mdn_signed
    assert mdn.signature_valid is (True if mdn_signed else None)
    if sign is not None:
        # pyas2lib returns a MIC only for signed messages (AS2-NOTES.md).
        assert mdn.mic_matches is True
        assert mdn.mic is not None and mdn.mic.digest is not None
        assert mdn.mic.digest.value == sign
    partner_fp = certificate_sha256(parties.partner.certificate)
    assert result.evidence["sign"] == sign
    assert result.evidence["encrypt"] == encrypt
    assert result.evidence["partner_certificate_sha256"] == partner_fp
    assert result.evidence["mdn_signer_sha256"] == (partner_fp if mdn_signed else None)
    assert result.evidence["mic"] == result.mic.header_value()


@pytest.mark.parametrize(
    ("sign", "encrypt", "compress", "before", "te"),
    [
        ("sha256", "aes256-cbc", True, False, "binary"),
        ("sha-256", "aes128-cbc", False, True, "base64"),
        ("sha384", "aes192-cbc", True, True, "base64"),
        ("sha1", "3des", True, False, "base64"),
    ],
)
def test_partner_switches_interoperate_with_pyas2lib(
    parties, receiver, sender, sign, encrypt, compress, before, te
):
    """Compress-after-signing, base64 transfer encoding and the RFC 5751 digest spelling are
    all understood by pyas2lib, and its receipt still verifies with a matching MIC."""
    receiver.respond = pyas2lib_sync(receiver, parties)
    partner = _partner(
        parties,
        receiver,
        sign=sign,
        encrypt=encrypt,
        compress=compress,
        compress_before_signing=before,
        transfer_encoding=te,
    )

    result = sender.send(PAYLOAD, partner=partner)

    assert result.status == "delivered", result.error
    assert receiver.seen[0].content == PAYLOAD
    assert result.mdn is not None and result.mdn.mic_matches is True


def test_mdn_signed_by_a_second_listed_certificate_is_accepted(parties, receiver, sender):
    """During a rollover any listed certificate may sign receipts: an MDN signed with the
    partner's new key verifies, while the message is still encrypted to the first one."""
    receiver.respond = pyas2lib_sync(
        receiver, parties, org=_org(parties, sign_with=parties.stranger)
    )
    partner = _partner(
        parties,
        receiver,
        certificates=(parties.partner.certificate, parties.stranger.certificate),
    )

    result = sender.send(PAYLOAD, partner=partner)

    assert result.status == "delivered", result.error
    assert result.evidence["mdn_signer_sha256"] == certificate_sha256(parties.stranger.certificate)


def test_no_mdn_requested_is_delivered_on_2xx(parties, receiver, sender):
    """mdn_mode "none": the request asks for no receipt, and a 2xx answer means delivered."""
    receiver.respond = pyas2lib_sync(receiver, parties)

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver, mdn_mode="none"))

    assert result.status == "delivered", result.error
    assert result.mdn is None
    assert receiver.seen[0].content == PAYLOAD
    assert "disposition-notification-to" not in {k.lower() for k in receiver.seen[0].headers}


def test_processed_warning_is_delivered_with_the_warning_in_evidence(parties, receiver, sender):
    """A processed/warning receipt (pyas2lib's duplicate-document) with the right MIC counts
    as delivered; the warning is kept in the evidence."""
    receiver.respond = pyas2lib_sync(
        receiver, parties, rebuild=_rebuild_mdn("processed/warning", "duplicate-document")
    )

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver))

    assert result.status == "delivered", result.error
    assert result.mdn is not None and result.mdn.mic_matches is True
    assert result.evidence["warning"] == "warning: duplicate-document"


# ---------------------------------------------------------------------------------------------
# Asynchronous MDNs


@pytest.mark.parametrize("mdn_signed", [False, True])
@pytest.mark.parametrize("status", [200, 202])
def test_async_mdn_is_awaited_then_checked(parties, receiver, sender, mdn_signed, status):
    """With mdn_mode "async" the request names our MDN URL, a 2xx without body means
    awaiting-mdn, and the MDN pyas2lib builds for that URL passes check_async_mdn."""
    built: list[Any] = []
    org, edigate = _org(parties), _edigate_seen_by_pyas2lib(parties)

    def respond(headers, body):
        _, _, mdn = pyas2lib_parse(receiver, org, edigate, headers, body)
        built.append(mdn)
        return status, {}, b""

    receiver.respond = respond
    partner = _partner(parties, receiver, mdn_mode="async", mdn_signed=mdn_signed)

    result = sender.send(PAYLOAD, partner=partner)

    assert result.status == "awaiting-mdn", result.error
    assert result.http_status == status and result.mdn is None
    [mdn] = built
    assert mdn.mdn_mode == "ASYNC" and mdn.mdn_url == ASYNC_URL
    headers, body = _http_of(mdn)
    assert mdn_original_message_id(headers, body) == result.message_id
    checked = sender.check_async_mdn(
        headers, body, partner=partner, message_id=result.message_id, mic=result.mic
    )
    assert checked.ok, checked.problems
    assert checked.signed is mdn_signed
    assert checked.mic_matches is True


def test_async_mdn_with_another_mic_or_garbage_is_not_ok(parties, receiver, sender):
    """check_async_mdn refuses a receipt whose MIC is not the one sent, and reports bytes that
    are not an MDN as a problem instead of raising."""
    built: list[Any] = []
    org, edigate = _org(parties), _edigate_seen_by_pyas2lib(parties)

    def respond(headers, body):
        built.append(pyas2lib_parse(receiver, org, edigate, headers, body)[2])
        return 202, {}, b""

    receiver.respond = respond
    partner = _partner(parties, receiver, mdn_mode="async")
    result = sender.send(PAYLOAD, partner=partner)
    headers, body = _http_of(built[0])

    other = MIC(base64.b64encode(b"\x01" * 32).decode(), "sha256")
    checked = sender.check_async_mdn(
        headers, body, partner=partner, message_id=result.message_id, mic=other
    )
    assert not checked.ok and checked.mic_matches is False
    assert any("does not match" in p for p in checked.problems)

    garbage = sender.check_async_mdn(
        {"Content-Type": "text/plain"},
        b"hello",
        partner=partner,
        message_id=result.message_id,
        mic=result.mic,
    )
    assert not garbage.ok and garbage.problems[0].startswith("not an MDN")
    assert mdn_original_message_id({"Content-Type": "text/plain"}, b"hello") is None


def test_async_mode_without_our_url_is_a_configuration_error(parties, receiver):
    """Asking for asynchronous MDNs without an MDN URL is our misconfiguration: ValueError."""
    with (
        AS2Sender(parties.us.identity) as no_url,
        pytest.raises(ValueError, match="async_mdn_url"),
    ):
        no_url.send(PAYLOAD, partner=_partner(parties, receiver, mdn_mode="async"))


# ---------------------------------------------------------------------------------------------
# Receipts that must not be trusted


def test_mdn_with_a_wrong_mic_resigned_by_pyas2lib_fails(parties, receiver, sender):
    """pyas2lib re-signs a receipt whose MIC was tampered with: the signature verifies, but
    the MIC differs from what was sent, so the send failed (pyas2lib itself only warns)."""
    wrong = base64.b64encode(b"\x00" * 32)
    receiver.respond = pyas2lib_sync(
        receiver, parties, rebuild=_rebuild_mdn("processed", mic=wrong)
    )

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver))

    assert result.status == "failed"
    assert result.mdn is not None
    assert result.mdn.signature_valid is True and result.mdn.mic_matches is False
    assert "does not match the MIC of the message sent" in (result.error or "")
    assert result.evidence["mdn_mic_matches"] is False


def test_mdn_with_the_mic_under_another_algorithm_fails_with_that_reason(parties, receiver, sender):
    """We ask for a sha256 MIC of a sha512-signed message; pyas2lib answers with sha512 (it
    ignores signed-receipt-micalg), which cannot be compared: failed, and the error says so."""
    receiver.respond = pyas2lib_sync(receiver, parties)

    result = sender.send(
        PAYLOAD, partner=_partner(parties, receiver, sign="sha512", micalg="sha256")
    )

    assert result.status == "failed"
    assert "uses sha512, but sha256 was requested" in (result.error or "")


def test_mdn_signed_by_an_unknown_key_fails(parties, receiver, sender):
    """A receipt signed with a key none of the partner's certificates holds is not proof of
    delivery: failed, with the signature problem named."""
    receiver.respond = pyas2lib_sync(
        receiver, parties, org=_org(parties, sign_with=parties.stranger)
    )

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver))

    assert result.status == "failed"
    assert result.mdn is not None and result.mdn.signature_valid is False
    assert "MDN signature" in (result.error or "")
    assert "not one of the 1 certificate(s)" in (result.error or "")
    assert result.evidence["mdn_signer_sha256"] is None


def test_unsigned_mdn_when_signed_was_requested_fails(parties, receiver, sender):
    """pyas2lib without a signing key answers a signed-receipt request unsigned: failed."""
    receiver.respond = pyas2lib_sync(receiver, parties, org=_org(parties, sign=False))

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver, mdn_signed=True))

    assert result.status == "failed"
    assert result.mdn is not None and result.mdn.signed is False
    assert "not signed, but a signed MDN was requested" in (result.error or "")


@pytest.mark.parametrize(
    ("rebuild", "settings", "expected"),
    [
        # pyas2lib's own refusal: it requires encryption from us, we did not encrypt.
        (None, {"encrypt": True}, "processed/Error: insufficient-message-security"),
        (_rebuild_mdn("processed/error", "decryption-failed"), {}, "decryption-failed"),
        (_rebuild_mdn("failed/Failure", "unsupported format"), {}, "failed/Failure"),
    ],
)
def test_error_and_failure_dispositions_fail(
    parties, receiver, sender, rebuild, settings, expected
):
    """processed/error and failed/failure receipts mean the partner refused the message:
    failed, with the disposition in the error."""
    receiver.respond = pyas2lib_sync(receiver, parties, rebuild=rebuild, **settings)

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver, encrypt=None))

    assert result.status == "failed"
    assert result.mdn is not None and not result.mdn.ok
    assert expected in (result.error or "")
    assert "partner says:" in (result.error or "")


def test_mdn_for_another_message_fails(parties, receiver, sender):
    """A well-signed receipt that answers a different Message-ID is no receipt for ours."""

    def respond(headers, body):
        mdn = build_mdn(
            original_message_id="someone-else@acme",
            as2_from="ACME",
            as2_to="EDIGATE",
            disposition="processed",
            description="ok",
            mic=None,
            sign_with=parties.partner.identity,
        )
        return 200, mdn.headers, mdn.body

    receiver.respond = respond

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver, sign=None))

    assert result.status == "failed"
    assert "answers message 'someone-else@acme'" in (result.error or "")


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b"", "without the synchronous MDN"), (b"<html>thanks</html>", "is not an MDN")],
)
def test_2xx_without_a_readable_sync_mdn_fails(parties, receiver, sender, body, expected):
    """A 2xx whose body is empty or not an MDN, when a synchronous MDN was requested, leaves
    no receipt: failed with the reason."""
    receiver.respond = lambda headers, request: (200, {"Content-Type": "text/html"}, body)

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver))

    assert result.status == "failed"
    assert result.http_status == 200 and result.mdn is None
    assert expected in (result.error or "")


# ---------------------------------------------------------------------------------------------
# HTTP and network outcomes


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(500, "retry"), (503, "retry"), (429, "retry"), (400, "failed"), (403, "failed")],
)
def test_http_errors_are_retry_or_failed(parties, receiver, sender, status, outcome):
    """5xx and 429 are the partner's passing trouble (retry); other 4xx refuse the request
    (failed). The error names the status and quotes the body; Retry-After is kept."""
    receiver.respond = lambda headers, body: (
        status,
        {"Retry-After": "120", "Content-Type": "text/plain"},
        b"server says no",
    )

    result = sender.send(PAYLOAD, partner=_partner(parties, receiver))

    assert result.status == outcome
    assert result.http_status == status and result.mdn is None
    assert result.error == f"HTTP {status} from {receiver.url}: server says no"
    assert result.evidence["retry_after"] == "120"
    assert result.mic.value  # the MIC is known even when nothing was delivered


def test_connection_refused_is_retry(parties, sender):
    """Nothing listening on the port: retry, with a network error naming the URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/as2"
    partner = OutboundPartner(as2_id="ACME", url=url, certificates=(parties.partner.certificate,))

    result = sender.send(PAYLOAD, partner=partner)

    assert result.status == "retry"
    assert result.http_status is None
    assert (result.error or "").startswith(f"network error posting to {url}: ConnectError")


def test_timeout_is_retry(parties, receiver):
    """A partner that does not answer within the timeout: retry, and the error says timed out."""

    def stall(headers, body):
        receiver.release.wait(10)
        return 200, {}, b""

    receiver.respond = stall
    with Egress(LOOPBACK, deadline_seconds=0.5) as egress, \
            AS2Sender(parties.us.identity, egress=egress) as impatient:
        result = impatient.send(PAYLOAD, partner=_partner(parties, receiver))
    receiver.release.set()

    assert result.status == "retry"
    assert result.http_status is None
    assert (result.error or "").startswith(f"timed out posting to {receiver.url}")


def test_a_partner_url_the_egress_policy_refuses_is_failed_unsent(parties, receiver):
    """By default (no EDIGATE_EGRESS_ALLOW) a partner URL on loopback is not contacted: the
    send is ``failed`` (retrying would get the same answer) with the policy's reason."""
    receiver.respond = lambda headers, body: (200, {}, b"")

    with AS2Sender(parties.us.identity) as strict:
        result = strict.send(PAYLOAD, partner=_partner(parties, receiver, mdn_mode="none"))

    assert result.status == "failed" and result.http_status is None
    assert "refused by the egress policy: 127.0.0.1 is a loopback address" in (
        result.error or "")
    assert receiver.seen == [] and not receiver.errors


def test_a_trickling_partner_is_cut_at_the_deadline(parties, trickling_port):
    """A partner that answers one header line every 0.3 s (no read ever times out) holds
    the sender only until the attempt's total deadline: ``retry``, well before it would
    have finished."""
    partner = OutboundPartner(as2_id="ACME", url=f"http://127.0.0.1:{trickling_port}/as2",
                              certificates=(parties.partner.certificate,), mdn_mode="none")
    started = time.monotonic()
    with Egress(LOOPBACK, deadline_seconds=1.5) as egress, \
            AS2Sender(parties.us.identity, egress=egress) as impatient:
        result = impatient.send(PAYLOAD, partner=partner)

    assert time.monotonic() - started < 10
    assert result.status == "retry"
    assert "total deadline of 1.5 s" in (result.error or "")


def test_retry_keeps_the_message_id(parties, receiver, sender):
    """A resend with the first attempt's Message-ID reaches the partner under that ID (how the
    caller's retries let the partner spot duplicates)."""
    receiver.respond = pyas2lib_sync(receiver, parties)

    first = sender.send(PAYLOAD, partner=_partner(parties, receiver))
    again = sender.send(PAYLOAD, partner=_partner(parties, receiver), message_id=first.message_id)

    assert again.status == "delivered", again.error
    assert [m.message_id for m in receiver.seen] == [first.message_id] * 2


@pytest.mark.parametrize(
    "settings",
    [
        {"sign": "md5"},
        {"encrypt": "rc2"},
        {"encrypt": "aes128-cbc", "certificates": ()},
        {"url": "ftp://acme.example/as2"},
        {"micalg": "crc32"},
    ],
)
def test_bad_partner_settings_are_refused_up_front(parties, settings):
    """OutboundPartner refuses settings that could not produce a message (ValueError)."""
    values: dict[str, Any] = {
        "as2_id": "ACME",
        "url": "https://acme.example/as2",
        "certificates": (parties.partner.certificate,),
    }
    values.update(settings)
    with pytest.raises(ValueError):
        OutboundPartner(**values)


# ---------------------------------------------------------------------------------------------
# A document internal systems submit, sent through the outbox to pyas2lib


def test_a_generated_document_reaches_pyas2lib_and_its_receipt_is_ledgered(
        as2_gateway, parties, receiver, tmp_path):
    """Records posted for an AS2 partner become an interchange queued on the outbox; the
    AS2 worker delivers it signed and encrypted to pyas2lib, which reads exactly the
    stored interchange, and the verified MDN marks the transfer delivered in the ledger
    of that outbound message."""
    from gateway.delivery.as2_sending import AS2Deliverer
    from gateway.store.as2 import AS2Message, AS2Status
    from gateway.store.models import Message, Payload
    from tests.gateway.as2.conftest import GATEWAY_PROFILE

    receiver.respond = pyas2lib_sync(receiver, parties)
    partners = tmp_path / "generated"
    partners.mkdir()
    (partners / "acme.pem").write_bytes(parties.partner.cert_pem)
    (partners / "acme-as2.toml").write_text(GATEWAY_PROFILE.replace(
        "encrypted = false", f'encrypted = true\nurl = "{receiver.url}"'))
    gateway = as2_gateway(partners_dir=partners)
    state = gateway.state
    partner = state.registry.get("acme-as2")
    record = {"kind": "order_response", "po_number": "PO-1", "order_date": "2024-03-01",
              "purpose_code": "00", "response_code": "AC",
              "lines": [{"line_number": "1", "quantity": "3", "unit": "EA",
                         "item_ids": {"vendor_item": "V-1"}}]}
    result = state.outbound.submit(partner, [record], actor="test")
    assert result.status == "GENERATED" and result.transfer_id is not None
    with AS2Deliverer(state.as2.outbox, worker="test") as deliverer:
        assert deliverer.run_once() == 1
    with state.db.read() as session:
        row = session.get(AS2Message, result.transfer_id)
        message = session.get(Message, result.message_id)
        stored = session.get(Payload, message.payload_sha256).data
    assert row.status == AS2Status.DELIVERED, row.last_error
    [seen] = receiver.seen
    assert seen.content == stored and seen.signed and seen.encrypted
    events = [e["event"] for e in gateway.events() if e["message_id"] == result.message_id]
    assert events == ["GENERATED", "AS2_QUEUED", "AS2_SENT"]
