"""unwrap/wrap: round trips over every layer combination, and every refusal with its modifier."""

from __future__ import annotations

import itertools

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from gateway.as2 import (
    MIC,
    AS2Failure,
    MDNRequest,
    OutboundAS2,
    SignatureScheme,
    parse_mdn_request,
    unwrap,
    wrap,
)
from gateway.as2.cms import DigestAlgorithm, compute_mic

PAYLOAD = (
    b"ISA*00*          *00*          *ZZ*ACME           *ZZ*EDIGATE        *240101*1200*U*00401"
    b"*000000001*0*P*>~\r\nGS*PO*ACME*EDIGATE*20240101*1200*1*X*004010~\r\n"
    b"ST*850*0001~\r\nBEG*00*SA*PO1**20240101~\r\nSE*3*0001~\r\nGE*1*1~\r\nIEA*1*000000001~\r\n"
    + bytes(range(256))  # binary bytes must survive every layer
)
MAX = 10 * 1024 * 1024

SIGNS = [None, "sha1", "sha256", "sha384", "sha512"]
ENCRYPTS = [None, "3des", "aes128-cbc", "aes256-cbc", "aes128-gcm"]
COMPRESSIONS = ["off", "before-sign", "after-sign"]
ENCODINGS = ["binary", "base64"]


def _send(parties, *, sign=None, encrypt=None, compression="off", te="binary", mdn=None, **kw):
    """The partner wraps PAYLOAD for us."""
    return wrap(
        PAYLOAD,
        content_type="application/edi-x12",
        filename="po 1.edi",
        ours=parties.partner.identity,
        partner_as2_id=parties.us.as2_id,
        partner_certificate=parties.us.certificate,
        sign=sign,
        encrypt=encrypt,
        compress=compression != "off",
        compress_before_signing=compression == "before-sign",
        transfer_encoding=te,
        mdn=mdn,
        **kw,
    )


def _receive(parties, message: OutboundAS2, partner, **kw):
    return unwrap(
        message.headers, message.body, ours=parties.us.identity, partner=partner, max_size=MAX, **kw
    )


@pytest.mark.parametrize(
    ("sign", "encrypt", "compression", "te"),
    list(itertools.product(SIGNS, ENCRYPTS, COMPRESSIONS, ENCODINGS)),
)
def test_round_trip_matrix(parties, make_partner, sign, encrypt, compression, te):
    """Every sign x encrypt x compress x transfer-encoding combination we wrap unwraps to the
    same payload, reports its layers, and yields exactly the MIC wrap expects back."""
    mdn = MDNRequest(to="edi@acme.example", signed=True, micalgs=("sha-256", "sha1"))
    sent = _send(parties, sign=sign, encrypt=encrypt, compression=compression, te=te, mdn=mdn)
    got = _receive(parties, sent, make_partner())
    assert got.payload == PAYLOAD
    assert got.filename == "po 1.edi"
    assert got.payload_content_type == "application/edi-x12"
    assert got.signed is (sign is not None)
    assert got.encrypted is (encrypt is not None)
    assert got.encryption_algorithm == encrypt
    assert got.compressed is (compression != "off")
    if compression != "off" and sign is not None:
        assert got.compressed_before_signing is (compression == "before-sign")
    assert got.mic == sent.mic
    assert got.mic.algorithm == "sha-256"
    assert got.message_id == sent.message_id
    assert got.as2_from == "ACME" and got.as2_to == "EDIGATE"
    if sign is not None:
        assert got.signer is not None
        assert got.signer.digest_algorithm == sign
        assert (
            got.signer.certificate_sha256
            == parties.partner.certificate.fingerprint(hashes.SHA256()).hex()
        )


@pytest.mark.parametrize("digest", ["sha256", "sha512"])
def test_round_trip_rsa_pss(parties, make_partner, digest):
    """An RSASSA-PSS signature verifies and is reported as PSS in the signer evidence."""
    sent = _send(parties, sign=digest, encrypt="aes256-gcm", signature_scheme=SignatureScheme.PSS)
    got = _receive(parties, sent, make_partner(require_signed=True, require_encrypted=True))
    assert got.payload == PAYLOAD
    assert got.signer is not None and got.signer.signature_algorithm == "rsassa-pss"


def test_oaep_key_transport_round_trip(parties, make_partner):
    """RSAES-OAEP key transport decrypts and is reported."""
    from gateway.as2 import KeyTransport

    sent = _send(parties, sign="sha256", encrypt="aes128-cbc", key_transport=KeyTransport.OAEP)
    got = _receive(parties, sent, make_partner())
    assert got.payload == PAYLOAD and got.key_transport == "rsaes-oaep"


