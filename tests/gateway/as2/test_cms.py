"""gateway.as2.cms: CMS round trips, allow-lists and every refusal type."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.as2 import cms
from gateway.as2.cms import ContentCipher, DigestAlgorithm, KeyTransport, SignatureScheme

CONTENT = b"Content-Type: text/plain\r\n\r\nhello AS2\r\n"


@pytest.mark.parametrize("digest", list(DigestAlgorithm))
@pytest.mark.parametrize("scheme", list(SignatureScheme))
def test_sign_verify_round_trip(parties, digest, scheme):
    """Each digest with each RSA scheme verifies and reports what was used."""
    signature = cms.sign_detached(
        CONTENT,
        key=parties.us.key,
        certificate=parties.us.certificate,
        digest=digest,
        scheme=scheme,
    )
    summary = cms.verify_detached(
        signature, CONTENT, certificates=[parties.us.certificate], allowed_digests=cms.ALL_DIGESTS
    )
    assert (summary.digest, summary.scheme) == (digest, scheme)
    assert summary.signing_time is not None


def test_verify_refuses_digest_outside_allow_list(parties):
    """A valid SHA-1 signature is refused when only SHA-256 is allowed."""
    signature = cms.sign_detached(
        CONTENT, key=parties.us.key, certificate=parties.us.certificate, digest=DigestAlgorithm.SHA1
    )
    with pytest.raises(cms.AlgorithmNotAllowedError, match="sha1"):
        cms.verify_detached(
            signature,
            CONTENT,
            certificates=[parties.us.certificate],
            allowed_digests=frozenset({DigestAlgorithm.SHA256}),
        )


def test_verify_distinguishes_changed_content_from_unknown_signer(parties):
    """Changed content is ContentDigestMismatchError; another signer is UnknownSignerError."""
    signature = cms.sign_detached(
        CONTENT,
        key=parties.us.key,
        certificate=parties.us.certificate,
        digest=DigestAlgorithm.SHA256,
    )
    with pytest.raises(cms.ContentDigestMismatchError):
        cms.verify_detached(
            signature,
            CONTENT + b"x",
            certificates=[parties.us.certificate],
            allowed_digests=cms.ALL_DIGESTS,
        )
    with pytest.raises(cms.UnknownSignerError):
        cms.verify_detached(
            signature,
            CONTENT,
            certificates=[parties.partner.certificate],
            allowed_digests=cms.ALL_DIGESTS,
        )


def test_verify_checks_validity_period_at_the_given_moment(parties):
    """A certificate is refused before its notBefore and after its notAfter."""
    signature = cms.sign_detached(
        CONTENT,
        key=parties.us.key,
        certificate=parties.us.certificate,
        digest=DigestAlgorithm.SHA256,
    )
    for moment in (
        parties.us.certificate.not_valid_before_utc - dt.timedelta(seconds=1),
        parties.us.certificate.not_valid_after_utc + dt.timedelta(seconds=1),
    ):
        with pytest.raises(cms.SignerCertificateNotValidError):
            cms.verify_detached(
                signature,
                CONTENT,
                certificates=[parties.us.certificate],
                allowed_digests=cms.ALL_DIGESTS,
                at=moment,
            )


def test_forged_signature_value_is_signature_invalid(parties):
    """A signature by another key claiming our issuer/serial is SignatureInvalidError."""
    good = cms.sign_detached(
        CONTENT,
        key=parties.us.key,
        certificate=parties.us.certificate,
        digest=DigestAlgorithm.SHA256,
    )
    forged = cms.sign_detached(
        CONTENT,
        key=parties.stranger.key,
        certificate=parties.us.certificate,  # claims to be us
        digest=DigestAlgorithm.SHA256,
    )
    assert good != forged
    with pytest.raises(cms.SignatureInvalidError):
        cms.verify_detached(
            forged, CONTENT, certificates=[parties.us.certificate], allowed_digests=cms.ALL_DIGESTS
        )


@pytest.mark.parametrize("cipher", list(ContentCipher))
@pytest.mark.parametrize("transport", list(KeyTransport))
def test_encrypt_decrypt_round_trip(parties, cipher, transport):
    """Every cipher with every key transport decrypts to the same bytes."""
    der = cms.encrypt(
        CONTENT, recipient=parties.us.certificate, cipher=cipher, key_transport=transport
    )
    result = cms.decrypt(
        der,
        key=parties.us.key,
        certificate=parties.us.certificate,
        allowed=frozenset(ContentCipher),
    )
    assert (result.content, result.cipher, result.key_transport) == (CONTENT, cipher, transport)


def test_decrypt_checks_allow_list_before_the_private_key(parties):
    """3DES is refused when not allowed, whatever the key (the check comes first)."""
    der = cms.encrypt(CONTENT, recipient=parties.us.certificate, cipher=ContentCipher.TDES_CBC)
    with pytest.raises(cms.AlgorithmNotAllowedError, match="3des"):
        cms.decrypt(
            der,
            key=parties.stranger.key,
            certificate=parties.us.certificate,
            allowed=frozenset({ContentCipher.AES128_CBC}),
        )


def test_decrypt_not_a_recipient(parties):
    """Enveloped for someone else is NotARecipientError naming that recipient."""
    der = cms.encrypt(
        CONTENT, recipient=parties.partner.certificate, cipher=ContentCipher.AES128_CBC
    )
    with pytest.raises(cms.NotARecipientError, match="serial"):
        cms.decrypt(
            der,
            key=parties.us.key,
            certificate=parties.us.certificate,
            allowed=frozenset(ContentCipher),
        )


def test_decrypt_with_wrong_key_is_decryption_error(parties):
    """Our certificate but the wrong private key fails as DecryptionError, not a crash."""
    der = cms.encrypt(CONTENT, recipient=parties.us.certificate, cipher=ContentCipher.AES256_CBC)
    with pytest.raises(cms.DecryptionError):
        cms.decrypt(
            der,
            key=parties.stranger.key,
            certificate=parties.us.certificate,
            allowed=frozenset(ContentCipher),
        )


def test_compress_round_trip_and_limit():
    """CompressedData round-trips and refuses output one byte over the limit."""
    data = bytes(range(256)) * 40
    der = cms.compress(data)
    assert cms.decompress(der, max_size=len(data)) == data
    with pytest.raises(cms.DecompressionLimitError):
        cms.decompress(der, max_size=len(data) - 1)


def test_mic_is_base64_of_the_digest():
    """compute_mic is the base64 digest (a known SHA-256 vector)."""
    assert cms.compute_mic(b"abc", DigestAlgorithm.SHA256) == (
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    )


@pytest.mark.parametrize(
    ("name", "member"),
    [("sha-256", DigestAlgorithm.SHA256), ("SHA1", DigestAlgorithm.SHA1), ("md5", None)],
)
def test_digest_spellings(name, member):
    """Both micalg spellings map to the same digest; unknown names map to None."""
    assert DigestAlgorithm.from_name(name) is member


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("aes_128_cbc", ContentCipher.AES128_CBC),
        ("tripledes_192_cbc", ContentCipher.TDES_CBC),
        ("3des", ContentCipher.TDES_CBC),
        ("rc2_128_cbc", None),
    ],
)
def test_cipher_spellings(name, member):
    """pyas2lib's and our cipher names map alike; RC2 is not a member at all."""
    assert ContentCipher.from_name(name) is member


@pytest.mark.parametrize("garbage", [b"", b"\x30", b"\x30\x03\x06\x01\x00", b"not der at all"])
def test_garbage_is_format_error(parties, garbage):
    """Garbage in any entry point is a CMSError subclass, never another exception."""
    for call in (
        lambda: cms.verify_detached(
            garbage, b"", certificates=[parties.us.certificate], allowed_digests=cms.ALL_DIGESTS
        ),
        lambda: cms.decrypt(
            garbage, key=parties.us.key, certificate=parties.us.certificate, allowed=frozenset()
        ),
        lambda: cms.decompress(garbage, max_size=10),
    ):
        with pytest.raises(cms.CMSFormatError):
            call()
