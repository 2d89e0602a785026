"""The one intake pipeline every transport feeds: receive durably, then process.

Responsible for the receive-before-acknowledge rule (payload, message row and RECEIVED
ledger entry in one transaction, committed before any transport says "received"), for
duplicate detection, for the state machine RECEIVED -> PROCESSING -> PROCESSED | REJECTED |
FAILED with leases so that a crashed worker's message is resumed and never processed twice,
and for storing records and acknowledgments with their ledger entries atomically.
It must not know about HTTP or AS2: transports turn their requests into a ``Delivery``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Select, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway import webhooks
from gateway.errors import GatewayError
from gateway.intake import IntakeWriter, Pending, ReceiveResult
from gateway.ledger import EntryDraft, Ledger
from gateway.metrics import Metrics
from gateway.settings import Settings
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.models import (
    Acknowledgment,
    ControlCounter,
    Message,
    MessageStatus,
    Payload,
    RecordRow,
)
from gateway.store.search import replace_terms
from partners import PartnerProfile, PartnerRegistry
from translators.edifact.contrl import CONTRLOptions, build_contrl
from translators.edifact.pipeline import (
    EDIFACTGroupOutcome,
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.edifact.reader import EDIFACTReader
from translators.errors import EDISyntaxError
from translators.record_data import RecordData, record_json
from translators.x12.ack import AckOptions, build_acknowledgment
from translators.x12.pipeline import (
    GroupOutcome,
    InterchangeOutcome,
    TransactionOutcome,
    translate_x12,
)
from translators.x12.reader import X12Reader, looks_like_x12

if TYPE_CHECKING:
    from gateway.intake_process import IntakeProcess

__all__ = [
    "Delivery",
    "IntakeRejected",
    "Pipeline",
    "ProcessResult",
    "ReceiveResult",
]

log = logging.getLogger("edigate.pipeline")

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message as a transport hands it over, its partner already authenticated."""

    partner_id: str
    transport: str
    body: bytes
    evidence: dict[str, Any] = field(default_factory=dict)


class Outbound(Protocol):
    """A transport that sends documents to partners (see ``gateway.as2_service``)."""

    def wants_as2(self, partner: PartnerProfile | None) -> bool: ...

    def enqueue(self, session: Session, partner: PartnerProfile, payload: bytes, *,
                kind: str, message_id: str | None, actor: str,
                content_type: str = ...) -> object: ...


class IntakeRejected(GatewayError):
    """The message is refused at intake; ``status`` is the HTTP status a transport uses."""


@dataclass(slots=True)
class ProcessResult:
    message_id: str
    status: str
    transactions: list[dict[str, Any]] = field(default_factory=list)
    acknowledgments: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None


def sniff_standard(body: bytes) -> str:
    """``x12``, ``edifact`` or ``unknown`` from the first bytes."""
    head = body[:64]
    if looks_like_x12(head):
        return "x12"
    stripped = head.lstrip(b" \t\r\n")
    if stripped.startswith(_BOM):
        stripped = stripped[3:].lstrip(b" \t\r\n")
    if stripped.startswith((b"UNA", b"UNB")):
        return "edifact"
    return "unknown"


# ISA01 to ISA16 (X12.5): every element of the interchange header has a fixed width.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_ISA_LENGTH = 3 + sum(_ISA_WIDTHS) + 16  # 105: the tag, the elements, their separators


def fixed_isa(body: bytes) -> list[str] | None:
    """The ISA's fields (``["ISA", ISA01, ..., ISA16]``) when ``body`` starts with an ISA
    of the standard fixed layout, printable delimiters and nothing the X12 reader would
    treat otherwise; else None, and the reader reads it (with its located errors).

    Intake checks the header of every message: this is the common case without building a
    reader (a test pins it to ``X12Reader`` over generated and mutated headers)."""
    if len(body) <= _ISA_LENGTH or not body.startswith(b"ISA"):
        return None
    element, component, terminator = body[3], body[_ISA_LENGTH - 1], body[_ISA_LENGTH]
    if len({element, component, terminator}) < 3 or not all(
            0x21 <= b <= 0x7E and not chr(b).isalnum()
            for b in (element, component, terminator)):
        return None
    fields = body[:_ISA_LENGTH].decode("ascii", "replace").split(chr(element))
    if len(fields) != 17 or any(len(f) != w for f, w in zip(fields[1:], _ISA_WIDTHS,
                                                             strict=True)):
        return None
    if any(not f.isprintable() or "\ufffd" in f for f in fields):
        return None
    return fields


