"""AS2 messages (RFC 4130): unwrap an inbound request into payload + evidence, wrap an outbound one.

``unwrap`` takes the HTTP headers and body of an AS2 POST and peels the layers in the order
RFC 4130 §5 and RFC 5402 allow — encrypted → (compressed) → signed → (compressed) → content —
checking each against the partner's agreed security (:class:`PartnerSecurity`). It returns
the payload and the evidence the gateway records (signer, algorithms, the MIC to return in
the MDN), or raises :class:`AS2Failure` carrying the RFC 4130 disposition modifier for the
MDN. ``wrap`` builds the inverse.

It must not: do HTTP, look up partners, store anything or build MDNs (see ``mdn``); touch
``cryptography.hazmat`` or ASN.1 (see ``cms``); re-serialise received MIME (see ``mime``).
On bad input ``unwrap`` raises AS2Failure and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal

from cryptography import x509

from gateway.as2 import cms, mime
from gateway.as2.cms import (
    ContentCipher,
    DigestAlgorithm,
    KeyTransport,
    PrivateKey,
    SignatureScheme,
)

__all__ = [
    "MAX_MESSAGE_ID",
    "MIC",
    "AS2Failure",
    "AS2HeaderError",
    "AS2Identity",
    "Addressing",
    "InboundAS2",
    "MDNRequest",
    "OutboundAS2",
    "PartnerSecurity",
    "SignerEvidence",
    "format_as2_name",
    "parse_as2_name",
    "parse_mdn_request",
    "read_addressing",
    "unwrap",
    "wrap",
]

AS2_VERSION = "1.2"  # RFC 5402 §3: 1.2 announces support for compression
MAX_LAYERS = 5
"""encrypted, compressed, signed, compressed, content: anything deeper is refused."""

MAX_AS2_NAME = 128
"""RFC 4130 §6.2: an AS2 name is 1 to 128 printable ASCII characters."""
MAX_MESSAGE_ID = 253
"""Characters of a Message-ID without its angle brackets: 255 with them, what AS2 products
commonly accept and what the ``as2_messages`` column holds."""

_PKCS7_MIME = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_PKCS7_SIGNATURE = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature"})

# RFC 4130 §7.4.3 and the AS2-disposition-modifier grammar of §7.5.3.
FailureModifier = Literal[
    "authentication-failed",
    "decompression-failed",
    "decryption-failed",
    "insufficient-message-security",
    "integrity-check-failed",
    "unexpected-processing-error",
    "unsupported format",
    "unsupported MIC-algorithms",
    "sender-equals-receiver",
]
_FAILURE_KIND_MODIFIERS = frozenset(
    {"unsupported format", "unsupported MIC-algorithms", "sender-equals-receiver"}
)


# ---------------------------------------------------------------------------------------------
# Configuration and evidence types


@dataclass(frozen=True)
class AS2Identity:
    """Our side of an AS2 relationship: our AS2 name, the RSA key and its certificate."""

    as2_id: str
    key: PrivateKey
    certificate: x509.Certificate


@dataclass(frozen=True)
class PartnerSecurity:
    """What a partner agreed to, filled by the caller from the partner's ``[as2]`` table.

    ``certificates``: all certificates that may sign for the partner (several during a
    rollover). ``sign``: accepted signature digests (``sha1``, ``sha256``, ``sha384``,
    ``sha512``, either spelling). ``encrypt``: accepted content ciphers (``aes128-cbc``,
    ``aes192-cbc``, ``aes256-cbc``, ``aes128-gcm``, ``aes256-gcm``, ``3des``); ``3des``
    counts only when ``allow_3des`` is also true.
    """

    as2_id: str
    certificates: tuple[x509.Certificate, ...]
    sign: tuple[str, ...] = ("sha256", "sha384", "sha512")
    encrypt: tuple[str, ...] = (
        "aes128-cbc",
        "aes192-cbc",
        "aes256-cbc",
        "aes128-gcm",
        "aes256-gcm",
    )
    allow_3des: bool = False
    require_signed: bool = True
    require_encrypted: bool = True

    def accepted_digests(self) -> frozenset[DigestAlgorithm]:
        """The ``sign`` list as enum members; unknown names are ignored (profiles validate)."""
        found = (DigestAlgorithm.from_name(name) for name in self.sign)
        return frozenset(d for d in found if d is not None)

    def accepted_ciphers(self) -> frozenset[ContentCipher]:
        """The ``encrypt`` list as enum members, without 3DES unless ``allow_3des``."""
        found = (ContentCipher.from_name(name) for name in self.encrypt)
        return frozenset(
            c
            for c in found
            if c is not None and (c is not ContentCipher.TDES_CBC or self.allow_3des)
        )


class AS2Failure(Exception):
    """An inbound message refused; ``modifier`` is the RFC 4130 §7.4.3 disposition modifier.

    ``kind`` is ``"error"`` (``processed/error: <modifier>``) or ``"failure"``
    (``failed/failure: <modifier>``, RFC 4130 §7.5.3). ``description`` names the cause and
    where it was found, for the MDN's human-readable part and the log. ``message_id`` is the
    inbound Message-ID when it was readable, so the caller can still address an MDN.
    """

    def __init__(
        self,
        modifier: FailureModifier,
        description: str,
        *,
        message_id: str | None = None,
    ) -> None:
        super().__init__(f"{modifier}: {description}")
        self.modifier: FailureModifier = modifier
        self.description = description
        self.message_id = message_id
        self.kind: Literal["error", "failure"] = (
            "failure" if modifier in _FAILURE_KIND_MODIFIERS else "error"
        )

    @property
    def disposition(self) -> str:
        """Disposition type and modifier for the MDN: ``processed/error: decryption-failed``."""
        if self.kind == "failure":
            return f"failed/failure: {self.modifier}"
        return f"processed/error: {self.modifier}"


class AS2HeaderError(ValueError):
    """An AS2-From or Message-ID that an MDN cannot answer: missing, or not what RFC 4130
    §6.2 and RFC 5322 §3.6.4 allow (a receipt has to repeat both, as AS2-To and
    Original-Message-ID). ``header`` names the field; the message says what is wrong
    without repeating the raw value's bytes.
    """

    def __init__(self, header: str, description: str) -> None:
        super().__init__(f"{header}: {description}")
        self.header = header
        self.description = description


@dataclass(frozen=True)
class MIC:
    """A Received-Content-MIC (RFC 4130 §7.3.1): base64 digest and the algorithm as spelled."""

    value: str
    algorithm: str

    @property
    def digest(self) -> DigestAlgorithm | None:
        """The algorithm as an enum member (either spelling), or None if unknown."""
        return DigestAlgorithm.from_name(self.algorithm)

    def matches(self, other: MIC | None) -> bool:
        """Same digest bytes under the same algorithm, whatever the spelling or base64 padding."""
        if other is None or self.digest is None or self.digest is not other.digest:
            return False
        try:
            ours = base64.b64decode(self.value.strip(), validate=True)
            theirs = base64.b64decode(other.value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(ours, theirs)

    def header_value(self) -> str:
        """``<base64>, <algorithm>`` as the Received-Content-MIC field writes it."""
        return f"{self.value}, {self.algorithm}"


@dataclass(frozen=True)
class MDNRequest:
    """What the sender asked for in Disposition-Notification-To/-Options (RFC 4130 §7.3).

    ``signed``: ``signed-receipt-protocol`` names ``pkcs7-signature``; ``signed_required``:
    its importance is ``required``. ``micalgs``: ``signed-receipt-micalg`` values as
    spelled. ``async_url``: Receipt-Delivery-Option (asynchronous MDN), None for synchronous.
    """

    to: str
    signed: bool = False
    micalgs: tuple[str, ...] = ()
    async_url: str | None = None
    signed_required: bool = False
    micalg_required: bool = False

    def header_fields(self) -> list[tuple[str, str]]:
        """The request headers for an outbound message."""
        fields = [("Disposition-Notification-To", self.to)]
        if self.signed:
            importance = "required" if self.signed_required else "optional"
            micalgs = ", ".join(self.micalgs or ("sha-256",))
            micalg_importance = "required" if self.micalg_required else "optional"
            fields.append(
                (
                    "Disposition-Notification-Options",
                    f"signed-receipt-protocol={importance}, pkcs7-signature; "
                    f"signed-receipt-micalg={micalg_importance}, {micalgs}",
                )
            )
        if self.async_url:
            fields.append(("Receipt-Delivery-Option", self.async_url))
        return fields

    def mic_algorithm(self) -> tuple[DigestAlgorithm, str] | None:
        """The first requested MIC algorithm we support, with the sender's spelling."""
        for spelled in self.micalgs:
            digest = DigestAlgorithm.from_name(spelled)
            if digest is not None:
                return digest, spelled
        return None