def test_signed_mic_covers_the_signed_entity_exactly(parties, make_partner):
    """For a signed message the MIC is the digest of part 1 of multipart/signed, headers
    included, byte for byte as sent (RFC 4130 §7.3.1)."""
    mdn = MDNRequest(to="x", signed=True, micalgs=("sha256",))
    sent = _send(parties, sign="sha256", mdn=mdn)
    boundary = sent.headers["Content-Type"].split('boundary="')[1].rstrip('"')
    first = sent.body.split(b"--" + boundary.encode())[1][2:-2]
    expected = compute_mic(first, DigestAlgorithm.SHA256)
    assert _receive(parties, sent, make_partner()).mic == MIC(expected, "sha256")


def test_unsigned_unencrypted_mic_covers_content_only(parties, make_partner):
    """Without signature or encryption the MIC is over the content without MIME headers."""
    sent = _send(parties, mdn=MDNRequest(to="x", signed=True, micalgs=("sha1",)))
    got = _receive(parties, sent, make_partner())
    assert got.mic == MIC(compute_mic(PAYLOAD, DigestAlgorithm.SHA1), "sha1")


def test_header_names_in_any_case(parties, make_partner):
    """Lower-case and upper-case header names are read alike."""
    sent = _send(parties, sign="sha256", encrypt="aes128-cbc")
    lowered = {k.lower(): v for k, v in sent.headers.items()}
    upper = {k.upper(): v for k, v in sent.headers.items()}
    for headers in (lowered, upper):
        got = unwrap(
            headers, sent.body, ours=parties.us.identity, partner=make_partner(), max_size=MAX
        )
        assert got.payload == PAYLOAD


def test_quoted_as2_names(parties, make_partner):
    """Quoted AS2-From/AS2-To values (RFC 4130 §6.2) are unquoted before comparison."""
    sent = _send(parties, sign="sha256")
    headers = dict(sent.headers, **{"AS2-From": '"ACME"', "AS2-To": '"EDIGATE"'})
    got = unwrap(headers, sent.body, ours=parties.us.identity, partner=make_partner(), max_size=MAX)
    assert got.as2_from == "ACME"


def test_mdn_request_parsing_both_spellings():
    """Disposition-Notification-Options are read in any case with both micalg spellings."""
    request = parse_mdn_request(
        {
            "disposition-notification-to": "mailto:edi@acme.example",
            "DISPOSITION-NOTIFICATION-OPTIONS": "signed-receipt-protocol=required, pkcs7-signature;"
            " signed-receipt-micalg=required, md5, sha-256, sha1",
            "Receipt-Delivery-Option": "https://acme.example/mdn",
        }
    )
    assert request is not None
    assert request.signed and request.signed_required and request.micalg_required
    assert request.micalgs == ("md5", "sha-256", "sha1")
    assert request.mic_algorithm() == (DigestAlgorithm.SHA256, "sha-256")
    assert request.async_url == "https://acme.example/mdn"
    assert parse_mdn_request({"Message-ID": "<x>"}) is None


def test_unsupported_required_micalg_is_a_failure(parties, make_partner):
    """A required signed-receipt-micalg we do not support is 'failed/failure: unsupported
    MIC-algorithms' (RFC 4130 §7.5.3)."""
    sent = _send(parties, sign="sha256")
    headers = dict(
        sent.headers,
        **{
            "Disposition-Notification-To": "x",
            "Disposition-Notification-Options": "signed-receipt-protocol=required, pkcs7-signature;"
            " signed-receipt-micalg=required, md5",
        },
    )
    with pytest.raises(AS2Failure) as failure:
        unwrap(headers, sent.body, ours=parties.us.identity, partner=make_partner(), max_size=MAX)
    assert failure.value.disposition == "failed/failure: unsupported MIC-algorithms"


# ---------------------------------------------------------------------------------------------
# Refusals


def _refused(parties, headers, body, partner, **kw) -> AS2Failure:
    with pytest.raises(AS2Failure) as failure:
        unwrap(headers, body, ours=parties.us.identity, partner=partner, max_size=MAX, **kw)
    return failure.value


def test_tampered_signed_content_is_integrity_check_failed(parties, make_partner):
    """One changed byte in the signed content is 'integrity-check-failed', located at the
    multipart/signed layer."""
    sent = _send(parties, sign="sha256")
    body = sent.body.replace(b"BEG*00*SA", b"BEG*00*SB", 1)
    assert body != sent.body
    failure = _refused(parties, sent.headers, body, make_partner())
    assert failure.modifier == "integrity-check-failed"
    assert "multipart/signed" in failure.description
    assert "changed" in failure.description
    assert failure.message_id == sent.message_id


