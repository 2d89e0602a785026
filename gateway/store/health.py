"""What readiness asks of the database beyond a SELECT: that it takes a write, and (SQLite)
that its filesystem has room for more.

Responsible for the ``readiness_heartbeat`` table (one row, rewritten by every readiness
probe and committed, so that a read-only database file, a read-only PostgreSQL
transaction mode or a full disk fails the probe) and for asking the database's dialect
for the free space where it keeps its data. It must not decide what readiness reports:
``gateway.api.ops`` does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow
from gateway.store.db import Database

__all__ = ["ReadinessHeartbeat", "free_bytes", "write_heartbeat"]

_ROW = "readyz"


class ReadinessHeartbeat(Base):
    """The last readiness probe that could write: when, and by which process."""

    __tablename__ = "readiness_heartbeat"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_by: Mapped[str] = mapped_column(String(200))


def write_heartbeat(db: Database, who: str) -> None:
    """Rewrite the heartbeat row and commit; raises whatever the database raises when it
    cannot take the write. One row for every process: the table never grows."""
    values = {"beat_at": utcnow(), "beat_by": who[:200]}
    for _ in range(2):
        try:
            with db.transaction() as session:
                changed = session.execute(
                    update(ReadinessHeartbeat).where(ReadinessHeartbeat.id == _ROW)
                    .values(**values)).rowcount  # type: ignore[attr-defined]
                if not changed:
                    session.add(ReadinessHeartbeat(id=_ROW, **values))
            return
        except IntegrityError:
            continue  # another process inserted the row first: update it this time
    raise RuntimeError("the readiness heartbeat row could not be written")


def free_bytes(db: Database) -> int | None:
    """Bytes an unprivileged writer may still use where the database keeps its data; None
    where the gateway cannot tell (``SQLDialect.free_bytes``: a server reports a full disk
    as a failed write; an in-memory database)."""
    return db.dialect.free_bytes(db.engine.url)