@dataclass(frozen=True)
class SignerEvidence:
    """Who signed an inbound message and how, for the ledger."""

    certificate_sha256: str
    subject: str
    serial: str
    digest_algorithm: str
    signature_algorithm: str
    signing_time: datetime | None


@dataclass(frozen=True)
class InboundAS2:
    """An unwrapped inbound AS2 message: the payload and the evidence of how it came."""

    message_id: str
    as2_from: str
    as2_to: str
    subject: str | None
    payload: bytes
    payload_content_type: str
    filename: str | None
    signed: bool
    encrypted: bool
    compressed: bool
    compressed_before_signing: bool | None
    encryption_algorithm: str | None
    key_transport: str | None
    signer: SignerEvidence | None
    mic: MIC
    mdn_request: MDNRequest | None


@dataclass(frozen=True)
class OutboundAS2:
    """A wrapped outbound message: HTTP headers and body, and the MIC the MDN must return."""

    message_id: str
    headers: dict[str, str]
    body: bytes
    mic: MIC


# ---------------------------------------------------------------------------------------------
# Header helpers


def parse_as2_name(value: str) -> str:
    """AS2-From/AS2-To value without its quotes (RFC 4130 §6.2: as2-name may be a quoted-string)."""
    value = value.strip(" \t")  # RFC 9110 §5.5: optional white space is SP and HTAB only
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _describe(value: str, limit: int) -> str:
    """Why ``value`` is not 1..limit printable ASCII characters (empty when it is)."""
    if not value:
        return "is empty"
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit} are allowed"
    for index, char in enumerate(value):
        if not " " <= char <= "~":
            kind = "a control character" if ord(char) < 32 or ord(char) == 127 else \
                "a non-ASCII character"
            return f"holds {kind} (U+{ord(char):04X}) at character {index + 1}"
    return ""


