"""The gateway's AS2 key pair: create a key and self-signed certificate, load them back.

Responsible for PEM encoding and the few certificate facts operations need (fingerprint,
subject, validity). Key generation uses ``cryptography``'s RSA primitives; signing and
encryption live in ``gateway.as2.cms`` alone. It must not read settings or partner
profiles: callers pass paths and bytes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.as2.message import AS2Identity

__all__ = [
    "CertificateInfo",
    "KeyFileError",
    "certificate_info",
    "generate_identity",
    "load_certificates",
    "load_identity",
]


class KeyFileError(Exception):
    """A key or certificate file is missing, unreadable or of the wrong kind."""


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What operations staff need to know about a certificate."""

    sha256: str
    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> float:
        return (self.not_after - (now or datetime.now(UTC))).total_seconds() / 86400

    def as_dict(self, now: datetime | None = None) -> dict[str, object]:
        return {"sha256": self.sha256, "subject": self.subject, "issuer": self.issuer,
                "serial": self.serial, "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat(),
                "days_left": round(self.days_left(now), 1)}


def certificate_info(certificate: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial=f"{certificate.serial_number:x}",
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in PEM ``data`` (or the one DER certificate)."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise KeyFileError("not an X.509 certificate (PEM or DER)") from exc


def load_identity(as2_id: str, key_path: Path, cert_path: Path) -> AS2Identity:
    """Our AS2 identity from a PEM private key (unencrypted PKCS#8 or PKCS#1) and the
    certificate that matches it."""
    try:
        key_data = key_path.read_bytes()
        cert_data = cert_path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(key_data, password=None)
    except (TypeError, ValueError) as exc:  # never quote the data: it is a private key
        raise KeyFileError(f"{key_path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"{key_path}: AS2 needs an RSA key")
    certificate = load_certificates(cert_data)[0]
    public = certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or \
            public.public_numbers() != key.public_key().public_numbers():
        raise KeyFileError(f"{cert_path} does not belong to the key in {key_path}")
    return AS2Identity(as2_id=as2_id, key=key, certificate=certificate)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def generate_identity(as2_id: str, key_path: Path, cert_path: Path, *, days: int = 730,
                      bits: int = 3072, overwrite: bool = False) -> AS2Identity:
    """A new RSA key (mode 0600) and a self-signed certificate naming ``as2_id``.

    Partners import the certificate (it is public); the key never leaves this machine.
    Refuses to replace existing files unless ``overwrite``: replacing a key in use breaks
    every partner until they import the new certificate (roll over instead: generate to new
    paths, send partners the new certificate, switch when they confirm).
    """
    if not overwrite and (key_path.exists() or cert_path.exists()):
        raise KeyFileError(f"{key_path if key_path.exists() else cert_path} exists; "
                           "pass overwrite to replace it")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, as2_id[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edigate")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                     key_encipherment=True, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()), 0o600)
    _write(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return AS2Identity(as2_id=as2_id, key=key, certificate=certificate)
