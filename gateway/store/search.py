"""The message log's free-text search: a token table kept beside ``messages.search_text``.

Responsible for the shape of ``message_terms`` (one row per distinct search term of a
message: ``term``, the message's ``received_at`` and its id), for turning search text and
queries into terms the same way, and for the page query of the message log that the API
(``GET /v1/messages``) and the ops UI share.

Why a token table and not the databases' own full-text search: what operators search for
are identifiers (control numbers, PO/invoice/shipment numbers), not prose. An exact term
lookup on a B-tree ordered ``(term, received_at, message_id)`` answers "the newest 50
messages mentioning PO-4711" with one index range scan read backwards, on SQLite and
PostgreSQL alike, with the same SQL and the same keyset cursor as the unfiltered log; FTS5
and ``tsvector`` would need two dialect-specific schemas, triggers and rank-ordered results
that cannot be keyset-paginated by time without a sort of every match. Trigram indexes
would add substring search but cost far more to maintain on the intake path.

Writers: intake inserts the terms of the control number with one multi-row insert per
batch; processing replaces a message's terms when it sets ``search_text``.
It must not decide what text is searchable (the pipeline does) and must not commit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Index, Select, String, and_, exists, select
from sqlalchemy.orm import Mapped, QueryableAttribute, aliased, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from gateway.store.base import Base, UTCDateTime
from gateway.store.bulk import MultiRowInsert, RawInsert
from gateway.store.models import Message

__all__ = [
    "INSERT_TERMS",
    "INSERT_TERM_ROWS",
    "TERM_MAX",
    "LogFilters",
    "MessageTerm",
    "TermValues",
    "keyset_after",
    "keyset_before",
    "log_page_query",
    "query_terms",
    "search_clause",
    "term_rows",
    "terms_of",
]

TERM_MAX = 80
_MAX_QUERY_TERMS = 4
# Parts of a token worth a term of their own: "PO-4711" is also found as "4711".
_PARTS = re.compile(r"[0-9A-Za-z]{3,}")


class MessageTerm(Base):
    """One search term of one message. The primary key is the search index itself."""

    __tablename__ = "message_terms"
    __table_args__ = (
        # Deleting a message's terms on reprocess, and AND-ing further query terms.
        Index("ix_message_terms_message", "message_id", "term"),
    )

    term: Mapped[str] = mapped_column(String(TERM_MAX), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    # No foreign key: the terms are a derived index, written on the hot intake path.
    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)


INSERT_TERMS = MultiRowInsert(
    MessageTerm.__table__,  # type: ignore[arg-type]
    ("term", "received_at", "message_id"),
)


class TermValues(NamedTuple):
    """A search term of a message as the hot paths insert it (intake's and processing's
    batches; see ``gateway.store.bulk``): the fields are the ``message_terms`` columns."""

    term: str
    received_at: object  # the message's time as the driver binds it (``RawInsert.bind``)
    message_id: str


INSERT_TERM_ROWS = RawInsert(MessageTerm.__table__, TermValues)  # type: ignore[arg-type]


def _normalise(token: str) -> str:
    return token.casefold()[:TERM_MAX]


def terms_of(text: str | None) -> set[str]:
    """The distinct terms of a message's search text: each whitespace-separated token,
    case-folded, and its alphanumeric runs of three or more characters."""
    terms: set[str] = set()
    for token in (text or "").split():
        terms.add(_normalise(token))
        for part in _PARTS.findall(token):
            terms.add(_normalise(part))
    terms.discard("")
    return terms


def query_terms(q: str) -> list[str]:
    """The terms a search for ``q`` must all match (the first few tokens, as typed)."""
    seen: list[str] = []
    for token in q.split():
        term = _normalise(token)
        if term and term not in seen:
            seen.append(term)
    return seen[:_MAX_QUERY_TERMS]


def term_rows(message_id: str, received_at: datetime, text: str | None) -> list[dict[str, Any]]:
    """Rows for ``INSERT_TERMS``."""
    return [{"term": t, "received_at": received_at, "message_id": message_id}
            for t in sorted(terms_of(text))]


@dataclass(frozen=True, slots=True)
class LogFilters:
    """What the message log is narrowed to. Empty values do not filter."""

    partner: str | None = None
    status: str | None = None
    standard: str | None = None
    direction: str | None = None  # inbound | outbound
    transaction_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def search_clause(query: Select[Any], q: str
                  ) -> tuple[Select[Any], QueryableAttribute[Any], QueryableAttribute[Any]]:
    """``query`` (over ``Message``) narrowed to messages matching ``q``, and the two
    columns the page must be ordered and keyset-paginated by.

    A message id finds that message. Otherwise the first term drives the query: the scan
    runs backwards over the ``(term, received_at, message_id)`` key, so its columns, not
    the message's, order the page; further terms are checked per candidate row.
    """
    q = q.strip()
    if _is_uuid(q):
        return query.where(Message.id == q.lower()), Message.received_at, Message.id
    terms = query_terms(q)
    if not terms:
        return query, Message.received_at, Message.id
    first = aliased(MessageTerm, name="t")
    query = query.join(first, first.message_id == Message.id).where(first.term == terms[0])
    for term in terms[1:]:
        other = aliased(MessageTerm)
        query = query.where(exists().where(other.message_id == Message.id,
                                           other.term == term))
    return query, first.received_at, first.message_id


def keyset_before(at_column: QueryableAttribute[Any], id_column: QueryableAttribute[Any],
                  at: datetime, last_id: str) -> ColumnElement[bool]:
    """Rows after (``at``, ``last_id``) in newest-first order. Written as a range on the
    time plus a tie-break, which both SQLite and PostgreSQL use as an index bound (an
    ``a < x OR (a = x AND b < y)`` disjunction is not)."""
    return and_(at_column <= at, (at_column < at) | (id_column < last_id))


def keyset_after(at_column: QueryableAttribute[Any], id_column: QueryableAttribute[Any],
                 at: datetime, last_id: str) -> ColumnElement[bool]:
    """Rows after (``at``, ``last_id``) in oldest-first order: ``keyset_before`` the
    other way round, an index bound for the same reason."""
    return and_(at_column >= at, (at_column > at) | (id_column > last_id))


def log_page_query(filters: LogFilters, *, cursor: tuple[datetime, str] | None = None,
                   limit: int = 50, partner_only: str | None = None) -> Select[Any]:
    """The message log page (``limit`` + 1 rows, to tell whether there is a next page).

    ``partner_only`` restricts to one partner whatever the filters say (partner callers).
    """
    query = select(Message)
    partner = partner_only or filters.partner
    if partner:
        query = query.where(Message.partner_id == partner)
    if filters.status:
        query = query.where(Message.status == filters.status.upper())
    if filters.standard:
        query = query.where(Message.standard == filters.standard.lower())
    if filters.direction:
        query = query.where(Message.direction == filters.direction)
    if filters.transaction_type:
        query = query.where(Message.transaction_types.contains(filters.transaction_type))
    at_column: QueryableAttribute[Any] = Message.received_at
    id_column: QueryableAttribute[Any] = Message.id
    if filters.q:
        query, at_column, id_column = search_clause(query, filters.q)
    # On the ordering column, so that a time range bounds the index scan itself.
    if filters.since:
        query = query.where(at_column >= filters.since)
    if filters.until:
        query = query.where(at_column < filters.until)
    if cursor is not None:
        query = query.where(keyset_before(at_column, id_column, *cursor))
    return query.order_by(at_column.desc(), id_column.desc()).limit(limit + 1)