@dataclass(frozen=True)
class Addressing:
    """The headers an MDN answers with, checked: the sender's AS2 name (unquoted) and the
    Message-ID (without angle brackets)."""

    as2_from: str
    message_id: str


def read_addressing(headers: Mapping[str, str]) -> Addressing:
    """AS2-From and Message-ID of an inbound request, or :class:`AS2HeaderError`.

    RFC 4130 §6 makes both mandatory; §6.2 limits AS2 names to 1-128 printable ASCII
    characters, and a Message-ID (RFC 5322 §3.6.4) is visible ASCII without spaces. A
    request failing this cannot be answered with a receipt (its AS2-To and
    Original-Message-ID would repeat the bad value), and nothing from it may reach the
    database as an identifier.
    """
    fields = mime.Headers.of(headers)
    raw_from = fields.get("as2-from")
    if raw_from is None:
        raise AS2HeaderError("AS2-From", "is missing (RFC 4130 §6 requires it)")
    as2_from = parse_as2_name(raw_from)
    problem = _describe(as2_from, MAX_AS2_NAME)
    if problem:
        raise AS2HeaderError("AS2-From", f"{problem} (RFC 4130 §6.2: 1-{MAX_AS2_NAME} "
                             "printable ASCII characters)")
    return Addressing(as2_from=as2_from, message_id=_check_message_id(fields.get("message-id")))


def _check_message_id(raw: str | None) -> str:
    """The Message-ID without angle brackets, or AS2HeaderError saying what is wrong."""
    if raw is None:
        raise AS2HeaderError("Message-ID", "is missing (RFC 4130 §6 requires it)")
    message_id = _strip_angle(raw)
    problem = _describe(message_id, MAX_MESSAGE_ID)
    if not problem and (" " in message_id or "<" in message_id or ">" in message_id):
        problem = "holds a space or an angle bracket inside"
    if problem:
        raise AS2HeaderError("Message-ID", f"{problem} (visible ASCII, at most "
                             f"{MAX_MESSAGE_ID} characters between the angle brackets)")
    return message_id


def format_as2_name(name: str) -> str:
    """Quote an AS2 name when it holds a space, quote or backslash (RFC 4130 §6.2)."""
    if not 1 <= len(name) <= 128 or not name.isascii() or not name.isprintable():
        raise ValueError(f"AS2 name must be 1 to 128 printable ASCII characters: {name!r}")
    if re.search(r'[ "\\]', name):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def _strip_angle(message_id: str) -> str:
    return message_id.strip(" \t").removeprefix("<").removesuffix(">").strip(" \t")


