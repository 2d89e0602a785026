"""Webhooks: every new record is POSTed, signed, to the internal systems that subscribed.

Responsible for subscriptions (create, deactivate), for enqueueing one delivery per
matching webhook in the transaction that stores a record (so a record and its deliveries
commit together or not at all), and for the ``Deliverer``: it claims due deliveries under
a lease (SKIP LOCKED on PostgreSQL), POSTs each with an HMAC-SHA256 signature, retries with
exponential backoff and dead-letters after the last try, writing every attempt to the
ledger. Delivery is at least once: a worker that dies mid-attempt leaves a delivery that
falls due again when its lease ends, so receivers deduplicate on ``X-Edigate-Delivery``.
It must not know about FastAPI: the API and the CLI call in here.

Every POST goes through ``gateway.delivery.egress``: a URL whose host is (or resolves to) a
loopback, link-local or private address is refused at registration unless
``EDIGATE_EGRESS_ALLOW`` lets it through, and again at each send (DNS can change since).
A send the policy refuses makes the delivery dead at once, not retried: the answer would
be the same until an operator changes the setting (or the name's records change), and an
operator is who retries dead deliveries. An error answer's body is never read nor kept:
it comes from a third party and would otherwise be shown to every viewer and written to
the ledger, which cannot be redacted; the status code is what is recorded.

Signature: ``X-Edigate-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>``
with ``timestamp`` the ``X-Edigate-Timestamp`` header (unix seconds); receivers should
also refuse timestamps far from their clock, which a retry refreshes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from gateway.delivery.egress import (
    Destination,
    Egress,
    EgressPolicy,
    EgressRefused,
    Job,
    destination,
)
from gateway.errors import GatewayError
from gateway.ledger.chain import Ledger
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.bulk import RawInsert, driver_cursor
from gateway.store.db import Database
from gateway.store.dialect import dialect_of
from gateway.store.models import RecordRow
from gateway.store.scopes import SCOPES
from gateway.store.webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = [
    "EVENT",
    "Deliverer",
    "NewRecord",
    "WebhookError",
    "backoff",
    "check_url",
    "create_webhook",
    "deactivate_webhook",
    "enqueue",
    "parse_kinds",
    "record_kinds",
    "retry_delivery",
    "sign",
]

log = logging.getLogger("edigate.webhooks")

EVENT = "record.created"
_MAX_BACKOFF = timedelta(hours=24)
_ERROR_MAX = 500


class WebhookError(GatewayError):
    """A subscription or operator request that cannot be carried out."""


# -- subscriptions ----------------------------------------------------------------------

def record_kinds() -> frozenset[str]:
    """The record kinds a webhook may subscribe to: all that the records feed serves."""
    return SCOPES["all"]


def parse_kinds(kinds: str | Iterable[str]) -> list[str]:
    """Record kinds from a comma list or an iterable, checked, de-duplicated and sorted."""
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    cleaned = sorted({k.strip() for k in items if k.strip()})
    if not cleaned:
        raise WebhookError(422, "invalid-webhook", "No record kinds",
                           "kinds: name at least one record kind")
    known = record_kinds()
    unknown = [k for k in cleaned if k not in known]
    if unknown:
        raise WebhookError(422, "invalid-webhook", "Unknown record kind",
                           f"kinds: unknown record kind(s) {', '.join(map(repr, unknown))}; "
                           f"known are {', '.join(sorted(known))}")
    return cleaned


def check_url(url: str, policy: EgressPolicy | None = None) -> str:
    """An absolute http(s) URL without credentials or fragment whose host the egress
    ``policy`` (default: nothing special-purpose allowed) lets through, or
    ``WebhookError``. A name that does not resolve yet passes: the send checks again."""
    url = url.strip()
    if not all("!" <= c <= "~" for c in url):
        # RFC 3986 URLs are visible ASCII (anything else is percent-encoded, hosts in
        # punycode); a control character would also be text PostgreSQL cannot store.
        raise WebhookError(422, "invalid-webhook", "Invalid URL",
                           "url: must be visible ASCII (percent-encode other characters)")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise WebhookError(422, "invalid-webhook", "Invalid URL", f"url: {exc}") from exc
    if len(url) > 2000:
        raise WebhookError(422, "invalid-webhook", "Invalid URL",
                           "url: longer than 2000 characters")
    if parts.scheme not in ("http", "https") or not host:
        raise WebhookError(422, "invalid-webhook", "Invalid URL",
                           "url: must be an absolute http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        # It would be written to the ledger; the signature is how receivers authenticate.
        raise WebhookError(422, "invalid-webhook", "Invalid URL",
                           "url: must not carry credentials; verify X-Edigate-Signature "
                           "instead")
    if parts.fragment:
        raise WebhookError(422, "invalid-webhook", "Invalid URL", "url: must not have a "
                           "fragment")
    try:
        (policy or EgressPolicy()).check_url(url, resolve=True)
    except EgressRefused as exc:
        raise WebhookError(422, "invalid-webhook", "Destination not allowed",
                           f"url: {exc}") from exc
    return url


def create_webhook(session: Session, ledger: Ledger, *, url: str, kinds: str | Iterable[str],
                   actor: str, policy: EgressPolicy | None = None) -> Webhook:
    """Subscribe ``url`` to ``kinds``; the returned row's ``secret`` is shown once.
    ``policy``: the egress policy the URL must pass (``EgressPolicy.from_settings``)."""
    row = Webhook(id=str(uuid.uuid4()), url=check_url(url, policy),
                  kinds=",".join(parse_kinds(kinds)),
                  secret="whsec_" + secrets.token_urlsafe(32), active=True,
                  created_at=utcnow())
    session.add(row)
    session.flush()
    ledger.append(session, event="WEBHOOK_CREATED", actor=actor, details={
        "webhook_id": row.id, "url": _public_url(row.url), "kinds": row.kinds})
    return row


def deactivate_webhook(session: Session, ledger: Ledger, webhook_id: str,
                       actor: str) -> Webhook:
    """Stop a subscription: no new deliveries; its pending ones become dead when due."""
    row = session.get(Webhook, webhook_id, with_for_update=_locks(session))
    if row is None:
        raise WebhookError(404, "not-found", "No such webhook", f"webhook {webhook_id} not found")
    if row.active:
        row.active = False
        ledger.append(session, event="WEBHOOK_DEACTIVATED", actor=actor,
                      details={"webhook_id": row.id, "url": _public_url(row.url)})
    return row


def retry_delivery(session: Session, ledger: Ledger, delivery_id: str, actor: str, *,
                   now: datetime | None = None) -> WebhookDelivery:
    """Put a dead delivery back to pending, due at once, with a fresh set of attempts."""
    row = session.get(WebhookDelivery, delivery_id, with_for_update=_locks(session))
    if row is None:
        raise WebhookError(404, "not-found", "No such delivery",
                           f"delivery {delivery_id} not found")
    if row.status != DeliveryStatus.DEAD:
        raise WebhookError(409, "not-dead", "Delivery is not dead",
                           f"delivery {delivery_id} is {row.status}; only dead deliveries "
                           "can be retried")
    webhook = session.get(Webhook, row.webhook_id)
    if webhook is None or not webhook.active:
        raise WebhookError(409, "webhook-inactive", "Webhook is inactive",
                           f"webhook {row.webhook_id} was deactivated; create a new one")
    previous = row.attempts
    row.status = DeliveryStatus.PENDING
    row.attempts = 0
    row.locked_by = None
    row.next_attempt_at = now or utcnow()
    ledger.append(session, event="WEBHOOK_RETRY_REQUESTED", actor=actor,
                  message_id=row.message_id, details={
                      "delivery_id": row.id, "webhook_id": row.webhook_id,
                      "record_id": row.record_id, "previous_attempts": previous})
    return row


# -- enqueue ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record just inserted, as ``enqueue`` needs it."""

    id: str
    kind: str
    message_id: str


