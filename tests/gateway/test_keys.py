"""API keys: listing and revoking them (CLI and /v1/keys), and revocation that takes effect
at once in every process, whatever the key cache holds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.api.api_keys import (
    STAMP_NAME,
    Caller,
    KeyCache,
    RevocationStamp,
    issue_key,
    revoke_key,
)
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.app import create_app
from gateway.runtime.cli import main
from gateway.runtime.state import GatewayState
from gateway.store.models import ApiKey

REPO = Path(__file__).resolve().parents[2]
# An endpoint each kind of key may read: the request only has to authenticate.
_READ = {"partner": "/v1/messages?limit=1", "ops": "/v1/messages?limit=1",
         "consumer": "/v1/records?limit=1"}


@dataclass
class Env:
    state: GatewayState
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def issue(self, name: str, kind: str, **values: str) -> str:
        with self.state.db.transaction() as session:
            token, row = issue_key(session, kind, **values)  # type: ignore[arg-type]
        self.tokens[name], self.ids[name] = token, row.id
        return token

    def get(self, url: str, name: str) -> Any:
        return self.client.get(url, headers={"Authorization": f"Bearer {self.tokens[name]}"})

    def post(self, url: str, name: str) -> Any:
        return self.client.post(url, headers={"Authorization": f"Bearer {self.tokens[name]}"})


@pytest.fixture
def env(build_state: Callable[..., GatewayState]) -> Iterator[Env]:
    state = build_state()
    with TestClient(create_app(state.settings, state=state, start_workers=False)) as client:
        env = Env(state, client)
        env.issue("acme", "partner", partner_id="acme-retail", label="acme AS2 box")
        env.issue("globex", "partner", partner_id="globex-distribution")
        env.issue("crm", "consumer", scope="crm", label="CRM sync")
        env.issue("viewer", "ops", role="viewer")
        env.issue("operator", "ops", role="operator", label="on-call")
        env.issue("admin", "ops", role="admin")
        _wait_listening(state.keys)
        yield env


def _wait_listening(cache: KeyCache) -> None:
    """On PostgreSQL the cache is off until its revocation listener has connected."""
    deadline = time.monotonic() + 30
    while cache.generation() is None:
        assert time.monotonic() < deadline, "the revocation listener never connected"
        time.sleep(0.01)


def _ledger(state: GatewayState, event: str) -> list[LedgerEntry]:
    with state.db.read() as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.event == event)))


def _cli_env(monkeypatch: pytest.MonkeyPatch, state: GatewayState) -> None:
    """Point the CLI (which builds a GatewayState of its own) at ``state``'s database and
    var directory."""
    for key, value in state.settings.to_env(exclude={"worker_id"}).items():
        monkeypatch.setenv(key, value)


# ------------------------------------------------------------------------- the ops API


def test_listing_keys_needs_an_operator_and_never_shows_a_hash(env: Env) -> None:
    """GET /v1/keys lists every kind with id, owner, label, prefix and times, never the
    hash; viewers, partners and consumers get 403; kind, partner and revoked filter."""
    for name in ("viewer", "acme", "crm"):
        response = env.get("/v1/keys", name)
        assert response.status_code == 403, name
        assert response.headers["content-type"] == "application/problem+json"
    response = env.get("/v1/keys", "operator")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["id"] for i in items} == set(env.ids.values())
    acme = next(i for i in items if i["id"] == env.ids["acme"])
    assert acme == {"id": env.ids["acme"], "kind": "partner", "partner_id": "acme-retail",
                    "scope": None, "can_send": False, "role": None, "label": "acme AS2 box",
                    "prefix": env.tokens["acme"][:12], "created_at": acme["created_at"],
                    "revoked_at": None}
    assert "sha256" not in response.text and env.tokens["acme"] not in response.text
    with env.state.db.read() as session:
        digests = list(session.scalars(select(ApiKey.key_sha256)))
    assert not any(d in response.text for d in digests)
    ops = env.get("/v1/keys?kind=ops", "admin").json()["items"]
    assert {i["role"] for i in ops} == {"viewer", "operator", "admin"}
    only = env.get("/v1/keys?partner=globex-distribution", "admin").json()["items"]
    assert [i["id"] for i in only] == [env.ids["globex"]]
    assert env.get("/v1/keys?revoked=true", "admin").json()["items"] == []
    assert env.get("/v1/keys?kind=robot", "admin").status_code == 422
    # A NUL never reaches the route: gateway.api.inputs refuses it for every route (400).
    assert env.get("/v1/keys?partner=a%00b", "admin").status_code == 400


def test_revoking_over_the_api_is_immediate_idempotent_and_recorded(env: Env) -> None:
    """POST /v1/keys/{id}/revoke: the key, used a moment ago (so cached), is refused on
    its very next request; a second revoke answers the same and writes nothing more; the
    ledger names the operator."""
    assert env.get(_READ["partner"], "acme").status_code == 200
    assert env.get(_READ["partner"], "acme").status_code == 200  # a cache hit
    assert env.state.keys.get(env.tokens["acme"]) is not None
    first = env.post(f"/v1/keys/{env.ids['acme']}/revoke", "operator")
    assert first.status_code == 200 and first.json()["revoked_at"] is not None
    refused = env.get(_READ["partner"], "acme")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    again = env.post(f"/v1/keys/{env.ids['acme']}/revoke", "operator")
    assert again.status_code == 200 and again.json() == first.json()
    entries = _ledger(env.state, "KEY_REVOKED")
    assert len(entries) == 1
    assert entries[0].actor == f"ops:operator:{env.ids['operator'][:8]}"
    assert env.get(_READ["partner"], "globex").status_code == 200  # only that key
    listed = env.get("/v1/keys?revoked=true", "operator").json()["items"]
    assert [i["id"] for i in listed] == [env.ids["acme"]]


@pytest.mark.parametrize("key_id", ["no-such-key", "7" * 37])
def test_revoking_an_unknown_key_is_404(env: Env, key_id: str) -> None:
    """An id that is no key (unknown, too long) is 404 problem+json; one with a NUL is
    refused before routing (400, tests/gateway/test_api.py)."""
    response = env.post(f"/v1/keys/{key_id}/revoke", "admin")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:edigate:problem:not-found"


def test_operators_revoke_but_not_admin_keys(env: Env) -> None:
    """An operator may revoke partner, consumer and operator keys but not an admin's (403);
    an admin may; a viewer may revoke nothing."""
    assert env.post(f"/v1/keys/{env.ids['crm']}/revoke", "viewer").status_code == 403
    assert env.post(f"/v1/keys/{env.ids['admin']}/revoke", "operator").status_code == 403
    assert env.get("/v1/keys", "admin").status_code == 200
    assert env.post(f"/v1/keys/{env.ids['crm']}/revoke", "operator").status_code == 200
    assert env.get(_READ["consumer"], "crm").status_code == 401
    assert env.post(f"/v1/keys/{env.ids['viewer']}/revoke", "admin").status_code == 200
    assert env.get(_READ["ops"], "viewer").status_code == 401


# ------------------------------------------------------------------------- the CLI


def test_cli_lists_and_revokes_keys(env: Env, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`keys list` shows every kind with prefix and label and no hash, filtered by kind and
    partner; `keys revoke` writes revoked_at and a ledger entry by `cli`, says so when the
    key already was revoked, and fails with exit 2 for an unknown id."""
    _cli_env(monkeypatch, env.state)
    assert main(["keys", "list"]) == 0
    out = capsys.readouterr().out
    for name, token in env.tokens.items():
        assert env.ids[name] in out and token[:12] in out and token not in out
    assert "role=operator" in out and "scope=crm" in out and "on-call" in out
    assert main(["keys", "list", "--kind", "partner", "--partner", "acme-retail"]) == 0
    out = capsys.readouterr().out
    assert env.ids["acme"] in out and env.ids["globex"] not in out and env.ids["crm"] not in out
    assert main(["keys", "revoke", env.ids["crm"]]) == 0
    assert "revoked at" in capsys.readouterr().out
    assert main(["keys", "revoke", env.ids["crm"]]) == 0
    assert "already revoked" in capsys.readouterr().out
    assert main(["keys", "revoke", "nope"]) == 2
    assert "no API key 'nope'" in capsys.readouterr().err
    assert main(["keys", "list", "--revoked", "--json"]) == 0
    import json

    items = json.loads(capsys.readouterr().out)["items"]
    assert [i["id"] for i in items] == [env.ids["crm"]] and items[0]["revoked_at"]
    assert [e.actor for e in _ledger(env.state, "KEY_REVOKED")] == ["cli"]


