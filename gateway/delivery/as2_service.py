"""AS2 as a transport of the gateway: inbound messages into the one intake pipeline, MDNs
back, acknowledgments and documents out, every step in the ledger.

Responsible for matching AS2-From/AS2-To to a partner profile and to the gateway's own AS2
identity, for turning ``gateway.as2`` results into intake deliveries, duplicate detection
by Message-ID (RFC 4130 §5.3.3), the receive-before-acknowledge rule for MDNs (a
"processed" MDN only after the payload is committed), the non-repudiation record (the raw
request stored content-addressed, the signer certificate, algorithms and MIC in the
ledger, the MDN kept with the message), asynchronous MDN delivery and the outbound queue
(``as2_messages`` rows worked by ``AS2Deliverer``).
It must not do cryptography itself (``gateway.as2``) nor know about FastAPI routes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.as2 import (
    MDN,
    MIC,
    AS2Failure,
    AS2Identity,
    InboundAS2,
    MDNResult,
    PartnerSecurity,
    build_mdn,
    build_reply_mdn,
    unwrap,
)
from gateway.as2.keys import (
    CertificateInfo,
    KeyFileError,
    certificate_info,
    load_certificates,
    load_identity,
)
from gateway.as2.message import MAX_MESSAGE_ID, AS2HeaderError, parse_as2_name
from gateway.as2.outbound import AS2Sender, OutboundPartner, mdn_original_message_id
from gateway.delivery.egress import Destination, Egress, EgressRefused, Job, destination
from gateway.intake.group_commit import ReceiveResult
from gateway.intake.pipeline import Delivery, IntakeRejected, Pipeline
from gateway.ledger.chain import Ledger
from gateway.runtime.metrics import Metrics
from gateway.runtime.settings import Settings
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.models import Payload
from partners import PartnerProfile, PartnerRegistry

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "AS2Outbox",
    "AS2Reply",
    "AS2Service",
    "backoff",
    "is_mdn",
    "load_as2_identity",
    "post_mdn",
]

log = logging.getLogger("edigate.as2")

EXPIRY_WARNING_DAYS = 30
_MDN_CONTENT_TYPES = ("multipart/report",)


@dataclass(frozen=True, slots=True)
class AS2Reply:
    """What the HTTP endpoint answers: status, headers and body (an MDN or nothing)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    outcome: str = ""  # processed | duplicate | rejected | mdn-received, for logs and tests
    detail: str = ""  # why a 4xx: the route answers it as problem+json


@dataclass(frozen=True, slots=True)
class ReceiptRoute:
    """Where an MDN goes: ``url`` to queue it there (asynchronous), else on the response.

    ``requested`` is the Receipt-Delivery-Option as received; ``refused`` says why it is
    not used (for the ledger and the MDN's text).
    """

    url: str | None = None
    requested: str | None = None
    refused: str | None = None

    @property
    def note(self) -> str | None:
        if self.refused is None:
            return None
        return ("This receipt is returned on the HTTP response, not posted to the "
                f"Receipt-Delivery-Option URL: {self.refused}.")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def is_mdn(headers: Mapping[str, str], body: bytes) -> bool:
    """An asynchronous receipt for something edigate sent (RFC 4130 §7.3: a
    multipart/report, possibly inside multipart/signed), not a new message."""
    content_type = _header(headers, "content-type").lower()
    if content_type.startswith(_MDN_CONTENT_TYPES):
        return True
    return content_type.startswith("multipart/signed") and \
        b"disposition-notification" in body[:4096].lower()


def load_as2_identity(settings: Settings) -> tuple[AS2Identity | None, str | None]:
    """The gateway's own AS2 identity, or None and the reason AS2 is off (logged)."""
    if not settings.as2_id:
        return None, "EDIGATE_AS2_ID is not set"
    try:
        return load_identity(settings.as2_id, settings.as2_key, settings.as2_cert), None
    except KeyFileError as exc:
        log.error("AS2 is off: %s (run `edigate certs generate`)", exc)
        return None, str(exc)


