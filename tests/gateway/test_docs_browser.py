"""``/docs`` in a real browser: Debian's chromium driven by Playwright (as in
``tests/gateway/ui/test_browser.py``) against a uvicorn server on an ephemeral port. The
page must render the OpenAPI 3.1 document FastAPI writes, every operation listed, with
every request answered by the gateway itself (no CDN).
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Route, expect, sync_playwright
from swagger_ui_bundle import swagger_ui_path

from gateway.runtime.app import create_app
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                        else None)
browser_test = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium executable (apt-get install -y chromium; .ci/run does)")


def test_the_bundled_swagger_ui_reads_openapi_3_1() -> None:
    """Swagger UI reads OpenAPI 3.1 from 5.0 on; an environment still holding the
    swagger-ui-bundle package (Swagger UI 4) fails here, naming what to install."""
    found = re.fullmatch(r"swagger-ui-(\d+)\.(\d+)\.(\d+)", Path(str(swagger_ui_path)).name)
    assert found, swagger_ui_path
    assert int(found.group(1)) >= 5, (
        f"{swagger_ui_path}: Swagger UI 4 cannot render OpenAPI 3.1; "
        "pip install swagger-ui-bundle-v2 (make reinstalls .venv when pyproject.toml changes)")


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'docs.db'}",
                        partners_dir=REPO / "partners", var_dir=tmp_path,
                        ledger_key_path=tmp_path / "ledger.pem", workers=0,
                        worker_mode="thread")
    state = GatewayState.build(settings)
    Base.metadata.create_all(state.db.engine)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(settings, state=state), host="127.0.0.1",
                                           port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    state.close()


@browser_test
def test_docs_lists_every_operation_with_no_outside_request(base: str) -> None:
    """Swagger UI renders the 3.1 spec: one block per operation, the same (method, path)
    pairs as /openapi.json, no "Unable to render", no page error, no other host asked."""

    spec = httpx.get(f"{base}/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, item in spec["paths"].items()
                  for method in item}
    elsewhere: list[str] = []

    def only_here(route: Route) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:  # a CDN or any other host: refused, and the test fails on it
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", only_here)
            page.goto(f"{base}/docs")
            blocks = page.locator(".opblock-summary")
            expect(blocks).to_have_count(len(operations), timeout=20_000)
            listed = {(block.locator(".opblock-summary-method").inner_text().strip(),
                       block.locator(".opblock-summary-path").inner_text().replace("\u200b", "")
                       .strip()) for block in blocks.all()}
            expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "docs.png"))
        finally:
            browser.close()
    assert listed == operations
    assert ("POST", "/v1/messages") in listed
    assert not elsewhere, elsewhere
    assert not errors, errors