def test_cli_revocation_stops_a_cached_key_in_the_server_at_once(
        env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A key the server has cached is refused on the very next request after `edigate keys
    revoke` ran in another GatewayState (its own database connections and its own mapping
    of the stamp file), with no TTL to wait out."""
    for name in ("acme", "crm", "operator"):
        url = _READ[{"acme": "partner", "crm": "consumer", "operator": "ops"}[name]]
        assert env.get(url, name).status_code == 200
        assert env.state.keys.get(env.tokens[name]) is not None  # cached
    _cli_env(monkeypatch, env.state)
    for name, url in (("acme", _READ["partner"]), ("crm", _READ["consumer"]),
                      ("operator", _READ["ops"])):
        assert main(["keys", "revoke", env.ids[name]]) == 0
        assert env.get(url, name).status_code == 401, name
    assert env.get(_READ["partner"], "globex").status_code == 200


def test_revocation_from_a_real_subprocess_is_seen_at_once(env: Env) -> None:
    """The same with `python -m gateway.runtime.cli keys revoke` as a separate OS process."""
    assert env.get(_READ["partner"], "acme").status_code == 200
    assert env.state.keys.get(env.tokens["acme"]) is not None
    child_env = {**os.environ, **env.state.settings.to_env(exclude={"worker_id"}),
                 "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "gateway.runtime.cli", "keys", "revoke",
                           env.ids["acme"]], env=child_env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert env.get(_READ["partner"], "acme").status_code == 401


def test_revocation_from_another_host_arrives_by_notify(
        env: Env, build_state: Callable[..., GatewayState], tmp_path: Path) -> None:
    """PostgreSQL: a revocation committed by a process with another var directory (another
    host: the stamp file is not shared) reaches the server's cache by NOTIFY, which then
    refuses the key."""
    if env.state.db.dialect.name == "sqlite":
        pytest.skip("SQLite databases are not shared between hosts")
    cache = env.state.keys
    assert env.get(_READ["partner"], "acme").status_code == 200
    assert cache.get(env.tokens["acme"]) is not None
    before = cache.generation()
    other = build_state(var_dir=tmp_path / "other-host")
    with other.db.transaction() as session:
        assert revoke_key(session, other.ledger, env.ids["acme"], actor="cli") is not None
    deadline = time.monotonic() + 30
    while cache.generation() == before:  # delivered at the commit, read by a thread
        assert time.monotonic() < deadline, "no notification arrived"
        time.sleep(0.01)
    assert env.get(_READ["partner"], "acme").status_code == 401


# ------------------------------------------------------------------------- the cache


def test_a_lookup_that_raced_a_revocation_is_not_cached(tmp_path: Path) -> None:
    """A caller found by a lookup that began before a revocation was announced is not
    kept, and an announced revocation empties what was kept before."""
    cache = KeyCache(stamp=RevocationStamp(tmp_path / STAMP_NAME))
    revoker = RevocationStamp(tmp_path / STAMP_NAME)  # another process's mapping
    caller = Caller(key_id="k", kind="partner", partner_id="acme-retail")
    token = "edg_p_" + "x" * 40
    before = cache.generation()
    assert revoker.bump()
    cache.put(token, caller, before)
    assert cache.get(token) is None
    cache.put(token, caller, cache.generation())
    assert cache.get(token) == caller
    assert revoker.bump()
    assert cache.get(token) is None
    cache.put(token, caller, cache.generation())
    assert cache.get(token) == caller
    cache.close()
    revoker.close()


def test_without_a_usable_stamp_nothing_is_cached(tmp_path: Path) -> None:
    """When the stamp file cannot be mapped (the var directory is not writable), the cache
    is off: every request goes to the database rather than risk a revoked key."""
    (tmp_path / "var").write_text("a file where the directory should be")
    cache = KeyCache(stamp=RevocationStamp(tmp_path / "var" / STAMP_NAME))
    caller = Caller(key_id="k", kind="partner", partner_id="acme-retail")
    cache.put("edg_p_" + "y" * 40, caller)
    assert cache.generation() is None and cache.get("edg_p_" + "y" * 40) is None
    assert cache.revoked() is not None
