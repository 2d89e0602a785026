"""/docs served entirely from this machine, and the error answers the OpenAPI document
declares for every operation.

Swagger UI's assets come from the swagger-ui-bundle-v2 package (Swagger UI 5, which reads
the OpenAPI 3.1 that FastAPI writes; Swagger UI 4 shows "Unable to render this definition"),
not a CDN, so the page works on a network with no internet.

The spec FastAPI generates knows only each route's success and its parameter
validation; what every route may also answer is added here, all as RFC 9457 problem
documents: 400 for control characters (``gateway.api.inputs``), 401 and
403 where a key is needed (with the bearer security scheme), 404 where an id is in the
path, 422 in place of FastAPI's own validation shape, 503 when the database is down.
It must not change what a route answers, only describe it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from gateway.api.deps import current_caller
from gateway.api.problems import PROBLEM_JSON

__all__ = ["install_docs"]

_ASSETS = "/_docs-assets"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "Problem",
    "description": "RFC 9457 problem details; some problems add members",
    "required": ["type", "title", "status", "detail"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                   "status": {"type": "integer"}, "detail": {"type": "string"},
                   "instance": {"type": "string"}},
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_BEARER = "apiKey"


def install_docs(app: FastAPI) -> None:
    """Mount the Swagger UI assets, serve /docs with them and complete the spec's error
    responses (call before startup)."""
    app.mount(_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon-32x32.png",
        )

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_problems(generate(), _keyed_operations(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _needs_key(dependant: Dependant) -> bool:
    return any(d.call is current_caller or _needs_key(d) for d in dependant.dependencies)


def _api_routes(app: FastAPI) -> list[APIRoute]:
    try:
        # Newer FastAPI keeps included routers nested; this yields their routes with the
        # paths the app serves them at.
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies included routes into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c.route for c in iter_route_contexts(app.routes) if isinstance(c.route, APIRoute)]


def _keyed_operations(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of every documented route whose dependencies authenticate a key."""
    # The spec writes a path parameter without its convertor ({po_number}, not
    # {po_number:path}): so must the keys looked up in it.
    return {(re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path), method.lower())
            for route in _api_routes(app)
            if route.include_in_schema and _needs_key(route.dependant)
            for method in route.methods or ()}


def _problem(responses: dict[str, Any], status: int, description: str) -> None:
    entry = responses.setdefault(str(status), {"description": description})
    entry["content"] = dict(_PROBLEM_CONTENT)


def _with_problems(spec: dict[str, Any], keyed: set[tuple[str, str]]) -> dict[str, Any]:
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[_BEARER] = {
        "type": "http", "scheme": "bearer", "description": "an API key"}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            add: dict[int, str] = {400: "a control character in the path or query string"}
            if (path, method) in keyed or "401" in responses:
                operation.setdefault("security", [{_BEARER: []}])
                add[401] = "no or unknown key"
                add[403] = "a key of another kind, scope or role"
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                add[404] = "no such object (or not visible to this key)"
            if operation.get("parameters") or "requestBody" in operation:
                add[422] = "invalid parameters or body"
            if path != "/healthz":
                add[503] = "the database is unavailable: try again later"
            for code, description in add.items():
                _problem(responses, code, description)
            for status, entry in responses.items():
                # Every error this API answers is a problem document (gateway.api.problems).
                if status[0] in "45":
                    entry["content"] = dict(_PROBLEM_CONTENT)
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    return spec