class AS2Outbox:
    """The outbound AS2 queue: ``as2_messages`` rows that processing (acknowledgments) and
    operators (documents) add in their own transaction, and that ``AS2Deliverer`` works.

    Built before the pipeline, which hands it to processing as its ``Outbound``; the
    ``AS2Service`` that receives messages holds the same one."""

    def __init__(self, settings: Settings, db: Database, ledger: Ledger,
                 identity: AS2Identity | None) -> None:
        self.settings = settings
        self.db = db
        self.ledger = ledger
        self.identity = identity

    def wants_as2(self, partner: PartnerProfile | None) -> bool:
        return (self.identity is not None and partner is not None and partner.as2 is not None
                and partner.as2.url is not None)

    def enqueue(self, session: Session, partner: PartnerProfile, payload: bytes, *,
                kind: str, message_id: str | None, actor: str,
                content_type: str = "application/edi-x12") -> AS2Message:
        """Queue ``payload`` for sending to ``partner`` in the caller's transaction."""
        assert partner.as2 is not None and partner.as2.url is not None
        digest = hashlib.sha256(payload).hexdigest()
        if session.get(Payload, digest) is None:
            session.add(Payload(sha256=digest, size=len(payload), data=payload))
            session.flush()
        row = AS2Message(
            id=str(uuid.uuid4()), direction="out", partner_id=partner.id,
            as2_message_id=f"{uuid.uuid4()}@{self.settings.as2_id or 'edigate'}",
            message_id=message_id, status=AS2Status.PENDING, kind=kind,
            url=partner.as2.url, payload_sha256=digest, content_type=content_type,
            mdn_mode=partner.as2.mdn.mode, next_attempt_at=utcnow())
        session.add(row)
        self.ledger.append(session, event="AS2_QUEUED", actor=actor, message_id=message_id,
                           details={"as2_message_id": row.as2_message_id, "kind": kind,
                                    "partner": partner.id, "payload_sha256": digest})
        return row

    def due(self, session: Session, now: datetime, limit: int = 20) -> list[AS2Message]:
        """Rows with work due: outbound sends and async MDNs to deliver."""
        query = select(AS2Message).where(
            or_(AS2Message.status == AS2Status.PENDING,
                AS2Message.mdn_status == AS2Status.PENDING),
            AS2Message.next_attempt_at <= now,
            or_(AS2Message.locked_until.is_(None), AS2Message.locked_until < now),
        ).order_by(AS2Message.next_attempt_at).limit(limit)
        return list(session.scalars(self.db.dialect.claimable(query)))


