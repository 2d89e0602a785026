"""The retention policy: how many days each message is kept.

Responsible for the rule that makes a message due. Periods are given per key, a key
being a record kind (``invoice``), a final status in lower case (``rejected``) or
``default``, in ``EDIGATE_RETENTION`` and in a partner's ``[retention]`` table, which
overrides the settings key by key for that partner's messages. A message's keys are the
kinds of its records (inbound) or of its sent documents (outbound) and its status; its
period is the longest of the periods its keys have (so a rejected interchange that still
carried an invoice is kept as an invoice), else ``default``, else none: a message
without a period is kept for ever. Only messages in a final status are ever due, and a
legal hold keeps a message whatever its period (``gateway.retention.purge``).
It must not read the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from gateway.runtime.settings import Settings
from gateway.store.models import MessageStatus
from partners import PartnerRegistry

__all__ = ["RetentionPolicy"]


class RetentionPolicy:
    def __init__(self, defaults: Mapping[str, int],
                 partners: Mapping[str, Mapping[str, int]] | None = None) -> None:
        self.defaults = dict(defaults)
        self.partners = {partner: dict(days) for partner, days in (partners or {}).items()
                         if days}

    @classmethod
    def of(cls, settings: Settings, registry: PartnerRegistry) -> RetentionPolicy:
        return cls(settings.retention_days,
                   {partner.id: partner.retention for partner in registry.all()})

    @property
    def configured(self) -> bool:
        """Whether any message can ever be due."""
        return bool(self.defaults or self.partners)

    def shortest(self) -> int | None:
        """The fewest days any message is kept (None: none is ever due)."""
        days = [*self.defaults.values(),
                *(d for table in self.partners.values() for d in table.values())]
        return min(days) if days else None

    def days_for(self, partner_id: str, status: str, kinds: Iterable[str]) -> int | None:
        """The days a message of ``partner_id`` in ``status`` with records (or sent
        documents) of ``kinds`` is kept; None: for ever."""
        if status not in MessageStatus.FINAL:
            return None
        table = self.defaults | self.partners.get(partner_id, {})
        found = [table[key] for key in {*kinds, status.lower()} if key in table]
        return max(found) if found else table.get("default")

    def due(self, partner_id: str, status: str, kinds: Iterable[str], received_at: datetime,
            now: datetime) -> bool:
        days = self.days_for(partner_id, status, kinds)
        return days is not None and received_at <= now - timedelta(days=days)

    def as_dict(self) -> dict[str, object]:
        """The policy as the archive header and the ledger record it."""
        return {"settings": dict(sorted(self.defaults.items())),
                "partners": {p: dict(sorted(t.items())) for p, t in sorted(self.partners.items())}}
