"""What the ops UI reads: the log page, one message with its evidence, partner figures,
and the dashboard series (orders, scorecards and demand: ``gateway.orders``).

Responsible for read-only queries and for shaping their rows into plain dicts for the
templates. Every query is bounded (a page, a time window, a row limit) so that a page
stays fast however many messages the database holds. It must not write.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.ledger.chain import GENESIS_SHA256, LedgerEntry, entry_sha256
from gateway.store.as2 import AS2Message
from gateway.store.base import utcnow
from gateway.store.models import Acknowledgment, Message, MessageStatus, RecordRow
from gateway.store.outbound import AckState, SentDocument
from gateway.store.rollups import FINISHED, DailyRollup, MessageRollup
from gateway.store.search import LogFilters, log_page_query
from gateway.store.webhooks import Webhook, WebhookDelivery

__all__ = [
    "LogRow",
    "ack_to_resend",
    "dashboard",
    "ledger_timeline",
    "log_page",
    "log_row",
    "message_evidence",
    "partner_figures",
    "statuses",
]

# Where a log row reads its document numbers in a message's summary: the document's own
# number (kept since the log showed it); before, the one number stored was the business
# number (a PO's for every document of an order).
_NUMBER_KEYS = ("document_number", "business_number")


@dataclass(frozen=True, slots=True)
class LogRow:
    id: str
    received_at: datetime
    partner_id: str
    direction: str
    transport: str
    standard: str
    types: str
    control: str
    number: str
    status: str
    ack_status: str
    orders: tuple[str, ...] = ()  # the PO numbers of its order documents

    @property
    def short_id(self) -> str:
        """The id as the log shows it: its last eight hex digits. A message id is a
        UUIDv7 whose first digits are the time it was received, alike for a burst, so
        the random end is what tells them apart (the full id is on hover and in the
        link)."""
        return "…" + self.id[-8:]

    def as_json(self) -> dict[str, str | list[str]]:
        return {"id": self.id, "short_id": self.short_id,
                "received_at": self.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                "received_iso": self.received_at.isoformat(), "partner_id": self.partner_id,
                "direction": self.direction, "transport": self.transport,
                "standard": self.standard, "types": self.types, "control": self.control,
                "number": self.number, "status": self.status,
                "ack_status": self.ack_status, "orders": list(self.orders)}


def _document_numbers(summary: str | None) -> str:
    """The documents' own numbers (an invoice's invoice number, a ship notice's shipment
    id, an order's PO number), rejected documents' included, from the summary."""
    if not summary:
        return ""
    try:
        data = json.loads(summary)
    except ValueError:
        return ""
    found = [next((t[k] for k in _NUMBER_KEYS if t.get(k)), None)
             for t in data.get("transactions", []) if isinstance(t, dict)]
    return ", ".join(dict.fromkeys(str(n) for n in found if n))


# The transaction types that join an order (gateway.orders): their business number is
# the PO number of the order they joined.
_ORDER_TYPES = frozenset({"850", "855", "856", "860", "810", "ORDERS", "ORDRSP", "ORDCHG",
                          "DESADV", "INVOIC"})


def _order_numbers(summary: str | None) -> tuple[str, ...]:
    """The PO numbers of a message's order documents, from its summary (each links to
    its order from the log)."""
    try:
        data = json.loads(summary) if summary else {}
    except ValueError:
        return ()
    found = [t.get("business_number") for t in data.get("transactions", [])
             if isinstance(t, dict) and t.get("set_id") in _ORDER_TYPES
             and t.get("record_id")]
    return tuple(dict.fromkeys(str(n) for n in found if n))


def log_row(m: Message) -> LogRow:
    return LogRow(m.id, m.received_at, m.partner_id, m.direction, m.transport,
                  m.standard.upper(), (m.transaction_types or "").replace(",", ", "),
                  m.interchange_control or "", _document_numbers(m.summary), m.status,
                  m.ack_status or "", _order_numbers(m.summary))


def log_page(session: Session, filters: LogFilters, cursor: tuple[datetime, str] | None,
             limit: int) -> tuple[list[LogRow], tuple[datetime, str] | None]:
    """One page of the log, newest first, and the keyset of the next page (or None)."""
    rows = list(session.scalars(log_page_query(filters, cursor=cursor, limit=limit)))
    page = rows[:limit]
    following = (page[-1].received_at, page[-1].id) if len(rows) > limit and page else None
    return [log_row(m) for m in page], following


def newer_than(session: Session, filters: LogFilters, after: datetime, after_id: str,
               limit: int = 50) -> list[LogRow]:
    """Messages received after (``after``, ``after_id``) that match ``filters``, newest
    first (live updates of the log's first page)."""
    query = log_page_query(dataclasses.replace(filters, since=after), limit=limit)
    rows = [m for m in session.scalars(query)
            if (m.received_at, m.id) > (after, after_id)]
    return [log_row(m) for m in rows[:limit]]


def statuses(session: Session, message_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """The status and acknowledgment status of each of ``message_ids`` (the rows a log
    page shows, polled by ui.js so that they change as the messages move on); ids that
    name no message are left out."""
    rows = session.execute(select(Message.id, Message.status, Message.ack_status)
                           .where(Message.id.in_(list(message_ids)))).all()
    return {message_id: {"status": status, "ack_status": ack_status or ""}
            for message_id, status, ack_status in rows}


# ----------------------------------------------------------------------- message detail


def ledger_timeline(session: Session, message_id: str) -> list[dict[str, Any]]:
    """The message's ledger entries with two checks each: the entry's hash recomputes
    from its stored fields, and it links to the entry before it in the chain."""
    entries = list(session.scalars(select(LedgerEntry).where(
        LedgerEntry.message_id == message_id).order_by(LedgerEntry.seq)))
    previous_seqs = [e.seq - 1 for e in entries if e.seq > 1]
    previous: dict[int, str] = {}
    if previous_seqs:
        previous = dict(session.execute(select(LedgerEntry.seq, LedgerEntry.entry_sha256)
                                        .where(LedgerEntry.seq.in_(previous_seqs))).all())
    timeline: list[dict[str, Any]] = []
    for entry in entries:
        try:
            details = json.loads(entry.details)
            recomputed = entry_sha256(seq=entry.seq, at=entry.at, message_id=entry.message_id,
                                      event=entry.event, actor=entry.actor, details=details,
                                      prev_sha256=entry.prev_sha256)
        except (TypeError, ValueError):
            details, recomputed = entry.details, ""
        linked_to = GENESIS_SHA256 if entry.seq == 1 else previous.get(entry.seq - 1)
        timeline.append({
            "seq": entry.seq, "at": entry.at, "event": entry.event, "actor": entry.actor,
            "details": details, "entry_sha256": entry.entry_sha256,
            "hash_ok": recomputed == entry.entry_sha256,
            "link_ok": linked_to is not None and linked_to == entry.prev_sha256,
        })
    return timeline


def _newest_first(message_id: str) -> Select[Any]:
    # The id breaks ties: the acknowledgments of one run share their batch's time.
    return select(Acknowledgment).where(Acknowledgment.message_id == message_id).order_by(
        Acknowledgment.created_at.desc(), Acknowledgment.id.desc())


def ack_to_resend(session: Session, message_id: str) -> Acknowledgment | None:
    """The acknowledgment "Resend acknowledgment" sends for a message: the newest one
    built (a reprocessed message has one per run), the same one every time."""
    return session.scalars(_newest_first(message_id).limit(1)).first()


def message_evidence(session: Session, message_id: str) -> dict[str, Any]:
    """Acknowledgments (newest first: the first is the one a resend sends), records,
    AS2 transfers and webhook deliveries of one message."""
    acks = session.scalars(_newest_first(message_id)).all()
    records = session.scalars(select(RecordRow).where(
        RecordRow.message_id == message_id).order_by(RecordRow.seq)).all()
    transfers = session.scalars(select(AS2Message).where(
        AS2Message.message_id == message_id).order_by(AS2Message.created_at)).all()
    deliveries = session.execute(
        select(WebhookDelivery, Webhook.url)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.message_id == message_id)
        .order_by(WebhookDelivery.created_at)).all()
    sent = session.scalars(select(SentDocument).where(
        SentDocument.message_id == message_id).order_by(SentDocument.transaction_control)).all()
    return {
        "acks": acks,
        "records": [{"row": r, "json": json.dumps(json.loads(r.data), indent=2)}
                    for r in records],
        "transfers": transfers,
        "deliveries": [{"row": d, "url": url} for d, url in deliveries],
        "sent": sent,
    }


# The acknowledgment states the "sent, not acknowledged" view shows unless told otherwise.
OPEN_ACK_STATES: tuple[str, ...] = (AckState.PENDING, AckState.OVERDUE, AckState.REJECTED)


def sent_documents(session: Session, *, partner: str | None, document_type: str | None,
                   ack_states: Sequence[str], limit: int = 200) -> list[SentDocument]:
    """Sent documents in ``ack_states``, the longest waiting first (overdue and pending by
    due time, then the rest by when they were sent)."""
    query = select(SentDocument).where(SentDocument.ack_status.in_(list(ack_states)))
    if partner:
        query = query.where(SentDocument.partner_id == partner)
    if document_type:
        query = query.where(SentDocument.document_type == document_type)
    query = query.order_by(SentDocument.ack_due_at.is_(None), SentDocument.ack_due_at,
                           SentDocument.created_at, SentDocument.id).limit(limit)
    return list(session.scalars(query))


# ----------------------------------------------------------------------------- partners


def partner_figures(session: Session, partner_ids: list[str], days: int = 30
                    ) -> dict[str, dict[str, Any]]:
    """Per partner over the last ``days``: messages, errors (rejected or failed), error
    rate, and the time of the newest message ever."""
    since = utcnow() - timedelta(days=days)
    figures: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"messages": 0, "errors": 0, "last": None, "error_rate": 0.0})
    counts = session.execute(
        select(Message.partner_id, Message.status, func.count())
        .where(Message.received_at >= since)
        .group_by(Message.partner_id, Message.status)).all()
    for partner_id, status, count in counts:
        f = figures[partner_id]
        f["messages"] += count
        if status in (MessageStatus.REJECTED, MessageStatus.FAILED):
            f["errors"] += count
    for partner_id in partner_ids:  # one index seek each on (partner_id, received_at)
        figures[partner_id]["last"] = session.scalar(
            select(func.max(Message.received_at)).where(Message.partner_id == partner_id))
    for f in figures.values():
        f["error_rate"] = f["errors"] / f["messages"] if f["messages"] else 0.0
    return dict(figures)


