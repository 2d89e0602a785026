"""The ops UI's pages and actions under /ui.

Viewers see the message log, message details, partners and the dashboard; operators also
reprocess messages and resend acknowledgments; admins also manage users. Every action is
a POST behind the CSRF checks of ``gateway.ui.web`` and is recorded in the ledger with the
actor ``ui:<username>``. Handlers are plain ``def`` so their database work runs in the
thread pool; they never commit except through ``Database.transaction``.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from gateway.api.cursors import decode_keyset, encode_keyset
from gateway.api.inputs import ID_MAX
from gateway.api.problems import Problem
from gateway.errors import GatewayError
from gateway.orders.demand import demand_products
from gateway.orders.queries import OrderFilters, order_page, orders_of_message
from gateway.orders.scorecards import scorecard
from gateway.retention import purge
from gateway.runtime.state import GatewayState
from gateway.store.base import utcnow
from gateway.store.holds import LegalHold
from gateway.store.models import Message, MessageStatus, Payload
from gateway.store.outbound import AckState
from gateway.store.search import LogFilters
from gateway.store.users import ROLES, OpsUser
from gateway.ui import queries, throttle
from gateway.ui.auth import (
    AuthError,
    SignedIn,
    create_user,
    end_session,
    login,
    set_password,
    set_role,
)
from gateway.ui.charts import histogram, percentile, stacked_bars
from gateway.ui.edi_view import render_edi
from gateway.ui.explain import explain_summary
from gateway.ui.throttle import Refusal
from gateway.ui.web import (
    COOKIE,
    HERE,
    LOGIN_CSRF_COOKIE,
    Admin,
    Operator,
    Redirect,
    Refused,
    SecureRoute,
    User,
    check_csrf,
    check_login_csrf,
    form_of,
    is_https,
    render,
    set_session_cookie,
)

__all__ = ["router"]

router = APIRouter(prefix="/ui", route_class=SecureRoute, include_in_schema=False)
log = logging.getLogger("edigate.ui")

PAGE_SIZE = 50
_STATUSES = ("RECEIVED", "PROCESSING", "PROCESSED", "REJECTED", "FAILED", "GENERATED", "HELD")
_NOTICES = {
    "reprocess": "Reprocessing requested: the message is queued again.",
    "ack-as2": "The acknowledgment was queued for sending over AS2.",
    "ack-recorded": "This partner has no AS2 transport: the resend was recorded; "
                    "download the acknowledgment and send it by the agreed channel.",
    "resent-as2": "The interchange was queued for sending over AS2 again.",
    "resent-pickup": "This partner has no AS2 transport: the resend was recorded; the "
                     "interchange waits for pickup (download it below).",
    "user-added": "User added.", "user-changed": "User updated.",
    "held": "Legal hold placed: no retention run removes this message until it is released.",
    "released": "Legal hold released: the message follows its retention period again.",
}
_STATIC = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.edigate
    return state


# ------------------------------------------------------------------------ sign in / out


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC:
        return Response(status_code=404)
    return Response((HERE / "static" / name).read_bytes(), media_type=_STATIC[name],
                    headers={"Cache-Control": "max-age=300"})


@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/messages", status_code=303)


def _safe_next(target: str | None) -> str:
    # Only paths of this UI: never an absolute URL or "//host" (open redirect).
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui/messages"


def _login_form(request: Request, target: str, *, failed: bool = False,
                refusal: Refusal | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html",
                      {"csrf": token, "next": target, "failed": failed,
                       "refused": refusal.reason if refusal else None},
                      status_code=429 if refusal else 200)
    if refusal is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=is_https(request), path="/ui/login")
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None, failed: int = 0) -> Response:
    return _login_form(request, _safe_next(next), failed=bool(failed))


@router.post("/login", dependencies=[Depends(check_login_csrf)])
async def login_submit(request: Request) -> Response:
    form = await form_of(request)
    username, password = form.get("username", ""), form.get("password", "")
    target = _safe_next(form.get("next", ""))
    state = _state(request)
    address = request.client.host if request.client else None

    def attempt() -> tuple[str, OpsUser] | Refusal | None:
        # Throttling first, in a transaction of its own: a refused attempt checks no
        # password and writes nothing else (gateway.ui.throttle).
        with state.db.transaction() as session:
            refusal = throttle.admit(session, username, address)
        if refusal is not None:
            return refusal
        with state.db.transaction() as session:
            done = login(session, username, password,
                         previous_token=request.cookies.get(COOKIE))
            if done:
                throttle.succeeded(session, username, address)
            state.ledger.append(session, event="UI_LOGIN" if done else "UI_LOGIN_FAILED",
                                actor=f"ui:{done[1].username}" if done else "ui:-",
                                details={"username": username[:64], "remote": address})
            return done

    done = await run_in_threadpool(attempt)
    if isinstance(done, Refusal):
        log.info("sign-in refused for %r from %s: throttled for %d s", username[:64],
                 address, done.retry_after)
        return _login_form(request, target, refusal=done)
    if done is None:
        return RedirectResponse("/ui/login?" + urlencode({"failed": 1, "next": target}),
                                status_code=303)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, done[0])
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
async def logout(request: Request, user: User) -> Response:
    await check_csrf(request, user)
    token = request.cookies.get(COOKIE, "")
    state = _state(request)

    def end() -> None:
        with state.db.transaction() as session:
            end_session(session, token)

    await run_in_threadpool(end)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


# --------------------------------------------------------------------------- message log


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        # Converted here: year 1 or 9999 with an offset has no UTC datetime (OverflowError).
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _filters(request: Request) -> tuple[LogFilters, dict[str, str]]:
    params = request.query_params
    raw = {k: params.get(k, "").strip()[:80] for k in
           ("partner", "status", "standard", "direction", "type", "since", "until", "q")}
    status = raw["status"].upper()
    filters = LogFilters(partner=raw["partner"] or None,
                         status=status if status in _STATUSES else None,
                         standard=raw["standard"] if raw["standard"] in ("x12", "edifact")
                         else None,
                         direction=raw["direction"] if raw["direction"] in ("inbound", "outbound")
                         else None,
                         transaction_type=raw["type"] or None,
                         since=_time(raw["since"]), until=_time(raw["until"]),
                         q=raw["q"] or None)
    return filters, raw


def _cursor(value: str | None) -> tuple[datetime, str] | None:
    if not value:
        return None
    try:
        return decode_keyset(value)
    except Problem:
        raise Refused("that page link is not valid any more", status=400) from None


@router.get("/messages")
def message_log(request: Request, user: User, cursor: str | None = None) -> Response:
    filters, raw = _filters(request)
    state = _state(request)
    with state.db.read() as session:
        rows, following = queries.log_page(session, filters, _cursor(cursor), PAGE_SIZE)
    query = {k: v for k, v in raw.items() if v}
    next_url = None
    if following is not None:
        next_url = "/ui/messages?" + urlencode({**query, "cursor": encode_keyset(*following)})
    partners = [p.id for p in state.registry.all()]
    return render(request, "messages.html", {
        "rows": rows, "raw": raw, "next_url": next_url, "first_page": cursor is None,
        "partners": partners, "statuses": _STATUSES, "query": urlencode(query),
        "newest": rows[0] if rows else None,
    })


@router.get("/messages/updates")
def message_updates(request: Request, user: User,
                    after: Annotated[str, Query(max_length=64)] = "",
                    after_id: Annotated[str, Query(max_length=ID_MAX)] = "") -> Response:
    """Rows newer than the newest the page shows (polled by ui.js for live updates)."""
    filters, _ = _filters(request)
    since = _time(after)
    if since is None:
        return JSONResponse({"items": []})
    with _state(request).db.read() as session:
        rows = queries.newer_than(session, filters, since, after_id)
    return JSONResponse({"items": [r.as_json() for r in rows]},
                        headers={"Cache-Control": "no-store"})


# A log page shows PAGE_SIZE rows; the partner page fewer.
_MAX_STATUS_IDS = PAGE_SIZE


@router.get("/messages/statuses")
def message_statuses(request: Request, user: User,
                     id: Annotated[list[str] | None, Query(max_length=_MAX_STATUS_IDS)] = None
                     ) -> Response:
    """The current status and acknowledgment status of the rows a log page shows (polled
    by ui.js, so that a row moves from RECEIVED to its final status without a reload)."""
    ids = [i[:ID_MAX] for i in id or [] if i]
    with _state(request).db.read() as session:
        found = queries.statuses(session, ids) if ids else {}
    return JSONResponse({"items": found}, headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------------ message detail


def _message(state: GatewayState, message_id: str) -> Message:
    with state.db.read() as session:
        message = session.get(Message, message_id[:36])
    if message is None:
        raise Refused("no such message", status=404)
    return message


@router.get("/messages/{message_id}")
def message_detail(request: Request, message_id: str, user: User,
                   done: str | None = None) -> Response:
    state = _state(request)
    message = _message(state, message_id)
    summary = json.loads(message.summary) if message.summary else None
    with state.db.read() as session:
        payload = session.get(Payload, message.payload_sha256)
        evidence = queries.message_evidence(session, message.id)
        timeline = queries.ledger_timeline(session, message.id)
        orders = orders_of_message(session, message.id)
        hold = session.get(LegalHold, message.id)
    raw = bytes(payload.data) if payload else b""
    lines, truncated = render_edi(raw, message.standard, summary)
    explained = explain_summary(summary, message.standard, raw)
    partner = state.registry.get(message.partner_id)
    return render(request, "message.html", {
        "m": message, "summary": summary, "lines": lines, "truncated": truncated,
        "explained": explained,
        "timeline": timeline, "chain_ok": all(e["hash_ok"] and e["link_ok"] for e in timeline),
        "partner": partner, "notice": _NOTICES.get(done or ""), "orders": orders,
        "hold": hold,
        "final": message.status in MessageStatus.FINAL,
        "has_as2": bool(state.as2 is not None and state.as2.outbox.wants_as2(partner)),
        **evidence,
    })


@router.get("/messages/{message_id}/status")
def message_status(request: Request, message_id: str, user: User) -> Response:
    message = _message(_state(request), message_id)
    return JSONResponse({"status": message.status, "final": message.status in
                         MessageStatus.FINAL}, headers={"Cache-Control": "no-store"})


@router.get("/messages/{message_id}/raw")
def message_raw(request: Request, message_id: str, user: User) -> Response:
    state = _state(request)
    message = _message(state, message_id)
    with state.db.read() as session:
        payload = session.get(Payload, message.payload_sha256)
    assert payload is not None
    # An attachment, never rendered by the browser as a page.
    return Response(payload.data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{message.id}.edi"',
        "Digest": f"sha-256={payload.sha256}"})


@router.post("/messages/{message_id}/reprocess")
async def message_reprocess(request: Request, message_id: str, user: Operator) -> Response:
    await check_csrf(request, user)
    state = _state(request)
    try:
        found = await run_in_threadpool(state.pipeline.reprocess, message_id[:36], user.actor)
    except GatewayError as exc:
        raise Refused(exc.detail, status=exc.status) from exc
    if not found:
        raise Refused("no such message", status=404)
    raise Redirect(f"/ui/messages/{message_id}?done=reprocess")


@router.post("/messages/{message_id}/hold")
async def message_hold(request: Request, message_id: str, user: Operator) -> Response:
    await check_csrf(request, user)
    reason = (await form_of(request)).get("reason", "").strip()[:2000] or None
    state = _state(request)
    try:
        await run_in_threadpool(partial(purge.hold, state.db, state.ledger, message_id[:36],
                                        actor=user.actor, reason=reason, now=utcnow()))
    except GatewayError as exc:
        raise Refused(exc.detail, status=exc.status) from exc
    raise Redirect(f"/ui/messages/{message_id}?done=held")


@router.post("/messages/{message_id}/release")
async def message_release(request: Request, message_id: str, user: Operator) -> Response:
    await check_csrf(request, user)
    state = _state(request)
    released = await run_in_threadpool(partial(purge.release, state.db, state.ledger,
                                               message_id[:36], actor=user.actor))
    if not released:
        raise Refused("this message has no legal hold", status=404)
    raise Redirect(f"/ui/messages/{message_id}?done=released")


def _resend_ack(state: GatewayState, message_id: str, user: SignedIn) -> str:
    with state.db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None:
            raise Refused("no such message", status=404)
        ack = queries.ack_to_resend(session, message_id)
        if ack is None:
            raise Refused("this message has no acknowledgment to resend", status=409)
        partner = state.registry.get(message.partner_id)
        via_as2 = state.as2 is not None and state.as2.outbox.wants_as2(partner)
        state.ledger.append(session, event="ACK_RESEND_REQUESTED", actor=user.actor,
                            message_id=message_id,
                            details={"ack_id": ack.id, "kind": ack.kind,
                                     "transport": "as2" if via_as2 else "none"})
        if via_as2:
            assert state.as2 is not None and partner is not None
            state.as2.outbox.enqueue(session, partner, ack.content.encode("ascii", "replace"),
                              kind="ack", message_id=message_id, actor=user.actor)
            return "ack-as2"
        return "ack-recorded"


@router.post("/messages/{message_id}/resend-ack")
async def message_resend_ack(request: Request, message_id: str, user: Operator) -> Response:
    await check_csrf(request, user)
    done = await run_in_threadpool(_resend_ack, _state(request), message_id[:36], user)
    raise Redirect(f"/ui/messages/{message_id}?done={done}")


@router.post("/messages/{message_id}/resend")
async def message_resend(request: Request, message_id: str, user: Operator) -> Response:
    """Queue a generated outbound interchange again on the partner's transport."""
    await check_csrf(request, user)
    state = _state(request)
    message = _message(state, message_id)
    partner = state.registry.get(message.partner_id)
    if message.direction != "outbound" or message.status != MessageStatus.GENERATED \
            or partner is None:
        raise Refused("only a generated outbound message of a known partner is sent again",
                      status=409)
    transfer = await run_in_threadpool(state.outbound.resend, message.id, partner, user.actor)
    raise Redirect(f"/ui/messages/{message.id}?done="
                   f"{'resent-as2' if transfer else 'resent-pickup'}")