def test_tampered_encrypted_signed_content(parties, make_partner):
    """A flipped ciphertext byte in an encrypted message fails decryption or integrity, never
    passes."""
    sent = _send(parties, sign="sha256", encrypt="aes128-gcm")
    body = bytearray(sent.body)
    body[-40] ^= 0x01
    failure = _refused(parties, sent.headers, bytes(body), make_partner())
    assert failure.modifier == "decryption-failed"
    assert "tag" in failure.description


def test_unknown_signer_is_authentication_failed(parties, make_partner):
    """A signature by a certificate not in the partner's list is 'authentication-failed'."""
    sent = wrap(
        PAYLOAD,
        content_type="application/edi-x12",
        filename=None,
        ours=parties.stranger.identity,
        partner_as2_id="EDIGATE",
        partner_certificate=None,
        sign="sha256",
        encrypt=None,
        compress=False,
    )
    failure = _refused(parties, sent.headers, sent.body, make_partner())
    assert failure.modifier == "authentication-failed"
    assert "not one of the 1 certificate(s)" in failure.description


def test_rollover_any_listed_certificate_verifies(parties, make_partner):
    """During a rollover any of the partner's certificates may verify."""
    sent = wrap(
        PAYLOAD,
        content_type="application/edi-x12",
        filename=None,
        ours=parties.stranger.identity,
        partner_as2_id="EDIGATE",
        partner_certificate=None,
        sign="sha256",
        encrypt=None,
        compress=False,
    )
    partner = make_partner(certificates=(parties.partner.certificate, parties.stranger.certificate))
    assert _receive(parties, sent, partner).payload == PAYLOAD


def test_expired_signer_certificate_is_authentication_failed(parties, make_partner):
    """A signature by a certificate past its notAfter is 'authentication-failed' naming the date."""
    expired = parties.expired_partner
    sent = wrap(
        PAYLOAD,
        content_type="application/edi-x12",
        filename=None,
        ours=expired.identity,
        partner_as2_id="EDIGATE",
        partner_certificate=None,
        sign="sha256",
        encrypt=None,
        compress=False,
    )
    failure = _refused(
        parties, sent.headers, sent.body, make_partner(certificates=(expired.certificate,))
    )
    assert failure.modifier == "authentication-failed"
    assert "expired on" in failure.description


def test_encrypted_to_another_certificate_is_decryption_failed(parties, make_partner):
    """A message encrypted for another certificate is 'decryption-failed' naming the recipient."""
    sent = wrap(
        PAYLOAD,
        content_type="application/edi-x12",
        filename=None,
        ours=parties.partner.identity,
        partner_as2_id="EDIGATE",
        partner_certificate=parties.stranger.certificate,
        sign="sha256",
        encrypt="aes256-cbc",
        compress=False,
    )
    failure = _refused(parties, sent.headers, sent.body, make_partner())
    assert failure.modifier == "decryption-failed"
    assert "not for our certificate" in failure.description


