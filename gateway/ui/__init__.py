"""The ops UI under /ui: server-rendered pages (Jinja2), a stylesheet and one small
script, behind user sign-in with roles (see ``gateway.ui.auth`` and ``gateway.ui.web``)."""

from fastapi import APIRouter

from gateway.ui import order_pages, routes

__all__ = ["router"]

router = APIRouter()
router.include_router(routes.router)
router.include_router(order_pages.router)
