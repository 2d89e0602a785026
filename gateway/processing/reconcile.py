"""Acknowledgment reconciliation: a partner's 997/999/CONTRL matched to what edigate sent.

Responsible for settling the acknowledgment state of ``sent_documents`` rows when a
functional acknowledgment record from the same partner is processed: X12 997/999 by the
acknowledged group's GS06 (AK102) and each set's ST02 (AK202); EDIFACT CONTRL by the
acknowledged interchange's UNB 0020 (UCI) and each message's UNH 0062 (UCM); an APERAK by
the reference it names (the newest document with that number, PO number or message
reference); a TA1 by ISA13, where only a rejection settles anything. A set the
acknowledgment lists takes its own code (AK501/IK501, UCM 0083); a set of the
acknowledged group it does not list was accepted, unless the group was rejected (AK901
R, UCI 0083 4). The errors reported (AK3/AK4, IK3/IK4, UCS/UCD) are kept with the sent
document, a ledger entry names what was settled, and a rejected or overdue document is
a ``document.rejected`` / ``document.overdue`` event for the webhooks subscribed to it.
It runs in the processing transaction of the acknowledgment.
It must not decide when an acknowledgment is overdue: ``mark_overdue`` does, on a clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.delivery.webhooks import enqueue_events
from gateway.ledger.chain import EntryDraft, Ledger
from gateway.store.db import Database
from gateway.store.events import Event
from gateway.store.outbound import AckState, SentDocument

__all__ = ["mark_overdue", "reconcile", "reconcile_ta1", "sent_document_counts"]

# The functional acknowledgment record's normalised statuses (X12 715/717, EDIFACT 0083).
_STATES: Final[Mapping[str, str]] = {
    "accepted": AckState.ACCEPTED,
    "accepted_with_errors": AckState.ACCEPTED_WITH_ERRORS,
    "partially_accepted": AckState.ACCEPTED_WITH_ERRORS,
    "rejected": AckState.REJECTED,
}


# TA104 (I17 interchange acknowledgment code).
_TA1_STATES: Final[Mapping[str, str]] = {
    "A": AckState.ACCEPTED, "E": AckState.ACCEPTED_WITH_ERRORS, "R": AckState.REJECTED}


def _document_event(session: Session, kind: str, row: SentDocument, at: datetime,
                    **data: Any) -> Event:
    """An event about a sent document, for the webhooks subscribed to ``kind``."""
    event = Event(id=str(uuid.uuid4()), type=kind, partner_id=row.partner_id,
                  message_id=row.message_id, created_at=at, data=json.dumps({
                      "document_id": row.id, "document_type": row.document_type,
                      "standard": row.standard, "kind": row.kind,
                      "business_number": row.business_number,
                      "interchange_control": row.interchange_control,
                      "group_control": row.group_control,
                      "transaction_control": row.transaction_control, **data},
                      ensure_ascii=False, default=str))
    session.add(event)
    return event


def _settle(session: Session, rows: Sequence[SentDocument], state: str, message_id: str,
            detail: dict[str, Any], at: datetime) -> list[list[str]]:
    settled = []
    events = []
    for row in rows:
        row.ack_status = state
        row.ack_message_id = message_id
        row.ack_detail = json.dumps(detail, ensure_ascii=False)[:20_000]
        row.updated_at = at
        settled.append([row.document_type, row.transaction_control, state])
        if state == AckState.REJECTED:
            events.append(_document_event(session, "document.rejected", row, at,
                                          acknowledgment_message_id=message_id, **detail))
    if events:
        session.flush()  # the events' seq, which their deliveries carry
        enqueue_events(session, events)
    return settled


def reconcile(session: Session, partner_id: str, message_id: str,
              acknowledgments: Sequence[Mapping[str, Any]], at: datetime,
              actor: str) -> list[EntryDraft]:
    """Settle the sent documents that ``acknowledgments`` (functional_ack record data of
    message ``message_id`` from ``partner_id``) answer; a ledger entry per acknowledgment
    that settled any."""
    drafts: list[EntryDraft] = []
    for record in acknowledgments:
        standard = record["source"]["standard"]
        settled: list[list[str]] = []
        for group in record.get("acknowledged_groups") or []:
            if group.get("functional_id") == "APERAK":
                settled += _settle_aperak(session, partner_id, message_id, group, at)
                continue
            control = group.get("group_control")
            if not control:
                continue
            query = select(SentDocument).where(SentDocument.partner_id == partner_id,
                                               SentDocument.standard == standard)
            if standard == "x12":
                query = query.where(SentDocument.group_control == control)
            elif group.get("functional_id") == "UCI":
                query = query.where(SentDocument.interchange_control == control)
            else:
                continue  # a UCF answers a UNG group: edigate sends none
            sent = {row.transaction_control: row for row in session.scalars(query)}
            if not sent:
                continue
            listed: set[str] = set()
            for tx in group.get("transactions") or []:
                number = tx.get("control_number")
                state = _STATES.get(tx.get("status") or "")
                row = sent.get(number or "")
                if row is None or state is None:
                    continue
                listed.add(row.transaction_control)
                settled += _settle(session, [row], state, message_id, {
                    "status_code": tx.get("status_code"), "errors": tx.get("errors") or [],
                    "group_status_code": group.get("status_code")}, at)
            group_state = _STATES.get(group.get("status") or "")
            if group_state is not None:
                # Sets the acknowledgment does not list were accepted unless the whole
                # group was rejected (the listed ones carry their own errors).
                if group_state != AckState.REJECTED:
                    group_state = AckState.ACCEPTED
                rest = [row for number, row in sent.items() if number not in listed]
                settled += _settle(session, rest, group_state, message_id, {
                    "status_code": None, "errors": [],
                    "group_status_code": group.get("status_code"),
                    "group_errors": group.get("errors") or []}, at)
        if settled:
            drafts.append(EntryDraft(event="ACK_MATCHED", actor=actor, message_id=message_id,
                                     details={"partner": partner_id, "settled": settled[:200]}))
    return drafts


def _settle_aperak(session: Session, partner_id: str, message_id: str,
                   group: Mapping[str, Any], at: datetime) -> list[list[str]]:
    """An APERAK (application error and acknowledgment) names one document by a reference
    (RFF ACW, ON, IV, ...): the newest EDIFACT document sent to the partner whose own
    number, PO number or message reference it is takes its status."""
    settled: list[list[str]] = []
    for tx in group.get("transactions") or []:
        reference = tx.get("control_number")
        state = _STATES.get(tx.get("status") or "")
        if not reference or state is None:
            continue
        row = session.scalars(select(SentDocument).where(
            SentDocument.partner_id == partner_id, SentDocument.standard == "edifact",
            (SentDocument.document_number == reference)
            | (SentDocument.business_number == reference)
            | (SentDocument.transaction_control == reference))
            .order_by(SentDocument.created_at.desc(), SentDocument.id.desc()).limit(1)).first()
        if row is not None:
            settled += _settle(session, [row], state, message_id, {
                "status_code": tx.get("status_code"), "errors": tx.get("errors") or [],
                "application": True}, at)
    return settled


def reconcile_ta1(session: Session, partner_id: str, message_id: str,
                  ta1s: Sequence[tuple[str, str, str]], at: datetime,
                  actor: str) -> list[EntryDraft]:
    """Settle what a partner's TA1s (TA101 interchange control, TA104 A/E/R, TA105 note
    code) say of the X12 interchanges edigate sent it. A rejected interchange (TA104 R)
    rejects every document in it; an accepted one (A, E) leaves them waiting for their
    997/999, which is what says whether each transaction set was accepted."""
    drafts: list[EntryDraft] = []
    for control, code, note in ta1s:
        rows = list(session.scalars(select(SentDocument).where(
            SentDocument.partner_id == partner_id, SentDocument.standard == "x12",
            SentDocument.interchange_control == control)))
        if not rows:
            continue
        settled: list[list[str]] = []
        ta1_state = _TA1_STATES.get(code)
        if ta1_state is not None:
            for row in rows:
                row.ta1_status = ta1_state
                row.updated_at = at
        if code == "R":
            settled = _settle(session, rows, AckState.REJECTED, message_id,
                              {"ta1_code": code, "ta1_note": note, "errors": []}, at)
        drafts.append(EntryDraft(event="ACK_MATCHED", actor=actor, message_id=message_id,
                                 details={"partner": partner_id, "interchange_control": control,
                                          "ta1": code, "note": note,
                                          "settled": settled[:200]}))
    return drafts


def mark_overdue(db: Database, ledger: Ledger, now: datetime, actor: str) -> int:
    """Mark sent documents whose acknowledgment is due and has not come as overdue, with a
    ledger entry per partner; how many were marked."""
    with db.transaction() as session:
        # Claimable: two workers sweeping at once never mark (and ledger) a row twice.
        rows = list(session.scalars(db.dialect.claimable(select(SentDocument).where(
            SentDocument.ack_status == AckState.PENDING, SentDocument.ack_due_at < now)
            .order_by(SentDocument.ack_due_at).limit(10_000))))
        # A TA1 asked for (ISA14) and not come by the due time is overdue too; the
        # document's own acknowledgment state is the 997's.
        session.execute(update(SentDocument).where(
            SentDocument.ta1_status == AckState.PENDING, SentDocument.ack_due_at < now)
            .values(ta1_status=AckState.OVERDUE, updated_at=now))
        by_partner: dict[str, list[SentDocument]] = {}
        events = []
        for row in rows:
            row.ack_status = AckState.OVERDUE
            row.updated_at = now
            by_partner.setdefault(row.partner_id, []).append(row)
            events.append(_document_event(session, "document.overdue", row, now,
                                          ack_due_at=row.ack_due_at))
        if events:
            session.flush()
            enqueue_events(session, events)
        for partner_id, overdue in sorted(by_partner.items()):
            ledger.append(session, event="ACK_OVERDUE", actor=actor, details={
                "partner": partner_id,
                "documents": [[r.document_type, r.interchange_control, r.transaction_control,
                               r.business_number] for r in overdue[:200]]})
    return len(rows)


def sent_document_counts(db: Database) -> list[tuple[tuple[str, str], float]]:
    """How many sent documents each partner has in each acknowledgment state (the
    ``edigate_sent_documents`` gauge)."""
    with db.read() as session:
        rows = session.execute(select(SentDocument.partner_id, SentDocument.ack_status,
                                      func.count()).group_by(SentDocument.partner_id,
                                                             SentDocument.ack_status)).all()
    return [((partner, state), float(count)) for partner, state, count in rows]
