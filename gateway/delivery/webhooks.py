"""Webhooks: every new record is POSTed, signed, to the internal systems that subscribed.

Responsible for subscriptions (create, deactivate), for enqueueing one delivery per
matching webhook in the transaction that stores a record (so a record and its deliveries
commit together or not at all), likewise for events (``enqueue_events``, the one entry
point of every event writer, which also adds the event's message broker deliveries:
``gateway.delivery.brokers``), and for ``WebhookChannel``: what one attempt of a delivery
POSTs (signed with HMAC-SHA256) and what each outcome writes. Claiming under a lease,
retrying with backoff and dead-lettering after the last try are the one outbox's
(``gateway.delivery.outbox``; ``Deliverer`` is that outbox for webhooks), every attempt in
the ledger. Delivery is at least once: a worker that dies mid-attempt leaves a delivery
that falls due again when its lease ends, so receivers deduplicate on ``X-Edigate-Delivery``.
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
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.delivery.egress import (
    Destination,
    Egress,
    EgressPolicy,
    EgressRefused,
    destination,
    public_url,
)
from gateway.delivery.outbox import Channel, Outbox, Outcome, Undeliverable, retry_after
from gateway.errors import GatewayError
from gateway.ledger.chain import Ledger
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.brokers import add_deliveries, routes_of
from gateway.store.bulk import RawInsert, driver_cursor
from gateway.store.db import Database
from gateway.store.dialect import dialect_for
from gateway.store.events import EVENT_TYPES, Event
from gateway.store.models import RecordRow
from gateway.store.scopes import SCOPES
from gateway.store.webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = [
    "EVENT",
    "Deliverer",
    "NewRecord",
    "Subscriptions",
    "WebhookChannel",
    "WebhookError",
    "check_url",
    "create_webhook",
    "deactivate_webhook",
    "enqueue",
    "enqueue_events",
    "event_body",
    "parse_kinds",
    "record_kinds",
    "retry_delivery",
    "sign",
    "subscriptions",
]

log = logging.getLogger("edigate.webhooks")

EVENT = "record.created"
_ERROR_MAX = 500


class WebhookError(GatewayError):
    """A subscription or operator request that cannot be carried out."""


# -- subscriptions ----------------------------------------------------------------------

def record_kinds() -> frozenset[str]:
    """The record kinds a webhook may subscribe to: all that the records feed serves."""
    return SCOPES["all"]


def parse_kinds(kinds: str | Iterable[str]) -> list[str]:
    """Record kinds and event types (``document.rejected``, ...) from a comma list or an
    iterable, checked, de-duplicated and sorted."""
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    cleaned = sorted({k.strip() for k in items if k.strip()})
    if not cleaned:
        raise WebhookError(422, "invalid-webhook", "No record kinds",
                           "kinds: name at least one record kind or event type")
    known = record_kinds() | EVENT_TYPES
    unknown = [k for k in cleaned if k not in known]
    if unknown:
        raise WebhookError(422, "invalid-webhook", "Unknown record kind",
                           f"kinds: unknown record kind(s) or event type(s) "
                           f"{', '.join(map(repr, unknown))}; known are "
                           f"{', '.join(sorted(known))}")
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
        "webhook_id": row.id, "url": public_url(row.url), "kinds": row.kinds})
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
                      details={"webhook_id": row.id, "url": public_url(row.url)})
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
                      _subject_key(row): row.record_id, "previous_attempts": previous})
    return row


# -- enqueue ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record just inserted, as ``enqueue`` needs it."""

    id: str
    kind: str
    message_id: str


class _DeliveryValues(NamedTuple):
    """A new pending delivery as ``enqueue`` inserts it: the fields are the columns."""

    id: str
    webhook_id: str
    record_id: str
    record_seq: int
    message_id: str
    status: str
    attempts: int
    next_attempt_at: object  # the batch's time as the driver binds it (``RawInsert.bind``)
    created_at: object


_INSERT_DELIVERIES = RawInsert(WebhookDelivery.__table__,  # type: ignore[arg-type]
                               _DeliveryValues)


class Subscriptions(NamedTuple):
    """Who takes what, read once for a transaction that writes records or events:
    ``hooks`` are (webhook id, the record kinds and event types it takes) of every active
    webhook, oldest first; ``event_types`` the event types something takes delivery of,
    a webhook or a message broker (an event of another type would be stored for nobody:
    ``gateway.orders.book`` makes only these)."""

    hooks: list[tuple[str, frozenset[str]]]
    event_types: frozenset[str]