# ------------------------------------------------------------------------ sent documents


@router.get("/sent")
def sent(request: Request, user: User, partner: str = "", type: str = "",
         ack: str = "open") -> Response:
    """Documents sent to partners whose acknowledgment has not come, is overdue or says
    rejected (``ack=open``), or in one acknowledgment state."""
    state = _state(request)
    states = queries.OPEN_ACK_STATES if ack == "open" else (
        (ack,) if ack in AckState.ALL else AckState.ALL)
    with state.db.read() as session:
        rows = queries.sent_documents(session, partner=partner[:ID_MAX] or None,
                                      document_type=type[:10] or None, ack_states=states)
    return render(request, "sent.html", {
        "rows": rows, "partners": [p.id for p in state.registry.all()],
        "states": AckState.ALL, "raw": {"partner": partner, "type": type, "ack": ack},
        "now": datetime.now(UTC)})


# ------------------------------------------------------------------------------ partners


@router.get("/partners")
def partners(request: Request, user: User) -> Response:
    state = _state(request)
    with state.db.read() as session:
        figures = queries.partner_figures(session, [p.id for p in state.registry.all()])
    certificates = state.as2.partners.certificates() if state.as2 is not None else {}
    return render(request, "partners.html", {
        "partners": state.registry.all(), "figures": figures, "certificates": certificates})