# ----------------------------------------------------------------------------- dashboard


def dashboard(session: Session, now: datetime | None = None, *, hours: int = 48,
              days: int = 30) -> dict[str, Any]:
    """Messages per hour (``hours``) and per day (``days``) by type and by partner, the
    totals and error rate of the window, and receipt-to-acknowledgment times.

    The counts come from ``message_rollups`` (kept as messages are stored and finished:
    ``gateway.store.rollups``), one row per hour, partner, type and direction, so they
    are exact however many messages the window holds. The error rate is of the inbound
    messages that reached a final state: rejected or failed over processed, rejected or
    failed (messages still waiting are neither)."""
    now = now or utcnow()
    since = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    hour_start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    r, d = MessageRollup, DailyRollup
    # The month's series from the daily rollups, the last hours' from the hourly ones,
    # each summed in the database: a few hundred rows whatever the traffic.
    hourly_type: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    hourly_partner: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    daily_type: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    daily_partner: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    daily_errors: dict[datetime, int] = defaultdict(int)
    daily_finished: dict[datetime, int] = defaultdict(int)
    total = errors = finished = 0
    window = (d.day >= since, d.day <= now)
    for day, kind, direction, messages, processed, rejected, failed in session.execute(
            select(d.day, d.transaction_type, d.direction, func.sum(d.messages),
                   *(func.sum(getattr(d, c)) for c in FINISHED))
            .where(*window).group_by(d.day, d.transaction_type, d.direction)):
        messages, processed, rejected, failed = (int(v or 0) for v in (
            messages, processed, rejected, failed))
        if not messages:
            continue  # every message of the key moved on to another key
        daily_type[kind][day] += messages
        total += messages
        if direction == "inbound":
            daily_errors[day] += rejected + failed
            daily_finished[day] += processed + rejected + failed
            errors += rejected + failed
            finished += processed + rejected + failed
    for day, partner, messages in session.execute(
            select(d.day, d.partner_id, func.sum(d.messages)).where(*window)
            .group_by(d.day, d.partner_id)):
        if messages:
            daily_partner[partner][day] += int(messages)
    recent_hours = (r.hour >= hour_start, r.hour <= now)
    for hour, kind, messages in session.execute(
            select(r.hour, r.transaction_type, func.sum(r.messages)).where(*recent_hours)
            .group_by(r.hour, r.transaction_type)):
        if messages:
            hourly_type[kind][hour] += int(messages)
    for hour, partner, messages in session.execute(
            select(r.hour, r.partner_id, func.sum(r.messages)).where(*recent_hours)
            .group_by(r.hour, r.partner_id)):
        if messages:
            hourly_partner[partner][hour] += int(messages)
    hours_axis = [hour_start + timedelta(hours=i) for i in range(hours)]
    days_axis = [since + timedelta(days=i) for i in range(days + 1)]
    recent = session.execute(
        select(Message.id, Message.received_at).where(Message.received_at >= since)
        .order_by(Message.received_at.desc()).limit(_ACK_SAMPLE)).all()
    return {
        "hours": hours_axis, "days": days_axis,
        "hourly_type": hourly_type, "hourly_partner": hourly_partner,
        "daily_type": daily_type, "daily_partner": daily_partner,
        "daily_error_rate": {d: daily_errors[d] / n for d, n in daily_finished.items() if n},
        "total": total, "errors": errors, "finished": finished,
        "error_rate": errors / finished if finished else 0.0,
        "ack_seconds": _ack_seconds(session, [(m, at) for m, at in recent]),
    }


# The receipt-to-acknowledgment chart is of the newest messages: a sample, said so.
_ACK_SAMPLE = 500  # the chart's title says so (gateway.ui.routes.dashboard)


def _ack_seconds(session: Session, recent: list[tuple[str, datetime]]) -> list[float]:
    """Seconds from receipt to the first acknowledgment built, for recent messages."""
    if not recent:
        return []
    received = dict(recent)
    seconds: list[float] = []
    ids = list(received)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for message_id, at in session.execute(
                select(LedgerEntry.message_id, func.min(LedgerEntry.at))
                .where(LedgerEntry.message_id.in_(chunk), LedgerEntry.event == "ACK_BUILT")
                .group_by(LedgerEntry.message_id)).all():
            if message_id is not None and at is not None:
                seconds.append(max(0.0, (at - received[message_id]).total_seconds()))
    return sorted(seconds)
