"""AS2 out: documents and acknowledgments sent to partners, and the asynchronous MDNs
edigate owes them, as a channel of the one outbox.

Responsible for queueing (``AS2Outbox``: an ``as2_messages`` row added in the caller's
transaction, by processing for acknowledgments and by operators for documents; an async
MDN queued by the receiving half), for what one attempt does (``AS2Channel``: wrap and
POST with ``gateway.as2.outbound.AS2Sender`` and judge the receipt, or POST a queued MDN)
and which ledger entries each outcome writes, and for recording an asynchronous receipt
that came back. Claiming under a lease, retrying with backoff and giving up are the
outbox's (``gateway.delivery.outbox``). It must not do cryptography itself
(``gateway.as2``), receive anything (``gateway.intake.as2``), nor know about FastAPI.

Every connection goes through ``gateway.delivery.egress``. An attempt that cannot succeed
as configured (the partner has no AS2 profile or URL any more, its certificates cannot be
read, its profile names an unknown algorithm, the egress policy refuses the URL, an MDN's
URL is not one of the partner's receipt_urls) fails the row at once with a one-line
error: retrying gets the same answer until an operator changes the configuration.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.as2 import MDN, MIC, AS2Identity, MDNResult
from gateway.as2.keys import KeyFileError
from gateway.as2.outbound import AS2Sender
from gateway.delivery.as2_partners import AS2Partners
from gateway.delivery.egress import Destination, Egress, EgressRefused, destination
from gateway.delivery.outbox import Channel, Outbox, Outcome, retry_after
from gateway.ledger.chain import Ledger
from gateway.runtime.settings import Settings
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.models import Payload, add_payload
from partners import PartnerProfile

__all__ = ["AS2Channel", "AS2Deliverer", "AS2Outbox", "post_mdn"]

log = logging.getLogger("edigate.as2")


class AS2Outbox:
    """The AS2 rows of the outbox: added in the caller's transaction, worked by an
    ``AS2Deliverer``. Built before the pipeline, which hands it to processing as its
    ``Outbound``; the receiving half holds the same one."""

    def __init__(self, settings: Settings, db: Database, ledger: Ledger,
                 partners: AS2Partners) -> None:
        self.settings = settings
        self.db = db
        self.ledger = ledger
        self.partners = partners

    @property
    def identity(self) -> AS2Identity | None:
        return self.partners.identity

    def wants_as2(self, partner: PartnerProfile | None) -> bool:
        return (self.partners.identity is not None and partner is not None
                and partner.as2 is not None and partner.as2.url is not None)

    def enqueue(self, session: Session, partner: PartnerProfile, payload: bytes, *,
                kind: str, message_id: str | None, actor: str,
                content_type: str = "application/edi-x12") -> AS2Message:
        """Queue ``payload`` for sending to ``partner`` in the caller's transaction."""
        assert partner.as2 is not None and partner.as2.url is not None
        digest = add_payload(session, payload)
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

    def queue_mdn(self, mdn: MDN, url: str, partner: PartnerProfile,
                  message_id: str | None, row_id: str | None) -> None:
        """Queue an asynchronous MDN for ``url`` (RFC 4130 §7.3) on the inbound row
        ``row_id``, or on a row of its own when the payload has none."""
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

    def record_mdn(self, row_id: str, result: MDNResult, actor: str) -> None:
        """The asynchronous receipt for a sent message came back, judged: the row is
        delivered or failed."""
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


def post_mdn(row: AS2Message, egress: Egress, at: datetime) -> Outcome:
    """Deliver an asynchronous MDN (RFC 4130 §7.3): the attempt's outcome, with the wait
    the partner's ``Retry-After`` asks for when it refused. ``EgressRefused`` (from
    ``gateway.delivery.egress``) when the policy refuses the URL."""
    assert row.mdn_url is not None and row.mdn_body is not None
    headers = json.loads(row.mdn_headers or "{}")
    try:
        with egress.stream("POST", row.mdn_url, content=row.mdn_body,
                           headers=headers) as response:
            code = response.status_code
            wait = retry_after(response.headers.get("Retry-After"), at)
    except httpx.HTTPError as exc:
        return Outcome(f"{type(exc).__name__}: {exc}")
    if code >= 300:
        return Outcome(f"HTTP {code}", wait=wait)
    return Outcome(None)


