"""What a request target may carry before any route sees it, and the shared bounds of
query and path values.

Responsible for refusing, with 400 problem+json naming the parameter, a path or query
string holding a control character (Unicode category Cc: C0, DEL and C1). PostgreSQL
cannot store or compare text holding NUL at all, and no identifier, search term or
cursor this gateway issues holds any control character, so refusing them at the door
makes SQLite and PostgreSQL answer alike and keeps them out of logs and the ledger.
Also the bounds routes declare on their parameters (``ID_MAX``, ``SHORT_MAX``,
``CURSOR_MAX``) and ``utc_param`` for datetime query values.

It must not authenticate, read bodies or touch the database: it runs before all of that,
on every request, including the hot intake path (which carries no query string).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.problems import Problem, problem_response

__all__ = ["CURSOR_MAX", "ID_MAX", "SHORT_MAX", "InputGuard", "control_character",
           "utc_param"]

# Identifiers are UUIDs (36 characters) or partner ids (at most 64, the column width).
ID_MAX = 64
# Filter values: statuses, standards, transaction types, record kinds.
SHORT_MAX = 64
# The opaque keyset cursors of ``gateway.api.cursors`` are about 100 characters.
CURSOR_MAX = 512

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def control_character(text: str) -> str | None:
    """``U+XXXX`` of the first control character in ``text``, or None."""
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _printable(name: str) -> str:
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", name)[:64]


class InputGuard:
    """ASGI middleware: a request whose path or query string holds a control character
    is answered 400 ``invalid-characters`` and goes no further."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = _refusal(scope)
            if refusal is not None:
                parameter, code = refusal
                where = "the path" if parameter is None else \
                    f"query parameter '{_printable(parameter)}'"
                response = problem_response(
                    400, "invalid-characters", "Invalid characters in the request",
                    f"{where} contains {code}, a control character; no identifier, "
                    "search term or cursor of this API holds one", _printable(scope["path"]),
                    parameter="path" if parameter is None else parameter)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refusal(scope: Scope) -> tuple[str | None, str] | None:
    """(the parameter, or None for the path; the character) of the first control
    character in the request target, or None when there is none."""
    code = control_character(scope["path"])
    if code is not None:
        return None, code
    raw: bytes = scope.get("query_string", b"")
    if raw:
        # Decoded as Starlette decodes it for the routes, so both see the same values.
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            code = control_character(name) or control_character(value)
            if code is not None:
                return name, code
    return None


def utc_param(name: str, value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (a naive one is taken as UTC, as the UI does),
    or a 422 problem when it cannot be one (year 1 with a positive offset, year 9999 with
    a negative one)."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise Problem(422, "invalid-parameter", "Invalid query parameter",
                      f"{name} is outside the range of UTC datetimes", parameter=name) from None