def subscriptions(session: Session) -> Subscriptions:
    """The active subscriptions, for the session's transaction. A batch reads them once
    and hands them to ``enqueue``, ``enqueue_events`` and the order book, one round trip
    instead of one each."""
    active = select(Webhook.id, Webhook.kinds).where(Webhook.active.is_(True)).order_by(
        Webhook.created_at, Webhook.id)
    hooks = [(hook_id, Webhook.kinds_of(kinds)) for hook_id, kinds in session.execute(active)]
    brokers = {kind for route in routes_of(session) for kind in EVENT_TYPES
               if route.takes(kind)}
    return Subscriptions(hooks, frozenset(kind for _, kinds in hooks for kind in kinds
                                          if kind in EVENT_TYPES) | brokers)


def enqueue(session: Session, records: Sequence[NewRecord],
            subscribed: Subscriptions | None = None) -> int:
    """Create a pending delivery of each record for each active webhook of its kind
    (``subscribed``, read here when not given); the number created.

    Call it in the transaction that inserted the records, after the insert (their feed
    sequence numbers are read back): both commit together, so a record is never without
    its deliveries, and a duplicate post (which creates no record) creates no delivery.
    """
    if not records:
        return 0
    hooks = (subscribed or subscriptions(session)).hooks
    wanted = [(record, hook_id) for record in records for hook_id, kinds in hooks
              if record.kind in kinds]
    if not wanted:
        return 0
    connection = session.connection()
    seqs = {record_id: seq for record_id, seq in connection.execute(
        select(RecordRow.id, RecordRow.seq).where(
            RecordRow.id.in_(sorted({record.id for record, _ in wanted}))))}
    dialect = connection.dialect
    now = _INSERT_DELIVERIES.bind(dialect, "next_attempt_at", utcnow())
    rows = [_DeliveryValues(id=str(uuid.uuid4()), webhook_id=hook_id, record_id=record.id,
                            record_seq=seqs[record.id], message_id=record.message_id,
                            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now,
                            created_at=now) for record, hook_id in wanted]
    with driver_cursor(connection) as cursor:
        _INSERT_DELIVERIES.execute(cursor, dialect, rows)
    return len(rows)


def enqueue_events(session: Session, events: Sequence[Event],
                   subscribed: Subscriptions | None = None) -> int:
    """Create a pending delivery of each event for each active webhook subscribed to its
    type (``subscribed``, read here when not given), and for each message broker this
    process publishes it to (``gateway.store.brokers.add_deliveries``), in the caller's
    transaction (the one that inserted the events, flushed: the deliveries carry their
    seq); the number created.

    The one entry point for every writer of events: an event and all its deliveries,
    webhook and broker, commit together or not at all."""
    if not events:
        return 0
    count = add_deliveries(session, events)
    hooks = (subscribed or subscriptions(session)).hooks
    for event in events:
        for hook_id, kinds in hooks:
            if event.type in kinds:
                session.add(WebhookDelivery(
                    id=str(uuid.uuid4()), webhook_id=hook_id, subject="event",
                    record_id=event.id, record_seq=event.seq,
                    message_id=event.message_id or "", status=DeliveryStatus.PENDING,
                    attempts=0, next_attempt_at=event.created_at,
                    created_at=event.created_at))
                count += 1
    return count


# -- delivery ---------------------------------------------------------------------------