@dataclass(frozen=True, slots=True)
class AS2Work:
    """One claimed attempt: the row as claimed (detached: its values at claim time) and,
    for a send, the payload."""

    row: AS2Message
    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class _Sent:
    """What a send attempt learnt, for the row and the ledger."""

    status: str  # the AS2Sender result's: delivered | awaiting-mdn | retry | failed
    details: dict[str, Any] = field(default_factory=dict)
    mic: MIC | None = None
    mdn: MDNResult | None = None


def _is_mdn(row: AS2Message) -> bool:
    return row.mdn_status == AS2Status.PENDING


# Where a row's attempt connects: its MDN's URL while one is owed, else the partner's.
_TARGET = case((AS2Message.mdn_status == AS2Status.PENDING, AS2Message.mdn_url),
               else_=AS2Message.url)


# The type-var ignores: see gateway.delivery.webhooks.WebhookChannel.
class AS2Channel(Channel[AS2Message, AS2Work]):  # type: ignore[type-var]
    """The AS2 rows as an outbox channel: a pending outbound row is sent and its receipt
    verified (ledger: AS2_SENT, AS2_SEND_RETRY, AS2_SEND_FAILED); a row owing an async MDN
    has it POSTed (MDN_SENT, MDN_RETRY, MDN_FAILED)."""

    model = AS2Message
    name = "AS2 queue item"
    user_agent = "edigate AS2"

    def __init__(self, outbox: AS2Outbox) -> None:
        self.outbox = outbox
        self.partners = outbox.partners
        self.ledger = outbox.ledger

    def pending(self) -> ColumnElement[bool]:
        return or_(AS2Message.status == AS2Status.PENDING,
                   AS2Message.mdn_status == AS2Status.PENDING)

    def order(self) -> tuple[InstrumentedAttribute[Any], ...]:
        return (AS2Message.id,)

    def skip_busy(self, session: Session, query: Select[AS2Message],
                  busy: Collection[Destination]) -> Select[AS2Message]:
        urls = session.scalars(select(_TARGET).where(self.pending()).distinct())
        skipped = [url for url in urls if url is not None and destination(url) in busy]
        return query.where(func.coalesce(_TARGET, "").not_in(skipped)) if skipped else query

    def prepare(self, session: Session, row: AS2Message) -> tuple[Destination, AS2Work]:
        if _is_mdn(row):
            return destination(row.mdn_url or ""), AS2Work(row)
        payload = session.get(Payload, row.payload_sha256) if row.payload_sha256 else None
        return destination(row.url or ""), AS2Work(row, payload.data if payload else b"")

    def send(self, work: AS2Work, egress: Egress, at: datetime) -> Outcome:
        return self._deliver_mdn(work.row, egress, at) if _is_mdn(work.row) else \
            self._send(work, egress, at)

    def _deliver_mdn(self, row: AS2Message, egress: Egress, at: datetime) -> Outcome:
        # Asked again at send time: a row queued before receipt_urls existed, or before the
        # profile dropped the URL, must not make the gateway connect there.
        partner = self.partners.registry.get(row.partner_id)
        if partner is None or partner.as2 is None or row.mdn_url is None or \
                not partner.as2.allows_receipt_url(row.mdn_url):
            return Outcome(f"the URL is not one of the receipt_urls of partner "
                           f"{row.partner_id} (any more)", final=True)
        try:
            return post_mdn(row, egress, at)
        except EgressRefused as exc:
            return Outcome(str(exc), final=True)

    def _send(self, work: AS2Work, egress: Egress, at: datetime) -> Outcome:
        row = work.row
        partner = self.partners.registry.get(row.partner_id)
        identity = self.partners.identity
        if partner is None or partner.as2 is None or partner.as2.url is None or \
                identity is None:
            return Outcome(f"partner {row.partner_id} has no AS2 profile or URL now",
                           final=True, detail=_Sent("failed"))
        try:
            target = self.partners.outbound_partner(partner)
            sender = AS2Sender(identity, egress=egress,
                               async_mdn_url=self.partners.async_mdn_url)
            result = sender.send(work.payload, partner=target,
                                 content_type=row.content_type or "application/edi-x12",
                                 message_id=row.as2_message_id)
        except (OSError, KeyFileError, ValueError) as exc:
            # Our configuration (the profile, its certificate files), not this attempt:
            # AS2Sender raises ValueError for nothing else.
            return Outcome(f"partner {partner.id}: cannot send as configured: {exc}",
                           final=True, detail=_Sent("failed"))
        sent = _Sent(result.status, {
            "as2_message_id": row.as2_message_id, "attempt": row.attempts,
            "http_status": result.http_status, "status": result.status,
            "error": (result.error or "")[:500] or None,
            "evidence": _jsonable(result.evidence)}, result.mic, result.mdn)
        if result.status in ("delivered", "awaiting-mdn"):
            return Outcome(None, detail=sent)
        return Outcome(result.error or result.status, final=result.status != "retry",
                       detail=sent, wait=retry_after(result.evidence.get("retry_after"), at))

    # -- outcomes ----------------------------------------------------------------------
    def succeeded(self, session: Session, row: AS2Message, attempt: int, outcome: Outcome,
                  at: datetime, actor: str) -> None:
        if _is_mdn(row):
            row.mdn_status = AS2Status.SENT
            self._append_mdn(session, "MDN_SENT", row, attempt, None, actor)
            return
        sent = outcome.detail
        assert isinstance(sent, _Sent)
        row.status = AS2Status.DELIVERED if sent.status == "delivered" else \
            AS2Status.AWAITING_MDN
        self._append_send(session, "AS2_SENT", row, attempt, outcome, actor,
                          keep_mdn=sent.status == "delivered")

    def retrying(self, session: Session, row: AS2Message, attempt: int, outcome: Outcome,
                 actor: str) -> None:
        if _is_mdn(row):
            self._append_mdn(session, "MDN_RETRY", row, attempt, outcome.error, actor)
        else:
            self._append_send(session, "AS2_SEND_RETRY", row, attempt, outcome, actor,
                              keep_mdn=False)

    def gave_up(self, session: Session, row: AS2Message, attempt: int, outcome: Outcome,
                actor: str) -> None:
        if _is_mdn(row):
            row.mdn_status = AS2Status.FAILED
            self._append_mdn(session, "MDN_FAILED", row, attempt, outcome.error, actor)
        else:
            row.status = AS2Status.FAILED
            self._append_send(session, "AS2_SEND_FAILED", row, attempt, outcome, actor,
                              keep_mdn=True)

    def state(self, row: AS2Message) -> str:
        return str(row.mdn_status if row.direction != "out" else row.status)

    def _append_mdn(self, session: Session, event: str, row: AS2Message, attempt: int,
                    error: str | None, actor: str) -> None:
        details: dict[str, Any] = {
            "as2_message_id": row.as2_message_id, "mdn_message_id": row.mdn_message_id,
            "url": row.mdn_url, "attempt": attempt}
        if error is not None:
            details["error"] = error[:500]
        self.ledger.append(session, event=event, actor=actor, message_id=row.message_id,
                           details=details)

    def _append_send(self, session: Session, event: str, row: AS2Message, attempt: int,
                     outcome: Outcome, actor: str, *, keep_mdn: bool) -> None:
        sent = outcome.detail if isinstance(outcome.detail, _Sent) else None
        if sent is not None and sent.mic is not None:
            row.mic = sent.mic.header_value()
        if keep_mdn and sent is not None and sent.mdn is not None:
            row.mdn_disposition = sent.mdn.disposition[:200]
        details = dict(sent.details) if sent is not None and sent.details else {
            "as2_message_id": row.as2_message_id, "attempt": attempt,
            "error": (outcome.error or "")[:500] or None}
        self.ledger.append(session, event=event, actor=actor, message_id=row.message_id,
                           details=details)
        self.partners.metrics.as2_messages.labels(row.partner_id, "out",
                                                  event.lower()).inc()


class AS2Deliverer(Outbox[AS2Message, AS2Work]):  # type: ignore[type-var]
    """The outbox of AS2 sends and async MDNs (``AS2Channel``); ``worker`` names its
    claims (default ``as2:<worker id>``)."""

    def __init__(self, outbox: AS2Outbox, *, lease: timedelta | None = None,
                 worker: str | None = None, timeout: float | None = None) -> None:
        settings = outbox.settings
        super().__init__(AS2Channel(outbox), outbox.db, outbox.ledger, settings, lease=lease,
                         worker=worker or f"as2:{settings.worker_id}", timeout=timeout)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
