"""SFTP out: outbound interchanges and acknowledgments uploaded to partners' SFTP
servers, as a channel of the one outbox.

Responsible for queueing (``SFTPOutbox.enqueue``: an ``sftp_transfers`` row and its
payload added in the caller's transaction, ledger SFTP_QUEUED), for what one attempt does
(``SFTPChannel``: upload the payload to the partner's ``[sftp] outbound_path`` under a
temporary name, then rename it to its final name) and for ledgering the outcome
(SFTP_SENT, SFTP_SEND_RETRY, SFTP_SEND_FAILED). Claiming under a lease, retrying with
backoff and giving up are the outbox's (``gateway.delivery.outbox``). It must not
generate or store the EDI itself, nor poll for inbound files (``gateway.intake.sftp``).

A partner never sees a partial file under its final name: the bytes are written to
``<name><upload_suffix>`` and renamed (``posix-rename``, which replaces) only after the
server confirmed the whole size. An attempt whose connection drops is retried; since the
final name is the transfer's own, a retry after a rename whose answer was lost writes the
same file again under the same name (at least once, never two different files).

How an attempt counts: the upload and rename done: delivered. A failure to connect, a
dropped connection, a server error: retried with the outbox's backoff. The egress policy
refuses the address, the host key differs from the profile's, the login is refused or
its key or secret is missing, or the partner has no ``[sftp] outbound_path`` any more:
failed at once, with one located line. Each attempt uses the profile as loaded now.
"""

from __future__ import annotations

import io
import logging
import posixpath
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.delivery.as2_sending import AS2Outbox
from gateway.delivery.egress import Destination, Egress, EgressRefused
from gateway.delivery.outbox import Channel, Outbox, Outcome
from gateway.delivery.sftp_client import SFTPUnusable, open_sftp
from gateway.ledger.chain import Ledger
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.models import Payload, add_payload
from gateway.store.sftp import SFTPStatus, SFTPTransfer
from partners import PartnerProfile, PartnerRegistry
from partners.profile import SFTPProfile

__all__ = ["AckTransports", "SFTPChannel", "SFTPDeliverer", "SFTPOutbox", "SFTPWork"]

log = logging.getLogger("edigate.sftp")

_ERROR_MAX = 500


def _destination(profile: SFTPProfile) -> Destination:
    return ("sftp", profile.host.lower(), profile.port)


class SFTPOutbox:
    """The SFTP rows of the outbox: added in the caller's transaction, worked by an
    ``SFTPDeliverer``. ``secrets`` is where ``password_env`` / ``passphrase_env`` names
    are looked up at each attempt (the process environment, passed in by
    ``gateway.runtime.state``)."""

    def __init__(self, settings: Settings, db: Database, ledger: Ledger,
                 registry: PartnerRegistry, secrets: Mapping[str, str]) -> None:
        self.settings = settings
        self.db = db
        self.ledger = ledger
        self.registry = registry
        self.secrets = secrets

    @staticmethod
    def wants_sftp(partner: PartnerProfile | None) -> bool:
        """Whether ``partner`` takes files over SFTP (``[sftp]`` with an outbound_path)."""
        return (partner is not None and partner.sftp is not None
                and partner.sftp.outbound_path is not None)

    def enqueue(self, session: Session, partner: PartnerProfile, payload: bytes, *,
                kind: str = "document", message_id: str | None, actor: str,
                content_type: str = "") -> SFTPTransfer:
        """Queue ``payload`` (an interchange, ``kind`` document or ack) for upload to the
        partner's ``[sftp] outbound_path`` in the caller's transaction; due at once.
        ``content_type`` is accepted for the acknowledgment senders' signature: a file
        has none (its name's extension follows the partner's outbound standard)."""
        profile = partner.sftp
        if profile is None or profile.outbound_path is None:
            raise ValueError(f"partner {partner.id} has no [sftp] outbound_path")
        digest = add_payload(session, payload)
        now = utcnow()
        transfer_id = str(uuid.uuid4())
        remote = posixpath.join(profile.outbound_path,
                                profile.upload_name(transfer_id, partner.outbound_standard))
        row = SFTPTransfer(
            id=transfer_id, partner_id=partner.id, message_id=message_id, kind=kind,
            remote_path=remote, payload_sha256=digest, status=SFTPStatus.PENDING, attempts=0,
            next_attempt_at=now, created_at=now, updated_at=now)
        session.add(row)
        self.ledger.append(session, event="SFTP_QUEUED", actor=actor, message_id=message_id,
                           details={"transfer_id": row.id, "partner": partner.id, "kind": kind,
                                    "host": profile.host, "port": profile.port,
                                    "remote_path": remote, "payload_sha256": digest,
                                    "size": len(payload)})
        return row


class AckTransports:
    """Where acknowledgments go back (``gateway.processing.processor.Outbound``): over AS2
    when the partner has an AS2 URL and the gateway an AS2 identity (``as2``, None
    without one), else uploaded over SFTP when the partner has an ``[sftp]
    outbound_path``."""

    def __init__(self, as2: AS2Outbox | None, sftp: SFTPOutbox) -> None:
        self.as2 = as2
        self.sftp = sftp

    def wants_as2(self, partner: PartnerProfile | None) -> bool:
        """Whether acknowledgments to ``partner`` are sent back at all (the protocol's
        name predates SFTP: AS2 or SFTP)."""
        return (self.as2 is not None and self.as2.wants_as2(partner)) or \
            self.sftp.wants_sftp(partner)

    def enqueue(self, session: Session, partner: PartnerProfile, payload: bytes, *,
                kind: str, message_id: str | None, actor: str,
                content_type: str = "application/edi-x12") -> object:
        if self.as2 is not None and self.as2.wants_as2(partner):
            return self.as2.enqueue(session, partner, payload, kind=kind,
                                    message_id=message_id, actor=actor,
                                    content_type=content_type)
        return self.sftp.enqueue(session, partner, payload, kind=kind, message_id=message_id,
                                 actor=actor)