_INSERT_DELIVERIES = RawInsert(WebhookDelivery.__table__, (  # type: ignore[arg-type]
    "id", "webhook_id", "record_id", "record_seq", "message_id", "status", "attempts",
    "next_attempt_at", "created_at"))


def enqueue(connection: Connection, records: Sequence[NewRecord]) -> int:
    """Create a pending delivery of each record for each active webhook of its kind; the
    number created.

    Call it in the transaction that inserted the records, after the insert (their feed
    sequence numbers are read back): both commit together, so a record is never without
    its deliveries, and a duplicate post (which creates no record) creates no delivery.
    """
    if not records:
        return 0
    active = select(Webhook.id, Webhook.kinds).where(Webhook.active.is_(True)).order_by(
        Webhook.created_at, Webhook.id)
    hooks = [(hook_id, Webhook.kinds_of(kinds))
             for hook_id, kinds in connection.execute(active)]
    wanted = [(record, hook_id) for record in records for hook_id, kinds in hooks
              if record.kind in kinds]
    if not wanted:
        return 0
    seqs = {record_id: seq for record_id, seq in connection.execute(
        select(RecordRow.id, RecordRow.seq).where(
            RecordRow.id.in_(sorted({record.id for record, _ in wanted}))))}
    dialect = connection.dialect
    now = _INSERT_DELIVERIES.bind(dialect, "next_attempt_at", utcnow())
    rows = [(str(uuid.uuid4()), hook_id, record.id, seqs[record.id], record.message_id,
             DeliveryStatus.PENDING, 0, now, now) for record, hook_id in wanted]
    with driver_cursor(connection) as cursor:
        _INSERT_DELIVERIES.execute(cursor, dialect, rows)
    return len(rows)


