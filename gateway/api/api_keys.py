"""API keys for partners, internal consumers and operations staff.

A key is shown once when issued; only its sha256 is stored. Lookup is by a short prefix,
then the hash is compared in constant time, so timing does not reveal how much matched.

Revocation takes effect at once. The web process keeps recently authenticated keys in a
``KeyCache`` (a database lookup costs more than the rest of authenticating a request), so
the cache must learn of every revocation before its next hit:

- on this host, through ``var_dir/keys.revoked``: 8 memory-mapped bytes that every
  revoker (``edigate keys revoke``, ``POST /v1/keys/{id}/revoke``) overwrites with a new
  random value after its commit, and that the cache reads on every hit (no system call)
  and is emptied when they changed;
- on other hosts sharing a PostgreSQL database, through ``NOTIFY edigate_key_revoked``,
  sent in the revoking transaction and so delivered at its commit: each web process
  listens on a connection of its own and empties its cache on every notification. While
  that connection is down the cache is not used at all (every request goes to the
  database) and it starts empty when the connection is back.

A lookup that began before a revocation never fills the cache after it: an entry is kept
only if the generation read before the lookup is still the current one.
This module must not know about HTTP or the command line.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import mmap
import secrets
import struct
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gateway.runtime.stamp import map_stamp
from gateway.store.base import utcnow
from gateway.store.dialect import Listening, dialect_for, dialect_of
from gateway.store.models import ApiKey

if TYPE_CHECKING:
    from gateway.ledger.chain import Ledger

__all__ = [
    "KIND_NAMES",
    "STAMP_NAME",
    "Caller",
    "KeyCache",
    "KeyKind",
    "RevocationStamp",
    "announce_revocation",
    "authenticate",
    "issue_key",
    "key_view",
    "list_keys",
    "revoke_key",
]

KeyKind = Literal["partner", "consumer", "ops"]
KIND_NAMES: tuple[KeyKind, ...] = ("partner", "consumer", "ops")
_PREFIX_LEN = 12
# The file under the var directory that tells this host's web processes of revocations.
STAMP_NAME = "keys.revoked"
_CHANNEL = "edigate_key_revoked"
_STAMP = struct.Struct("Q")
_NOW = object()  # KeyCache.put: the lookup cannot have raced a revocation

log = logging.getLogger("edigate.keys")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who an API request comes from."""

    key_id: str
    kind: KeyKind
    partner_id: str | None = None
    scope: str | None = None
    role: str | None = None
    # Consumers: may submit outbound documents (``POST /v1/documents``).
    can_send: bool = False

    @property
    def actor(self) -> str:
        """How the caller is named in the ledger."""
        if self.kind == "partner":
            return f"partner:{self.partner_id}"
        if self.kind == "consumer":
            return f"consumer:{self.scope}:{self.key_id[:8]}"
        return f"ops:{self.role}:{self.key_id[:8]}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_key(session: Session, kind: KeyKind, *, partner_id: str | None = None,
              scope: str | None = None, role: str | None = None,
              label: str | None = None, can_send: bool = False) -> tuple[str, ApiKey]:
    """Create a key; returns the plaintext (show it once) and the stored row."""
    token = f"edg_{kind[0]}_{secrets.token_urlsafe(32)}"
    row = ApiKey(id=str(uuid.uuid4()), prefix=token[:_PREFIX_LEN], key_sha256=_digest(token),
                 kind=kind, partner_id=partner_id, scope=scope, role=role, label=label,
                 can_send=can_send)
    session.add(row)
    session.flush()
    return token, row


