"""Ops users: password hashing, login, server-side sessions, CSRF tokens and roles.

Responsible for who may see and do what in the ops UI. It must not render anything and
must not know about routes beyond reading a request's cookie and headers.

Passwords are hashed with scrypt (``hashlib.scrypt``, RFC 7914) rather than argon2id: it
is memory-hard, in the standard library (no native dependency to build or audit), and
with n = 2^15, r = 8, p = 1 it needs 32 MiB and about 0.1 s per guess on one core, the
OWASP minimum for scrypt. Each user has a 16-byte random salt; the parameters are stored
in the hash so that they can be raised later without locking anyone out
(``needs_rehash``).

Sessions are rows, not signed cookies: the cookie is 256 random bits, only its sha256
is stored (a database reader cannot take over a session), a session can be revoked (logout,
user disabled), it expires absolutely after ``SESSION_HOURS`` and after ``IDLE_MINUTES``
without a request, and a login always creates a new one (session fixation). Each session
carries a synchronizer token that every POST must echo, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.store.base import utcnow
from gateway.store.users import ROLES, OpsSession, OpsUser

__all__ = [
    "IDLE_MINUTES",
    "ROLES",
    "SESSION_HOURS",
    "AuthError",
    "SignedIn",
    "create_user",
    "end_session",
    "hash_password",
    "login",
    "needs_rehash",
    "resolve_session",
    "role_at_least",
    "set_password",
    "set_role",
    "verify_password",
]

SESSION_HOURS = 12
IDLE_MINUTES = 60
# Writing last_seen_at on every request would make every page view a write.
_TOUCH_EVERY = timedelta(minutes=2)

_LOG2_N = 15
_R = 8
_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAXMEM = 64 * 1024 * 1024  # 128 * r * n = 32 MiB, plus headroom
MIN_PASSWORD = 10
_USERNAME_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")


class AuthError(Exception):
    """A user or password that cannot be accepted; ``str()`` is safe to show."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=1 << log2_n, r=r, p=p,
                          maxmem=_MAXMEM, dklen=_HASH_BYTES)


def hash_password(password: str) -> str:
    """``scrypt$15$8$1$<salt>$<hash>`` for ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, _LOG2_N, _R, _P)
    return f"scrypt${_LOG2_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        computed = _scrypt(password, base64.b64decode(salt, validate=True),
                           int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, expected)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with weaker parameters than today's."""
    return not stored.startswith(f"scrypt${_LOG2_N}${_R}${_P}$")


# A hash to check against when the user does not exist, so that timing does not tell
# which user names exist.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def role_at_least(role: str | None, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not 1 <= len(name) <= 64 or not set(name) <= _USERNAME_OK:
        raise AuthError("user names are 1-64 characters: letters, digits, '.', '_', '-', '@'")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"passwords must have at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AuthError("passwords may have at most 1024 characters")


def create_user(session: Session, username: str, role: str, password: str) -> OpsUser:
    """A new user (flushed, not committed). Raises ``AuthError``."""
    name = _check_username(username)
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
    if session.scalar(select(OpsUser.id).where(OpsUser.username == name)) is not None:
        raise AuthError(f"user {name!r} already exists")
    user = OpsUser(id=str(uuid.uuid4()), username=name, role=role,
                   password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: OpsUser, password: str) -> None:
    """Change the password and end the user's sessions everywhere."""
    _check_password(password)
    user.password_hash = hash_password(password)
    session.execute(delete(OpsSession).where(OpsSession.user_id == user.id))


def set_role(session: Session, user: OpsUser, role: str | None, *, disabled: bool) -> None:
    """Change the role and/or disable the user; a disabled user is signed out at once."""
    if role is not None:
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}")
        user.role = role
    if disabled and user.disabled_at is None:
        user.disabled_at = utcnow()
        session.execute(delete(OpsSession).where(OpsSession.user_id == user.id))
    elif not disabled:
        user.disabled_at = None


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A valid session: who, with which role, and the session's CSRF token."""

    session_id: str
    user_id: str
    username: str
    role: str
    csrf_token: str

    @property
    def actor(self) -> str:
        """How the user is named in the ledger."""
        return f"ui:{self.username}"

    def can(self, role: str) -> bool:
        return role_at_least(self.role, role)


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def login(session: Session, username: str, password: str, *,
          previous_token: str | None = None) -> tuple[str, OpsUser] | None:
    """Check the credentials; on success end the browser's previous session (rotation),
    create a new one and return its cookie value and the user. None when refused."""
    try:
        name = _check_username(username)
    except AuthError:
        name = ""
    user = session.scalar(select(OpsUser).where(OpsUser.username == name)) if name else None
    if user is None or user.disabled_at is not None:
        verify_password(password, _DUMMY_HASH)  # the same work as for a real user
        return None
    if not verify_password(password, user.password_hash):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if previous_token:
        session.execute(delete(OpsSession).where(OpsSession.id == _session_id(previous_token)))
    now = utcnow()
    # Expired sessions are removed on logins: no separate sweeper needed.
    session.execute(delete(OpsSession).where(
        (OpsSession.expires_at < now)
        | (OpsSession.last_seen_at < now - timedelta(minutes=IDLE_MINUTES))))
    token = secrets.token_urlsafe(32)
    session.add(OpsSession(id=_session_id(token), user_id=user.id,
                           csrf_token=secrets.token_urlsafe(32), created_at=now,
                           last_seen_at=now, expires_at=now + timedelta(hours=SESSION_HOURS)))
    user.last_login_at = now
    session.flush()
    return token, user


def resolve_session(session: Session, token: str, *, now: datetime | None = None
                    ) -> tuple[SignedIn | None, bool]:
    """The signed-in user of cookie ``token``, and whether ``last_seen_at`` should be
    written (the caller decides whether it holds a write transaction)."""
    now = now or utcnow()
    row = session.execute(
        select(OpsSession, OpsUser).join(OpsUser, OpsUser.id == OpsSession.user_id)
        .where(OpsSession.id == _session_id(token))
    ).one_or_none()
    if row is None:
        return None, False
    ops_session, user = row
    if (ops_session.expires_at <= now or user.disabled_at is not None
            or ops_session.last_seen_at + timedelta(minutes=IDLE_MINUTES) <= now):
        return None, False
    signed_in = SignedIn(ops_session.id, user.id, user.username, user.role,
                         ops_session.csrf_token)
    return signed_in, ops_session.last_seen_at + _TOUCH_EVERY <= now


def touch(session: Session, session_id: str) -> None:
    row = session.get(OpsSession, session_id)
    if row is not None:
        row.last_seen_at = utcnow()


def end_session(session: Session, token: str) -> None:
    session.execute(delete(OpsSession).where(OpsSession.id == _session_id(token)))
