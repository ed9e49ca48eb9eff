"""Departments, certificates, seals, licence types and licences: stored, found, refused when they
clash, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from cryptography import x509
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

import ca
from issuance.identifier import LicenseIdentifier
from registry import (
    CERTIFICATE_KINDS,
    DuplicateError,
    InvalidValueError,
    NotFoundError,
    Registry,
    create_engine_for,
)
from verification.ports import StatusUnavailableError

# The same values as conftest.py (conftest is not importable as a module).
DEPT_USCC = "113300000024821886"
OTHER_USCC = "91330106MA27XF9B49"
TYPE_CODE = "11100000000013127D001"
T0 = datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# -- departments -------------------------------------------------------------------------------------


def test_department_is_stored_and_found_by_uscc_and_api_key(registry, clock):
    added = registry.add_department(uscc=DEPT_USCC, name="浙江省市场监督管理局", api_key_hash=key_hash("k1"))
    assert added.created_at == T0
    assert added.created_at.tzinfo is not None
    assert registry.get_department(DEPT_USCC) == added
    assert registry.department_by_api_key_hash(key_hash("k1")) == added
    assert registry.department_by_api_key_hash(key_hash("k2")) is None
    clock.advance(seconds=1)
    other = registry.add_department(uscc=OTHER_USCC, name="杭州某某科技有限公司")
    assert registry.list_departments() == [added, other]
    assert "api_key_hash" not in repr(added)


def test_duplicate_uscc_or_api_key_is_refused(registry):
    registry.add_department(uscc=DEPT_USCC, name="A", api_key_hash=key_hash("k1"))
    with pytest.raises(DuplicateError) as caught:
        registry.add_department(uscc=DEPT_USCC, name="B")
    assert caught.value.code == "duplicate"
    with pytest.raises(DuplicateError):
        registry.add_department(uscc=OTHER_USCC, name="C", api_key_hash=key_hash("k1"))
    assert [d.name for d in registry.list_departments()] == ["A"]


def test_api_key_can_be_replaced_and_revoked(registry):
    registry.add_department(uscc=DEPT_USCC, name="A", api_key_hash=key_hash("old"))
    registry.set_department_api_key_hash(uscc=DEPT_USCC, api_key_hash=key_hash("new"))
    assert registry.department_by_api_key_hash(key_hash("old")) is None
    assert registry.department_by_api_key_hash(key_hash("new")).uscc == DEPT_USCC
    registry.set_department_api_key_hash(uscc=DEPT_USCC, api_key_hash=None)
    assert registry.department_by_api_key_hash(key_hash("new")) is None
    with pytest.raises(InvalidValueError):
        registry.set_department_api_key_hash(uscc=DEPT_USCC, api_key_hash="not-a-digest")


def test_unknown_department_is_not_found(registry):
    with pytest.raises(NotFoundError) as caught:
        registry.get_department(OTHER_USCC)
    assert OTHER_USCC in caught.value.public_message


@pytest.mark.parametrize(
    ("uscc", "name"),
    [("12345", "短"), (DEPT_USCC, ""), (DEPT_USCC, "名" * 201)],
    ids=["short-uscc", "empty-name", "long-name"],
)
def test_bad_department_values_are_refused(registry, uscc, name):
    with pytest.raises(InvalidValueError):
        registry.add_department(uscc=uscc, name=name)
    assert registry.list_departments() == []


# -- certificates ------------------------------------------------------------------------------------


def test_certificate_fields_come_from_the_der(registry, pki):
    record = registry.add_certificate(kind="root-ca", der=pki["root"], key_id="root-ca")
    parsed = x509.load_der_x509_certificate(pki["root"])
    assert record.serial_hex == format(parsed.serial_number, "x")
    assert record.subject == parsed.subject.rfc4514_string()
    assert record.issuer_subject == record.subject
    assert record.not_before == parsed.not_valid_before_utc
    assert record.not_after == parsed.not_valid_after_utc
    assert record.der == pki["root"]
    assert registry.get_certificate(record.id) == record
    assert registry.get_certificate_by_serial(parsed.serial_number) == record


def test_certificates_of_kind_are_listed_oldest_first(registry, pki):
    root = registry.add_certificate(kind="root-ca", der=pki["root"], key_id="root-ca")
    issuing = registry.add_certificate(kind="issuing-ca", der=pki["issuing"], key_id=None)
    assert registry.certificates_of_kind("root-ca") == [root]
    assert registry.certificates_of_kind("issuing-ca") == [issuing]
    assert issuing.issuer_subject == root.subject
    assert registry.certificates_of_kind("seal") == []


def test_certificate_duplicates_garbage_and_unknown_kinds_are_refused(registry, pki):
    registry.add_certificate(kind="root-ca", der=pki["root"], key_id="root-ca")
    with pytest.raises(DuplicateError):
        registry.add_certificate(kind="root-ca", der=pki["root"], key_id="root-ca")
    with pytest.raises(InvalidValueError):
        registry.add_certificate(kind="root-ca", der=b"\x30\x03\x02\x01\x01", key_id=None)
    with pytest.raises(InvalidValueError):
        registry.add_certificate(kind="tsa", der=pki["issuing"], key_id=None)
    with pytest.raises(NotFoundError):
        registry.get_certificate(999)
    assert len(registry.certificates_of_kind("root-ca")) == 1


def test_certificate_kinds_are_the_ca_kinds():
    assert tuple(kind.value for kind in ca.CertificateKind) == CERTIFICATE_KINDS


# -- seals -------------------------------------------------------------------------------------------


def test_seal_is_stored_with_its_certificate(registry, seal, pki, png):
    assert registry.get_seal(seal.seal_id) == seal
    assert seal.department_uscc == DEPT_USCC
    assert seal.image_png == png
    assert seal.image_width_mm == 42.0
    assert seal.status == "active"
    certificate = registry.get_certificate(seal.certificate_id)
    assert certificate.kind == "seal"
    assert certificate.der == pki["seal"]
    assert certificate.key_id == "seal-key-1"
    assert registry.list_seals() == [seal]
    assert registry.list_seals(department_uscc=DEPT_USCC) == [seal]
    registry.add_department(uscc=OTHER_USCC, name="杭州某某科技有限公司")
    assert registry.list_seals(department_uscc=OTHER_USCC) == []


def test_active_official_seal_is_the_newest_active_gongzhang(registry, seal, pki, png, clock):
    assert registry.active_official_seal(DEPT_USCC) == seal
    clock.advance(days=1)
    contract = registry.add_seal(
        seal_id="00000000-0000-0000-0000-000000000002", department_uscc=DEPT_USCC, name="合同专用章",
        seal_type="合同专用章", key_id="seal-key-2", certificate_der=pki["seal2"], image_png=png,
        image_width_mm=40.0,
    )
    assert contract.seal_type == "合同专用章"
    assert registry.active_official_seal(DEPT_USCC) == seal
    registry.set_seal_status(seal.seal_id, status="suspended")
    assert registry.active_official_seal(DEPT_USCC) is None
    assert registry.get_seal(seal.seal_id).status == "suspended"
    with pytest.raises(InvalidValueError):
        registry.set_seal_status(seal.seal_id, status="destroyed")


def test_seal_for_an_unknown_department_leaves_nothing_behind(registry, pki, png):
    with pytest.raises(NotFoundError):
        registry.add_seal(
            seal_id="00000000-0000-0000-0000-000000000009", department_uscc=OTHER_USCC, name="公章",
            seal_type="公章", key_id="k", certificate_der=pki["other_seal"], image_png=png,
            image_width_mm=42.0,
        )
    assert registry.certificates_of_kind("seal") == []
    with pytest.raises(NotFoundError):
        registry.get_seal("00000000-0000-0000-0000-000000000009")


def test_seal_picture_must_be_a_png(registry, department, pki):
    with pytest.raises(InvalidValueError, match="PNG"):
        registry.add_seal(
            seal_id="00000000-0000-0000-0000-000000000003", department_uscc=DEPT_USCC, name="公章",
            seal_type="公章", key_id="k", certificate_der=pki["seal"], image_png=b"GIF89a",
            image_width_mm=42.0,
        )


# -- licence types -----------------------------------------------------------------------------------


def test_license_types_are_upserted_idempotently(registry, license_type):
    again = registry.ensure_license_types([license_type])
    assert again == [license_type]
    renamed = dataclasses.replace(license_type, name="营业执照（副本）")
    registry.ensure_license_types([renamed])
    assert registry.get_license_type(TYPE_CODE) == renamed
    assert registry.list_license_types() == [renamed]
    with pytest.raises(NotFoundError):
        registry.get_license_type("11100000000013127D999")


def test_two_types_cannot_share_a_slug(registry, license_type):
    clash = dataclasses.replace(license_type, code="11100000000013127D002")
    with pytest.raises(DuplicateError):
        registry.ensure_license_types([clash])
    assert registry.list_license_types() == [license_type]


# -- licences ----------------------------------------------------------------------------------------


def test_license_round_trips(registry, make_license):
    issued_at = datetime(2025, 3, 1, 16, 30, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    added = make_license(issued_at=issued_at, valid_until=date(2030, 2, 28))
    found = registry.get_license(added.identifier)
    assert found == added
    assert found.issued_at == issued_at
    assert found.issued_at.utcoffset() == timedelta(0)
    assert found.valid_from == date(2025, 3, 1)
    assert found.valid_until == date(2030, 2, 28)
    assert dict(found.fields) == {"name": "杭州某某科技有限公司", "registered_capital": "100万元人民币"}
    assert found.department_uscc == DEPT_USCC
    assert found.type_code == TYPE_CODE
    assert found.pdf.startswith(b"%PDF-")
    with pytest.raises(TypeError):
        found.fields["name"] = "x"  # type: ignore[index, unused-ignore]
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.status = "revoked"  # type: ignore[misc, unused-ignore]
    # Personal data and the PDF stay out of logs.
    assert OTHER_USCC not in repr(found)
    assert "PDF" not in repr(found)


def test_duplicate_identifier_is_refused(registry, make_license):
    first = make_license()
    with pytest.raises(DuplicateError):
        make_license(serial=first.serial)
    assert len(registry.list_licenses()) == 1


def test_licenses_are_listed_newest_first_and_filtered(registry, make_license, clock):
    first = make_license()
    clock.advance(seconds=1)
    second = make_license(holder_code="113300000024821886", holder_name="另一家")
    assert [r.identifier for r in registry.list_licenses()] == [second.identifier, first.identifier]
    assert registry.list_licenses(limit=1) == [second]
    assert registry.list_licenses(holder_code=OTHER_USCC) == [first]
    assert registry.list_licenses(department_uscc=DEPT_USCC, type_code=TYPE_CODE, limit=10) == [second, first]
    with pytest.raises(InvalidValueError):
        registry.list_licenses(limit=0)


def test_status_changes_are_what_verifiers_see(registry, make_license):
    record = make_license()
    assert registry.license_status(record.identifier) == "active"
    for status, action in (("suspended", "suspend"), ("active", "resume"), ("revoked", "revoke")):
        changed = registry.set_license_status(record.identifier, status=status, action=action, actor="dept",
                                              reason="test")
        assert changed.status == status
        assert registry.license_status(record.identifier) == status
    assert registry.license_status("1.2.156.3005.2.unknown") is None
    with pytest.raises(InvalidValueError):
        registry.set_license_status(record.identifier, status="lost", action="revoke", actor="dept", reason="x")
    with pytest.raises(NotFoundError):
        registry.set_license_status("1.2.156.3005.2.unknown", status="revoked", action="revoke", actor="dept",
                                    reason="x")


def test_active_license_is_expired_after_its_last_day(registry, make_license, clock):
    record = make_license(valid_until=date(2025, 3, 31))
    clock.now = datetime(2025, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert registry.license_status(record.identifier) == "active"
    clock.now = datetime(2025, 4, 1, 0, 0, 0, tzinfo=UTC)
    assert registry.license_status(record.identifier) == "expired"
    # A revoked licence stays revoked, whatever its validity.
    registry.set_license_status(record.identifier, status="revoked", action="revoke", actor="dept", reason="x")
    assert registry.license_status(record.identifier) == "revoked"


def test_license_must_use_an_active_seal_of_its_own_department(registry, make_license, seal, pki, png):
    registry.add_department(uscc=OTHER_USCC, name="杭州某某科技有限公司")
    foreign = registry.add_seal(
        seal_id="00000000-0000-0000-0000-000000000004", department_uscc=OTHER_USCC, name="公章",
        seal_type="公章", key_id="k", certificate_der=pki["other_seal"], image_png=png, image_width_mm=42.0,
    )
    with pytest.raises(InvalidValueError, match="another department"):
        make_license(seal_id=foreign.seal_id)
    registry.set_seal_status(seal.seal_id, status="suspended")
    with pytest.raises(InvalidValueError, match="suspended"):
        make_license()
    assert registry.list_licenses() == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "valid"},
        {"issued_at": datetime(2025, 3, 1, 8, 0)},
        {"version": -1},
        {"fields": {"name": 1}},
        {"valid_from": date(2025, 3, 2), "valid_until": date(2025, 3, 1)},
    ],
    ids=["unknown-status", "naive-issued-at", "negative-version", "non-string-field", "validity-reversed"],
)
def test_bad_license_values_are_refused(registry, make_license, overrides):
    with pytest.raises(InvalidValueError):
        make_license(**overrides)
    assert registry.list_licenses() == []


def test_unknown_references_are_not_found(registry, make_license):
    unknown_type = "11100000000013127D999"
    identifier = LicenseIdentifier.compose(type_code=unknown_type, issuer_code=DEPT_USCC, serial="UNKNOWNTYPE1")
    with pytest.raises(NotFoundError):
        make_license(type_code=unknown_type, serial="UNKNOWNTYPE1", identifier=str(identifier))
    with pytest.raises(NotFoundError):
        make_license(seal_id="00000000-0000-0000-0000-00000000dead")


def test_database_refuses_an_unknown_status_even_from_raw_sql(engine, make_license):
    record = make_license()
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE licenses SET status = 'lost' WHERE identifier = :i"),
                           {"i": record.identifier})


# -- availability ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-directory/registry.db",
        pytest.param("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
                     marks=pytest.mark.postgres),
    ],
    ids=["sqlite", "postgres"],
)
def test_status_source_reports_an_unreachable_database(url):
    engine = create_engine_for(url)
    try:
        with pytest.raises(StatusUnavailableError):
            Registry(engine).license_status("1.2.156.3005.2.x")
    finally:
        engine.dispose()
