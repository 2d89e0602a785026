"""RFC 9457 problem details: every error the HTTP API returns is ``application/problem+json``.

Responsible for the ``Problem`` exception routes raise and the handlers that turn it, and
FastAPI's own HTTP and validation errors, and any unexpected exception, into problem
documents. An unexpected exception is logged with an id the client can quote; its details
are never sent.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.errors import GatewayError

__all__ = ["PROBLEM_JSON", "Problem", "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("edigate.api")


class Problem(GatewayError):
    """An error response raised by a route (any ``GatewayError`` renders the same way)."""


def problem_response(status: int, slug: str, title: str, detail: str, instance: str,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"urn:edigate:problem:{slug}", "title": title, "status": status,
            "detail": detail, "instance": instance, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _problem(request: Request, exc: GatewayError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(exc.status, exc.slug, exc.title, exc.detail,
                                request.url.path, headers, **exc.extra)

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
        incident = str(uuid.uuid4())
        log.exception("unexpected error %s on %s", incident, request.url.path)
        return problem_response(500, "internal", "Internal error",
                                f"an unexpected error occurred; quote incident {incident}",
                                request.url.path, incident=incident)
