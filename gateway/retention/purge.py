"""Retention runs: archive what is due, then purge it; restore an archive; legal holds.

Responsible for finding the messages that are due (``RetentionPolicy``, no legal hold),
writing them with everything stored for them to one archive (``gateway.retention.archive``),
and only then deleting them batch by batch, each batch in a transaction of its own with a
``RETENTION_PURGED`` ledger entry naming the archive, its sha256, how many rows of each
table went and the sha256 of the purged message ids (sorted, one a line); for loading an
archive back (``restore``, idempotent); and for holds and their release.

What a purge deletes, per message: its payload (unless another row still refers to the
same bytes), the message row, its records, acknowledgments, search terms, record
deliveries to webhooks, sent documents, AS2, HTTPS and SFTP transfer rows; its counts
leave the dashboard's rollups. What it leaves, on purpose: ledger entries (the ledger hashes
payload digests, never payloads, so ``ledger verify`` holds after a purge); orders with
their lines, documents and findings (an order keeps its computed state, and each of
its ``order_documents`` rows whose record or sent document goes keeps a copy of that
record's data, so that the order is told again from the same documents);
demand points (figures per product and period, already computed); events and their
broker deliveries (the event log, not the message's).

Bounded memory and time per batch: messages are scanned in (received_at, id) order a
batch at a time, each scan starting in the index where the last one ended; rows are read
per batch (payloads a few at a time) through indexes on the columns that name their
message or payload, and streamed into the archive; the purge reads the message ids back
from the archive batch by batch. A message changed after the run began (``updated_at``),
held meanwhile, or no longer final is skipped. So is a message with work still in an
outbox (``unfinished_work``: a webhook delivery of its records, a transfer to the partner
or an MDN still pending): it is purged by a later run, once that work is done.
It must not decide periods (``gateway.retention.policy``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Delete,
    Select,
    Table,
    and_,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from gateway.errors import GatewayError
from gateway.ledger.chain import Ledger
from gateway.retention.archive import (
    TABLES,
    ArchiveBatch,
    ArchiveWriter,
    archive_batches,
    archive_message_ids,
    check_archive,
)
from gateway.retention.policy import RetentionPolicy
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.db import Database
from gateway.store.holds import LegalHold
from gateway.store.https import HTTPSStatus, HTTPSTransfer
from gateway.store.models import (
    ControlCounter,
    Message,
    MessageStatus,
    Payload,
    RecordRow,
)
from gateway.store.orders import OrderDocumentRow, linked_record
from gateway.store.outbound import SentDocument
from gateway.store.rollups import Move, record_moves
from gateway.store.search import keyset_after
from gateway.store.sftp import SFTPStatus, SFTPTransfer
from gateway.store.webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = ["HoldError", "RunReport", "claim_day", "hold", "release", "restore", "run"]

# The columns that refer to a payload by its digest, each in an archived table: a purged
# message's payloads are archived with it and deleted when none of these refers to them.
_TABLES = {table.name: table for table in TABLES}
PAYLOAD_REFERENCES: tuple[Column[Any], ...] = tuple(
    _TABLES[model.__tablename__].c[name] for model, name in (
        (Message, "payload_sha256"), (AS2Message, "payload_sha256"), (AS2Message, "raw_sha256"),
        (HTTPSTransfer, "payload_sha256"), (SFTPTransfer, "payload_sha256")))
# Payload rows read at once while archiving: a payload may be as large as an intake body.
_PAYLOADS_AT_ONCE = 16
_FINAL = sorted(MessageStatus.FINAL)
_DAY_COUNTER = "retention.last_day"


class HoldError(GatewayError):
    def __init__(self, detail: str) -> None:
        super().__init__(404, "message-not-found", "No such message", detail)


@dataclass
class RunReport:
    """What a retention run did."""

    examined: int = 0
    due: int = 0
    waiting: int = 0  # past their period, kept until their outbox work is done
    purged: int = 0
    skipped: int = 0
    archive: Path | None = None
    archive_sha256: str | None = None
    rows: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"examined": self.examined, "due": self.due, "waiting": self.waiting,
                "purged": self.purged,
                "skipped": self.skipped, "archive": str(self.archive) if self.archive else None,
                "archive_sha256": self.archive_sha256, "rows": dict(sorted(self.rows.items()))}


def ids_digest(message_ids: Sequence[str]) -> str:
    """The sha256 of message ids, sorted, one a line: how a purge names what it removed."""
    return hashlib.sha256("".join(f"{i}\n" for i in sorted(message_ids)).encode()).hexdigest()


# ------------------------------------------------------------------------ what is due


def unfinished_work() -> ColumnElement[bool]:
    """True for a message with work still on its way: a record delivery to a webhook, a
    document going to the partner (HTTPS, SFTP, AS2 and the MDN it waits for) or an MDN
    owed to the partner. Purging it would take that work out of its outbox, so such a
    message waits until the work is done (delivered, or failed for good)."""
    return or_(
        exists().where(WebhookDelivery.message_id == Message.id,
                       WebhookDelivery.subject == "record",
                       WebhookDelivery.status == DeliveryStatus.PENDING),
        exists().where(HTTPSTransfer.message_id == Message.id,
                       HTTPSTransfer.status == HTTPSStatus.PENDING),
        exists().where(SFTPTransfer.message_id == Message.id,
                       SFTPTransfer.status == SFTPStatus.PENDING),
        exists().where(AS2Message.message_id == Message.id, or_(
            AS2Message.status.in_([AS2Status.PENDING, AS2Status.AWAITING_MDN]),
            AS2Message.mdn_status == AS2Status.PENDING)))


def _kinds(session: Session, ids: Sequence[str]) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for column_id, column_kind in ((RecordRow.message_id, RecordRow.kind),
                                   (SentDocument.message_id, SentDocument.kind)):
        for message_id, kind in session.execute(
                select(column_id, column_kind).where(column_id.in_(ids)).distinct()):
            kinds.setdefault(message_id, set()).add(kind)
    return kinds


def due_query(cutoff: datetime, after: tuple[datetime, str] | None, limit: int
              ) -> Select[str, str, str, datetime]:
    """The next ``limit`` messages received by ``cutoff``, oldest first, after the
    (received_at, id) of the last one read: one range of ix_messages_received that starts
    where the previous batch ended. Messages not in a final status are read too (they are
    never due): asked for the status as well, SQLite took ix_messages_status_received
    instead and sorted every final message up to ``cutoff`` for each batch."""
    query = (select(Message.id, Message.partner_id, Message.status, Message.received_at)
             .where(Message.received_at <= cutoff)
             .order_by(Message.received_at, Message.id).limit(limit))
    if after is not None:
        query = query.where(keyset_after(Message.received_at, Message.id, *after))
    return query


def due_batches(db: Database, policy: RetentionPolicy, now: datetime, batch: int
                ) -> Iterator[tuple[int, list[str], int]]:
    """(messages examined, ids of the due ones, how many more were due but wait for
    their outbox work) per batch of up to ``batch`` examined, oldest first; each batch
    read in a transaction of its own."""
    shortest = policy.shortest()
    if shortest is None:
        return
    cutoff = now - timedelta(days=shortest)
    after: tuple[datetime, str] | None = None
    while True:
        with db.read() as session:
            rows = session.execute(due_query(cutoff, after, batch)).all()
            if not rows:
                return
            after = (rows[-1].received_at, rows[-1].id)
            ids = [row.id for row in rows]
            kinds = _kinds(session, ids)
            held = set(session.scalars(select(LegalHold.message_id)
                                       .where(LegalHold.message_id.in_(ids))))
            busy = set(session.scalars(select(Message.id).where(
                Message.id.in_(ids), unfinished_work())))
        due = [row.id for row in rows if row.id not in held and policy.due(
            row.partner_id, row.status, kinds.get(row.id, ()), row.received_at, now)]
        yield len(rows), [i for i in due if i not in busy], sum(i in busy for i in due)


# ------------------------------------------------------------------------ archive


def by_message(table: Table) -> Column[Any]:
    """The column that names the message a row of ``table`` (an archived table but
    ``payloads``) belongs to."""
    return table.c.id if table.name == Message.__tablename__ else table.c.message_id


def _of_messages(table: Table, ids: Sequence[str]) -> ColumnElement[bool]:
    """The rows of ``table`` that belong to messages ``ids``: what is archived and purged
    with them (deliveries of events belong to the event log)."""
    where: ColumnElement[bool] = by_message(table).in_(ids)
    if table.name == WebhookDelivery.__tablename__:
        where = and_(where, table.c.subject == "record")
    return where


def _archive_batch(db: Database, writer: ArchiveWriter, ids: Sequence[str]) -> None:
    """Write the rows of messages ``ids`` (and of what refers to them) to ``writer``."""
    with db.read() as session:
        children: dict[str, list[Any]] = {}
        for table in TABLES[1:]:
            children[table.name] = [row._mapping for row in session.execute(
                select(table).where(_of_messages(table, ids)))]
        shas = sorted({row[column.name] for column in PAYLOAD_REFERENCES
                       for row in children[column.table.name] if row[column.name]})
        payloads = TABLES[0]
        for start in range(0, len(shas), _PAYLOADS_AT_ONCE):
            chunk = shas[start:start + _PAYLOADS_AT_ONCE]
            writer.rows(payloads, [row._mapping for row in session.execute(
                select(payloads).where(payloads.c.sha256.in_(chunk)))])
        for table in TABLES[1:]:
            writer.rows(table, children[table.name])
    writer.end_batch(ids)


# ------------------------------------------------------------------------ purge


def delete_unreferenced(shas: Collection[str]) -> Delete:
    """The delete of those payloads of ``shas`` that no row refers to any more: they are
    content-addressed, so the same bytes may still be another message's."""
    return delete(Payload).where(
        Payload.sha256.in_(shas),
        *(~exists().where(column == Payload.sha256) for column in PAYLOAD_REFERENCES))