@dataclass(frozen=True, slots=True)
class SFTPWork:
    """One claimed attempt: the final remote path, the bytes, and the partner's
    ``[sftp]`` table as loaded (None: it has none, or no outbound_path, any more)."""

    transfer_id: str
    partner_id: str
    remote_path: str
    payload: bytes
    profile: SFTPProfile | None


# The type-var ignores: see gateway.delivery.webhooks.WebhookChannel.
class SFTPChannel(Channel[SFTPTransfer, SFTPWork]):  # type: ignore[type-var]
    """SFTP uploads as an outbox channel (see the module docstring)."""

    model = SFTPTransfer
    name = "SFTP transfer"
    user_agent = "edigate SFTP"

    def __init__(self, outbox: SFTPOutbox) -> None:
        self.outbox = outbox
        self.ledger = outbox.ledger
        self.registry = outbox.registry
        self.secrets = outbox.secrets

    def pending(self) -> ColumnElement[bool]:
        return SFTPTransfer.status == SFTPStatus.PENDING

    def order(self) -> tuple[InstrumentedAttribute[Any], ...]:
        return (SFTPTransfer.created_at, SFTPTransfer.id)

    def skip_busy(self, session: Session, query: Select[SFTPTransfer],
                  busy: Collection[Destination]) -> Select[SFTPTransfer]:
        skipped = [partner.id for partner in self.registry.all()
                   if partner.sftp is not None and _destination(partner.sftp) in busy]
        return query.where(SFTPTransfer.partner_id.not_in(skipped)) if skipped else query

    def prepare(self, session: Session, row: SFTPTransfer) -> tuple[Destination, SFTPWork]:
        partner = self.registry.get(row.partner_id)
        profile = partner.sftp if partner is not None else None
        if profile is not None and profile.outbound_path is not None:
            assert partner is not None
            name = posixpath.basename(row.remote_path)
            remote = posixpath.join(profile.outbound_path, name)
            if remote != row.remote_path:
                row.remote_path = remote  # committed with the claim: where it went
        else:
            profile = None
        payload = session.get(Payload, row.payload_sha256)
        assert payload is not None  # a foreign key
        target = _destination(profile) if profile is not None else ("sftp", "", 0)
        return target, SFTPWork(row.id, row.partner_id, row.remote_path, payload.data,
                                profile)

    def send(self, work: SFTPWork, egress: Egress, at: datetime) -> Outcome:
        if work.profile is None:
            return Outcome(f"partner {work.partner_id} has no [sftp] outbound_path now",
                           final=True)
        temporary = work.remote_path + work.profile.upload_suffix
        try:
            with open_sftp(work.partner_id, work.profile, self.secrets, egress.policy,
                           egress.deadline_seconds) as client:
                client.putfo(io.BytesIO(work.payload), temporary, file_size=len(work.payload),
                             confirm=True)
                client.posix_rename(temporary, work.remote_path)
        except (EgressRefused, SFTPUnusable) as exc:
            return Outcome(str(exc), final=True)
        except Exception as exc:  # any failure of the network or the server: tried again
            return Outcome(f"{type(exc).__name__}: {exc}")
        return Outcome(None, detail=len(work.payload))

    # -- outcomes ----------------------------------------------------------------------
    def succeeded(self, session: Session, row: SFTPTransfer, attempt: int, outcome: Outcome,
                  at: datetime, actor: str) -> None:
        row.status = SFTPStatus.DELIVERED
        self._append(session, "SFTP_SENT", row, attempt, outcome, actor)

    def retrying(self, session: Session, row: SFTPTransfer, attempt: int, outcome: Outcome,
                 actor: str) -> None:
        self._append(session, "SFTP_SEND_RETRY", row, attempt, outcome, actor,
                     next_attempt_at=row.next_attempt_at)

    def gave_up(self, session: Session, row: SFTPTransfer, attempt: int, outcome: Outcome,
                actor: str) -> None:
        row.status = SFTPStatus.FAILED
        self._append(session, "SFTP_SEND_FAILED", row, attempt, outcome, actor)

    def _append(self, session: Session, event: str, row: SFTPTransfer, attempt: int,
                outcome: Outcome, actor: str, *,
                next_attempt_at: datetime | None = None) -> None:
        details: dict[str, object] = {
            "transfer_id": row.id, "partner": row.partner_id, "kind": row.kind,
            "remote_path": row.remote_path, "attempt": attempt}
        if outcome.error is not None:
            details["error"] = outcome.error[:_ERROR_MAX]
        if next_attempt_at is not None:
            details["next_attempt_at"] = next_attempt_at.isoformat()
        self.ledger.append(session, event=event, actor=actor, message_id=row.message_id,
                           details=details)


class SFTPDeliverer(Outbox[SFTPTransfer, SFTPWork]):  # type: ignore[type-var]
    """The outbox of SFTP uploads (``SFTPChannel``); ``worker`` names its claims
    (default ``sftp:<worker id>``)."""

    def __init__(self, outbox: SFTPOutbox, *, lease: timedelta | None = None,
                 worker: str | None = None, timeout: float | None = None) -> None:
        settings = outbox.settings
        super().__init__(SFTPChannel(outbox), outbox.db, outbox.ledger, settings,
                         lease=lease, worker=worker or f"sftp:{settings.worker_id}",
                         timeout=timeout)
