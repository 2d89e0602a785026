"""Interoperability with the openssl CLI (``openssl cms``) as an independent CMS peer.

openssl signs and encrypts, we unwrap; we sign and encrypt, openssl verifies and decrypts.
Debian's openssl has no zlib, so compression interop lives in the pyas2lib tests.
"""

from __future__ import annotations

import pytest

from gateway.as2 import KeyTransport, cms, unwrap
from gateway.as2.cms import ContentCipher, DigestAlgorithm, SignatureScheme
from gateway.as2.mime import parse_entity

ENTITY = (
    b"Content-Type: application/edi-x12\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b'Content-Disposition: attachment; filename="po.edi"\r\n'
    b"\r\n"
    b"ISA*00*          *00*          *ZZ*ACME~\r\nIEA*1*000000001~\r\n" + bytes(range(256))
)
MAX = 1024 * 1024


def _as2_headers(**extra: str) -> dict[str, str]:
    return {"Message-ID": "<openssl-1@acme>", "AS2-From": "ACME", "AS2-To": "EDIGATE", **extra}


@pytest.fixture
def entity_file(tmp_path):
    path = tmp_path / "entity.bin"
    path.write_bytes(ENTITY)
    return path


@pytest.mark.parametrize("md", ["sha1", "sha256", "sha384", "sha512"])
@pytest.mark.parametrize("pss", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_openssl_signed_smime_unwraps(parties, make_partner, openssl, entity_file, md, pss, crlf):
    """An S/MIME multipart/signed written by ``openssl cms -sign -binary`` verifies, with the
    micalg spelled openssl's way (sha-256), LF or CRLF line ends, PKCS #1 v1.5 or PSS."""
    args = ["cms", "-sign", "-binary", "-md", md, "-in", entity_file]
    args += ["-signer", parties.partner.cert_path, "-inkey", parties.partner.key_path]
    if pss:
        args += ["-keyopt", "rsa_padding_mode:pss"]
    if crlf:
        args += ["-crlfeol"]
    smime = openssl(*args)
    top = parse_entity(smime)
    assert "micalg" in top.headers["Content-Type"]
    headers = _as2_headers(**dict(top.headers.items_in_order()))
    got = unwrap(headers, top.body, ours=parties.us.identity, partner=make_partner(), max_size=MAX)
    assert got.payload == parse_entity(ENTITY).body
    assert got.signer is not None
    assert got.signer.digest_algorithm == md
    assert got.signer.signature_algorithm == ("rsassa-pss" if pss else "rsassa-pkcs1v15")


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("-des3", "3des"),
        ("-aes128", "aes128-cbc"),
        ("-aes192", "aes192-cbc"),
        ("-aes256", "aes256-cbc"),
        ("-aes-128-gcm", "aes128-gcm"),
        ("-aes-256-gcm", "aes256-gcm"),
    ],
)
@pytest.mark.parametrize("oaep", [False, True])
def test_openssl_encrypted_unwraps(
    parties, make_partner, openssl, entity_file, flag, expected, oaep
):
    """DER EnvelopedData/AuthEnvelopedData from ``openssl cms -encrypt -binary`` decrypts, with
    RSA PKCS #1 v1.5 or OAEP key transport."""
    args = ["cms", "-encrypt", "-binary", flag, "-in", entity_file, "-outform", "DER"]
    args += ["-recip", parties.us.cert_path]
    if oaep:
        args += ["-keyopt", "rsa_padding_mode:oaep"]
    der = openssl(*args)
    smime_type = "authEnveloped-data" if "gcm" in flag else "enveloped-data"
    headers = _as2_headers(
        **{
            "Content-Type": f"application/pkcs7-mime; smime-type={smime_type}; name=smime.p7m",
            "Content-Transfer-Encoding": "binary",
        }
    )
    got = unwrap(headers, der, ours=parties.us.identity, partner=make_partner(), max_size=MAX)
    assert got.payload == parse_entity(ENTITY).body
    assert got.encryption_algorithm == expected
    assert got.key_transport == ("rsaes-oaep" if oaep else "rsaes-pkcs1v15")


def test_openssl_signed_then_encrypted_unwraps(
    parties, make_partner, openssl, entity_file, tmp_path
):
    """openssl's sign-then-encrypt (S/MIME inside EnvelopedData, base64 on the wire) unwraps."""
    signed = openssl(
        "cms", "-sign", "-binary", "-md", "sha256", "-in", entity_file, "-crlfeol",
        "-signer", parties.partner.cert_path, "-inkey", parties.partner.key_path,
    )  # fmt: skip
    signed_path = tmp_path / "signed.eml"
    signed_path.write_bytes(signed)
    smime = openssl(
        "cms", "-encrypt", "-binary", "-aes256", "-in", signed_path, "-crlfeol",
        "-recip", parties.us.cert_path,
    )  # fmt: skip
    top = parse_entity(smime)
    headers = _as2_headers(**dict(top.headers.items_in_order()))
    partner = make_partner(require_signed=True, require_encrypted=True)
    got = unwrap(headers, top.body, ours=parties.us.identity, partner=partner, max_size=MAX)
    assert got.payload == parse_entity(ENTITY).body
    assert got.signed and got.encrypted


@pytest.mark.parametrize("digest", list(DigestAlgorithm))
@pytest.mark.parametrize("scheme", list(SignatureScheme))
def test_our_signature_verifies_in_openssl(parties, openssl, tmp_path, digest, scheme):
    """``openssl cms -verify -binary`` accepts our detached signature over the exact bytes."""
    signature = cms.sign_detached(
        ENTITY,
        key=parties.us.key,
        certificate=parties.us.certificate,
        digest=digest,
        scheme=scheme,
    )
    (tmp_path / "sig.der").write_bytes(signature)
    (tmp_path / "content.bin").write_bytes(ENTITY)
    out = openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.der",
        "-content", tmp_path / "content.bin", "-CAfile", parties.us.cert_path,
        "-purpose", "any",
    )  # fmt: skip
    assert out == ENTITY


def test_openssl_refuses_our_signature_over_changed_bytes(parties, openssl, tmp_path):
    """Control: openssl does reject our signature when one content byte differs."""
    signature = cms.sign_detached(
        ENTITY,
        key=parties.us.key,
        certificate=parties.us.certificate,
        digest=DigestAlgorithm.SHA256,
    )
    (tmp_path / "sig.der").write_bytes(signature)
    (tmp_path / "content.bin").write_bytes(ENTITY.replace(b"ACME", b"ACMF"))
    with pytest.raises(AssertionError, match="failed"):
        openssl(
            "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.der",
            "-content", tmp_path / "content.bin", "-CAfile", parties.us.cert_path,
            "-purpose", "any",
        )  # fmt: skip


@pytest.mark.parametrize("cipher", list(ContentCipher))
@pytest.mark.parametrize("transport", list(KeyTransport))
def test_our_encryption_decrypts_in_openssl(parties, openssl, tmp_path, cipher, transport):
    """``openssl cms -decrypt`` opens our EnvelopedData / AuthEnvelopedData for every cipher
    and key transport."""
    der = cms.encrypt(
        ENTITY, recipient=parties.partner.certificate, cipher=cipher, key_transport=transport
    )
    (tmp_path / "enc.der").write_bytes(der)
    out = openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "enc.der",
        "-recip", parties.partner.cert_path, "-inkey", parties.partner.key_path,
    )  # fmt: skip
    assert out == ENTITY
