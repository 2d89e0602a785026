"""AS2 receipts: build and parse MDNs (RFC 3798 multipart/report, RFC 4130 §7), signed or not.

``build_mdn`` writes a ``multipart/report; report-type=disposition-notification`` with a
human-readable part and a ``message/disposition-notification`` part, optionally inside a
``multipart/signed``. ``parse_mdn`` reads one back and judges it strictly: a wrong MIC, a
signature that does not verify, an unknown signer or a different original Message-ID makes
the result not ``ok`` — they are never mere warnings.

It must not: decide whether to send an MDN or where (the caller reads :class:`MDNRequest`);
do HTTP; touch ``cryptography.hazmat`` (see ``cms``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from cryptography import x509

from gateway.as2 import cms, mime
from gateway.as2.cms import DigestAlgorithm
from gateway.as2.message import (
    AS2_VERSION,
    MIC,
    AS2Failure,
    AS2Identity,
    InboundAS2,
    format_as2_name,
    parse_mdn_request,
    read_addressing,
)

__all__ = [
    "ERROR_MODIFIERS",
    "MDN",
    "MDNParseError",
    "MDNResult",
    "build_mdn",
    "build_reply_mdn",
    "parse_mdn",
]

DISPOSITION_MODE = "automatic-action/MDN-sent-automatically"  # RFC 4130 §7.4.3
ERROR_MODIFIERS = frozenset(
    {
        "authentication-failed",
        "decompression-failed",
        "decryption-failed",
        "insufficient-message-security",
        "integrity-check-failed",
        "unexpected-processing-error",
    }
)
"""RFC 4130 §7.5.3 ``error:`` modifiers; ``build_mdn`` turns each into ``processed/error: X``."""

_PKCS7_SIGNATURE = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature"})


class MDNParseError(ValueError):
    """The bytes are not an MDN at all (not a disposition-notification report)."""


@dataclass(frozen=True)
class MDN:
    """A built MDN: the HTTP headers and body to send, and its own Message-ID."""

    message_id: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class MDNResult:
    """What a received MDN says, and whether it can be trusted.

    ``disposition`` is the field as sent; ``disposition_type`` (``processed``/``failed``) and
    ``modifier`` (e.g. ``error: decryption-failed``, None when plain) are its parts.
    ``signature_valid`` and ``mic_matches`` are None when there was nothing to check.
    ``problems`` lists every reason the MDN is not a clean receipt.
    """

    original_message_id: str
    disposition: str
    disposition_type: str
    modifier: str | None
    mic: MIC | None
    signed: bool
    signature_valid: bool | None
    mic_matches: bool | None
    signer_fingerprint: str | None
    reporting_ua: str | None
    description: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True only for a trustworthy receipt saying the message was processed without error."""
        return not self.problems