@router.get("/partners/{partner_id}")
def partner_detail(request: Request, partner_id: str, user: User) -> Response:
    state = _state(request)
    partner = state.registry.get(partner_id)
    if partner is None:
        raise Refused("no such partner", status=404)
    now = datetime.now(UTC)
    with state.db.read() as session:
        figures = queries.partner_figures(session, [partner_id]).get(partner_id, {})
        orders, more_orders = order_page(session, OrderFilters(partner=partner_id), limit=20)
        card = scorecard(session, partner_id, now - timedelta(days=30), now,
                         partner.orders.ack_due_hours)
        products = demand_products(session, partner_id, limit=50)
        recent, _ = queries.log_page(session, LogFilters(partner=partner_id), None, 10)
    certificates = (state.as2.partners.certificates().get(partner_id, [])
                    if state.as2 is not None else [])
    return render(request, "partner.html", {
        "p": partner, "figures": figures, "orders": orders, "more_orders": more_orders,
        "card": card, "products": products, "recent": recent, "certificates": certificates})


@router.get("/partners/{partner_id}/po/{po_number:path}")
def partner_po(partner_id: str, po_number: str, user: User) -> Response:
    """Where a PO's page was before orders were stored: its order's page now."""
    return RedirectResponse(f"/ui/orders/{quote(partner_id[:64], safe='')}/"
                            f"{quote(po_number[:80], safe='')}", status_code=308)