@pytest.mark.parametrize(
    "layers", [{"sign": "sha256"}, {"sign": "sha256", "encrypt": "aes128-cbc"}]
)
def test_truncated_body(parties, make_partner, layers):
    """A body cut short fails with the modifier of the layer that notices, never an exception."""
    sent = _send(parties, **layers)
    failure = _refused(parties, sent.headers, sent.body[: len(sent.body) // 2], make_partner())
    expected = "decryption-failed" if "encrypt" in layers else "integrity-check-failed"
    assert failure.modifier == expected
    assert failure.description


def test_garbage_mime_is_refused_with_location(parties, make_partner):
    """A multipart/signed whose first part has no header block is refused, located."""
    headers = {
        "Message-ID": "<g@acme>",
        "AS2-From": "ACME",
        "AS2-To": "EDIGATE",
        "Content-Type": 'multipart/signed; boundary="b"; protocol="application/pkcs7-signature"',
    }
    body = b"--b\r\nno header block here\r\n--b\r\nneither\r\n--b--\r\n"
    failure = _refused(parties, headers, body, make_partner())
    assert failure.modifier == "integrity-check-failed"
    assert "part 1" in failure.description


def test_garbage_pkcs7_mime_is_refused(parties, make_partner):
    """An application/pkcs7-mime body that is not CMS is 'decryption-failed'."""
    headers = {
        "Message-ID": "<g@acme>",
        "AS2-From": "ACME",
        "AS2-To": "EDIGATE",
        "Content-Type": "application/pkcs7-mime; smime-type=enveloped-data",
    }
    failure = _refused(parties, headers, b"\x30\x03garbage", make_partner())
    assert failure.modifier == "decryption-failed"
    assert "ContentInfo" in failure.description


def test_unsigned_when_signing_required(parties, make_partner):
    """An unsigned message from a partner who must sign is 'insufficient-message-security'."""
    sent = _send(parties, encrypt="aes128-cbc")
    failure = _refused(parties, sent.headers, sent.body, make_partner(require_signed=True))
    assert failure.modifier == "insufficient-message-security"
    assert "must sign" in failure.description


def test_unencrypted_when_encryption_required(parties, make_partner):
    """A plain message from a partner who must encrypt is 'insufficient-message-security'."""
    sent = _send(parties, sign="sha256")
    failure = _refused(parties, sent.headers, sent.body, make_partner(require_encrypted=True))
    assert failure.modifier == "insufficient-message-security"
    assert "must encrypt" in failure.description


@pytest.mark.parametrize(
    "overrides",
    [{"allow_3des": False}, {"encrypt": ("aes128-cbc",), "allow_3des": True}],
)
def test_3des_when_not_allowed(parties, make_partner, overrides):
    """3DES is refused as 'insufficient-message-security' unless both listed and allowed."""
    sent = _send(parties, sign="sha256", encrypt="3des")
    failure = _refused(parties, sent.headers, sent.body, make_partner(**overrides))
    assert failure.modifier == "insufficient-message-security"
    assert "3des" in failure.description


def test_digest_not_accepted(parties, make_partner):
    """A SHA-1 signature from a partner agreed on SHA-256 only is insufficient-message-security."""
    sent = _send(parties, sign="sha1")
    failure = _refused(parties, sent.headers, sent.body, make_partner(sign=("sha256",)))
    assert failure.modifier == "insufficient-message-security"
    assert "sha1" in failure.description


def test_decompression_bomb(parties, make_partner):
    """A compressed layer inflating past max_size is 'decompression-failed' and stops early."""
    from gateway.as2 import cms

    bomb_entity = b"Content-Type: application/edi-x12\r\n\r\n" + b"\0" * (50 * 1024 * 1024)
    der = cms.compress(bomb_entity)
    assert len(der) < 100_000
    headers = {
        "Message-ID": "<bomb@acme>",
        "AS2-From": "ACME",
        "AS2-To": "EDIGATE",
        "Content-Type": "application/pkcs7-mime; smime-type=compressed-data",
        "Content-Transfer-Encoding": "binary",
    }
    with pytest.raises(AS2Failure) as failure:
        unwrap(headers, der, ours=parties.us.identity, partner=make_partner(), max_size=1_000_000)
    assert failure.value.modifier == "decompression-failed"
    assert "exceeds the limit of 1000000" in failure.value.description


def test_damaged_zlib_stream(parties, make_partner):
    """A CompressedData whose zlib stream is cut is 'decompression-failed'."""
    from gateway.as2 import cms

    good = cms.compress(b"Content-Type: text/plain\r\n\r\n" + bytes(range(256)) * 100)
    damaged = good[:-20] + bytes(20)  # the end of the zlib stream and its Adler-32
    headers = {
        "Message-ID": "<z@acme>",
        "AS2-From": "ACME",
        "AS2-To": "EDIGATE",
        "Content-Type": "application/pkcs7-mime; smime-type=compressed-data",
    }
    failure = _refused(parties, headers, damaged, make_partner())
    assert failure.modifier == "decompression-failed"


def test_body_over_limit(parties, make_partner):
    """A body larger than max_size is refused before any work."""
    sent = _send(parties)
    with pytest.raises(AS2Failure) as failure:
        unwrap(
            sent.headers, sent.body, ours=parties.us.identity, partner=make_partner(), max_size=100
        )
    assert "exceeds the limit" in failure.value.description


@pytest.mark.parametrize(
    ("change", "modifier"),
    [
        ({"Message-ID": ""}, "unexpected-processing-error"),
        ({"AS2-To": "SOMEONE"}, "unexpected-processing-error"),
        ({"AS2-From": "OTHER"}, "authentication-failed"),
        ({"AS2-From": "EDIGATE"}, "sender-equals-receiver"),
    ],
)
def test_as2_header_checks(parties, make_partner, change, modifier):
    """Missing Message-ID, wrong AS2-To, wrong AS2-From and From == To are refused."""
    sent = _send(parties, sign="sha256")
    failure = _refused(parties, dict(sent.headers, **change), sent.body, make_partner())
    assert failure.modifier == modifier


def test_private_keys_are_not_written_into_messages(parties):
    """Sanity: nothing of our private key appears in a wrapped message."""
    sent = _send(parties, sign="sha256", encrypt="aes128-cbc")
    der = parties.partner.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert der[-64:] not in sent.body
