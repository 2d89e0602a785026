"""Sign-in throttling of the ops UI, with a fake clock, on every backend: per user and
address a hard, growing lock; per address across names the same; per user across
addresses only a capped, decaying delay that an address the user signed in from skips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from gateway.store.db import Database
from gateway.ui import throttle
from gateway.ui.throttle import admit, succeeded

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _try(db: Database, user: str, address: str, now: datetime, *,
         right: bool = False) -> throttle.Refusal | None:
    """One attempt as the login route makes it: admit, then (if right) succeeded."""
    with db.transaction() as session:
        refusal = admit(session, user, address, now=now)
    if refusal is None and right:
        with db.transaction() as session:
            succeeded(session, user, address, now=now)
    return refusal


# ------------------------------------------------------------------------ the rules


def test_a_user_and_address_pair_locks_hard_and_the_lock_grows_to_a_cap(db: Database) -> None:
    """After five failures the pair is refused even for the right password, for 30 s, then
    each further failure doubles the lock, up to 15 minutes; another address is not
    affected."""
    now = T0
    for _ in range(throttle.PAIR_FREE):
        assert _try(db, "vic", "10.0.0.1", now) is None
    refused = _try(db, "vic", "10.0.0.1", now, right=True)
    assert refused is not None and refused.retry_after == 30
    assert "from your address" in refused.reason
    assert _try(db, "vic", "10.0.0.2", now) is None
    waits = []
    for _ in range(8):
        now += timedelta(seconds=refused.retry_after)
        assert _try(db, "vic", "10.0.0.1", now) is None  # the lock ended: one more try
        refused = _try(db, "vic", "10.0.0.1", now)
        assert refused is not None
        waits.append(refused.retry_after)
    assert waits == [60, 120, 240, 480, 900, 900, 900, 900]


def test_an_address_trying_many_names_is_locked(db: Database) -> None:
    """Twenty failures from one address, each for another (even nonexistent) name, lock the
    address for every name."""
    for n in range(throttle.ADDRESS_FREE):
        assert _try(db, f"guess{n}", "10.9.9.9", T0) is None
    refused = _try(db, "somebody-new", "10.9.9.9", T0)
    assert refused is not None and refused.retry_after == 30
    assert _try(db, "somebody-new", "10.9.9.10", T0) is None


def test_failures_from_many_addresses_only_slow_the_user_down(db: Database) -> None:
    """Failures for one name from many addresses delay that name's attempts from a new
    address by at most 60 s, never from an address the user signed in from, and are
    forgotten 15 minutes after the last one."""
    assert _try(db, "vic", "192.0.2.1", T0, right=True) is None  # vic's usual address
    now = T0 + timedelta(minutes=1)
    for n in range(40):
        refusal = _try(db, "vic", f"198.51.100.{n}", now)
        if refusal is not None:
            assert refusal.retry_after <= 60 and "for this user" in refusal.reason
            now += timedelta(seconds=refusal.retry_after)
            assert _try(db, "vic", f"198.51.100.{n}", now) is None
    refused = _try(db, "vic", "203.0.113.7", now, right=True)
    assert refused is not None and refused.retry_after == 60  # capped
    assert _try(db, "vic", "192.0.2.1", now, right=True) is None  # the trusted address
    assert _try(db, "vic", "203.0.113.7", now + timedelta(seconds=60), right=True) is None
    fresh = now + timedelta(seconds=60) + throttle.USER_DECAY
    assert _try(db, "vic", "203.0.113.8", fresh) is None  # forgotten


def test_success_resets_the_address(db: Database) -> None:
    """A right password (admitted) resets the counters of its address: the next mistakes
    start from zero again."""
    for _ in range(throttle.PAIR_FREE - 1):
        assert _try(db, "olga", "10.1.1.1", T0) is None
    assert _try(db, "olga", "10.1.1.1", T0, right=True) is None
    for _ in range(throttle.PAIR_FREE):
        assert _try(db, "olga", "10.1.1.1", T0) is None
    assert _try(db, "olga", "10.1.1.1", T0) is not None


# ------------------------------------------------------------------------ the sign-in page


def _client(ui: UI, address: str) -> TestClient:
    return TestClient(ui.app, follow_redirects=False, client=(address, 50000))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("gateway.ui.throttle.utcnow", fake)
    return fake


def test_login_page_refuses_with_429_after_repeated_failures(ui: UI, clock: Clock) -> None:
    """Five wrong passwords, then the right one is refused with 429, Retry-After and the
    reason on the sign-in page, for a real user and a nonexistent one alike; once the
    lock has passed, the right password signs in."""
    for user in ("vic", "nobody"):
        attacker = _client(ui, "10.0.0.66")
        for _ in range(throttle.PAIR_FREE):
            response = ui.signin(attacker, user, "wrong-password-x")
            assert response.status_code == 303 and "failed=1" in response.headers["location"]
        refused = ui.signin(attacker, user, "viewer-password-1")
        assert refused.status_code == 429, user
        assert refused.headers["retry-after"] == "30"
        assert "Too many failed sign-ins from your address" in refused.text
        assert "edigate_session" not in attacker.cookies
        assert ui.csrf_of(refused.text)  # the page can be submitted again
    clock.advance(30)
    done = ui.signin(_client(ui, "10.0.0.66"), "vic", "viewer-password-1")
    assert done.status_code == 303 and done.headers["location"] == "/ui/messages"


def test_an_attacker_cannot_keep_a_user_out(ui: UI, clock: Clock) -> None:
    """Failures for a user from many addresses leave that user's own address unaffected
    and delay a new address by at most the capped 60 s."""
    assert ui.signin(_client(ui, "192.0.2.10"), "olga", "operator-password-1"
                     ).status_code == 303
    for n in range(30):
        attacker = _client(ui, f"198.51.100.{n}")
        for _ in range(throttle.PAIR_FREE + 2):
            ui.signin(attacker, "olga", "not-her-password")
    home = ui.signin(_client(ui, "192.0.2.10"), "olga", "operator-password-1")
    assert home.status_code == 303 and home.headers["location"] == "/ui/messages"
    travelling = _client(ui, "203.0.113.50")
    slowed = ui.signin(travelling, "olga", "operator-password-1")
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) <= 60
    clock.advance(int(slowed.headers["retry-after"]))
    assert ui.signin(travelling, "olga", "operator-password-1").status_code == 303
