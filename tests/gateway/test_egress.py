"""gateway.delivery.egress: which destinations outbound connections may reach, that the address
connected to is the one checked, the total deadline of an attempt against a real
trickling server, the registration check of webhook URLs and the refusal of queued MDNs."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.api.api_keys import issue_key
from gateway.delivery import egress as egress_module
from gateway.delivery.as2_sending import AS2Deliverer
from gateway.delivery.egress import Egress, EgressPolicy, EgressRefused, OutboundPool, destination
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.app import create_app
from gateway.runtime.state import GatewayState
from gateway.store.as2 import AS2Message, AS2Status
from tests.gateway.conftest import partners_with_receipt_url, queue_mdn

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = EgressPolicy.parse("loopback")


# -- a raw listener -----------------------------------------------------------------------

@dataclass
class Listener:
    """A TCP server on ``host`` (TLS with ``tls``) that answers every connection with
    ``answer(conn)`` on a thread of its own and records what it was sent."""

    host: str = "127.0.0.1"
    port: int = 0
    answer: Callable[[socket.socket, Listener], None] | None = None
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    sock: socket.socket | None = None
    tls: ssl.SSLContext | None = None
    thread: threading.Thread | None = None
    errors: list[OSError] = field(default_factory=list)

    def start(self) -> Listener:
        self.sock = socket.create_server((self.host, self.port))
        if self.tls is not None:
            # The handshake happens on the connection's own thread, not in accept().
            self.sock = self.tls.wrap_socket(self.sock, server_side=True,
                                             do_handshake_on_connect=False)
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self) -> None:
        assert self.sock is not None
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = b""
            try:
                if isinstance(conn, ssl.SSLSocket):
                    conn.do_handshake()  # an SSLError when the client refuses our certificate
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                # The body is read too: closing a socket with unread bytes sends a reset,
                # which can destroy the answer before the client has read it.
                head = data.split(b"\r\n\r\n", 1)[0].lower()
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.startswith(b"content-length:")), 0)
                while len(data) - len(head) - 4 < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.requests.append(data)
                if self.answer is not None:
                    self.answer(conn, self)
                else:
                    conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            except OSError as exc:
                self.errors.append(exc)

    def close(self) -> None:
        self.stop.set()
        # Joined before the socket is closed: a thread still polling the closed socket's
        # descriptor number would accept the connections of the next listener given it.
        if self.thread is not None:
            self.thread.join(5)
        if self.sock is not None:
            self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    made = Listener().start()
    yield made
    made.close()


def trickle(conn: socket.socket, listener: Listener) -> None:
    """A status line, then one header line every 0.3 s for up to 30 s: never a whole answer
    within any reasonable deadline, yet never silent long enough for a per-read timeout."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for n in range(100):
        if listener.stop.wait(0.3):
            return
        conn.sendall(f"X-Trickle-{n}: still here\r\n".encode())


# -- the policy ---------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.5.6.7", "loopback"), ("::1", "loopback"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("172.31.255.254", "private"),
    ("192.168.1.1", "private"), ("100.64.0.1", "private"), ("fd00::1", "private"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("192.0.2.10", "reserved"),
    ("2001:db8::1", "reserved"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"), ("2002:7f00:1::1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"), ("::10.0.0.1", "private"),
])
def test_special_purpose_addresses_are_refused_by_default(address: str, kind: str) -> None:
    """Every special-purpose range, and IPv6 forms embedding such an IPv4 address, is
    refused by the default policy, and the refusal names the range."""
    reason = EgressPolicy().refusal(ipaddress.ip_address(address))
    assert reason is not None and f"a {kind} address" in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    """Ordinary global addresses are not refused."""
    assert EgressPolicy().refusal(ipaddress.ip_address(address)) is None


def test_the_setting_lets_through_named_ranges_and_cidrs_only() -> None:
    """``loopback`` lets loopback through (IPv4-mapped too) and nothing else; a CIDR lets
    exactly its addresses through; anything else in the setting is a ValueError."""
    ip = ipaddress.ip_address
    assert LOOPBACK.refusal(ip("127.0.0.1")) is None
    assert LOOPBACK.refusal(ip("::ffff:127.0.0.1")) is None
    assert LOOPBACK.refusal(ip("10.0.0.1")) is not None
    assert LOOPBACK.refusal(ip("169.254.169.254")) is not None
    cidr = EgressPolicy.parse(" 10.20.0.0/16 , link-local")
    assert cidr.refusal(ip("10.20.3.4")) is None
    assert cidr.refusal(ip("10.21.3.4")) is not None
    assert cidr.refusal(ip("169.254.1.1")) is None
    for bad in ("bogus", "multicast", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="EDIGATE_EGRESS_ALLOW"):
            EgressPolicy.parse(bad)


