"""Message brokers: every event published to RabbitMQ (AMQP 0-9-1) and NATS JetStream, as
channels of the one outbox.

Responsible for reading the broker targets out of ``Settings`` (``broker_targets``:
checked, with the ``BrokerRoute`` each gives the store), for what one attempt does (a
``Publisher`` per broker, kept connected by its dispatcher and reconnected when the
connection dropped) and for ledgering each outcome (BROKER_PUBLISHED, BROKER_PUBLISH_RETRY,
BROKER_PUBLISH_FAILED). The rows are ``gateway.store.brokers.BrokerDelivery``, added with
the event by ``gateway.delivery.webhooks.enqueue_events``; claiming under a lease,
retrying with backoff and giving up are the outbox's (``gateway.delivery.outbox``).
It must not decide which events there are, nor know about FastAPI.

What a consumer gets, on either broker: the event's JSON body exactly as a webhook
receives it (``gateway.delivery.webhooks.event_body``), with the event id as the
idempotency key (AMQP ``message_id``; NATS ``Nats-Msg-Id``, by which JetStream drops a
retried publish it already stored within the stream's duplicate window). Delivery is at
least once: a publish whose confirmation never came (the broker or the connection went
away, the lease ran out) is published again, so consumers deduplicate on the id.

- **AMQP**: a durable topic exchange (declared on each new connection), routing key = the
  event type, persistent messages, ``content_type`` application/json, publisher confirms
  and ``mandatory``: an attempt succeeds only when the broker confirmed the message; a
  nack, a message returned unroutable (no queue bound for its type) or a lost connection
  is a failed attempt, retried with the outbox's backoff.
- **NATS JetStream**: subject ``<prefix>.<event type>``, the PubAck awaited (the attempt
  fails without it); the stream (``EDIGATE_NATS_STREAM`` over ``<prefix>.>``) is created
  when missing; ``Nats-Expected-Stream`` makes a publish that some other stream would
  take fail instead.

Every failure is retried: each is in the operator's own infrastructure (a broker down, a
queue not bound yet, credentials being rotated) and the event waits in the outbox until it
is fixed, for the outbox's attempts. Broker URLs are the operator's settings, not data
from a partner or a consumer, so they are not subject to the egress policy (which guards
the URLs others give us). Credentials in a URL never reach the ledger, the log or a row:
the ledger names ``public`` targets, and every error text is scrubbed of them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Collection
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import nats
import nats.errors
import nats.js.errors
import pika
import pika.exceptions
from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.delivery.egress import Destination, Egress
from gateway.delivery.outbox import Channel, Outbox, Outcome
from gateway.delivery.webhooks import event_body
from gateway.ledger.chain import Ledger
from gateway.runtime.settings import Settings
from gateway.store.brokers import BrokerDelivery, BrokerRoute, BrokerStatus
from gateway.store.db import Database
from gateway.store.events import EVENT_TYPES, Event

__all__ = [
    "AMQPPublisher",
    "BrokerChannel",
    "BrokerConfigError",
    "BrokerDeliverer",
    "BrokerTarget",
    "NATSPublisher",
    "Publication",
    "Publisher",
    "broker_targets",
]

log = logging.getLogger("edigate.brokers")

_ERROR_MAX = 500
_REDACTED = "[redacted]"
# JetStream drops a message whose Nats-Msg-Id it stored within this window; a stream
# edigate creates keeps the ids for an hour, which covers the outbox's first retries (the
# ones that follow a lost PubAck). Beyond it, consumers deduplicate on the id.
_DUPLICATE_WINDOW_SECONDS = 3600.0
# A NATS subject token (and stream name): no whitespace, no wildcard, no separator.
_TOKEN = re.compile(r"[^\s.*>/\\]+")


class BrokerConfigError(ValueError):
    """A broker setting that cannot work; the message names the variable."""


# -- configuration ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BrokerTarget:
    """A broker events go to: ``broker`` "amqp" or "nats", its URL (which may carry
    credentials: never shown), ``name`` the exchange (AMQP) or subject prefix (NATS),
    ``stream`` the JetStream stream, ``types`` the event types it takes (None: all)."""

    broker: str
    url: str = field(repr=False)
    name: str
    types: frozenset[str] | None = None
    stream: str = ""

    @property
    def route(self) -> BrokerRoute:
        return BrokerRoute(self.broker, self.types)

    @property
    def public(self) -> str:
        """The target as the ledger and the log name it: the URL without credentials or
        query, and the exchange or stream."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        where = parts._replace(netloc=netloc, query="", fragment="").geturl()
        if self.broker == "amqp":
            return f"{where} exchange {self.name}"
        return f"{where} stream {self.stream} subjects {self.name}.>"

    @property
    def destination(self) -> Destination:
        parts = urlsplit(self.url)
        default = {"amqp": 5672, "amqps": 5671}.get(parts.scheme, 4222)  # IANA ports
        return (parts.scheme, (parts.hostname or "").lower(), parts.port or default)

    def secrets(self) -> tuple[str, ...]:
        """The credential texts in the URL, for scrubbing error messages."""
        parts = urlsplit(self.url)
        found = [parts.password, parts.username if self.broker == "nats" else None]
        texts = {t for s in found if s for t in (s, unquote(s))}
        return tuple(sorted(texts, key=len, reverse=True))


