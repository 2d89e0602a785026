"""CMS (RFC 5652) for AS2: detached signatures, enveloping, compression and the MIC.

This is the one module of edigate's AS2 code that touches ``cryptography.hazmat`` and
``asn1crypto``. It turns bytes into bytes (DER CMS structures in and out) and raises a
:class:`CMSError` subclass for every refusal, so callers can map a refusal onto an RFC 4130
disposition modifier without knowing any ASN.1.

Every algorithm is named by an explicit allow-list enum (:class:`DigestAlgorithm`,
:class:`SignatureScheme`, :class:`ContentCipher`, :class:`KeyTransport`); there are no weak
defaults. Triple-DES exists only so that a caller may list it explicitly.

It must not: know about MIME, HTTP headers or AS2 identifiers; decide policy beyond the
allow-lists its caller passes in; trust any certificate the caller did not pass in (the
certificates embedded in a SignedData are ignored).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

from asn1crypto import algos, cms, core  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "ALL_DIGESTS",
    "AlgorithmNotAllowedError",
    "CMSError",
    "CMSFormatError",
    "ContentCipher",
    "ContentDigestMismatchError",
    "DecompressionError",
    "DecompressionLimitError",
    "Decrypted",
    "DecryptionError",
    "DigestAlgorithm",
    "KeyTransport",
    "NotARecipientError",
    "PrivateKey",
    "SignatureInvalidError",
    "SignatureScheme",
    "SignerCertificateNotValidError",
    "SignerInfoSummary",
    "UnknownSignerError",
    "UnsupportedAlgorithmError",
    "certificate_sha256",
    "cms_content_type",
    "compress",
    "compute_mic",
    "decompress",
    "decrypt",
    "encrypt",
    "sign_detached",
    "verify_detached",
]


PrivateKey = rsa.RSAPrivateKey
"""The private-key type AS2 identities hold (AS2 peers use RSA), exported so other modules
need not import ``cryptography.hazmat``."""

# ---------------------------------------------------------------------------------------------
# Allow-lists


class DigestAlgorithm(StrEnum):
    """Digest algorithms accepted for signatures and MICs (RFC 5751 §2.1, RFC 5754)."""

    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"

    @classmethod
    def from_name(cls, name: str) -> DigestAlgorithm | None:
        """Map either spelling (``sha256`` or ``sha-256``, any case) to a member, else None."""
        key = name.strip().lower().replace("-", "")
        for member in cls:
            if member.value == key:
                return member
        return None

    def _hash(self) -> hashes.HashAlgorithm:
        return _HASHES[self]()


_HASHES: dict[DigestAlgorithm, type[hashes.HashAlgorithm]] = {
    DigestAlgorithm.SHA1: hashes.SHA1,
    DigestAlgorithm.SHA256: hashes.SHA256,
    DigestAlgorithm.SHA384: hashes.SHA384,
    DigestAlgorithm.SHA512: hashes.SHA512,
}


class SignatureScheme(StrEnum):
    """RSA signature schemes (RFC 3370 §3.2 PKCS #1 v1.5, RFC 4056 RSASSA-PSS)."""

    PKCS1V15 = "rsassa-pkcs1v15"
    PSS = "rsassa-pss"


class KeyTransport(StrEnum):
    """RSA key transport for KeyTransRecipientInfo (RFC 3370 §4.2.1, RFC 3560 RSAES-OAEP)."""

    PKCS1V15 = "rsaes-pkcs1v15"
    OAEP = "rsaes-oaep"


class ContentCipher(StrEnum):
    """Content-encryption algorithms (RFC 3565 AES-CBC, RFC 5084 AES-GCM, RFC 3370 3DES)."""

    AES128_CBC = "aes128-cbc"
    AES192_CBC = "aes192-cbc"
    AES256_CBC = "aes256-cbc"
    AES128_GCM = "aes128-gcm"
    AES192_GCM = "aes192-gcm"
    AES256_GCM = "aes256-gcm"
    TDES_CBC = "3des"

    @property
    def is_aead(self) -> bool:
        """True for the AES-GCM ciphers, which travel in AuthEnvelopedData (RFC 5083)."""
        return self in _GCM_OIDS

    @classmethod
    def from_name(cls, name: str) -> ContentCipher | None:
        """Map a spelling (``aes128-cbc``, ``aes_128_cbc``, ``3des``...) to a member."""
        key = name.strip().lower().replace("_", "").replace("-", "")
        aliases = {
            "tripledes": "3des",
            "tripledes192cbc": "3des",
            "3descbc": "3des",
            "desede3cbc": "3des",
        }
        key = aliases.get(key, key)
        for member in cls:
            if member.value.replace("-", "") == key:
                return member
        return None


# asn1crypto names of the OIDs (RFC 3565 §4.1, RFC 5084 §3.2, RFC 3370 §5.1)
_CBC_OIDS: dict[ContentCipher, str] = {
    ContentCipher.AES128_CBC: "aes128_cbc",
    ContentCipher.AES192_CBC: "aes192_cbc",
    ContentCipher.AES256_CBC: "aes256_cbc",
    ContentCipher.TDES_CBC: "tripledes_3key",
}
_GCM_OIDS: dict[ContentCipher, str] = {
    ContentCipher.AES128_GCM: "aes128_gcm",
    ContentCipher.AES192_GCM: "aes192_gcm",
    ContentCipher.AES256_GCM: "aes256_gcm",
}
_KEY_SIZES: dict[ContentCipher, int] = {
    ContentCipher.AES128_CBC: 16,
    ContentCipher.AES192_CBC: 24,
    ContentCipher.AES256_CBC: 32,
    ContentCipher.AES128_GCM: 16,
    ContentCipher.AES192_GCM: 24,
    ContentCipher.AES256_GCM: 32,
    ContentCipher.TDES_CBC: 24,
}
_CIPHER_BY_OID: dict[str, ContentCipher] = {
    **{oid: c for c, oid in _CBC_OIDS.items()},
    **{oid: c for c, oid in _GCM_OIDS.items()},
}
_DIGEST_BY_OID: dict[str, DigestAlgorithm] = {d.value: d for d in DigestAlgorithm}
# SignerInfo.signatureAlgorithm may name the hash too (sha256WithRSAEncryption, RFC 4055 §5);
# the hash must then agree with SignerInfo.digestAlgorithm.
_PKCS1_SIG_OIDS: dict[str, DigestAlgorithm | None] = {
    "rsassa_pkcs1v15": None,
    "sha1_rsa": DigestAlgorithm.SHA1,
    "sha256_rsa": DigestAlgorithm.SHA256,
    "sha384_rsa": DigestAlgorithm.SHA384,
    "sha512_rsa": DigestAlgorithm.SHA512,
}

ALL_DIGESTS: frozenset[DigestAlgorithm] = frozenset(DigestAlgorithm)


# ---------------------------------------------------------------------------------------------
# Errors


class CMSError(Exception):
    """Base class of every refusal raised by this module; the message names the cause."""


class CMSFormatError(CMSError):
    """The bytes are not the CMS structure that was expected (malformed, truncated, wrong type)."""


class UnsupportedAlgorithmError(CMSError):
    """The structure names an algorithm this module does not implement."""


class AlgorithmNotAllowedError(CMSError):
    """The algorithm is implemented but not in the caller's allow-list."""


class UnknownSignerError(CMSError):
    """No certificate passed by the caller matches the signer identifier."""


class SignerCertificateNotValidError(CMSError):
    """The signer's certificate is outside its validity period."""


class ContentDigestMismatchError(CMSError):
    """The signed message-digest attribute does not match the content: the content changed."""


class SignatureInvalidError(CMSError):
    """The signature value does not verify with the signer's public key."""


class NotARecipientError(CMSError):
    """The EnvelopedData has no RecipientInfo for our certificate."""


class DecryptionError(CMSError):
    """The content-encryption key or the content could not be decrypted."""


class DecompressionError(CMSError):
    """The CompressedData could not be decompressed."""


class DecompressionLimitError(DecompressionError):
    """Decompression would exceed the caller's size limit (a bomb, or just too big)."""


# ---------------------------------------------------------------------------------------------
# Helpers


def _asn1_certificate(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def certificate_sha256(certificate: x509.Certificate) -> str:
    """Hex SHA-256 fingerprint of the DER certificate (how partner profiles pin certificates)."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def compute_mic(data: bytes, digest: DigestAlgorithm) -> str:
    """Base64 digest of ``data``: the value of Received-Content-MIC (RFC 4130 §7.3.1)."""
    return base64.b64encode(hashlib.new(digest.value, data).digest()).decode("ascii")


def _load_content_info(der: bytes, expected: Iterable[str]) -> tuple[str, Any]:
    """Parse a ContentInfo and return (content type name, parsed content); refuse others."""
    expected = tuple(expected)
    try:
        info = cms.ContentInfo.load(der, strict=True)
        content_type = info["content_type"].native
        content = info["content"]
        # asn1crypto parses lazily: force the whole tree now so that a malformed structure
        # is a CMSFormatError here rather than an arbitrary exception later.
        content.native  # noqa: B018
    except CMSError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on bad DER
        raise CMSFormatError(
            f"not a DER CMS ContentInfo ({exc.__class__.__name__}: {exc})"
        ) from exc
    if content_type not in expected:
        raise CMSFormatError(
            f"CMS content type is {content_type!r}, expected {' or '.join(expected)}"
        )
    return content_type, content


def cms_content_type(der: bytes) -> str | None:
    """The asn1crypto name of a ContentInfo's content type (``enveloped_data``...), or None.

    Used to sniff an ``application/pkcs7-mime`` body that lacks its ``smime-type`` parameter.
    """
    try:
        name = cms.ContentInfo.load(der)["content_type"].native
    except Exception:  # anything asn1crypto raises on garbage means "not CMS"
        return None
    return name if isinstance(name, str) else None


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _malformed_is_format_error(what: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Turn what asn1crypto and ``cryptography`` raise on odd parameters into CMSFormatError.

    asn1crypto parses lazily and reports a bad field with whatever exception the access hits
    (TypeError on an absent parameter, ValueError on a bad length...); callers must only ever
    see CMSError subclasses.
    """

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(func)
        def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return func(*args, **kwargs)
            except CMSError:
                raise
            except (
                ValueError,
                TypeError,
                KeyError,
                IndexError,
                AttributeError,
                OverflowError,
            ) as exc:
                raise CMSFormatError(f"malformed {what} ({exc.__class__.__name__}: {exc})") from exc

        return guarded

    return decorate


def _matches_certificate(identifier: Any, certificate: x509.Certificate) -> bool:
    """True if a signer/recipient identifier names ``certificate`` (RFC 5652 §5.3, §6.2.1)."""
    cert = _asn1_certificate(certificate)
    if identifier.name == "issuer_and_serial_number":
        chosen = identifier.chosen
        return bool(
            chosen["serial_number"].native == cert.serial_number and chosen["issuer"] == cert.issuer
        )
    if identifier.name == "subject_key_identifier":
        return bool(
            cert.key_identifier is not None and identifier.chosen.native == cert.key_identifier
        )
    return False


def _describe_identifier(identifier: Any) -> str:
    try:
        if identifier.name == "issuer_and_serial_number":
            issuer = identifier.chosen["issuer"].human_friendly
            return f"issuer {issuer!r} serial {identifier.chosen['serial_number'].native:x}"
        return f"subject key identifier {identifier.chosen.native.hex()}"
    except Exception:  # describing must never hide the real refusal
        return "an unreadable identifier"


def _check_validity(certificate: x509.Certificate, at: datetime) -> None:
    # RFC 5280 §4.1.2.5: the certificate is valid from notBefore to notAfter inclusive.
    if at < certificate.not_valid_before_utc:
        raise SignerCertificateNotValidError(
            f"signer certificate {certificate.subject.rfc4514_string()!r} is not valid before "
            f"{certificate.not_valid_before_utc.isoformat()}"
        )
    if at > certificate.not_valid_after_utc:
        raise SignerCertificateNotValidError(
            f"signer certificate {certificate.subject.rfc4514_string()!r} expired on "
            f"{certificate.not_valid_after_utc.isoformat()}"
        )


def _rsa_public_key(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnsupportedAlgorithmError(
            f"certificate {certificate.subject.rfc4514_string()!r} does not hold an RSA key"
        )
    return key


def _mgf1_digest(params: Any, what: str) -> DigestAlgorithm:
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].native != "mgf1":
        raise UnsupportedAlgorithmError(f"{what}: mask generation {mgf['algorithm'].native!r}")
    digest = _DIGEST_BY_OID.get(mgf["parameters"]["algorithm"].native)
    if digest is None:
        raise UnsupportedAlgorithmError(
            f"{what}: MGF1 hash {mgf['parameters']['algorithm'].native!r}"
        )
    return digest


# ---------------------------------------------------------------------------------------------
# SignedData (RFC 5652 §5), detached as S/MIME multipart/signed needs (RFC 5751 §3.5.3)


@dataclass(frozen=True)
class SignerInfoSummary:
    """What a verified signature proves: who signed, how, and when they said they did."""

    certificate: x509.Certificate
    digest: DigestAlgorithm
    scheme: SignatureScheme
    signing_time: datetime | None


def _pss_padding(digest: DigestAlgorithm) -> asym_padding.PSS:
    # RFC 4056 §3.1: salt length equal to the hash output length, MGF1 with the same hash.
    return asym_padding.PSS(
        mgf=asym_padding.MGF1(digest._hash()), salt_length=digest._hash().digest_size
    )


def sign_detached(
    content: bytes,
    *,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    digest: DigestAlgorithm,
    scheme: SignatureScheme = SignatureScheme.PKCS1V15,
    signing_time: datetime | None = None,
) -> bytes:
    """Return a DER ContentInfo(SignedData) signing ``content`` without embedding it.

    Signed attributes carry content-type, signing-time and message-digest (RFC 5652 §11);
    the signer is identified by issuer and serial number and its certificate is included.
    """
    if not isinstance(digest, DigestAlgorithm) or not isinstance(scheme, SignatureScheme):
        raise TypeError("digest and scheme must be DigestAlgorithm and SignatureScheme members")
    when = signing_time or datetime.now(UTC)
    cert = _asn1_certificate(certificate)
    content_digest = hashlib.new(digest.value, content).digest()
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            # RFC 5652 §11.3: UTCTime for 1950..2049, GeneralizedTime otherwise.
            cms.CMSAttribute(
                {
                    "type": "signing_time",
                    "values": [
                        cms.Time({"utc_time": when} if when.year < 2050 else {"general_time": when})
                    ],
                }
            ),
            cms.CMSAttribute({"type": "message_digest", "values": [content_digest]}),
        ]
    )
    # RFC 5652 §5.4: the signature covers the DER of the attributes tagged as a SET OF.
    to_be_signed = signed_attrs.dump()
    if scheme is SignatureScheme.PSS:
        signature = key.sign(to_be_signed, _pss_padding(digest), digest._hash())
        signature_algorithm = algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": algos.RSASSAPSSParams(
                    {
                        "hash_algorithm": {"algorithm": digest.value},
                        "mask_gen_algorithm": {
                            "algorithm": "mgf1",
                            "parameters": {"algorithm": digest.value},
                        },
                        "salt_length": digest._hash().digest_size,
                    }
                ),
            }
        )
    else:
        signature = key.sign(to_be_signed, asym_padding.PKCS1v15(), digest._hash())
        # RFC 3370 §3.2: rsaEncryption with NULL parameters is the interoperable choice.
        signature_algorithm = algos.SignedDigestAlgorithm(
            {"algorithm": "rsassa_pkcs1v15", "parameters": core.Null()}
        )
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest.value}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": signature_algorithm,
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest.value})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cert],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


