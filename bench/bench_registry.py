"""Bulk-loading licences into the registry and finding a holder's licences, on SQLite and PostgreSQL.

For each database, in one run:
1. the registry's bulk path (``Registry.bulk_add_licenses``: checks, AES-256-GCM encryption of the
   personal data, the keyed blind index, SQLAlchemy Core executemany) loads ``--rows`` licences, one
   transaction per ``--batch``;
2. beside it, a raw driver insert of the same rows, already encrypted, into a second database with the
   same schema and indexes (SQLite: ``sqlite3`` executemany; PostgreSQL: psycopg binary ``COPY``);
3. holder lookups through the blind index (``Registry.find_licenses``) at that size: p50 / p99 over
   ``--lookups`` random holders, beside the raw indexed ``SELECT``.

Also measured apart: what the encryption alone costs per row. Row generation is not timed. The PDF is a
stand-in of ``--pdf-bytes`` (default 1 KiB; real licence PDFs are 30–100 KB, which would measure disk
bandwidth rather than the registry). PostgreSQL work happens in schemas of its own, dropped at the end.

    .venv/bin/python bench/bench_registry.py                      # 1,000,000 rows, both databases
    .venv/bin/python bench/bench_registry.py --rows 100000 --databases sqlite

Targets (issue 4): bulk load ≥ 20,000 rows/s; lookup p99 ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from common import make_pki
from cryptography.hazmat.primitives import serialization
from PIL import Image
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url

from issuance.identifier import LicenseIdentifier, new_serial, resident_id_check_character
from registry import FieldCipher, NewLicense, Registry, create_engine_for, upgrade
from registry.db import SQLITE_CACHE_KIB

POSTGRES_URL = os.environ.get("YINXIN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEPT_USCC = "11330100002500295Y"
TYPE_CODE = "11100000000013338W001"  # a natural-person licence type (holder code type 111)
SEAL_ID = str(uuid.UUID(int=1))
NOW = datetime.now(UTC)
# The columns the raw insert writes, in table order (everything but the generated id).
COLUMNS = ("identifier", "type_code", "department_id", "seal_id", "serial", "version", "holder_code_type",
           "holder_code_index", "holder_name_ciphertext", "holder_code_ciphertext", "fields_ciphertext",
           "qr_text_ciphertext", "pdf_ciphertext", "status", "issued_at", "valid_from", "valid_until",
           "supersedes", "created_at")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


@dataclass(frozen=True)
class Figures:
    """What one database measured."""

    database: str
    rows: int
    registry_rows_per_s: float
    raw_rows_per_s: float
    encryption_us_per_row: float
    lookup_p50_ms: float
    lookup_p99_ms: float
    raw_lookup_p50_ms: float
    raw_lookup_p99_ms: float
    lookups: int
    licences_per_lookup: float


def resident_id(n: int) -> str:
    """A well-formed 公民身份号码 (GB 11643) for holder ``n``."""
    region = 330100 + n % 97
    born = date(1950, 1, 1) + timedelta(days=(n * 7919) % 20000)
    first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + resident_id_check_character(first17)


def holder_of(row: int, holders: int) -> int:
    return (row * 2654435761) % holders  # spread each holder's licences over the load


def new_licences(start: int, count: int, *, holders: int, pdf: bytes) -> list[NewLicense]:
    """``count`` licence versions, rows ``start`` …; holders are shared (about two licences each)."""
    licences = []
    for row in range(start, start + count):
        serial = new_serial()
        holder = holder_of(row, holders)
        code = resident_id(holder)
        name = SURNAMES[holder % len(SURNAMES)] + GIVEN[holder % len(GIVEN)] + GIVEN[(holder // 7) % len(GIVEN)]
        licences.append(NewLicense(
            identifier=str(LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=DEPT_USCC, serial=serial)),
            type_code=TYPE_CODE, department_uscc=DEPT_USCC, seal_id=SEAL_ID, serial=serial, version=1,
            holder_name=name, holder_code=code,
            fields={"name": name, "holder_id_number": code, "sex": "男" if int(code[16]) % 2 else "女",
                    "address": f"浙江省杭州市西湖区文三路{row % 999 + 1}号"},
            status="active", issued_at=NOW, valid_from=date(2025, 1, 1), valid_until=date(2045, 1, 1),
            qr_text="YX1:" + secrets.token_hex(150).upper(), pdf=pdf,
        ))
    return licences


def encrypted_rows(licences: list[NewLicense], cipher: FieldCipher, department_id: int) -> list[tuple[Any, ...]]:
    """The column values the registry writes for ``licences`` (for the raw driver insert)."""
    rows = []
    for item in licences:
        identifier = item.identifier

        def seal(column: str, plaintext: bytes, identifier: str = identifier) -> bytes:
            return cipher.encrypt(plaintext, aad=f"licenses|{column}|{identifier}".encode())

        fields_json = json.dumps(dict(item.fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        rows.append((
            identifier, item.type_code, department_id, item.seal_id, item.serial, item.version, "111",
            cipher.blind_index(item.holder_code, code_type="111"), seal("holder_name", item.holder_name.encode()),
            seal("holder_code", item.holder_code.encode()), seal("fields", fields_json.encode()),
            seal("qr_text", item.qr_text.encode()), seal("pdf", item.pdf), item.status, item.issued_at,
            item.valid_from, item.valid_until, None, NOW,
        ))
    return rows


def prepare(engine: Engine, cipher: FieldCipher) -> Registry:
    """A migrated registry with the department, its seal and the licence type."""
    upgrade(engine)
    registry = Registry(engine, cipher=cipher)
    pki = make_pki()
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (220, 0, 0, 255)).save(buffer, format="PNG")
    registry.add_department(uscc=DEPT_USCC, name="示范市政务服务数据管理局")
    certificate_der = pki.seal_certificate.public_bytes(serialization.Encoding.DER)
    registry.add_seal(seal_id=SEAL_ID, department_uscc=DEPT_USCC, name="示范市政务服务数据管理局", seal_type="公章",
                      key_id="bench-seal", certificate_der=certificate_der, image_png=buffer.getvalue(),
                      image_width_mm=42.0)
    registry.ensure_license_types([(TYPE_CODE, "resident-id", "居民身份证", "11100000000013338W",
                                    "示范市公安局", "111")])
    registry.check_data_key()
    return registry


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def department_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT id FROM departments")).scalar_one())


# -- databases ------------------------------------------------------------------------------------


@contextmanager
def sqlite_databases() -> Iterator[tuple[Engine, Engine, Any]]:
    with tempfile.TemporaryDirectory(prefix="yinxin-bench-") as directory:
        registry_engine = create_engine_for(f"sqlite:///{directory}/registry.db")
        raw_engine = create_engine_for(f"sqlite:///{directory}/raw.db")
        try:
            yield registry_engine, raw_engine, Path(directory) / "raw.db"
        finally:
            registry_engine.dispose()
            raw_engine.dispose()


@contextmanager
def postgres_databases() -> Iterator[tuple[Engine, Engine, Any]]:
    admin = create_engine_for(POSTGRES_URL)
    schemas = [f"yinxin_bench_{secrets.token_hex(4)}", f"yinxin_bench_raw_{secrets.token_hex(4)}"]
    with admin.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    urls = [make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"}) for schema in schemas]
    engines = [create_engine_for(url) for url in urls]
    try:
        yield engines[0], engines[1], urls[1]
    finally:
        for engine in engines:
            engine.dispose()
        with admin.begin() as connection:
            for schema in schemas:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def raw_insert_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> float:
    """Seconds to insert ``rows`` with sqlite3 executemany, one transaction (the registry's settings: WAL,
    foreign keys on, the same page cache)."""
    placeholders = ", ".join("?" for _ in COLUMNS)
    converted = [tuple(_sqlite_value(v) for v in row) for row in rows]  # what the registry's types store
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # as the registry's connections
        start = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(f"INSERT INTO licenses ({', '.join(COLUMNS)}) VALUES ({placeholders})", converted)
        connection.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        connection.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def raw_insert_postgres(url: URL, rows: list[tuple[Any, ...]]) -> float:
    """Seconds to insert ``rows`` with psycopg's binary COPY, one transaction."""
    with psycopg.connect(_libpq(url)) as connection:
        start = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
            f"COPY licenses ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["varchar", "varchar", "int4", "varchar", "varchar", "int4", "varchar", "varchar",
                            "bytea", "bytea", "bytea", "bytea", "bytea", "varchar", "timestamptz", "date",
                            "date", "varchar", "timestamptz"])
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - start


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def raw_lookups(database: str, target: Any, indexes: list[str]) -> list[float]:
    """Latencies (s) of the indexed SELECT the registry issues, through the bare driver."""
    query = ("SELECT l.*, d.uscc FROM licenses l JOIN departments d ON d.id = l.department_id "
             "WHERE l.holder_code_index = {} AND l.status <> 'superseded' ORDER BY l.id DESC LIMIT 100")
    latencies = []
    if database == "sqlite":
        lite = sqlite3.connect(str(target))
        try:
            for index in indexes:
                start = time.perf_counter()
                lite.execute(query.format("?"), (index,)).fetchall()
                latencies.append(time.perf_counter() - start)
        finally:
            lite.close()
        return latencies
    with psycopg.connect(_libpq(target), autocommit=True) as connection:
        for index in indexes:
            start = time.perf_counter()
            connection.execute(query.format("%s"), (index,)).fetchall()
            latencies.append(time.perf_counter() - start)
    return latencies


