"""Alembic environment of the Yinxin registry.

Two ways in:
- programmatic (``registry.db.upgrade``): an open connection in ``config.attributes["connection"]``;
  the caller owns the transaction and commits it;
- command line: ``alembic -c registry/alembic.ini -x url=<database URL> upgrade head`` (or
  ``sqlalchemy.url`` in the ini); this script opens the engine with the registry's own settings.

``--sql`` (offline) mode renders the DDL for a URL's dialect without connecting.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from registry.db import create_engine_for
from registry.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: pass -x url=<database URL>")
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: later revisions rewrite tables in batch mode there.
        render_as_batch=connection.dialect.name == "sqlite",
        # With BEGIN emitted by SQLAlchemy (registry.db), SQLite runs DDL inside the transaction too.
        transactional_ddl=True,
    )


def run_migrations_offline() -> None:
    """Print the migration SQL for the URL's dialect (``alembic upgrade head --sql``)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the connection passed in, or through a new engine for the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = create_engine_for(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
