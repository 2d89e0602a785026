"""Request body bytes in flight are capped per partner and in total: past a cap a request
answers 503 problem+json with Retry-After before its body is read, and what a request
reserved is given back when it ends, however it ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.api.api_keys import issue_key
from gateway.api.inflight import InflightBodies, account_of
from gateway.api.problems import PROBLEM_JSON
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.state import GatewayState

PARTNERS = {"acme": ("acme-retail", "acme-850.edi", "ZZ", "ACMERETAIL", "00401"),
            "globex": ("globex-distribution", "globex-856.edi", "01", "123456789", "00501")}


def bodies_of(app: FastAPI) -> InflightBodies:
    found = [m.kwargs["bodies"] for m in app.user_middleware if "bodies" in m.kwargs]
    assert len(found) == 1
    bodies: InflightBodies = found[0]
    return bodies


class Gateway:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        with state.db.transaction() as session:
            self.keys = {name: issue_key(session, "partner", partner_id=pid)[0]
                         for name, (pid, *_) in PARTNERS.items()}
        self.app = create_app(state.settings, state=state, start_workers=False)
        self.controls = iter(range(500, 10_000))

    def edi(self, partner: str) -> bytes:
        _, sample, qualifier, sender, version = PARTNERS[partner]
        return demo_interchange(sample, qualifier, sender, version, self.state.settings,
                                next(self.controls))

    def headers(self, partner: str, size: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[partner]}",
                "Content-Length": str(size)}


def size_of(state: GatewayState) -> int:
    return max(len(demo_interchange(sample, qualifier, sender, version, state.settings, 9999))
               for _, sample, qualifier, sender, version in PARTNERS.values())


async def held_post(client: httpx.AsyncClient, gateway: Gateway, partner: str,
                    release: asyncio.Event) -> tuple[asyncio.Task[httpx.Response],
                                                     asyncio.Event]:
    """A post whose body stops after its first bytes until ``release`` is set; returns
    once the route is reading it (the middleware has let it in)."""
    body = gateway.edi(partner)
    reading = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:64]
        reading.set()  # asked for more: the first bytes were taken by the route
        await release.wait()
        yield body[64:]

    task = asyncio.create_task(client.post("/v1/messages", content=chunks(),
                                           headers=gateway.headers(partner, len(body))))
    await asyncio.wait_for(reading.wait(), 30)
    return task, reading


async def post(client: httpx.AsyncClient, gateway: Gateway, partner: str) -> httpx.Response:
    body = gateway.edi(partner)
    return await client.post("/v1/messages", content=body,
                             headers=gateway.headers(partner, len(body)))


def assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "urn:edigate:problem:busy"
    assert int(response.headers["retry-after"]) > 0


async def run(gateway: Gateway, scenario: Callable[[httpx.AsyncClient], Any]) -> None:
    async with gateway.app.router.lifespan_context(gateway.app):
        transport = httpx.ASGITransport(app=gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await scenario(client)


@pytest.mark.parametrize("other", ["acme", "globex"])
def test_a_second_body_past_the_cap_waits_for_the_first(
        build_state: Callable[..., GatewayState], other: str) -> None:
    """With room for one body per partner (acme then acme) or in total (acme then
    globex), a second body while the first is in flight gets 503 busy; after the first
    is answered the next one is accepted, and nothing stays counted."""
    probe = build_state()
    room = size_of(probe) + 100
    caps = ({"max_inflight_bytes_per_partner": room} if other == "acme"
            else {"max_inflight_bytes": room})
    gateway = Gateway(build_state(**caps))
    bodies = bodies_of(gateway.app)

    async def scenario(client: httpx.AsyncClient) -> None:
        release = asyncio.Event()
        first, _ = await held_post(client, gateway, "acme", release)
        assert bodies.held() > 0
        assert_busy(await post(client, gateway, other))
        release.set()
        assert (await first).status_code == 202
        assert bodies.held() == 0
        assert (await post(client, gateway, other)).status_code == 202

    asyncio.run(run(gateway, scenario))
    assert bodies.held() == 0


def test_a_partner_past_its_cap_does_not_block_another(
        build_state: Callable[..., GatewayState]) -> None:
    """The per-partner cap is per partner: acme's body in flight does not refuse
    globex's."""
    gateway = Gateway(build_state(max_inflight_bytes_per_partner=size_of(build_state()) + 100))

    async def scenario(client: httpx.AsyncClient) -> None:
        release = asyncio.Event()
        first, _ = await held_post(client, gateway, "acme", release)
        assert (await post(client, gateway, "globex")).status_code == 202
        release.set()
        assert (await first).status_code == 202

    asyncio.run(run(gateway, scenario))


