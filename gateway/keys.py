"""API keys for partners, internal consumers and operations staff.

A key is shown once when issued; only its sha256 is stored. Lookup is by a short prefix,
then the hash is compared in constant time, so timing does not reveal how much matched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models import ApiKey

__all__ = ["Caller", "KeyCache", "KeyKind", "authenticate", "issue_key"]

KeyKind = Literal["partner", "consumer", "ops"]
_PREFIX_LEN = 12


@dataclass(frozen=True, slots=True)
class Caller:
    """Who an API request comes from."""

    key_id: str
    kind: KeyKind
    partner_id: str | None = None
    scope: str | None = None
    role: str | None = None

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
              label: str | None = None) -> tuple[str, ApiKey]:
    """Create a key; returns the plaintext (show it once) and the stored row."""
    token = f"edg_{kind[0]}_{secrets.token_urlsafe(32)}"
    row = ApiKey(id=str(uuid.uuid4()), prefix=token[:_PREFIX_LEN], key_sha256=_digest(token),
                 kind=kind, partner_id=partner_id, scope=scope, role=role, label=label)
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
                          scope=row.scope, role=row.role)
    return None


class KeyCache:
    """Recently authenticated keys, so that a busy partner's every post does not cost a
    database lookup. Only known keys are cached (unknown ones always go to the database),
    entries live ``ttl`` seconds, which is therefore how long a revoked key may still work,
    and the cache holds sha256 digests, never the keys themselves.
    """

    def __init__(self, ttl: float = 30.0, max_entries: int = 4096) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Caller | None:
        digest = _digest(token)
        with self._lock:
            found = self._entries.get(digest)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[digest]
                return None
            return found[1]

    def put(self, token: str, caller: Caller) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[_digest(token)] = (time.monotonic() + self.ttl, caller)
            self._entries.move_to_end(_digest(token))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
