"""Keys, certificates and AS2 parties for the AS2 tests, generated at test time, and a
whole gateway receiving AS2 (``as2_gateway``) with a raw ASGI client for header bytes no
HTTP client would send.

RSA keys are generated once per session (2048-bit is slow enough to matter) and written
to a temporary directory for the openssl CLI; no private key is ever committed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.as2 import AS2Identity, PartnerSecurity
from gateway.as2.mime import parse_header_block

NOW = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Party:
    """One AS2 party: identity plus PEM files for openssl and pyas2lib."""

    as2_id: str
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    key_path: Path
    cert_path: Path

    @property
    def identity(self) -> AS2Identity:
        return AS2Identity(as2_id=self.as2_id, key=self.key, certificate=self.certificate)

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_and_cert_pem(self) -> bytes:
        """Certificate then unencrypted key in one PEM, as pyas2lib's Organization loads it."""
        key = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return self.cert_pem + key


def make_certificate(
    key: rsa.RSAPrivateKey,
    common_name: str,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    """A self-signed certificate for ``key``, as AS2 partners commonly exchange."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _party(
    directory: Path,
    as2_id: str,
    key: rsa.RSAPrivateKey,
    *,
    not_before: dt.datetime = NOW - dt.timedelta(days=1),
    not_after: dt.datetime = NOW + dt.timedelta(days=365),
) -> Party:
    certificate = make_certificate(key, as2_id, not_before=not_before, not_after=not_after)
    slug = f"{as2_id.lower()}-{certificate.serial_number:x}"
    key_path = directory / f"{slug}.key.pem"
    cert_path = directory / f"{slug}.cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return Party(as2_id, key, certificate, key_path, cert_path)


@dataclass(frozen=True)
class Parties:
    """Everyone the AS2 tests need."""

    us: Party  # the gateway
    partner: Party  # a trading partner with a valid certificate
    stranger: Party  # a key and certificate the partner profile does not list
    expired_partner: Party  # the partner's key under a certificate that has expired


@pytest.fixture(scope="session")
def parties(tmp_path_factory: pytest.TempPathFactory) -> Parties:
    """Three 2048-bit RSA keys and their certificates, made once for the session."""
    directory = tmp_path_factory.mktemp("as2-keys")
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
    return Parties(
        us=_party(directory, "EDIGATE", keys[0]),
        partner=_party(directory, "ACME", keys[1]),
        stranger=_party(directory, "ACME", keys[2]),
        expired_partner=_party(
            directory,
            "ACME",
            keys[1],
            not_before=NOW - dt.timedelta(days=400),
            not_after=NOW - dt.timedelta(days=35),
        ),
    )


MakePartner = Callable[..., PartnerSecurity]


@pytest.fixture
def make_partner(parties: Parties) -> MakePartner:
    """Build the partner's profile: every algorithm allowed, nothing required, unless overridden."""

    def make(**overrides: object) -> PartnerSecurity:
        values: dict[str, object] = {
            "as2_id": parties.partner.as2_id,
            "certificates": (parties.partner.certificate,),
            "sign": ("sha1", "sha256", "sha384", "sha512"),
            "encrypt": (
                "aes128-cbc",
                "aes192-cbc",
                "aes256-cbc",
                "aes128-gcm",
                "aes256-gcm",
                "3des",
            ),
            "allow_3des": True,
            "require_signed": False,
            "require_encrypted": False,
        }
        values.update(overrides)
        return PartnerSecurity(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def split_http() -> Callable[[bytes], tuple[dict[str, str], bytes]]:
    """Split ``headers CRLF CRLF body`` (how pyas2lib hands messages over) into headers and body."""

    def split(raw: bytes) -> tuple[dict[str, str], bytes]:
        head, _, body = raw.partition(b"\r\n\r\n")
        return dict(parse_header_block(head).items_in_order()), body

    return split


@pytest.fixture(scope="session")
def openssl() -> Callable[..., bytes]:
    """Run the openssl CLI (skipped when absent) and return its stdout."""
    import subprocess

    binary = shutil.which("openssl")
    if binary is None:
        pytest.skip("the openssl CLI is not installed")

    def run(*args: str | Path, stdin: bytes = b"") -> bytes:
        done = subprocess.run(
            [binary, *map(str, args)], input=stdin, capture_output=True, check=False, timeout=60
        )
        if done.returncode != 0:
            raise AssertionError(f"openssl {' '.join(map(str, args))} failed: {done.stderr!r}")
        return done.stdout

    return run


# ---------------------------------------------------------------------------------------------
# A whole gateway receiving AS2 on the test database (both backends via ``database_url``)

GATEWAY_PROFILE = """
id = "acme-as2"
name = "Acme over AS2"
transactions = ["850"]

[x12]
qualifier = "ZZ"
id = "ACMEAS2"
ack = "997"

[as2]
as2_id = "ACME"
certificates = ["acme.pem"]
signed = true
encrypted = false
"""


@dataclass
class RawResponse:
    """What the app sent for a request made at the ASGI level, and how many body chunks
    it asked for before answering."""

    status: int
    headers: dict[str, str]
    body: bytes
    chunks_read: int

    @property
    def is_problem(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/problem+json")


@dataclass
class AS2Gateway:
    """edigate with the AS2 identity of ``parties.us`` and one partner, ``acme-as2``
    (AS2 name ACME, must sign, ``receipt_urls`` as given)."""

    client: Any
    state: Any
    parties: Parties
    counter: list[int]

    def interchange(self) -> bytes:
        from gateway.runtime.demo import demo_interchange

        self.counter[0] += 1
        return demo_interchange("acme-850.edi", "ZZ", "ACMEAS2", "00401", self.state.settings,
                                7000 + self.counter[0])

    def message(self, payload: bytes | None = None, *, signer: Party | None = None,
                receipt_url: str | None = None, mdn: bool = True,
                message_id: str | None = None) -> tuple[dict[str, str], bytes]:
        """A signed AS2 message from ACME to EDIGATE asking for a signed receipt (at
        ``receipt_url`` when given): HTTP headers and body."""
        from gateway.as2 import MDNRequest, wrap

        sender = signer or self.parties.partner
        request = MDNRequest(to="as2@acme.example", signed=True, micalgs=("sha-256",),
                             async_url=receipt_url) if mdn else None
        out = wrap(payload if payload is not None else self.interchange(),
                   content_type="application/edi-x12", filename=None,
                   ours=AS2Identity("ACME", sender.key, sender.certificate),
                   partner_as2_id="EDIGATE", partner_certificate=None, sign="sha256",
                   encrypt=None, compress=False, mdn=request, message_id=message_id)
        return dict(out.headers), out.body

    def post(self, headers: dict[str, str], body: bytes) -> Any:
        return self.client.post("/as2", content=body, headers=headers)

    def raw(self, headers: Iterable[tuple[bytes, bytes]], chunks: Iterable[bytes]) -> RawResponse:
        """POST /as2 with header bytes exactly as given (an HTTP client would refuse some)
        and the body in ``chunks``, on the app's own event loop."""
        return self.client.portal.call(_asgi_post, self.client.app, list(headers),
                                       iter(chunks), dict(self.client.app_state))

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from gateway.ledger.chain import LedgerEntry

        with self.state.db.read() as session:
            query = select(LedgerEntry).order_by(LedgerEntry.seq)
            if event:
                query = query.where(LedgerEntry.event == event)
            return [{"event": e.event, "message_id": e.message_id, **json.loads(e.details)}
                    for e in session.scalars(query)]

    def stored(self) -> dict[str, int]:
        """Rows of what a request can leave behind besides the ledger."""
        from sqlalchemy import func, select

        from gateway.store.as2 import AS2Message
        from gateway.store.models import Message, Payload

        with self.state.db.read() as session:
            return {model.__name__: session.scalar(select(func.count()).select_from(model))
                    or 0 for model in (Payload, Message, AS2Message)}


async def _asgi_post(app: Any, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes],
                     app_state: dict[str, Any]) -> RawResponse:
    read = 0
    finished = False
    started: dict[str, Any] = {}
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal read, finished
        if finished:
            return {"type": "http.disconnect"}
        chunk = next(chunks, None)
        if chunk is None:
            finished = True
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/as2", "raw_path": b"/as2",
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 40000), "server": ("testserver", 80), "state": app_state}
    try:
        await app(scope, receive, send)
    except Exception:  # the 500 was sent before the exception propagated
        if not started:
            raise
    return RawResponse(started.get("status", 0),
                       {k.decode("latin-1").lower(): v.decode("latin-1")
                        for k, v in started.get("headers", [])}, b"".join(body), read)


