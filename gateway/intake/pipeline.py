"""The one intake pipeline every transport feeds: receive durably, then process.

Responsible for the receive-before-acknowledge rule (payload, message row and RECEIVED
ledger entry in one transaction, committed before any transport says "received"), for
duplicate detection and intake's refusals (every interchange of a body from the
authenticated partner to this gateway, no control character in a header intake stores),
and for the operations on the message state machine (claim, process, reprocess,
releasing dead workers' claims); processing itself
(claims, translation, storing outcomes in batches) is ``gateway.processing.processor``.
It must not know about HTTP or AS2: transports turn their requests into a ``Delivery``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from gateway.errors import GatewayError
from gateway.intake.activity import IntakeActivity
from gateway.intake.group_commit import IntakeWriter, Pending, ReceiveResult
from gateway.intake.writer_process import IntakeProcess
from gateway.ledger.chain import Ledger
from gateway.orders.demand import forget_message as forget_demand
from gateway.processing.processor import (
    Inline,
    Processor,
    ProcessResult,
    is_x12_identity_of,
)
from gateway.processing.processor import interchange_identity as _identity
from gateway.runtime.metrics import Metrics
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.models import Message, MessageStatus, RecordRow
from gateway.store.rollups import Move, record_moves
from partners import PartnerRegistry
from translators.ascii import first_control
from translators.detect import HEAD_BYTES, detect_standard
from translators.edifact.reader import EDIFACTReader
from translators.edifact.segment import Segment as EDIFACTSegment
from translators.errors import EDISyntaxError
from translators.x12.reader import X12Reader
from translators.x12.segment import Segment as X12Segment

__all__ = [
    "Delivery",
    "IntakeRejected",
    "Pipeline",
    "ProcessResult",
    "ReceiveResult",
]

log = logging.getLogger("edigate.pipeline")



@dataclass(frozen=True, slots=True)
class Delivery:
    """A message as a transport hands it over, its partner already authenticated."""

    partner_id: str
    transport: str
    body: bytes
    evidence: dict[str, Any] = field(default_factory=dict)


class IntakeRejected(GatewayError):
    """The message is refused at intake; ``status`` is the HTTP status a transport uses."""


def sniff_standard(body: bytes) -> str:
    """``x12``, ``edifact`` or ``unknown`` from the first bytes (the readers' own rule,
    ``translators.detect``)."""
    return detect_standard(body[:HEAD_BYTES]) or "unknown"


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


_EBCDIC_ISA = b"\xc9\xe2\xc1"


def later_isas(body: bytes) -> Iterator[X12Segment]:
    """The ISA of every interchange of ``body`` after the first, as processing will read
    them (``X12Reader``), up to the first bytes it cannot read (where processing stops
    too).

    Most bodies hold one interchange and no second "ISA" at all: one search of the body
    tells, and only a body where one appears (another interchange, or the letters in some
    text) is read whole."""
    first = body.find(b"ISA")
    if body.find(b"ISA", first + 3) < 0 and body.find(_EBCDIC_ISA) < 0:
        return
    seen = False
    try:
        for segment in X12Reader(body):
            if segment.fields[0] == "ISA":
                if seen:
                    yield segment
                seen = True
    except EDISyntaxError:
        return


def later_unbs(body: bytes) -> Iterator[EDIFACTSegment]:
    """The UNB of every interchange of ``body`` after the first, as processing will read
    them (``EDIFACTReader``), up to the first bytes it cannot read; as ``later_isas``, a
    body without a second "UNB" is not read."""
    first = body.find(b"UNB")
    if body.find(b"UNB", first + 3) < 0:
        return
    seen = False
    try:
        for segment in EDIFACTReader(body):
            if segment.tag == "UNB":
                if seen:
                    yield segment
                seen = True
    except EDISyntaxError:
        return


def _control_in(values: list[str], allowed: str = "") -> int:
    """The index of the first value holding a control character, or -1."""
    for index, value in enumerate(values):
        if first_control(value, allowed) >= 0:
            return index
    return -1


class IntakeCounter:
    """What the group-commit writer reports, counted: messages stored (metrics) and
    batches committed (metrics, and the activity stamp this host's workers defer to).

    Built before the writer, which calls it, and the pipeline, which holds the writer."""

    def __init__(self, metrics: Metrics, activity: IntakeActivity) -> None:
        self.metrics = metrics
        self.activity = activity

    def stored(self, pending: Pending, result: ReceiveResult) -> None:
        if not result.duplicate:
            self.metrics.received.labels(pending.partner_id, pending.transport).inc()

    def batched(self, size: int, seconds: float) -> None:
        self.activity.mark()
        self.metrics.intake_batch_size.observe(size)
        self.metrics.intake_commit_seconds.observe(seconds)


class Pipeline:
    """Receive and process messages for one database, partner registry and ledger.

    Built by the composition root (``gateway.runtime.state``), which chooses the intake
    writer (a thread or a process) and the processor's outbound transport."""

    def __init__(self, settings: Settings, db: Database, registry: PartnerRegistry,
                 ledger: Ledger, *, intake: IntakeWriter | IntakeProcess,
                 processor: Processor, counter: IntakeCounter) -> None:
        self.settings = settings
        self.metrics = counter.metrics
        self.db = db
        self.registry = registry
        self.ledger = ledger
        self.intake = intake
        self.processor = processor
        self.inline = Inline(self.processor, f"sync:{settings.worker_id}")
        # Stamped after every intake batch; this host's workers defer to it (activity.py).
        self.activity = counter.activity

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
        """Check the envelope without touching the database (cheap: the first 4 KB, and a
        body holding a second interchange header is read for its headers, see
        ``later_isas``).

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

    def close(self) -> None:
        """Stop the intake writer (what it holds is still stored)."""
        self.intake.close()
        self.activity.close()

    def _check_envelope(self, delivery: Delivery, standard: str) -> dict[str, str]:
        if not delivery.body.strip():
            raise IntakeRejected(422, "empty-body", "Empty message", "the request body is empty")
        if standard == "unknown":
            sample = delivery.body[:16]
            raise IntakeRejected(422, "not-edi", "Not EDI",
                                 f"the body is neither X12 (ISA) nor EDIFACT (UNA, UNB or UNH); it "
                                 f"begins {sample!r} at byte offset 0")
        if standard == "edifact":
            return self._check_unbs(delivery)
        isa, offset = fixed_isa(delivery.body), 0
        delimiters = ""
        if isa is None:  # not the fixed layout: the reader finds it, or says what is wrong
            try:
                segment = next(iter(X12Reader(delivery.body[:4096])))
            except (EDISyntaxError, StopIteration) as exc:
                raise IntakeRejected(422, "not-edi", "Unreadable X12 interchange header",
                                     str(exc)) from exc
            isa, offset = segment.fields, segment.offset
            delimiters = segment.delimiters.component + (segment.delimiters.repetition or "")
        header = self._check_isa(delivery, isa, offset, delimiters)
        # Every interchange of the body is judged as the first: processing acknowledges
        # each interchange to its own sender, and the message is the partner's alone.
        for later in later_isas(delivery.body):
            d = later.delimiters
            self._check_isa(delivery, later.fields, later.offset,
                            d.component + (d.repetition or ""))
        return header

    def _check_isa(self, delivery: Delivery, isa: list[str], offset: int,
                   delimiters: str) -> dict[str, str]:
        """ISA05/ISA06 must be the authenticated partner, ISA07/ISA08 this gateway, and no
        element may hold a control character (ISA11 and ISA16 may be delimiters that are)."""
        if len(isa) < 17:
            raise IntakeRejected(422, "bad-envelope", "Incomplete ISA",
                                 f"the ISA at byte offset {offset} has {len(isa) - 1} elements")
        bad = _control_in(isa[1:17], delimiters)
        if bad >= 0:
            # Stored (sender, control number) and read back by partners and operators:
            # text that no X12 character set holds, and PostgreSQL cannot store a NUL.
            raise IntakeRejected(
                422, "invalid-character", "Control character in the interchange header",
                f"ISA{bad + 1:02d} {isa[bad + 1]!r} of the ISA at byte offset {offset} "
                f"holds a control character")
        sender = _identity(isa[5], isa[6])
        if not is_x12_identity_of(self.registry, delivery.partner_id, isa[5], isa[6]):
            raise IntakeRejected(
                403, "sender-mismatch", "Sender is not the authenticated partner",
                f"ISA05/ISA06 {sender!r} of interchange {isa[13].strip()!r} at byte offset "
                f"{offset} does not belong to partner {delivery.partner_id!r}")
        receiver = _identity(isa[7], isa[8])
        ours = _identity(self.settings.x12_qualifier, self.settings.x12_sender_id)
        if receiver != ours:
            raise IntakeRejected(422, "receiver-mismatch", "Receiver is not this gateway",
                                 f"ISA07/ISA08 {receiver!r} of interchange "
                                 f"{isa[13].strip()!r} at byte offset {offset} is not this "
                                 f"gateway ({ours!r})")
        return {"sender": sender, "receiver": receiver, "control": isa[13].strip()}

    def _check_unbs(self, delivery: Delivery) -> dict[str, str]:
        """The first UNB, found in the first bytes, then every later one (see
        ``_check_envelope``)."""
        header = self._check_unb(delivery)
        for later in later_unbs(delivery.body):
            self._check_unb_parties(delivery, later)
        return header

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
        return self._check_unb_parties(delivery, unb)

    def _check_unb_parties(self, delivery: Delivery, unb: EDIFACTSegment) -> dict[str, str]:
        """S002 the authenticated partner, S003 this gateway, no control character."""
        for position, element in enumerate(unb.elements, start=1):
            bad = _control_in(element)
            if bad >= 0:
                # As for the ISA (``_check_isa``): stored, shown, and no repertoire has it.
                raise IntakeRejected(
                    422, "invalid-character", "Control character in the interchange header",
                    f"UNB element {position} component {bad + 1} {element[bad]!r} of the "
                    f"UNB at byte offset {unb.offset} holds a control character")
        control = unb.get(5).strip()
        sender_id, sender_qualifier = unb.get(2, 1), unb.get(2, 2)
        sender = _identity(sender_qualifier, sender_id)
        found = self.registry.by_edifact(sender_id, sender_qualifier or None)
        if found is None or found.id != delivery.partner_id:
            raise IntakeRejected(
                403, "sender-mismatch", "Sender is not the authenticated partner",
                f"UNB S002 {sender!r} of interchange {control!r} at byte offset "
                f"{unb.offset} does not belong to partner {delivery.partner_id!r}")
        receiver = _identity(unb.get(3, 2), unb.get(3, 1))
        ours_qualifier, _, ours_id = self.settings.edifact_id.rpartition(":")
        if unb.get(3, 1).strip() != ours_id.strip() or (
                unb.get(3, 2) and ours_qualifier and unb.get(3, 2).strip() != ours_qualifier):
            raise IntakeRejected(422, "receiver-mismatch", "Receiver is not this gateway",
                                 f"UNB S003 {receiver!r} of interchange {control!r} at byte "
                                 f"offset {unb.offset} is not this gateway "
                                 f"({self.settings.edifact_id!r})")
        return {"sender": sender, "receiver": receiver, "control": control}

    def _log_rejection(self, delivery: Delivery, actor: str, exc: IntakeRejected) -> None:
        with self.db.transaction() as session:
            self.ledger.append(session, event="INTAKE_REJECTED", actor=actor, details={
                "partner": delivery.partner_id, "transport": delivery.transport,
                "status": exc.status, "reason": exc.slug, "detail": exc.detail,
                "size": len(delivery.body),
                "payload_sha256": hashlib.sha256(delivery.body).hexdigest(),
            })

    # -- processing (gateway.processing.processor) ------------------------------------------------
    def claim(self, message_id: str | None, worker: str) -> str | None:
        """Take a message for processing: a given one, or the oldest waiting one; its id,
        or None when there is none (see ``Processor.claim``)."""
        claimed = self.processor.claim(
            worker, message_ids=None if message_id is None else [message_id])
        return claimed[0].id if claimed else None

    def process(self, message_id: str, worker: str) -> ProcessResult | None:
        """Process a message ``worker`` claimed; None when the claim was lost to another
        worker."""
        claimed = self.processor.held(message_id, worker)
        if claimed is None:
            return None
        return self.processor.process([claimed], worker)[0]

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
        results = self.run_batch(worker, 1)
        return results[0] if results else None

    def run_batch(self, worker: str, limit: int) -> list[ProcessResult]:
        """Claim up to ``limit`` waiting messages and process them as one batch; what was
        stored (empty when nothing was waiting)."""
        claimed = self.processor.claim(worker, limit=limit)
        if not claimed:
            return []
        return [r for r in self.processor.process(claimed, worker) if r is not None]

    def drain(self, worker: str, limit: int | None = None) -> Iterator[ProcessResult]:
        """Process waiting messages until none is left (or ``limit`` is reached)."""
        done = 0
        while limit is None or done < limit:
            batch = self.settings.worker_batch if limit is None else \
                min(self.settings.worker_batch, limit - done)
            claimed = self.processor.claim(worker, limit=batch)
            if not claimed:
                return
            done += len(claimed)
            yield from (r for r in self.processor.process(claimed, worker) if r is not None)

    def reprocess(self, message_id: str, actor: str) -> bool:
        """Put a finished message back to RECEIVED (operator action, in the ledger)."""
        with self.db.transaction() as session:
            # Locked: a worker finishing it meanwhile is waited for, so that the status
            # read (the ledger's "previous", the counts moved) is the one replaced.
            message = session.scalars(self.db.dialect.locked(
                select(Message).where(Message.id == message_id))).one_or_none()
            if message is None:
                return False
            if message.direction != "inbound":
                raise GatewayError(409, "not-reprocessable", "Not an inbound message",
                                   f"message {message_id} is one edigate wrote; send it again "
                                   f"with POST /v1/messages/{message_id}/resend")
            # Read before the update, which also changes the loaded row.
            previous = message.status
            # Records of the earlier run are superseded: delete them so the feed carries
            # only the records of the run that now stands.
            session.execute(update(Message).where(Message.id == message_id).values(
                status=MessageStatus.RECEIVED, locked_by=None, locked_until=None))
            for row in session.scalars(select(RecordRow).where(
                    RecordRow.message_id == message_id)).all():
                session.delete(row)
            # Its documents leave their orders, and its demand reports the demand view,
            # until the new run stores them again.
            drafts = self.processor.orders.forget_message(session, message_id, utcnow(), actor)
            forget_demand(session, message_id)
            self.ledger.append(session, event="REPROCESS_REQUESTED", actor=actor,
                               message_id=message_id, details={"previous": previous})
            for draft in drafts:
                self.ledger.append(session, event=draft.event, actor=draft.actor,
                                   message_id=draft.message_id, details=draft.details)
            # After the ledger's head lock, as every writer of the counts (rollups).
            record_moves(session.connection(), [Move(
                message.received_at, message.partner_id, message.direction,
                (previous, message.transaction_types),
                (MessageStatus.RECEIVED, message.transaction_types))])
            return True


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
