"""Control-number counters: the numbers edigate puts on what it sends, never reused.

Responsible for taking numbers from the ``control_counters`` rows (ISA13 of
acknowledgments and generated interchanges, GS06, ST02, UNB 0020, UNH 0062, per partner)
inside the caller's transaction: the counter's row stays locked until that transaction
ends, so numbers are gap-free and unique across threads, processes and restarts, and a
rolled-back transaction gives its numbers back. It must not commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.store.dialect import SQLDialect
from gateway.store.models import ControlCounter

__all__ = ["take_numbers"]


def take_numbers(session: Session, dialect: SQLDialect, name: str, count: int = 1) -> int:
    """Take ``count`` numbers of the counter ``name`` in the caller's transaction; the
    first of them (a new counter starts at 1)."""
    counter = session.get(ControlCounter, name, with_for_update=True)
    if counter is None and dialect.locks_rows:
        # Two workers may both see no counter yet (on SQLite the transaction's write lock
        # rules that out): one creates it, the other waits for it on the row lock.
        session.execute(dialect.insert(ControlCounter).values(name=name, value=0)
                        .on_conflict_do_nothing(index_elements=["name"]))
        counter = session.get(ControlCounter, name, with_for_update=True)
    if counter is None:
        counter = ControlCounter(name=name, value=0)
        session.add(counter)
    first = counter.value + 1
    counter.value += count
    session.flush()
    return first