def _identity(qualifier: str, value: str) -> str:
    return f"{qualifier.strip()}:{value.strip()}"


class Pipeline:
    """Receive and process messages for one database, partner registry and ledger."""

    def __init__(self, settings: Settings, db: Database, registry: PartnerRegistry,
                 ledger: Ledger, *, lease: timedelta = timedelta(seconds=60),
                 metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.db = db
        self.registry = registry
        self.ledger = ledger
        self.lease = lease
        self.intake: IntakeWriter | IntakeProcess
        if settings.intake_writer == "process" and not db.is_memory:
            from gateway.intake_process import IntakeProcess

            self.intake = IntakeProcess(settings, on_stored=self._stored,
                                        on_batch=self._batched)
        else:
            self.intake = IntakeWriter(db, ledger, on_stored=self._stored,
                                       on_batch=self._batched)
        # Sends acknowledgments back to partners whose profile names a transport for it
        # (AS2 today); set by GatewayState when the gateway has an AS2 identity.
        self.outbound: Outbound | None = None

    # -- intake -------------------------------------------------------------------------
    def receive(self, delivery: Delivery, actor: str) -> ReceiveResult:
        """Store the message durably, or refuse it with ``IntakeRejected``.

        When this returns, the payload, the message row and its RECEIVED ledger entry are
        committed: only then may the transport tell the sender "received". Blocks the
        calling thread; async transports use ``prepare`` and ``submit`` instead.
        """
        try:
            pending = self.prepare(delivery, actor)
        except IntakeRejected as exc:
            self.record_rejection(delivery, actor, exc)
            raise
        return self.submit(pending).result()

    def prepare(self, delivery: Delivery, actor: str) -> Pending:
        """Check the envelope without touching the database (cheap: the first 4 KB).

        Raises ``IntakeRejected``; the caller then records it with ``record_rejection``.
        """
        body = delivery.body
        standard = sniff_standard(body)
        header = self._check_envelope(delivery, standard)
        return Pending(partner_id=delivery.partner_id, transport=delivery.transport,
                       standard=standard, body=body, digest=hashlib.sha256(body).hexdigest(),
                       sender=header["sender"], receiver=header["receiver"],
                       control=header["control"], actor=actor, evidence=delivery.evidence)

    def submit(self, pending: Pending) -> Future[ReceiveResult]:
        """Hand a prepared message to the group-commit writer; the future resolves after
        the transaction that stores it (with its ledger entry) has committed."""
        return self.intake.submit(pending)

    async def store(self, pending: Pending) -> ReceiveResult:
        """``submit`` for async transports: awaits the commit without occupying a thread."""
        return await self.intake.store(pending)

    def record_rejection(self, delivery: Delivery, actor: str, exc: IntakeRejected) -> None:
        """Ledger an intake refusal (its own transaction) and count it."""
        self.metrics.rejected_at_intake.labels(exc.slug).inc()
        self._log_rejection(delivery, actor, exc)

    def _stored(self, pending: Pending, result: ReceiveResult) -> None:
        if not result.duplicate:
            self.metrics.received.labels(pending.partner_id, pending.transport).inc()

    def _batched(self, size: int, seconds: float) -> None:
        self.metrics.intake_batch_size.observe(size)
        self.metrics.intake_commit_seconds.observe(seconds)

    def close(self) -> None:
        """Stop the intake writer (what it holds is still stored)."""
        self.intake.close()

    def _check_envelope(self, delivery: Delivery, standard: str) -> dict[str, str]:
        if not delivery.body.strip():
            raise IntakeRejected(422, "empty-body", "Empty message", "the request body is empty")
        if standard == "unknown":
            sample = delivery.body[:16]
            raise IntakeRejected(422, "not-edi", "Not EDI",
                                 f"the body is neither X12 (ISA) nor EDIFACT (UNA/UNB); it "
                                 f"begins {sample!r} at byte offset 0")
        if standard == "edifact":
            return self._check_unb(delivery)
        isa, offset = fixed_isa(delivery.body), 0
        if isa is None:  # not the fixed layout: the reader finds it, or says what is wrong
            try:
                segment = next(iter(X12Reader(delivery.body[:4096])))
            except (EDISyntaxError, StopIteration) as exc:
                raise IntakeRejected(422, "not-edi", "Unreadable X12 interchange header",
                                     str(exc)) from exc
            isa, offset = segment.fields, segment.offset
        if len(isa) < 17:
            raise IntakeRejected(422, "bad-envelope", "Incomplete ISA",
                                 f"the ISA at byte offset {offset} has {len(isa) - 1} elements")
        sender = _identity(isa[5], isa[6])
        if not self._is_partner(delivery.partner_id, isa[5], isa[6]):
            raise IntakeRejected(
                403, "sender-mismatch", "Sender is not the authenticated partner",
                f"ISA05/ISA06 {sender!r} at byte offset {offset} does not belong to "
                f"partner {delivery.partner_id!r}")
        receiver = _identity(isa[7], isa[8])
        ours = _identity(self.settings.x12_qualifier, self.settings.x12_sender_id)
        if receiver != ours:
            raise IntakeRejected(422, "receiver-mismatch", "Receiver is not this gateway",
                                 f"ISA07/ISA08 {receiver!r} is not this gateway ({ours!r})")
        return {"sender": sender, "receiver": receiver, "control": isa[13].strip()}

    def _check_unb(self, delivery: Delivery) -> dict[str, str]:
        """UNB S002 must be the authenticated partner and S003 this gateway (ISO 9735)."""
        unb = None
        try:
            for segment in EDIFACTReader(delivery.body[:8192]):
                if segment.tag == "UNB":
                    unb = segment
                    break
                if segment.tag != "UNA":
                    break
        except EDISyntaxError as exc:
            raise IntakeRejected(422, "not-edi", "Unreadable EDIFACT interchange header",
                                 str(exc)) from exc
        if unb is None:
            raise IntakeRejected(422, "bad-envelope", "No UNB",
                                 "the EDIFACT body does not start with UNA/UNB")
        sender_id, sender_qualifier = unb.get(2, 1), unb.get(2, 2)
        sender = _identity(sender_qualifier, sender_id)
        found = self.registry.by_edifact(sender_id, sender_qualifier or None)
        if found is None or found.id != delivery.partner_id:
            raise IntakeRejected(
                403, "sender-mismatch", "Sender is not the authenticated partner",
                f"UNB S002 {sender!r} at byte offset {unb.offset} does not belong to "
                f"partner {delivery.partner_id!r}")
        receiver = _identity(unb.get(3, 2), unb.get(3, 1))
        ours_qualifier, _, ours_id = self.settings.edifact_id.rpartition(":")
        if unb.get(3, 1).strip() != ours_id.strip() or (
                unb.get(3, 2) and ours_qualifier and unb.get(3, 2).strip() != ours_qualifier):
            raise IntakeRejected(422, "receiver-mismatch", "Receiver is not this gateway",
                                 f"UNB S003 {receiver!r} is not this gateway "
                                 f"({self.settings.edifact_id!r})")
        return {"sender": sender, "receiver": receiver, "control": unb.get(5).strip()}

    def _is_partner(self, partner_id: str, qualifier: str, sender_id: str) -> bool:
        """Whether ISA05/ISA06 is one of the partner's X12 identities."""
        found = self.registry.by_x12(qualifier.strip(), sender_id.strip())
        return found is not None and found.id == partner_id

    def _log_rejection(self, delivery: Delivery, actor: str, exc: IntakeRejected) -> None:
        with self.db.transaction() as session:
            self.ledger.append(session, event="INTAKE_REJECTED", actor=actor, details={
                "partner": delivery.partner_id, "transport": delivery.transport,
                "status": exc.status, "reason": exc.slug, "detail": exc.detail,
                "size": len(delivery.body),
                "payload_sha256": hashlib.sha256(delivery.body).hexdigest(),
            })

    # -- processing ---------------------------------------------------------------------
    def claim(self, message_id: str | None, worker: str) -> str | None:
        """Take a message for processing: a given one, or the oldest waiting one.

        Waiting means RECEIVED, or PROCESSING with an expired lease (its worker died).
        Uses SKIP LOCKED on PostgreSQL so several processes share the work.
        """
        now = utcnow()
        with self.db.transaction() as session:
            message = None
            for query in claim_queries(now, message_id):
                if not self.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                message = session.scalars(query).first()
                if message is not None:
                    break
            if message is None:
                return None
            resumed = message.status == MessageStatus.PROCESSING
            message.status = MessageStatus.PROCESSING
            message.locked_by = worker
            message.locked_until = now + self.lease
            message.attempts += 1
            self.ledger.append(session, event="PROCESSING", actor=worker, message_id=message.id,
                               details={"attempt": message.attempts, "resumed": resumed})
            return message.id

    def process(self, message_id: str, worker: str) -> ProcessResult | None:
        """Process a claimed message; None when the claim was lost to another worker."""
        with self.db.transaction() as session:
            message = session.get(Message, message_id)
            if message is None or message.locked_by != worker:
                return None
            payload = session.get(Payload, message.payload_sha256)
            assert payload is not None
            body = payload.data
            partner_id = message.partner_id
            standard = message.standard
        started = time.perf_counter()
        try:
            if standard == "edifact":
                work = self._translate_edifact(message_id, partner_id, body)
            else:
                work = self._translate(message_id, partner_id, body)
            result = self._finish(message_id, worker, work)
        except Exception as exc:  # a bug must not lose the message: it becomes FAILED
            log.exception("processing %s failed", message_id)
            result = self._finish_failed(message_id, worker, f"{type(exc).__name__}: {exc}")
        if result is not None:
            self.metrics.processing_seconds.observe(time.perf_counter() - started)
            types = {t["set_id"] for t in result.transactions} or {"none"}
            for set_id in types:
                self.metrics.messages.labels(partner_id, standard, set_id, result.status).inc()
        return result

    def _translate(self, message_id: str, partner_id: str, body: bytes) -> _Work:
        partner = self.registry.get(partner_id)
        work = _Work()

        hook = _source_hook(message_id, partner_id)
        try:
            accepts = partner.accepts if partner is not None else None
            for outcome in translate_x12(body, source_hook=hook, accepts=accepts):
                if isinstance(outcome, TransactionOutcome):
                    tx = outcome.transaction
                    work.transactions.append(_Tx(
                        tx.set_id, tx.control_number, tx.group.control_number,
                        outcome.status, outcome.errors, outcome.data))
                elif isinstance(outcome, GroupOutcome):
                    work.groups.append(_Group(outcome.header.control_number, outcome.status,
                                              outcome.header.functional_id != "FA"))
                elif isinstance(outcome, InterchangeOutcome):
                    isa = outcome.header
                    if not self._is_partner(partner_id, isa.sender_qualifier, isa.sender_id):
                        work.foreign.append(_identity(isa.sender_qualifier, isa.sender_id))
                    work.interchanges.append(outcome)
        except EDISyntaxError as exc:
            work.syntax_error = f"{exc.message} (at byte offset {exc.offset})"
        work.ack_kind = partner.x12.ack if partner is not None and partner.x12 else "auto"
        work.ta1 = partner.x12.ta1 if partner is not None and partner.x12 else "auto"
        return work

    def _translate_edifact(self, message_id: str, partner_id: str, body: bytes) -> _Work:
        partner = self.registry.get(partner_id)
        work = _Work(standard="edifact")

        hook = _source_hook(message_id, partner_id)
        try:
            accepts = partner.accepts if partner is not None else None
            for outcome in translate_edifact(body, source_hook=hook, accepts=accepts):
                if isinstance(outcome, MessageOutcome):
                    m = outcome.message
                    # CONTRL action 4 rejects the message; 7 accepts it (ISO 9735 0083).
                    status = "R" if outcome.action == "4" else (
                        "E" if outcome.issues else "A")
                    work.transactions.append(_Tx(
                        m.type, m.reference, m.group.control_reference if m.group else "",
                        status, outcome.errors, outcome.data))
                elif isinstance(outcome, EDIFACTGroupOutcome):
                    work.groups.append(_Group(outcome.header.control_reference,
                                              "R" if outcome.action == "4" else "A", True))
                elif isinstance(outcome, EDIFACTInterchangeOutcome):
                    unb = outcome.header
                    found = self.registry.by_edifact(unb.sender.id, unb.sender.qualifier or None)
                    if found is None or found.id != partner_id:
                        work.foreign.append(_identity(unb.sender.qualifier, unb.sender.id))
                    work.interchanges.append(outcome)
        except EDISyntaxError as exc:
            work.syntax_error = f"{exc.message} (at byte offset {exc.offset})"
        work.contrl = partner.edifact.contrl if partner is not None and partner.edifact \
            else "errors"
        return work

    def _acknowledgments(self, session: Session, work: _Work, partner_id: str
                         ) -> Iterator[tuple[bytes, str, str]]:
        """(acknowledgment, kind, acknowledged interchange control) per interchange."""
        for outcome in work.interchanges:
            if isinstance(outcome, InterchangeOutcome):
                ack = build_acknowledgment(outcome, AckOptions(
                    kind=work.ack_kind,  # type: ignore[arg-type]
                    ta1=work.ta1,  # type: ignore[arg-type]
                    control_number=str(self._next_control(
                        session, f"x12:isa13:{partner_id}") % 1_000_000_000),
                    sender=(self.settings.x12_qualifier, self.settings.x12_sender_id),
                ))
                if ack is None:
                    continue
                kinds = sorted({seg[1] if seg.tag == "ST" else seg.tag
                                for seg in X12Reader(ack) if seg.tag in ("ST", "TA1")})
                yield ack, "+".join(kinds) or "ack", outcome.header.control_number
            elif isinstance(outcome, EDIFACTInterchangeOutcome):
                has_errors = bool(outcome.errors) or any(
                    t.status == "R" or t.errors for t in work.transactions)
                wanted = work.contrl == "always" or outcome.header.ack_requested or (
                    work.contrl == "errors" and has_errors)
                if work.contrl == "never" or not wanted:
                    continue
                reference = str(self._next_control(session, f"edifact:unb0020:{partner_id}"))
                qualifier, _, ours = self.settings.edifact_id.rpartition(":")
                contrl = build_contrl(outcome, CONTRLOptions(
                    report="all" if work.contrl == "always" else "errors",
                    control_reference=reference, message_reference=reference,
                    sender=(ours, qualifier)))
                if contrl is not None:
                    yield contrl, "CONTRL", outcome.header.control_reference

    def _next_control(self, session: Session, name: str) -> int:
        counter = session.get(ControlCounter, name, with_for_update=True)
        if counter is None and not self.db.is_sqlite:
            # Two workers may both see no counter yet (on SQLite the transaction's write
            # lock rules that out): one creates it, the other waits for it on the row lock.
            session.execute(pg_insert(ControlCounter).values(name=name, value=0)
                            .on_conflict_do_nothing(index_elements=["name"]))
            counter = session.get(ControlCounter, name, with_for_update=True)
        if counter is None:
            counter = ControlCounter(name=name, value=0)
            session.add(counter)
        counter.value += 1
        session.flush()
        return counter.value

    def _finish(self, message_id: str, worker: str, work: _Work) -> ProcessResult | None:
        with self.db.transaction() as session:
            message = session.get(Message, message_id, with_for_update=not self.db.is_sqlite)
            if message is None or message.locked_by != worker or \
                    message.status != MessageStatus.PROCESSING:
                return None  # the lease was lost: the other worker's result stands
            result = ProcessResult(message_id, MessageStatus.PROCESSED)
            accepted = 0
            numbers: list[str] = [message.interchange_control or ""]
            # The ledger's head lock serialises every writer of the chain, intake's batches
            # included, and this process runs niced: hold it for as little as possible.
            # Everything but the ledger entries and the records is written first; then the
            # entries take the lock, and the records are inserted under it so that they get
            # their feed sequence numbers in commit order (see RecordRow.seq).
            drafts = [EntryDraft(event="TRANSLATED", actor=worker, message_id=message_id,
                                 details={"transactions": len(work.transactions),
                                          "interchanges": len(work.interchanges)})]
            records: list[RecordRow] = []
            send_back: list[tuple[PartnerProfile, bytes]] = []  # acknowledgments over AS2
            for tx in work.transactions:
                entry: dict[str, Any] = {
                    "set_id": tx.set_id, "control_number": tx.control_number,
                    "group_control": tx.group_control, "status": tx.status,
                    "errors": [i.as_dict() for i in tx.errors][:50],
                    "record_id": None,
                }
                numbers += [tx.control_number, tx.group_control]
                data = tx.data
                if data is not None and tx.status != "R" and not work.foreign:
                    business = _business_number(data)
                    if business:
                        numbers.append(business)
                    row = RecordRow(
                        id=str(uuid.uuid4()), message_id=message_id, partner_id=message.partner_id,
                        kind=data["kind"], standard=work.standard, transaction_type=tx.set_id,
                        transaction_control=tx.control_number, business_number=business,
                        status=tx.status, data=record_json(data),
                    )
                    records.append(row)
                    entry["record_id"] = row.id
                    entry["business_number"] = business
                    accepted += 1
                result.transactions.append(entry)
            for ack, kind, acked_control in self._acknowledgments(session, work,
                                                                  message.partner_id):
                text = ack.decode("latin-1" if work.standard == "edifact" else "ascii",
                                  "replace")
                ack_row = Acknowledgment(id=str(uuid.uuid4()), message_id=message_id,
                                         kind=kind, control_number=acked_control,
                                         content=text)
                session.add(ack_row)
                result.acknowledgments.append({"id": ack_row.id, "kind": ack_row.kind,
                                               "content": text})
                drafts.append(EntryDraft(event="ACK_BUILT", actor=worker,
                                         message_id=message_id,
                                         details={"ack_id": ack_row.id, "kind": ack_row.kind,
                                                  "sha256": hashlib.sha256(ack).hexdigest()}))
                partner = self.registry.get(message.partner_id)
                if self.outbound is not None and self.outbound.wants_as2(partner):
                    assert partner is not None
                    send_back.append((partner, ack))
            problems: list[str] = []
            if work.syntax_error:
                problems.append(work.syntax_error)
            if work.foreign:
                problems.append("interchange sender(s) not of this partner: "
                                + ", ".join(sorted(set(work.foreign))))
            if not work.transactions and not work.interchanges:
                problems.append("no interchange could be read")
            if work.foreign or accepted == 0:
                result.status = MessageStatus.REJECTED
            result.error = "; ".join(problems) or None
            message.status = result.status
            message.error = result.error
            message.locked_by = None
            message.locked_until = None
            message.transaction_types = ",".join(sorted({t["set_id"] for t in
                                                         result.transactions}))[:200] or None
            message.search_text = " ".join(sorted({n for n in numbers if n}))[:4000]
            replace_terms(session, message_id, message.received_at, message.search_text)
            message.summary = json.dumps({"transactions": result.transactions,
                                          "groups": [{"control_number": g.control_number,
                                                      "status": g.status}
                                                     for g in work.groups]})
            message.ack_status = _ack_status(work)
            drafts.append(EntryDraft(event=result.status, actor=worker, message_id=message_id,
                                     details={"accepted": accepted,
                                              "rejected": len(work.transactions) - accepted,
                                              "error": result.error}))
            session.flush()
            self.ledger.append_many(session, drafts)
            for row in records:
                session.add(row)
                webhooks.enqueue(session, row)
            for partner, ack in send_back:
                assert self.outbound is not None
                self.outbound.enqueue(
                    session, partner, ack, kind="ack", message_id=message_id, actor=worker,
                    content_type="application/edifact" if work.standard == "edifact"
                    else "application/edi-x12")
            return result

    def _finish_failed(self, message_id: str, worker: str, error: str) -> ProcessResult | None:
        with self.db.transaction() as session:
            message = session.get(Message, message_id)
            if message is None or message.locked_by != worker:
                return None
            message.status = MessageStatus.FAILED
            message.error = error[:4000]
            message.locked_by = None
            message.locked_until = None
            self.ledger.append(session, event=MessageStatus.FAILED, actor=worker,
                               message_id=message_id, details={"error": error[:500]})
        return ProcessResult(message_id, MessageStatus.FAILED, error=error)

    def release_dead_local_claims(self, actor: str) -> int:
        """Expire the leases of this host's workers whose process is gone (kill -9, crash),
        so a restart resumes their messages at once instead of after the lease.

        Only claims named ``...:<this host>-<pid>...`` are considered (the default worker
        ids); other hosts' claims still wait for their lease, as they may be alive.
        """
        host = os.uname().nodename
        pattern = re.compile(rf"(?:^|:){re.escape(host)}-(\d+)(?::|$)")
        released = 0
        with self.db.transaction() as session:
            claimed = session.scalars(select(Message).where(
                Message.status == MessageStatus.PROCESSING)).all()
            for message in claimed:
                match = pattern.search(message.locked_by or "")
                if match is None or _pid_alive(int(match.group(1))):
                    continue
                self.ledger.append(session, event="LEASE_RELEASED", actor=actor,
                                   message_id=message.id,
                                   details={"dead_worker": message.locked_by})
                message.locked_until = utcnow() - timedelta(seconds=1)
                released += 1
        return released

    def run_once(self, worker: str) -> ProcessResult | None:
        """Claim and process the oldest waiting message; None when there is none."""
        message_id = self.claim(None, worker)
        if message_id is None:
            return None
        return self.process(message_id, worker)

    def drain(self, worker: str, limit: int | None = None) -> Iterator[ProcessResult]:
        """Process waiting messages until none is left (or ``limit`` is reached)."""
        done = 0
        while limit is None or done < limit:
            result = self.run_once(worker)
            if result is None:
                return
            done += 1
            yield result

    def reprocess(self, message_id: str, actor: str) -> bool:
        """Put a finished message back to RECEIVED (operator action, in the ledger)."""
        with self.db.transaction() as session:
            message = session.get(Message, message_id)
            if message is None:
                return False
            # Records of the earlier run are superseded: delete them so the feed carries
            # only the records of the run that now stands.
            session.execute(update(Message).where(Message.id == message_id).values(
                status=MessageStatus.RECEIVED, locked_by=None, locked_until=None))
            for row in session.scalars(select(RecordRow).where(
                    RecordRow.message_id == message_id)).all():
                session.delete(row)
            self.ledger.append(session, event="REPROCESS_REQUESTED", actor=actor,
                               message_id=message_id, details={"previous": message.status})
            return True


def claim_queries(now: datetime, message_id: str | None = None) -> list[Select[Message]]:
    """What ``Pipeline.claim`` asks, in order, until one query finds a message.

    For any message: an expired lease first (its message is older than any RECEIVED one),
    then the oldest RECEIVED message. Two queries, each a walk of
    ix_messages_status_received in received order that stops at the first row it can lock:
    one OR over both statuses was planned as a scan of every waiting message and a sort,
    whose cost grew with the backlog (1 ms a claim at 2,000 waiting on PostgreSQL).
    """
    expired = (Message.status == MessageStatus.PROCESSING) & (Message.locked_until < now)
    received = Message.status == MessageStatus.RECEIVED
    if message_id is not None:
        return [select(Message).where(Message.id == message_id, or_(received, expired))]
    return [select(Message).where(where).order_by(Message.received_at, Message.id).limit(1)
            for where in (expired, received)]


@dataclass(slots=True)
class _Work:
    """What translating one message produced, whatever its standard."""

    standard: str = "x12"
    transactions: list[_Tx] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    interchanges: list[InterchangeOutcome | EDIFACTInterchangeOutcome] = field(
        default_factory=list)
    foreign: list[str] = field(default_factory=list)
    syntax_error: str | None = None
    ack_kind: str = "auto"
    ta1: str = "auto"
    contrl: str = "errors"


@dataclass(slots=True)
class _Tx:
    """One X12 transaction set or EDIFACT message, as the pipeline stores it."""

    set_id: str
    control_number: str
    group_control: str
    status: str  # A accepted, E accepted with errors noted, R rejected
    errors: list[Any]
    data: dict[str, Any] | None  # the canonical record as plain data


@dataclass(slots=True)
class _Group:
    control_number: str
    status: str
    counts: bool  # for the message's ack status (X12 groups of acks do not)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ack_status(work: _Work) -> str | None:
    codes = [g.status for g in work.groups if g.counts]
    if work.standard == "edifact" and not codes:
        codes = ["R" if t.status == "R" else "A" for t in work.transactions]
    if not codes:
        return None
    if all(c == "A" for c in codes):
        return "accepted"
    if all(c == "R" for c in codes):
        return "rejected"
    return "partial" if "P" in codes or "R" in codes else "accepted_with_errors"


_BUSINESS_KEYS = ("po_number", "invoice_number", "shipment_id", "report_id")


def _source_hook(message_id: str, partner_id: str) -> Callable[[RecordData], RecordData]:
    """What the translators call with each record's source: the gateway's ids added."""

    def hook(source: RecordData) -> RecordData:
        source["message_id"] = message_id
        source["partner_id"] = partner_id
        return source

    return hook


def _business_number(data: dict[str, Any]) -> str | None:
    for key in _BUSINESS_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value[:80]
    return None