def _disposition_field(disposition: str) -> str:
    # RFC 3798 §3.2.6 and RFC 4130 §7.4.3
    text = disposition.strip()
    if text == "processed":
        return f"{DISPOSITION_MODE}; processed"
    if text in ERROR_MODIFIERS:
        return f"{DISPOSITION_MODE}; processed/error: {text}"
    lowered = text.lower()
    if lowered.startswith("warning:"):
        return f"{DISPOSITION_MODE}; processed/warning: {text[8:].strip()}"
    if lowered.startswith("failure:"):
        return f"{DISPOSITION_MODE}; failed/failure: {text[8:].strip()}"
    if lowered.startswith(("processed/", "failed/")):
        return f"{DISPOSITION_MODE}; {text}"
    raise ValueError(
        f"disposition {disposition!r} is not 'processed', an error modifier "
        f"({', '.join(sorted(ERROR_MODIFIERS))}), 'warning: ...' or 'failure: ...'"
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _ascii_text(text: str) -> str:
    # Descriptions may quote what a sender sent: non-ASCII and control characters (a
    # bare CR, NUL, ESC) become "?" so the text part stays 7bit text (RFC 2045 §2.7).
    ascii_text = text.encode("ascii", "replace").decode("ascii").replace("\r\n", "\n")
    return _CONTROL.sub("?", ascii_text)


def build_mdn(
    *,
    original_message_id: str,
    as2_from: str,
    as2_to: str,
    disposition: str,
    description: str,
    mic: MIC | None,
    sign_with: AS2Identity | None,
    micalg: str | None = None,
    original_recipient: str | None = None,
    reporting_ua: str = "edigate AS2",
    message_id: str | None = None,
    at: datetime | None = None,
) -> MDN:
    """Build an MDN for ``original_message_id``.

    ``as2_from`` is us (the original AS2-To), ``as2_to`` the original sender. ``disposition``
    is ``processed``, an :data:`ERROR_MODIFIERS` value, ``warning: ...``, ``failure: ...`` or an
    AS2Failure's ``disposition``. ``mic`` becomes Received-Content-MIC (RFC 4130 §7.3.1).
    With ``sign_with`` the report is signed with digest ``micalg`` (either spelling, default
    sha256), and ``micalg`` is written as given. Raises ValueError for a disposition or
    identifier it cannot write.
    """
    moment = at or datetime.now(UTC)
    recipient = original_recipient or as2_from
    fields = [
        ("Reporting-UA", reporting_ua),
        ("Original-Recipient", f"rfc822; {recipient}"),
        ("Final-Recipient", f"rfc822; {recipient}"),
        ("Original-Message-ID", f"<{original_message_id.strip().strip('<>')}>"),
    ]
    if mic is not None:
        fields.append(("Received-Content-MIC", mic.header_value()))
    fields.append(("Disposition", _disposition_field(disposition)))
    notification = mime.build_entity(
        [
            ("Content-Type", "message/disposition-notification"),
            ("Content-Transfer-Encoding", "7bit"),
        ],
        b"".join(f"{name}: {value}\r\n".encode("ascii") for name, value in fields),
    )
    for name, value in fields:
        mime.build_entity([(name, value)], b"")  # refuses CR/LF or non-ASCII in a field
    text = _ascii_text(description).replace("\n", "\r\n").rstrip("\r\n") + "\r\n"
    human = mime.build_entity(
        [("Content-Type", "text/plain; charset=us-ascii"), ("Content-Transfer-Encoding", "7bit")],
        text.encode("ascii"),
    )
    report_boundary = mime.make_boundary()
    report_headers = [
        (
            "Content-Type",
            mime.format_parameters(
                "multipart/report",
                [("report-type", "disposition-notification"), ("boundary", report_boundary)],
            ),
        )
    ]
    report_body = mime.multipart_body(report_boundary, [human, notification])
    headers, body = report_headers, report_body

    if sign_with is not None:
        spelled = (micalg or "sha256").strip()
        digest = DigestAlgorithm.from_name(spelled)
        if digest is None:
            raise ValueError(f"cannot sign an MDN with micalg {micalg!r}")
        report = mime.build_entity(report_headers, report_body)
        signature = cms.sign_detached(
            report,
            key=sign_with.key,
            certificate=sign_with.certificate,
            digest=digest,
            signing_time=moment,
        )
        content_type, body = mime.multipart_signed(report, signature, spelled)
        headers = [("Content-Type", content_type)]

    if message_id is None:
        domain = re.sub(r"[^A-Za-z0-9.-]+", "-", as2_from).strip("-.").lower() or "edigate"
        message_id = f"{uuid.uuid4().hex}@{domain}"
    message_id = message_id.strip().strip("<>")
    http_headers = {
        "AS2-Version": AS2_VERSION,
        "Mime-Version": "1.0",
        "Message-ID": f"<{message_id}>",
        "Date": format_datetime(moment.astimezone(UTC), usegmt=True),
        "AS2-From": format_as2_name(as2_from),
        "AS2-To": format_as2_name(as2_to),
        "Subject": "Message Disposition Notification",
    }
    http_headers.update(headers)
    return MDN(message_id=message_id, headers=http_headers, body=body)


def build_reply_mdn(
    headers: Mapping[str, str],
    *,
    ours: AS2Identity,
    outcome: InboundAS2 | AS2Failure,
    reporting_ua: str = "edigate AS2",
    note: str | None = None,
    at: datetime | None = None,
) -> MDN | None:
    """The MDN answering an inbound message, or None if its sender asked for none.

    Works from the request headers alone, so an AS2Failure raised on a garbage body still
    gets its error MDN. Signs when the sender asked for a signed receipt (RFC 4130 §7.3),
    with the first requested MIC algorithm we support. ``note`` is added to the
    human-readable part. Raises :class:`~gateway.as2.message.AS2HeaderError` when AS2-From
    or Message-ID cannot be answered (check them first with ``read_addressing``).
    """
    request = parse_mdn_request(headers)
    if request is None:
        return None
    addressing = read_addressing(headers)
    original_id, sender = addressing.message_id, addressing.as2_from
    chosen = request.mic_algorithm()
    micalg = chosen[1] if chosen else "sha256"
    if isinstance(outcome, AS2Failure):
        # build_mdn writes an error modifier as processed/error: X (RFC 4130 §7.4.3)
        mic = None
        disposition: str
        if outcome.kind == "error":
            disposition = outcome.modifier
        else:
            disposition = f"failure: {outcome.modifier}"
        description = f"The AS2 message could not be processed: {outcome.description}"
    else:
        disposition, mic = "processed", outcome.mic
        description = f"The AS2 message {outcome.message_id} has been received."
    if note:
        description = f"{description}\n{note}"
    return build_mdn(
        original_message_id=original_id,
        as2_from=ours.as2_id,
        as2_to=sender,
        disposition=disposition,
        description=description,
        mic=mic,
        sign_with=ours if request.signed else None,
        micalg=micalg,
        reporting_ua=reporting_ua,
        at=at,
    )


# ---------------------------------------------------------------------------------------------
# parse


def _parse_disposition(value: str) -> tuple[str, str | None]:
    """Split ``mode; type/modifier`` into (type, modifier) (RFC 3798 §3.2.6)."""
    _, _, rest = value.rpartition(";")
    kind, slash, modifier = rest.strip().partition("/")
    return kind.strip().lower(), (modifier.strip() or None) if slash else None


def _parse_mic(value: str | None) -> MIC | None:
    if not value:
        return None
    digest, _, algorithm = value.partition(",")
    if not digest.strip() or not algorithm.strip():
        return None
    return MIC(value=digest.strip(), algorithm=algorithm.strip())


def parse_mdn(
    headers: Mapping[str, str],
    body: bytes,
    *,
    partner_certificates: tuple[x509.Certificate, ...],
    expected_message_id: str | None,
    expected_mic: MIC | None,
    require_signed: bool = False,
    allowed_digests: frozenset[DigestAlgorithm] = cms.ALL_DIGESTS,
    at: datetime | None = None,
) -> MDNResult:
    """Parse and judge an MDN (HTTP headers and body of a sync response or async POST).

    Raises :class:`MDNParseError` — and nothing else — when the bytes are not an MDN. A
    readable MDN always returns an MDNResult; its ``problems`` say why it is not ``ok``.
    """
    try:
        return _parse_mdn(
            mime.Headers.of(headers),
            body,
            partner_certificates=partner_certificates,
            expected_message_id=expected_message_id,
            expected_mic=expected_mic,
            require_signed=require_signed,
            allowed_digests=allowed_digests,
            at=at or datetime.now(UTC),
        )
    except mime.MIMEError as exc:
        raise MDNParseError(str(exc)) from exc


def _parse_mdn(
    fields: mime.Headers,
    body: bytes,
    *,
    partner_certificates: tuple[x509.Certificate, ...],
    expected_message_id: str | None,
    expected_mic: MIC | None,
    require_signed: bool,
    allowed_digests: frozenset[DigestAlgorithm],
    at: datetime,
) -> MDNResult:
    problems: list[str] = []
    top = mime.Entity(headers=fields, body=body, raw=body)
    content_type = top.content_type
    signed = content_type.mime_type == "multipart/signed"
    signature_valid: bool | None = None
    fingerprint: str | None = None
    report = top
    if signed:
        parts = mime.split_multipart(body, content_type.param("boundary") or "", where="signed MDN")
        if len(parts) != 2:
            raise MDNParseError(f"signed MDN has {len(parts)} parts, RFC 1847 requires 2")
        report = mime.parse_entity(parts[0], where="signed MDN part 1")
        signature_entity = mime.parse_entity(parts[1], where="signed MDN part 2")
        if signature_entity.content_type.mime_type not in _PKCS7_SIGNATURE:
            problems.append("the second part of the signed MDN is not a PKCS #7 signature")
            signature_valid = False
        else:
            try:
                summary = cms.verify_detached(
                    signature_entity.decoded_body(),
                    parts[0],
                    certificates=partner_certificates,
                    allowed_digests=allowed_digests,
                    at=at,
                )
            except (cms.CMSError, mime.MIMEError) as exc:
                problems.append(f"MDN signature: {exc}")
                signature_valid = False
            else:
                signature_valid = True
                fingerprint = cms.certificate_sha256(summary.certificate)
    elif require_signed:
        problems.append("the MDN is not signed, but a signed MDN was requested")

    report_type = report.content_type
    if report_type.mime_type != "multipart/report":
        raise MDNParseError(f"MDN content is {report_type.mime_type}, not multipart/report")
    if (report_type.param("report-type") or "").lower() != "disposition-notification":
        raise MDNParseError("multipart/report is not a disposition-notification report")
    notification: mime.Entity | None = None
    description = ""
    for index, raw_part in enumerate(
        mime.split_multipart(report.body, report_type.param("boundary") or "", where="MDN report")
    ):
        part = mime.parse_entity(raw_part, where=f"MDN report part {index + 1}")
        part_type = part.content_type.mime_type
        if part_type == "message/disposition-notification" and notification is None:
            notification = part
        elif part_type == "text/plain" and not description:
            description = part.decoded_body().decode("utf-8", "replace").strip()
    if notification is None:
        raise MDNParseError("the report has no message/disposition-notification part")
    # RFC 3798 §3.1: the notification body is a block of header-like fields.
    report_fields = mime.parse_header_block(
        notification.decoded_body().strip(b"\r\n"), where="disposition-notification"
    )
    original_id = (report_fields.get("original-message-id") or "").strip().strip("<>")
    disposition = report_fields.get("disposition")
    if disposition is None:
        raise MDNParseError("the disposition-notification has no Disposition field")
    disposition_type, modifier = _parse_disposition(disposition)
    mic = _parse_mic(report_fields.get("received-content-mic"))

    warning = modifier is not None and modifier.lower().startswith("warning")
    if disposition_type != "processed" or (modifier is not None and not warning):
        problems.append(f"disposition is {disposition.strip()!r}")
    if expected_message_id is not None and original_id != expected_message_id.strip().strip("<>"):
        problems.append(
            f"MDN answers message {original_id!r}, expected {expected_message_id.strip('<>')!r}"
        )
    mic_matches: bool | None = None
    if expected_mic is not None and disposition_type == "processed" and modifier is None:
        mic_matches = expected_mic.matches(mic)
        if not mic_matches:
            shown = mic.header_value() if mic else "none"
            problems.append(
                f"Received-Content-MIC {shown} does not match the expected "
                f"{expected_mic.header_value()}"
            )
    return MDNResult(
        original_message_id=original_id,
        disposition=disposition.strip(),
        disposition_type=disposition_type,
        modifier=modifier,
        mic=mic,
        signed=signed,
        signature_valid=signature_valid,
        mic_matches=mic_matches,
        signer_fingerprint=fingerprint,
        reporting_ua=report_fields.get("reporting-ua"),
        description=description,
        problems=tuple(problems),
    )