def _keep_order_documents(session: Session, gone: Sequence[str]) -> int:
    """Copy the record data of the order documents of messages ``gone`` into their order
    links (``OrderDocumentRow.kept``) before their records and sent documents are
    deleted: an order is told again from its documents (a later one joining it, the
    worker's clock), and must not lose those that were purged. How many links were
    given a copy."""
    links: Table = OrderDocumentRow.__table__  # type: ignore[assignment]
    record = linked_record()
    kept: int = session.execute(update(links).where(
        links.c.message_id.in_(gone), links.c.kept.is_(None), record.is_not(None))
        .values(kept=record)).rowcount  # type: ignore[attr-defined]
    return kept


def _purge_batch(db: Database, ledger: Ledger, ids: Sequence[str], *, started: datetime,
                 actor: str, archive: Path, archive_sha256: str, batch: int,
                 report: RunReport) -> None:
    with db.transaction() as session:
        query = (select(Message.id, Message.received_at, Message.partner_id,
                        Message.direction, Message.status, Message.transaction_types,
                        Message.payload_sha256)
                 .where(Message.id.in_(ids), Message.status.in_(_FINAL),
                        Message.updated_at < started,
                        ~exists().where(LegalHold.message_id == Message.id),
                        ~unfinished_work()))
        rows = session.execute(db.dialect.locked(query)).all()
        report.skipped += len(ids) - len(rows)
        if not rows:
            return
        gone = [row.id for row in rows]
        shas: set[str] = set()
        for column in PAYLOAD_REFERENCES:
            shas.update(s for s in session.scalars(select(column).where(
                by_message(column.table).in_(gone))) if s)
        counts: dict[str, int] = {"order_documents_kept": _keep_order_documents(session, gone)}
        for table in reversed(TABLES[1:]):  # what refers to a message before the message
            counts[table.name] = session.execute(
                delete(table).where(_of_messages(table, gone))).rowcount  # type: ignore[attr-defined]
        counts["payloads"] = session.execute(
            delete_unreferenced(shas)).rowcount  # type: ignore[attr-defined]
        record_moves(session.connection(), [
            Move(row.received_at, row.partner_id, row.direction,
                 (row.status, row.transaction_types), None) for row in rows])
        ledger.append(session, event="RETENTION_PURGED", actor=actor, details={
            "archive": archive.name, "archive_sha256": archive_sha256, "batch": batch,
            "messages": len(gone), "message_ids_sha256": ids_digest(gone),
            "first_received_at": min(row.received_at for row in rows).isoformat(),
            "last_received_at": max(row.received_at for row in rows).isoformat(),
            "rows": dict(sorted(counts.items()))})
    report.purged += len(gone)
    for name, count in counts.items():
        report.rows[name] = report.rows.get(name, 0) + count