def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Edigate-Signature`` value: HMAC-SHA256 over ``<timestamp>.<body>``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one try of a delivery sends."""

    delivery_id: str
    url: str
    secret: str
    body: bytes
    event: str = EVENT  # X-Edigate-Event: record.created or the event's type


# The type-var ignores: mypy checks a base class's type argument against OutboxRow before
# it has read the mapped columns' descriptors; a WebhookDelivery assigned to an OutboxRow
# type-checks.
class WebhookChannel(Channel[WebhookDelivery, Attempt]):  # type: ignore[type-var]
    """Webhook deliveries as an outbox channel: a pending delivery is POSTed, signed, to
    its webhook's URL. A delivery whose webhook was deactivated or whose record a
    reprocess superseded becomes dead unsent; one the egress policy refuses, dead at once.
    """

    model = WebhookDelivery
    name = "webhook delivery"
    user_agent = "edigate-webhooks/0.1"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def pending(self) -> ColumnElement[bool]:
        return WebhookDelivery.status == DeliveryStatus.PENDING

    def order(self) -> tuple[InstrumentedAttribute[Any], ...]:
        return (WebhookDelivery.record_seq, WebhookDelivery.id)

    def skip_busy(self, session: Session, query: Select[WebhookDelivery],
                  busy: Collection[Destination]) -> Select[WebhookDelivery]:
        skipped = [hook_id for hook_id, url in session.execute(select(Webhook.id, Webhook.url))
                   if destination(url) in busy]
        return query.where(WebhookDelivery.webhook_id.not_in(skipped)) if skipped else query

    def prepare(self, session: Session, row: WebhookDelivery) -> tuple[Destination, Attempt]:
        webhook = _webhook(session, row)
        if not webhook.active:
            raise Undeliverable("the webhook was deactivated")
        if row.subject == "event":
            event = session.scalars(select(Event).where(Event.id == row.record_id)).one()
            return destination(webhook.url), Attempt(row.id, webhook.url, webhook.secret,
                                                     event_body(event), event.type)
        record = session.scalars(select(RecordRow).where(RecordRow.id == row.record_id)).first()
        if record is None:
            raise Undeliverable("the record no longer exists (a reprocess superseded it)")
        return destination(webhook.url), Attempt(row.id, webhook.url, webhook.secret,
                                                 _body(record))

    def send(self, work: Attempt, egress: Egress, at: datetime) -> Outcome:
        timestamp = int(at.timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Edigate-Timestamp": str(timestamp),
            "X-Edigate-Signature": sign(work.secret, timestamp, work.body),
            "X-Edigate-Delivery": work.delivery_id,
            "X-Edigate-Event": work.event,
        }
        try:
            with egress.stream("POST", work.url, content=work.body,
                               headers=headers) as response:
                code = response.status_code
                wait = retry_after(response.headers.get("Retry-After"), at)
        except EgressRefused as exc:
            return Outcome(str(exc), final=True)
        except Exception as exc:  # any failure to send is a failed attempt, to be retried
            return Outcome(f"{type(exc).__name__}: {exc}")
        if 200 <= code < 300:
            return Outcome(None, detail=code)
        return Outcome(f"HTTP {code}", detail=code, wait=wait)

    def succeeded(self, session: Session, row: WebhookDelivery, attempt: int,
                  outcome: Outcome, at: datetime, actor: str) -> None:
        row.status = DeliveryStatus.DELIVERED
        row.delivered_at = at
        row.last_status_code = outcome.detail
        self._append(session, "WEBHOOK_DELIVERED", row, attempt, outcome, actor)

    def retrying(self, session: Session, row: WebhookDelivery, attempt: int,
                 outcome: Outcome, actor: str) -> None:
        row.last_status_code = outcome.detail
        self._append(session, "WEBHOOK_RETRY", row, attempt, outcome, actor,
                     next_attempt_at=row.next_attempt_at)

    def gave_up(self, session: Session, row: WebhookDelivery, attempt: int,
                outcome: Outcome, actor: str) -> None:
        row.status = DeliveryStatus.DEAD
        row.last_status_code = outcome.detail
        self._append(session, "WEBHOOK_DEAD", row, attempt, outcome, actor)

    def _append(self, session: Session, event: str, row: WebhookDelivery, attempt: int,
                outcome: Outcome, actor: str, *,
                next_attempt_at: datetime | None = None) -> None:
        webhook = _webhook(session, row)
        row.last_error = row.last_error[:_ERROR_MAX] if row.last_error else None
        details: dict[str, object] = {
            "delivery_id": row.id, "webhook_id": webhook.id, _subject_key(row): row.record_id,
            "attempt": attempt, "status_code": outcome.detail,
            "error": row.last_error, "url": public_url(webhook.url),
        }
        if next_attempt_at is not None:
            details["next_attempt_at"] = next_attempt_at.isoformat()
        self.ledger.append(session, event=event, actor=actor, message_id=row.message_id,
                           details=details)


class Deliverer(Outbox[WebhookDelivery, Attempt]):  # type: ignore[type-var]
    """The outbox of webhook deliveries (``WebhookChannel``); ``worker`` names its claims
    (default ``deliverer:<worker id>``)."""

    def __init__(self, db: Database, ledger: Ledger, settings: Settings, *,
                 lease: timedelta | None = None, worker: str | None = None,
                 timeout: float | None = None) -> None:
        super().__init__(WebhookChannel(ledger), db, ledger, settings, lease=lease,
                         worker=worker or f"deliverer:{settings.worker_id}", timeout=timeout)


def _subject_key(row: WebhookDelivery) -> str:
    """The ledger detail naming what a delivery carries: its ``record_id`` column holds
    an event's id when the subject is an event."""
    return "event_id" if row.subject == "event" else "record_id"


def _webhook(session: Session, row: WebhookDelivery) -> Webhook:
    webhook = session.get(Webhook, row.webhook_id)
    assert webhook is not None  # a foreign key
    return webhook


def _body(record: RecordRow) -> bytes:
    payload = {"id": record.id, "cursor": str(record.seq), "kind": record.kind,
               "partner_id": record.partner_id, "message_id": record.message_id,
               "record": json.loads(record.data)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_body(event: Event) -> bytes:
    """The JSON body of an event, as a webhook receives it and a broker carries it."""
    payload = {"id": event.id, "cursor": str(event.seq), "type": event.type,
               "partner_id": event.partner_id, "message_id": event.message_id,
               "created_at": event.created_at.isoformat(), "data": json.loads(event.data)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _locks(session: Session) -> bool:
    return dialect_for(session).locks_rows