_MICALG_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def parse_mdn_request(headers: Mapping[str, str]) -> MDNRequest | None:
    """Read the MDN request from the headers alone (so an error MDN can go out for a garbage body).

    Returns None when no Disposition-Notification-To is present. Never raises on odd values:
    unknown options are ignored (RFC 3798 §2.2).
    """
    fields = mime.Headers.of(headers)
    to = fields.get("disposition-notification-to")
    if to is None:
        return None
    signed = signed_required = micalg_required = False
    micalgs: tuple[str, ...] = ()
    options = fields.get("disposition-notification-options") or ""
    # RFC 3798 §2.2: parameter=importance, value[, value...]; parameters separated by ';'
    for option in options.split(";"):
        name, _, rest = option.partition("=")
        values = [v.strip() for v in rest.split(",")]
        importance, values = values[0].lower(), [v for v in values[1:] if v]
        key = name.strip().lower()
        if key == "signed-receipt-protocol":
            signed = any(v.lower() == "pkcs7-signature" for v in values)
            signed_required = importance == "required"
        elif key == "signed-receipt-micalg":
            # Only token spellings: the chosen one is written back into the MDN's micalg
            # and Received-Content-MIC, which must stay printable ASCII.
            micalgs = tuple(v for v in values if _MICALG_TOKEN.fullmatch(v))
            micalg_required = importance == "required"
    url = (fields.get("receipt-delivery-option") or "").strip() or None
    return MDNRequest(
        to=to.strip(),
        signed=signed,
        micalgs=micalgs,
        async_url=url,
        signed_required=signed_required,
        micalg_required=micalg_required,
    )


# ---------------------------------------------------------------------------------------------
# unwrap


def unwrap(
    headers: Mapping[str, str],
    body: bytes,
    *,
    ours: AS2Identity,
    partner: PartnerSecurity,
    max_size: int,
    at: datetime | None = None,
) -> InboundAS2:
    """Unwrap one inbound AS2 message (HTTP request headers, raw body) sent by ``partner`` to us.

    ``max_size`` bounds the body, every decoded layer and the decompressed size. ``at`` is
    the moment certificate validity is checked for (now by default). Raises
    :class:`AS2Failure` — and nothing else — for any bad input.
    """
    fields = mime.Headers.of(headers)
    unwrapper = _Unwrapper(fields, ours=ours, partner=partner, max_size=max_size, at=at)
    try:
        return unwrapper.run(body)
    except AS2Failure:
        raise
    except (mime.MIMEError, cms.CMSError) as exc:
        # Every layer maps its own errors; this is the net for one that slipped through.
        raise unwrapper.fail("unexpected-processing-error", str(exc)) from exc


