"""HTTPS out: outbound interchanges POSTed to partners that take EDI over plain HTTPS, as a
channel of the one outbox.

Responsible for queueing (``HTTPSOutbox.enqueue``: an ``https_transfers`` row and its
payload added in the caller's transaction, ledger HTTPS_QUEUED), for what one attempt
does (``HTTPSChannel``: POST the payload with the partner's ``Authorization`` header,
content type and static headers) and for judging the answer and ledgering it
(HTTPS_SENT, HTTPS_SEND_RETRY, HTTPS_SEND_FAILED). Claiming under a lease, retrying with
backoff and giving up are the outbox's (``gateway.delivery.outbox``). It must not
generate or store the EDI itself (``gateway.processing.outbound``), nor know about FastAPI.

Every connection goes through ``gateway.delivery.egress``. How an answer counts:

- 2xx: delivered.
- 408, 429, 5xx, and any failure to connect or to read the answer: retried with the
  outbox's backoff, or after the answer's ``Retry-After`` where that asks for longer (up
  to the backoff's cap).
- any other 4xx, and 3xx (redirects are not followed: that would hand the credentials to
  another URL): failed at once, since the same request gets the same answer.
- the egress policy refuses the URL, the partner has no ``[https]`` table any more, its
  ``secret_env`` variable is not set or holds a value no header can carry: failed at once
  with one located line, since only an operator's change can make a retry succeed.

Secrets: the password or token is read from the environment variable the profile names
(``secret_env``) at each attempt, through the mapping the composition root passes in
(this module never reads ``os.environ`` itself). It exists only in the request's headers:
never in the row, the ledger, the log, or an error text (an error is scrubbed of it
before it is recorded, in case a library quotes a header back). An answer's body is never
read nor kept: it is the partner's text, and the ledger cannot be redacted.

An attempt goes to the URL and with the credentials of the partner's profile as loaded
now, not as it was when the row was queued: a partner that moved its endpoint gets its
queued documents at the new one, and a secret is only ever sent to the URL the profile
pairs it with. The row's ``url`` records where the last attempt went.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.delivery.egress import (
    Destination,
    Egress,
    EgressRefused,
    destination,
    public_url,
)
from gateway.delivery.outbox import Channel, Outbox, Outcome, retry_after
from gateway.ledger.chain import Ledger
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.db import Database
from gateway.store.https import HTTPSStatus, HTTPSTransfer
from gateway.store.models import Payload, add_payload
from partners import PartnerProfile, PartnerRegistry
from partners.profile import HTTPSProfile

__all__ = ["HTTPSChannel", "HTTPSDeliverer", "HTTPSOutbox", "HTTPSWork", "judge"]

log = logging.getLogger("edigate.https")

_ERROR_MAX = 500
# RFC 9110 §15.5.9, RFC 6585 §4: the partner asks to be tried again later.
_RETRY_4XX = frozenset({408, 429})
_REDACTED = "[redacted]"


class HTTPSOutbox:
    """The HTTPS rows of the outbox: added in the caller's transaction, worked by an
    ``HTTPSDeliverer``. ``secrets`` is where ``secret_env`` names are looked up at each
    attempt (the process environment, passed in by ``gateway.runtime.state``)."""

    def __init__(self, settings: Settings, db: Database, ledger: Ledger,
                 registry: PartnerRegistry, secrets: Mapping[str, str]) -> None:
        self.settings = settings
        self.db = db
        self.ledger = ledger
        self.registry = registry
        self.secrets = secrets

    @staticmethod
    def wants_https(partner: PartnerProfile | None) -> bool:
        """Whether ``partner`` takes documents over HTTPS (its profile has ``[https]``)."""
        return partner is not None and partner.https is not None

    def enqueue(self, session: Session, partner: PartnerProfile, payload: bytes, *,
                message_id: str | None, actor: str) -> HTTPSTransfer:
        """Queue ``payload`` (an interchange in the partner's outbound standard) for a POST
        to the partner's ``[https] url`` in the caller's transaction; due at once."""
        if partner.https is None:
            raise ValueError(f"partner {partner.id} has no [https] table")
        digest = add_payload(session, payload)
        now = utcnow()
        row = HTTPSTransfer(
            id=str(uuid.uuid4()), partner_id=partner.id, message_id=message_id,
            url=partner.https.url, payload_sha256=digest,
            content_type=partner.https.media_type(partner.outbound_standard),
            status=HTTPSStatus.PENDING, attempts=0, next_attempt_at=now, created_at=now,
            updated_at=now)
        session.add(row)
        self.ledger.append(session, event="HTTPS_QUEUED", actor=actor, message_id=message_id,
                           details={"transfer_id": row.id, "partner": partner.id,
                                    "url": public_url(row.url), "payload_sha256": digest,
                                    "size": len(payload), "content_type": row.content_type})
        return row


@dataclass(frozen=True, slots=True)
class HTTPSWork:
    """One claimed attempt: where it goes, what it sends, and the partner's ``[https]``
    table as loaded (None: the profile has none any more). No secret: that is read when
    the request is built."""

    transfer_id: str
    partner_id: str
    url: str
    payload: bytes
    content_type: str
    profile: HTTPSProfile | None


class _Unusable(Exception):
    """The partner's configuration cannot make this request (a final, located error)."""


def judge(code: int, wait: timedelta | None = None) -> Outcome:
    """The outcome of an attempt the partner answered with HTTP ``code`` (see the module
    docstring); ``detail`` is the code, ``wait`` what its ``Retry-After`` asked for."""
    if 200 <= code < 300:
        return Outcome(None, detail=code)
    if code >= 500 or code in _RETRY_4XX:
        return Outcome(f"HTTP {code}", detail=code, wait=wait)
    if 300 <= code < 400:
        return Outcome(f"HTTP {code}: redirects are not followed; check the partner's "
                       "[https] url", final=True, detail=code)
    return Outcome(f"HTTP {code}", final=True, detail=code)


# The type-var ignores: see gateway.delivery.webhooks.WebhookChannel.
class HTTPSChannel(Channel[HTTPSTransfer, HTTPSWork]):  # type: ignore[type-var]
    """HTTPS transfers as an outbox channel (see the module docstring)."""

    model = HTTPSTransfer
    name = "HTTPS transfer"
    user_agent = "edigate HTTPS"

    def __init__(self, outbox: HTTPSOutbox) -> None:
        self.outbox = outbox
        self.ledger = outbox.ledger
        self.registry = outbox.registry
        self.secrets = outbox.secrets

    def pending(self) -> ColumnElement[bool]:
        return HTTPSTransfer.status == HTTPSStatus.PENDING

    def order(self) -> tuple[InstrumentedAttribute[Any], ...]:
        return (HTTPSTransfer.created_at, HTTPSTransfer.id)

    def skip_busy(self, session: Session, query: Select[HTTPSTransfer],
                  busy: Collection[Destination]) -> Select[HTTPSTransfer]:
        urls = session.scalars(select(HTTPSTransfer.url).where(self.pending()).distinct())
        skipped = [url for url in urls if destination(url) in busy]
        return query.where(HTTPSTransfer.url.not_in(skipped)) if skipped else query

    def prepare(self, session: Session, row: HTTPSTransfer) -> tuple[Destination, HTTPSWork]:
        partner = self.registry.get(row.partner_id)
        profile = partner.https if partner is not None else None
        if profile is not None and profile.url != row.url:
            row.url = profile.url  # committed with the claim: the row says where it went
        payload = session.get(Payload, row.payload_sha256)
        assert payload is not None  # a foreign key
        return destination(row.url), HTTPSWork(row.id, row.partner_id, row.url, payload.data,
                                                row.content_type, profile)

    def send(self, work: HTTPSWork, egress: Egress, at: datetime) -> Outcome:
        if work.profile is None:
            return Outcome(f"partner {work.partner_id} has no [https] table now",
                           final=True)
        try:
            headers, secrets = self._headers(work.partner_id, work.profile, work.content_type)
        except _Unusable as exc:
            return Outcome(str(exc), final=True)
        try:
            with egress.stream("POST", work.url, content=work.payload,
                               headers=headers) as response:
                code = response.status_code
                wait = retry_after(response.headers.get("Retry-After"), at)
        except EgressRefused as exc:
            return Outcome(_scrub(str(exc), secrets), final=True)
        except Exception as exc:  # any failure to send is a failed attempt, to be retried
            return Outcome(_scrub(f"{type(exc).__name__}: {exc}", secrets))
        return judge(code, wait)

    def _headers(self, partner_id: str, profile: HTTPSProfile, content_type: str
                 ) -> tuple[dict[str, str], tuple[str, ...]]:
        """The request's headers, and the secret texts in them (for scrubbing errors)."""
        headers = {**profile.headers, "Content-Type": content_type}
        if profile.auth == "none":
            return headers, ()
        assert profile.secret_env is not None  # HTTPSProfile requires it with auth
        what = "password" if profile.auth == "basic" else "token"
        where = f"partner {partner_id}: [https] secret_env: the environment variable " \
                f"{profile.secret_env}"
        secret = self.secrets.get(profile.secret_env) or ""
        if not secret:
            raise _Unusable(f"{where} (the {what} for auth = \"{profile.auth}\") is not set "
                            "or empty")
        if profile.auth == "basic":
            # RFC 7617 §2: no control characters in the password; sent as UTF-8.
            if any(ord(char) < 0x20 or ord(char) == 0x7F for char in secret):
                raise _Unusable(f"{where} holds a control character, which a Basic "
                                "password cannot contain")
            assert profile.username is not None  # HTTPSProfile requires it with basic
            token = base64.b64encode(f"{profile.username}:{secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
            return headers, (secret, token)
        # RFC 6750 §2.1: a bearer token is visible ASCII (b64token); anything else could
        # not be sent as a header value at all.
        if not all("!" <= char <= "~" for char in secret):
            raise _Unusable(f"{where} holds a character a bearer token cannot contain "
                            "(spaces, control or non-ASCII characters)")
        headers["Authorization"] = f"Bearer {secret}"
        return headers, (secret,)

    # -- outcomes ----------------------------------------------------------------------
    def succeeded(self, session: Session, row: HTTPSTransfer, attempt: int, outcome: Outcome,
                  at: datetime, actor: str) -> None:
        row.status = HTTPSStatus.DELIVERED
        self._append(session, "HTTPS_SENT", row, attempt, outcome, actor)

    def retrying(self, session: Session, row: HTTPSTransfer, attempt: int, outcome: Outcome,
                 actor: str) -> None:
        self._append(session, "HTTPS_SEND_RETRY", row, attempt, outcome, actor,
                     next_attempt_at=row.next_attempt_at)

    def gave_up(self, session: Session, row: HTTPSTransfer, attempt: int, outcome: Outcome,
                actor: str) -> None:
        row.status = HTTPSStatus.FAILED
        self._append(session, "HTTPS_SEND_FAILED", row, attempt, outcome, actor)

    def _append(self, session: Session, event: str, row: HTTPSTransfer, attempt: int,
                outcome: Outcome, actor: str, *,
                next_attempt_at: datetime | None = None) -> None:
        if isinstance(outcome.detail, int):
            row.http_status = outcome.detail
        details: dict[str, object] = {
            "transfer_id": row.id, "partner": row.partner_id, "url": public_url(row.url),
            "attempt": attempt, "http_status": outcome.detail if isinstance(
                outcome.detail, int) else None}
        if outcome.error is not None:
            details["error"] = outcome.error[:_ERROR_MAX]
        if next_attempt_at is not None:
            details["next_attempt_at"] = next_attempt_at.isoformat()
        self.ledger.append(session, event=event, actor=actor, message_id=row.message_id,
                           details=details)


class HTTPSDeliverer(Outbox[HTTPSTransfer, HTTPSWork]):  # type: ignore[type-var]
    """The outbox of HTTPS transfers (``HTTPSChannel``); ``worker`` names its claims
    (default ``https:<worker id>``)."""

    def __init__(self, outbox: HTTPSOutbox, *, lease: timedelta | None = None,
                 worker: str | None = None, timeout: float | None = None) -> None:
        settings = outbox.settings
        super().__init__(HTTPSChannel(outbox), outbox.db, outbox.ledger, settings,
                         lease=lease, worker=worker or f"https:{settings.worker_id}",
                         timeout=timeout)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` without any of ``secrets`` in it."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text