# -- delivery ---------------------------------------------------------------------------

def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Edigate-Signature`` value: HMAC-SHA256 over ``<timestamp>.<body>``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: base, 2 base, 4 base, ... (24 h cap).

    No jitter: retries of different deliveries already spread with their creation times,
    and a deterministic schedule is what an operator (and a test) can reason about.
    """
    seconds = settings.webhook_backoff_seconds * 2.0 ** min(max(attempts - 1, 0), 40)
    return min(timedelta(seconds=seconds), _MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One claimed try of a delivery: what to send, and the claim that owns it."""

    delivery_id: str
    webhook_id: str
    record_id: str
    message_id: str
    url: str
    secret: str
    body: bytes
    number: int
    token: str


class Deliverer:
    """Claims due deliveries and POSTs them through ``gateway.delivery.egress``.

    Thread-safe: :meth:`claim` and :meth:`send` of different attempts may run on
    different threads at once (``gateway.runtime.workers`` claims on one thread and sends on a
    pool's), each claim carrying its own token. ``now`` (every method takes it) replaces
    the clock, so tests can walk the retry schedule; by default it is the current time.
    An attempt's lease must outlast its deadline, else another worker could send the same
    delivery while this one still waits: the deadline is at most half the lease.
    """

    def __init__(self, db: Database, ledger: Ledger, settings: Settings, *,
                 lease: timedelta | None = None, worker: str | None = None,
                 timeout: float | None = None) -> None:
        self.db = db
        self.ledger = ledger
        self.settings = settings
        self.lease = lease or timedelta(seconds=settings.lease_seconds)
        self.worker = (worker or f"deliverer:{settings.worker_id}")[:120]
        deadline = self.lease.total_seconds() / 2
        self.egress = Egress.from_settings(
            settings, user_agent="edigate-webhooks/0.1",
            deadline_seconds=min(deadline, timeout) if timeout is not None else deadline)

    def close(self) -> None:
        self.egress.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def run_once(self, now: datetime | None = None, *, limit: int = 100) -> int:
        """Attempt due deliveries until none is left (or ``limit``); how many were tried."""
        tried = 0
        while tried < limit:
            attempt = self.claim(now)
            if attempt is None:
                break
            self.send(attempt, now)
            tried += 1
        return tried

    def claim_job(self, busy: Collection[Destination] = (), now: datetime | None = None
                  ) -> Job | None:
        """For ``gateway.delivery.egress.OutboundPool``: claim an attempt not bound for ``busy``
        destinations, and the call that sends it."""
        attempt = self.claim(now, busy=busy)
        if attempt is None:
            return None
        return destination(attempt.url), lambda: self.send(attempt, now)

    def claim(self, now: datetime | None = None, *,
              busy: Collection[Destination] = ()) -> Attempt | None:
        """Take the next due delivery for one attempt, or None when nothing is due.

        Due means pending with ``next_attempt_at`` reached, which includes a claim whose
        lease ran out: that attempt's outcome is unknown, so it is written to the ledger
        as failed and the delivery is sent again (at least once, never lost). Deliveries
        whose webhook was deactivated or whose record a reprocess superseded become dead.
        Deliveries to a ``busy`` destination (scheme, host, port) are left for later.
        """
        while True:
            at = now or utcnow()
            with self.db.transaction() as session:
                query = (select(WebhookDelivery)
                         .where(WebhookDelivery.status == DeliveryStatus.PENDING,
                                WebhookDelivery.next_attempt_at <= at)
                         .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.record_seq,
                                   WebhookDelivery.id)
                         .limit(1))
                if busy:
                    skipped = [hook_id for hook_id, url in session.execute(
                        select(Webhook.id, Webhook.url)) if destination(url) in busy]
                    if skipped:
                        query = query.where(WebhookDelivery.webhook_id.not_in(skipped))
                row = session.scalars(self.db.dialect.claimable(query)).first()
                if row is None:
                    return None
                webhook = session.get(Webhook, row.webhook_id)
                assert webhook is not None  # a foreign key
                if row.locked_by is not None and not self._resume_lost(session, row, webhook,
                                                                        at):
                    continue
                record = session.scalars(
                    select(RecordRow).where(RecordRow.id == row.record_id)).first()
                problem = None
                if not webhook.active:
                    problem = "the webhook was deactivated"
                elif record is None:
                    problem = "the record no longer exists (a reprocess superseded it)"
                if problem is not None:
                    row.status = DeliveryStatus.DEAD
                    row.last_status_code = None
                    row.last_error = problem
                    self._append(session, "WEBHOOK_DEAD", row, webhook, row.attempts, None,
                                 problem)
                    continue
                assert record is not None
                row.attempts += 1
                row.locked_by = f"{uuid.uuid4().hex[:12]}@{self.worker}"[:120]
                row.next_attempt_at = at + self.lease
                return Attempt(delivery_id=row.id, webhook_id=webhook.id,
                               record_id=record.id, message_id=row.message_id,
                               url=webhook.url, secret=webhook.secret, body=_body(record),
                               number=row.attempts, token=row.locked_by)

    def _resume_lost(self, session: Session, row: WebhookDelivery, webhook: Webhook,
                     at: datetime) -> bool:
        """Record the attempt whose worker never reported; False when that was the last."""
        error = (f"no result from {row.locked_by} before its lease ended: the outcome is "
                 "unknown")
        row.locked_by = None
        row.last_status_code = None
        row.last_error = error
        if row.attempts >= self.settings.webhook_max_attempts:
            row.status = DeliveryStatus.DEAD
            self._append(session, "WEBHOOK_DEAD", row, webhook, row.attempts, None, error)
            return False
        self._append(session, "WEBHOOK_RETRY", row, webhook, row.attempts, None, error,
                     next_attempt_at=at)
        return True

    def send(self, attempt: Attempt, now: datetime | None = None) -> str:
        """POST one claimed attempt and record its outcome; the delivery's new status
        (or ``"lost"`` when the claim was taken over meanwhile and nothing is recorded)."""
        timestamp = int((now or utcnow()).timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Edigate-Timestamp": str(timestamp),
            "X-Edigate-Signature": sign(attempt.secret, timestamp, attempt.body),
            "X-Edigate-Delivery": attempt.delivery_id,
            "X-Edigate-Event": EVENT,
        }
        code: int | None = None
        error: str | None = None
        refused = False
        try:
            with self.egress.stream("POST", attempt.url, content=attempt.body,
                                    headers=headers) as response:
                code = response.status_code
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
        except EgressRefused as exc:
            error, refused = str(exc), True
        except Exception as exc:  # any failure to send is a failed attempt, to be retried
            error = f"{type(exc).__name__}: {exc}"
        return self._finish(attempt, code, error, now or utcnow(), refused=refused)

    def _finish(self, attempt: Attempt, code: int | None, error: str | None,
                at: datetime, *, refused: bool = False) -> str:
        with self.db.transaction() as session:
            row = session.get(WebhookDelivery, attempt.delivery_id,
                              with_for_update=self.db.dialect.locks_rows)
            if row is None or row.locked_by != attempt.token or \
                    row.status != DeliveryStatus.PENDING:
                log.warning("delivery %s: attempt %d finished after its lease was taken over",
                            attempt.delivery_id, attempt.number)
                return "lost"
            webhook = session.get(Webhook, row.webhook_id)
            assert webhook is not None
            row.locked_by = None
            row.last_status_code = code
            row.last_error = error[:_ERROR_MAX] if error else None
            if error is None:
                row.status = DeliveryStatus.DELIVERED
                row.delivered_at = at
                self._append(session, "WEBHOOK_DELIVERED", row, webhook, attempt.number, code,
                             None)
            elif refused or row.attempts >= self.settings.webhook_max_attempts:
                row.status = DeliveryStatus.DEAD
                self._append(session, "WEBHOOK_DEAD", row, webhook, attempt.number, code,
                             row.last_error)
            else:
                row.next_attempt_at = at + backoff(self.settings, row.attempts)
                self._append(session, "WEBHOOK_RETRY", row, webhook, attempt.number, code,
                             row.last_error, next_attempt_at=row.next_attempt_at)
            return row.status

    def _append(self, session: Session, event: str, row: WebhookDelivery, webhook: Webhook,
                attempt: int, code: int | None, error: str | None, *,
                next_attempt_at: datetime | None = None) -> None:
        details: dict[str, object] = {
            "delivery_id": row.id, "webhook_id": webhook.id, "record_id": row.record_id,
            "attempt": attempt, "status_code": code, "error": error,
            "url": _public_url(webhook.url),
        }
        if next_attempt_at is not None:
            details["next_attempt_at"] = next_attempt_at.isoformat()
        self.ledger.append(session, event=event, actor=self.worker, message_id=row.message_id,
                           details=details)


def _body(record: RecordRow) -> bytes:
    payload = {"id": record.id, "cursor": str(record.seq), "kind": record.kind,
               "partner_id": record.partner_id, "message_id": record.message_id,
               "record": json.loads(record.data)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _public_url(url: str) -> str:
    """The URL as the ledger keeps it: a query string may carry a token, so it is elided."""
    parts = urlsplit(url)
    return parts._replace(query="...").geturl() if parts.query else url


def _locks(session: Session) -> bool:
    return dialect_of(session.get_bind().dialect.name).locks_rows
