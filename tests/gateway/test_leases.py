"""Leases: one holder at a time, renewed by its holder, taken over once it runs out or is
given up; on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from gateway.store import leases
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.migrate import upgrade

HOLD = timedelta(seconds=30)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    upgrade(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def test_a_lease_has_one_holder_until_it_runs_out(db: Database) -> None:
    now = utcnow()
    assert leases.take(db, "job", "a", now, HOLD) == "a"
    assert leases.take(db, "job", "b", now + timedelta(seconds=1), HOLD) == "a"
    assert leases.take(db, "other", "b", now, HOLD) == "b"  # leases are by name
    # Renewed by its holder: still a's past the first term.
    assert leases.take(db, "job", "a", now + timedelta(seconds=20), HOLD) == "a"
    assert leases.take(db, "job", "b", now + timedelta(seconds=40), HOLD) == "a"
    assert leases.take(db, "job", "b", now + timedelta(seconds=50), HOLD) == "b"
    assert leases.take(db, "job", "a", now + timedelta(seconds=51), HOLD) == "b"


def test_a_lease_given_up_is_taken_at_once_and_only_its_holder_can_give_it_up(
        db: Database) -> None:
    now = utcnow()
    assert leases.take(db, "job", "a", now, HOLD) == "a"
    leases.give_up(db, "job", "b", now)  # not b's: nothing changes
    assert leases.take(db, "job", "b", now, HOLD) == "a"
    leases.give_up(db, "job", "a", now)
    assert leases.take(db, "job", "b", now, HOLD) == "b"
