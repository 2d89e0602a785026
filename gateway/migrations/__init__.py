"""Alembic migrations of the gateway database (run with ``edigate db upgrade``)."""
