"""Control-number counters: the numbers edigate puts on what it sends, never reused.

Responsible for taking numbers from the ``control_counters`` rows (ISA13 of
acknowledgments and generated interchanges, GS06, ST02, UNB 0020, UNH 0062, per partner)
inside the caller's transaction: the counter's row stays locked until that transaction
ends, so numbers are gap-free and unique across threads, processes and restarts, and a
rolled-back transaction gives its numbers back. It must not commit.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from gateway.store.dialect import SQLDialect
from gateway.store.models import ControlCounter

__all__ = ["take_numbers"]

_COUNTERS: Final[Table] = ControlCounter.__table__  # type: ignore[assignment]


def take_numbers(session: Session, dialect: SQLDialect, name: str, count: int = 1) -> int:
    """Take ``count`` numbers of the counter ``name`` in the caller's transaction; the
    first of them (a new counter starts at 1)."""
    # One statement: the increment takes the row's lock and gives the new value back.
    bump = (update(_COUNTERS).where(_COUNTERS.c.name == name)
            .values(value=_COUNTERS.c.value + count).returning(_COUNTERS.c.value))
    value = session.execute(bump).scalar_one_or_none()
    if value is None:
        # A new counter. Two workers may both find none (on SQLite the transaction's
        # write lock rules that out): one creates it, the other waits for it on the row
        # lock, and both then take their numbers from it in turn.
        session.execute(dialect.insert(ControlCounter).values(name=name, value=0)
                        .on_conflict_do_nothing(index_elements=["name"]))
        value = session.execute(bump).scalar_one()
    first: int = value - count + 1
    return first
