"""Interoperability with pyas2lib 1.4.4, an AS2 implementation nobody here wrote.

pyas2lib builds messages we unwrap and parses the MDNs we build; we wrap messages it parses
and parse the MDNs it builds. pyas2lib is only driven through its public API.
"""

from __future__ import annotations

import itertools

import pytest

from gateway.as2 import MDNRequest, build_reply_mdn, parse_mdn, unwrap, wrap

as2 = pytest.importorskip("pyas2lib.as2")

# pyas2lib converts LF to CRLF in text payloads, so the payload already uses CRLF.
PAYLOAD = (
    b"UNA:+.? 'UNB+UNOC:3+ACME:14+EDIGATE:14+240101:1200+1'\r\n"
    b"UNH+1+ORDERS:D:96A:UN'\r\nBGM+220+PO1+9'\r\nUNT+3+1'\r\nUNZ+1+1'\r\n"
)
MAX = 10 * 1024 * 1024


def _raw(message) -> bytes:
    """How pyas2lib hands a message or MDN to a transport: header lines, CRLF, body."""
    return message.headers_str + b"\r\n" + message.content


@pytest.fixture
def acme(parties):
    """pyas2lib's own organization: the partner ACME, with its signing/decryption key."""
    pem = parties.partner.key_and_cert_pem
    return as2.Organization(as2_name="ACME", sign_key=pem, decrypt_key=pem)


def _edigate_as_partner(parties, **settings):
    """How pyas2lib sees us: the partner EDIGATE with our certificate."""
    pem = parties.us.cert_pem
    return as2.Partner(as2_name="EDIGATE", verify_cert=pem, encrypt_cert=pem, **settings)


@pytest.mark.parametrize(
    ("digest", "cipher", "compress"),
    list(
        itertools.product(
            [None, "sha1", "sha256", "sha512"],
            [None, "tripledes_192_cbc", "aes_128_cbc", "aes_256_cbc"],
            [False, True],
        )
    ),
)
def test_pyas2lib_message_unwraps_and_its_mdn_parser_accepts_ours(
    parties, make_partner, split_http, acme, digest, cipher, compress
):
    """A message pyas2lib builds unwraps to the same payload with the MIC pyas2lib expects,
    and pyas2lib's Mdn.parse accepts our MDN for it as processed with that MIC."""
    edigate = _edigate_as_partner(
        parties,
        sign=digest is not None,
        digest_alg=digest or "sha256",
        encrypt=cipher is not None,
        enc_alg=cipher or "aes_128_cbc",
        compress=compress,
        mdn_mode="SYNC",
        mdn_digest_alg=digest,
    )
    out = as2.Message(acme, edigate)
    out.build(PAYLOAD, content_type="application/edi-consent", filename="orders.edi")
    headers, body = split_http(_raw(out))

    got = unwrap(headers, body, ours=parties.us.identity, partner=make_partner(), max_size=MAX)

    assert got.payload == PAYLOAD
    assert got.message_id == out.message_id
    assert got.signed is (digest is not None)
    assert got.encrypted is (cipher is not None)
    assert got.compressed is compress
    assert got.filename == "orders.edi"
    if digest is not None:
        assert got.mic.value == out.mic.decode()
        assert got.mic.digest is not None and got.mic.digest.value == digest

    mdn = build_reply_mdn(headers, ours=parties.us.identity, outcome=got)
    assert mdn is not None
    assert mdn.headers["Content-Type"].startswith(
        "multipart/signed" if digest else "multipart/report"
    )
    status, detail = as2.Mdn().parse(
        _raw_mdn(mdn), find_message_cb=lambda message_id, recipient: out
    )
    assert (status, detail) == ("processed", None)


def _raw_mdn(mdn) -> bytes:
    head = b"".join(f"{k}: {v}\r\n".encode() for k, v in mdn.headers.items())
    return head + b"\r\n" + mdn.body


def test_pyas2lib_rejects_our_mdn_with_a_wrong_mic(parties, make_partner, split_http, acme):
    """Control for the test above: pyas2lib does notice when our MIC is wrong (as a warning)."""
    from gateway.as2 import MIC, build_mdn

    edigate = _edigate_as_partner(parties, sign=True, mdn_mode="SYNC", mdn_digest_alg="sha256")
    out = as2.Message(acme, edigate)
    out.build(PAYLOAD)
    mdn = build_mdn(
        original_message_id=out.message_id,
        as2_from="EDIGATE",
        as2_to="ACME",
        disposition="processed",
        description="ok",
        mic=MIC("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha256"),
        sign_with=parties.us.identity,
        micalg="sha256",
    )
    status, detail = as2.Mdn().parse(_raw_mdn(mdn), find_message_cb=lambda *_: out)
    assert status == "processed/warning"
    assert detail == "Message Integrity check failed."


