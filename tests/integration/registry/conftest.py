"""Fixtures for the registry tests: every test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL is the real server at 127.0.0.1:5432 (override with ``YINXIN_TEST_POSTGRES_URL``). Each
test session works in its own schema ``yinxin_test_<random>`` (dropped at the end) so parallel runs
do not collide. If the server cannot be reached the PostgreSQL tests *fail*: CI must start it.
"""

from __future__ import annotations

import io
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageDraw
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

import ca
from issuance.identifier import LicenseIdentifier, new_serial
from registry import FieldCipher, Registry, create_engine_for, upgrade
from registry.records import DepartmentRecord, LicenseRecord, LicenseTypeRecord, SealRecord

POSTGRES_URL = os.environ.get("YINXIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = ("import_rows", "import_jobs", "license_changes", "license_type_issuers", "data_key_checks", "events",
          "licenses", "seals", "license_types", "certificates", "departments")
# The home's data key in these tests (a real one comes from SoftwareKeyStore.data_key()).
DATA_KEY = bytes(range(32))
T0 = datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class FakeClock:
    """An injected clock: starts at ``T0`` and moves only when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def postgres_schema() -> Iterator[URL]:
    """A new, empty schema; yields a URL whose connections use it (search_path), drops it after."""
    schema = f"yinxin_test_{secrets.token_hex(6)}"
    admin = create_engine_for(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {make_url(POSTGRES_URL).render_as_string(hide_password=True)}: "
            f"{exc.orig}. The registry tests need it; CI must start the server.",
            pytrace=False,
        )
    try:
        yield make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as connection:
            # Do not wait forever behind a connection a failed test left open.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """One migrated schema for the whole session; tests empty it before use."""
    with postgres_schema() as url:
        engine = create_engine_for(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_url(backend: str, tmp_path) -> Iterator[URL]:
    """The URL of an empty database (never migrated)."""
    if backend == "sqlite":
        yield make_url(f"sqlite:///{tmp_path / 'registry.db'}")
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
def engine(backend: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty registry database."""
    if backend == "sqlite":
        engine = create_engine_for(f"sqlite:///{tmp_path / 'registry.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    yield engine


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(DATA_KEY)


@pytest.fixture
def registry(engine: Engine, clock: FakeClock, cipher: FieldCipher) -> Registry:
    """A registry opened with the data key."""
    return Registry(engine, clock=clock, cipher=cipher)


# -- real certificates from the ca package -----------------------------------------------------------

DEPT_USCC = "113300000024821886"
OTHER_USCC = "91330106MA27XF9B49"
TYPE_CODE = "11100000000013127D001"


@pytest.fixture(scope="session")
def pki() -> dict[str, bytes]:
    """A root CA, an issuing CA and two seal certificates (DER), made by the project's CA."""
    now = T0
    root_signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    root_cert = ca.create_root_certificate(
        signer=root_signer, subject=ca.organisation_name(organization="印信测试根CA"), now=now
    )
    root = ca.CertificateAuthority(certificate=root_cert, signer=root_signer)
    issuing = ca.create_issuing_ca(
        root=root,
        signer=ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256)),
        subject=ca.organisation_name(organization="印信测试签发CA"),
        now=now,
    )

    def seal(uscc: str, name: str) -> x509.Certificate:
        key = ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
        return issuing.issue(
            profile=ca.SEAL_PROFILE,
            subject=ca.organisation_name(organization=name, uscc=uscc),
            public_key=key.public_key(),
            now=now,
        )

    def der(certificate: x509.Certificate) -> bytes:
        return certificate.public_bytes(serialization.Encoding.DER)

    return {
        "root": der(root_cert),
        "issuing": der(issuing.certificate),
        "seal": der(seal(DEPT_USCC, "浙江省市场监督管理局")),
        "seal2": der(seal(DEPT_USCC, "浙江省市场监督管理局")),
        "other_seal": der(seal(OTHER_USCC, "杭州某某科技有限公司")),
    }