def test_a_refused_destination_is_never_connected_to(listener: Listener) -> None:
    """By default a loopback listener, named by address or by a name that resolves to it,
    gets no connection at all: the refusal comes before the connect."""
    with Egress(EgressPolicy(), deadline_seconds=5) as out:
        for host in ("127.0.0.1", "localhost"):
            with pytest.raises(EgressRefused, match="loopback"), \
                    out.stream("POST", f"http://{host}:{listener.port}/x", content=b"{}"):
                pass
    with Egress(LOOPBACK, deadline_seconds=5) as out, \
            out.stream("POST", f"http://127.0.0.1:{listener.port}/x", content=b"{}") as answer:
        assert answer.status_code == 204
    assert listener.connections == 1


def test_the_address_connected_to_is_the_address_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name is resolved once per attempt and the connection goes to
    that checked address, even when a later lookup would name a refused one."""
    allowed = Listener(host="127.0.0.2").start()
    refused = Listener(host="127.0.0.1", port=allowed.port).start()
    lookups: list[str] = []

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        address = "127.0.0.2" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(egress_module.socket, "getaddrinfo", rebinding)
    try:
        policy = EgressPolicy.parse("127.0.0.2/32")
        with Egress(policy, deadline_seconds=5) as out, \
                out.stream("POST", f"http://rebind.test:{allowed.port}/x",
                           content=b"{}") as answer:
            assert answer.status_code == 204
    finally:
        allowed.close()
        refused.close()
    assert lookups == ["rebind.test"]
    assert refused.connections == 0 and allowed.connections == 1
    assert f"host: rebind.test:{allowed.port}".encode() in allowed.requests[0].lower()


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for DNS name ``name`` (PEM files: key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@pytest.mark.parametrize("served", ["rebind.test", "other.test"])
def test_tls_is_checked_against_the_urls_host_name(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, served: str) -> None:
    """Connecting to the checked address does not weaken TLS: the server gets the URL's
    host name as SNI, and a certificate for another name is refused."""
    key, cert = _certificate(tmp_path, served)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, context: names.append(name)
    listener = Listener(host="127.0.0.2", tls=server_context).start()
    monkeypatch.setattr(egress_module.socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))])
    client_context = ssl.create_default_context(cafile=str(cert))
    policy = EgressPolicy.parse("127.0.0.2/32")
    url = f"https://rebind.test:{listener.port}/x"
    try:
        with Egress(policy, deadline_seconds=5, verify=client_context) as out:
            if served == "rebind.test":
                with out.stream("POST", url, content=b"{}") as answer:
                    assert answer.status_code == 204, listener.errors
            else:
                with pytest.raises(httpx.ConnectError, match="certificate"), \
                        out.stream("POST", url, content=b"{}"):
                    pass
    finally:
        listener.close()
    assert names and set(names) == {"rebind.test"}


def test_an_attempt_ends_at_its_total_deadline(listener: Listener) -> None:
    """A server that trickles a header line every 0.3 s (each read succeeds) is cut off
    when the attempt's total deadline passes, not when it finishes 30 s later."""
    listener.answer = trickle
    started = time.monotonic()
    with Egress(LOOPBACK, deadline_seconds=1.5) as out, \
            pytest.raises(httpx.TimeoutException, match=r"total deadline of 1\.5 s"), \
            out.stream("POST", f"http://127.0.0.1:{listener.port}/x", content=b"{}"):
        pass
    assert time.monotonic() - started < 10


# -- webhooks: registration and the deadline of a delivery ----------------------------------

