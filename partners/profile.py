"""The trading-partner profile: what one ``partners/<id>.toml`` file may say, and its checks.

Models are immutable (frozen, tuples rather than lists) and refuse unknown keys, so a typo in
a reviewed file is an error at load rather than a silently ignored setting. Security
parameters are allow-lists of enums with no weak default (SHA-1 and triple DES only when a
file names them, 3DES only beside ``allow_3des = true``). This module validates data only: it
reads no files (the registry does, and checks that certificate files exist) and holds no
secrets; the gateway turns a profile into transport and acknowledgment options.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import functools
import ipaddress
import re
import types
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.x12.source.codes import CLOSED as X12_CLOSED_CODES

__all__ = [
    "RECORD_KINDS",
    "RETENTION_KEYS",
    "AS2Profile",
    "DeliveryHints",
    "EDIFACTProfile",
    "EncryptionAlgorithm",
    "HTTPSProfile",
    "MDNOptions",
    "OrderRules",
    "PartnerProfile",
    "SFTPInboxProfile",
    "SFTPProfile",
    "SigningAlgorithm",
    "ValidationOptions",
    "X12Identity",
    "X12Profile",
    "describe_validation_error",
]

# X12.5 ISA05/ISA07, data element I05 (the envelope code list the X12 maps use too).
X12_ID_QUALIFIERS: frozenset[str] = frozenset(X12_CLOSED_CODES["I05"].split())

# ISO 9735 syntax identifiers (UNB S001.0001): UNOA..UNOY and the Korean KECA.
EDIFACT_SYNTAX_IDENTIFIERS: frozenset[str] = frozenset(
    {f"UNO{letter}" for letter in "ABCDEFGHIJKLWXY"} | {"KECA"}
)

_ERROR = "partner_profile"


def _problem(message: str, key: str = "") -> PydanticCustomError:
    """A validation error with our own wording; ``key`` extends the location (see below)."""
    return PydanticCustomError(_ERROR, message, {"key": key} if key else None)


def _printable(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


def _identifier(limit: int, what: str) -> AfterValidator:
    """1..limit printable ASCII characters, no spaces at either end (they are padding)."""

    def check(value: str) -> str:
        if not value:
            raise _problem("must not be empty")
        if len(value) > limit:
            raise _problem(f"must be at most {limit} characters ({what})")
        if value != value.strip(" "):
            raise _problem("must not start or end with a space (padding is added on output)")
        if not _printable(value):
            raise _problem("must be printable ASCII characters")
        return value

    return AfterValidator(check)


def _pattern(regex: str, message: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _problem(message)
        return value

    return AfterValidator(check)


def _x12_qualifier(value: str) -> str:
    if value not in X12_ID_QUALIFIERS:
        raise _problem("must be an X12 interchange ID qualifier (I05), e.g. 01, 14, ZZ")
    return value


def _no_duplicates(values: tuple[Any, ...]) -> tuple[Any, ...]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise _problem(f"lists {value} more than once")
        seen.add(value)
    return values


def _sha_spelling(value: object) -> object:
    """``sha-256`` (RFC 5751, openssl) and ``sha256`` (most AS2 products) name one digest."""
    if isinstance(value, str) and re.fullmatch(r"sha-(1|256|384|512)", value):
        return value.replace("-", "")
    return value


def _ack_number(value: object) -> object:
    """``ack = 997`` (a TOML integer) means what ``ack = "997"`` means."""
    if isinstance(value, int) and not isinstance(value, bool) and value in (997, 999):
        return str(value)
    return value


def _certificate_path(value: str) -> str:
    if "-----BEGIN" in value or "\n" in value:
        raise _problem(
            "inline PEM is not allowed: put the public certificate in a file beside the "
            "profiles and list its path"
        )
    if not value:
        raise _problem("must not be empty")
    if value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", value):
        raise _problem("must be a path relative to the partners directory")
    if ".." in re.split(r"[/\\]", value):
        raise _problem("must stay inside the partners directory (no '..')")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _problem("must be an http:// or https:// URL")
    return value


# What ``*`` in a receipt URL pattern stands for: one or more characters within one path
# segment (never a "/", "?" or "#", so it cannot reach into the query or another segment).
_RECEIPT_WILDCARD = r"[^/?#\\\s]+"


def _split_receipt_url(value: str) -> tuple[str, str]:
    """``value`` as (scheme://authority, the rest), checked for use as a receipt URL."""
    if not value or not all("!" <= char <= "~" for char in value) or "\\" in value:
        raise _problem("must be printable ASCII without spaces or backslashes")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _problem("must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise _problem("must not carry a user name or password")
    if parts.fragment or "#" in value:
        raise _problem("must not have a #fragment")
    origin = value[: len(parts.scheme) + 3 + len(parts.netloc)]
    if "*" in origin or "*" in parts.query:
        raise _problem("may have '*' in its path only")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise _problem("has an invalid port") from exc
    return origin, value[len(origin):]


def _receipt_url(value: str) -> str:
    _split_receipt_url(value)
    return value


@functools.lru_cache(maxsize=256)
def _receipt_url_regex(pattern: str) -> re.Pattern[str]:
    """A pattern as a regular expression over the whole URL: scheme and authority as
    written (ignoring case), the rest literal except ``*``."""
    origin, rest = _split_receipt_url(pattern)
    path = _RECEIPT_WILDCARD.join(re.escape(piece) for piece in rest.split("*"))
    return re.compile(f"(?i:{re.escape(origin)}){path}")


class SigningAlgorithm(StrEnum):
    """Digests for AS2 signatures and MIC (RFC 5751 spellings without the hyphen)."""

    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"


class EncryptionAlgorithm(StrEnum):
    """Content-encryption algorithms for AS2 (CMS EnvelopedData / AuthEnvelopedData)."""

    AES128_CBC = "aes128-cbc"
    AES192_CBC = "aes192-cbc"
    AES256_CBC = "aes256-cbc"
    AES128_GCM = "aes128-gcm"
    AES256_GCM = "aes256-gcm"
    TRIPLE_DES = "3des"


PartnerId = Annotated[
    StrictStr,
    _pattern(
        r"(?=.{1,64}\Z)[a-z0-9]+(?:-[a-z0-9]+)*",
        "must be a slug: lowercase letters, digits and single hyphens, at most 64 "
        "characters (e.g. acme-retail)",
    ),
]
X12Qualifier = Annotated[StrictStr, AfterValidator(_x12_qualifier)]
X12Id = Annotated[StrictStr, _identifier(15, "ISA06/ISA08 is 15 characters")]
# GS08: six digits of version/release, then an optional industry identifier (004010VICS).
X12Version = Annotated[
    StrictStr,
    _pattern(
        r"\d{6}[A-Z0-9]{0,6}",
        'must be a GS08 version string such as "004010" or "005010" (quoted: leading '
        "zeros matter)",
    ),
]
# ISO 9735 UNB S002.0007 / S003.0007 is an..4; the code list is open, so only its shape is checked.
EDIFACTQualifier = Annotated[
    StrictStr, _pattern(r"[A-Z0-9]{1,4}", "must be a UNB 0007 code: 1-4 letters or digits")
]
EDIFACTId = Annotated[StrictStr, _identifier(35, "UNB 0004 is an..35")]
# RFC 4130 §6.2: AS2-From/AS2-To are 1-128 printable ASCII characters.
AS2Id = Annotated[StrictStr, _identifier(128, "RFC 4130 AS2 names are 1-128 characters")]
TransactionType = Annotated[
    StrictStr,
    _pattern(
        r"\d{3}|[A-Z]{6}",
        "must be an X12 transaction set ID (3 digits, e.g. 850) or an EDIFACT message "
        "type (6 capital letters, e.g. ORDERS)",
    ),
]
Name = Annotated[
    StrictStr,
    _pattern(r"\S(?:.{0,198}\S)?", "must be 1-200 characters without spaces at either end"),
]
Label = Annotated[
    StrictStr,
    _pattern(
        r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}",
        "must be a name of letters, digits, '.', '_', ':' or '-' (at most 64 characters)",
    ),
]
CertificatePath = Annotated[StrictStr, AfterValidator(_certificate_path)]
ReceiptURL = Annotated[StrictStr, AfterValidator(_receipt_url)]
Signing = Annotated[SigningAlgorithm, BeforeValidator(_sha_spelling)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class X12Identity(_Model):
    """One ISA05/ISA06 (or ISA07/ISA08) pair."""

    qualifier: X12Qualifier
    id: X12Id

    def __str__(self) -> str:
        return f"{self.qualifier}:{self.id}"


class X12Profile(_Model):
    """``[x12]``: the partner's interchange identity and acknowledgment preferences."""

    qualifier: X12Qualifier
    id: X12Id
    # "auto": a 997 for 004010 groups and a 999 for 005010 and later.
    ack: Annotated[
        Literal["997", "999", "auto", "none"], BeforeValidator(_ack_number)
    ] = "auto"
    # "auto": a TA1 when ISA14 asks for one or the interchange envelope has errors.
    ta1: Literal["auto", "always", "never"] = "auto"
    version: X12Version | None = None
    accept_ids: Annotated[tuple[X12Identity, ...], AfterValidator(_no_duplicates)] = ()

    @model_validator(mode="after")
    def _primary_not_repeated(self) -> X12Profile:
        for index, extra in enumerate(self.accept_ids):
            if extra == self.primary:
                raise _problem(
                    f"{extra} is already the partner's qualifier and id",
                    key=f"accept_ids[{index}]",
                )
        return self

    @property
    def primary(self) -> X12Identity:
        """The identity the gateway addresses the partner as (ISA07/ISA08 outbound)."""
        return X12Identity(qualifier=self.qualifier, id=self.id)

    @property
    def identities(self) -> tuple[X12Identity, ...]:
        """Every ISA05/ISA06 the partner may send as: the primary first, then ``accept_ids``."""
        return (self.primary, *self.accept_ids)


class EDIFACTProfile(_Model):
    """``[edifact]``: the partner's UNB identity and CONTRL preference."""

    qualifier: EDIFACTQualifier | None = None
    id: EDIFACTId
    contrl: Literal["always", "errors", "never"] = "errors"
    syntax_identifier: StrictStr = "UNOC"

    @model_validator(mode="after")
    def _known_syntax(self) -> EDIFACTProfile:
        if self.syntax_identifier not in EDIFACT_SYNTAX_IDENTIFIERS:
            raise _problem(
                "must be an ISO 9735 syntax identifier: UNOA-UNOL, UNOW-UNOY or KECA",
                key="syntax_identifier",
            )
        return self


class MDNOptions(_Model):
    """``[as2.mdn]``: the receipt asked for when sending, and given when receiving."""

    mode: Literal["sync", "async"] = "sync"
    signed: StrictBool = True
    micalg: Signing = SigningAlgorithm.SHA256


_DEFAULT_SIGN = (SigningAlgorithm.SHA256, SigningAlgorithm.SHA384, SigningAlgorithm.SHA512)
_DEFAULT_ENCRYPT = (
    EncryptionAlgorithm.AES256_CBC,
    EncryptionAlgorithm.AES192_CBC,
    EncryptionAlgorithm.AES128_CBC,
    EncryptionAlgorithm.AES256_GCM,
    EncryptionAlgorithm.AES128_GCM,
)


class AS2Profile(_Model):
    """``[as2]``: the partner's AS2 name, endpoint, public certificates and algorithms.

    ``sign`` and ``encrypt`` are allow-lists for what the partner sends; outbound uses the
    first entry. ``certificates`` are paths of public-certificate files relative to the
    partners directory (the registry checks they exist and hold no private key).
    ``receipt_urls`` are the only addresses an asynchronous MDN for this partner may be
    posted to (exact URLs, or patterns with ``*`` standing for part of one path segment).
    """

    as2_id: AS2Id
    url: Annotated[StrictStr, AfterValidator(_http_url)] | None = None
    certificates: Annotated[tuple[CertificatePath, ...], AfterValidator(_no_duplicates)] = ()
    signed: StrictBool = True
    encrypted: StrictBool = True
    sign: Annotated[
        tuple[Signing, ...], Field(min_length=1), AfterValidator(_no_duplicates)
    ] = _DEFAULT_SIGN
    encrypt: Annotated[
        tuple[EncryptionAlgorithm, ...], Field(min_length=1), AfterValidator(_no_duplicates)
    ] = _DEFAULT_ENCRYPT
    allow_3des: StrictBool = False
    compress: StrictBool = False
    # RFC 5402 §3 allows compressing before or after signing; peers differ.
    compress_before_signing: StrictBool = True
    transfer_encoding: Literal["binary", "base64"] = "binary"
    mdn: MDNOptions = MDNOptions()
    # RFC 4130 §7.3 lets the sender name any Receipt-Delivery-Option URL; the gateway posts
    # receipts only to addresses the reviewed profile lists (none: synchronous only).
    receipt_urls: Annotated[tuple[ReceiptURL, ...], AfterValidator(_no_duplicates)] = ()

    def allows_receipt_url(self, url: str) -> bool:
        """Whether an asynchronous MDN may be posted to ``url`` (a Receipt-Delivery-Option
        value as received): it equals or matches one of ``receipt_urls``. Scheme and host
        compare ignoring case, everything else as written (no normalisation)."""
        if not url or not all("!" <= char <= "~" for char in url) or "\\" in url:
            return False
        return any(_receipt_url_regex(pattern).fullmatch(url) for pattern in self.receipt_urls)

    @model_validator(mode="after")
    def _consistent(self) -> AS2Profile:
        if EncryptionAlgorithm.TRIPLE_DES in self.encrypt and not self.allow_3des:
            raise _problem(
                "3des is only allowed with allow_3des = true (triple DES is obsolete; "
                "enable it only for a partner that cannot do AES)",
                key="encrypt",
            )
        if self.mdn.signed and self.mdn.micalg not in self.sign:
            raise _problem(
                f"{self.mdn.micalg} is not one of as2.sign ({', '.join(self.sign)})",
                key="mdn.micalg",
            )
        return self


# RFC 7230 §3.2.6: a header field name is a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Set by the HTTPS transport itself for every request; a profile must not replace them.
_TRANSPORT_HEADERS = frozenset({
    "authorization", "connection", "content-length", "content-type", "host",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"})
# RFC 1767 §1: the MIME types of EDI interchanges, by the standard edigate writes.
_EDI_MEDIA_TYPES = {"x12": "application/edi-x12", "edifact": "application/edifact"}


def _loopback(host: str | None) -> bool:
    """Whether ``host`` (a URL's host, lower-cased) names this machine."""
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _https_url(value: str) -> str:
    _http_url(value)
    if not all("!" <= char <= "~" for char in value):
        raise _problem("must be printable ASCII without spaces (percent-encode the rest)")
    if "@" in urlsplit(value).netloc:
        # The URL is written to the ledger; credentials go in secret_env.
        raise _problem("must not carry a user name or password: use auth and secret_env")
    if urlsplit(value).fragment or "#" in value:
        raise _problem("must not have a #fragment")
    return value


def _headers(value: dict[str, str]) -> dict[str, str]:
    seen: set[str] = set()
    for name, text in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise _problem("must be a header name (letters, digits and !#$%&'*+.^_`|~-)",
                           key=name)
        if name.lower() in _TRANSPORT_HEADERS:
            raise _problem("is set by the HTTPS transport (auth, content_type) and cannot "
                           "be given here", key=name)
        if name.lower() in seen:
            raise _problem("is given twice (header names ignore case)", key=name)
        seen.add(name.lower())
        # RFC 7230 §3.2: no control characters, so no CR/LF that would start a new header.
        if not _printable(text) or text != text.strip(" "):
            raise _problem("must be printable ASCII without spaces at either end", key=name)
    return value


Header = Annotated[StrictStr, Field(max_length=1000)]
EnvironmentName = Annotated[
    StrictStr,
    _pattern(r"[A-Za-z_][A-Za-z0-9_]{0,127}",
             "must be the name of an environment variable (letters, digits and '_', not "
             "starting with a digit), not the secret itself"),
]
# RFC 7617 §2: the user-id of Basic authentication cannot contain a colon.
BasicUser = Annotated[
    StrictStr,
    _pattern(r"[!-9;-~](?:[ -9;-~]{0,198}[!-9;-~])?",
             "must be 1-200 printable ASCII characters without ':' (RFC 7617)"),
]
MediaType = Annotated[
    StrictStr,
    _pattern(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
             r"(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|\"[ !#-~]*\"))*",
             "must be a media type such as application/edi-x12 (RFC 6838), with optional "
             "parameters"),
]


class HTTPSProfile(_Model):
    """``[https]``: the partner takes EDI by a plain HTTP POST of the interchange.

    ``auth`` says which ``Authorization`` header goes with it; ``secret_env`` names the
    environment variable holding the password (``basic``) or token (``bearer``), read
    when a document is sent, so the secret is never in a reviewed file. ``content_type``
    defaults to the RFC 1767 type of the standard edigate writes (``media_type``);
    ``headers`` are further static headers the partner asks for.
    """

    url: Annotated[StrictStr, Field(max_length=2000), AfterValidator(_https_url)]
    auth: Literal["none", "basic", "bearer"] = "none"
    username: BasicUser | None = None
    secret_env: EnvironmentName | None = None
    content_type: MediaType | None = None
    headers: Annotated[dict[StrictStr, Header], AfterValidator(_headers)] = Field(
        default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> HTTPSProfile:
        if self.auth == "basic" and self.username is None:
            raise _problem('is required with auth = "basic"', key="username")
        if self.auth != "basic" and self.username is not None:
            raise _problem('is only used with auth = "basic"', key="username")
        if self.auth != "none" and self.secret_env is None:
            raise _problem(f'is required with auth = "{self.auth}": the name of the '
                           "environment variable that holds the "
                           f"{'password' if self.auth == 'basic' else 'token'}",
                           key="secret_env")
        if self.auth == "none" and self.secret_env is not None:
            raise _problem('is only used with auth = "basic" or "bearer"', key="secret_env")
        parts = urlsplit(self.url)
        if self.auth != "none" and parts.scheme == "http" and not _loopback(parts.hostname):
            # A password or token over plain HTTP can be read by anyone on the way.
            raise _problem(f'must be https:// with auth = "{self.auth}": the credentials '
                           "would travel in clear text (http:// is kept for loopback "
                           "hosts, such as a local relay)", key="url")
        return self

    def media_type(self, standard: Literal["x12", "edifact"]) -> str:
        """The Content-Type of a document in ``standard``: ``content_type`` when given."""
        return self.content_type or _EDI_MEDIA_TYPES[standard]


# The SHA-256 fingerprint of an SSH host key as OpenSSH prints it (ssh-keygen -lf,
# ssh-keyscan | ssh-keygen -lf -): "SHA256:" and the unpadded base64 of 32 bytes.
HostKeyFingerprint = Annotated[
    StrictStr,
    _pattern(r"SHA256:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]",
             'must be the SHA256 fingerprint of the server\'s host key as OpenSSH prints it '
             '("SHA256:" and 43 base64 characters; ssh-keygen -lf the key file)'),
]
Hostname = Annotated[
    StrictStr,
    _pattern(r"[A-Za-z0-9](?:[A-Za-z0-9.:-]{0,251}[A-Za-z0-9])?",
             "must be a host name or an IP address (letters, digits, '.', ':' and '-')"),
]
SSHUser = Annotated[
    StrictStr,
    _pattern(r"[A-Za-z0-9._][A-Za-z0-9._@-]{0,127}",
             "must be a user name of letters, digits, '.', '_', '@' or '-' (at most 128)"),
]
# An absolute remote directory: printable ASCII, no "..", no trailing slash but "/".
RemoteDirectory = Annotated[
    StrictStr,
    _pattern(r"/|(?:/(?!\.\.?(?:/|\Z))[ -.0-~]{1,255})+",
             "must be an absolute remote directory such as /outbox (printable ASCII, no "
             "'..' or '.' parts, no trailing '/')"),
]
# A file name pattern (fnmatch: *, ?, [...]) or name template: one path segment.
NamePattern = Annotated[
    StrictStr,
    _pattern(r"[ -.0-~]{1,255}", "must be a file name pattern of printable ASCII without '/' "
             "(e.g. *.edi)"),
]


def _local_key_path(value: str) -> str:
    if not value or "\n" in value or "-----BEGIN" in value:
        raise _problem("must be the path of a private key file on the gateway's host, not "
                       "the key itself")
    return value


class SFTPProfile(_Model):
    """``[sftp]``: the partner's SFTP server, which edigate polls and uploads to.

    edigate logs in as ``user`` with a private key file (``auth = "key"``: ``key_file``,
    its passphrase, if any, in the environment variable ``passphrase_env``), the keys of
    an SSH agent (``"agent"``) or a password read from the environment variable
    ``password_env`` (``"password"``): no secret is ever in a reviewed file. The server
    must present the host key whose SHA256 fingerprint is ``host_key``: an unknown or
    changed key is refused, never learnt.

    Inbound: files in ``inbound_path`` whose names match ``pattern`` are downloaded every
    ``poll_seconds``, stored through intake, then removed, or moved to ``archive_path``.
    A file is taken only when its size and modification time did not change between two
    listings (``stable = true``); a partner that uploads under a temporary name and
    renames may set ``stable = false`` with a ``pattern`` that matches the final names
    only. Outbound: documents are uploaded to ``outbound_path`` under ``upload_suffix``
    appended to their name and renamed to ``outbound_name`` (``{id}`` the transfer's id,
    ``{ext}`` ``x12`` or ``edi``) when complete.
    """

    host: Hostname
    port: Annotated[int, Field(strict=True, ge=1, le=65535)] = 22
    user: SSHUser
    host_key: HostKeyFingerprint
    auth: Literal["key", "agent", "password"] = "key"
    key_file: Annotated[StrictStr, AfterValidator(_local_key_path)] | None = None
    passphrase_env: EnvironmentName | None = None
    password_env: EnvironmentName | None = None
    inbound_path: RemoteDirectory | None = None
    archive_path: RemoteDirectory | None = None
    pattern: NamePattern = "*"
    stable: StrictBool = True
    poll_seconds: Annotated[int, Field(strict=True, ge=1, le=86400)] = 60
    outbound_path: RemoteDirectory | None = None
    outbound_name: NamePattern = "{id}.{ext}"
    upload_suffix: Annotated[StrictStr, _pattern(
        r"\.[A-Za-z0-9._-]{1,32}", "must be a suffix such as .part (a dot, then letters, "
        "digits, '.', '_' or '-')")] = ".part"

    @model_validator(mode="after")
    def _consistent(self) -> SFTPProfile:
        if self.inbound_path is None and self.outbound_path is None:
            raise _problem("an [sftp] table needs inbound_path, outbound_path or both",
                           key="inbound_path/outbound_path")
        if self.auth == "key" and self.key_file is None:
            raise _problem('is required with auth = "key": the path of the private key '
                           "file edigate logs in with", key="key_file")
        if self.auth != "key" and self.key_file is not None:
            raise _problem('is only used with auth = "key"', key="key_file")
        if self.auth != "key" and self.passphrase_env is not None:
            raise _problem('is only used with auth = "key"', key="passphrase_env")
        if self.auth == "password" and self.password_env is None:
            raise _problem('is required with auth = "password": the name of the environment '
                           "variable that holds the password", key="password_env")
        if self.auth != "password" and self.password_env is not None:
            raise _problem('is only used with auth = "password"', key="password_env")
        if self.archive_path is not None and self.inbound_path is None:
            raise _problem("is only used with inbound_path", key="archive_path")
        if self.archive_path is not None and self.archive_path == self.inbound_path:
            raise _problem("must differ from inbound_path", key="archive_path")
        if "{id}" not in self.outbound_name:
            raise _problem("must contain {id}, so that no upload replaces another",
                           key="outbound_name")
        try:
            self.outbound_name.format(id="x", ext="x12")
        except (KeyError, IndexError, ValueError) as exc:
            raise _problem("may only use the placeholders {id} and {ext}",
                           key="outbound_name") from exc
        if self.outbound_name.endswith(self.upload_suffix):
            raise _problem("must not end with upload_suffix (a complete file would look "
                           "partial)", key="outbound_name")
        return self

    def upload_name(self, transfer_id: str, standard: Literal["x12", "edifact"]) -> str:
        """The final remote name of an outbound transfer's file."""
        return self.outbound_name.format(id=transfer_id,
                                         ext="x12" if standard == "x12" else "edi")


# The public key types edigate's SFTP server takes (the wire names of RFC 4253 §6.6,
# RFC 5656 §3.1 and RFC 8709 §4), with what follows the type name in the key blob.
SSH_KEY_TYPES: dict[str, tuple[str, ...]] = {
    "ssh-ed25519": ("key",),
    "ecdsa-sha2-nistp256": ("curve", "point"),
    "ecdsa-sha2-nistp384": ("curve", "point"),
    "ecdsa-sha2-nistp521": ("curve", "point"),
    "ssh-rsa": ("e", "n"),
}
_RSA_MIN_BITS = 2048


def _ssh_strings(blob: bytes) -> list[bytes] | None:
    """The length-prefixed strings a key blob is made of (RFC 4251 §5), or None when the
    blob is not exactly a sequence of them."""
    found: list[bytes] = []
    at = 0
    while at < len(blob):
        if at + 4 > len(blob):
            return None
        size = int.from_bytes(blob[at:at + 4], "big")
        at += 4
        if at + size > len(blob):
            return None
        found.append(blob[at:at + size])
        at += size
    return found


def ssh_key_blob(line: str) -> bytes:
    """The key blob of an OpenSSH public key line (``type base64 [comment]``) that
    ``_ssh_public_key`` accepted: what an SSH client presents when it logs in."""
    return base64.b64decode(line.split()[1])


def _ssh_public_key(value: str) -> str:
    """One OpenSSH public key line, as in a ``.pub`` file: ``type base64 [comment]``."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise _problem("must be one line without control characters")
    parts = value.split(maxsplit=2)
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        if parts and parts[0] not in SSH_KEY_TYPES and any(
                name in value for name in SSH_KEY_TYPES):
            raise _problem("must start with the key type: authorized_keys options "
                           "(from=, command=, ...) are not supported")
        raise _problem("must be an OpenSSH public key line such as 'ssh-ed25519 AAAA... "
                       f"comment' (the .pub file), of a type edigate takes: "
                       f"{', '.join(SSH_KEY_TYPES)}")
    kind, data = parts[0], parts[1]
    try:
        blob = base64.b64decode(data, validate=True)
    except binascii.Error:
        raise _problem("its key part is not valid base64") from None
    fields = _ssh_strings(blob)
    if not fields or fields[0] != kind.encode() or len(fields) != 1 + len(SSH_KEY_TYPES[kind]):
        raise _problem(f"its key part is not a {kind} key (cut short, or of another type "
                       "than the line says)")
    if kind == "ssh-ed25519" and len(fields[1]) != 32:
        raise _problem("its key part is not a 32-byte Ed25519 key (RFC 8709)")
    if kind.startswith("ecdsa-sha2-") and fields[1] != kind.removeprefix("ecdsa-sha2-").encode():
        raise _problem(f"its key part names another curve than {kind} (RFC 5656)")
    if kind == "ssh-rsa":
        bits = int.from_bytes(fields[2], "big").bit_length()
        if bits < _RSA_MIN_BITS:
            raise _problem(f"is an RSA key of {bits} bits: at least {_RSA_MIN_BITS} are "
                           "required")
    return value


def _distinct_keys(values: tuple[str, ...]) -> tuple[str, ...]:
    # Checked here, not by min_length: pydantic would also call a list whose one key is
    # bad "empty", a second error for one mistake.
    if not values:
        raise _problem("must list at least one public key (the partner logs in with it)")
    seen: set[bytes] = set()
    for index, line in enumerate(values):
        blob = ssh_key_blob(line)
        if blob in seen:
            raise _problem("lists the same key twice (comments aside)", key=f"[{index}]")
        seen.add(blob)
    return values


SSHPublicKey = Annotated[StrictStr, Field(max_length=16384), AfterValidator(_ssh_public_key)]


class SFTPInboxProfile(_Model):
    """``[sftp_inbox]``: the partner pushes files to edigate's own SFTP server.

    The partner logs in as ``user`` (default: the partner id) with one of
    ``public_keys`` (OpenSSH public key lines; no password login exists) and sees only
    its own folder. A file it uploads whose name matches ``pattern`` is received through
    intake when the upload closes (or when a file is renamed to a matching name), then
    removed. The profile holds public keys only: nothing in it is a secret.
    """

    user: SSHUser | None = None
    public_keys: Annotated[tuple[SSHPublicKey, ...], AfterValidator(_distinct_keys)]
    pattern: NamePattern = "*"

    @property
    def key_blobs(self) -> tuple[bytes, ...]:
        """The keys as the blobs an SSH client presents (RFC 4253 §6.6)."""
        return tuple(ssh_key_blob(line) for line in self.public_keys)


class DeliveryHints(_Model):
    """``[delivery]``: optional hints for routing this partner's records to internal systems."""

    consumers: Annotated[tuple[Label, ...], AfterValidator(_no_duplicates)] = ()
    tags: Annotated[tuple[Label, ...], AfterValidator(_no_duplicates)] = ()


def _code_list_ref(value: str) -> str:
    """An X12 element reference (segment tag and two-digit position, ``N101``) or a
    UN/EDIFACT data element tag (four digits, ``3035``)."""
    if re.fullmatch(r"[A-Z][A-Z0-9]{1,2}[0-9]{2}", value) or re.fullmatch(r"[0-9]{4}", value):
        return value
    raise _problem("must be an X12 element reference such as N101 or a UN/EDIFACT data "
                   f"element tag such as 3035 (got {value!r})")


CodeListRef = Annotated[StrictStr, AfterValidator(_code_list_ref)]


class ValidationOptions(_Model):
    """``[validation]``: where this partner's documents may deviate from the standard.

    ``relax_code_lists`` names coded elements whose code-list violations are reported as
    warnings for this partner (the document is accepted, the finding still listed): X12
    element references (``N101``, ``BEG02``) and UN/EDIFACT data element tags (``3035``).
    """

    relax_code_lists: Annotated[tuple[CodeListRef, ...], AfterValidator(_no_duplicates)] = ()


def _separator(value: str) -> str:
    """One character that cannot occur in the data it separates: no letter, digit or space."""
    if len(value) != 1 or value.isalnum() or value == " ":
        raise _problem("must be one character that is neither a letter, a digit nor a space "
                       f"(got {value!r})")
    return value


Separator = Annotated[StrictStr, AfterValidator(_separator)]


class X12Separators(_Model):
    """``[outbound.x12_separators]``: the delimiters of the X12 edigate writes to the partner."""

    element: Separator = "*"
    component: Separator = ">"
    segment: Separator = "~"
    repetition: Separator = "^"

    @model_validator(mode="after")
    def _distinct(self) -> X12Separators:
        chars = [self.element, self.component, self.segment, self.repetition]
        if len(set(chars)) != len(chars):
            raise _problem("the four separators must differ from each other")
        return self


class OutboundOptions(_Model):
    """``[outbound]``: how edigate writes the documents internal systems send this partner.

    ``standard`` picks the table whose identity addresses the partner when the profile has
    both (default: X12 when ``[x12]`` exists). ``x12_version`` is GS08 (default the
    ``[x12]`` version when it is 004010 or 005010, else 005010); ``edifact_directory`` the
    UNH directory. ``ack_requested`` sets ISA14 / UNB 0031; ``ack_due_hours`` is how long
    the partner has to acknowledge (997/999, CONTRL when requested) before a sent document
    is overdue.
    """

    standard: Literal["x12", "edifact"] | None = None
    x12_version: Literal["004010", "005010"] | None = None
    edifact_directory: Literal["D96A", "D01B"] = "D96A"
    usage: Literal["production", "test"] = "production"
    ack_requested: StrictBool = False
    ack_due_hours: Annotated[int, Field(strict=True, ge=1, le=24 * 30)] = 24
    x12_separators: X12Separators = X12Separators()
    # The 856 hierarchy: the record's own tree, or shipment/order/pack/item, with tares
    # between order and pack, or without packs.
    asn_structure: Literal["auto", "SOPI", "SOTPI", "SOI"] = "auto"


Hours = Annotated[int, Field(strict=True, ge=1, le=24 * 90)]
Percent = Annotated[Decimal, Field(ge=0, le=100)]


class OrderRules(_Model):
    """``[orders]``: how this partner's orders are judged (issue 19).

    Time rules: an order response is due ``ack_due_hours`` after the purchase order (when
    ``expect_acknowledgment``), a ship notice ``asn_due_hours`` after the shipment and,
    with ``asn_before_delivery``, before the requested delivery date; an invoice must not
    come before the ship notice. Tolerances: shipped, invoiced and ordered quantities, and
    invoiced and ordered prices, match within their percentages; an invoice's total
    matches its lines, charges and taxes within ``amount_tolerance`` (in its currency).
    """

    expect_acknowledgment: StrictBool = True
    ack_due_hours: Hours = 24
    asn_due_hours: Hours = 24
    asn_before_delivery: StrictBool = True
    quantity_tolerance_percent: Percent = Decimal(0)
    price_tolerance_percent: Percent = Decimal(0)
    amount_tolerance: Annotated[Decimal, Field(ge=0)] = Decimal("0.01")


ACKNOWLEDGMENT_TYPES: frozenset[str] = frozenset({"997", "999", "CONTRL", "APERAK"})

# The canonical record kinds (``translators.records.RECORD_MODELS``: partners may not
# import the translators, and tests/partners/test_retention.py pins the two equal).
RECORD_KINDS: frozenset[str] = frozenset({
    "purchase_order", "purchase_order_change", "order_response", "invoice", "ship_notice",
    "inventory_report", "planning_schedule", "product_activity", "functional_ack"})
# What a retention period may be given for: a record kind, a final message status
# (lower case), or ``default`` (a message none of whose keys has a period).
RETENTION_KEYS: frozenset[str] = RECORD_KINDS | frozenset({
    "processed", "rejected", "failed", "generated", "held", "default"})


def _retention_key(value: str) -> str:
    if value not in RETENTION_KEYS:
        close = difflib.get_close_matches(value, sorted(RETENTION_KEYS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _problem(f"{value!r} is no record kind, final status or 'default'{hint}",
                       key=value)
    return value


RetentionKey = Annotated[StrictStr, AfterValidator(_retention_key)]
# Days a message is kept after it was received; at most a hundred years.
RetentionDays = Annotated[int, Field(strict=True, ge=1, le=36500)]


GuidePath = Annotated[StrictStr, _pattern(
    r"[^/\\].*\.(toml|json)", "must be a relative path to a .toml or .json guide file")]


class PartnerProfile(_Model):
    """One trading partner, as one reviewed TOML file describes it."""

    id: PartnerId
    name: Name
    active: StrictBool = True
    transactions: Annotated[tuple[TransactionType, ...], AfterValidator(_no_duplicates)] = ()
    x12: X12Profile | None = None
    edifact: EDIFACTProfile | None = None
    as2: AS2Profile | None = None
    https: HTTPSProfile | None = None
    sftp: SFTPProfile | None = None
    sftp_inbox: SFTPInboxProfile | None = None
    delivery: DeliveryHints = DeliveryHints()
    validation: ValidationOptions = ValidationOptions()
    outbound: OutboundOptions = OutboundOptions()
    orders: OrderRules = OrderRules()
    # ``[retention]``: days to keep this partner's messages per record kind, final status
    # or ``default`` (e.g. ``invoice = 2555``, ``rejected = 30``), over the gateway's
    # EDIGATE_RETENTION key by key (gateway.retention has the rule).
    retention: dict[RetentionKey, RetentionDays] = Field(default_factory=dict)
    # Document type -> implementation guide file (TOML or JSON), relative to the profile.
    guides: dict[TransactionType, GuidePath] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> PartnerProfile:
        if self.x12 is None and self.edifact is None:
            raise _problem(
                "a profile needs an [x12] or an [edifact] table (or both)", key="x12/edifact"
            )
        if self.outbound.standard is not None and getattr(self, self.outbound.standard) is None:
            raise _problem(f"{self.outbound.standard} documents need an [{self.outbound.standard}]"
                           " table", key="outbound.standard")
        for index, code in enumerate(self.transactions):
            if code.isdigit() and self.x12 is None:
                raise _problem(
                    f"{code} is an X12 transaction set but the profile has no [x12] table",
                    key=f"transactions[{index}]",
                )
            if code.isalpha() and self.edifact is None:
                raise _problem(
                    f"{code} is an EDIFACT message but the profile has no [edifact] table",
                    key=f"transactions[{index}]",
                )
        return self

    @property
    def sftp_login(self) -> str | None:
        """The user name the partner logs in to edigate's SFTP server as (``[sftp_inbox]
        user``, else the partner id), or None without an ``[sftp_inbox]``."""
        if self.sftp_inbox is None:
            return None
        return self.sftp_inbox.user or self.id

    @property
    def outbound_standard(self) -> Literal["x12", "edifact"]:
        """The standard edigate writes this partner's outbound documents in."""
        if self.outbound.standard is not None:
            return self.outbound.standard
        return "x12" if self.x12 is not None else "edifact"

    @property
    def outbound_x12_version(self) -> Literal["004010", "005010"]:
        """GS08 of outbound X12: ``[outbound] x12_version``, else the ``[x12]`` version
        when edigate writes it, else 005010."""
        if self.outbound.x12_version is not None:
            return self.outbound.x12_version
        version = self.x12.version if self.x12 is not None else None
        return "004010" if version == "004010" else "005010"

    def accepts(self, transaction: str) -> bool:
        """Whether inbound ``transaction`` (ST01 or UNH 0065) is allowed; empty list: any.

        Acknowledgments (997, 999, CONTRL, APERAK) answer what this gateway sent and are
        always accepted, whatever ``transactions`` lists.
        """
        return (not self.transactions or transaction in self.transactions
                or transaction in ACKNOWLEDGMENT_TYPES)


# -- turning pydantic's errors into "key.path: message" -------------------------------------

_TYPE_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table",
}


def describe_validation_error(error: ValidationError, root: type[BaseModel] | None = None
                              ) -> list[tuple[str, str]]:
    """Every error in ``error`` (from validating ``root``, a ``PartnerProfile`` unless
    named) as (key path, message)."""
    found: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        ctx: Mapping[str, Any] = item.get("ctx") or {}
        key = _key_path(loc, str(ctx.get("key", "")) if item["type"] == _ERROR else "")
        found.append((key, _message(item["type"], item["msg"], ctx, loc, item.get("input"),
                                    root or PartnerProfile)))
    return found


def _key_path(loc: Sequence[int | str], extra: str) -> str:
    parts: list[str] = []
    for step in loc:
        if step == "[key]":
            continue  # pydantic's marker for a dict key that failed: the key is the place
        if isinstance(step, int) and parts:
            parts[-1] += f"[{step}]"
        else:
            parts.append(str(step))
    if extra.startswith("[") and parts:
        parts[-1] += extra  # a list position: public_keys[1]
    elif extra:
        parts.append(extra)
    return ".".join(parts)


def _message(
    kind: str, default: str, ctx: Mapping[str, Any], loc: Sequence[int | str], value: object,
    root: type[BaseModel],
) -> str:
    if kind == "extra_forbidden":
        return _unknown_key(loc, root)
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        text = f"must be one of {', '.join(choices)}"
    elif kind == "string_too_short":
        text = "must not be empty"
    elif kind == "string_too_long":
        text = f"must be at most {ctx.get('max_length')} characters"
    elif kind == "too_short":
        text = "must not be empty"
    elif kind == _ERROR:
        text = default
    else:
        text = _TYPE_MESSAGES.get(kind, default)
    if kind != "missing" and isinstance(value, str | int | float | bool):
        shown = repr(value)
        text += f" (got {shown if len(shown) <= 40 else shown[:37] + '...'})"
    return text


def _unknown_key(loc: Sequence[int | str], root: type[BaseModel]) -> str:
    model = _model_at(loc[:-1], root)
    if model is None:
        return "unknown key"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key (allowed here: {', '.join(allowed)})"


def _model_at(loc: Sequence[int | str], root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class validating the table at ``loc`` inside ``root``, if one does."""
    model: type[BaseModel] = root
    for step in loc:
        if isinstance(step, int):
            continue
        field = model.model_fields.get(step)
        if field is None:
            return None
        found = _model_in(field.annotation)
        if found is None:
            return None
        model = found
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType, tuple, Annotated):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