@pytest.fixture(scope="session")
def png() -> bytes:
    """A small real PNG (a red disc), as a seal picture would be."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((2, 2, 29, 29), outline=(220, 0, 0, 255), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def department(registry: Registry) -> DepartmentRecord:
    return registry.add_department(uscc=DEPT_USCC, name="浙江省市场监督管理局")


@pytest.fixture
def seal(registry: Registry, department: DepartmentRecord, pki: dict[str, bytes], png: bytes) -> SealRecord:
    return registry.add_seal(
        seal_id=str(uuid.UUID(int=1)),
        department_uscc=department.uscc,
        name="浙江省市场监督管理局",
        seal_type="公章",
        key_id="seal-key-1",
        certificate_der=pki["seal"],
        image_png=png,
        image_width_mm=42.0,
    )


@pytest.fixture
def license_type(registry: Registry) -> LicenseTypeRecord:
    (record,) = registry.ensure_license_types(
        [(TYPE_CODE, "business-licence", "营业执照", "11100000000013127D", "国家市场监督管理总局",
          "001")]
    )
    return record


@pytest.fixture
def make_license(registry: Registry, seal: SealRecord, license_type: LicenseTypeRecord, clock: FakeClock):
    """Store a licence of ``license_type`` sealed with ``seal``; keyword overrides change any field."""

    def make(*, target: Registry | None = None, **overrides: Any) -> LicenseRecord:
        serial = overrides.pop("serial", None) or new_serial()
        identifier = LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=DEPT_USCC, serial=serial)
        arguments: dict[str, Any] = {
            "identifier": str(identifier),
            "type_code": TYPE_CODE,
            "department_uscc": DEPT_USCC,
            "seal_id": seal.seal_id,
            "serial": serial,
            "version": 1,
            "holder_name": "杭州某某科技有限公司",
            "holder_code": OTHER_USCC,
            "fields": {"name": "杭州某某科技有限公司", "registered_capital": "100万元人民币"},
            "status": "active",
            "issued_at": clock(),
            "valid_from": date(2025, 3, 1),
            "valid_until": None,
            "qr_text": "YX1:" + "A" * 40,
            "pdf": b"%PDF-1.7\n" + serial.encode() + b"\n%%EOF\n",
        }
        arguments.update(overrides)
        return (target or registry).add_license(**arguments)

    return make


@pytest.fixture
def make_license_on(pki: dict[str, bytes], png: bytes, clock: FakeClock):
    """Store a licence on any registry (e.g. one over another engine), adding its department, seal and
    type the first time."""

    def make(target: Registry, **overrides: Any) -> LicenseRecord:
        if not target.list_departments():
            target.add_department(uscc=DEPT_USCC, name="浙江省市场监督管理局")
            target.add_seal(
                seal_id=str(uuid.UUID(int=1)), department_uscc=DEPT_USCC, name="浙江省市场监督管理局",
                seal_type="公章", key_id="seal-key-1", certificate_der=pki["seal"], image_png=png,
                image_width_mm=42.0,
            )
            target.ensure_license_types([(TYPE_CODE, "business-licence", "营业执照", "11100000000013127D",
                                          "国家市场监督管理总局", "001")])
        serial = overrides.pop("serial", None) or new_serial()
        identifier = LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=DEPT_USCC, serial=serial)
        arguments: dict[str, Any] = {
            "identifier": str(identifier), "type_code": TYPE_CODE, "department_uscc": DEPT_USCC,
            "seal_id": str(uuid.UUID(int=1)), "serial": serial, "version": 1, "holder_name": "杭州某某科技有限公司",
            "holder_code": OTHER_USCC, "fields": {"name": "杭州某某科技有限公司"}, "status": "active",
            "issued_at": clock(), "valid_from": date(2025, 3, 1), "valid_until": None,
            "qr_text": "YX1:" + "A" * 40, "pdf": b"%PDF-1.7\n" + serial.encode() + b"\n%%EOF\n",
        }
        arguments.update(overrides)
        return target.add_license(**arguments)

    return make