def _operator(state: GatewayState) -> str:
    with state.db.transaction() as session:
        return issue_key(session, "ops", role="operator")[0]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:5432/",
    "http://10.0.0.5/hook", "https://192.168.1.10/hook", "https://[fd12::1]/hook",
    "http://0.0.0.0:8000/hook", "http://100.64.1.1/hook",
])
def test_internal_webhook_urls_are_refused_at_registration(
        build_state: Callable[..., GatewayState], url: str) -> None:
    """An operator cannot subscribe a loopback, link-local or private target: 422
    problem+json naming the range; nothing is stored."""
    state = build_state()
    key = _operator(state)
    with TestClient(create_app(state.settings, state=state, start_workers=False)) as client:
        response = client.post("/v1/webhooks", json={"url": url, "kinds": "purchase_order"},
                               headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"] == "urn:edigate:problem:invalid-webhook"
        assert "egress policy" in problem["detail"]
        listed = client.get("/v1/webhooks", headers={"Authorization": f"Bearer {key}"})
        assert listed.json()["items"] == []


def test_the_setting_lets_a_range_be_registered(
        build_state: Callable[..., GatewayState]) -> None:
    """With ``egress_allow=loopback`` a loopback URL may be registered; link-local
    (the cloud metadata address) still may not."""
    state = build_state(egress_allow="loopback")
    auth = {"Authorization": f"Bearer {_operator(state)}"}
    with TestClient(create_app(state.settings, state=state, start_workers=False)) as client:
        ok = client.post("/v1/webhooks", headers=auth,
                         json={"url": "http://127.0.0.1:9/hook", "kinds": "invoice"})
        assert ok.status_code == 201, ok.text
        metadata = client.post("/v1/webhooks", headers=auth, json={
            "url": "http://169.254.169.254/latest/meta-data/", "kinds": "invoice"})
        assert metadata.status_code == 422


# -- asynchronous MDNs ----------------------------------------------------------------------

def test_a_queued_mdn_to_a_refused_url_fails_at_once_without_connecting(
        build_state: Callable[..., GatewayState], listener: Listener, tmp_path: Path) -> None:
    """An async MDN whose URL is a loopback listener is not sent: it fails on its first
    attempt (no retries) with the policy's reason, in the row and the ledger."""
    url = f"http://127.0.0.1:{listener.port}/mdn"
    state = build_state(partners_dir=partners_with_receipt_url(tmp_path, url))
    row_id = queue_mdn(state, url)
    assert state.as2 is not None
    with AS2Deliverer(state.as2.outbox, worker="test") as deliverer:
        assert deliverer.run_once() == 1
        assert deliverer.run_once() == 0
    assert listener.connections == 0
    with state.db.read() as session:
        row = session.get(AS2Message, row_id)
        assert row is not None and row.mdn_status == AS2Status.FAILED and row.attempts == 1
        assert "refused by the egress policy" in (row.last_error or "")
        events = [e.event for e in session.scalars(select(LedgerEntry))]
    assert events == ["MDN_FAILED"]


def test_a_queued_mdn_is_cut_at_the_deadline(build_state: Callable[..., GatewayState],
                                             listener: Listener, tmp_path: Path) -> None:
    """A receipt URL that trickles its answer holds the AS2 sender only until the
    deadline; the attempt is then retried later, with the reason recorded."""
    listener.answer = trickle
    url = f"http://127.0.0.1:{listener.port}/mdn"
    state = build_state(egress_allow="loopback", egress_deadline_seconds=1.5,
                        partners_dir=partners_with_receipt_url(tmp_path, url))
    row_id = queue_mdn(state, url)
    assert state.as2 is not None
    started = time.monotonic()
    with AS2Deliverer(state.as2.outbox, worker="test") as deliverer:
        assert deliverer.run_once() == 1
    assert time.monotonic() - started < 10
    with state.db.read() as session:
        row = session.get(AS2Message, row_id)
        assert row is not None and row.mdn_status == AS2Status.PENDING
        assert "total deadline" in (row.last_error or "")


# -- the pool -------------------------------------------------------------------------------

def test_the_pool_holds_each_destination_to_its_limit() -> None:
    """With a destination at its limit, the claim is told so and other destinations still
    get threads; a finished attempt frees its slot."""
    release = threading.Event()
    pool = OutboundPool(size=4, per_destination=2)
    slow, fast = destination("https://slow.test/a"), destination("http://fast.test:8080/")
    told: list[frozenset[Any]] = []
    done = threading.Event()

    def claim_for(target: Any, work: Callable[[], object]) -> Any:
        def claim(busy: Any) -> Any:
            told.append(frozenset(busy))
            return None if target in busy else (target, work)
        return claim

    try:
        assert pool.dispatch(claim_for(slow, lambda: release.wait(10)))
        assert pool.dispatch(claim_for(slow, lambda: release.wait(10)))
        assert not pool.dispatch(claim_for(slow, lambda: release.wait(10)))
        assert told[-1] == {slow}
        assert pool.dispatch(claim_for(fast, done.set))
        assert done.wait(5)
        assert pool.in_flight(slow) == 2
    finally:
        release.set()
        pool.shutdown()
    assert pool.in_flight() == 0
    assert slow == ("https", "slow.test", 443) and fast == ("http", "fast.test", 8080)
