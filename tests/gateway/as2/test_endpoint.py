"""POST /as2 through the gateway: pyas2lib and plain HTTP clients with `openssl cms`
messages act as trading partners; documents reach the intake pipeline, MDNs come back
(signed or not, sync or async) and verify in pyas2lib; refusals get error dispositions,
nothing is translated, and the ledger records everything."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.api.api_keys import issue_key
from gateway.delivery.as2_sending import AS2Deliverer
from gateway.ledger.chain import LedgerEntry, verify_ledger
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.as2 import AS2Message
from gateway.store.base import Base
from gateway.store.models import Message, MessageStatus

as2 = pytest.importorskip("pyas2lib.as2")

PROFILE = """
id = "acme-as2"
name = "Acme over AS2"
transactions = ["850", "860", "ORDERS"]

[x12]
qualifier = "ZZ"
id = "ACMEAS2"
ack = "997"

[edifact]
qualifier = "14"
id = "4000000000001"
contrl = "always"

[as2]
as2_id = "ACME"
url = "{url}"
certificates = {certificates}
sign = ["sha256", "sha1", "sha384", "sha512"]
encrypt = ["aes256-cbc", "aes128-cbc", "aes192-cbc", "3des"]
allow_3des = true
signed = {signed}
encrypted = {encrypted}
receipt_urls = {receipt_urls}