@_malformed_is_format_error("SignedData")
def verify_detached(
    signature: bytes,
    content: bytes,
    *,
    certificates: Sequence[x509.Certificate],
    allowed_digests: frozenset[DigestAlgorithm],
    at: datetime | None = None,
) -> SignerInfoSummary:
    """Verify a detached DER SignedData over ``content`` against the caller's certificates only.

    Raises UnknownSignerError (no given certificate matches the signer), AlgorithmNotAllowedError,
    UnsupportedAlgorithmError, SignerCertificateNotValidError (``at`` outside the validity
    period), ContentDigestMismatchError (the content changed), SignatureInvalidError, or
    CMSFormatError.
    """
    moment = at or datetime.now(UTC)
    _, signed_data = _load_content_info(signature, ("signed_data",))
    signer_infos = list(signed_data["signer_infos"])
    if not signer_infos:
        raise CMSFormatError("SignedData has no SignerInfo")
    if signed_data["encap_content_info"]["content"].native not in (None, b""):
        raise CMSFormatError(
            "SignedData carries encapsulated content; a detached signature was expected"
        )
    # RFC 5751 §3.5.3: AS2 sends one signer; any of several may verify.
    last_error: CMSError | None = None
    for signer_info in signer_infos:
        candidates = [c for c in certificates if _matches_certificate(signer_info["sid"], c)]
        if not candidates:
            last_error = UnknownSignerError(
                f"signed by {_describe_identifier(signer_info['sid'])}, which is not one of the "
                f"{len(certificates)} certificate(s) configured for this partner"
            )
            continue
        for certificate in candidates:
            try:
                return _verify_signer_info(
                    signer_info, content, certificate, allowed_digests, moment
                )
            except (SignatureInvalidError, ContentDigestMismatchError) as exc:
                last_error = exc
    if last_error is None:  # pragma: no cover - the loop always sets it
        raise CMSFormatError("SignedData has no usable SignerInfo")
    raise last_error


