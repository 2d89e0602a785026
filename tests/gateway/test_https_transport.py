"""The HTTPS POST transport against a real local HTTP server: what a partner receives,
which answers deliver, retry or fail, refused destinations and missing secrets, the
ledger trail, and that the partner's secret is never recorded; on every backend.
Also the ``[https]`` profile table's checks."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from gateway.delivery.https_sending import (
    HTTPSChannel,
    HTTPSDeliverer,
    HTTPSOutbox,
    HTTPSWork,
    judge,
)
from gateway.delivery.outbox import backoff
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.runtime.workers import WorkerThreads
from gateway.store.base import Base, utcnow
from gateway.store.https import HTTPSStatus, HTTPSTransfer
from partners import PartnerProfile
from partners.profile import describe_validation_error
from tests.gateway.receiver import LoopbackReceiver, Request

X12 = (b"ISA*00*          *00*          *ZZ*EDIGATE        *ZZ*ACMEHTTPS      *261207*0630*U*"
       b"00401*000000001*0*P*>~GS*PO*EDIGATE*ACMEHTTPS*20261207*0630*1*X*004010~"
       b"ST*850*0001~BEG*00*SA*PO-1**20261207~SE*3*0001~GE*1*1~IEA*1*000000001~")
EDIFACT = (b"UNA:+.? 'UNB+UNOC:3+EDIGATE:ZZ+GLOBEXHTTPS:ZZ+261207:0630+1'"
           b"UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1+9'UNT+3+1'UNZ+1+1'")
TOKEN = "tok-7f9a-S3CRET-bearer"
PASSWORD = "pa55:w0rd-S3CRET!"
TOKEN_VAR = "EDIGATE_TEST_HTTPS_TOKEN"
PASSWORD_VAR = "EDIGATE_TEST_HTTPS_PASSWORD"
EVENTS = ("HTTPS_QUEUED", "HTTPS_SENT", "HTTPS_SEND_RETRY", "HTTPS_SEND_FAILED")


# -- the partner's server -----------------------------------------------------------------

class Receiver(LoopbackReceiver):
    """Answers the next of ``answers`` (200 once they are used up)."""

    path = "/edi/in"

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[int] = []

    def answer(self, request: Request) -> int:
        return self.answers.pop(0) if self.answers else 200

    def body(self, status: int) -> bytes:
        return b"accepted" if status < 300 else f"no: {TOKEN}".encode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


# -- the gateway --------------------------------------------------------------------------

def bearer_partner(url: str) -> str:
    return f"""
id = "acme-https"
name = "Acme over HTTPS"

[x12]
qualifier = "ZZ"
id = "ACMEHTTPS"

[https]
url = "{url}"
auth = "bearer"
secret_env = "{TOKEN_VAR}"
headers = {{ "X-Mailbox" = "EDIGATE01" }}
"""


def basic_partner(url: str) -> str:
    return f"""
id = "globex-https"
name = "Globex over HTTPS"

[edifact]
qualifier = "ZZ"
id = "GLOBEXHTTPS"

