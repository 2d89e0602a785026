"""The FastAPI application and its background workers.

``create_app(settings)`` builds the state once, mounts the routers, installs the
problem+json handlers and, unless told not to, starts ``settings.workers`` worker threads
that process waiting messages (including those a crashed process left behind).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway.api import messages, ops, records, webhooks
from gateway.api.docs import install_docs
from gateway.problems import install_problem_handlers
from gateway.settings import Settings
from gateway.state import GatewayState
from gateway.webhooks import Deliverer

__all__ = ["Workers", "create_app"]

log = logging.getLogger("edigate.app")


class Workers:
    """Threads that claim and process messages, and one that delivers webhooks, until
    stopped. With ``count`` 0 (tests, API-only processes) none of them runs."""

    def __init__(self, state: GatewayState, count: int, idle_seconds: float = 0.2,
                 deliverer_idle_seconds: float = 1.0) -> None:
        self.state = state
        self.count = count
        self.idle_seconds = idle_seconds
        self.deliverer_idle_seconds = deliverer_idle_seconds
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.count:
            released = self.state.pipeline.release_dead_local_claims(
                f"worker:{self.state.settings.worker_id}")
            if released:
                log.warning("resuming %d message(s) left by a process that died", released)
        for n in range(self.count):
            name = f"worker:{self.state.settings.worker_id}:{n}"
            thread = threading.Thread(target=self._run, args=(name,), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        if self.count:
            self._start_deliverer()

    def _run(self, name: str) -> None:
        while not self.stop.is_set():
            try:
                result = self.state.pipeline.run_once(name)
            except Exception:  # a worker must outlive a database hiccup
                log.exception("worker %s: claim or process failed", name)
                result = None
            if result is None:
                self.stop.wait(self.idle_seconds)

    # -- webhook deliveries (gateway.webhooks) --------------------------------------------
    def _start_deliverer(self) -> None:
        name = f"deliverer:{self.state.settings.worker_id}"
        thread = threading.Thread(target=self._deliver, args=(name,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _deliver(self, name: str) -> None:
        with Deliverer.from_state(self.state, worker=name) as deliverer:
            while not self.stop.is_set():
                try:
                    tried = deliverer.run_once(limit=20)
                except Exception:  # the deliverer must outlive a database hiccup
                    log.exception("deliverer %s: claim or send failed", name)
                    tried = 0
                if not tried:
                    self.stop.wait(self.deliverer_idle_seconds)

    # ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def create_app(settings: Settings | None = None, *, state: GatewayState | None = None,
               start_workers: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()
    gateway_state = state or GatewayState.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers = Workers(gateway_state, settings.workers if start_workers else 0)
        workers.start()
        try:
            yield
        finally:
            workers.shutdown()
            if state is None:
                gateway_state.close()

    app = FastAPI(
        title="edigate",
        summary="EDI translator and B2B message gateway",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs without a CDN
        redoc_url=None,
    )
    app.state.edigate = gateway_state
    install_problem_handlers(app)
    install_docs(app)
    app.include_router(messages.router)
    app.include_router(records.router)
    app.include_router(ops.router)
    app.include_router(webhooks.router)
    return app
