"""Sign-in, sessions, roles and CSRF of the ops UI."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway.ledger.chain import LedgerEntry
from gateway.store.users import OpsSession, OpsUser
from gateway.ui.auth import hash_password, needs_rehash, verify_password

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI

ORIGIN = "http://testserver"


def test_password_hash_is_salted_scrypt_with_strong_parameters() -> None:
    """Hashes name scrypt with n=2^15, r=8; the same password hashes differently each time,
    verifies, and a wrong one does not."""
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("scrypt$15$8$1$") and first != second
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("x", "md5$abc") and not needs_rehash(first)
    assert needs_rehash("scrypt$14$8$1$AAAA$AAAA")


def test_pages_need_a_session(ui: UI) -> None:
    """Without signing in, every page redirects to the login page and JSON endpoints too."""
    client = ui.client()
    for url in ("/ui/messages", "/ui/partners", "/ui/dashboard", "/ui/users",
                "/ui/messages/updates?after=2020-01-01T00:00:00"):
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/ui/login?next=")


def test_login_sets_a_hardened_cookie_and_rotates_the_session(ui: UI) -> None:
    """The session cookie is HttpOnly, SameSite=Strict, scoped to /ui; a second login from
    the same browser replaces the session row (the old cookie no longer works)."""
    client = ui.client()
    response = ui.signin(client, "vic", "viewer-password-1")
    assert response.status_code == 303 and response.headers["location"] == "/ui/messages"
    cookie = response.headers["set-cookie"]
    assert "edigate_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http in the test; https sets Secure
    old = client.cookies["edigate_session"]
    ui.signin(client, "vic", "viewer-password-1")
    assert client.cookies["edigate_session"] != old
    with ui.state.db.read() as session:
        assert len(session.scalars(select(OpsSession)).all()) == 1
    stale = ui.client()
    stale.cookies.set("edigate_session", old)
    assert stale.get("/ui/messages").status_code == 303


def test_secure_cookie_over_https(ui: UI) -> None:
    """Served over https, the session cookie is marked Secure."""
    from fastapi.testclient import TestClient

    client = TestClient(ui.app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/ui/login")
    response = client.post("/ui/login", data={"username": "vic", "password": "viewer-password-1",
                                              "csrf": ui.csrf_of(page.text)},
                           headers={"Origin": "https://testserver"})
    assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


def test_wrong_password_and_unknown_user_are_refused_alike(ui: UI) -> None:
    """Both answer with the same redirect to the failed login page, set no session, and
    are recorded in the ledger."""
    client = ui.client()
    for user, password in (("vic", "not-the-password"), ("nobody", "whatever-password")):
        response = ui.signin(client, user, password)
        assert response.status_code == 303 and "failed=1" in response.headers["location"]
        assert "edigate_session" not in client.cookies
    with ui.state.db.read() as session:
        events = session.scalars(select(LedgerEntry.event)).all()
    assert events.count("UI_LOGIN_FAILED") == 2


def test_login_form_needs_its_token_and_our_origin(ui: UI) -> None:
    """A login POST without the form's token, or from another origin, signs nobody in."""
    client = ui.client()
    page = client.get("/ui/login")
    bad_token = client.post("/ui/login", data={"username": "vic", "password": "viewer-password-1",
                                               "csrf": "forged"}, headers={"Origin": ORIGIN})
    assert bad_token.status_code == 403
    other_origin = client.post("/ui/login", data={
        "username": "vic", "password": "viewer-password-1", "csrf": ui.csrf_of(page.text)},
        headers={"Origin": "https://evil.example"})
    assert other_origin.status_code == 403 and "edigate_session" not in client.cookies


def test_expired_and_idle_sessions_end(ui: UI) -> None:
    """A session past its expiry, or idle for over an hour, is sent back to the login."""
    client = ui.login("vic")
    assert client.get("/ui/messages").status_code == 200
    with ui.state.db.transaction() as session:
        row = session.scalars(select(OpsSession)).one()
        row.last_seen_at = row.last_seen_at - timedelta(minutes=61)
    assert client.get("/ui/messages").status_code == 303
    client = ui.login("vic")
    with ui.state.db.transaction() as session:
        row = session.scalars(select(OpsSession)).one()
        row.expires_at = row.expires_at - timedelta(hours=13)
    assert client.get("/ui/messages").status_code == 303


def test_logout_ends_the_session_server_side(ui: UI) -> None:
    """After logout the old cookie is worthless even if replayed."""
    client = ui.login("vic")
    cookie = client.cookies["edigate_session"]
    response = ui.post_form(client, "/ui/logout", "/ui/messages")
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    replay = ui.client()
    replay.cookies.set("edigate_session", cookie)
    assert replay.get("/ui/messages").status_code == 303
    with ui.state.db.read() as session:
        assert session.scalars(select(OpsSession)).all() == []


