"""The legal holds table: messages an operator keeps whatever the retention policy says.

Responsible for the persistent shape of ``legal_holds``: one row per held message, with
who placed the hold, when and why. A row here means the message is never due for
retention (``gateway.retention``); releasing the hold deletes the row. A table beside
``messages`` rather than a column of it: intake's hot insert stays as it is, and a hold
carries its own who and why. It must not decide what is due (``gateway.retention``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base, UTCDateTime, utcnow

__all__ = ["LegalHold"]


class LegalHold(Base):
    __tablename__ = "legal_holds"

    # No foreign key: a hold is checked before a purge and deleted only by a release, and
    # the message row must be deletable by nothing but the purge, which skips held ones.
    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
