"""A database outage after start-up: every endpoint that needs the database answers 503
problem+json with Retry-After, never a 500, and no response carries the driver's text.

The outage is real, not a mock: on SQLite the directory holding the database file is
renamed away and the pool emptied, so new connections cannot open it; on PostgreSQL every
new connection goes to a closed port (127.0.0.1:1) and the pool is emptied.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from gateway.api.api_keys import issue_key
from gateway.api.problems import PROBLEM_JSON
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.logging_limits import install_repeat_limit
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base
from gateway.ui.auth import create_user

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "http://testserver"

# What a driver's message about a lost database says; none of it may reach a client. The
# port is matched with what drivers write around it: a bare "5432" also occurs in random ids.
DRIVER_WORDS = ("sqlite", "psycopg", "operationalerror", "unable to open", "refused",
                "connection", ":5432", "port 5432", "127.0.0.1", "edigate.db", "search_path")


@dataclass
class Outage:
    client: TestClient
    state: GatewayState
    keys: dict[str, str]
    secrets: tuple[str, ...]  # strings naming the database (path, schema)

    def call(self, method: str, url: str, key: str | None = None, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys[key]}"
        return self.client.request(method, url, headers=headers, **kw)


def cut_database(state: GatewayState) -> tuple[str, ...]:
    """Make the database unreachable for every new connection, and empty the pool."""
    url = state.db.engine.url
    if state.db.dialect.name == "sqlite":
        assert url.database is not None
        home = Path(url.database).parent
        home.rename(home.with_name(home.name + "-gone"))
        secrets: tuple[str, ...] = (str(home),)
    else:
        @event.listens_for(state.db.engine, "do_connect")
        def _closed_port(_dialect: Any, _record: Any, _cargs: Any,
                         cparams: dict[str, Any]) -> None:
            cparams.update(host="127.0.0.1", port=1)

        secrets = tuple(str(v) for v in url.query.values())
    state.db.engine.dispose()
    return secrets


@pytest.fixture
def outage(database_url: str, tmp_path: Path) -> Iterator[Outage]:
    home = tmp_path / "db"
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{home / 'edigate.db'}"
    settings = Settings(database_url=database_url, partners_dir=REPO / "partners",
                        var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem", workers=0)
    state = GatewayState.build(settings)
    Base.metadata.create_all(state.db.engine)
    keys: dict[str, str] = {}
    with state.db.transaction() as session:
        keys["acme"] = issue_key(session, "partner", partner_id="acme-retail")[0]
        keys["crm"] = issue_key(session, "consumer", scope="crm")[0]
        keys["operator"] = issue_key(session, "ops", role="operator")[0]
        keys["viewer"] = issue_key(session, "ops", role="viewer")[0]
        create_user(session, "olga", "operator", "operator-password-1")
    app = create_app(settings, state=state, start_workers=False)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/ui/login")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed_in = client.post("/ui/login", headers={"Origin": ORIGIN}, data={
            "username": "olga", "password": "operator-password-1", "csrf": token,
            "next": "/ui/messages"})
        assert signed_in.status_code == 303
        # Known keys are cached; the "viewer" key is never used before the outage, so its
        # lookup needs the database.
        for name in ("acme", "crm", "operator"):
            client.get("/v1/ledger/verify",
                       headers={"Authorization": f"Bearer {keys[name]}"})
        secrets = cut_database(state)
        yield Outage(client, state, keys, (*secrets, str(tmp_path)))
    state.close()


def assert_outage_answer(outage: Outage, response: Any) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert response.headers["content-type"] == PROBLEM_JSON
    assert int(response.headers["retry-after"]) > 0
    problem = response.json()
    # Intake names its own 503 when the batch is what fails (the key was cached); either
    # way the partner is told to send again and nothing about the database.
    expected = {"urn:edigate:problem:database-unavailable"}
    if response.request.method == "POST" and response.request.url.path == "/v1/messages":
        expected.add("urn:edigate:problem:intake-unavailable")
    assert problem["type"] in expected, response.text
    text = response.text.lower()
    for word in DRIVER_WORDS + tuple(s.lower() for s in outage.secrets if s):
        assert word not in text, (word, response.text)


def test_every_endpoint_answers_503_during_an_outage(outage: Outage,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Reads, intake, operator actions, the ledger check and the UI pages all answer 503
    problem+json with Retry-After and no driver text while the database is gone; the
    log has the driver's message under the incident id the client was given."""
    edi = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401",
                           outage.state.settings, 101)
    calls: list[tuple[str, str, str | None, dict[str, Any]]] = [
        ("GET", "/v1/messages", "operator", {}),
        ("GET", "/v1/messages", "viewer", {}),  # key lookup itself needs the database
        ("GET", "/v1/messages/m-1", "operator", {}),
        ("GET", "/v1/messages/m-1/raw", "operator", {}),
        ("POST", "/v1/messages/m-1/reprocess", "operator", {}),
        ("POST", "/v1/messages", "acme", {"content": edi}),
        ("GET", "/v1/records", "crm", {}),
        ("GET", "/v1/records/r-1", "crm", {}),
        ("GET", "/v1/ledger/verify", "operator", {}),
        ("GET", "/v1/webhooks", "operator", {}),
        ("GET", "/v1/deliveries", "operator", {}),
        ("GET", "/v1/as2/t-1", "operator", {}),
        ("GET", "/ui/messages", None, {}),
        ("GET", "/ui/dashboard", None, {}),
        ("GET", "/ui/partners", None, {}),
    ]
    with caplog.at_level(logging.ERROR, logger="edigate"):
        for method, url, key, kw in calls:
            response = outage.call(method, url, key, **kw)
            assert_outage_answer(outage, response)
    incident = response.json()["incident"]
    logged = [r.getMessage() for r in caplog.records if incident in r.getMessage()]
    assert logged and "database unavailable" in logged[0]
    # Liveness does not depend on the database.
    assert outage.client.get("/healthz").status_code == 200


def test_readyz_names_no_database_when_unreachable(outage: Outage,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """/readyz (no key) answers 503 'database unreachable' without the database's host,
    port, name or driver text; those are in the log."""
    with caplog.at_level(logging.WARNING, logger="edigate"):
        response = outage.client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database unreachable"}
    text = response.text.lower()
    for word in DRIVER_WORDS + tuple(s.lower() for s in outage.secrets if s):
        assert word not in text, word
    assert any("database unreachable" in r.getMessage() and
               ("unable to open" in r.getMessage() or "refused" in r.getMessage().lower())
               for r in caplog.records)


def test_an_outage_does_not_flood_the_log(outage: Outage,
                                          caplog: pytest.LogCaptureFixture) -> None:
    """With the repeat limit installed (as `edigate serve` does), 40 requests during an
    outage log the database error 5 times, not 40."""
    limiter = install_repeat_limit(5, 3600.0)
    try:
        with caplog.at_level(logging.ERROR, logger="edigate"):
            for _ in range(40):
                assert outage.call("GET", "/v1/messages", "operator").status_code == 503
    finally:
        for name in list(logging.root.manager.loggerDict):
            logger = logging.getLogger(name)
            if limiter in logger.filters:
                logger.removeFilter(limiter)
    logged = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(logged) == 5