def _verify_signer_info(
    signer_info: Any,
    content: bytes,
    certificate: x509.Certificate,
    allowed_digests: frozenset[DigestAlgorithm],
    at: datetime,
) -> SignerInfoSummary:
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    digest = _DIGEST_BY_OID.get(digest_name)
    if digest is None:
        raise UnsupportedAlgorithmError(f"signature digest algorithm {digest_name!r}")
    if digest not in allowed_digests:
        raise AlgorithmNotAllowedError(
            f"signature digest {digest.value} is not accepted for this partner "
            f"(accepted: {', '.join(sorted(d.value for d in allowed_digests)) or 'none'})"
        )
    sig_alg = signer_info["signature_algorithm"]
    sig_name = sig_alg["algorithm"].native
    pad: asym_padding.AsymmetricPadding
    if sig_name == "rsassa_pss":
        params = sig_alg["parameters"]
        pss_hash = _DIGEST_BY_OID.get(params["hash_algorithm"]["algorithm"].native)
        mgf_hash = _mgf1_digest(params, "RSASSA-PSS")
        if pss_hash is not digest or mgf_hash not in allowed_digests:
            raise UnsupportedAlgorithmError(
                "RSASSA-PSS parameters name a hash other than the SignerInfo digest"
            )
        pad = asym_padding.PSS(
            mgf=asym_padding.MGF1(mgf_hash._hash()), salt_length=int(params["salt_length"].native)
        )
        scheme = SignatureScheme.PSS
    elif sig_name in _PKCS1_SIG_OIDS:
        named = _PKCS1_SIG_OIDS[sig_name]
        if named is not None and named is not digest:
            raise UnsupportedAlgorithmError(
                f"signature algorithm {sig_name} disagrees with digest {digest.value}"
            )
        pad = asym_padding.PKCS1v15()
        scheme = SignatureScheme.PKCS1V15
    else:
        raise UnsupportedAlgorithmError(f"signature algorithm {sig_name!r}")

    _check_validity(certificate, at)
    public_key = _rsa_public_key(certificate)
    signature_value = bytes(signer_info["signature"].native)
    signing_time: datetime | None = None
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs.native is not None and len(signed_attrs) > 0:
        digests = [a for a in signed_attrs if a["type"].native == "message_digest"]
        content_types = [a for a in signed_attrs if a["type"].native == "content_type"]
        # RFC 5652 §5.3: with signed attributes, content-type and message-digest are mandatory.
        if len(digests) != 1 or len(content_types) != 1:
            raise CMSFormatError(
                "signed attributes lack exactly one message-digest and content-type"
            )
        for attr in signed_attrs:
            if attr["type"].native == "signing_time":
                value = attr["values"][0].native
                if isinstance(value, datetime):
                    signing_time = value
        expected = hashlib.new(digest.value, content).digest()
        if bytes(digests[0]["values"][0].native) != expected:
            raise ContentDigestMismatchError(
                f"the {digest.value} digest of the signed content does not match the signed "
                "message-digest attribute: the content was changed after signing"
            )
        # RFC 5652 §5.4: verify over the attributes as received, re-tagged as SET OF (0x31);
        # re-encoding them could change the bytes of a non-DER sender.
        received = bytes(signed_attrs.dump())
        to_verify = b"\x31" + received[1:]
        try:
            public_key.verify(signature_value, to_verify, pad, digest._hash())
        except InvalidSignature as exc:
            # The content digest matched, so the sender's key did not make this signature:
            # RFC 4130 §7.4.3 "authentication-failed" (the sender could not be authenticated).
            raise SignatureInvalidError(
                f"the signature does not verify with certificate "
                f"{certificate.subject.rfc4514_string()!r}"
            ) from exc
    else:
        try:
            public_key.verify(signature_value, content, pad, digest._hash())
        except InvalidSignature as exc:
            # Without signed attributes a changed content and a forged signature look the same;
            # the signer identifier did name a partner certificate, so the likely cause is a
            # changed content.
            raise ContentDigestMismatchError(
                "the signature (without signed attributes) does not verify over the content"
            ) from exc
    return SignerInfoSummary(
        certificate=certificate, digest=digest, scheme=scheme, signing_time=signing_time
    )


