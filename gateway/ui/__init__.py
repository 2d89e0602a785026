"""The ops UI under /ui: server-rendered pages (Jinja2), a stylesheet and one small
script, behind user sign-in with roles (see ``gateway.ui.auth`` and ``gateway.ui.web``)."""

from gateway.ui.routes import router

__all__ = ["router"]