def _types(variable: str, text: str) -> frozenset[str] | None:
    names = {name.strip() for name in text.split(",") if name.strip()}
    if not names:
        return None
    unknown = sorted(names - EVENT_TYPES)
    if unknown:
        raise BrokerConfigError(
            f"{variable}: unknown event type(s) {', '.join(map(repr, unknown))}; known are "
            f"{', '.join(sorted(EVENT_TYPES))} (empty: every event type)")
    return frozenset(names)


def _url(variable: str, url: str, schemes: tuple[str, ...]) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise BrokerConfigError(f"{variable}: not a URL ({exc})") from None
    if parts.scheme not in schemes or not parts.hostname:
        # The URL itself is not quoted: it may carry a password.
        raise BrokerConfigError(f"{variable}: must be a {' or '.join(schemes)} URL with a "
                                "host")
    return url


def broker_targets(settings: Settings) -> tuple[BrokerTarget, ...]:
    """The brokers ``settings`` configure (none: no URL set), or ``BrokerConfigError``."""
    targets = []
    if settings.amqp_url is not None:
        url = _url("EDIGATE_AMQP_URL", settings.amqp_url.get_secret_value(),
                   ("amqp", "amqps"))
        try:
            pika.URLParameters(url)
        except Exception as exc:  # pika says which query option it refuses
            raise BrokerConfigError("EDIGATE_AMQP_URL: " + _scrub(
                f"{exc}", BrokerTarget("amqp", url, "").secrets())) from None
        exchange = settings.amqp_exchange.strip()
        if not exchange or len(exchange) > 255:
            raise BrokerConfigError("EDIGATE_AMQP_EXCHANGE: an exchange name of 1 to 255 "
                                    "characters")
        targets.append(BrokerTarget("amqp", url, exchange,
                                    _types("EDIGATE_AMQP_EVENTS", settings.amqp_events)))
    if settings.nats_url is not None:
        url = _url("EDIGATE_NATS_URL", settings.nats_url.get_secret_value(), ("nats", "tls"))
        prefix = settings.nats_subject_prefix.strip()
        if not prefix or not all(_TOKEN.fullmatch(t) for t in prefix.split(".")):
            raise BrokerConfigError("EDIGATE_NATS_SUBJECT_PREFIX: dot-separated subject "
                                    "tokens without spaces or wildcards (* >)")
        stream = settings.nats_stream.strip()
        if not _TOKEN.fullmatch(stream):
            raise BrokerConfigError("EDIGATE_NATS_STREAM: a stream name without spaces, "
                                    "dots, wildcards or slashes")
        targets.append(BrokerTarget("nats", url, prefix,
                                    _types("EDIGATE_NATS_EVENTS", settings.nats_events),
                                    stream=stream))
    return tuple(targets)


