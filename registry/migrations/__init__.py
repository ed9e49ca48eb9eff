"""Alembic migrations of the registry (run by :func:`registry.db.upgrade`)."""