def run(db: Database, ledger: Ledger, policy: RetentionPolicy, archive_dir: Path, *,
        now: datetime, actor: str, batch: int = 1000) -> RunReport:
    """Archive every message due at ``now``, then purge them; what was done. Nothing due:
    no archive, no ledger entry."""
    report = RunReport()
    writer: ArchiveWriter | None = None
    name = f"edigate-archive-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}.jsonl.gz"
    header = {"created_at": now.isoformat(), "actor": actor, "policy": policy.as_dict()}
    try:
        pending: list[str] = []
        for examined, due, waiting in due_batches(db, policy, now, batch):
            report.examined += examined
            report.due += len(due)
            report.waiting += waiting
            pending += due
            while len(pending) >= batch:
                writer = writer or ArchiveWriter(archive_dir, name, header)
                _archive_batch(db, writer, pending[:batch])
                pending = pending[batch:]
        if pending:
            writer = writer or ArchiveWriter(archive_dir, name, header)
            _archive_batch(db, writer, pending)
        if writer is None:
            return report
        digest = writer.close()
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    report.archive, report.archive_sha256 = writer.path, digest
    for number, ids in archive_message_ids(writer.path):
        _purge_batch(db, ledger, ids, started=now, actor=actor, archive=writer.path,
                     archive_sha256=digest, batch=number, report=report)
    return report


# ------------------------------------------------------------------------ restore


