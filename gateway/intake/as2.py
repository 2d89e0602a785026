"""AS2 in: messages from partners into the one intake pipeline, MDNs back, and the
asynchronous receipts partners return for what edigate sent, every step in the ledger.

Responsible for matching AS2-From/AS2-To to a partner and to the gateway's own identity
(``gateway.delivery.as2_partners``), for turning ``gateway.as2`` results into intake
deliveries, duplicate detection by Message-ID (RFC 4130 §5.3.3), the
receive-before-acknowledge rule for MDNs (a "processed" MDN only after the payload is
committed), the non-repudiation record (the raw request stored content-addressed, the
signer certificate, algorithms and MIC in the ledger, the MDN kept with the message), and
choosing where a receipt goes: on the response, or queued in the outbox for one of the
partner's receipt URLs (``gateway.delivery.as2_sending.AS2Outbox``, which sends it).
It must not do cryptography itself (``gateway.as2``), send anything, nor know about
FastAPI routes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.as2 import (
    MDN,
    MIC,
    AS2Failure,
    AS2Identity,
    InboundAS2,
    build_mdn,
    build_reply_mdn,
    unwrap,
)
from gateway.as2.keys import KeyFileError
from gateway.as2.message import MAX_MESSAGE_ID, AS2HeaderError, parse_as2_name
from gateway.as2.outbound import AS2Sender, mdn_original_message_id
from gateway.delivery.as2_partners import AS2Partners
from gateway.delivery.as2_sending import AS2Outbox
from gateway.intake.group_commit import ReceiveResult
from gateway.intake.pipeline import Delivery, IntakeRejected, Pipeline
from gateway.ledger.chain import Ledger
from gateway.runtime.metrics import Metrics
from gateway.runtime.settings import Settings
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.db import Database
from gateway.store.models import Payload
from partners import PartnerProfile

__all__ = ["AS2Receiver", "AS2Reply", "ReceiptRoute", "is_mdn"]

log = logging.getLogger("edigate.as2")

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


class AS2Receiver:
    """The gateway's AS2 endpoint logic, built once per process."""

    def __init__(self, settings: Settings, db: Database, ledger: Ledger, pipeline: Pipeline,
                 metrics: Metrics, *, partners: AS2Partners, outbox: AS2Outbox,
                 problem: str | None) -> None:
        """``partners`` carries the gateway's AS2 identity (None: AS2 is off, for the
        reason ``problem`` gives; see ``load_as2_identity``); ``outbox`` queues async MDNs
        and records the receipts of what was sent."""
        self.settings = settings
        self.db = db
        self.ledger = ledger
        self.pipeline = pipeline
        self.metrics = metrics
        self.partners = partners
        self.outbox = outbox
        self.identity = partners.identity
        self.problem = problem

    # -- inbound ------------------------------------------------------------------------
    def known_partner(self, as2_from: str) -> PartnerProfile | None:
        """The active partner whose AS2 name is ``as2_from``, if it has an [as2] table."""
        return self.partners.known_partner(as2_from)

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
            security = self.partners.security(partner)
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
            self.outbox.queue_mdn(mdn, receipt.url, partner, message_id, row_id)
            return AS2Reply(200, outcome=outcome)
        return AS2Reply(200, dict(mdn.headers), mdn.body, outcome=outcome)

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
        sender = AS2Sender(self.identity, async_mdn_url=self.partners.async_mdn_url)
        try:
            result = sender.check_async_mdn(
                headers, body, partner=self.partners.outbound_partner(partner),
                message_id=row.as2_message_id,
                mic=expected if expected is not None else MIC("", "sha256"))
        finally:
            sender.close()
        self.outbox.record_mdn(row.id, result, f"as2:{partner.id}")
        return AS2Reply(200, outcome="mdn-received")


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
