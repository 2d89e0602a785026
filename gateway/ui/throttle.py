"""Sign-in throttling for the ops UI: failed passwords cost a growing wait.

Responsible for deciding whether a sign-in attempt may check a password at all, and for
counting failures. It must not check passwords or render anything (``gateway.ui.auth`` and
``gateway.ui.routes`` do). Failures are counted for the submitted user name whether or not
such a user exists, so that the answers do not tell which names exist.

Three counters, all in ``ops_login_failures`` (the database, not process memory: several
web processes or hosts share one count, and a restart does not reset it):

- per user name and client address: after ``PAIR_FREE`` failures the pair is locked, for
  ``LOCK_BASE`` doubling with each further failure up to ``LOCK_CAP``; the right password
  is refused too while it lasts. This is what stops guessing from one address.
- per client address, whatever the user name (spraying many names): the same hard lock,
  after ``ADDRESS_FREE`` failures.
- per user name, from every address (guessing from many addresses): this one only slows
  down, by at most ``USER_DELAY_CAP``, and is forgotten ``USER_DECAY`` after the last
  failure; and it does not apply at all to an address this user signed in from within
  ``TRUST``. So an attacker's failures cannot keep a user out for longer than the capped
  delay from a new address, and not at all from where the user usually signs in.

A sign-in that succeeds resets its address's counters (for that user and for any user).
Hard locks are forgotten ``HARD_DECAY`` after the last failure.

Each attempt is counted as a failure before the password is checked (``admit``) and given
back when it was right (``succeeded``): attempts sent in parallel are serialized on the
counter rows, so they cannot all pass the check before the first failure is written.
The client address is the connection's, or the one a trusted proxy forwarded (uvicorn's
``--forwarded-allow-ips``); behind an untrusted proxy every client shares one address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from gateway.store.base import utcnow
from gateway.store.dialect import dialect_for
from gateway.store.users import LoginFailures

__all__ = ["Refusal", "admit", "succeeded"]

PAIR_FREE = 5
ADDRESS_FREE = 20
USER_FREE = 10
LOCK_BASE = timedelta(seconds=30)
LOCK_CAP = timedelta(minutes=15)
USER_DELAY_BASE = timedelta(seconds=1)
USER_DELAY_CAP = timedelta(seconds=60)
HARD_DECAY = timedelta(hours=24)
USER_DECAY = timedelta(minutes=15)
TRUST = timedelta(days=30)
_ANY = ""  # the address of a per-user row, the user name of a per-address row
_FIELD = 64


@dataclass(frozen=True, slots=True)
class Refusal:
    """An attempt refused without checking the password: why, and for how long."""

    retry_after: int  # whole seconds, for the Retry-After header
    reason: str


def _name(username: str) -> str:
    # Counted under what was typed, normalized the way a sign-in would look it up; a name
    # that can never exist still counts (no enumeration), with characters a database might
    # refuse replaced. Never the empty string, which stands for "any user".
    name = "".join(c if c.isprintable() else "?" for c in username.strip().lower())
    return name[:_FIELD] or " "


def _address(address: str | None) -> str:
    text = "".join(c if c.isprintable() else "?" for c in (address or ""))
    return text[:_FIELD] or "-"


def _rows(session: Session, name: str, address: str
          ) -> tuple[LoginFailures, LoginFailures, LoginFailures]:
    """The (name, address), (name, any) and (any, address) rows, created when missing and
    locked for the rest of the transaction (SQLite: the transaction holds the write lock)."""
    keys = sorted([(name, address), (name, _ANY), (_ANY, address)])  # one lock order
    dialect = dialect_for(session)
    session.execute(dialect.insert(LoginFailures).values(
        [{"username": u, "address": a, "failures": 0} for u, a in keys]
    ).on_conflict_do_nothing())
    found = {(r.username, r.address): r for r in session.scalars(dialect.locked(
        select(LoginFailures)
        .where(or_(*(and_(LoginFailures.username == u, LoginFailures.address == a)
                     for u, a in keys)))
        .order_by(LoginFailures.username, LoginFailures.address)
        .execution_options(populate_existing=True)))}
    return found[(name, address)], found[(name, _ANY)], found[(_ANY, address)]


def _lock(failures: int, free: int, base: timedelta, cap: timedelta) -> timedelta | None:
    if failures < free:
        return None
    lock: timedelta = base * (1 << min(failures - free, 32))
    return min(lock, cap)


def _wait(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _in(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def admit(session: Session, username: str, address: str | None, *,
          now: datetime | None = None) -> Refusal | None:
    """Whether this attempt may check a password (None) or is refused now; an admitted
    attempt is counted as a failure until ``succeeded`` takes it back. Commit either way."""
    now = now or utcnow()
    pair, by_user, by_address = _rows(session, _name(username), _address(address))
    for row, decay in ((pair, HARD_DECAY), (by_address, HARD_DECAY), (by_user, USER_DECAY)):
        if row.last_failure_at is not None and now - row.last_failure_at >= decay:
            row.failures, row.blocked_until = 0, None
    hard = [r.blocked_until for r in (pair, by_address)
            if r.blocked_until is not None and r.blocked_until > now]
    if hard:
        wait = _wait(max(hard), now)
        return Refusal(wait, "Too many failed sign-ins from your address: sign-in is "
                             f"blocked for {_in(wait)}.")
    trusted = pair.last_success_at is not None and now - pair.last_success_at < TRUST
    if not trusted and by_user.blocked_until is not None and by_user.blocked_until > now:
        wait = _wait(by_user.blocked_until, now)
        return Refusal(wait, "Too many failed sign-ins for this user: wait "
                             f"{_in(wait)} before the next try.")
    for row, free, base, cap in ((pair, PAIR_FREE, LOCK_BASE, LOCK_CAP),
                                 (by_address, ADDRESS_FREE, LOCK_BASE, LOCK_CAP),
                                 (by_user, USER_FREE, USER_DELAY_BASE, USER_DELAY_CAP)):
        row.failures += 1
        row.last_failure_at = now
        lock = _lock(row.failures, free, base, cap)
        row.blocked_until = now + lock if lock is not None else None
    return None


def succeeded(session: Session, username: str, address: str | None, *,
              now: datetime | None = None) -> None:
    """The admitted attempt had the right password: its address's counters start again,
    the user's gives back the attempt, and the address is trusted for this user."""
    now = now or utcnow()
    pair, by_user, by_address = _rows(session, _name(username), _address(address))
    for row in (pair, by_address):
        row.failures, row.blocked_until = 0, None
    by_user.failures = max(0, by_user.failures - 1)
    if by_user.failures < USER_FREE:
        by_user.blocked_until = None
    pair.last_success_at = now
    # Old rows go on sign-ins that succeed (no sweeper), as expired sessions do.
    session.execute(delete(LoginFailures).where(
        LoginFailures.last_failure_at < now - HARD_DECAY,
        or_(LoginFailures.last_success_at.is_(None),
            LoginFailures.last_success_at < now - TRUST)))