class _Unwrapper:
    """The state of one unwrap: peels layers and remembers what each proved."""

    def __init__(
        self,
        fields: mime.Headers,
        *,
        ours: AS2Identity,
        partner: PartnerSecurity,
        max_size: int,
        at: datetime | None,
    ) -> None:
        self.fields = fields
        self.ours = ours
        self.partner = partner
        self.max_size = max_size
        self.moment = at or datetime.now(UTC)
        # An unusable Message-ID is refused in run(); until then failures carry none.
        self.header_problem: AS2HeaderError | None = None
        try:
            self.message_id = _check_message_id(fields.get("message-id"))
        except AS2HeaderError as exc:
            self.message_id = ""
            self.header_problem = exc
        self.path: list[str] = []
        self.decrypted: cms.Decrypted | None = None
        self.compressed = False
        self.compressed_before_signing: bool | None = None
        self.signature: cms.SignerInfoSummary | None = None
        self.signed_bytes: bytes | None = None

    def fail(self, modifier: FailureModifier, description: str) -> AS2Failure:
        """An AS2Failure for this message (the caller raises it)."""
        return AS2Failure(modifier, description, message_id=self.message_id or None)

    def where(self, layer: str) -> str:
        """Where a layer is, for descriptions: ``application/pkcs7-mime > multipart/signed``."""
        return " > ".join([*self.path, layer])

    def run(self, body: bytes) -> InboundAS2:
        fields, partner = self.fields, self.partner
        # RFC 4130 §6: Message-ID, AS2-From and AS2-To are mandatory.
        if self.header_problem is not None:
            raise self.fail("unexpected-processing-error", str(self.header_problem))
        as2_from = parse_as2_name(fields.get("as2-from") or "")
        as2_to = parse_as2_name(fields.get("as2-to") or "")
        if not as2_from or not as2_to:
            raise self.fail(
                "unexpected-processing-error", "the AS2-From or AS2-To header is missing"
            )
        # RFC 4130 §6.2: AS2 names compare case-sensitively.
        if as2_from == as2_to:
            raise self.fail("sender-equals-receiver", f"AS2-From and AS2-To are both {as2_from!r}")
        if as2_to != self.ours.as2_id:
            raise self.fail(
                "unexpected-processing-error",
                f"AS2-To {as2_to!r} is not our AS2 name {self.ours.as2_id!r}",
            )
        if as2_from != partner.as2_id:
            raise self.fail(
                "authentication-failed", f"AS2-From {as2_from!r} is not partner {partner.as2_id!r}"
            )
        if len(body) > self.max_size:
            raise self.fail(
                "unexpected-processing-error",
                f"body of {len(body)} bytes exceeds the limit of {self.max_size}",
            )
        mdn_request = parse_mdn_request(fields)

        # The HTTP Content-Type (+ Content-Transfer-Encoding) and the body form the first entity.
        entity = mime.Entity(headers=fields, body=body, raw=body)
        for depth in range(MAX_LAYERS + 1):
            try:
                content_type = entity.content_type
            except mime.MIMEError as exc:
                raise self.fail("unexpected-processing-error", f"{self.where('?')}: {exc}") from exc
            layer = content_type.mime_type
            if depth == 0 and partner.require_encrypted and layer not in _PKCS7_MIME:
                raise self.fail(
                    "insufficient-message-security",
                    f"{layer}: partner {partner.as2_id!r} must encrypt, "
                    "but the message is not encrypted",
                )
            if layer in _PKCS7_MIME:
                entity = self.peel_pkcs7_mime(entity, content_type, depth)
            elif layer == "multipart/signed":
                entity = self.peel_signed(entity, content_type)
            else:
                break
            self.path.append(layer)
        else:
            raise self.fail("unexpected-processing-error", f"more than {MAX_LAYERS} MIME layers")

        where = self.where(layer)
        if partner.require_signed and self.signature is None:
            raise self.fail(
                "insufficient-message-security",
                f"{where}: partner {partner.as2_id!r} must sign, but the message is not signed",
            )
        try:
            payload = entity.decoded_body()
        except mime.MIMEError as exc:
            raise self.fail("unexpected-processing-error", f"{where}: payload {exc}") from exc
        if len(payload) > self.max_size:
            raise self.fail(
                "unexpected-processing-error",
                f"{where}: payload exceeds the limit of {self.max_size} bytes",
            )
        mic = self.received_mic(entity, mdn_request, where)
        disposition = entity.headers.get("content-disposition")
        filename = mime.parse_parameters(disposition)[1].get("filename") if disposition else None
        return InboundAS2(
            message_id=self.message_id,
            as2_from=as2_from,
            as2_to=as2_to,
            subject=fields.get("subject"),
            payload=payload,
            payload_content_type=entity.headers.get("content-type") or "text/plain",
            filename=filename,
            signed=self.signature is not None,
            encrypted=self.decrypted is not None,
            compressed=self.compressed,
            compressed_before_signing=(
                self.compressed_before_signing if self.signature and self.compressed else None
            ),
            encryption_algorithm=self.decrypted.cipher.value if self.decrypted else None,
            key_transport=self.decrypted.key_transport.value if self.decrypted else None,
            signer=self.signer_evidence(),
            mic=mic,
            mdn_request=mdn_request,
        )

    def peel_pkcs7_mime(
        self, entity: mime.Entity, content_type: mime.ContentType, depth: int
    ) -> mime.Entity:
        """Decrypt or decompress one application/pkcs7-mime layer."""
        where = self.where(content_type.mime_type)
        try:
            der = entity.decoded_body()
        except mime.MIMEError as exc:
            raise self.fail("unexpected-processing-error", f"{where}: {exc}") from exc
        smime_type = (content_type.param("smime-type") or "").lower()
        # RFC 5751 §3.2.2 smime-type names; sniff the DER when the parameter is absent.
        kind = {
            "enveloped-data": "enveloped_data",
            "authenveloped-data": "authenticated_enveloped_data",
            "compressed-data": "compressed_data",
            "signed-data": "signed_data",
        }.get(smime_type) or cms.cms_content_type(der)
        if kind == "enveloped_data" and cms.cms_content_type(der) == "authenticated_enveloped_data":
            kind = "authenticated_enveloped_data"  # some senders label GCM as enveloped-data
        if kind in ("enveloped_data", "authenticated_enveloped_data"):
            where = f"{where} ({smime_type or kind})"
            if depth != 0:
                raise self.fail(
                    "unexpected-processing-error",
                    f"{where}: encryption is only accepted as the outermost layer",
                )
            try:
                self.decrypted = cms.decrypt(
                    der,
                    key=self.ours.key,
                    certificate=self.ours.certificate,
                    allowed=self.partner.accepted_ciphers(),
                )
            except cms.AlgorithmNotAllowedError as exc:
                raise self.fail("insufficient-message-security", f"{where}: {exc}") from exc
            except cms.CMSError as exc:
                raise self.fail("decryption-failed", f"{where}: {exc}") from exc
            inner = self.decrypted.content
            modifier: FailureModifier = "decryption-failed"
        elif kind == "compressed_data":
            where = f"{where} (compressed-data)"
            if self.compressed:
                raise self.fail("unexpected-processing-error", f"{where}: compressed twice")
            try:
                inner = cms.decompress(der, max_size=self.max_size)
            except cms.CMSError as exc:
                # RFC 5402 §4, RFC 4130 §7.5.3 "decompression-failed"
                raise self.fail("decompression-failed", f"{where}: {exc}") from exc
            self.compressed = True
            # Met after the signature was peeled -> it was compressed before signing (RFC 5402).
            self.compressed_before_signing = self.signature is not None
            modifier = "decompression-failed"
        elif kind == "signed_data":
            raise self.fail(
                "unsupported format",
                f"{where}: opaque signed-data is not AS2; RFC 4130 §5.2 uses multipart/signed",
            )
        else:
            raise self.fail(
                "unexpected-processing-error",
                f"{where}: the body is not a CMS enveloped-data or compressed-data structure",
            )
        try:
            return mime.parse_entity(inner, where=f"{where} content")
        except mime.MIMEError as exc:
            raise self.fail(modifier, f"{exc}: the unwrapped bytes are not a MIME entity") from exc

    def peel_signed(self, entity: mime.Entity, content_type: mime.ContentType) -> mime.Entity:
        """Verify one multipart/signed layer (RFC 1847 §2.1, RFC 5751 §3.5.3)."""
        where = self.where(content_type.mime_type)
        if self.signature is not None:
            raise self.fail("unexpected-processing-error", f"{where}: signed twice")
        protocol = (content_type.param("protocol") or "").lower()
        if protocol and protocol not in _PKCS7_SIGNATURE:
            raise self.fail(
                "authentication-failed", f"{where}: signature protocol {protocol!r} is not PKCS #7"
            )
        try:
            parts = mime.split_multipart(
                entity.body, content_type.param("boundary") or "", where=where
            )
        except mime.MIMEError as exc:
            # A signed body without its closing boundary cannot be checked for integrity.
            raise self.fail("integrity-check-failed", str(exc)) from exc
        if len(parts) != 2:
            raise self.fail(
                "integrity-check-failed",
                f"{where}: {len(parts)} body part(s); RFC 1847 §2.1 requires exactly 2",
            )
        try:
            signed_entity = mime.parse_entity(parts[0], where=f"{where} part 1")
            signature_entity = mime.parse_entity(parts[1], where=f"{where} part 2")
            signature_type = signature_entity.content_type.mime_type
            signature = signature_entity.decoded_body()
        except mime.MIMEError as exc:
            raise self.fail("integrity-check-failed", str(exc)) from exc
        if signature_type not in _PKCS7_SIGNATURE:
            raise self.fail(
                "authentication-failed",
                f"{where} part 2: {signature_type} is not a PKCS #7 signature",
            )
        try:
            # RFC 4130 §7.3.1, RFC 1847 §2.1: the signature covers part 1 byte for byte, as
            # received; the micalg parameter is advisory, the SignerInfo names the digest.
            self.signature = cms.verify_detached(
                signature,
                parts[0],
                certificates=self.partner.certificates,
                allowed_digests=self.partner.accepted_digests(),
                at=self.moment,
            )
        except cms.ContentDigestMismatchError as exc:
            # RFC 4130 §7.4.3: the signer is known but the content is not what was signed —
            # "the receiver could not verify content integrity".
            raise self.fail("integrity-check-failed", f"{where}: {exc}") from exc
        except cms.AlgorithmNotAllowedError as exc:
            raise self.fail("insufficient-message-security", f"{where}: {exc}") from exc
        except cms.CMSError as exc:
            # Unknown signer, forged or unreadable signature, certificate outside its validity:
            # "the receiver could not authenticate the sender".
            raise self.fail("authentication-failed", f"{where}: {exc}") from exc
        self.signed_bytes = parts[0]
        return signed_entity

    def received_mic(self, entity: mime.Entity, request: MDNRequest | None, where: str) -> MIC:
        """The MIC to return in the MDN, over the bytes RFC 4130 §7.3.1 names."""
        chosen = request.mic_algorithm() if request else None
        if chosen is None:
            if request is not None and request.micalgs and request.micalg_required:
                raise self.fail(
                    "unsupported MIC-algorithms",
                    f"{where}: none of the requested MIC algorithms "
                    f"({', '.join(request.micalgs)}) is supported",
                )
            digest = self.signature.digest if self.signature else DigestAlgorithm.SHA256
            chosen = (digest, digest.value)
        digest, spelled = chosen
        # RFC 4130 §7.3.1: signed -> the signed entity (headers and content) as received;
        # encrypted, unsigned -> the decrypted (and decompressed) entity, headers included;
        # neither -> the content without its MIME headers.
        if self.signed_bytes is not None:
            covered = self.signed_bytes
        elif self.decrypted is not None:
            covered = entity.raw
        else:
            covered = entity.body
        return MIC(value=cms.compute_mic(covered, digest), algorithm=spelled)

    def signer_evidence(self) -> SignerEvidence | None:
        """The signer for the ledger, if the message was signed."""
        if self.signature is None:
            return None
        certificate = self.signature.certificate
        return SignerEvidence(
            certificate_sha256=cms.certificate_sha256(certificate),
            subject=certificate.subject.rfc4514_string(),
            serial=f"{certificate.serial_number:x}",
            digest_algorithm=self.signature.digest.value,
            signature_algorithm=self.signature.scheme.value,
            signing_time=self.signature.signing_time,
        )