[as2.mdn]
mode = "{mdn_mode}"
signed = true
micalg = "sha256"
"""


@dataclass
class AS2Env:
    client: TestClient
    state: GatewayState
    ops_key: str
    acme: object  # pyas2lib Organization (the partner's side)
    parties: object
    counter: list[int]

    def interchange(self) -> bytes:
        self.counter[0] += 1
        return demo_interchange("acme-850.edi", "ZZ", "ACMEAS2", "00401",
                                self.state.settings, 5000 + self.counter[0])

    def build(self, payload: bytes, **partner: object) -> tuple[object, dict[str, str], bytes]:
        """A message pyas2lib (as ACME) builds for edigate, as HTTP headers and body."""
        pem = self.parties.us.cert_pem  # type: ignore[attr-defined]
        edigate = as2.Partner(as2_name="EDIGATE", verify_cert=pem, encrypt_cert=pem,
                              **partner)
        message = as2.Message(self.acme, edigate)
        message.build(payload, content_type="application/edi-x12", filename="po.edi")
        head, _, body = (message.headers_str + b"\r\n" + message.content).partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        return message, headers, body

    def events(self, event: str | None = None) -> list[dict[str, object]]:
        with self.state.db.read() as s:
            query = select(LedgerEntry).order_by(LedgerEntry.seq)
            if event:
                query = query.where(LedgerEntry.event == event)
            return [{"event": e.event, "message_id": e.message_id,
                     **json.loads(e.details)} for e in s.scalars(query)]


def _profile(directory: Path, certificates: list[bytes], *, signed: bool = False,
             encrypted: bool = False, url: str = "http://127.0.0.1:9/as2",
             mdn_mode: str = "sync",
             receipt_urls: tuple[str, ...] = ("http://127.0.0.1:9/mdn",)) -> None:
    names = []
    for n, pem in enumerate(certificates):
        name = f"acme-{n}.pem"
        (directory / name).write_bytes(pem)
        names.append(name)
    (directory / "acme-as2.toml").write_text(PROFILE.format(
        certificates=json.dumps(names), signed=str(signed).lower(),
        encrypted=str(encrypted).lower(), url=url, mdn_mode=mdn_mode,
        receipt_urls=json.dumps(list(receipt_urls))))


def _env(tmp_path: Path, database_url: str, parties: object, **profile: object
         ) -> Iterator[AS2Env]:
    partners = tmp_path / "partners"
    partners.mkdir()
    certificates = profile.pop("certificates", None) or [
        parties.partner.cert_pem]  # type: ignore[attr-defined]
    public_url = profile.pop("public_url", None)
    _profile(partners, certificates, **profile)  # type: ignore[arg-type]
    settings = Settings(database_url=database_url, partners_dir=partners, var_dir=tmp_path,
                        public_url=public_url, egress_allow="loopback",
                        ledger_key_path=tmp_path / "ledger.pem", workers=0,
                        as2_id="EDIGATE", as2_key=parties.us.key_path,  # type: ignore[attr-defined]
                        as2_cert=parties.us.cert_path)  # type: ignore[attr-defined]
    state = GatewayState.build(settings, lease=timedelta(seconds=30))
    Base.metadata.create_all(state.db.engine)
    with state.db.transaction() as session:
        ops_key = issue_key(session, "ops", role="operator")[0]
    pem = parties.partner.key_and_cert_pem  # type: ignore[attr-defined]
    acme = as2.Organization(as2_name="ACME", sign_key=pem, decrypt_key=pem,
                            mdn_url="http://127.0.0.1:9/mdn")
    with TestClient(create_app(settings, state=state, start_workers=False)) as client:
        yield AS2Env(client, state, ops_key, acme, parties, [0])
    state.close()


@pytest.fixture
def env(tmp_path: Path, database_url: str, parties: object) -> Iterator[AS2Env]:
    yield from _env(tmp_path, database_url, parties)


@pytest.fixture
def sqlite_env(tmp_path: Path, parties: object) -> Iterator[AS2Env]:
    """The matrix exercises AS2, not storage: one backend (the other tests run on both)."""
    yield from _env(tmp_path, f"sqlite:///{tmp_path / 'as2.db'}", parties)


def _parse_mdn(message: object, headers: dict[str, str], body: bytes) -> tuple[str, object]:
    raw = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + body
    return as2.Mdn().parse(raw, find_message_cb=lambda message_id, recipient: message)


def _post(env: AS2Env, headers: dict[str, str], body: bytes) -> object:
    return env.client.post("/as2", content=body, headers=headers)


MATRIX = list(itertools.product(
    [None, "sha1", "sha256", "sha512"],
    [None, "tripledes_192_cbc", "aes_128_cbc", "aes_256_cbc"],
    [False, True],
    [("SYNC", None), ("SYNC", "sha256"), ("ASYNC", None), ("ASYNC", "sha256")],
))


@pytest.mark.parametrize(("digest", "cipher", "compress", "mdn"), MATRIX)
def test_pyas2lib_partner_matrix(sqlite_env: AS2Env, digest: str | None, cipher: str | None,
                                 compress: bool, mdn: tuple[str, str | None]) -> None:
    """Every signing x encryption x compression x MDN combination pyas2lib sends is taken
    in once, and the MDN (in the response, or queued for the partner's URL) verifies in
    pyas2lib as processed with the MIC it expects."""
    env = sqlite_env
    mode, mdn_digest = mdn
    if mdn_digest is not None and digest is not None:
        # pyas2lib computes the MIC it expects with the signature's digest whatever micalg
        # it requests (AS2-NOTES.md); asking for that digest keeps the check meaningful.
        mdn_digest = digest
    payload = env.interchange()
    message, headers, body = env.build(
        payload, sign=digest is not None, digest_alg=digest or "sha256",
        encrypt=cipher is not None, enc_alg=cipher or "aes_128_cbc", compress=compress,
        mdn_mode=mode, mdn_digest_alg=mdn_digest)
    response = _post(env, headers, body)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    with env.state.db.read() as s:
        row = s.scalars(select(AS2Message).where(AS2Message.direction == "in")).one()
        stored = s.get(Message, row.message_id)
        assert stored is not None and stored.transport == "as2"
        assert stored.status == MessageStatus.RECEIVED
    if mode == "SYNC":
        mdn_headers = dict(response.headers)  # type: ignore[attr-defined]
        mdn_body = response.content  # type: ignore[attr-defined]
    else:
        assert response.content == b""  # type: ignore[attr-defined]
        assert row.mdn_status == "pending" and row.mdn_url == "http://127.0.0.1:9/mdn"
        mdn_headers, mdn_body = json.loads(row.mdn_headers or "{}"), row.mdn_body or b""
    assert _parse_mdn(message, mdn_headers, mdn_body) == ("processed", None)
    assert ("multipart/signed" in mdn_headers.get("Content-Type", mdn_headers.get(
        "content-type", ""))) is (mdn_digest is not None)
    received = env.events("RECEIVED")[0]
    assert received["as2_message_id"] == message.message_id  # type: ignore[attr-defined]
    assert received["signed"] is (digest is not None)
    assert received["encrypted"] is (cipher is not None)
    assert (received["signer_sha256"] is not None) is (digest is not None)
    assert env.events("MDN_BUILT")[0]["mode"] == mode.lower()


def test_document_reaches_the_pipeline_and_is_processed(env: AS2Env) -> None:
    """An AS2 850 is processed into a record like an HTTPS one, and the message detail
    shows the AS2 evidence in its ledger trail."""
    _, headers, body = env.build(env.interchange(), sign=True, digest_alg="sha256",
                                 encrypt=True, enc_alg="aes_256_cbc", mdn_mode="SYNC",
                                 mdn_digest_alg="sha256")
    assert _post(env, headers, body).status_code == 200  # type: ignore[attr-defined]
    assert sum(1 for _ in env.state.pipeline.drain("test")) == 1
    with env.state.db.read() as s:
        message = s.scalars(select(Message)).one()
    assert message.status == MessageStatus.PROCESSED
    detail = env.client.get(f"/v1/messages/{message.id}",
                            headers={"Authorization": f"Bearer {env.ops_key}"}).json()
    events = [e["event"] for e in detail["ledger"]]
    assert events[:2] == ["RECEIVED", "MDN_BUILT"] and "PROCESSED" in events
    assert detail["ledger"][0]["details"]["mic"]
    assert verify_ledger(env.state.db, env.state.signer).ok


def test_same_message_id_again_is_a_duplicate(env: AS2Env) -> None:
    """A resent Message-ID gets processed/warning: duplicate-document and is not taken in
    twice."""
    _message, headers, body = env.build(env.interchange(), sign=True, digest_alg="sha256",
                                       mdn_mode="SYNC", mdn_digest_alg="sha256")
    assert _post(env, headers, body).status_code == 200  # type: ignore[attr-defined]
    again = _post(env, headers, body)
    assert b"duplicate-document" in again.content  # type: ignore[attr-defined]
    assert b"processed/warning" in again.content  # type: ignore[attr-defined]
    with env.state.db.read() as s:
        assert len(s.scalars(select(Message)).all()) == 1
    assert len(env.events("AS2_DUPLICATE")) == 1


def _refused(env: AS2Env, headers: dict[str, str], body: bytes, modifier: str) -> None:
    response = _post(env, headers, body)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert f"processed/error: {modifier}".encode() in response.content  # type: ignore[attr-defined]
    with env.state.db.read() as s:
        assert s.scalars(select(Message)).all() == []
    rejected = env.events("AS2_REJECTED")
    assert rejected and modifier in str(rejected[-1]["disposition"])


def test_tampered_body_is_an_integrity_failure(env: AS2Env) -> None:
    """A byte changed after signing: integrity-check-failed, nothing taken in."""
    payload = env.interchange()
    _, headers, body = env.build(payload, sign=True, digest_alg="sha256", mdn_mode="SYNC")
    tampered = body.replace(b"ACME RETAIL", b"ACME RETAIM", 1)
    assert tampered != body
    _refused(env, headers, tampered, "integrity-check-failed")


def test_signature_by_an_unknown_certificate(env: AS2Env, parties: object) -> None:
    """Signed with a key the profile does not list: authentication-failed."""
    pem = parties.stranger.key_and_cert_pem  # type: ignore[attr-defined]
    env.acme = as2.Organization(as2_name="ACME", sign_key=pem, decrypt_key=pem)
    _, headers, body = env.build(env.interchange(), sign=True, digest_alg="sha256",
                                 mdn_mode="SYNC")
    _refused(env, headers, body, "authentication-failed")


def test_encrypted_to_the_wrong_certificate(env: AS2Env, parties: object) -> None:
    """Encrypted to a certificate that is not ours: decryption-failed."""
    pem = parties.stranger.cert_pem  # type: ignore[attr-defined]
    edigate = as2.Partner(as2_name="EDIGATE", verify_cert=pem, encrypt_cert=pem,
                          encrypt=True, enc_alg="aes_256_cbc", mdn_mode="SYNC")
    message = as2.Message(env.acme, edigate)
    message.build(env.interchange(), content_type="application/edi-x12")
    head, _, body = (message.headers_str + b"\r\n" + message.content).partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
    _refused(env, headers, body, "decryption-failed")


def test_truncated_and_garbage_bodies(env: AS2Env) -> None:
    """A truncated encrypted body and garbage MIME each get an error MDN, never a 500."""
    _, headers, body = env.build(env.interchange(), encrypt=True, enc_alg="aes_128_cbc",
                                 mdn_mode="SYNC")
    _refused(env, headers, body[: len(body) // 2], "decryption-failed")
    garbage = dict(headers, **{"Content-Type": "multipart/signed; boundary=x"})
    response = _post(env, garbage, b"--y\r\nnot a part\r\n")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert b"processed/error" in response.content or \
        b"failed/failure" in response.content  # type: ignore[attr-defined]


def test_unknown_partner_gets_an_error_mdn(env: AS2Env) -> None:
    """An AS2-From no profile names: an error MDN (not a 500), ledgered."""
    _, headers, body = env.build(env.interchange(), mdn_mode="SYNC")
    headers["AS2-From"] = "NOBODY"
    response = _post(env, headers, body)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert b"processed/error: authentication-failed" in response.content  # type: ignore[attr-defined]
    assert env.events("AS2_REJECTED")[0]["as2_from"] == "NOBODY"


def test_edi_from_another_sender_is_refused_with_an_error_mdn(env: AS2Env) -> None:
    """The AS2 layer is fine but ISA06 names another partner: refused (403 at intake),
    the MDN says unexpected-processing-error, and it is not "processed"."""
    other = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401",
                             env.state.settings, 777)
    _, headers, body = env.build(other, sign=True, digest_alg="sha256", mdn_mode="SYNC")
    response = _post(env, headers, body)
    assert b"processed/error: unexpected-processing-error" in response.content  # type: ignore[attr-defined]
    assert env.events("INTAKE_REJECTED")[0]["reason"] == "sender-mismatch"


def test_unsigned_message_when_signing_is_required(tmp_path: Path, database_url: str,
                                                   parties: object) -> None:
    """A partner whose profile requires signatures sends unsigned: the MDN says
    insufficient-message-security."""
    for env in _env(tmp_path, database_url, parties, signed=True):
        _, headers, body = env.build(env.interchange(), mdn_mode="SYNC")
        _refused(env, headers, body, "insufficient-message-security")


def test_two_certificates_during_a_rollover(tmp_path: Path, database_url: str,
                                           parties: object) -> None:
    """With the old and the new certificate listed, a message signed with the new key
    verifies; /v1/partners shows both with their expiry."""
    old = parties.stranger.cert_pem  # type: ignore[attr-defined]
    new = parties.partner.cert_pem  # type: ignore[attr-defined]
    for env in _env(tmp_path, database_url, parties, certificates=[old, new], signed=True):
        _, headers, body = env.build(env.interchange(), sign=True, digest_alg="sha256",
                                     mdn_mode="SYNC", mdn_digest_alg="sha256")
        response = _post(env, headers, body)
        assert b"processed" in response.content and b"error" not in response.content  # type: ignore[attr-defined]
        listed = env.client.get("/v1/partners",
                                headers={"Authorization": f"Bearer {env.ops_key}"}).json()
        acme = next(p for p in listed["items"] if p["id"] == "acme-as2")
        assert len(acme["certificates"]) == 2
        assert all(c["days_left"] > 300 for c in acme["certificates"])
        assert listed["gateway"]["certificates"][0]["sha256"]
        metrics = env.client.get("/metrics", headers={
            "Authorization": f"Bearer {env.ops_key}"}).text
        assert 'edigate_certificate_expiry_days{owner="acme-as2"' in metrics


@pytest.mark.parametrize("layers", ["sign+encrypt", "sign", "encrypt"])
def test_openssl_cms_messages_posted_with_a_plain_client(env: AS2Env, parties: object,
                                                         openssl: object, tmp_path: Path,
                                                         layers: str) -> None:
    """Signed and/or encrypted by `openssl cms` (Debian's openssl has no zlib, so no
    compression) and posted with plain HTTP headers: taken in, with a signed MDN."""
    payload = env.interchange()
    entity = b"Content-Type: application/edi-x12\r\n\r\n" + payload
    (tmp_path / "entity").write_bytes(entity)
    signed = openssl("cms", "-sign", "-binary", "-in", tmp_path / "entity",  # type: ignore[operator]
                     "-signer", parties.partner.cert_path,  # type: ignore[attr-defined]
                     "-inkey", parties.partner.key_path, "-md", "sha256",  # type: ignore[attr-defined]
                     "-outform", "SMIME", "-crlfeol")
    head, _, rest = signed.partition(b"\r\n\r\n")
    mime_headers = [line for line in head.split(b"\r\n") if line.lower().startswith(
        b"content-type") or line.startswith((b" ", b"\t"))]
    signed_entity = b"\r\n".join(mime_headers) + b"\r\n\r\n" + rest
    inner = signed_entity if "sign" in layers else entity
    (tmp_path / "signed").write_bytes(inner)
    encrypted = openssl("cms", "-encrypt", "-binary", "-in", tmp_path / "signed",  # type: ignore[operator]
                        "-aes-256-cbc", "-outform", "DER",
                        parties.us.cert_path)  # type: ignore[attr-defined]
    headers = {
        "AS2-From": "ACME", "AS2-To": "EDIGATE", "AS2-Version": "1.2",
        "Message-ID": "<openssl-1@acme.example>",
        "Content-Type": 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
        "Disposition-Notification-To": "as2@acme.example",
        "Disposition-Notification-Options": "signed-receipt-protocol=optional, pkcs7-signature; "
                                            "signed-receipt-micalg=optional, sha-256",
    }
    if layers == "sign":
        mime_head, _, body = signed_entity.partition(b"\r\n\r\n")
        headers["Content-Type"] = mime_head.decode().split(":", 1)[1].replace(
            "\r\n", "").strip()
        message = body
    else:
        message = encrypted
    response = _post(env, headers, message)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert b"processed" in response.content and b"error" not in response.content  # type: ignore[attr-defined]
    assert b"sha-256" in response.content  # answered in the spelling asked for
    with env.state.db.read() as s:
        assert s.scalars(select(Message)).one().transport == "as2"


def test_async_mdn_is_delivered_and_retried(tmp_path: Path, database_url: str,
                                            parties: object) -> None:
    """An async MDN is POSTed to the Receipt-Delivery-Option URL (one of the partner's
    receipt_urls) by the AS2 deliverer; a failing URL is retried with backoff and every
    attempt is ledgered."""
    import http.server
    import threading

    received: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    environment = _env(tmp_path, database_url, parties, receipt_urls=(
        f"http://127.0.0.1:{server.server_address[1]}/mdn",))
    env = next(environment)
    try:
        try:
            env.acme.mdn_url = f"http://127.0.0.1:{server.server_address[1]}/mdn"  # type: ignore[attr-defined]
            _message, headers, body = env.build(env.interchange(), sign=True, digest_alg="sha256",
                                               mdn_mode="ASYNC", mdn_digest_alg="sha256")
            assert _post(env, headers, body).content == b""  # type: ignore[attr-defined]
            assert env.state.as2 is not None
            with AS2Deliverer(env.state.as2.outbox, worker="test") as deliverer:
                assert deliverer.run_once() == 1
            assert len(received) == 1
            assert b"processed" in received[0]
            assert env.events("MDN_SENT")[0]["url"] == env.acme.mdn_url  # type: ignore[attr-defined]
        finally:
            server.shutdown()
            server.server_close()
        # The partner's URL is down now: the next MDN is retried, not lost.
        _message, headers, body = env.build(env.interchange(), sign=True, digest_alg="sha256",
                                           mdn_mode="ASYNC", mdn_digest_alg="sha256")
        _post(env, headers, body)
        with AS2Deliverer(env.state.as2.outbox, worker="test") as deliverer:
            assert deliverer.run_once() == 1
        retry = env.events("MDN_RETRY")
        assert retry and retry[0]["attempt"] == 1
        with env.state.db.read() as s:
            pending = s.scalars(select(AS2Message).where(AS2Message.mdn_status == "pending")).one()
            assert pending.next_attempt_at is not None
    finally:
        environment.close()


def test_gateway_without_as2_identity_answers_503(tmp_path: Path, database_url: str) -> None:
    """No EDIGATE_AS2_ID: /as2 is a 503 problem, not a crash."""
    settings = Settings(database_url=database_url, partners_dir=Path(__file__).resolve()
                        .parents[3] / "partners", var_dir=tmp_path,
                        ledger_key_path=tmp_path / "l.pem", workers=0)
    state = GatewayState.build(settings)
    Base.metadata.create_all(state.db.engine)
    with TestClient(create_app(settings, state=state, start_workers=False)) as client:
        response = client.post("/as2", content=b"x", headers={"AS2-From": "A", "AS2-To": "B"})
    state.close()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")


class _PartnerServer:
    """pyas2lib as the partner's AS2 server: parses what edigate sends and answers with
    its MDN; ``wrong_mic`` makes it sign a receipt with another MIC."""

    def __init__(self, parties: object, *, wrong_mic: bool = False,
                 async_mdn: bool = False) -> None:
        import http.server
        import threading

        pem = parties.partner.key_and_cert_pem  # type: ignore[attr-defined]
        org = as2.Organization(as2_name="ACME", sign_key=pem, decrypt_key=pem)
        us = parties.us.cert_pem  # type: ignore[attr-defined]
        edigate = as2.Partner(as2_name="EDIGATE", verify_cert=us, encrypt_cert=us)
        self.received: list[bytes] = []
        self.messages: list[object] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in self.headers.items())
                message = as2.Message()
                _, _, mdn = message.parse(raw + b"\r\n" + body,
                                          find_org_cb=lambda _: org,
                                          find_partner_cb=lambda _: edigate)
                outer.received.append(message.payload.get_payload(decode=True) or b"")
                outer.messages.append(message)
                if async_mdn:  # answer now, send the receipt later
                    self.send_response(202)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if wrong_mic:
                    message.mic = b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
                    mdn = as2.Mdn(mdn_mode="SYNC")
                    mdn.build(message=message, status="processed")
                self.send_response(200)
                for name, value in mdn.headers.items():
                    self.send_header(name, " ".join(str(value).split()))
                self.send_header("Content-Length", str(len(mdn.content)))
                self.end_headers()
                self.wfile.write(mdn.content)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/as2"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("wrong_mic", [False, True])
def test_acknowledgment_goes_back_over_as2_and_its_mdn_is_verified(
        tmp_path: Path, parties: object, wrong_mic: bool) -> None:
    """The 997 for an AS2-received 850 is sent to the partner's AS2 server (pyas2lib),
    signed and encrypted per profile; a receipt with the right MIC marks it delivered, a
    receipt with another MIC marks it failed; both are ledgered and on the message."""
    partner_server = _PartnerServer(parties, wrong_mic=wrong_mic)
    try:
        for env in _env(tmp_path, f"sqlite:///{tmp_path / 'o.db'}", parties,
                        url=partner_server.url):
            _, headers, body = env.build(env.interchange(), sign=True, digest_alg="sha256",
                                         mdn_mode="SYNC", mdn_digest_alg="sha256")
            assert _post(env, headers, body).status_code == 200  # type: ignore[attr-defined]
            assert sum(1 for _ in env.state.pipeline.drain("test")) == 1
            assert env.state.as2 is not None
            with AS2Deliverer(env.state.as2.outbox, worker="test") as deliverer:
                assert deliverer.run_once() == 1
            assert len(partner_server.received) == 1
            assert partner_server.received[0].startswith(b"ISA")
            assert b"ST*997*" in partner_server.received[0]
            with env.state.db.read() as s:
                out = s.scalars(select(AS2Message).where(AS2Message.direction == "out")).one()
            assert out.kind == "ack"
            if wrong_mic:
                assert out.status == "failed" and "MIC" in (out.last_error or "")
                assert env.events("AS2_SEND_FAILED")
            else:
                assert out.status == "delivered", out.last_error
                assert out.mdn_disposition and "processed" in out.mdn_disposition
                sent = env.events("AS2_SENT")[0]
                assert sent["status"] == "delivered"
            detail = env.client.get(f"/v1/messages/{out.message_id}", headers={
                "Authorization": f"Bearer {env.ops_key}"}).json()
            assert [t["direction"] for t in detail["as2"]] == ["in", "out"]
            assert detail["as2"][1]["status"] == out.status
    finally:
        partner_server.close()


def test_document_sent_over_as2_with_an_async_receipt(tmp_path: Path, parties: object) -> None:
    """An operator queues a document for the partner; edigate sends it asking for an
    asynchronous receipt at its public URL; the receipt pyas2lib builds later arrives at
    /as2, is verified (signature, Original-Message-ID, MIC) and marks the send delivered."""
    partner_server = _PartnerServer(parties, async_mdn=True)
    try:
        for env in _env(tmp_path, f"sqlite:///{tmp_path / 'a.db'}", parties,
                        url=partner_server.url, mdn_mode="async", signed=True,
                        encrypted=True, public_url="https://edigate.example"):
            auth = {"Authorization": f"Bearer {env.ops_key}"}
            document = env.interchange()
            queued = env.client.post("/v1/partners/acme-as2/as2", content=document,
                                     headers={**auth, "Content-Type": "application/edi-x12"})
            assert queued.status_code == 202, queued.text
            transfer = queued.json()["id"]
            assert env.state.as2 is not None
            with AS2Deliverer(env.state.as2.outbox, worker="test") as deliverer:
                assert deliverer.run_once() == 1
            status = env.client.get(f"/v1/as2/{transfer}", headers=auth).json()
            assert status["status"] == "awaiting-mdn", status
            assert partner_server.received == [document]
            message = partner_server.messages[0]
            assert message.headers.get("receipt-delivery-option") == \
                "https://edigate.example/as2"  # type: ignore[attr-defined]
            mdn = as2.Mdn(mdn_mode="ASYNC")
            mdn.build(message=message, status="processed")
            headers = {k: " ".join(str(v).split()) for k, v in mdn.headers.items()}
            answer = env.client.post("/as2", content=mdn.content, headers=headers)
            assert answer.status_code == 200, answer.text
            status = env.client.get(f"/v1/as2/{transfer}", headers=auth).json()
            assert status["status"] == "delivered", status
            received = env.events("AS2_MDN_RECEIVED")[0]
            assert received["ok"] is True and received["mic_matches"] is True
            # The same receipt again finds nothing awaiting it.
            again = env.client.post("/as2", content=mdn.content, headers=headers)
            assert again.status_code == 404
    finally:
        partner_server.close()


def test_sending_needs_an_operator_and_an_as2_partner(env: AS2Env) -> None:
    """Viewers may not send; a partner without AS2 is a 409 problem, an unknown one 404."""
    with env.state.db.transaction() as session:
        viewer = issue_key(session, "ops", role="viewer")[0]
    response = env.client.post("/v1/partners/acme-as2/as2", content=b"x",
                               headers={"Authorization": f"Bearer {viewer}"})
    assert response.status_code == 403
    operator = {"Authorization": f"Bearer {env.ops_key}"}
    assert env.client.post("/v1/partners/nobody/as2", content=b"x",
                           headers=operator).status_code == 404


def test_edifact_over_as2_gets_its_contrl_back_over_as2(tmp_path: Path, parties: object) -> None:
    """An ORDERS over AS2 becomes a purchase_order record like an X12 850, and the CONTRL
    the partner's profile asks for is sent back over AS2 and acknowledged by pyas2lib."""
    partner_server = _PartnerServer(parties)
    orders = (Path(__file__).resolve().parents[3] / "gateway" / "runtime" / "demo_data" /
              "initech-orders.edi").read_bytes().replace(b"5412345000013:14", b"4000000000001:14")
    try:
        for env in _env(tmp_path, f"sqlite:///{tmp_path / 'e.db'}", parties,
                        url=partner_server.url):
            _, headers, body = env.build(orders, sign=True, digest_alg="sha256",
                                         mdn_mode="SYNC", mdn_digest_alg="sha256")
            response = _post(env, headers, body)
            assert b"processed" in response.content and b"error" not in response.content  # type: ignore[attr-defined]
            assert sum(1 for _ in env.state.pipeline.drain("test")) == 1
            with env.state.db.read() as s:
                message = s.scalars(select(Message)).one()
                assert message.standard == "edifact" and message.status == "PROCESSED"
            assert env.state.as2 is not None
            with AS2Deliverer(env.state.as2.outbox, worker="test") as deliverer:
                assert deliverer.run_once() == 1
            sent = partner_server.received[0]
            assert b"UNH+1+CONTRL:D:3:UN'" in sent and b"UCM+1+ORDERS:D:96A:UN:EAN008+7'" in sent
            with env.state.db.read() as s:
                out = s.scalars(select(AS2Message).where(AS2Message.direction == "out")).one()
            assert out.status == "delivered" and out.content_type == "application/edifact"
    finally:
        partner_server.close()


def test_a_certificate_ending_within_30_days_is_flagged(
        tmp_path: Path, parties: object, caplog: pytest.LogCaptureFixture) -> None:
    """A partner certificate that expires in 10 days is logged as a warning when the
    gateway starts and shows in the expiry gauge with fewer than 30 days."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = parties.partner.key  # type: ignore[attr-defined]
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ACME")])
    soon = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=300))
            .not_valid_after(now + dt.timedelta(days=10)).sign(key, hashes.SHA256()))
    pem = soon.public_bytes(serialization.Encoding.PEM)
    with caplog.at_level("WARNING", logger="edigate.as2"):
        for env in _env(tmp_path, f"sqlite:///{tmp_path / 'c.db'}", parties,
                        certificates=[pem]):
            metrics = env.client.get("/metrics", headers={
                "Authorization": f"Bearer {env.ops_key}"}).text
    assert any("expires in" in r.getMessage() and "acme-as2" in r.getMessage()
               for r in caplog.records)
    line = next(x for x in metrics.splitlines()
                if x.startswith('edigate_certificate_expiry_days{owner="acme-as2"'))
    assert 9 < float(line.rsplit(" ", 1)[1]) < 11
