"""The bulk path: many licences in one transaction, encrypted, checked, all stored or none."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from issuance.identifier import LicenseIdentifier, new_serial
from registry import DataKeyRequiredError, DuplicateError, InvalidValueError, NewLicense, NotFoundError, Registry

DEPT_USCC = "113300000024821886"
TYPE_CODE = "11100000000013127D001"


def new_licences(seal_id: str, issued_at, count: int) -> list[NewLicense]:
    licences = []
    for n in range(count):
        serial = new_serial()
        holder = f"91330106MA27{n:06d}"
        licences.append(NewLicense(
            identifier=str(LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=DEPT_USCC, serial=serial)),
            type_code=TYPE_CODE, department_uscc=DEPT_USCC, seal_id=seal_id, serial=serial, version=1,
            holder_name=f"公司{n}", holder_code=holder, fields={"n": str(n)}, status="active", issued_at=issued_at,
            valid_from=date(2025, 1, 1), valid_until=None, qr_text=f"YX1:{n}", pdf=b"%PDF-" + str(n).encode(),
        ))
    return licences


def test_bulk_licences_are_stored_encrypted_and_found(registry, seal, license_type, clock):
    licences = new_licences(seal.seal_id, clock(), 1200)
    assert registry.bulk_add_licenses(licences, chunk_rows=500) == 1200
    assert len(registry.list_licenses(limit=1000)) == 1000
    sample = licences[777]
    stored = registry.get_license(sample.identifier)
    assert (stored.holder_code, stored.holder_name, stored.pdf, dict(stored.fields)) == (
        sample.holder_code, sample.holder_name, sample.pdf, {"n": "777"})
    assert stored.holder_code_type == "001"  # from the type's holder kind
    (found,) = registry.find_licenses(holder_code=sample.holder_code, holder_code_type="001")
    assert found.identifier == sample.identifier


def test_bulk_rows_are_stored_exactly_as_single_ones(registry, engine, seal, license_type, clock):
    # The bulk path bypasses SQLAlchemy's type processing: it must store the same bytes and texts.
    issued_at = datetime(2025, 3, 1, 16, 30, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    bulk, single = new_licences(seal.seal_id, issued_at, 2)
    registry.bulk_add_licenses([bulk])
    added = registry.add_license(**{f.name: getattr(single, f.name) for f in dataclasses.fields(single)})
    stored = registry.get_license(bulk.identifier)
    assert stored.issued_at == issued_at
    assert (stored.valid_from, stored.valid_until, stored.created_at) == (added.valid_from, added.valid_until,
                                                                          added.created_at)
    with engine.connect() as connection:
        texts = connection.execute(text(
            "SELECT CAST(issued_at AS TEXT), CAST(valid_from AS TEXT), CAST(created_at AS TEXT) FROM licenses "
            "ORDER BY id")).all()
    assert texts[0] == texts[1]


@pytest.mark.parametrize(
    ("position", "change", "error"),
    [
        (700, {"seal_id": "00000000-0000-0000-0000-00000000dead"}, NotFoundError),
        (700, {"status": "lost"}, InvalidValueError),
        (700, {"version": 2}, InvalidValueError),
        (1100, "duplicate", DuplicateError),
    ],
    ids=["unknown-seal", "bad-status", "identifier-mismatch", "duplicate-identifier"],
)
def test_one_bad_licence_stores_none(registry, seal, license_type, clock, position, change, error):
    licences = new_licences(seal.seal_id, clock(), 1200)
    if change == "duplicate":
        licences[position] = licences[3]
    else:
        licences[position] = dataclasses.replace(licences[position], **change)
    with pytest.raises(error):
        registry.bulk_add_licenses(licences, chunk_rows=500)
    assert registry.list_licenses() == []


def test_bulk_needs_the_data_key(engine, clock, seal, license_type):
    with pytest.raises(DataKeyRequiredError):
        Registry(engine, clock=clock).bulk_add_licenses(new_licences(seal.seal_id, clock(), 1))