class AS2Service:
    """The gateway's AS2 endpoint logic and certificates, built once per process."""

    def __init__(self, settings: Settings, db: Database, registry: PartnerRegistry,
                 ledger: Ledger, pipeline: Pipeline, metrics: Metrics, *, outbox: AS2Outbox,
                 problem: str | None) -> None:
        """``outbox`` carries the gateway's AS2 identity (None: AS2 is off, for the reason
        ``problem`` gives; see ``load_as2_identity``)."""
        self.settings = settings
        self.db = db
        self.registry = registry
        self.ledger = ledger
        self.pipeline = pipeline
        self.metrics = metrics
        self.outbox = outbox
        self.identity = outbox.identity
        self.problem = problem
        self._certificates: dict[str, tuple[x509.Certificate, ...]] = {}
        self.export_certificate_metrics()

    # -- certificates -------------------------------------------------------------------
    def partner_certificates(self, partner: PartnerProfile) -> tuple[x509.Certificate, ...]:
        found = self._certificates.get(partner.id)
        if found is None:
            certificates: list[x509.Certificate] = []
            for path in self.registry.certificate_paths(partner.id):
                certificates += load_certificates(path.read_bytes())
            found = self._certificates[partner.id] = tuple(certificates)
        return found

    def certificates(self) -> dict[str, list[CertificateInfo]]:
        """Every certificate in use: the gateway's own (key ``edigate``) and each partner's."""
        result: dict[str, list[CertificateInfo]] = {}
        if self.identity is not None:
            result["edigate"] = [certificate_info(self.identity.certificate)]
        for partner in self.registry.all():
            if partner.as2 is not None:
                try:
                    result[partner.id] = [certificate_info(c)
                                          for c in self.partner_certificates(partner)]
                except (OSError, KeyFileError) as exc:
                    log.error("certificates of partner %s: %s", partner.id, exc)
        return result

    def export_certificate_metrics(self) -> None:
        """Set the expiry gauge and warn for certificates that end within 30 days."""
        for owner, infos in self.certificates().items():
            for info in infos:
                days = info.days_left()
                self.metrics.certificate_expiry_days.labels(owner, info.sha256[:16]).set(days)
                if days < EXPIRY_WARNING_DAYS:
                    log.warning("certificate %s of %s (%s) expires in %.0f days (%s)",
                                info.sha256[:16], owner, info.subject, days,
                                info.not_after.isoformat())

    def security(self, partner: PartnerProfile) -> PartnerSecurity:
        assert partner.as2 is not None
        profile = partner.as2
        return PartnerSecurity(
            as2_id=profile.as2_id, certificates=self.partner_certificates(partner),
            sign=tuple(str(s) for s in profile.sign),
            encrypt=tuple(str(e) for e in profile.encrypt),
            allow_3des=profile.allow_3des, require_signed=profile.signed,
            require_encrypted=profile.encrypted)

    # -- inbound ------------------------------------------------------------------------
    def known_partner(self, as2_from: str) -> PartnerProfile | None:
        """The active partner whose AS2 name is ``as2_from``, if it has an [as2] table."""
        partner = self.registry.by_as2(as2_from) if as2_from else None
        return partner if partner is not None and partner.as2 is not None else None

    def refuse_headers(self, headers: Mapping[str, str], error: AS2HeaderError) -> None:
        """Ledger a request refused for an AS2-From or Message-ID no receipt can answer
        (the caller answers 400); nothing else is stored."""
        with self.db.transaction() as session:
            self.ledger.append(session, event="AS2_REJECTED", actor="as2:unknown", details={
                "partner": None, "header": error.header,
                "description": error.description[:500],
                "as2_from": _header(headers, "as2-from")[:200],
                "as2_message_id": _header(headers, "message-id")[:300],
                "disposition": None, "answer": "400"})
        self.metrics.as2_messages.labels("unknown", "in", "rejected").inc()

    def unwrap(self, headers: Mapping[str, str], body: bytes
               ) -> tuple[PartnerProfile | None, InboundAS2 | AS2Failure]:
        """Match the partner and unwrap (CPU-bound: callers run it off the event loop)."""
        assert self.identity is not None
        as2_from = parse_as2_name(_header(headers, "as2-from"))
        message_id = _header(headers, "message-id").strip().strip("<>") or None
        partner = self.known_partner(as2_from)
        if partner is None:
            return None, AS2Failure(
                "authentication-failed",
                f"AS2-From {as2_from!r} is not a trading partner of this gateway",
                message_id=message_id)
        try:
            security = self.security(partner)
        except (OSError, KeyFileError) as exc:
            return partner, AS2Failure("unexpected-processing-error",
                                       f"the partner's certificates cannot be loaded: {exc}",
                                       message_id=message_id)
        try:
            inbound = unwrap(headers, body, ours=self.identity, partner=security,
                             max_size=self.settings.max_body_bytes)
        except AS2Failure as failure:
            return partner, failure
        return partner, inbound

    def reply_mdn(self, headers: Mapping[str, str], outcome: InboundAS2 | AS2Failure,
                  receipt: ReceiptRoute | None = None) -> MDN | None:
        assert self.identity is not None
        note = receipt.note if receipt is not None else None
        return build_reply_mdn(headers, ours=self.identity, outcome=outcome, note=note)

    def receipt_route(self, headers: Mapping[str, str], partner: PartnerProfile | None,
                      refusal: str | None = None) -> ReceiptRoute:
        """Where the receipt for this request goes. An asynchronous MDN is an outbound
        connection to a URL the sender chose (RFC 4130 §7.3): it is queued only for a
        request that authenticated as ``partner`` (``refusal`` None) and only to one of
        that partner's ``receipt_urls``; otherwise the MDN is the HTTP response."""
        requested = _header(headers, "receipt-delivery-option").strip(" \t")
        if not requested:
            return ReceiptRoute()
        if refusal is not None:
            return ReceiptRoute(requested=requested, refused=refusal)
        assert partner is not None and partner.as2 is not None
        if not partner.as2.allows_receipt_url(requested):
            return ReceiptRoute(requested=requested, refused=(
                f"the URL is not one of the receipt_urls of partner {partner.id}"))
        return ReceiptRoute(requested=requested, url=requested)

    def _ledger_receipt_refusal(self, session: Session, receipt: ReceiptRoute, *,
                                partner: PartnerProfile | None, actor: str,
                                as2_message_id: str | None,
                                message_id: str | None = None) -> None:
        if receipt.refused is None:
            return
        self.ledger.append(session, event="MDN_ASYNC_REFUSED", actor=actor,
                           message_id=message_id, details={
                               "partner": partner.id if partner else None,
                               "as2_message_id": as2_message_id,
                               "url": (receipt.requested or "")[:500],
                               "reason": receipt.refused, "answer": "sync"})

    def reject(self, headers: Mapping[str, str], body: bytes, partner: PartnerProfile | None,
               failure: AS2Failure, actor: str) -> AS2Reply:
        """Ledger the refusal (nothing is taken in) and answer with an error MDN, always
        on the HTTP response: the request did not authenticate, so it may not make the
        gateway connect anywhere."""
        raw = hashlib.sha256(body).hexdigest()
        if partner is None:
            refusal = "the AS2-From names no trading partner"
        else:
            refusal = (f"the message from partner {partner.id} was refused "
                       f"({failure.disposition}); only an accepted message may have its "
                       "receipt posted")
        receipt = self.receipt_route(headers, partner, refusal)
        with self.db.transaction() as session:
            self.ledger.append(session, event="AS2_REJECTED", actor=actor, details={
                "partner": partner.id if partner else None,
                "as2_from": parse_as2_name(_header(headers, "as2-from"))[:200],
                "as2_to": parse_as2_name(_header(headers, "as2-to"))[:200],
                "as2_message_id": failure.message_id, "disposition": failure.disposition,
                "description": failure.description[:500], "size": len(body),
                "raw_sha256": raw,
            })
            self._ledger_receipt_refusal(session, receipt, partner=partner, actor=actor,
                                         as2_message_id=failure.message_id)
        self.metrics.as2_messages.labels(partner.id if partner else "unknown", "in",
                                         "rejected").inc()
        mdn = self.reply_mdn(headers, failure, receipt)
        return self._answer(mdn, receipt, outcome="rejected", partner=partner,
                            message_id=failure.message_id)

    def _answer(self, mdn: MDN | None, receipt: ReceiptRoute, *, outcome: str,
                partner: PartnerProfile | None, message_id: str | None,
                row_id: str | None = None) -> AS2Reply:
        """The MDN on the response, or queued for the partner's allowed receipt URL."""
        if mdn is None:
            return AS2Reply(200, outcome=outcome)
        if receipt.url is not None and partner is not None:
            self._queue_async_mdn(mdn, receipt.url, partner, message_id, row_id)
            return AS2Reply(200, outcome=outcome)
        return AS2Reply(200, dict(mdn.headers), mdn.body, outcome=outcome)

    def _queue_async_mdn(self, mdn: MDN, url: str, partner: PartnerProfile,
                         message_id: str | None, row_id: str | None) -> None:
        with self.db.transaction() as session:
            row = session.get(AS2Message, row_id) if row_id else None
            if row is None:
                # A duplicate or refused payload has no row of its own: the MDN gets one
                # (direction "mdn") so that its delivery is queued and retried like any.
                # 200 + "#" + a UUID stays within the 255 characters of the column.
                row = AS2Message(id=str(uuid.uuid4()), direction="mdn",
                                 partner_id=partner.id,
                                 as2_message_id=f"{(message_id or 'unknown')[:200]}"
                                                f"#{uuid.uuid4()}",
                                 status=AS2Status.SENT)
                session.add(row)
            row.mdn_url = url[:2000]
            row.mdn_status = AS2Status.PENDING
            row.mdn_headers = json.dumps(mdn.headers)
            row.mdn_body = mdn.body
            row.mdn_message_id = mdn.message_id
            row.next_attempt_at = utcnow()

    def accept(self, partner: PartnerProfile, inbound: InboundAS2, body: bytes,
               actor: str) -> tuple[Delivery, str | None]:
        """The intake delivery for an unwrapped message, or (delivery, original row id)
        when this Message-ID was taken in before (a duplicate: not stored again)."""
        evidence: dict[str, Any] = {
            "as2_message_id": inbound.message_id, "as2_from": inbound.as2_from,
            "as2_to": inbound.as2_to, "signed": inbound.signed,
            "encrypted": inbound.encrypted, "compressed": inbound.compressed,
            "encryption_algorithm": inbound.encryption_algorithm,
            "signer_sha256": inbound.signer.certificate_sha256 if inbound.signer else None,
            "signature_algorithm": inbound.signer.signature_algorithm if inbound.signer
            else None,
            "digest_algorithm": inbound.signer.digest_algorithm if inbound.signer else None,
            "mic": inbound.mic.header_value(),
            "raw_sha256": hashlib.sha256(body).hexdigest(),
            "content_type": inbound.payload_content_type, "filename": inbound.filename,
        }
        delivery = Delivery(partner.id, "as2", inbound.payload, evidence)
        with self.db.read() as session:
            original = session.scalars(select(AS2Message.id).where(
                AS2Message.partner_id == partner.id, AS2Message.direction == "in",
                AS2Message.as2_message_id == inbound.message_id[:255])).first()
        return delivery, original

    def duplicate(self, headers: Mapping[str, str], partner: PartnerProfile,
                  inbound: InboundAS2, actor: str, original: str | None,
                  message_id: str | None = None) -> AS2Reply:
        """RFC 4130 §7.4.3: processed/warning: duplicate-document; nothing taken in."""
        receipt = self.receipt_route(headers, partner)
        with self.db.transaction() as session:
            self.ledger.append(session, event="AS2_DUPLICATE", actor=actor,
                               message_id=message_id, details={
                                   "as2_message_id": inbound.message_id,
                                   "original_row": original,
                                   "mic": inbound.mic.header_value()})
            self._ledger_receipt_refusal(session, receipt, partner=partner, actor=actor,
                                         as2_message_id=inbound.message_id,
                                         message_id=message_id)
        self.metrics.as2_messages.labels(partner.id, "in", "duplicate").inc()
        assert self.identity is not None
        mdn = _warning_mdn(headers, self.identity, inbound, "duplicate-document",
                           "This AS2 message was received before; it is not processed again."
                           + (f"\n{receipt.note}" if receipt.note else ""))
        return self._answer(mdn, receipt, outcome="duplicate", partner=partner,
                            message_id=inbound.message_id)

    def stored(self, headers: Mapping[str, str], body: bytes, partner: PartnerProfile,
               inbound: InboundAS2, received: ReceiveResult, actor: str) -> AS2Reply:
        """The payload is committed: record the AS2 evidence and answer "processed"."""
        if received.duplicate:
            # Same interchange over another transport or Message-ID: taken in once.
            return self.duplicate(headers, partner, inbound, actor, None,
                                  received.message_id)
        receipt = self.receipt_route(headers, partner)
        mdn = self.reply_mdn(headers, inbound, receipt)
        request = inbound.mdn_request
        mode = "none" if request is None else ("async" if receipt.url else "sync")
        raw = hashlib.sha256(body).hexdigest()
        row = AS2Message(
            id=str(uuid.uuid4()), direction="in", partner_id=partner.id,
            as2_message_id=inbound.message_id[:255], message_id=received.message_id,
            status=AS2Status.RECEIVED, kind="document",
            raw_sha256=raw, mic=inbound.mic.header_value(),
            evidence=json.dumps({"signer": inbound.signer.certificate_sha256
                                 if inbound.signer else None,
                                 "encryption": inbound.encryption_algorithm,
                                 "compressed": inbound.compressed}),
            mdn_mode=mode,
            mdn_disposition="processed" if mdn is not None else None,
            mdn_message_id=mdn.message_id if mdn is not None else None,
            mdn_headers=json.dumps(mdn.headers) if mdn is not None else None,
            mdn_body=mdn.body if mdn is not None else None,
            mdn_status=AS2Status.SENT if mode == "sync" else None,
        )
        try:
            with self.db.transaction() as session:
                if session.get(Payload, raw) is None:
                    session.add(Payload(sha256=raw, size=len(body), data=body))
                session.add(row)
                self.ledger.append(session, event="MDN_BUILT", actor=actor,
                                   message_id=received.message_id, details={
                                       "as2_message_id": inbound.message_id,
                                       "mdn_message_id": row.mdn_message_id,
                                       "mode": mode, "disposition": row.mdn_disposition,
                                       "mic": inbound.mic.header_value(),
                                       "signed": bool(request and request.signed),
                                       "mdn_sha256": hashlib.sha256(mdn.body).hexdigest()
                                       if mdn is not None else None})
                self._ledger_receipt_refusal(session, receipt, partner=partner, actor=actor,
                                             as2_message_id=inbound.message_id,
                                             message_id=received.message_id)
        except IntegrityError:
            # A concurrent copy of this Message-ID won the race: it is the original.
            return self.duplicate(headers, partner, inbound, actor, None, received.message_id)
        self.metrics.as2_messages.labels(partner.id, "in", "received").inc()
        return self._answer(mdn, receipt, outcome="processed", partner=partner,
                            message_id=inbound.message_id, row_id=row.id)

    def intake_refused(self, headers: Mapping[str, str], partner: PartnerProfile,
                       inbound: InboundAS2, delivery: Delivery, actor: str,
                       exc: IntakeRejected) -> AS2Reply:
        """The payload decrypted and verified but the gateway refuses it (not EDI, another
        sender in ISA06, ...): ledgered, and an error MDN says why. Not "processed"."""
        self.pipeline.record_rejection(delivery, actor, exc)
        failure = AS2Failure("unexpected-processing-error", f"{exc.title}: {exc.detail}",
                             message_id=inbound.message_id)
        self.metrics.as2_messages.labels(partner.id, "in", "rejected").inc()
        # The sender authenticated: its receipt may go to one of its receipt URLs.
        receipt = self.receipt_route(headers, partner)
        if receipt.refused is not None:
            with self.db.transaction() as session:
                self._ledger_receipt_refusal(session, receipt, partner=partner, actor=actor,
                                             as2_message_id=inbound.message_id)
        return self._answer(self.reply_mdn(headers, failure, receipt), receipt,
                            outcome="rejected", partner=partner,
                            message_id=inbound.message_id)

    # -- receipts for what edigate sent -------------------------------------------------
    def outbound_partner(self, partner: PartnerProfile) -> OutboundPartner:
        """How to send to ``partner``: its [as2] profile as the sender needs it. Async
        receipts need EDIGATE_PUBLIC_URL; without it the partner is asked for a sync MDN."""
        profile = partner.as2
        assert profile is not None
        mode = profile.mdn.mode
        if mode == "async" and not self.settings.public_url:
            mode = "sync"
        return OutboundPartner(
            as2_id=profile.as2_id, url=profile.url or "",
            certificates=self.partner_certificates(partner),
            sign=str(profile.sign[0]) if profile.signed else None,
            encrypt=str(profile.encrypt[0]) if profile.encrypted else None,
            compress=profile.compress, compress_before_signing=profile.compress_before_signing,
            transfer_encoding=profile.transfer_encoding, mdn_mode=mode,
            mdn_signed=profile.mdn.signed, micalg=str(profile.mdn.micalg))

    @property
    def async_mdn_url(self) -> str | None:
        url = self.settings.public_url
        return url.rstrip("/") + "/as2" if url else None

    def receive_mdn(self, headers: Mapping[str, str], body: bytes) -> AS2Reply:
        """An asynchronous MDN for an outbound message: verify it against what was sent
        (signature by the partner's certificates, Original-Message-ID, MIC)."""
        as2_from = parse_as2_name(_header(headers, "as2-from"))
        partner = self.known_partner(as2_from)
        original = mdn_original_message_id(headers, body)
        if partner is None:
            return AS2Reply(400, outcome="rejected",
                            detail="the MDN's AS2-From names no trading partner")
        if original is None or self.identity is None:
            return AS2Reply(400, outcome="rejected",
                            detail="the body is not a disposition-notification report")
        # The Original-Message-ID comes from the body: only a well-formed one may be
        # looked up (PostgreSQL text cannot hold a NUL, the column holds 255 characters).
        if not _usable_message_id(original):
            return AS2Reply(400, outcome="rejected", detail=(
                "the report's Original-Message-ID is not visible ASCII of at most "
                f"{MAX_MESSAGE_ID} characters"))
        with self.db.read() as session:
            row = session.scalars(select(AS2Message).where(
                AS2Message.partner_id == partner.id, AS2Message.direction == "out",
                AS2Message.as2_message_id == original.strip("<>")[:255])).first()
        if row is None or row.status != AS2Status.AWAITING_MDN:
            return AS2Reply(404, outcome="unknown-mdn", detail=(
                "no message sent to this partner awaits a receipt for that "
                "Original-Message-ID"))
        expected = _mic_of(row.mic)
        sender = AS2Sender(self.identity, async_mdn_url=self.async_mdn_url)
        try:
            result = sender.check_async_mdn(
                headers, body, partner=self.outbound_partner(partner),
                message_id=row.as2_message_id,
                mic=expected if expected is not None else MIC("", "sha256"))
        finally:
            sender.close()
        self.record_outbound_mdn(row.id, result, f"as2:{partner.id}")
        return AS2Reply(200, outcome="mdn-received")

    def record_outbound_mdn(self, row_id: str, result: MDNResult, actor: str) -> None:
        with self.db.transaction() as session:
            row = session.get(AS2Message, row_id)
            if row is None:
                return
            row.status = AS2Status.DELIVERED if result.ok else AS2Status.FAILED
            row.mdn_disposition = result.disposition[:200]
            row.last_error = "; ".join(result.problems)[:4000] or None
            self.ledger.append(session, event="AS2_MDN_RECEIVED", actor=actor,
                               message_id=row.message_id, details={
                                   "as2_message_id": row.as2_message_id,
                                   "disposition": result.disposition,
                                   "ok": result.ok, "problems": list(result.problems)[:10],
                                   "signed": result.signed,
                                   "signature_valid": result.signature_valid,
                                   "mic_matches": result.mic_matches,
                                   "signer_sha256": result.signer_fingerprint})