# -- publishers -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Publication:
    """One claimed attempt: the event's id (the idempotency key), type and body."""

    delivery_id: str
    event_id: str
    event_type: str
    body: bytes
    created_at: datetime


class Publisher(Protocol):
    """Publishes to one broker target. ``publish`` returns the broker's receipt (for the
    ledger) once the broker has taken the message, and raises otherwise. Called by one
    thread at a time (``BrokerDeliverer`` sends one attempt at a time)."""

    target: BrokerTarget

    def publish(self, publication: Publication) -> dict[str, object]: ...

    def idle(self) -> None:
        """Called between attempts while nothing is due: keep the connection alive."""

    def close(self) -> None: ...


class AMQPPublisher:
    """AMQP 0-9-1 through pika's ``BlockingConnection``: one connection and confirm-mode
    channel, opened on first use and again after it dropped."""

    def __init__(self, target: BrokerTarget, deadline: float) -> None:
        self.target = target
        self.deadline = deadline
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None

    def _parameters(self) -> pika.URLParameters:
        parameters = pika.URLParameters(self.target.url)
        # One try per attempt (the outbox retries), each bounded by the attempt's deadline.
        parameters.connection_attempts = 1
        parameters.socket_timeout = self.deadline
        parameters.stack_timeout = self.deadline
        parameters.blocked_connection_timeout = self.deadline
        if "heartbeat" not in parse_qs(urlsplit(self.target.url).query):
            # A peer that vanished without closing is noticed by missed heartbeats, also
            # while a publish waits for its confirmation: a short interval keeps that
            # wait near the attempt's deadline (``idle`` answers heartbeats meanwhile).
            parameters.heartbeat = max(1, int(self.deadline // 2))
        parameters.client_properties = {"connection_name": "edigate events"}
        return parameters

    def _open(self) -> Any:
        connection = self._connection
        if connection is not None and connection.is_open and self._channel is not None \
                and self._channel.is_open:
            try:
                # A blocking connection reads only when called: this notices a connection
                # the broker closed while we were idle (a restart, missed heartbeats)
                # before a message is handed to it.
                connection.process_data_events(time_limit=0)
                return self._channel
            except Exception:
                self._drop()
        self._drop()
        connection = pika.BlockingConnection(self._parameters())
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.target.name, exchange_type="topic", durable=True)
        except Exception:
            _quietly(connection.close)
            raise
        self._connection, self._channel = connection, channel
        return channel

    def publish(self, publication: Publication) -> dict[str, object]:
        with self._lock:
            channel = self._open()
            properties = pika.BasicProperties(
                content_type="application/json", delivery_mode=2,
                message_id=publication.event_id, type=publication.event_type,
                timestamp=int(publication.created_at.timestamp()), app_id="edigate")
            try:
                channel.basic_publish(self.target.name, publication.event_type,
                                      publication.body, properties, mandatory=True)
            except pika.exceptions.UnroutableError:
                raise _Refused(f"unroutable: no queue is bound to exchange "
                               f"{self.target.name!r} for routing key "
                               f"{publication.event_type!r}") from None
            except pika.exceptions.NackError:
                raise _Refused("the broker nacked the message (it could not take it)"
                               ) from None
            except Exception:
                self._drop()
                raise
        return {}

    def idle(self) -> None:
        with self._lock:
            if self._connection is None:
                return
            try:
                # A blocking connection answers the broker's heartbeats only while it is
                # called; without this an idle one would be closed by the broker.
                self._connection.process_data_events(time_limit=0)
            except Exception:  # gone: the next publish opens a new one
                self._drop()

    def _drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            _quietly(connection.close)

    def close(self) -> None:
        with self._lock:
            self._drop()


class NATSPublisher:
    """NATS JetStream through nats-py, whose client is asyncio: it runs on a private event
    loop in a thread of its own, started on first use; ``publish`` hands each publish to
    it and waits at most the deadline. The connection does not reconnect by itself: a
    dropped one is replaced at the next publish, so every attempt's outcome is its own."""

    def __init__(self, target: BrokerTarget, deadline: float) -> None:
        self.target = target
        self.deadline = deadline
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._nc: Any = None
        self._js: Any = None

    def _run(self, coroutine: Any) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                            name=f"nats:{self.target.destination[1]}")
            self._thread.start()
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=self.deadline + 1)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"no answer within {self.deadline:.0f} s") from None

    async def _connect(self) -> Any:
        if self._nc is not None and self._nc.is_connected:
            return self._js
        await self._disconnect()

        async def quiet(_error: Exception) -> None:
            # The failure is what the attempt raises; nats-py would log a traceback.
            return None

        host, port = self.target.destination[1:]
        try:
            nc = await asyncio.wait_for(nats.connect(
                self.target.url, name="edigate events", connect_timeout=self.deadline,
                allow_reconnect=False, max_reconnect_attempts=1, reconnect_time_wait=0,
                error_cb=quiet), self.deadline)
        except nats.errors.NoServersError:
            raise ConnectionError(f"cannot connect to the NATS server at {host}:{port}"
                                  ) from None
        js = nc.jetstream(timeout=self.deadline)
        try:
            try:
                await js.stream_info(self.target.stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(name=self.target.stream,
                                    subjects=[f"{self.target.name}.>"],
                                    duplicate_window=_DUPLICATE_WINDOW_SECONDS)
        except BaseException:  # cancelled at the deadline too: the connection is not kept
            await nc.close()
            raise
        self._nc, self._js = nc, js
        return js

    async def _publish(self, publication: Publication) -> dict[str, object]:
        js = await self._connect()
        try:
            ack = await js.publish(
                f"{self.target.name}.{publication.event_type}", publication.body,
                timeout=self.deadline, stream=self.target.stream,
                headers={"Nats-Msg-Id": publication.event_id,
                         "Content-Type": "application/json",
                         "Edigate-Event": publication.event_type})
        except BaseException:  # an answer may still come on it: not kept
            await self._disconnect()
            raise
        return {"stream_seq": ack.seq, "duplicate": bool(ack.duplicate)}

    async def _disconnect(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await nc.close()
            except Exception:  # closing a broken connection: nothing left to do
                log.debug("closing the NATS connection failed", exc_info=True)

    def publish(self, publication: Publication) -> dict[str, object]:
        with self._lock:
            result: dict[str, object] = self._run(
                asyncio.wait_for(self._publish(publication), self.deadline))
            return result

    def idle(self) -> None:
        """Nothing to do: nats-py answers the server's pings on its own loop."""

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._disconnect(), loop).result(
                    timeout=self.deadline)
            except Exception:  # the loop is stopped below whatever the close did
                log.debug("closing the NATS connection failed", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            self._loop = self._thread = None


class _Refused(Exception):
    """The broker answered and did not take the message (nacked, unroutable)."""


def _quietly(close: Callable[[], object]) -> None:
    try:
        close()
    except Exception:  # the connection is being discarded: its close may fail too
        log.debug("closing a broker connection failed", exc_info=True)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return text


# -- the channel ------------------------------------------------------------------------

# The type-var ignores: see gateway.delivery.webhooks.WebhookChannel.
class BrokerChannel(Channel[BrokerDelivery, Publication]):  # type: ignore[type-var]
    """One broker's deliveries as an outbox channel (see the module docstring)."""

    model = BrokerDelivery
    user_agent = "edigate events"

    def __init__(self, publisher: Publisher, ledger: Ledger) -> None:
        self.publisher = publisher
        self.target = publisher.target
        self.ledger = ledger
        self.name = f"{self.target.broker} delivery"

    def pending(self) -> ColumnElement[bool]:
        return (BrokerDelivery.broker == self.target.broker) & (
            BrokerDelivery.status == BrokerStatus.PENDING)

    def order(self) -> tuple[InstrumentedAttribute[Any], ...]:
        return (BrokerDelivery.event_seq, BrokerDelivery.id)

    def skip_busy(self, session: Session, query: Select[BrokerDelivery],
                  busy: Collection[Destination]) -> Select[BrokerDelivery]:
        return query.where(false()) if self.target.destination in busy else query

    def prepare(self, session: Session, row: BrokerDelivery
                ) -> tuple[Destination, Publication]:
        event = session.scalars(select(Event).where(Event.id == row.event_id)).one()
        return self.target.destination, Publication(row.id, event.id, event.type,
                                                    event_body(event), event.created_at)

    def send(self, work: Publication, egress: Egress, at: datetime) -> Outcome:
        try:
            receipt = self.publisher.publish(work)
        except Exception as exc:  # every failure to publish is a failed attempt, retried
            text = str(exc) if isinstance(exc, _Refused) else f"{type(exc).__name__}: {exc}"
            return Outcome(_scrub(text, self.target.secrets()))
        return Outcome(None, detail=receipt)

    def succeeded(self, session: Session, row: BrokerDelivery, attempt: int,
                  outcome: Outcome, at: datetime, actor: str) -> None:
        row.status = BrokerStatus.DELIVERED
        row.delivered_at = at
        self._append(session, "BROKER_PUBLISHED", row, attempt, outcome, actor)

    def retrying(self, session: Session, row: BrokerDelivery, attempt: int,
                 outcome: Outcome, actor: str) -> None:
        self._append(session, "BROKER_PUBLISH_RETRY", row, attempt, outcome, actor,
                     next_attempt_at=row.next_attempt_at)

    def gave_up(self, session: Session, row: BrokerDelivery, attempt: int,
                outcome: Outcome, actor: str) -> None:
        row.status = BrokerStatus.FAILED
        self._append(session, "BROKER_PUBLISH_FAILED", row, attempt, outcome, actor)

    def _append(self, session: Session, event: str, row: BrokerDelivery, attempt: int,
                outcome: Outcome, actor: str, *,
                next_attempt_at: datetime | None = None) -> None:
        details: dict[str, object] = {
            "delivery_id": row.id, "event_id": row.event_id, "event_type": row.event_type,
            "broker": row.broker, "target": self.target.public, "attempt": attempt}
        if isinstance(outcome.detail, dict):
            details.update(outcome.detail)
        if outcome.error is not None:
            details["error"] = outcome.error[:_ERROR_MAX]
        if next_attempt_at is not None:
            details["next_attempt_at"] = next_attempt_at.isoformat()
        self.ledger.append(session, event=event, actor=actor, message_id=row.message_id,
                           details=details)


def _publisher_for(target: BrokerTarget, deadline: float) -> Publisher:
    """The publisher of ``target``'s broker."""
    if target.broker == "amqp":
        return AMQPPublisher(target, deadline)
    return NATSPublisher(target, deadline)


class BrokerDeliverer(Outbox[BrokerDelivery, Publication]):  # type: ignore[type-var]
    """The outbox of one broker's deliveries; ``worker`` names its claims (default
    ``<broker>:<worker id>``). ``gateway.runtime.workers`` runs it on a thread of its own,
    one attempt after the other (``run_once``): its publisher's connection is used by one
    thread, and this process publishes events in the order they were written."""

    def __init__(self, target: BrokerTarget, db: Database, ledger: Ledger,
                 settings: Settings, *, lease: timedelta | None = None,
                 worker: str | None = None, timeout: float | None = None,
                 publisher: Publisher | None = None) -> None:
        lease = lease or timedelta(seconds=settings.lease_seconds)
        # As for every channel, an attempt's deadline is at most half its lease.
        deadline = min(settings.egress_deadline_seconds, lease.total_seconds() / 2,
                       timeout if timeout is not None else float("inf"))
        self.target = target
        self.publisher = publisher or _publisher_for(target, deadline)
        super().__init__(BrokerChannel(self.publisher, ledger), db, ledger, settings,
                         lease=lease, worker=worker or f"{target.broker}:{settings.worker_id}",
                         timeout=timeout)

    def idle(self) -> None:
        """Between attempts while nothing is due (see ``Publisher.idle``)."""
        self.publisher.idle()

    def close(self) -> None:
        self.publisher.close()
        super().close()
