"""The FastAPI application and its background workers.

``create_app(settings)`` builds the state once, mounts the routers, installs the
problem+json handlers and, unless told not to, starts ``settings.workers`` workers
(processes or threads, see ``gateway.runtime.workers``) that process waiting messages, including
those a crashed process left behind. With ``EDIGATE_SFTP_LISTEN`` it also runs edigate's
SFTP server (``gateway.intake.sftp_server``) here, in the web process: one listener per
host (a port has one), beside intake's writer, never in the worker processes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway.api import as2, demand, documents, messages, ops, orders, records, webhooks
from gateway.api import keys as keys_api
from gateway.api.docs import install_docs
from gateway.api.inflight import InflightBodies, InflightLimit
from gateway.api.inputs import InputGuard
from gateway.api.problems import install_problem_handlers
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.runtime.workers import WorkerProcesses, WorkerThreads
from gateway.ui import router as ui_router

__all__ = ["create_app"]

log = logging.getLogger("edigate.app")


def create_app(settings: Settings | None = None, *, state: GatewayState | None = None,
               start_workers: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()
    gateway_state = state or GatewayState.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        count = settings.workers if start_workers else 0
        workers: WorkerProcesses | WorkerThreads
        if settings.worker_mode == "process":
            workers = WorkerProcesses(settings, count)
        else:
            workers = WorkerThreads(gateway_state, count)
        workers.start()
        app.state.workers = workers  # /readyz asks it whether workers fail to start
        gateway_state.pipeline.intake.start()
        sftp = gateway_state.sftp_endpoint()
        if sftp is not None:
            sftp.start()
        app.state.sftp = sftp
        try:
            yield
        finally:
            if sftp is not None:
                sftp.stop()  # before intake closes: a file being received finishes
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
    app.add_middleware(InflightLimit, bodies=InflightBodies(
        settings.max_inflight_bytes, settings.max_inflight_bytes_per_partner))
    install_docs(app)
    app.add_middleware(InputGuard)  # control characters in paths and queries: 400
    app.include_router(messages.router)
    app.include_router(documents.router)
    app.include_router(orders.router)
    app.include_router(demand.router)
    app.include_router(records.router)
    app.include_router(ops.router)
    app.include_router(webhooks.router)
    app.include_router(as2.router)
    app.include_router(keys_api.router)
    app.include_router(ui_router)
    return app