[https]
url = "{url}"
auth = "basic"
username = "edigate"
secret_env = "{PASSWORD_VAR}"
"""


@dataclass
class Gateway:
    state: GatewayState
    outbox: HTTPSOutbox
    deliverer: HTTPSDeliverer

    def queue(self, partner_id: str, payload: bytes) -> str:
        partner = self.state.registry.get(partner_id)
        assert partner is not None
        with self.state.db.transaction() as session:
            return self.outbox.enqueue(session, partner, payload, message_id=None,
                                       actor="test").id

    def row(self, row_id: str) -> HTTPSTransfer:
        with self.state.db.read() as session:
            row = session.get(HTTPSTransfer, row_id)
            assert row is not None
            session.expunge(row)
            return row

    def entries(self, *events: str) -> list[tuple[str, dict[str, Any]]]:
        """(event, details) of the ledger entries of ``events`` (default: all HTTPS ones),
        oldest first."""
        with self.state.db.read() as session:
            rows = session.scalars(select(LedgerEntry).where(
                LedgerEntry.event.in_(events or EVENTS)).order_by(LedgerEntry.seq))
            return [(row.event, json.loads(row.details)) for row in rows]

    def ledger_text(self) -> str:
        with self.state.db.read() as session:
            return "\n".join(f"{row.event} {row.details}"
                             for row in session.scalars(select(LedgerEntry)))


MakeGateway = Callable[..., Gateway]


@pytest.fixture
def gateway(build_state: Callable[..., GatewayState], tmp_path: Path
            ) -> Iterator[MakeGateway]:
    """A factory of a gateway whose partners directory holds ``profiles`` (file stem ->
    TOML text); loopback destinations allowed unless ``egress_allow`` says otherwise."""
    deliverers: list[HTTPSDeliverer] = []

    def make(profiles: dict[str, str], **overrides: Any) -> Gateway:
        folder = tmp_path / f"partners-{len(deliverers)}"
        folder.mkdir()
        for stem, text in profiles.items():
            (folder / f"{stem}.toml").write_text(text)
        settings: dict[str, Any] = {"egress_allow": "loopback", "outbox_backoff_seconds": 5.0,
                                    "outbox_max_attempts": 3}
        state = build_state(partners_dir=folder, **(settings | overrides))
        deliverer = state.https_deliverer(worker="test-https", lease=timedelta(seconds=30),
                                          timeout=5)
        assert deliverer is not None and state.https is not None
        deliverers.append(deliverer)
        return Gateway(state, state.https, deliverer)

    yield make
    for deliverer in deliverers:
        deliverer.close()


# -- what the partner receives ------------------------------------------------------------

def test_a_bearer_post_carries_the_exact_payload_content_type_and_token(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A queued X12 interchange reaches the partner's URL once, byte for byte, as
    application/edi-x12 with ``Authorization: Bearer <the variable's value>`` and the
    profile's static headers; the row is delivered with the status and the ledger says so."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    row_id = gw.queue("acme-https", X12)
    assert gw.deliverer.run_once() == 1
    [request] = receiver.requests
    assert request.path == "/edi/in" and request.body == X12
    assert request.headers["Content-Type"] == "application/edi-x12"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["X-Mailbox"] == "EDIGATE01"
    row = gw.row(row_id)
    assert (row.status, row.http_status, row.attempts, row.last_error) == \
        (HTTPSStatus.DELIVERED, 200, 1, None)
    [(queued, q), (sent, s)] = gw.entries()
    assert (queued, sent) == ("HTTPS_QUEUED", "HTTPS_SENT")
    assert q["transfer_id"] == row_id and q["partner"] == "acme-https" and \
        q["size"] == len(X12) and q["content_type"] == "application/edi-x12"
    assert s["http_status"] == 200 and s["attempt"] == 1 and s["url"] == receiver.url
    assert gw.deliverer.run_once(utcnow() + timedelta(days=1)) == 0  # sent once only


def test_a_basic_post_of_edifact_carries_the_credentials_and_its_content_type(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """For an EDIFACT partner with ``auth = "basic"`` the POST is application/edifact and
    carries ``Basic base64(username:password)``, the password from the named variable."""
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)
    gw = gateway({"globex-https": basic_partner(receiver.url)})
    row_id = gw.queue("globex-https", EDIFACT)
    assert gw.deliverer.run_once() == 1
    [request] = receiver.requests
    assert request.body == EDIFACT
    assert request.headers["Content-Type"] == "application/edifact"
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"edigate:{PASSWORD}"
    assert gw.row(row_id).status == HTTPSStatus.DELIVERED


def test_a_server_error_is_retried_after_the_backoff_then_delivered(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 leaves the transfer pending until the outbox's backoff has passed
    (HTTPS_SEND_RETRY with the status), then the same payload is sent again and a 200
    delivers it."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    receiver.answers = [500]
    row_id = gw.queue("acme-https", X12)
    at = utcnow()
    assert gw.deliverer.run_once(at) == 1
    row = gw.row(row_id)
    assert (row.status, row.http_status, row.attempts) == (HTTPSStatus.PENDING, 500, 1)
    assert row.next_attempt_at == at + backoff(gw.state.settings, 1)
    assert gw.deliverer.run_once(at + timedelta(seconds=4)) == 0  # not due yet
    assert gw.deliverer.run_once(at + timedelta(seconds=6)) == 1
    assert [r.body for r in receiver.requests] == [X12, X12]
    row = gw.row(row_id)
    assert (row.status, row.http_status, row.attempts) == (HTTPSStatus.DELIVERED, 200, 2)
    events = gw.entries("HTTPS_SENT", "HTTPS_SEND_RETRY", "HTTPS_SEND_FAILED")
    assert [(e, d["http_status"], d["attempt"]) for e, d in events] == \
        [("HTTPS_SEND_RETRY", 500, 1), ("HTTPS_SENT", 200, 2)]
    assert events[0][1]["error"] == "HTTP 500"


@pytest.mark.parametrize("code", [408, 429, 502, 503])
def test_answers_that_ask_for_later_are_retried(
        code: int, gateway: MakeGateway, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """408, 429 and 5xx answers leave the transfer pending for another try."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    receiver.answers = [code]
    row_id = gw.queue("acme-https", X12)
    assert gw.deliverer.run_once() == 1
    assert (gw.row(row_id).status, gw.row(row_id).http_status) == (HTTPSStatus.PENDING, code)