# -- the run --------------------------------------------------------------------------------------


def bench(database: str, *, rows: int, batch: int, lookups: int, pdf_bytes: int) -> Figures:
    cipher = FieldCipher(secrets.token_bytes(32))
    pdf = b"%PDF-1.7\n" + os.urandom(max(0, pdf_bytes - 9))
    holders = max(1, rows // 2)
    databases = sqlite_databases() if database == "sqlite" else postgres_databases()
    with databases as (registry_engine, raw_engine, raw_target):
        registry = prepare(registry_engine, cipher)
        prepare(raw_engine, cipher)
        raw_department = department_id(raw_engine)
        registry_seconds = raw_seconds = encryption_seconds = 0.0
        loaded = 0
        print(f"[{database}] loading {rows:,} rows in batches of {batch:,} …", file=sys.stderr, flush=True)
        while loaded < rows:
            count = min(batch, rows - loaded)
            licences = new_licences(loaded, count, holders=holders, pdf=pdf)
            start = time.perf_counter()
            registry.bulk_add_licenses(licences)
            registry_seconds += time.perf_counter() - start
            start = time.perf_counter()
            column_rows = encrypted_rows(licences, cipher, raw_department)
            encryption_seconds += time.perf_counter() - start
            if database == "sqlite":
                raw_seconds += raw_insert_sqlite(raw_target, column_rows)
            else:
                raw_seconds += raw_insert_postgres(raw_target, column_rows)
            loaded += count
            print(f"[{database}] {loaded:,} rows: registry {loaded / registry_seconds:,.0f} rows/s, "
                  f"raw {loaded / raw_seconds:,.0f} rows/s", file=sys.stderr, flush=True)
        if database == "postgres":
            for engine in (registry_engine, raw_engine):
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
        chosen = random.sample(range(holders), min(lookups, holders))
        codes = [resident_id(holder) for holder in chosen]
        latencies, found = [], 0
        registry.find_licenses(holder_code=codes[0], holder_code_type="111")  # warm the pool
        for code in codes:
            start = time.perf_counter()
            found += len(registry.find_licenses(holder_code=code, holder_code_type="111"))
            latencies.append(time.perf_counter() - start)
        raw = raw_lookups(database, raw_target, [cipher.blind_index(code, code_type="111") for code in codes])
        return Figures(
            database=database, rows=rows, registry_rows_per_s=rows / registry_seconds,
            raw_rows_per_s=rows / raw_seconds, encryption_us_per_row=encryption_seconds / rows * 1e6,
            lookup_p50_ms=statistics.median(latencies) * 1e3, lookup_p99_ms=percentile(latencies, 0.99) * 1e3,
            raw_lookup_p50_ms=statistics.median(raw) * 1e3, raw_lookup_p99_ms=percentile(raw, 0.99) * 1e3,
            lookups=len(codes), licences_per_lookup=found / len(codes),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000, help="rows per bulk call (one transaction each)")
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--pdf-bytes", type=int, default=1024)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    args = parser.parse_args()
    results = [bench(database.strip(), rows=args.rows, batch=args.batch, lookups=args.lookups,
                     pdf_bytes=args.pdf_bytes) for database in args.databases.split(",")]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    print(f"\n{'database':<9} {'rows':>10} {'registry rows/s':>16} {'raw rows/s':>11} {'ratio':>6} "
          f"{'encrypt µs/row':>15} {'lookup p50/p99 ms':>18} {'raw p50/p99 ms':>15}")
    for r in results:
        print(f"{r.database:<9} {r.rows:>10,} {r.registry_rows_per_s:>16,.0f} {r.raw_rows_per_s:>11,.0f} "
              f"{r.registry_rows_per_s / r.raw_rows_per_s:>6.2f} {r.encryption_us_per_row:>15.1f} "
              f"{r.lookup_p50_ms:>8.2f} / {r.lookup_p99_ms:<7.2f} {r.raw_lookup_p50_ms:>6.2f} / "
              f"{r.raw_lookup_p99_ms:<6.2f}")
    print("\ntargets: bulk load ≥ 20,000 rows/s; lookup p99 ≤ 5 ms "
          f"(lookups: {results[0].lookups:,} random holders, {results[0].licences_per_lookup:.1f} licences each)")


if __name__ == "__main__":
    main()
