"""Request dependencies: the gateway state and who is calling.

Every route that is not a health probe names the kinds of caller it admits; anything else
is 401 (no or unknown key) or 403 (a key of the wrong kind, scope or role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.api_keys import Caller, authenticate
from gateway.api.problems import Problem
from gateway.runtime.state import GatewayState

__all__ = ["CallerDep", "State", "admit", "caller_of", "get_state", "known_caller", "require"]


async def get_state(request: Request) -> GatewayState:
    # async on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, a hop
    # that costs more than the attribute lookup itself on every request.
    state: GatewayState = request.app.state.edigate
    return state


State = Annotated[GatewayState, Depends(get_state)]


def _lookup(state: GatewayState, token: str) -> Caller | None:
    with state.db.read() as session:
        return authenticate(session, token)


async def known_caller(state: GatewayState, token: str) -> Caller | None:
    """The caller ``token`` belongs to, from the key cache or the database (then cached)."""
    caller = state.keys.get(token)
    if caller is None:
        # Read before the lookup: a revocation committed meanwhile keeps it out of the cache.
        generation = state.keys.generation()
        caller = await run_in_threadpool(_lookup, state, token)
        if caller is not None:
            state.keys.put(token, caller, generation)
    return caller


async def current_caller(request: Request, state: State) -> Caller:
    return await caller_of(request, state)


async def caller_of(request: Request, state: GatewayState) -> Caller:
    """Who sent ``request`` (401 when nobody known); usable without dependency injection."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthenticated", "Authentication required",
                      "send an API key as 'Authorization: Bearer <key>'")
    caller = await known_caller(state, token.strip())
    if caller is None:
        raise Problem(401, "unauthenticated", "Unknown API key",
                      "the API key is not known or has been revoked")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]

_ROLE_RANK = {"viewer": 1, "operator": 2, "admin": 3}


def require(*, partner: bool = False, consumer: bool = False,
            ops_role: str | None = None) -> Callable[..., object]:
    """A dependency admitting partners, consumers and/or ops keys of at least ``ops_role``."""

    async def check(caller: CallerDep) -> Caller:
        return admit(caller, partner=partner, consumer=consumer, ops_role=ops_role)

    return check


def admit(caller: Caller, *, partner: bool = False, consumer: bool = False,
          ops_role: str | None = None) -> Caller:
    """``caller`` if it is one of the admitted kinds (and role), else 403."""
    if caller.kind == "partner" and partner:
        return caller
    if caller.kind == "consumer" and consumer:
        return caller
    if caller.kind == "ops" and ops_role is not None and \
            _ROLE_RANK.get(caller.role or "", 0) >= _ROLE_RANK[ops_role]:
        return caller
    raise Problem(403, "forbidden", "Not allowed",
                  f"a {caller.kind} key{f' with role {caller.role}' if caller.role else ''}"
                  " may not use this endpoint")