@pytest.mark.parametrize(("retry_after", "wait"), [
    ("120", timedelta(seconds=120)),  # longer than the backoff: honoured
    ("2", timedelta(seconds=5)),  # shorter: the backoff stands
    ("86400", timedelta(seconds=600)),  # a day: cut to the backoff's cap
    ("soon", timedelta(seconds=5)),  # unreadable: the backoff
])
def test_a_retry_after_asking_for_longer_than_the_backoff_is_honoured(
        retry_after: str, wait: timedelta, gateway: MakeGateway, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A 503 with Retry-After: the next try comes no sooner than it asks, up to the
    outbox's backoff cap, and never sooner than the backoff."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)},
                 outbox_backoff_cap_seconds=600.0)
    receiver.answers, receiver.retry_after = [503], retry_after
    row_id = gw.queue("acme-https", X12)
    at = utcnow()
    assert gw.deliverer.run_once(at) == 1
    assert gw.row(row_id).next_attempt_at == at + wait
    assert gw.deliverer.run_once(at + wait - timedelta(seconds=1)) == 0
    assert gw.deliverer.run_once(at + wait) == 1
    assert gw.row(row_id).status == HTTPSStatus.DELIVERED


@pytest.mark.parametrize("code", [401, 400, 403, 404, 413, 301])
def test_a_refusal_fails_the_transfer_at_once(
        code: int, gateway: MakeGateway, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4xx other than 408/429 (and a redirect, which is never followed) fails the
    transfer on its first attempt, final: no retry entry, nothing sent again later."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    receiver.answers = [code]
    row_id = gw.queue("acme-https", X12)
    assert gw.deliverer.run_once() == 1
    assert gw.deliverer.run_once(utcnow() + timedelta(days=1)) == 0
    row = gw.row(row_id)
    assert (row.status, row.http_status, row.attempts) == (HTTPSStatus.FAILED, code, 1)
    assert len(receiver.requests) == 1
    assert gw.entries("HTTPS_SEND_RETRY") == []
    [(_, failed)] = gw.entries("HTTPS_SEND_FAILED")
    assert failed["http_status"] == code and failed["error"].startswith(f"HTTP {code}")


def test_a_closed_port_is_retried(gateway: MakeGateway,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection that cannot be made is a failed try to be retried, not a final
    failure: the partner's server may be back later."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gw = gateway({"acme-https": bearer_partner(f"http://127.0.0.1:{port}/edi")})
    row_id = gw.queue("acme-https", X12)
    assert gw.deliverer.run_once() == 1
    row = gw.row(row_id)
    assert (row.status, row.attempts, row.http_status) == (HTTPSStatus.PENDING, 1, None)
    assert "ConnectError" in (row.last_error or "")


def test_a_destination_the_egress_policy_refuses_fails_at_once_unsent(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """With loopback not allowed, the transfer to the loopback server fails on its first
    attempt with the policy's reason, and nothing reaches the server."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)}, egress_allow="")
    row_id = gw.queue("acme-https", X12)
    assert gw.deliverer.run_once() == 1
    assert gw.deliverer.run_once(utcnow() + timedelta(days=1)) == 0
    assert receiver.requests == []
    row = gw.row(row_id)
    assert (row.status, row.attempts) == (HTTPSStatus.FAILED, 1)
    [(_, failed)] = gw.entries("HTTPS_SEND_FAILED")
    assert "refused by the egress policy" in failed["error"] and "loopback" in failed["error"]


def test_a_missing_secret_variable_fails_at_once_naming_it(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A profile whose secret_env variable is not set loads, and its transfer fails on
    the first attempt, unsent, with one log line and a ledger error naming the partner,
    the key and the variable."""
    monkeypatch.delenv(TOKEN_VAR, raising=False)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    row_id = gw.queue("acme-https", X12)
    with caplog.at_level(logging.INFO):
        assert gw.deliverer.run_once() == 1
    assert receiver.requests == []
    row = gw.row(row_id)
    assert (row.status, row.attempts) == (HTTPSStatus.FAILED, 1)
    for text in (row.last_error or "", gw.entries("HTTPS_SEND_FAILED")[0][1]["error"]):
        assert "acme-https" in text and "secret_env" in text and TOKEN_VAR in text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert TOKEN_VAR in errors[0].getMessage() and row_id in errors[0].getMessage()


def test_the_secret_is_never_in_the_ledger_the_row_or_the_log(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Through a retry, a delivery and a final refusal (whose body quotes the token), for
    bearer and basic partners, no ledger entry, row or log record holds the token, the
    password or the encoded Basic credentials."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)
    gw = gateway({"acme-https": bearer_partner(receiver.url),
                  "globex-https": basic_partner(receiver.url)})
    receiver.answers = [503, 401, 403]  # then 200
    ids = [gw.queue("acme-https", X12), gw.queue("globex-https", EDIFACT),
           gw.queue("acme-https", X12 + b"\n")]
    at = utcnow()
    with caplog.at_level(logging.DEBUG):
        assert gw.deliverer.run_once(at) == 3
        assert gw.deliverer.run_once(at + timedelta(minutes=1)) == 1
    assert len(receiver.requests) == 4
    assert [gw.row(i).status for i in ids] == \
        [HTTPSStatus.DELIVERED, HTTPSStatus.FAILED, HTTPSStatus.FAILED]
    basic = base64.b64encode(f"edigate:{PASSWORD}".encode()).decode()
    recorded = [gw.ledger_text(), *(repr(vars(gw.row(i))) for i in ids),
                *(r.getMessage() for r in caplog.records), caplog.text]
    for text in recorded:
        for secret in (TOKEN, PASSWORD, basic):
            assert secret not in text


class _QuotingEgress:
    """An egress whose every request fails with an error quoting its headers, as an
    HTTP library may when it refuses a header value."""

    @contextmanager
    def stream(self, method: str, url: str, *, content: bytes = b"",
               headers: dict[str, str] | None = None) -> Iterator[httpx.Response]:
        raise httpx.LocalProtocolError(f"cannot send {method} {url} with {headers}")
        yield httpx.Response(200)  # never reached: makes this a generator


def test_an_error_that_quotes_the_request_is_recorded_without_the_secret(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """When sending fails with an error text that quotes the request's headers, the
    outcome (which becomes the row's error and the ledger's) has the token redacted, and
    the attempt counts as a failure to retry."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    partner = gw.state.registry.get("acme-https")
    assert partner is not None
    work = HTTPSWork("t-1", "acme-https", receiver.url, X12, "application/edi-x12",
                     partner.https)
    outcome = HTTPSChannel(gw.outbox).send(work, _QuotingEgress(),  # type: ignore[arg-type]
                                           utcnow())
    assert outcome.error is not None and not outcome.final
    assert "Authorization" in outcome.error and "[redacted]" in outcome.error
    assert TOKEN not in outcome.error


# -- what the profile's URL and the workers do --------------------------------------------

def test_an_attempt_goes_to_the_url_the_profile_has_now(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A transfer queued while the profile named another URL is sent to the profile's
    current URL (with the credentials configured beside it), and the row records it."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    old = gateway({"acme-https": bearer_partner("https://old.acme.example/edi")})
    row_id = old.queue("acme-https", X12)
    new = gateway({"acme-https": bearer_partner(receiver.url)})
    assert new.deliverer.run_once() == 1
    assert len(receiver.requests) == 1 and receiver.requests[0].body == X12
    row = new.row(row_id)
    assert (row.status, row.url) == (HTTPSStatus.DELIVERED, receiver.url)
    [(_, queued)] = new.entries("HTTPS_QUEUED")
    [(_, sent)] = new.entries("HTTPS_SENT")
    assert (queued["url"], sent["url"]) == ("https://old.acme.example/edi", receiver.url)


def test_worker_threads_send_queued_transfers(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker threads of a process dispatch the HTTPS outbox on their own: a queued
    transfer is delivered without anyone calling the deliverer."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    row_id = gw.queue("acme-https", X12)
    workers = WorkerThreads(gw.state, 1, idle_seconds=0.05, deliverer_idle_seconds=0.05)
    workers.start()
    try:
        deadline = time.monotonic() + 20
        while gw.row(row_id).status != HTTPSStatus.DELIVERED and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        workers.shutdown()
    assert gw.row(row_id).status == HTTPSStatus.DELIVERED
    assert [r.body for r in receiver.requests] == [X12]


def test_the_cli_worker_sends_due_transfers(
        database_url: str, tmp_path: Path, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`edigate worker` without --follow sends the due HTTPS transfers and says how many
    it tried."""
    from gateway.runtime.cli import main

    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "acme-https.toml").write_text(bearer_partner(receiver.url))
    for name, value in {"EDIGATE_DATABASE_URL": database_url,
                        "EDIGATE_VAR_DIR": str(tmp_path),
                        "EDIGATE_LEDGER_KEY_PATH": str(tmp_path / "ledger.pem"),
                        "EDIGATE_PARTNERS_DIR": str(folder),
                        "EDIGATE_EGRESS_ALLOW": "loopback", TOKEN_VAR: TOKEN}.items():
        monkeypatch.setenv(name, value)
    state = GatewayState.build(Settings.from_env())
    try:
        Base.metadata.create_all(state.db.engine)
        partner = state.registry.get("acme-https")
        assert partner is not None and state.https is not None
        with state.db.transaction() as session:
            state.https.enqueue(session, partner, X12, message_id=None, actor="test")
    finally:
        state.close()
    capsys.readouterr()
    assert main(["worker"]) == 0
    assert capsys.readouterr().out.strip().endswith("and 1 HTTPS send attempt(s)")
    assert [r.body for r in receiver.requests] == [X12]


# -- how answers count ----------------------------------------------------------------------

@given(st.integers(min_value=100, max_value=599))
@example(200)
@example(204)
@example(301)
@example(401)
@example(408)
@example(429)
@example(500)
def test_only_2xx_delivers_and_only_408_429_5xx_are_retried(code: int) -> None:
    """For any status code: 2xx delivers; 408, 429 and 5xx are retried; every other
    answer fails at once."""
    outcome = judge(code)
    assert outcome.detail == code
    assert (outcome.error is None) == (200 <= code < 300)
    if outcome.error is not None:
        assert outcome.final == (code < 500 and code not in (408, 429))


# -- the [https] profile table --------------------------------------------------------------

def _problems(https: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        PartnerProfile.model_validate({"id": "p", "name": "P",
                                       "x12": {"qualifier": "ZZ", "id": "P"}, "https": https})
    except ValidationError as exc:
        return describe_validation_error(exc)
    return []


@pytest.mark.parametrize(("https", "key", "words"), [
    ({"url": "ftp://edi.example/in"}, "https.url", "http:// or https://"),
    ({"url": "https://user:pw@edi.example/in"}, "https.url", "secret_env"),
    ({"url": "https://edi.example/in", "auth": "bearer"}, "https.secret_env", "required"),
    ({"url": "https://edi.example/in", "auth": "basic", "secret_env": "X"},
     "https.username", "required"),
    ({"url": "https://edi.example/in", "auth": "bearer", "secret_env": "abc def ghi"},
     "https.secret_env", "not the secret itself"),
    ({"url": "https://edi.example/in", "secret_env": "TOKEN"}, "https.secret_env",
     "only used"),
    ({"url": "https://edi.example/in", "auth": "basic", "username": "a:b",
      "secret_env": "X"}, "https.username", "without ':'"),
    ({"url": "https://edi.example/in", "headers": {"Authorization": "Bearer x"}},
     "https.headers.Authorization", "set by the HTTPS transport"),
    ({"url": "https://edi.example/in", "headers": {"X-A": "one\r\nX-B: two"}},
     "https.headers.X-A", "printable"),
    ({"url": "https://edi.example/in", "content_type": "edi"}, "https.content_type",
     "media type"),
    ({"url": "https://edi.example/in", "auth": "digest"}, "https.auth", "none, basic, bearer"),
    ({"url": "http://edi.example/in", "auth": "bearer", "secret_env": "TOKEN"}, "https.url",
     "clear text"),
    ({"url": "http://10.0.0.7/in", "auth": "basic", "username": "u", "secret_env": "PW"},
     "https.url", "clear text"),
])
def test_an_unusable_https_table_is_a_located_error(https: dict[str, Any], key: str,
                                                     words: str) -> None:
    """Each mistake in ``[https]`` is refused at load with its key and a reason."""
    [(where, message)] = _problems(https)
    assert where == key and words in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/in", "http://[::1]/in",
                                 "http://localhost/in", "https://edi.example/in"])
def test_credentials_go_over_https_or_to_this_machine_only(url: str) -> None:
    """A token may go to an https:// URL or over plain HTTP to a loopback host (a local
    relay); plain HTTP without credentials stays allowed."""
    assert _problems({"url": url, "auth": "bearer", "secret_env": "TOKEN"}) == []
    assert _problems({"url": "http://edi.example/in"}) == []


def test_the_content_type_defaults_by_standard_and_can_be_set() -> None:
    """Without content_type, X12 goes as application/edi-x12 and EDIFACT as
    application/edifact (RFC 1767); a given content_type is used for both."""
    profile = PartnerProfile.model_validate({
        "id": "p", "name": "P", "x12": {"qualifier": "ZZ", "id": "P"},
        "https": {"url": "https://edi.example/in"}})
    assert profile.https is not None
    assert (profile.https.media_type("x12"), profile.https.media_type("edifact")) == \
        ("application/edi-x12", "application/edifact")
    given_type = profile.https.model_copy(update={"content_type": "text/plain"})
    assert given_type.media_type("x12") == "text/plain"


def test_records_submitted_for_an_https_partner_are_posted_as_generated(
        gateway: MakeGateway, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records submitted for a partner with ``[https]`` (and no AS2) become an interchange
    queued on the HTTPS outbox: the worker POSTs exactly the stored interchange, and the
    outbound message's ledger reads GENERATED, HTTPS_QUEUED, HTTPS_SENT."""
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    gw = gateway({"acme-https": bearer_partner(receiver.url)})
    partner = gw.state.registry.get("acme-https")
    assert partner is not None and gw.state.outbound is not None
    record = {"kind": "order_response", "po_number": "PO-5", "order_date": "2024-03-01",
              "purpose_code": "00", "response_code": "AC",
              "lines": [{"line_number": "1", "quantity": "2", "unit": "EA",
                         "item_ids": {"vendor_item": "V-5"}}]}
    sent = gw.state.outbound.submit(partner, [record], actor="test")
    assert sent.status == "GENERATED" and sent.transport == "https"
    assert sent.transfer_id is not None
    assert gw.deliverer.run_once() == 1
    [request] = receiver.requests
    assert request.body == sent.edi
    assert gw.row(sent.transfer_id).status == HTTPSStatus.DELIVERED
    with gw.state.db.read() as session:
        events = list(session.scalars(select(LedgerEntry.event).where(
            LedgerEntry.message_id == sent.message_id).order_by(LedgerEntry.seq)))
    assert events == ["GENERATED", "HTTPS_QUEUED", "HTTPS_SENT"]
