"""The broker delivery table: each event on its way to a message broker.

Responsible for the persistent shape of ``broker_deliveries``: one row per (event,
broker), with the outbox columns of ``gateway.delivery.outbox.OutboxRow`` (attempts, the
next due time or the end of a claim's lease, the claim's token, the last error) and its
status; and for adding those rows (``add_deliveries``) in the transaction that writes the
events, for the brokers this process publishes to.

Which brokers those are is the composition root's decision (``BrokerRoute``: a broker and
the event types it takes), handed to ``gateway.store.db.Database`` when it is built and
carried by every session it opens (``session_info``): an event writer gets the routes with
the session it writes in, whatever else it was handed, so no writer can forget a broker.
It holds no broker address or credential, and must not know how a broker is spoken to
(``gateway.delivery.brokers``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final, NamedTuple

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow
from gateway.store.events import Event

__all__ = ["BROKERS", "BrokerDelivery", "BrokerRoute", "BrokerStatus", "add_deliveries",
           "routes_of", "session_info"]

#: The brokers edigate speaks: AMQP 0-9-1 (RabbitMQ) and NATS JetStream.
BROKERS: Final = ("amqp", "nats")

_ROUTES_KEY: Final = "edigate.broker_routes"


class BrokerStatus:
    """pending -> delivered | failed. A failed delivery was given up after the outbox's
    last try; it stays for an operator to see (the event itself is kept in ``events``)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    ALL = frozenset({PENDING, DELIVERED, FAILED})


class BrokerRoute(NamedTuple):
    """A broker this process publishes events to; ``types`` None takes every type."""

    broker: str
    types: frozenset[str] | None = None

    def takes(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


def session_info(routes: Iterable[BrokerRoute]) -> dict[str, object]:
    """The ``Session.info`` that carries ``routes`` to ``add_deliveries``."""
    return {_ROUTES_KEY: tuple(routes)}


def routes_of(session: Session) -> tuple[BrokerRoute, ...]:
    """The routes the session's ``Database`` was built with (none: no broker)."""
    routes: tuple[BrokerRoute, ...] = session.info.get(_ROUTES_KEY, ())
    return routes


class BrokerDelivery(Base):
    """One event to one broker. While a claim is out, ``locked_by`` is its token and
    ``next_attempt_at`` the end of its lease."""

    __tablename__ = "broker_deliveries"
    __table_args__ = (
        # One row per (event, broker): the event id is the message's idempotency key, and
        # a second row would publish it twice by design.
        UniqueConstraint("event_id", "broker"),
        Index("ix_broker_deliveries_due", "broker", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    # The event's seq: claims go oldest event first.
    event_seq: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(40))
    broker: Mapped[str] = mapped_column(String(16))
    # The event's message, if any (the ledger entries name it).
    message_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default=BrokerStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def add_deliveries(session: Session, events: Sequence[Event]) -> int:
    """Add a pending delivery of each event to each broker of the session's routes that
    takes its type, in the caller's transaction (the one that inserted the events, after
    a flush gave them their seq); the number added."""
    routes = routes_of(session)
    count = 0
    for event in events:
        for route in routes:
            if route.takes(event.type):
                session.add(BrokerDelivery(
                    id=str(uuid.uuid4()), event_id=event.id, event_seq=event.seq,
                    event_type=event.type, broker=route.broker, message_id=event.message_id,
                    status=BrokerStatus.PENDING, attempts=0,
                    next_attempt_at=event.created_at, created_at=event.created_at))
                count += 1
    return count
