"""SFTP in: files partners leave on their SFTP servers, polled, stored through intake,
and only then removed (or archived) on the server.

Responsible for one poll of a partner's ``[sftp] inbound_path`` (``SFTPPoller.poll``):
list it, take the files whose names match ``pattern`` and that are complete, hand each
to ``Pipeline.receive`` (the same envelope checks, duplicate rules and ledger as HTTPS
and AS2 intake) and, once intake has committed it, remove it or move it to
``archive_path``. It must not know how a message is processed, nor send anything.

Crash safety rests on that order: download, durable commit, then the remote removal. A
process that dies after the commit and before the removal leaves the file on the server;
the next poll downloads it again and intake answers DUPLICATE (the same bytes from the
same partner), so the file is removed without a second message. A process that dies
before the commit has stored nothing, and the file is still there. Either way no file is
lost and none is processed twice.

One poller at a time per partner: every worker process runs a poller, and a poll first
takes the partner's lease (``gateway.store.leases``, ``sftp-poll:<partner>``) for its
deadline plus two poll intervals, so the process polling a partner goes on doing so
(keeping its previous listing for the rule below) and another takes over only when it
stops (``stand_down``) or its lease runs out. Without it each process downloaded every
file and all but one were answered as duplicates.

Partial files: with ``stable = true`` (the default) a file is taken only when its size
and modification time are the same as in the previous listing of this poller (a poll
interval earlier) and the bytes read are as many as listed; a file still being written
waits. A poller that starts (or restarts) has no previous listing, so its first poll
takes nothing of a stable-checked partner. Partners that upload under a temporary name
and rename when done may set ``stable = false`` with a ``pattern`` matching only final
names.

A file intake refuses (not EDI, not from this partner, ...) is ledgered by intake as for
any transport and left where it is (so is a file larger than ``max_body_bytes``,
logged), for the partner or an operator to see; this poller does not submit it again
while its size and time stay the same. A refusal of the
connection itself (the egress policy, the host key, the login) is ledgered as
SFTP_POLL_REFUSED, once for each different reason in a row.
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import paramiko

from gateway.delivery.egress import EgressPolicy, EgressRefused
from gateway.delivery.sftp_client import SFTPUnusable, open_sftp
from gateway.intake.group_commit import IntakeUnavailable
from gateway.intake.pipeline import Delivery, IntakeRejected, Pipeline
from gateway.runtime.settings import Settings
from gateway.store import leases
from gateway.store.base import utcnow
from partners import PartnerProfile
from partners.profile import SFTPProfile

__all__ = ["PollResult", "SFTPPoller"]

log = logging.getLogger("edigate.sftp")

_ERROR_MAX = 500


def _lease(partner_id: str) -> str:
    return f"sftp-poll:{partner_id}"


# (size, modification time) of a remote file as listed.
_Listed = tuple[int, int]


@dataclass(slots=True)
class PollResult:
    """What one poll did: remote paths stored as new messages, answered as duplicates
    (and removed all the same), refused by intake (left in place), and waiting to be
    complete; ``error`` when the poll could not run to the end; ``polled_by`` the holder
    of the partner's lease when it is another's (nothing was done)."""

    stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    error: str | None = None
    # Another process's poller holds the partner's lease: this one did not connect.
    polled_by: str | None = None


class SFTPPoller:
    """Polls partners' ``[sftp] inbound_path``; remembers, per partner, the previous
    listing (for the stable-size rule) and the files intake refused. Thread-safe per
    partner: one poll of a partner at a time."""

    def __init__(self, settings: Settings, pipeline: Pipeline, secrets: Mapping[str, str],
                 *, deadline_seconds: float | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.secrets = secrets
        self.policy = EgressPolicy.from_settings(settings)
        self.deadline_seconds = deadline_seconds or settings.egress_deadline_seconds
        self._listed: dict[str, dict[str, _Listed]] = {}
        self._refused: dict[str, dict[str, _Listed]] = {}
        self._last_error: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def partners(self) -> list[PartnerProfile]:
        """The active partners with an ``[sftp] inbound_path``."""
        return [partner for partner in self.pipeline.registry.all()
                if partner.active and partner.sftp is not None
                and partner.sftp.inbound_path is not None]

    def poll(self, partner_id: str, actor: str) -> PollResult:
        """Poll one partner's inbound path once (see the module docstring)."""
        with self._guard:
            lock = self._locks.setdefault(partner_id, threading.Lock())
        with lock:
            result = PollResult()
            partner = self.pipeline.registry.get(partner_id)
            profile = partner.sftp if partner is not None else None
            if profile is None or profile.inbound_path is None:
                result.error = f"partner {partner_id} has no [sftp] inbound_path"
                return result
            # Long enough for this poll to end by its deadline and the next to renew it.
            hold = timedelta(seconds=self.deadline_seconds + 2 * profile.poll_seconds)
            holder = leases.take(self.pipeline.db, _lease(partner_id), actor, utcnow(), hold)
            if holder != actor:
                result.polled_by = holder
                return result
            try:
                with open_sftp(partner_id, profile, self.secrets, self.policy,
                               self.deadline_seconds) as client:
                    self._poll(client, partner_id, profile, actor, result)
                self._last_error.pop(partner_id, None)
            except (EgressRefused, SFTPUnusable) as exc:
                result.error = str(exc)
                self._refused_connection(partner_id, result.error, actor)
            except IntakeUnavailable as exc:
                result.error = f"intake unavailable: {exc}"
                log.warning("partner %s: SFTP poll stopped: %s", partner_id, result.error)
            except (OSError, EOFError, paramiko.SSHException) as exc:
                result.error = f"{type(exc).__name__}: {exc}"
                log.warning("partner %s: SFTP poll failed, tried again in %d s: %s",
                            partner_id, profile.poll_seconds, result.error)
            return result

    def stand_down(self, actor: str) -> None:
        """Give up ``actor``'s leases at once (its process is stopping): another process
        takes the partners over at its next poll, not when the leases run out."""
        now = utcnow()
        for partner in self.partners():
            leases.give_up(self.pipeline.db, _lease(partner.id), actor, now)

    def _poll(self, client: paramiko.SFTPClient, partner_id: str, profile: SFTPProfile,
              actor: str, result: PollResult) -> None:
        assert profile.inbound_path is not None
        previous = self._listed.get(partner_id, {})
        refused = self._refused.setdefault(partner_id, {})
        listed: dict[str, _Listed] = {}
        for attr in sorted(client.listdir_attr(profile.inbound_path),
                           key=lambda a: a.filename):
            name = attr.filename
            if attr.st_mode is None or not stat.S_ISREG(attr.st_mode) or \
                    not fnmatch.fnmatchcase(name, profile.pattern):
                continue
            seen = (attr.st_size or 0, attr.st_mtime or 0)
            listed[name] = seen
            path = posixpath.join(profile.inbound_path, name)
            if refused.get(name) == seen:
                continue
            if profile.stable and previous.get(name) != seen:
                result.waiting.append(path)
                continue
            if seen[0] > self.settings.max_body_bytes:
                refused[name] = seen
                result.refused.append(path)
                log.warning("partner %s: SFTP file %s is %d bytes, more than intake takes "
                            "(EDIGATE_MAX_BODY_BYTES); left in place", partner_id, path,
                            seen[0])
                continue
            body = self._download(client, path, seen[0])
            if body is None:  # changed while it was read: still being written
                listed.pop(name)
                result.waiting.append(path)
                continue
            try:
                received = self.pipeline.receive(
                    Delivery(partner_id, "sftp", body, evidence={
                        "sftp_host": profile.host, "sftp_path": path}), actor)
            except IntakeRejected:
                # Ledgered by intake (its refusal, located); left for the partner to see.
                refused[name] = seen
                result.refused.append(path)
                log.warning("partner %s: SFTP file %s refused at intake; left in place",
                            partner_id, path)
                continue
            self._done(client, profile, path, name)
            (result.duplicates if received.duplicate else result.stored).append(path)
            log.info("partner %s: SFTP file %s %s as message %s", partner_id, path,
                     "was a duplicate of" if received.duplicate else "stored",
                     received.message_id)
        self._listed[partner_id] = listed
        for name in list(refused):
            if name not in listed:
                del refused[name]

    @staticmethod
    def _download(client: paramiko.SFTPClient, path: str, size: int) -> bytes | None:
        """The file's bytes, or None when they are not the ``size`` listed."""
        # No prefetch: paramiko's prefetch runs on a thread of its own, whose errors (a
        # dropped connection) would escape this poll instead of failing it.
        with client.open(path, "rb") as remote:
            body = remote.read(size + 1)
        if len(body) != size:
            return None
        return bytes(body)

    def _done(self, client: paramiko.SFTPClient, profile: SFTPProfile, path: str,
              name: str) -> None:
        """Remove the stored file, or move it to the archive (replacing a file of the same
        name there). Gone already (another poller took it): nothing to do."""
        try:
            if profile.archive_path is not None:
                client.posix_rename(path, posixpath.join(profile.archive_path, name))
            else:
                client.remove(path)
        except FileNotFoundError:
            pass

    def _refused_connection(self, partner_id: str, error: str, actor: str) -> None:
        log.error("partner %s: SFTP poll refused: %s", partner_id, error)
        if self._last_error.get(partner_id) == error:
            return
        self._last_error[partner_id] = error
        db, ledger = self.pipeline.db, self.pipeline.ledger
        with db.transaction() as session:
            ledger.append(session, event="SFTP_POLL_REFUSED", actor=actor, message_id=None,
                          details={"partner": partner_id, "error": error[:_ERROR_MAX]})