# ----------------------------------------------------------------------------- dashboard


@router.get("/dashboard")
def dashboard(request: Request, user: User) -> Response:
    with _state(request).db.read() as session:
        data = queries.dashboard(session)
    hour = lambda d: d.strftime("%H:00")  # noqa: E731
    day = lambda d: d.strftime("%m-%d")  # noqa: E731
    ack = data["ack_seconds"]
    charts = [
        stacked_bars("Messages per hour by type (48 h)", data["hours"], data["hourly_type"],
                     hour, label_every=6),
        stacked_bars("Messages per hour by partner (48 h)", data["hours"],
                     data["hourly_partner"], hour, label_every=6),
        stacked_bars("Messages per day by type (30 days)", data["days"], data["daily_type"],
                     day, label_every=5),
        stacked_bars("Messages per day by partner (30 days)", data["days"],
                     data["daily_partner"], day, label_every=5),
        histogram("Receipt to acknowledgment (the newest 500 messages)", ack,
                  (0.1, 0.5, 1, 5, 30, 60, 300)),
    ]
    return render(request, "dashboard.html", {
        "charts": charts, "total": data["total"], "errors": data["errors"],
        "finished": data["finished"], "error_rate": data["error_rate"],
        "daily_error_rate": sorted(data["daily_error_rate"].items(), reverse=True)[:14],
        "p50": percentile(ack, 50), "p90": percentile(ack, 90), "p99": percentile(ack, 99),
    })