def _usable_message_id(text: str) -> bool:
    value = text.strip(" \t").removeprefix("<").removesuffix(">")
    return 0 < len(value) <= MAX_MESSAGE_ID and all("!" <= c <= "~" for c in value)


def _mic_of(text: str | None) -> MIC | None:
    if not text or "," not in text:
        return None
    value, algorithm = text.rsplit(",", 1)
    return MIC(value.strip(), algorithm.strip())


def _warning_mdn(headers: Mapping[str, str], ours: AS2Identity, inbound: InboundAS2,
                 warning: str, description: str) -> MDN | None:
    request = inbound.mdn_request
    if request is None:
        return None
    chosen = request.mic_algorithm()
    return build_mdn(original_message_id=inbound.message_id, as2_from=ours.as2_id,
                     as2_to=inbound.as2_from, disposition=f"warning: {warning}",
                     description=description, mic=inbound.mic,
                     sign_with=ours if request.signed else None,
                     micalg=chosen[1] if chosen else "sha256")


def backoff(attempts: int, base: float = 30.0, cap: float = 6 * 3600.0) -> timedelta:
    """30 s, 60 s, 2 min, ... capped at six hours."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def post_mdn(row: AS2Message, egress: Egress) -> str | None:
    """Deliver an asynchronous MDN (RFC 4130 §7.3); None on success, else the error.
    ``EgressRefused`` (from ``gateway.delivery.egress``) when the policy refuses the URL."""
    assert row.mdn_url is not None and row.mdn_body is not None
    headers = json.loads(row.mdn_headers or "{}")
    try:
        with egress.stream("POST", row.mdn_url, content=row.mdn_body,
                           headers=headers) as response:
            code = response.status_code
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if code >= 300:
        return f"HTTP {code}"
    return None


def _destination(row: AS2Message) -> Destination:
    return destination((row.mdn_url if row.mdn_status == AS2Status.PENDING else row.url) or "")


class AS2Deliverer:
    """Works the AS2 queue: outbound documents and acknowledgments (sent with
    ``gateway.as2.outbound.AS2Sender``, receipt verified) and asynchronous MDNs owed to
    partners. Claims rows under a lease (SKIP LOCKED on PostgreSQL), retries with
    exponential backoff, gives up after ``max_attempts``; every attempt is in the ledger.

    Every connection goes through ``gateway.delivery.egress`` (the policy, a total deadline per
    attempt). A URL the policy refuses fails the send or the MDN at once: retrying gets
    the same answer. Thread-safe like ``webhooks.Deliverer``: each claim carries its own
    token in ``locked_by``, so attempts may be sent on a pool's threads.
    """

    def __init__(self, service: AS2Service, *, worker: str, lease: timedelta = timedelta(
            minutes=5), max_attempts: int = 10) -> None:
        self.service = service
        self.worker = worker
        self.lease = lease
        self.max_attempts = max_attempts
        self.egress = Egress.from_settings(service.settings, user_agent="edigate AS2",
                                           deadline_seconds=lease.total_seconds() / 2)

    def close(self) -> None:
        self.egress.close()

    def __enter__(self) -> AS2Deliverer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _claim(self, busy: Collection[Destination] = ()) -> AS2Message | None:
        now = utcnow()
        with self.service.db.transaction() as session:
            # With busy destinations, look further down the queue: the oldest rows may
            # all be bound for them.
            rows = [r for r in self.service.outbox.due(session, now, limit=200 if busy else 20)
                    if _destination(r) not in busy]
            if not rows:
                return None
            row = rows[0]
            row.locked_by = f"{uuid.uuid4().hex[:12]}@{self.worker}"[:120]
            row.locked_until = now + self.lease
            row.attempts += 1
            return row

    def claim_job(self, busy: Collection[Destination] = ()) -> Job | None:
        """For ``gateway.delivery.egress.OutboundPool``: claim a row not bound for ``busy``
        destinations, and the call that works it."""
        row = self._claim(busy)
        if row is None:
            return None
        return _destination(row), lambda: self._work(row)

    def run_once(self, limit: int = 20) -> int:
        """Do up to ``limit`` due items one after the other; returns how many were tried."""
        tried = 0
        while tried < limit:
            row = self._claim()
            if row is None:
                break
            tried += 1
            self._work(row)
        return tried

    def _work(self, row: AS2Message) -> None:
        try:
            if row.mdn_status == AS2Status.PENDING:
                self._deliver_mdn(row)
            else:
                self._send(row)
        except Exception as exc:  # one bad row must not stop the queue
            log.exception("AS2 queue item %s failed", row.id)
            self._finish(row, retry=True, error=f"{type(exc).__name__}: {exc}",
                         event="AS2_SEND_ERROR", details={})

    def _deliver_mdn(self, row: AS2Message) -> None:
        # Asked again at send time: a row queued before receipt_urls existed, or before the
        # profile dropped the URL, must not make the gateway connect there.
        refused = not self._receipt_url_allowed(row)
        if refused:
            error: str | None = (f"the URL is not one of the receipt_urls of partner "
                                 f"{row.partner_id} (any more)")
        else:
            try:
                error = post_mdn(row, self.egress)
            except EgressRefused as exc:
                error, refused = str(exc), True
        details = {"as2_message_id": row.as2_message_id, "mdn_message_id": row.mdn_message_id,
                   "url": row.mdn_url, "attempt": row.attempts}
        with self.service.db.transaction() as session:
            current = session.get(AS2Message, row.id)
            if current is None or current.locked_by != row.locked_by:
                return
            current.locked_by = None
            current.locked_until = None
            if error is None:
                current.mdn_status = AS2Status.SENT
                self.service.ledger.append(session, event="MDN_SENT", actor=self.worker,
                                           message_id=current.message_id, details=details)
                return
            current.last_error = error[:4000]
            if refused or current.attempts >= self.max_attempts:
                current.mdn_status = AS2Status.FAILED
                event = "MDN_FAILED"
            else:
                current.next_attempt_at = utcnow() + backoff(current.attempts)
                event = "MDN_RETRY"
            self.service.ledger.append(session, event=event, actor=self.worker,
                                       message_id=current.message_id,
                                       details={**details, "error": error[:500]})

    def _receipt_url_allowed(self, row: AS2Message) -> bool:
        partner = self.service.registry.get(row.partner_id)
        return (partner is not None and partner.as2 is not None and row.mdn_url is not None
                and partner.as2.allows_receipt_url(row.mdn_url))

    def _send(self, row: AS2Message) -> None:
        service = self.service
        partner = service.registry.get(row.partner_id)
        if partner is None or partner.as2 is None or partner.as2.url is None or \
                service.identity is None:
            self._finish(row, retry=False, error="the partner has no AS2 profile or URL now",
                         event="AS2_SEND_FAILED", details={})
            return
        with service.db.read() as session:
            payload = session.get(Payload, row.payload_sha256)
            data = payload.data if payload is not None else b""
        target = service.outbound_partner(partner)
        sender = AS2Sender(service.identity, egress=self.egress,
                           async_mdn_url=service.async_mdn_url)
        result = sender.send(data, partner=target,
                             content_type=row.content_type or "application/edi-x12",
                             message_id=row.as2_message_id)
        details = {"as2_message_id": row.as2_message_id, "attempt": row.attempts,
                   "http_status": result.http_status, "status": result.status,
                   "error": (result.error or "")[:500] or None,
                   "evidence": _jsonable(result.evidence)}
        if result.status == "delivered":
            self._finish(row, status=AS2Status.DELIVERED, event="AS2_SENT", details=details,
                         mic=result.mic, mdn=result.mdn)
        elif result.status == "awaiting-mdn":
            self._finish(row, status=AS2Status.AWAITING_MDN, event="AS2_SENT",
                         details=details, mic=result.mic)
        elif result.status == "retry":
            self._finish(row, retry=True, error=result.error, event="AS2_SEND_RETRY",
                         details=details, mic=result.mic)
        else:
            self._finish(row, retry=False, error=result.error, event="AS2_SEND_FAILED",
                         details=details, mic=result.mic, mdn=result.mdn)

    def _finish(self, row: AS2Message, *, event: str, details: dict[str, Any],
                status: str | None = None, retry: bool = False, error: str | None = None,
                mic: MIC | None = None, mdn: MDNResult | None = None) -> None:
        with self.service.db.transaction() as session:
            current = session.get(AS2Message, row.id)
            if current is None or current.locked_by != row.locked_by:
                return  # our lease ran out and another worker has it
            current.locked_by = None
            current.locked_until = None
            if mic is not None:
                current.mic = mic.header_value()
            if mdn is not None:
                current.mdn_disposition = mdn.disposition[:200]
            current.last_error = (error or "")[:4000] or None
            if status is not None:
                current.status = status
            elif retry and current.attempts < self.max_attempts:
                current.next_attempt_at = utcnow() + backoff(current.attempts)
            else:
                current.status = AS2Status.FAILED
                if retry:
                    event = "AS2_SEND_FAILED"
            self.service.ledger.append(session, event=event, actor=self.worker,
                                       message_id=current.message_id, details=details)
        self.service.metrics.as2_messages.labels(row.partner_id, "out", event.lower()).inc()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
