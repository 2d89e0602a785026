"""The ops UI in a real browser: headless Chromium (Debian's ``chromium`` package) driven
by Playwright against a uvicorn server on an ephemeral port, SQLite, one worker thread.

Screenshots of each step are kept under ``test-artifacts/ui/`` (gitignored). The tests
skip, saying so, only when there is no chromium executable; CI installs it (.ci/run).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from gateway.api.api_keys import issue_key
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.ui.auth import create_user

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                        else None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium executable (apt-get install -y chromium; .ci/run does)")

HOSTILE = ("<script>window.__pwned=1</script>", '"><img src=x onerror=window.__pwned=2>')


@dataclass
class Server:
    url: str
    state: GatewayState
    partner_key: str

    def post(self, body: bytes) -> str:
        response = httpx.post(f"{self.url}/v1/messages", content=body, params={"sync": "true"},
                              headers={"Authorization": f"Bearer {self.partner_key}"},
                              timeout=30)
        assert response.status_code in (200, 202), response.text
        return str(response.json()["message_id"])

    def po(self, control: int, **kw: bool) -> bytes:
        return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401",
                                self.state.settings, control, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ui.db'}",
                        partners_dir=REPO / "partners", var_dir=tmp_path,
                        ledger_key_path=tmp_path / "ledger.pem", workers=1,
                        worker_mode="thread")
    state = GatewayState.build(settings, lease=timedelta(seconds=30))
    Base.metadata.create_all(state.db.engine)
    with state.db.transaction() as session:
        key = issue_key(session, "partner", partner_id="acme-retail")[0]
        create_user(session, "olga", "operator", "operator-password-1")
    port = _free_port()
    config = uvicorn.Config(create_app(settings, state=state), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", state, key)
    uv.should_exit = True
    thread.join(15)
    state.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/messages")
    expect(page).to_have_url(f"{server.url}/ui/login?next=/ui/messages")
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", "operator-password-1")
    shot(page, "01-login")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/ui/messages")


def test_operator_filters_opens_a_rejected_message_and_reprocesses_it(
        server: Server, browser: Browser) -> None:
    """Log in, filter the log to REJECTED, open the rejected message, see BEG01
    highlighted with its element name, reprocess it and see the new status and the
    ledger entry with the operator's name, without reloading by hand."""
    good = server.post(server.po(101))
    bad = server.post(server.po(102, break_it=True))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server)
    expect(page.locator("#log tbody tr")).to_have_count(2)
    page.select_option("select[name=status]", "REJECTED")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#log tbody tr")).to_have_count(1)
    expect(page.locator(f'#log tr[data-id="{bad}"]')).to_be_visible()
    expect(page.locator(f'#log tr[data-id="{good}"]')).to_have_count(0)
    shot(page, "02-log-filtered")
    page.click(f'#log tr[data-id="{bad}"] a')
    expect(page).to_have_url(f"{server.url}/ui/messages/{bad}")
    highlighted = page.locator("#edi .el.bad")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_have_text("ZZZ")
    assert "BEG01 Transaction Set Purpose Code" in (highlighted.get_attribute("title") or "")
    highlighted.hover()
    expect(page.locator("#status .status")).to_have_text("REJECTED")
    shot(page, "03-rejected-detail")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#reprocess")
    expect(page.locator(".alert.ok")).to_contain_text("Reprocessing requested")
    # The worker thread processes it again; the page notices and shows the final state.
    expect(page.locator("#timeline")).to_contain_text("REPROCESS_REQUESTED", timeout=15000)
    expect(page.locator("#timeline")).to_contain_text("ui:olga")
    expect(page.locator("#status .status")).to_have_text("REJECTED", timeout=15000)
    expect(page.locator("#timeline li .event", has_text="PROCESSING")).to_have_count(
        2, timeout=15000)
    expect(page.locator("h2 .badge.good")).to_have_text("verified")
    shot(page, "04-reprocessed")
    assert errors == []


def test_partner_markup_is_shown_as_text_and_never_runs(server: Server, browser: Browser) -> None:
    """EDI whose party name and contact are <script> and an <img onerror> is displayed as
    text on the log and the detail page; no script of it runs (CSP, autoescaping, no
    innerHTML), and the rows that arrive by live update are inert too."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
            else None)
    login(page, server)
    page.evaluate("window.__marker = 'no reload'")
    body = server.po(301)
    body = body.replace(b"ACME RETAIL", HOSTILE[0].encode()).replace(
        b"JANE BUYER", HOSTILE[1].encode()).replace(b"PO-4711", b"<b>PO</b>")
    message_id = server.post(body)
    # Live update: the new row appears at the top without a reload.
    row = page.locator(f'#log tbody tr[data-id="{message_id}"]')
    expect(row).to_be_visible(timeout=15000)
    expect(page.locator("#log tbody tr").first).to_have_attribute("data-id", message_id)
    expect(row).to_contain_text("<b>PO</b>")
    assert page.evaluate("window.__marker") == "no reload"
    shot(page, "05-live-update")
    page.goto(f"{server.url}/ui/messages/{message_id}")
    expect(page.locator("#edi")).to_contain_text(HOSTILE[0])
    expect(page.locator("#edi")).to_contain_text(HOSTILE[1])
    assert page.locator("#edi img").count() == 0 and page.locator("main script").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    shot(page, "06-hostile-detail")
    page.goto(f"{server.url}/ui/dashboard")
    expect(page.locator("figure.chart svg").first).to_be_visible()
    shot(page, "07-dashboard")
    page.goto(f"{server.url}/ui/partners/acme-retail")
    shot(page, "08-partner")
    assert page.evaluate("typeof window.__pwned") == "undefined"
