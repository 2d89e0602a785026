"""Persistence: SQLAlchemy 2.0 models, engine/session setup, Alembic migrations.

SQLite (WAL) is the embedded default, PostgreSQL the production database; the same code
and the same tests run on both.
"""