def test_a_client_that_goes_away_gives_its_bytes_back(
        build_state: Callable[..., GatewayState]) -> None:
    """A body cut off by the client (http.disconnect mid-body) releases its reservation:
    the next body that needs the whole cap is accepted."""
    gateway = Gateway(build_state(max_inflight_bytes=size_of(build_state()) + 100))
    bodies = bodies_of(gateway.app)
    body = gateway.edi("acme")

    async def scenario(client: httpx.AsyncClient) -> None:
        messages = [{"type": "http.request", "body": body[:64], "more_body": True},
                    {"type": "http.disconnect"}]

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(_message: Any) -> None:
            pass

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/v1/messages",
                 "raw_path": b"/v1/messages", "query_string": b"", "root_path": "",
                 "client": ("127.0.0.1", 5000), "server": ("test", 80),
                 "headers": [(k.lower().encode(), v.encode())
                             for k, v in gateway.headers("acme", len(body)).items()]}
        with contextlib.suppress(Exception):  # the route sees the client gone
            await gateway.app(scope, receive, send)
        assert bodies.held() == 0
        assert (await post(client, gateway, "acme")).status_code == 202

    asyncio.run(run(gateway, scenario))


def test_a_body_of_unknown_length_is_counted_as_it_arrives(
        build_state: Callable[..., GatewayState]) -> None:
    """A chunked body (no Content-Length) reserves chunk by chunk: past the cap the route
    reading it answers 503 busy, and its bytes are released."""
    gateway = Gateway(build_state(max_inflight_bytes=size_of(build_state()) + 100))
    bodies = bodies_of(gateway.app)

    async def scenario(client: httpx.AsyncClient) -> None:
        release = asyncio.Event()
        first, _ = await held_post(client, gateway, "acme", release)
        body = gateway.edi("globex")

        async def chunks() -> AsyncIterator[bytes]:
            for at in range(0, len(body), 256):
                yield body[at:at + 256]

        response = await client.post("/v1/messages", content=chunks(), headers={
            "Authorization": f"Bearer {gateway.keys['globex']}"})
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert_busy(response)
        release.set()
        assert (await first).status_code == 202
        assert bodies.held() == 0

    asyncio.run(run(gateway, scenario))


def test_a_body_larger_than_a_cap_is_too_large(
        build_state: Callable[..., GatewayState]) -> None:
    """A declared length no cap can ever hold is 413, not a 503 to retry forever."""
    gateway = Gateway(build_state(max_inflight_bytes_per_partner=1000))

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/messages", content=b"x" * 2000,
                                     headers=gateway.headers("acme", 2000))
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM_JSON

    asyncio.run(run(gateway, scenario))


def test_accounts(build_state: Callable[..., GatewayState]) -> None:
    """Bodies count against the partner of the key or of a known AS2-From; every unknown
    AS2-From shares one account; an unknown key is its own account."""
    gateway = Gateway(build_state())
    state = gateway.state
    as2_name = next(p.as2.as2_id for p in state.registry.all() if p.as2 is not None)
    partner = state.registry.by_as2(as2_name)
    assert partner is not None

    def account(path: str, **headers: str) -> str | None:
        scope = {"path": path, "headers": [(k.encode(), v.encode())
                                           for k, v in headers.items()]}
        return asyncio.run(account_of(scope, state))

    assert account("/as2", **{"as2-from": as2_name}) == f"partner:{partner.id}"
    assert account("/as2", **{"as2-from": '"nobody-1"'}) == \
        account("/as2", **{"as2-from": "nobody-2"}) == "as2:unknown"
    token = gateway.keys["acme"]
    assert state.keys.get(token) is None
    assert account("/v1/messages", authorization=f"Bearer {token}") == "partner:acme-retail"
    assert account("/v1/messages", authorization=f"Bearer {token}") == "partner:acme-retail"
    unknown = account("/v1/messages", authorization="Bearer edg_p_not-a-key-at-all-xyz")
    assert unknown is not None and unknown.startswith("key:") and "not-a-key" not in unknown
    assert account("/ui/login") is None
