"""Issue 4 acceptance at the edges: concurrent issuance on PostgreSQL, a killed import resumed, no ID number in a
database dump."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from api.service import ForbiddenError, TrustService
from api.settings import load_settings
from issuance.identifier import resident_id_check_character

YINXIN = str(Path(sys.executable).parent / "yinxin")
PASSPHRASE = "registry scale passphrase"
ENV = {**os.environ, "YINXIN_PASSPHRASE": PASSPHRASE}
DEPT = ("11330100002500295Y", "示范市公安局")
PER_PROCESS = int(os.environ.get("YINXIN_TEST_ISSUE_COUNT", "1000"))
POSTGRES = os.environ.get("YINXIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def id_number(n: int) -> str:
    """A valid GB 11643 number for the n-th test holder (born 1980-01-01 + n days)."""
    birth = (datetime(1980, 1, 1) + timedelta(days=n % 9000)).strftime("%Y%m%d")
    first17 = f"330106{birth}{n % 1000:03d}"
    return first17 + resident_id_check_character(first17)


def fields_for(n: int) -> dict[str, str]:
    number = id_number(n)
    sex = "男" if int(number[16]) % 2 else "女"
    return {"name": f"测试{n}", "sex": sex, "ethnicity": "汉",
            "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}", "address": "浙江省示范市",
            "holder_id_number": number, "issuing_authority": "示范市公安局", "valid_from": "2020-01-01",
            "valid_until": "2040-01-01"}


def prepare_home(home: Path, database_url: str | None = None) -> TrustService:
    environ = {"YINXIN_DATABASE_URL": database_url} if database_url else {}
    service = TrustService.open(load_settings(home, environ), passphrase=lambda: PASSPHRASE)
    service.initialise()
    service.add_department(uscc=DEPT[0], name=DEPT[1])
    service.create_seal(uscc=DEPT[0])
    service.set_issuer(license_type="resident-id", uscc=DEPT[0], allowed=True, actor="test")
    return service


def _issue_many(home: str, database_url: str, start: int, count: int, out: Any) -> None:
    service = TrustService.open(load_settings(Path(home), {"YINXIN_DATABASE_URL": database_url}),
                                passphrase=lambda: PASSPHRASE)
    identifiers = [service.issue_license(department_uscc=DEPT[0], license_type="resident-id",
                                         fields=fields_for(n), actor=f"worker-{start}").identifier
                   for n in range(start, start + count)]
    out.put(identifiers)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"yinxin_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_four_processes_issue_concurrently_on_postgres(tmp_path: Path, pg_schema: str) -> None:
    service = prepare_home(tmp_path / "home", pg_schema)
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_issue_many, args=(str(tmp_path / "home"), pg_schema, i * PER_PROCESS,
                                                          PER_PROCESS, out)) for i in range(4)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    identifiers = [i for batch in results for i in batch]
    assert len(identifiers) == 4 * PER_PROCESS
    assert len(set(identifiers)) == 4 * PER_PROCESS
    with create_engine(pg_schema).connect() as connection:
        stored = set(connection.execute(text("SELECT identifier FROM licenses")).scalars())
    assert stored == set(identifiers)
    for identifier in identifiers:  # every one retrievable through the registry
        assert service.registry.get_license(identifier).status == "active"
    for identifier in identifiers[:: max(1, PER_PROCESS // 10)]:
        assert service.get_license(identifier).pdf.startswith(b"%PDF-")
    assert service.registry.verify_event_chain() == []
    # A plain-text dump of the database holds no holder ID number.
    dump = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--data-only", "--schema", pg_schema.rsplit("%3D", 1)[1],
         "test"], capture_output=True, text=True, check=True).stdout
    assert "INSERT" in dump or "COPY" in dump
    for n in (0, PER_PROCESS, 4 * PER_PROCESS - 1):
        number = id_number(n)
        assert number not in dump
        assert number.encode().hex() not in dump


def test_sqlite_dump_holds_no_id_number(tmp_path: Path) -> None:
    service = prepare_home(tmp_path / "home")
    for n in range(3):
        service.issue_license(department_uscc=DEPT[0], license_type="resident-id", fields=fields_for(n),
                              actor="test")
    connection = sqlite3.connect(tmp_path / "home" / "yinxin.db")
    dump = "\n".join(connection.iterdump())
    connection.close()
    for n in range(3):
        assert id_number(n) not in dump
        assert id_number(n).encode().hex().upper() not in dump.upper()
    assert fields_for(0)["address"] not in dump
    # ... while the holder can still be found through the blind index.
    found = service.share_query(caller="test", holder_code=id_number(1), holder_code_type="111",
                                type_code="resident-id", purpose="测试")
    assert [r.holder_name for r in found] == ["测试1"]


def test_expired_share_link_is_refused(tmp_path: Path) -> None:
    service = prepare_home(tmp_path / "home")
    record = service.issue_license(department_uscc=DEPT[0], license_type="resident-id", fields=fields_for(7),
                                   actor="test")
    token, expires = service.share_link(caller="test", identifier=record.identifier, purpose="窗口核验",
                                        ttl=timedelta(seconds=60))
    assert service.share_file(token).identifier == record.identifier
    later = expires + timedelta(seconds=1)
    service.clock = lambda: later
    with pytest.raises(ForbiddenError, match="expired"):
        service.share_file(token)


def _rows(path: Path, count: int, *, bad_rows: tuple[int, ...] = ()) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields_for(0)))
        writer.writeheader()
        for n in range(count):
            row = fields_for(1000 + n)
            if n + 1 in bad_rows:
                row["holder_id_number"] = row["holder_id_number"][:-1] + ("0" if row["holder_id_number"][-1] != "0"
                                                                          else "1")
            writer.writerow(row)


def test_import_killed_midway_resumes_without_duplicates(tmp_path: Path) -> None:
    prepare_home(tmp_path / "home")
    source = tmp_path / "licences.csv"
    total = 120
    _rows(source, total, bad_rows=(7,))
    home = str(tmp_path / "home")
    command = [YINXIN, "license", "import", str(source), "--home", home, "--dept", DEPT[0], "--type", "resident-id",
               "--json"]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = tmp_path / "home" / "yinxin.db"
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
                done = connection.execute("SELECT count(*) FROM import_rows").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        if done >= 30:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed; make it bigger"
    assert 30 <= done < total

    again = subprocess.run(command, env=ENV, capture_output=True, text=True, check=False, timeout=600)
    report = json.loads(again.stdout)
    assert again.returncode == 1  # one bad row
    assert report["total"] == total and report["already_done"] >= 30
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(7, "holder_id_number")]
    with sqlite3.connect(database) as connection:
        licences = connection.execute("SELECT count(*), count(DISTINCT identifier) FROM licenses").fetchone()
        rows = connection.execute("SELECT count(*), count(identifier) FROM import_rows").fetchone()
    assert licences == (total - 1, total - 1)  # every good row exactly once
    assert rows == (total, total - 1)
    third = json.loads(subprocess.run(command, env=ENV, capture_output=True, text=True, check=False).stdout)
    assert third["issued"] == 0 and third["already_done"] == total
