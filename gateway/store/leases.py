"""Leases: one holder at a time for a job every worker process could run.

Responsible for the ``leases`` table and for taking, renewing and giving up a named lease
(``take``, ``give_up``). A lease is held by one holder (a worker's thread name, unique per
process) until its ``until``; the holder renews it by taking it again, and any other
holder gets it only once it has run out, so a holder that dies hands its job over by
itself. Both steps are one statement each (an upsert whose update applies only to a
free, expired or own lease), so two processes asking at once cannot both win.
It must not know what the job is: its users name their leases (``sftp-poll:<partner>``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime
from gateway.store.db import Database

__all__ = ["Lease", "give_up", "take"]


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    until: Mapped[datetime] = mapped_column(UTCDateTime)


def take(db: Database, name: str, holder: str, now: datetime, hold: timedelta) -> str:
    """Take or renew lease ``name`` for ``holder`` until ``now + hold`` when it is free,
    has run out or is ``holder``'s already; the holder it has after this call (``holder``
    when taken)."""
    until = now + hold
    with db.transaction() as session:
        session.execute(
            db.dialect.insert(Lease).values(name=name, holder=holder, until=until)
            .on_conflict_do_update(index_elements=["name"],
                                   set_={"holder": holder, "until": until},
                                   where=(Lease.until <= now) | (Lease.holder == holder)))
        return session.scalars(select(Lease.holder).where(Lease.name == name)).one()


def give_up(db: Database, name: str, holder: str, now: datetime) -> None:
    """End ``holder``'s lease ``name`` now (a process stopping hands its job over at
    once); nothing when another holds it."""
    with db.transaction() as session:
        session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                        .values(until=now))