# ---------------------------------------------------------------------------------------------
# EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083, RFC 5084)


class _GCMParameters(core.Sequence):  # type: ignore[misc]
    """RFC 5084 §3.2: SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration protocol
        ("aes_nonce", core.OctetString),
        ("aes_icvlen", core.Integer, {"default": 12}),
    ]


@dataclass(frozen=True)
class Decrypted:
    """The plaintext of an EnvelopedData/AuthEnvelopedData and how it was protected."""

    content: bytes
    cipher: ContentCipher
    key_transport: KeyTransport


def _odd_parity(key: bytes) -> bytes:
    # RFC 3370 §4.3.2: Triple-DES keys carry odd parity in the low bit of each byte.
    return bytes((b & 0xFE) | (1 ^ (bin(b >> 1).count("1") & 1)) for b in key)


def _key_transport_algorithm(transport: KeyTransport) -> Any:
    if transport is KeyTransport.OAEP:
        # RFC 4055 §4.1: OAEP with SHA-256 and MGF1-SHA-256, empty label.
        return cms.KeyEncryptionAlgorithm(
            {
                "algorithm": "rsaes_oaep",
                "parameters": algos.RSAESOAEPParams(
                    {
                        "hash_algorithm": {"algorithm": "sha256"},
                        "mask_gen_algorithm": {
                            "algorithm": "mgf1",
                            "parameters": {"algorithm": "sha256"},
                        },
                    }
                ),
            }
        )
    return cms.KeyEncryptionAlgorithm({"algorithm": "rsaes_pkcs1v15", "parameters": core.Null()})


def _key_transport_padding(transport: KeyTransport, params: Any) -> asym_padding.AsymmetricPadding:
    if transport is KeyTransport.PKCS1V15:
        return asym_padding.PKCS1v15()
    hash_name = params["hash_algorithm"]["algorithm"].native
    digest = _DIGEST_BY_OID.get(hash_name)
    if digest is None:
        raise UnsupportedAlgorithmError(f"RSAES-OAEP hash {hash_name!r}")
    mgf_digest = _mgf1_digest(params, "RSAES-OAEP")
    if params["p_source_algorithm"]["parameters"].native not in (None, b""):
        raise UnsupportedAlgorithmError("RSAES-OAEP with a non-empty label")
    return asym_padding.OAEP(
        mgf=asym_padding.MGF1(mgf_digest._hash()), algorithm=digest._hash(), label=None
    )


def encrypt(
    content: bytes,
    *,
    recipient: x509.Certificate,
    cipher: ContentCipher,
    key_transport: KeyTransport = KeyTransport.PKCS1V15,
) -> bytes:
    """Encrypt ``content`` for ``recipient``: DER EnvelopedData, or AuthEnvelopedData for GCM."""
    if not isinstance(cipher, ContentCipher) or not isinstance(key_transport, KeyTransport):
        raise TypeError("cipher and key_transport must be ContentCipher and KeyTransport members")
    cek = os.urandom(_KEY_SIZES[cipher])
    if cipher is ContentCipher.TDES_CBC:
        cek = _odd_parity(cek)
    public_key = _rsa_public_key(recipient)
    transport_padding: asym_padding.AsymmetricPadding
    if key_transport is KeyTransport.OAEP:
        transport_padding = asym_padding.OAEP(
            mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
        )
    else:
        transport_padding = asym_padding.PKCS1v15()
    cert = _asn1_certificate(recipient)
    recipient_info = cms.RecipientInfo(
        {
            "ktri": cms.KeyTransRecipientInfo(
                {
                    "version": "v0",
                    "rid": cms.RecipientIdentifier(
                        {
                            "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                                {"issuer": cert.issuer, "serial_number": cert.serial_number}
                            )
                        }
                    ),
                    "key_encryption_algorithm": _key_transport_algorithm(key_transport),
                    "encrypted_key": public_key.encrypt(cek, transport_padding),
                }
            )
        }
    )
    if cipher.is_aead:
        nonce = os.urandom(12)  # RFC 5084 §3.2: a 12-octet nonce is RECOMMENDED
        encryptor = Cipher(algorithms.AES(cek), modes.GCM(nonce)).encryptor()
        ciphertext = encryptor.update(content) + encryptor.finalize()
        auth_enveloped = cms.AuthEnvelopedData(
            {
                "version": "v0",
                "recipient_infos": [recipient_info],
                "auth_encrypted_content_info": {
                    "content_type": "data",
                    "content_encryption_algorithm": {
                        "algorithm": _GCM_OIDS[cipher],
                        "parameters": _GCMParameters({"aes_nonce": nonce, "aes_icvlen": 16}),
                    },
                    "encrypted_content": ciphertext,
                },
                "mac": encryptor.tag,
            }
        )
        info = cms.ContentInfo(
            {"content_type": "authenticated_enveloped_data", "content": auth_enveloped}
        )
        return bytes(info.dump())
    block_cipher: algorithms.AES | TripleDES
    block_cipher = TripleDES(cek) if cipher is ContentCipher.TDES_CBC else algorithms.AES(cek)
    iv = os.urandom(block_cipher.block_size // 8)
    padder = padding.PKCS7(block_cipher.block_size).padder()  # RFC 5652 §6.3
    padded = padder.update(content) + padder.finalize()
    cbc_encryptor = Cipher(block_cipher, modes.CBC(iv)).encryptor()
    ciphertext = cbc_encryptor.update(padded) + cbc_encryptor.finalize()
    enveloped = cms.EnvelopedData(
        {
            "version": "v0",
            "recipient_infos": [recipient_info],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": _CBC_OIDS[cipher], "parameters": iv},
                "encrypted_content": ciphertext,
            },
        }
    )
    return bytes(cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump())


@_malformed_is_format_error("EnvelopedData")
def decrypt(
    der: bytes,
    *,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    allowed: frozenset[ContentCipher],
) -> Decrypted:
    """Decrypt a DER ContentInfo(EnvelopedData or AuthEnvelopedData) addressed to ``certificate``.

    The content cipher is checked against ``allowed`` before any private-key operation.
    Raises NotARecipientError, AlgorithmNotAllowedError, UnsupportedAlgorithmError,
    DecryptionError or CMSFormatError.
    """
    kind, envelope = _load_content_info(der, ("enveloped_data", "authenticated_enveloped_data"))
    aead = kind == "authenticated_enveloped_data"
    content_info = envelope["auth_encrypted_content_info" if aead else "encrypted_content_info"]
    algorithm = content_info["content_encryption_algorithm"]
    oid_name = algorithm["algorithm"].native
    cipher = _CIPHER_BY_OID.get(oid_name)
    if cipher is None or cipher.is_aead != aead:
        raise UnsupportedAlgorithmError(f"content encryption algorithm {oid_name!r} in {kind}")
    if cipher not in allowed:
        raise AlgorithmNotAllowedError(
            f"content encryption {cipher.value} is not accepted for this partner "
            f"(accepted: {', '.join(sorted(c.value for c in allowed)) or 'none'})"
        )

    ours = None
    identifiers = []
    for recipient_info in envelope["recipient_infos"]:
        if recipient_info.name != "ktri":
            identifiers.append(f"a {recipient_info.name} recipient")
            continue
        ktri = recipient_info.chosen
        if _matches_certificate(ktri["rid"], certificate):
            ours = ktri
            break
        identifiers.append(_describe_identifier(ktri["rid"]))
    if ours is None:
        raise NotARecipientError(
            f"encrypted for {'; '.join(identifiers) or 'no recipient'}, not for our certificate "
            f"(serial {certificate.serial_number:x}, "
            f"issuer {certificate.issuer.rfc4514_string()!r})"
        )
    transport_name = ours["key_encryption_algorithm"]["algorithm"].native
    transports = {"rsaes_pkcs1v15": KeyTransport.PKCS1V15, "rsaes_oaep": KeyTransport.OAEP}
    transport = transports.get(transport_name)
    if transport is None:
        raise UnsupportedAlgorithmError(f"key transport algorithm {transport_name!r}")
    transport_padding = _key_transport_padding(
        transport, ours["key_encryption_algorithm"]["parameters"]
    )
    try:
        cek = key.decrypt(bytes(ours["encrypted_key"].native), transport_padding)
    except ValueError as exc:
        raise DecryptionError(
            "the content-encryption key does not decrypt with our private key"
        ) from exc
    if len(cek) != _KEY_SIZES[cipher]:
        # Also the outcome of PKCS #1 v1.5 implicit rejection: report it like any wrong key.
        raise DecryptionError("the content-encryption key does not decrypt with our private key")
    ciphertext = content_info["encrypted_content"].native
    if not isinstance(ciphertext, bytes):
        raise CMSFormatError("the encrypted content is absent")

    if aead:
        try:
            params = _GCMParameters.load(algorithm["parameters"].dump())
            nonce = bytes(params["aes_nonce"].native)
            icv_len = int(params["aes_icvlen"].native)
        except Exception as exc:  # asn1crypto on a malformed parameter field
            raise CMSFormatError(f"malformed GCMParameters ({exc})") from exc
        tag = envelope["mac"].native
        # RFC 5084 §3.2: ICV length 12..16; nonces shorter than 12 octets are not GCM-safe.
        if not 12 <= icv_len <= 16 or not isinstance(tag, bytes) or len(tag) != icv_len:
            raise CMSFormatError(f"GCM tag length {icv_len} does not fit the mac field")
        if not 12 <= len(nonce) <= 64:
            raise CMSFormatError(f"GCM nonce of {len(nonce)} octets")
        auth_attrs = envelope["auth_attrs"]
        # RFC 5083 §2.2: authenticated attributes, if any, are the additional data, as SET OF.
        aad = b"" if auth_attrs.native is None else b"\x31" + bytes(auth_attrs.dump())[1:]
        try:
            decryptor = Cipher(
                algorithms.AES(cek), modes.GCM(nonce, tag, min_tag_length=icv_len)
            ).decryptor()
            decryptor.authenticate_additional_data(aad)
            plaintext = decryptor.update(ciphertext) + decryptor.finalize()
        except InvalidTag as exc:
            raise DecryptionError("the AES-GCM authentication tag does not verify") from exc
        return Decrypted(content=plaintext, cipher=cipher, key_transport=transport)

    block_cipher: algorithms.AES | TripleDES
    block_cipher = TripleDES(cek) if cipher is ContentCipher.TDES_CBC else algorithms.AES(cek)
    block = block_cipher.block_size // 8
    iv = algorithm["parameters"].native
    if not isinstance(iv, bytes) or len(iv) != block:
        raise CMSFormatError(f"{cipher.value} needs a {block}-octet IV")
    if not ciphertext or len(ciphertext) % block:
        raise DecryptionError(
            f"ciphertext of {len(ciphertext)} octets is not a whole number of blocks"
        )
    cbc_decryptor = Cipher(block_cipher, modes.CBC(iv)).decryptor()
    padded = cbc_decryptor.update(ciphertext) + cbc_decryptor.finalize()
    unpadder = padding.PKCS7(block_cipher.block_size).unpadder()
    try:
        plaintext = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise DecryptionError(
            "the decrypted content has invalid padding (wrong key or damaged data)"
        ) from exc
    return Decrypted(content=plaintext, cipher=cipher, key_transport=transport)


# ---------------------------------------------------------------------------------------------
# CompressedData (RFC 3274)


def compress(content: bytes) -> bytes:
    """Return a DER ContentInfo(CompressedData) holding ``content`` compressed with zlib."""
    compressed_data = cms.CompressedData(
        {
            "version": "v0",
            "compression_algorithm": {"algorithm": "zlib"},
            "encap_content_info": {"content_type": "data", "content": zlib.compress(content, 6)},
        }
    )
    return bytes(
        cms.ContentInfo({"content_type": "compressed_data", "content": compressed_data}).dump()
    )


@_malformed_is_format_error("CompressedData")
def decompress(der: bytes, *, max_size: int) -> bytes:
    """Decompress a DER ContentInfo(CompressedData); refuse output larger than ``max_size`` bytes.

    The limit is enforced while inflating, so a bomb never allocates more than ``max_size + 1``.
    """
    _, compressed_data = _load_content_info(der, ("compressed_data",))
    algorithm = compressed_data["compression_algorithm"]["algorithm"].native
    if algorithm != "zlib":  # RFC 3274 §2: zlib is the only algorithm defined
        raise UnsupportedAlgorithmError(f"compression algorithm {algorithm!r}")
    encap = compressed_data["encap_content_info"]
    data = encap["content"].native
    if not isinstance(data, bytes):
        raise CMSFormatError("CompressedData has no encapsulated content")
    inflater = zlib.decompressobj()
    try:
        output = inflater.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise DecompressionError(f"zlib stream is damaged ({exc})") from exc
    if len(output) > max_size:
        raise DecompressionLimitError(
            f"decompressed content exceeds the limit of {max_size} bytes "
            f"({len(data)} compressed bytes)"
        )
    if not inflater.eof:
        raise DecompressionError("zlib stream is truncated")
    return output
