"""Property tests: arbitrary input never makes unwrap or parse_mdn raise an undocumented error."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.as2 import AS2Failure, MDNParseError, parse_mdn, parse_mdn_request, unwrap, wrap

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTENT_TYPES = st.sampled_from(
    [
        "application/pkcs7-mime; smime-type=enveloped-data",
        "application/pkcs7-mime; smime-type=compressed-data",
        "application/pkcs7-mime; smime-type=authEnveloped-data",
        "application/pkcs7-mime",
        'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b"',
        "multipart/signed; boundary=b",
        "multipart/report; report-type=disposition-notification; boundary=b",
        "application/edi-x12",
        "garbage",
        "",
    ]
)
HEADER_TEXT = st.text(alphabet=st.characters(codec="latin-1"), max_size=60)


@st.composite
def headers(draw: st.DrawFn) -> dict[str, str]:
    result = {
        "Message-ID": draw(st.sampled_from(["<m@acme>", "", "<>"]) | HEADER_TEXT),
        "AS2-From": draw(st.sampled_from(["ACME", '"ACME"']) | HEADER_TEXT),
        "AS2-To": draw(st.sampled_from(["EDIGATE"]) | HEADER_TEXT),
        "Content-Type": draw(CONTENT_TYPES | HEADER_TEXT),
    }
    if draw(st.booleans()):
        result["Content-Transfer-Encoding"] = draw(
            st.sampled_from(["base64", "binary", "quoted-printable", "x"]) | HEADER_TEXT
        )
    if draw(st.booleans()):
        result["Disposition-Notification-To"] = draw(HEADER_TEXT)
        result["Disposition-Notification-Options"] = draw(HEADER_TEXT)
    return result


MIME_ISH = st.lists(
    st.sampled_from(
        [
            b"--b\r\n",
            b"--b--\r\n",
            b"\r\n",
            b"Content-Type: application/pkcs7-signature\r\n",
            b"Content-Type: message/disposition-notification\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Disposition: a; processed\r\n",
            b"MIIB",
            b"\x30\x82\x01\x00",
            b"\x00\xff",
        ]
    )
    | st.binary(max_size=40),
    max_size=12,
).map(b"".join)


@FUZZ
@given(fields=headers(), body=st.binary(max_size=2048) | MIME_ISH)
def test_unwrap_raises_only_as2failure(parties, make_partner, fields, body):
    """Whatever the headers and body, unwrap returns or raises AS2Failure, nothing else."""
    partner = make_partner()
    try:
        unwrap(fields, body, ours=parties.us.identity, partner=partner, max_size=1 << 20)
    except AS2Failure as failure:
        assert failure.description


@pytest.fixture(scope="module")
def genuine(parties):
    """A real signed, compressed, encrypted message to mutate."""
    return wrap(
        b"ISA*00~IEA*1*1~",
        content_type="application/edi-x12",
        filename=None,
        ours=parties.partner.identity,
        partner_as2_id="EDIGATE",
        partner_certificate=parties.us.certificate,
        sign="sha256",
        encrypt="aes128-cbc",
        compress=True,
    )


@FUZZ
@given(data=st.data())
def test_mutated_genuine_messages_raise_only_as2failure(parties, make_partner, genuine, data):
    """Flipping, cutting or inserting bytes in a real message from a partner who must sign and
    encrypt yields AS2Failure or the genuine payload, never a changed one.

    (With signing not required, CBC malleability lets a flipped IV bit rename the inner
    Content-Type and deliver the inner bytes as an unsigned payload: found by this test, and
    the reason production profiles require signatures.)"""
    body = bytearray(genuine.body)
    position = data.draw(st.integers(0, len(body) - 1))
    action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    if action == "flip":
        body[position] ^= data.draw(st.integers(1, 255))
    elif action == "cut":
        del body[position:]
    else:
        body[position:position] = data.draw(st.binary(min_size=1, max_size=8))
    try:
        got = unwrap(
            genuine.headers,
            bytes(body),
            ours=parties.us.identity,
            partner=make_partner(require_signed=True, require_encrypted=True),
            max_size=1 << 20,
        )
    except AS2Failure:
        return
    assert got.payload == b"ISA*00~IEA*1*1~"


@FUZZ
@given(fields=headers(), body=st.binary(max_size=2048) | MIME_ISH)
def test_parse_mdn_raises_only_mdn_parse_error(parties, fields, body):
    """Whatever the input, parse_mdn returns a result or raises MDNParseError, nothing else."""
    with contextlib.suppress(MDNParseError):
        parse_mdn(
            fields,
            body,
            partner_certificates=(parties.partner.certificate,),
            expected_message_id="m@acme",
            expected_mic=None,
        )


@FUZZ
@given(fields=headers())
def test_parse_mdn_request_never_raises(fields):
    """parse_mdn_request reads any header values without raising."""
    parse_mdn_request(fields)


@pytest.fixture(scope="module")
def structures(parties):
    """One DER structure of each kind this gateway parses."""
    from gateway.as2 import cms
    from gateway.as2.cms import ContentCipher, DigestAlgorithm, KeyTransport, SignatureScheme

    entity = b"Content-Type: text/plain\r\n\r\nhello"
    return {
        "signed": cms.sign_detached(
            entity,
            key=parties.us.key,
            certificate=parties.us.certificate,
            digest=DigestAlgorithm.SHA256,
            scheme=SignatureScheme.PSS,
        ),
        "enveloped": cms.encrypt(
            entity,
            recipient=parties.us.certificate,
            cipher=ContentCipher.AES128_CBC,
            key_transport=KeyTransport.OAEP,
        ),
        "gcm": cms.encrypt(
            entity, recipient=parties.us.certificate, cipher=ContentCipher.AES256_GCM
        ),
        "compressed": cms.compress(entity),
    }


@FUZZ
@given(data=st.data())
def test_mutated_cms_raises_only_cms_errors(parties, structures, data):
    """Any byte change in a DER structure gives a result or a CMSError, never another exception."""
    from gateway.as2 import cms

    kind = data.draw(st.sampled_from(sorted(structures)))
    der = bytearray(structures[kind])
    for _ in range(data.draw(st.integers(1, 3))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(cms.CMSError):
        if kind == "signed":
            cms.verify_detached(
                bytes(der),
                b"Content-Type: text/plain\r\n\r\nhello",
                certificates=[parties.us.certificate],
                allowed_digests=cms.ALL_DIGESTS,
            )
        elif kind == "compressed":
            cms.decompress(bytes(der), max_size=1000)
        else:
            cms.decrypt(
                bytes(der),
                key=parties.us.key,
                certificate=parties.us.certificate,
                allowed=frozenset(cms.ContentCipher),
            )
