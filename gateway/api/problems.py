"""RFC 9457 problem details: every error the HTTP API returns is ``application/problem+json``.

Responsible for the ``Problem`` exception routes raise and the handlers that turn it, and
FastAPI's own HTTP and validation errors, and any unexpected exception, into problem
documents. An unexpected exception is logged with an id the client can quote; its details
are never sent.

A database that cannot be reached or cannot take writes (connection refused or lost, disk
full, read-only, pool exhausted) is not a bug of the request: every endpoint answers 503
``database-unavailable`` with ``Retry-After``, so that clients retry instead of giving up.
The driver's text (host, port, database name, SQL) goes to the log with the incident id,
never into the response.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.errors import GatewayError
from gateway.store.dialect import driver_errors

__all__ = ["PROBLEM_JSON", "RETRY_AFTER_SECONDS", "Problem", "database_unavailable",
           "describe_database_error", "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
# What a 503 asks clients to wait (RFC 9110 section 10.2.3) before they try again.
RETRY_AFTER_SECONDS = 5
log = logging.getLogger("edigate.api")

# PostgreSQL SQLSTATE classes and codes that say "the database cannot serve now", not
# "this statement is wrong" (PostgreSQL documentation, Appendix A): connection exception,
# insufficient resources (disk full, out of memory), operator intervention (shutdown,
# cancel), system error; read-only transaction; serialization failure and deadlock.
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
_UNAVAILABLE_SQLSTATES = frozenset({"25006", "40001", "40P01"})


class Problem(GatewayError):
    """An error response raised by a route (any ``GatewayError`` renders the same way)."""


def problem_response(status: int, slug: str, title: str, detail: str, instance: str,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"urn:edigate:problem:{slug}", "title": title, "status": status,
            "detail": detail, "instance": instance, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def database_unavailable(exc: BaseException) -> bool:
    """``exc`` says the database is unreachable or cannot take writes now (a retry later
    may succeed), as opposed to a statement the database refused."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection within the timeout
        return True
    orig: BaseException | None = exc
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(
                exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        orig = exc.orig
    if isinstance(orig, tuple(kind for errors in driver_errors() for kind in errors.unavailable)):
        return True
    sqlstate = getattr(orig, "sqlstate", None)
    return isinstance(sqlstate, str) and (sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
                                          or sqlstate in _UNAVAILABLE_SQLSTATES)


def describe_database_error(exc: BaseException) -> str:
    """One log line for a database error: its class and the driver's message (which may
    name the host, port and database: for the log only, never for a response)."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    text = " ".join(str(orig).split())
    return f"{type(orig).__module__}.{type(orig).__name__}: {text[:500]}"


def database_unavailable_response(request: Request, exc: BaseException) -> JSONResponse:
    """503 problem+json for a database outage; the details go to the log only."""
    incident = str(uuid.uuid4())
    log.error("database unavailable on %s %s (incident %s): %s", request.method,
              request.url.path, incident, describe_database_error(exc))
    return problem_response(503, "database-unavailable", "Database unavailable",
                            f"the gateway cannot use its database at the moment; try again "
                            f"later (incident {incident})", request.url.path,
                            {"Retry-After": str(RETRY_AFTER_SECONDS)}, incident=incident)


def _internal_error(request: Request, exc: BaseException) -> JSONResponse:
    incident = str(uuid.uuid4())
    log.error("unexpected error %s on %s", incident, request.url.path, exc_info=exc)
    return problem_response(500, "internal", "Internal error",
                            f"an unexpected error occurred; quote incident {incident}",
                            request.url.path, incident=incident)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _problem(request: Request, exc: GatewayError) -> JSONResponse:
        headers: dict[str, str] | None = None
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        elif exc.status == 503:  # "not now": say when to come back (RFC 9110, 15.6.4)
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return problem_response(exc.status, exc.slug, exc.title, exc.detail,
                                request.url.path, headers, **exc.extra)

    # Registered by class, so that they run in Starlette's ExceptionMiddleware: unlike the
    # catch-all below (ServerErrorMiddleware), the error is not raised again for the
    # server to log a traceback of every request during an outage.
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            return database_unavailable_response(request, exc)
        return _internal_error(request, exc)

    for kind in (sa_exc.DBAPIError, sa_exc.TimeoutError,
                 *(errors.base for errors in driver_errors())):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem_response(exc.status_code, slug, str(exc.detail), str(exc.detail),
                                request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")}
                  for e in exc.errors()]
        return problem_response(422, "invalid-request", "Invalid request",
                                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                          for e in errors), request.url.path, errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request, exc)
