"""Ops UI fixtures: a gateway app on each backend with three users, one per role, and a
client helper that signs in the way a browser does (login form token, Origin header)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from gateway.api.api_keys import issue_key
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.ui.auth import create_user

REPO = Path(__file__).resolve().parents[3]
ORIGIN = "http://testserver"
PASSWORDS = {"vic": "viewer-password-1", "olga": "operator-password-1",
             "ada": "admin-password-123"}
ROLES = {"vic": "viewer", "olga": "operator", "ada": "admin"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class UI:
    state: GatewayState
    app: Any
    keys: dict[str, str]
    clients: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        client.__enter__()
        self.clients.append(client)
        return client

    def login(self, username: str, password: str | None = None) -> TestClient:
        client = self.client()
        response = signin(client, username, password or PASSWORDS[username])
        assert response.status_code == 303 and "failed" not in response.headers["location"]
        return client

    def post_edi(self, data: bytes, key: str = "acme") -> str:
        with TestClient(self.app) as api:
            response = api.post("/v1/messages", content=data, params={"sync": "true"},
                                headers={"Authorization": f"Bearer {self.keys[key]}"})
        assert response.status_code in (200, 202), response.text
        return str(response.json()["message_id"])

    csrf_of = staticmethod(lambda html: csrf_of(html))

    def signin(self, client: TestClient, username: str, password: str) -> Response:
        return signin(client, username, password)

    def post_form(self, client: TestClient, url: str, page_url: str, **data: str) -> Response:
        return post_form(client, url, page_url, **data)

    def po(self, control: int = 101, **kw: bool) -> bytes:
        return demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401",
                                self.state.settings, control, **kw)


def signin(client: TestClient, username: str, password: str) -> Response:
    page = client.get("/ui/login")
    return client.post("/ui/login", data={"username": username, "password": password,
                                          "csrf": csrf_of(page.text), "next": "/ui/messages"},
                       headers={"Origin": ORIGIN})


def post_form(client: TestClient, url: str, page_url: str, **data: str) -> Response:
    """POST a form the way the browser does from ``page_url``: its CSRF token, our Origin."""
    token = csrf_of(client.get(page_url).text)
    return client.post(url, data={"csrf": token, **data}, headers={"Origin": ORIGIN})


@pytest.fixture
def ui(database_url: str, tmp_path: Path) -> Iterator[UI]:
    settings = Settings(database_url=database_url, partners_dir=REPO / "partners",
                        var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem",
                        workers=0, ledger_checkpoint_every=5)
    state = GatewayState.build(settings, lease=timedelta(seconds=30))
    Base.metadata.create_all(state.db.engine)
    keys: dict[str, str] = {}
    with state.db.transaction() as session:
        keys["acme"] = issue_key(session, "partner", partner_id="acme-retail")[0]
        keys["globex"] = issue_key(session, "partner", partner_id="globex-distribution")[0]
        keys["ops"] = issue_key(session, "ops", role="operator")[0]
        for name, role in ROLES.items():
            create_user(session, name, role, PASSWORDS[name])
    env = UI(state, create_app(settings, state=state, start_workers=False), keys)
    yield env
    for client in env.clients:
        client.__exit__(None, None, None)
    state.close()
