"""Caps on request body bytes in flight: in total, and per partner.

Responsible for ``InflightLimit``, an ASGI middleware in front of every route: a request
with a body reserves its declared length (Content-Length) before any of its body is
read, and a request that would take the bytes in flight past ``max_inflight_bytes`` (all
requests) or ``max_inflight_bytes_per_partner`` (its account) answers 503 problem+json
with Retry-After at once. A body without a declared length reserves as its chunks
arrive and is refused at the chunk that would go past a cap (the route reading it gets
the 503 raised). A body larger than a cap can never fit: 413. What a request reserved is
released when its handling ends, however it ends (answer, error, client gone).

The account is known before the body is read: the partner of the API key (from the key
cache, ``gateway.api.api_keys.KeyCache``; a key not in it is looked up and cached, which the
route would do next anyway), the partner whose AS2 name the ``AS2-From`` header of a
``/as2`` post gives (every unknown name shares one account), else the key itself. It
must not refuse a caller: the routes authenticate; this only keeps their bodies from
taking the memory of the process.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.deps import known_caller
from gateway.api.problems import RETRY_AFTER_SECONDS, problem_response
from gateway.as2.message import parse_as2_name
from gateway.errors import GatewayError

__all__ = ["InflightBodies", "InflightLimit", "account_of"]

_UNKNOWN_AS2 = "as2:unknown"


class InflightBodies:
    """The bytes reserved by requests now being handled, in total and per account."""

    def __init__(self, total: int, per_account: int) -> None:
        self.total_limit = total
        self.account_limit = per_account
        self.total = 0
        self._by_account: dict[str, int] = {}
        self._lock = threading.Lock()

    def reserve(self, account: str | None, size: int) -> bool:
        """Take ``size`` more bytes for ``account`` if both caps allow it."""
        with self._lock:
            held = self._by_account.get(account, 0) if account is not None else 0
            if self.total + size > self.total_limit or (
                    account is not None and held + size > self.account_limit):
                return False
            self.total += size
            if account is not None:
                self._by_account[account] = held + size
            return True

    def release(self, account: str | None, size: int) -> None:
        if not size:
            return
        with self._lock:
            self.total -= size
            if account is not None:
                left = self._by_account.get(account, 0) - size
                if left > 0:
                    self._by_account[account] = left
                else:
                    self._by_account.pop(account, None)

    def held(self, account: str | None = None) -> int:
        """Bytes in flight for ``account``, or in total."""
        with self._lock:
            return self.total if account is None else self._by_account.get(account, 0)

    def fits_ever(self, size: int) -> bool:
        return size <= min(self.total_limit, self.account_limit)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def account_of(scope: Scope, state: Any) -> str | None:
    """Whose bytes the request's body counts against (None: the total only)."""
    if scope.get("path") == "/as2":
        name = parse_as2_name(_header(scope, b"as2-from") or "")
        partner = state.registry.by_as2(name) if name else None
        # The header is not authenticated yet: a name that is nobody's shares one account,
        # so that inventing names does not multiply the per-partner allowance.
        return f"partner:{partner.id}" if partner is not None else _UNKNOWN_AS2
    scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        caller = await known_caller(state, token)
    except Exception:  # the route reports the database's state, not this
        caller = None
    if caller is None:  # unknown (the route answers 401) or the database is down
        return "key:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:16]
    if caller.partner_id is not None:
        return f"partner:{caller.partner_id}"
    return f"key:{caller.key_id}"


class InflightLimit:
    """The ASGI middleware (``app.add_middleware(InflightLimit, bodies=...)``)."""

    def __init__(self, app: ASGIApp, bodies: InflightBodies) -> None:
        self.app = app
        self.bodies = bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        chunked = declared is None and "chunked" in (
            _header(scope, b"transfer-encoding") or "").lower()
        size = int(declared) if declared is not None and declared.isdigit() else 0
        if not size and not chunked:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state.edigate
        account = await account_of(scope, state)
        bodies = self.bodies
        if size and not bodies.fits_ever(size):  # waiting would not help: 413, not 503
            most = min(bodies.total_limit, bodies.account_limit)
            response = problem_response(
                413, "too-large", "Message too large",
                f"the body is {size} bytes; at most {most} bytes are received at once",
                scope.get("path", ""))
            await response(scope, receive, send)
            return
        if size and not bodies.reserve(account, size):
            state.metrics.rejected_at_intake.labels("inflight-cap").inc()
            await self._busy(scope, receive, send)
            return
        reserved = size

        async def counted() -> Message:
            # Only a body of undeclared length grows its reservation as it arrives.
            nonlocal reserved
            message = await receive()
            if message["type"] == "http.request" and not size:
                more = len(message.get("body", b""))
                if more and not bodies.reserve(account, more):
                    state.metrics.rejected_at_intake.labels("inflight-cap").inc()
                    raise GatewayError(503, "busy", _BUSY_TITLE, _BUSY_DETAIL)
                reserved += more
            return message

        try:
            await self.app(scope, counted if chunked else receive, send)
        finally:
            bodies.release(account, reserved)

    @staticmethod
    async def _busy(scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(503, "busy", _BUSY_TITLE, _BUSY_DETAIL,
                                    scope.get("path", ""),
                                    {"Retry-After": str(RETRY_AFTER_SECONDS)})
        await response(scope, receive, send)


_BUSY_TITLE = "Too many request bytes in flight"
_BUSY_DETAIL = ("the gateway is receiving as much as it accepts at once (in total or from "
                "this partner); send again shortly")