@pytest.fixture
def as2_gateway(tmp_path: Path, database_url: str, parties: Parties
                ) -> Iterator[Callable[..., AS2Gateway]]:
    """A factory: ``as2_gateway(receipt_urls=[...], **settings)`` starts the gateway on the
    test database (each backend) with the ``acme-as2`` partner; closed at teardown."""
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from gateway.runtime.app import create_app
    from gateway.runtime.settings import Settings
    from gateway.runtime.state import GatewayState
    from gateway.store.base import Base

    opened: list[tuple[Any, Any]] = []

    def start(receipt_urls: Iterable[str] = (), **overrides: Any) -> AS2Gateway:
        partners = tmp_path / f"partners-{len(opened)}"
        partners.mkdir()
        (partners / "acme.pem").write_bytes(parties.partner.cert_pem)
        urls = list(receipt_urls)
        (partners / "acme-as2.toml").write_text(
            GATEWAY_PROFILE + (f"receipt_urls = {json.dumps(urls)}\n" if urls else ""))
        fields: dict[str, Any] = {
            "database_url": database_url, "partners_dir": partners, "var_dir": tmp_path,
            "ledger_key_path": tmp_path / "ledger.pem", "workers": 0, "as2_id": "EDIGATE",
            "as2_key": parties.us.key_path, "as2_cert": parties.us.cert_path,
            # The peers listen on loopback; what these tests pin is the partner's
            # receipt_urls, so the egress policy must not be what keeps a listener quiet.
            "egress_allow": "loopback"}
        settings = Settings(**(fields | overrides))
        state = GatewayState.build(settings, lease=timedelta(seconds=30))
        Base.metadata.create_all(state.db.engine)
        client = TestClient(create_app(settings, state=state, start_workers=False),
                            raise_server_exceptions=False)
        client.__enter__()
        opened.append((client, state))
        return AS2Gateway(client, state, parties, [0])

    yield start
    for client, state in reversed(opened):
        client.__exit__(None, None, None)
        state.close()