def authenticate(session: Session, token: str) -> Caller | None:
    """The caller a bearer token belongs to, or None for an unknown or revoked key."""
    if len(token) < _PREFIX_LEN + 8 or not token.startswith("edg_"):
        return None
    digest = _digest(token)
    rows = session.scalars(select(ApiKey).where(ApiKey.prefix == token[:_PREFIX_LEN])).all()
    for row in rows:
        if row.revoked_at is None and hmac.compare_digest(row.key_sha256, digest):
            kind: KeyKind = row.kind  # type: ignore[assignment]
            return Caller(key_id=row.id, kind=kind, partner_id=row.partner_id,
                          scope=row.scope, role=row.role, can_send=bool(row.can_send))
    return None


def key_view(row: ApiKey) -> dict[str, Any]:
    """What may be shown of a key: never its hash (the prefix is public by design: it is
    how a key's owner recognises it, and it carries 36 of the key's 256 random bits)."""
    return {"id": row.id, "kind": row.kind, "partner_id": row.partner_id, "scope": row.scope,
            "can_send": bool(row.can_send), "role": row.role, "label": row.label,
            "prefix": row.prefix,
            "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


def list_keys(session: Session, *, kind: str | None = None, partner_id: str | None = None,
              revoked: bool | None = None) -> list[ApiKey]:
    """Keys in the order they were issued, optionally of one kind, partner or state."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if kind is not None:
        query = query.where(ApiKey.kind == kind)
    if partner_id is not None:
        query = query.where(ApiKey.partner_id == partner_id)
    if revoked is not None:
        query = query.where(ApiKey.revoked_at.is_not(None) if revoked
                            else ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_key(session: Session, ledger: Ledger, key_id: str, *,
               actor: str) -> tuple[ApiKey, bool] | None:
    """Revoke key ``key_id`` in ``session``'s transaction: the row and whether this call
    revoked it (False: it already was; nothing is written then), or None for no such key.

    The caller must ``announce_revocation`` (or ``KeyCache.revoked``) after the commit,
    even when the key already was revoked: that also puts into effect a revocation made
    by hand in the database or by a revoker that died before announcing it.
    """
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is not None:
        return row, False
    row.revoked_at = utcnow()
    session.flush()
    # Delivered to every listener at commit, never if the transaction rolls back.
    dialect_for(session).notify(session, _CHANNEL, row.id)
    ledger.append(session, event="KEY_REVOKED", actor=actor, details={
        "key_id": row.id, "kind": row.kind,
        **{k: v for k, v in (("partner_id", row.partner_id), ("scope", row.scope),
                             ("role", row.role)) if v}})
    return row, True


class RevocationStamp:
    """``var_dir/keys.revoked``: 8 memory-mapped bytes that change at every revocation.

    A revoker writes a fresh random value rather than incrementing: two processes
    incrementing at once could write the same number, and a value that did not change is
    a revocation the caches never see. Readers only compare for equality.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self.error: str | None = None
        try:
            self._map = map_stamp(path, _STAMP.size)
        except (OSError, ValueError) as exc:
            self.error = f"{path}: {exc}"

    def read(self) -> int | None:
        """The current value; None when the file could not be mapped."""
        if self._map is None:
            return None
        value: int = _STAMP.unpack_from(self._map, 0)[0]
        return value

    def bump(self) -> bool:
        """Tell every cache on this host that a key was revoked; False if it cannot."""
        if self._map is None:
            return False
        _STAMP.pack_into(self._map, 0, secrets.randbits(64))
        return True

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(BufferError):
                self._map.close()
            self._map = None


def announce_revocation(var_dir: Path) -> str | None:
    """Bump this host's revocation stamp after a commit that revoked a key (from a process
    without a ``KeyCache``, e.g. the CLI); the reason when it could not be done."""
    stamp = RevocationStamp(var_dir / STAMP_NAME)
    try:
        if not stamp.bump():
            return stamp.error or f"{stamp.path}: cannot be mapped"
        return None
    finally:
        stamp.close()


class _RevocationListener(threading.Thread):
    """LISTEN for revocations committed on any host sharing the database.

    ``generation`` changes with every notification and every time the connection is
    (re)established (what was revoked while nobody listened is unknown, so everything
    cached is dropped); ``live`` is False while there is no listening connection.
    """

    def __init__(self, connect: Callable[[], Listening]) -> None:
        super().__init__(name="edigate-key-revocations", daemon=True)
        self._connect = connect
        self.generation = 0
        self.live = False
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                with self._connect() as listening:
                    self.generation += 1
                    self.live = True
                    while not self._stop_event.is_set():
                        self.generation += listening.wait(1.0)
            except Exception as exc:  # any failure: no cache until listening again
                log.warning("listening for key revocations failed (%s: %s); the key cache "
                            "is off until it works again", type(exc).__name__, exc)
            finally:
                self.live = False
                self.generation += 1
            self._stop_event.wait(1.0)

    def stop(self) -> None:
        # Not joined: the thread notices within a second (the notifies timeout) and closes
        # its connection; waiting for that would slow every shutdown by as much.
        self._stop_event.set()


class KeyCache:
    """Recently authenticated keys, so that a busy partner's every post does not cost a
    database lookup. Only known keys are cached (unknown ones always go to the database)
    and the cache holds sha256 digests, never the keys themselves.

    With a ``stamp`` (and, on PostgreSQL, ``listen``) revocations empty the cache at
    once (see the module's text) and ``ttl`` only bounds how long an entry lives if a
    revoker could not announce itself; without them (a bare ``KeyCache()``), ``ttl`` is
    how long a revoked key may still work.
    """

    def __init__(self, ttl: float = 30.0, max_entries: int = 4096, *,
                 stamp: RevocationStamp | None = None,
                 listen: Callable[[], Listening] | None = None) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.stamp = stamp
        self._listen = listen
        self._listener: _RevocationListener | None = None
        self._entries: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._generation: object = None
        self._lock = threading.Lock()

    @classmethod
    def watching(cls, var_dir: Path, database_url: str) -> KeyCache:
        """The web process's cache: this host's stamp, and NOTIFY on PostgreSQL."""
        url = make_url(database_url)
        listen = dialect_of(url.get_backend_name()).listener(url, _CHANNEL)
        return cls(stamp=RevocationStamp(var_dir / STAMP_NAME), listen=listen)

    def generation(self) -> object | None:
        """What the cache's entries are valid for; None: do not use the cache now."""
        stamp: object = 0
        if self.stamp is not None:
            stamp = self.stamp.read()
            if stamp is None:
                return None
        if self._listen is None:
            return stamp
        listener = self._listener
        if listener is None:
            with self._lock:
                if self._listener is None:
                    self._listener = _RevocationListener(self._listen)
                    self._listener.start()
                listener = self._listener
        if not listener.live:
            return None
        return stamp, listener.generation

    def get(self, token: str) -> Caller | None:
        generation = self.generation()
        if generation is None:
            return None
        digest = _digest(token)
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
                return None
            found = self._entries.get(digest)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[digest]
                return None
            return found[1]

    def put(self, token: str, caller: Caller, generation: object = _NOW) -> None:
        """Remember ``caller``, found by a lookup that began at ``generation`` (read with
        ``generation()`` before it; default: now, for callers that cannot race)."""
        if self.ttl <= 0 or generation is None:
            return
        current = self.generation()
        if current is None or (generation is not _NOW and generation != current):
            return  # a key was revoked during the lookup: it may have been this one
        digest = _digest(token)
        with self._lock:
            if current != self._generation:
                self._entries.clear()
                self._generation = current
            self._entries[digest] = (time.monotonic() + self.ttl, caller)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def revoked(self) -> str | None:
        """A key was revoked by this process (after the commit): empty this cache and tell
        the others on this host; the reason when they could not be told."""
        self.clear()
        if self.stamp is None:
            return "no revocation stamp"
        if not self.stamp.bump():
            return self.stamp.error or "the revocation stamp cannot be written"
        return None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self.stamp is not None:
            self.stamp.close()
