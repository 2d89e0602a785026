"""Keys, certificates and AS2 parties for the AS2 tests, generated at test time.

RSA keys are generated once per session (2048-bit is slow enough to matter) and written
to a temporary directory for the openssl CLI; no private key is ever committed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