def test_pyas2lib_reads_our_error_mdn(parties, make_partner, split_http, acme):
    """pyas2lib reads the modifier of an error MDN we send for a message we refused."""
    from gateway.as2 import AS2Failure

    edigate = _edigate_as_partner(parties, sign=True, mdn_mode="SYNC", mdn_digest_alg="sha256")
    out = as2.Message(acme, edigate)
    out.build(PAYLOAD)
    headers, body = split_http(_raw(out))
    with pytest.raises(AS2Failure) as failure:
        unwrap(
            headers,
            body.replace(b"BGM+220", b"BGM+221"),
            ours=parties.us.identity,
            partner=make_partner(),
            max_size=MAX,
        )
    mdn = build_reply_mdn(headers, ours=parties.us.identity, outcome=failure.value)
    assert mdn is not None
    status, detail = as2.Mdn().parse(_raw_mdn(mdn), find_message_cb=lambda *_: out)
    assert status == "processed/error"
    assert detail == "integrity-check-failed"


@pytest.mark.parametrize(
    ("digest", "cipher", "compress", "before", "te"),
    [
        (None, None, False, True, "binary"),
        ("sha256", None, False, True, "binary"),
        ("sha1", "3des", False, True, "base64"),
        ("sha256", "aes128-cbc", True, True, "binary"),
        ("sha512", "aes256-cbc", True, False, "binary"),
        ("sha384", "aes192-cbc", True, True, "base64"),
        ("sha256", "aes256-cbc", False, True, "base64"),
    ],
)
def test_our_message_parses_in_pyas2lib_and_its_mdn_parses_in_ours(
    parties, split_http, digest, cipher, compress, before, te
):
    """pyas2lib's Message.parse accepts what we wrap, and our parse_mdn accepts the MDN it
    returns: processed, signature valid, MIC equal to the one wrap expects."""
    pem = parties.partner.key_and_cert_pem
    acme_org = as2.Organization(as2_name="ACME", sign_key=pem, decrypt_key=pem)
    edigate = as2.Partner(
        as2_name="EDIGATE",
        verify_cert=parties.us.cert_pem,
        encrypt_cert=parties.us.cert_pem,
        sign=digest is not None,
        encrypt=cipher is not None,
    )
    mdn_request = MDNRequest(to="edi@edigate.example", signed=True, micalgs=(digest or "sha256",))
    sent = wrap(
        PAYLOAD,
        content_type="application/edifact",
        filename="orders.edi",
        ours=parties.us.identity,
        partner_as2_id="ACME",
        partner_certificate=parties.partner.certificate,
        sign=digest,
        encrypt=cipher,
        compress=compress,
        compress_before_signing=before,
        transfer_encoding=te,
        mdn=mdn_request,
    )
    raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in sent.headers.items()) + b"\r\n" + sent.body
    received = as2.Message()
    status, (_, trace), their_mdn = received.parse(
        raw, find_org_cb=lambda _: acme_org, find_partner_cb=lambda _: edigate
    )
    assert status == "processed", trace
    assert received.content == PAYLOAD
    assert received.signed is (digest is not None)
    assert received.compressed is compress

    mdn_headers, mdn_body = split_http(_raw(their_mdn))
    result = parse_mdn(
        mdn_headers,
        mdn_body,
        partner_certificates=(parties.partner.certificate,),
        expected_message_id=sent.message_id,
        expected_mic=sent.mic if digest else None,
        require_signed=True,
    )
    assert result.ok, result.problems
    assert result.signed and result.signature_valid
    assert result.disposition_type == "processed"
    if digest:
        assert result.mic_matches is True


def test_pyas2lib_mdn_with_wrong_mic_is_not_ok(parties, split_http, acme):
    """An MDN whose MIC differs from the one we expect is a failure in our parser (pyas2lib
    itself would only warn)."""
    from gateway.as2 import MIC

    pem = parties.partner.key_and_cert_pem
    acme_org = as2.Organization(as2_name="ACME", sign_key=pem, decrypt_key=pem)
    edigate = as2.Partner(
        as2_name="EDIGATE", verify_cert=parties.us.cert_pem, encrypt_cert=parties.us.cert_pem
    )
    sent = wrap(
        PAYLOAD,
        content_type="application/edifact",
        filename=None,
        ours=parties.us.identity,
        partner_as2_id="ACME",
        partner_certificate=None,
        sign="sha256",
        encrypt=None,
        compress=False,
        mdn=MDNRequest(to="x", signed=True, micalgs=("sha256",)),
    )
    raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in sent.headers.items()) + b"\r\n" + sent.body
    _, _, their_mdn = as2.Message().parse(
        raw, find_org_cb=lambda _: acme_org, find_partner_cb=lambda _: edigate
    )
    mdn_headers, mdn_body = split_http(_raw(their_mdn))
    wrong = MIC("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "sha256")
    result = parse_mdn(
        mdn_headers,
        mdn_body,
        partner_certificates=(parties.partner.certificate,),
        expected_message_id=sent.message_id,
        expected_mic=wrong,
    )
    assert not result.ok
    assert result.mic_matches is False
    assert any("does not match" in problem for problem in result.problems)
