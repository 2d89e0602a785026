"""The ops UI's tables: operations users and their server-side sessions.

Responsible for the persistent shape of ``ops_users`` (name, role, password hash) and
``ops_sessions`` (one row per login: the sha256 of the session cookie, never the cookie
itself, the session's CSRF synchronizer token, and its expiry) and ``ops_login_failures``
(failed sign-ins counted per user, per address and per both). Password hashing, login
and session rules live in ``gateway.ui.auth``, throttling rules in ``gateway.ui.throttle``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["ROLES", "LoginFailures", "OpsSession", "OpsUser"]

# Each role includes the ones before it: viewer sees, operator acts, admin manages users.
ROLES = ("viewer", "operator", "admin")


class OpsUser(Base):
    """A person who signs in to the ops UI."""

    __tablename__ = "ops_users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    # "scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>" (see gateway.ui.auth)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OpsSession(Base):
    """A signed-in browser. Deleted on logout, on a new login from the same browser
    (rotation) and when its user is disabled; ignored after ``expires_at``."""

    __tablename__ = "ops_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie
    user_id: Mapped[str] = mapped_column(ForeignKey("ops_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginFailures(Base):
    """Failed sign-ins of one user name from one client address (both set), of one user
    name from anywhere (``address`` empty) or from one address for any user (``username``
    empty). Names are counted whether or not such a user exists."""

    __tablename__ = "ops_login_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Per user and address: the last sign-in that succeeded (see gateway.ui.throttle).
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