# --------------------------------------------------------------------------------- users


def _users_page(request: Request, *, notice: str | None = None, error: str | None = None,
                status_code: int = 200) -> Response:
    with _state(request).db.read() as session:
        rows = session.scalars(select(OpsUser).order_by(OpsUser.username)).all()
    return render(request, "users.html", {"users": rows, "roles": ROLES, "notice": notice,
                                          "error": error}, status_code=status_code)


@router.get("/users")
def users(request: Request, user: Admin, done: str | None = None) -> Response:
    return _users_page(request, notice=_NOTICES.get(done or ""))


def _users_action(state: GatewayState, user: SignedIn, form: dict[str, str],
                  user_id: str | None) -> str:
    with state.db.transaction() as session:
        if user_id is None:
            created = create_user(session, form.get("username", ""), form.get("role", ""),
                                  form.get("password", ""))
            state.ledger.append(session, event="UI_USER_ADDED", actor=user.actor,
                                details={"username": created.username, "role": created.role})
            return "user-added"
        target = session.get(OpsUser, user_id)
        if target is None:
            raise Refused("no such user", status=404)
        if target.id == user.user_id and (form.get("disabled") or form.get("role") != "admin"):
            raise AuthError("you cannot demote or disable yourself")
        set_role(session, target, form.get("role") or None, disabled=bool(form.get("disabled")))
        if form.get("password"):
            set_password(session, target, form["password"])
        state.ledger.append(session, event="UI_USER_CHANGED", actor=user.actor, details={
            "username": target.username, "role": target.role,
            "disabled": target.disabled_at is not None,
            "password_changed": bool(form.get("password"))})
        return "user-changed"


async def _users_post(request: Request, user: SignedIn, user_id: str | None) -> Response:
    await check_csrf(request, user)
    form = {k: v for k, v in (await form_of(request)).items() if k != "csrf"}
    try:
        done = await run_in_threadpool(_users_action, _state(request), user, form, user_id)
    except AuthError as exc:
        reason = str(exc)
        return await run_in_threadpool(lambda: _users_page(request, error=reason,
                                                           status_code=400))
    raise Redirect(f"/ui/users?done={done}")


@router.post("/users")
async def users_add(request: Request, user: Admin) -> Response:
    return await _users_post(request, user, None)


@router.post("/users/{user_id}")
async def users_change(request: Request, user: Admin, user_id: str) -> Response:
    return await _users_post(request, user, user_id)
