"""Database engines and schema migrations for the registry.

Two databases are supported (STYLE.md rule 7: a seam only where a second implementation exists):

- **SQLite** (the embedded default): foreign keys on, write-ahead logging (readers do not block the
  writer), a busy timeout, a 64 MiB page cache, and transactions begun by SQLAlchemy rather than by the ``sqlite3``
  module, so that a writing transaction can take the write lock up front (``BEGIN IMMEDIATE``).
- **PostgreSQL** through psycopg 3 (``postgresql+psycopg://user@host/db``; a bare ``postgresql://``
  URL is taken to mean psycopg 3).

The schema belongs to the Alembic migrations shipped inside this package; :func:`upgrade` finds
them relative to this file, so they run the same from a checkout and from an installed wheel,
whatever the current directory.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from .errors import DatabaseUnavailableError, InvalidValueError, RegistryError

PACKAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"

# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN = "yinxin_sqlite_begin"
_SQLITE_BEGIN_STATEMENTS = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}
# How long a SQLite connection waits for another writer before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 30.0
# Page cache per SQLite connection, in KiB (SQLite's default is 2 MiB). With a million licences the
# indexes are hundreds of MiB; a larger cache made bulk loads ~25 % faster (bench/bench_registry.py).
# Pages are cached as they are read, so a small database uses little of it.
SQLITE_CACHE_KIB = 65536
POSTGRES_CONNECT_TIMEOUT = 10
# pg_advisory_xact_lock key that serialises concurrent migrations (several API workers starting).
_MIGRATION_LOCK_KEY = 0x59584D4947524154  # "YXMIGRAT"


def create_engine_for(url: str | URL, *, echo: bool = False) -> Engine:
    """An :class:`~sqlalchemy.Engine` for a SQLite or PostgreSQL URL, configured for the registry.

    Raises :class:`~registry.errors.InvalidValueError` for any other database or driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidValueError("the database URL cannot be parsed") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.get_driver_name() != "pysqlite":
            raise InvalidValueError("SQLite URLs must use the built-in sqlite3 driver (sqlite:///path)")
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername != "postgresql+psycopg":
            raise InvalidValueError("PostgreSQL URLs must use psycopg 3 (postgresql+psycopg://…)")
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT
        return create_engine(parsed, echo=echo, pool_pre_ping=True, connect_args=connect_args)
    raise InvalidValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _sqlite_on_connect(dbapi_connection: Any, _connection_record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (see _sqlite_on_begin): the module's legacy
    # mode starts transactions late (SELECTs run outside them) and cannot BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        _sqlite_enable_wal(cursor)
    finally:
        cursor.close()


def _sqlite_enable_wal(cursor: Any) -> None:
    # Switching a new database to WAL needs an exclusive lock, and SQLite does not apply the busy
    # timeout to it: a connection opened while another one migrates gets "database is locked" at
    # once. WAL is persistent, so only the first switch can collide; retry it for the busy timeout.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql(_SQLITE_BEGIN_STATEMENTS[mode])


def alembic_config(*, connection: Connection | None = None, url: str | None = None) -> Config:
    """The Alembic configuration of the packaged migrations.

    Pass ``connection`` to migrate on an open connection (the caller owns its transaction), or
    ``url`` to let ``env.py`` open its own engine.
    """
    config = Config(str(ALEMBIC_INI))
    # ConfigParser interpolates "%": escape it in paths and URLs.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships at least one revision
        raise RegistryError("no registry migrations are installed")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for an empty (never migrated) database."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError("the registry database is unavailable") from exc


def upgrade(target: str | URL | Engine, *, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest), creating every table on an empty one.

    Safe to run at every start-up: a database already at ``revision`` is left alone; on PostgreSQL
    concurrent callers wait for each other (advisory lock). The whole upgrade is one transaction.
    """
    _migrate(target, lambda config: command.upgrade(config, revision))


def downgrade(target: str | URL | Engine, *, revision: str) -> None:
    """Migrate the database back to ``revision`` (``"base"`` drops every registry table)."""
    _migrate(target, lambda config: command.downgrade(config, revision))


def _migrate(target: str | URL | Engine, run: Callable[[Config], None]) -> None:
    owned = not isinstance(target, Engine)
    engine = create_engine_for(target) if not isinstance(target, Engine) else target
    try:
        with engine.connect() as connection:
            connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            # The database lock (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL) is taken
            # before Alembic loads env.py: concurrent upgrades then run one after the other, instead
            # of racing on CREATE TABLE (and, within one process, deadlocking on the import lock).
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                run(alembic_config(connection=connection))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError("the registry database could not be migrated") from exc
    finally:
        if owned:
            engine.dispose()