# ---------------------------------------------------------------------------------------------
# wrap

TransferEncoding = Literal["binary", "base64"]


def _encode(body: bytes, transfer_encoding: TransferEncoding) -> bytes:
    return mime.encode_base64(body) if transfer_encoding == "base64" else body


def _pkcs7_mime_entity(
    der: bytes, smime_type: str, name: str, te: TransferEncoding
) -> tuple[list[tuple[str, str]], bytes]:
    headers = [
        (
            "Content-Type",
            mime.format_parameters(
                "application/pkcs7-mime", [("smime-type", smime_type), ("name", name)]
            ),
        ),
        ("Content-Transfer-Encoding", te),
        ("Content-Disposition", mime.format_parameters("attachment", [("filename", name)])),
    ]
    return headers, _encode(der, te)


def wrap(
    payload: bytes,
    *,
    content_type: str,
    filename: str | None,
    ours: AS2Identity,
    partner_as2_id: str,
    partner_certificate: x509.Certificate | None,
    sign: str | None,
    encrypt: str | None,
    compress: bool,
    compress_before_signing: bool = True,
    transfer_encoding: TransferEncoding = "binary",
    mdn: MDNRequest | None = None,
    message_id: str | None = None,
    subject: str = "AS2 message",
    signature_scheme: SignatureScheme = SignatureScheme.PKCS1V15,
    key_transport: KeyTransport = KeyTransport.PKCS1V15,
    at: datetime | None = None,
) -> OutboundAS2:
    """Build an outbound AS2 message: content → (compress) → sign → (compress) → encrypt.

    ``sign`` is a digest name (``sha256`` or ``sha-256``; the spelling is used as the
    multipart/signed ``micalg``) or None; ``encrypt`` a cipher name (see
    :class:`PartnerSecurity`) or None and then needs ``partner_certificate``.
    ``compress_before_signing`` chooses RFC 5402's order. The returned ``mic`` is what the
    partner's MDN must carry, computed as RFC 4130 §7.3.1 says for this shape of message.
    Raises ValueError for a configuration that cannot be built (these are our settings,
    not partner input).
    """
    digest = DigestAlgorithm.from_name(sign) if sign else None
    if sign and digest is None:
        raise ValueError(f"unknown signature digest {sign!r}")
    cipher = ContentCipher.from_name(encrypt) if encrypt else None
    if encrypt and cipher is None:
        raise ValueError(f"unknown content cipher {encrypt!r}")
    if cipher is not None and partner_certificate is None:
        raise ValueError("encryption needs the partner's certificate")
    if transfer_encoding not in ("binary", "base64"):
        raise ValueError(f"transfer encoding must be binary or base64, not {transfer_encoding!r}")
    moment = at or datetime.now(UTC)

    content_headers = [
        ("Content-Type", content_type),
        ("Content-Transfer-Encoding", transfer_encoding),
    ]
    if filename:
        content_headers.append(
            ("Content-Disposition", mime.format_parameters("attachment", [("filename", filename)]))
        )
    content_raw = mime.build_entity(content_headers, _encode(payload, transfer_encoding))
    content_body = _encode(payload, transfer_encoding)
    headers, body = content_headers, content_body
    raw = content_raw

    if compress and compress_before_signing:
        headers, body = _pkcs7_mime_entity(
            cms.compress(raw), "compressed-data", "smime.p7z", transfer_encoding
        )
        raw = mime.build_entity(headers, body)

    signed_raw: bytes | None = None
    if digest is not None and sign is not None:
        signature = cms.sign_detached(
            raw,
            key=ours.key,
            certificate=ours.certificate,
            digest=digest,
            scheme=signature_scheme,
            signing_time=moment,
        )
        signed_raw = raw
        content_type, body = mime.multipart_signed(raw, signature, sign)
        headers = [("Content-Type", content_type)]
        raw = mime.build_entity(headers, body)

    if compress and not compress_before_signing:
        headers, body = _pkcs7_mime_entity(
            cms.compress(raw), "compressed-data", "smime.p7z", transfer_encoding
        )
        raw = mime.build_entity(headers, body)

    if cipher is not None and partner_certificate is not None:
        der = cms.encrypt(
            raw, recipient=partner_certificate, cipher=cipher, key_transport=key_transport
        )
        smime_type = "authEnveloped-data" if cipher.is_aead else "enveloped-data"
        headers, body = _pkcs7_mime_entity(der, smime_type, "smime.p7m", transfer_encoding)

    # The MIC the MDN must return (RFC 4130 §7.3.1), by the same rule unwrap uses.
    chosen = mdn.mic_algorithm() if mdn else None
    if chosen is None:
        fallback = digest or DigestAlgorithm.SHA256
        chosen = (fallback, fallback.value)
    if signed_raw is not None:
        covered = signed_raw
    elif cipher is not None:
        covered = content_raw
    else:
        covered = content_body
    mic = MIC(value=cms.compute_mic(covered, chosen[0]), algorithm=chosen[1])

    if message_id is None:
        domain = re.sub(r"[^A-Za-z0-9.-]+", "-", ours.as2_id).strip("-.").lower() or "edigate"
        message_id = f"{uuid.uuid4().hex}@{domain}"
    message_id = _strip_angle(message_id)
    if len(message_id) > 253:  # some AS2 servers refuse Message-IDs longer than 255 with brackets
        raise ValueError("Message-ID is longer than 255 characters")
    http_headers: dict[str, str] = {
        "AS2-Version": AS2_VERSION,
        "Mime-Version": "1.0",
        "Message-ID": f"<{message_id}>",
        "Date": format_datetime(moment.astimezone(UTC), usegmt=True),
        "AS2-From": format_as2_name(ours.as2_id),
        "AS2-To": format_as2_name(partner_as2_id),
        "Subject": subject,
    }
    if mdn is not None:
        http_headers.update(mdn.header_fields())
    http_headers.update(headers)
    for name, value in http_headers.items():
        mime.build_entity([(name, value)], b"")  # refuses CR/LF or non-ASCII in any value
    return OutboundAS2(message_id=message_id, headers=http_headers, body=body, mic=mic)