def _present(connection: Connection, table: Table, rows: list[dict[str, Any]],
             key: str) -> set[Any]:
    values = [row[key] for row in rows]
    found: set[Any] = set()
    for start in range(0, len(values), 500):
        found.update(connection.scalars(select(table.c[key]).where(
            table.c[key].in_(values[start:start + 500]))))
    return found


def _restore_batch(db: Database, ledger: Ledger, batch: ArchiveBatch, *, archive: Path,
                   actor: str, totals: dict[str, int]) -> None:
    with db.transaction() as session:
        connection = session.connection()
        dialect = db.dialect
        counts: dict[str, int] = {}
        messages: set[str] = set()
        for table in TABLES:
            rows = batch.rows.get(table.name, [])
            if table.name != Payload.__tablename__ and table.name != Message.__tablename__:
                # Rows of a message that could not come back (its bytes were taken in
                # again as a new message since) stay in the archive.
                rows = [row for row in rows if row["message_id"] in messages]
            if table.name == WebhookDelivery.__tablename__ and rows:
                hooks = _present(connection, Webhook.__table__,  # type: ignore[arg-type]
                                 [{"id": row["webhook_id"]} for row in rows], "id")
                rows = [row for row in rows if row["webhook_id"] in hooks]
            if not rows:
                continue
            if table.name == RecordRow.__tablename__:
                there = _present(connection, table, rows, "id")
                rows = [row for row in rows if row["id"] not in there]
                taken = _present(connection, table, rows, "seq") if rows else set()
                rows = [{k: v for k, v in row.items() if k != "seq"}
                        if row["seq"] in taken else row for row in rows]
                for row in rows:
                    connection.execute(insert(table).values(**row))
                counts[table.name] = len(rows)
                continue
            before = (_present(connection, table, rows, "id")
                      if table.name == Message.__tablename__ else set())
            connection.execute(dialect.insert(table).on_conflict_do_nothing(), rows)
            if table.name == Message.__tablename__:
                after = _present(connection, table, rows, "id")
                messages = after
                new = [row for row in rows if row["id"] in after - before]
                counts[table.name] = len(new)
                record_moves(connection, [
                    Move(row["received_at"], row["partner_id"], row["direction"], None,
                         (row["status"], row["transaction_types"])) for row in new])
            else:
                counts[table.name] = len(rows)
        ledger.append(session, event="RETENTION_RESTORED", actor=actor, details={
            "archive": archive.name, "batch": batch.number,
            "messages": counts.get(Message.__tablename__, 0),
            "message_ids_sha256": ids_digest(sorted(messages)),
            "rows": dict(sorted(counts.items()))})
    for name, count in counts.items():
        totals[name] = totals.get(name, 0) + count


def restore(db: Database, ledger: Ledger, path: Path, *, actor: str) -> dict[str, int]:
    """Load the archive at ``path`` back, batch by batch (rows already there are left as
    they are); rows inserted per table. ArchiveError for an archive its manifest does not
    vouch for, before anything is written."""
    check_archive(path)
    totals: dict[str, int] = {}
    for batch in archive_batches(path):
        _restore_batch(db, ledger, batch, archive=path, actor=actor, totals=totals)
    return totals


# ------------------------------------------------------------------------ holds


def hold(db: Database, ledger: Ledger, message_id: str, *, actor: str,
         reason: str | None = None, now: datetime) -> bool:
    """Put a legal hold on a stored message; False when it was held already."""
    with db.transaction() as session:
        if session.get(Message, message_id) is None:
            raise HoldError(f"no message {message_id}")
        if session.get(LegalHold, message_id) is not None:
            return False
        session.add(LegalHold(message_id=message_id, actor=actor, reason=reason, held_at=now))
        ledger.append(session, event="LEGAL_HOLD", actor=actor, message_id=message_id,
                      details={"reason": reason})
    return True


def release(db: Database, ledger: Ledger, message_id: str, *, actor: str) -> bool:
    """Release a message's legal hold; False when it had none."""
    with db.transaction() as session:
        found = session.get(LegalHold, message_id)
        if found is None:
            return False
        session.delete(found)
        ledger.append(session, event="LEGAL_HOLD_RELEASED", actor=actor,
                      message_id=message_id, details={"held_by": found.actor,
                                                      "held_at": found.held_at.isoformat()})
    return True


def claim_day(db: Database, day: int) -> bool:
    """Whether this process is the one to run retention on ``day`` (days since the epoch):
    the first caller of the day on any host sharing the database moves the counter."""
    with db.transaction() as session:
        session.execute(db.dialect.insert(ControlCounter).values(name=_DAY_COUNTER, value=0)
                        .on_conflict_do_nothing(index_elements=["name"]))
        moved = session.execute(update(ControlCounter).where(
            ControlCounter.name == _DAY_COUNTER, ControlCounter.value < day)
            .values(value=day)).rowcount  # type: ignore[attr-defined]
    return bool(moved)
