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
from sqlalchemy import inspect, text

import registry
from registry import (
    DatabaseUnavailableError,
    Registry,
    RegistryError,
    alembic_config,
    create_engine_for,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from registry.tables import Base

TABLES = {"departments", "certificates", "seals", "license_types", "licenses", "events", "license_type_issuers",
          "license_changes", "import_jobs", "import_rows", "data_key_checks", "principals",
          "status_list_entries", "presentation_tokens", "acceptance_records"}
TABLES_0003 = {"departments", "certificates", "seals", "license_types", "licenses", "events"}


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


def _old_layout_licence(engine) -> None:
    """A department, seal and licence written with the 0003 schema (clear-text holder code)."""
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO departments (id, uscc, name, created_at, algorithm) "
            "VALUES (1, '113300000024821886', '浙江省市场监督管理局', '2025-03-01 08:00:00', 'sm2-sm3')"))
        connection.execute(text(
            "INSERT INTO certificates (id, serial_hex, kind, subject, issuer_subject, der, not_before, not_after,"
            " created_at) VALUES (1, 'ab', 'seal', 'CN=x', 'CN=y', :der, '2025-03-01 08:00:00',"
            " '2026-03-01 08:00:00', '2025-03-01 08:00:00')"), {"der": b"0"})
        connection.execute(text(
            "INSERT INTO seals (id, department_id, name, seal_type, status, key_id, certificate_id, image_png,"
            " image_width_mm, created_at) VALUES ('s1', 1, '公章', '公章', 'active', 'k', 1, :png, 42.0,"
            " '2025-03-01 08:00:00')"), {"png": b"png"})
        connection.execute(text(
            "INSERT INTO license_types (code, slug, name, definer_uscc, definer_name, holder_kind) VALUES"
            " ('11100000000013127D001', 'business-licence', '营业执照', '11100000000013127D', '总局', '001')"))
        connection.execute(text(
            "INSERT INTO licenses (identifier, type_code, department_id, seal_id, serial, version, holder_name,"
            " holder_code, fields_json, status, issued_at, qr_text, pdf, created_at) VALUES ('1.2.156.3005.2.x',"
            " '11100000000013127D001', 1, 's1', 'S', 1, '某某', '91330106MA27XF9B49', '{}', 'active',"
            " '2025-03-01 08:00:00', 'YX1:', :pdf, '2025-03-01 08:00:00')"), {"pdf": b"%PDF"})


def test_upgrade_to_0004_refuses_clear_text_licences_and_changes_nothing(empty_url):
    engine = create_engine_for(empty_url)
    try:
        upgrade(engine, revision="0003")
        assert set(inspect(engine).get_table_names()) == TABLES_0003 | {"alembic_version"}
        _old_layout_licence(engine)
        with pytest.raises(RegistryError, match=r"holds 1 licence\(s\) in the clear-text layout"):
            upgrade(engine)
        # The failed upgrade was one transaction: still at 0003, the licence untouched.
        assert current_revision(engine) == "0003"
        with engine.connect() as connection:
            assert connection.execute(text("SELECT holder_code FROM licenses")).scalar_one() == "91330106MA27XF9B49"
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM licenses"))
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_downgrade_from_0004_keeps_the_other_data_and_refuses_encrypted_licences(
    empty_url, clock, cipher, make_license_on
):
    engine = create_engine_for(empty_url)
    try:
        upgrade(engine)
        registry_ = Registry(engine, clock=clock, cipher=cipher)
        record = make_license_on(registry_)
        with pytest.raises(RegistryError, match="downgrade"):
            downgrade(engine, revision="0003")
        assert current_revision(engine) == head_revision()
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM licenses"))
        downgrade(engine, revision="0003")
        assert current_revision(engine) == "0003"
        assert set(inspect(engine).get_table_names()) == TABLES_0003 | {"alembic_version"}
        columns = {column["name"] for column in inspect(engine).get_columns("licenses")}
        assert {"holder_code", "fields_json", "pdf"} <= columns
        # Departments, seals and types survive the round trip.
        assert [d.uscc for d in Registry(engine).list_departments()] == [record.department_uscc]
        upgrade(engine)
        assert Registry(engine).get_license_type(record.type_code).code == record.type_code
    finally:
        engine.dispose()
