"""The ops UI's web plumbing: templates, security headers, sign-in and CSRF checks.

Responsible for what every UI response and request goes through: Jinja2 with autoescape
on, a strict Content-Security-Policy (scripts and styles only from /ui/static, no inline
code, no framing), the session cookie (HttpOnly, SameSite=Strict, Secure over https),
the role a page needs, and for POSTs the session's synchronizer token plus an Origin (or
Referer) that is this server. It must not query messages or render page content.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from gateway.runtime.state import GatewayState
from gateway.ui.auth import SignedIn, resolve_session, touch

__all__ = [
    "COOKIE",
    "CSP",
    "Admin",
    "Operator",
    "SecureRoute",
    "User",
    "check_csrf",
    "render",
    "templates",
]

HERE = Path(__file__).resolve().parent
COOKIE = "edigate_session"
LOGIN_CSRF_COOKIE = "edigate_login_csrf"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


_env = Environment(loader=FileSystemLoader(HERE / "templates"),
                   autoescape=select_autoescape(["html", "svg"], default=True),
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["when"] = _when
templates = Jinja2Templates(env=_env)


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


class Refused(Exception):
    """403 with a short reason shown on an error page."""

    def __init__(self, reason: str, status: int = 403) -> None:
        self.reason = reason
        self.status = status


class SecureRoute(APIRoute):
    """Every UI route: security headers on every response, and sign-in redirects and
    refusals rendered as pages instead of JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            try:
                response = await handler(request)
            except Redirect as redirect:
                response = RedirectResponse(redirect.url, status_code=303)
            except Refused as refused:
                response = render(request, "error.html", {"reason": refused.reason},
                                  status_code=refused.status)
            for name, value in _HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return secured


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    values = {"user": getattr(request.state, "ui_user", None)}
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                        secure=is_https(request), path="/ui")


async def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.edigate
    return state


def _resolve(state: GatewayState, token: str) -> SignedIn | None:
    with state.db.read() as session:
        signed_in, stale = resolve_session(session, token)
    if signed_in is not None and stale:
        with state.db.transaction() as session:
            touch(session, signed_in.session_id)
    return signed_in


async def current_user(request: Request) -> SignedIn:
    """The signed-in user; anyone else is sent to the login page."""
    token = request.cookies.get(COOKIE)
    signed_in = None
    if token:
        signed_in = await run_in_threadpool(_resolve, await _state(request), token)
    if signed_in is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        if request.method != "GET" or not target.startswith("/ui"):
            target = "/ui/"
        raise Redirect("/ui/login?next=" + quote(target, safe="/"))
    request.state.ui_user = signed_in
    return signed_in


def _role(needed: str) -> Callable[[SignedIn], Awaitable[SignedIn]]:
    async def check(user: Annotated[SignedIn, Depends(current_user)]) -> SignedIn:
        if not user.can(needed):
            raise Refused(f"this needs the {needed} role; you are {user.role}")
        return user

    return check


User = Annotated[SignedIn, Depends(_role("viewer"))]
Operator = Annotated[SignedIn, Depends(_role("operator"))]
Admin = Annotated[SignedIn, Depends(_role("admin"))]


def same_origin(request: Request) -> bool:
    """The request comes from a page of this server: by Origin, else by Referer."""
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == expected
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == expected
    return False  # a browser always sends one of them on a form POST


_FORM_LIMIT = 64 * 1024


async def form_of(request: Request) -> dict[str, str]:
    """The POSTed form (``application/x-www-form-urlencoded``, the only kind the UI
    sends; at most 64 KB), parsed once per request."""
    cached: dict[str, str] | None = getattr(request.state, "ui_form", None)
    if cached is not None:
        return cached
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _FORM_LIMIT:
            raise Refused("the form is too large", status=413)
    form: dict[str, str] = {}
    if kind == "application/x-www-form-urlencoded":
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            form.setdefault(key, value)
    request.state.ui_form = form
    return form


async def check_csrf(request: Request, user: SignedIn) -> None:
    """Refuse a POST without this session's token or from another origin."""
    form = await form_of(request)
    token = form.get("csrf")
    if not same_origin(request):
        raise Refused("the request did not come from this site (Origin check)")
    if not isinstance(token, str) or not hmac.compare_digest(token, user.csrf_token):
        raise Refused("the form has expired or did not come from this site (CSRF token); "
                      "reload the page and try again")


async def check_login_csrf(request: Request) -> None:
    """Login has no session yet: a double-submit cookie plus the Origin check."""
    form = await form_of(request)
    token = form.get("csrf")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not same_origin(request):
        raise Refused("the request did not come from this site (Origin check)")
    if not isinstance(token, str) or not cookie or not hmac.compare_digest(token, cookie):
        raise Refused("the login form has expired; reload the page and try again")