def test_roles_viewer_sees_operator_acts_admin_manages(ui: UI) -> None:
    """A viewer cannot reprocess or open users; an operator can reprocess but not manage
    users; an admin can add a user, who can then sign in."""
    message_id = ui.post_edi(ui.po(101))
    page = f"/ui/messages/{message_id}"
    viewer = ui.login("vic")
    assert 'id="reprocess"' not in viewer.get(page).text
    assert ui.post_form(viewer, f"{page}/reprocess", page).status_code == 403
    assert viewer.get("/ui/users").status_code == 403
    operator = ui.login("olga")
    assert 'id="reprocess"' in operator.get(page).text
    assert ui.post_form(operator, f"{page}/reprocess", page).status_code == 303
    assert operator.get("/ui/users").status_code == 403
    assert ui.post_form(operator, "/ui/users", "/ui/messages", username="eve", role="admin",
                        password="eve-password-123").status_code == 403
    admin = ui.login("ada")
    added = ui.post_form(admin, "/ui/users", "/ui/users", username="newbie", role="viewer",
                         password="newbie-password-1")
    assert added.status_code == 303
    ui.login("newbie", "newbie-password-1")


def test_every_action_checks_the_csrf_token_and_origin(ui: UI) -> None:
    """Reprocess, resend, user changes and logout are refused without the session's token,
    with another session's token, and from another origin; nothing is changed."""
    message_id = ui.post_edi(ui.po(101))
    operator = ui.login("olga")
    admin = ui.login("ada")
    other_token = ui.csrf_of(admin.get("/ui/users").text)
    own_token = ui.csrf_of(operator.get("/ui/messages").text)
    urls = [f"/ui/messages/{message_id}/reprocess", f"/ui/messages/{message_id}/resend-ack",
            "/ui/logout"]
    for url in urls:
        assert operator.post(url, data={}, headers={"Origin": ORIGIN}).status_code == 403
        assert operator.post(url, data={"csrf": other_token},
                             headers={"Origin": ORIGIN}).status_code == 403
        assert operator.post(url, data={"csrf": own_token},
                             headers={"Origin": "http://evil.example"}).status_code == 403
        assert operator.post(url, data={"csrf": own_token}).status_code == 403  # no Origin
    assert admin.post("/ui/users", data={"username": "x1", "role": "admin",
                                         "password": "x1-password-12"},
                      headers={"Origin": ORIGIN}).status_code == 403
    with ui.state.db.read() as session:
        events = session.scalars(select(LedgerEntry.event).where(
            LedgerEntry.message_id == message_id)).all()
        assert "REPROCESS_REQUESTED" not in events and "ACK_RESEND_REQUESTED" not in events
        assert session.scalar(select(OpsUser).where(OpsUser.username == "x1")) is None


def test_disabling_a_user_ends_their_sessions(ui: UI) -> None:
    """An admin disabling a user signs that user out at once."""
    viewer = ui.login("vic")
    admin = ui.login("ada")
    with ui.state.db.read() as session:
        vic_id = session.scalar(select(OpsUser.id).where(OpsUser.username == "vic"))
    response = ui.post_form(admin, f"/ui/users/{vic_id}", "/ui/users", role="viewer",
                            disabled="1")
    assert response.status_code == 303
    assert viewer.get("/ui/messages").status_code == 303


def test_security_headers_on_every_page(ui: UI) -> None:
    """Pages carry a CSP without 'unsafe-inline' and framing/sniffing protections."""
    client = ui.login("vic")
    for url in ("/ui/login", "/ui/messages", "/ui/dashboard"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"


def test_open_redirect_after_login_is_refused(ui: UI) -> None:
    """A next= pointing off-site lands on the message log instead."""
    client = ui.client()
    page = client.get("/ui/login?next=//evil.example/x")
    response = client.post("/ui/login", data={"username": "vic", "password": "viewer-password-1",
                                              "csrf": ui.csrf_of(page.text),
                                              "next": "https://evil.example/"},
                           headers={"Origin": ORIGIN})
    assert response.headers["location"] == "/ui/messages"


def test_cli_adds_a_user_from_stdin(tmp_path: object, monkeypatch: object) -> None:
    """`edigate users add NAME --role R --password-stdin` stores a scrypt hash (never the
    password) and the user can then be listed; a short password is refused with exit 2."""
    import io
    import sys
    from pathlib import Path

    from gateway.runtime.cli import main
    from gateway.store.base import Base
    from gateway.store.db import Database

    mp = monkeypatch
    tmp = Path(str(tmp_path))
    url = f"sqlite:///{tmp / 'cli.db'}"
    database = Database(url)
    Base.metadata.create_all(database.engine)
    database.dispose()
    for name, value in {"EDIGATE_DATABASE_URL": url, "EDIGATE_VAR_DIR": str(tmp),
                        "EDIGATE_LEDGER_KEY_PATH": str(tmp / "ledger.pem")}.items():
        mp.setenv(name, value)  # type: ignore[attr-defined]
    mp.setattr(sys, "stdin", io.StringIO("a-long-password-1\n"))  # type: ignore[attr-defined]
    assert main(["users", "add", "Carol", "--role", "operator", "--password-stdin"]) == 0
    mp.setattr(sys, "stdin", io.StringIO("short\n"))  # type: ignore[attr-defined]
    assert main(["users", "add", "dave", "--role", "viewer", "--password-stdin"]) == 2
    database = Database(url)
    with database.read() as session:
        user = session.scalars(select(OpsUser)).one()
    database.dispose()
    assert user.username == "carol" and user.role == "operator"
    assert user.password_hash.startswith("scrypt$")
    assert "a-long-password-1" not in user.password_hash
    assert verify_password("a-long-password-1", user.password_hash)
