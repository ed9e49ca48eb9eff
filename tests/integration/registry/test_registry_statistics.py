"""Statistics from the registry: licences issued per type and department, verifications per UTC day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from issuance.identifier import LicenseIdentifier
from registry import DailyCount, InvalidValueError, IssuedCount

DEPT_USCC = "113300000024821886"
OTHER_USCC = "91330106MA27XF9B49"
TYPE_CODE = "11100000000013127D001"
OTHER_TYPE = "11100000000013127D002"


def test_issued_per_type_and_department(registry, make_license, pki, png):
    registry.ensure_license_types([(OTHER_TYPE, "permit", "许可证", "11100000000013127D", "总局", "001")])
    registry.add_department(uscc=OTHER_USCC, name="杭州某某局")
    other_seal = registry.add_seal(
        seal_id=str(uuid.UUID(int=2)), department_uscc=OTHER_USCC, name="杭州某某局", seal_type="公章",
        key_id="k2", certificate_der=pki["other_seal"], image_png=png, image_width_mm=42.0,
    )
    first = make_license()
    make_license()
    revoked = make_license()
    registry.set_license_status(revoked.identifier, status="revoked", action="revoke", actor="a", reason="r")
    registry.add_license_version(
        first.identifier, identifier=str(LicenseIdentifier.parse(first.identifier).next_version()),
        action="amend", actor="a", reason="r", seal_id=first.seal_id, holder_name="n",
        holder_code=first.holder_code, fields={}, issued_at=first.issued_at, valid_from=None, valid_until=None,
        qr_text="q", pdf=b"p",
    )
    identifier = LicenseIdentifier.compose(type_code=OTHER_TYPE, issuer_code=OTHER_USCC, serial="S1")
    make_license(identifier=str(identifier), type_code=OTHER_TYPE, department_uscc=OTHER_USCC,
                 seal_id=other_seal.seal_id, serial="S1")
    assert registry.issued_per_type_and_department() == [
        # Three licences and one new version; active: the new version and the untouched licence.
        IssuedCount(type_code=TYPE_CODE, department_uscc=DEPT_USCC, issued=4, active=2),
        IssuedCount(type_code=OTHER_TYPE, department_uscc=OTHER_USCC, issued=1, active=1),
    ]


def test_verifications_per_utc_day(registry, clock):
    def verify_at(when: datetime, kind: str = "license.verified") -> None:
        clock.now = when
        registry.record_event(kind=kind, actor="hotel-7", subject="1.2.156.3005.2.x", detail={"verdict": "VALID"})

    verify_at(datetime(2025, 2, 26, 12, 0, tzinfo=UTC))  # outside a 3-day window
    verify_at(datetime(2025, 2, 27, 23, 59, 59, 999999, tzinfo=UTC))
    verify_at(datetime(2025, 2, 28, 0, 0, tzinfo=UTC))
    verify_at(datetime(2025, 2, 28, 15, 30, tzinfo=UTC))
    verify_at(datetime(2025, 2, 28, 16, 0, tzinfo=UTC), kind="license.issued")  # not a verification
    verify_at(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    assert registry.verifications_per_day(3) == [
        DailyCount(day=date(2025, 2, 27), count=1),
        DailyCount(day=date(2025, 2, 28), count=2),
        DailyCount(day=date(2025, 3, 1), count=1),
    ]
    assert [c.count for c in registry.verifications_per_day(5)] == [0, 1, 1, 2, 1]
    assert registry.verifications_per_day(1, kind="license.issued") == [DailyCount(day=date(2025, 3, 1), count=0)]
    with pytest.raises(InvalidValueError):
        registry.verifications_per_day(0)
