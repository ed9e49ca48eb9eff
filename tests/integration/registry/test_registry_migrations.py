"""The packaged Alembic migrations build, on an empty SQLite or PostgreSQL database, exactly the
schema the models describe, from any working directory, programmatically and from the command line."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import registry
from registry import (
    DatabaseUnavailableError,
    Registry,
    alembic_config,
    create_engine_for,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from registry.tables import Base

TABLES = {"departments", "certificates", "seals", "license_types", "licenses", "events"}


def test_upgrade_builds_the_schema_of_the_models(empty_url):
    engine = create_engine_for(empty_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_upgrade_again_keeps_the_data(empty_url, clock):
    engine = create_engine_for(empty_url)
    try:
        upgrade(engine)
        Registry(engine, clock=clock).add_department(uscc="113300000024821886", name="浙江省市场监督管理局")
        upgrade(engine)
        assert [d.uscc for d in Registry(engine).list_departments()] == ["113300000024821886"]
    finally:
        engine.dispose()


def test_upgrade_from_a_url_in_another_working_directory(empty_url, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = empty_url.render_as_string(hide_password=False)
    upgrade(url)
    engine = create_engine_for(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    # The migrations are found next to the package, not through the working directory.
    script_location = Path(alembic_config().get_main_option("script_location") or "")
    assert script_location.is_absolute()
    assert script_location.parent == Path(registry.__file__).resolve().parent
    assert list(elsewhere.iterdir()) == []


def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(empty_url):
    engine = create_engine_for(empty_url)
    try:
        upgrade(engine)
        downgrade(engine, revision="base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_alembic_command_line_migrates_with_the_packaged_ini(empty_url, tmp_path):
    url = empty_url.render_as_string(hide_password=False)
    ini = Path(registry.__file__).resolve().parent / "alembic.ini"
    completed = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"url={url}", "upgrade", "head"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    engine = create_engine_for(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_database_that_was_never_migrated_is_reported_as_such(empty_url):
    engine = create_engine_for(empty_url)
    try:
        with pytest.raises(DatabaseUnavailableError, match="not been initialised"):
            Registry(engine).list_departments()
    finally:
        engine.dispose()


def test_workers_starting_together_migrate_once(empty_url):
    # Several API workers run upgrade() at start-up at the same moment.
    url = empty_url.render_as_string(hide_password=False)
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def worker() -> None:
        try:
            start.wait()
            upgrade(url)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    # Daemon threads and a bounded wait: a deadlock fails the test instead of hanging the run.
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "concurrent upgrades deadlocked"
    assert errors == []
    engine = create_engine_for(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
