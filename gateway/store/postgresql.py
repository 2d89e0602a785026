"""The PostgreSQL side of ``gateway.store.dialect.SQLDialect``.

Several gateway processes, on several hosts, share one PostgreSQL database at READ
COMMITTED. A claim skips rows another transaction is claiming (``FOR UPDATE SKIP
LOCKED``: claimants share the queue instead of queueing behind each other), a lock is a
row lock held until commit, an upsert is ``INSERT ... ON CONFLICT DO NOTHING``, and the
ledger's verify reads one REPEATABLE READ, READ ONLY snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import URL, Select, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway.store.models import STORED_MESSAGE_SELECT, FinishedMessage, StoredMessage

__all__ = ["FIND_STORED", "POSTGRESQL", "PostgreSQLDialect"]

# The columns a batch finish sets, after the id (``FinishedMessage``).
_FINISHED = FinishedMessage._fields[1:]
# One statement for the whole batch: the rows travel as one JSON parameter (as
# ``gateway.store.bulk.RawInsert`` sends its rows) and are matched by id.
_FINISH = ("UPDATE messages AS m SET " + ", ".join(f"{c} = v.{c}" for c in _FINISHED)
           + ", locked_by = NULL, locked_until = NULL, updated_at = %s "
           "FROM json_populate_recordset(NULL::messages, %s::json) AS v WHERE m.id = v.id")
# Stored messages a batch duplicates: the batch's digests, and its control numbers and
# senders, as arrays probed on the two unique indexes, whose leading columns they are
# (migration 0005). No partner in the SQL: with one there, the partner's own index
# (ix_messages_partner_received) fits too, and before ``messages`` was analyzed the planner
# took it and filtered every message of the partner (tests/gateway/test_query_plans.py
# pins the plan). Rows of other partners, or of other sender and control pairs, are
# ignored by the caller; a digest or a control number and sender match a handful of rows
# at most.
_FOUND = STORED_MESSAGE_SELECT
FIND_STORED = (_FOUND + "payload_sha256 = ANY(%s::text[]) UNION ALL " + _FOUND
               + "interchange_control = ANY(%s::text[]) AND interchange_sender = ANY(%s::text[])")

Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


class PostgreSQLDialect:
    name = "postgresql"
    locks_rows = True
    remote = True

    def claimable(self, query: Q) -> Q:
        return query.with_for_update(skip_locked=True)

    def locked(self, query: Q) -> Q:
        return query.with_for_update()

    def locking(self, sql: str) -> str:
        return sql + " FOR UPDATE"

    def insert(self, table: Any) -> Any:
        return pg_insert(table)

    def notify(self, session: Session, channel: str, payload: str) -> None:
        session.execute(select(func.pg_notify(channel, payload)))

    def listen_conninfo(self, url: URL) -> str | None:
        # The listener connects with psycopg itself, which takes a libpq URL.
        return url.set(drivername="postgresql").render_as_string(hide_password=False)

    def read_snapshot(self, session: Session) -> None:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        session.execute(text("SET TRANSACTION READ ONLY"))

    def finish_messages(self, cursor: Any, rows: Sequence[FinishedMessage], *,
                        now: datetime, at: Any) -> None:
        cursor.execute(_FINISH, (now, json.dumps([row._asdict() for row in rows])))

    def find_stored(self, cursor: Any, *, partners: Collection[str], digests: Collection[str],
                    senders: Collection[str], controls: Collection[str]
                    ) -> list[StoredMessage]:
        # Planned for each batch, never as a prepared generic plan: one cached while the
        # table is small may scan it whole ever after.
        cursor.execute(FIND_STORED, [sorted(digests), sorted(controls), sorted(senders)],
                       prepare=False)
        return [StoredMessage(*row) for row in cursor.fetchall()]



POSTGRESQL = PostgreSQLDialect()
