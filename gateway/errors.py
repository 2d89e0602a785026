"""The error every refusal of the gateway is: a status and a problem type, whatever layer
raises it. The HTTP layer renders it as problem+json (``gateway.api.problems``); the pipeline
and the webhook subscriptions raise it without knowing about HTTP."""

from __future__ import annotations

from typing import Any

__all__ = ["GatewayError"]


class GatewayError(Exception):
    """``status`` is the HTTP status a transport answers with; ``slug`` names the problem
    type (``urn:edigate:problem:<slug>``); ``extra`` adds members to the problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extra = extra
