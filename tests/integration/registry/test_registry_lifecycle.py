"""Lifecycle in the registry: each status change is stored with its license_changes row and its event,
together or not at all; amend and reissue make a new version that supersedes the old one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from issuance.identifier import LicenseIdentifier
from registry import (
    DuplicateError,
    InvalidValueError,
    LicenseRecord,
    NotFoundError,
    Registry,
    RegistryError,
    StatusConflictError,
)
from registry import repositories as registry_repositories


def next_identifier(record: LicenseRecord) -> str:
    return str(LicenseIdentifier.parse(record.identifier).next_version())


def amend(registry: Registry, record: LicenseRecord, **overrides: Any) -> LicenseRecord:
    arguments: dict[str, Any] = {
        "identifier": next_identifier(record), "action": "amend", "actor": "dept-api", "reason": "注册资本变更",
        "seal_id": record.seal_id, "holder_name": "杭州某某科技有限公司", "holder_code": record.holder_code,
        "fields": {"name": "杭州某某科技有限公司", "registered_capital": "500万元人民币"},
        "issued_at": record.issued_at, "valid_from": date(2025, 4, 1), "valid_until": None,
        "qr_text": "YX1:AMENDED", "pdf": b"%PDF-1.7 amended",
    }
    arguments.update(overrides)
    return registry.add_license_version(record.identifier, **arguments)


def test_a_status_change_writes_the_change_and_the_event(registry, make_license, clock):
    record = make_license()
    clock.advance(hours=1)
    suspended = registry.set_license_status(record.identifier, status="suspended", action="suspend",
                                            actor="dept-api", reason="涉嫌违法，暂停使用", expected_status="active")
    assert suspended.status == "suspended"
    assert registry.license_status(record.identifier) == "suspended"
    (change,) = registry.list_changes(record.identifier)
    assert (change.action, change.from_status, change.to_status, change.actor, change.reason) == (
        "suspend", "active", "suspended", "dept-api", "涉嫌违法，暂停使用")
    assert change.occurred_at == clock()
    (event,) = registry.list_events()
    assert (event.kind, event.subject, event.actor) == ("license.suspended", record.identifier, "dept-api")
    assert dict(event.detail) == {"action": "suspend", "from": "active", "to": "suspended",
                                  "reason": "涉嫌违法，暂停使用"}
    registry.set_license_status(record.identifier, status="revoked", action="revoke", actor="admin",
                                reason="吊销")
    assert [c.action for c in registry.list_changes(record.identifier)] == ["suspend", "revoke"]
    assert [e.kind for e in registry.list_events()] == ["license.revoked", "license.suspended"]
    assert registry.verify_event_chain() == []


def test_a_failure_midway_writes_nothing(registry, make_license, monkeypatch):
    record = make_license()

    def broken_append(self: Registry, *args: Any, **kwargs: Any) -> Any:
        raise RegistryError("the event record is unavailable")

    monkeypatch.setattr(registry_repositories.Registry, "_append_event", broken_append)
    with pytest.raises(RegistryError, match="event record"):
        registry.set_license_status(record.identifier, status="revoked", action="revoke", actor="a", reason="r")
    with pytest.raises(RegistryError, match="event record"):
        amend(registry, record)
    monkeypatch.undo()
    # Neither the status, nor a change row, nor a new version, nor an event was written.
    assert registry.get_license(record.identifier).status == "active"
    assert registry.list_changes(record.identifier) == []
    assert [r.identifier for r in registry.license_versions(record.identifier)] == [record.identifier]
    assert registry.list_events() == []


def test_a_failure_later_in_the_callers_transaction_undoes_the_change(registry, make_license):
    record = make_license()
    with pytest.raises(DuplicateError), registry.transaction() as tx:
        tx.set_license_status(record.identifier, status="cancelled", action="cancel", actor="a", reason="注销")
        tx.add_department(uscc=record.department_uscc, name="again")  # fails
    assert registry.get_license(record.identifier).status == "active"
    assert registry.list_changes(record.identifier) == []
    assert registry.list_events() == []


def test_a_concurrent_change_is_a_conflict_not_an_overwrite(registry, make_license):
    record = make_license()
    registry.set_license_status(record.identifier, status="revoked", action="revoke", actor="admin", reason="吊销")
    # Another caller read "active" before the revocation and now tries to suspend.
    with pytest.raises(StatusConflictError, match="now revoked, not active") as caught:
        registry.set_license_status(record.identifier, status="suspended", action="suspend", actor="dept",
                                    reason="x", expected_status="active")
    assert caught.value.code == "status_conflict"
    assert registry.get_license(record.identifier).status == "revoked"
    assert len(registry.list_changes(record.identifier)) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"status": "superseded", "action": "amend"},
        {"status": "active", "action": "amend"},
        {"status": "suspended", "action": "pause"},
        {"status": "suspended", "action": "suspend", "reason": ""},
        {"status": "suspended", "action": "suspend", "actor": ""},
        {"status": "suspended", "action": "suspend", "reason": "长" * 501},
    ],
    ids=["superseded", "version-action", "unknown-action", "no-reason", "no-actor", "long-reason"],
)
def test_bad_lifecycle_requests_are_refused(registry, make_license, arguments):
    record = make_license()
    values = {"actor": "dept", "reason": "r", **arguments}
    with pytest.raises(InvalidValueError):
        registry.set_license_status(record.identifier, **values)
    assert registry.list_changes(record.identifier) == []


def test_amend_supersedes_the_old_version(registry, make_license, clock):
    first = make_license()
    clock.advance(days=1)
    second = amend(registry, first, expected_status="active")
    assert (second.version, second.serial, second.supersedes, second.status) == (2, first.serial, first.identifier,
                                                                                  "active")
    assert second.fields["registered_capital"] == "500万元人民币"
    assert registry.get_license(second.identifier).pdf == b"%PDF-1.7 amended"
    assert registry.get_license(first.identifier).status == "superseded"
    assert registry.license_status(first.identifier) == "superseded"
    assert registry.license_status(second.identifier) == "active"
    assert [(r.identifier, r.version, r.status) for r in registry.license_versions(first.identifier)] == [
        (first.identifier, 1, "superseded"), (second.identifier, 2, "active")]
    assert registry.license_versions(second.identifier) == registry.license_versions(first.identifier)
    (old_change,) = registry.list_changes(first.identifier)
    assert (old_change.action, old_change.from_status, old_change.to_status) == ("amend", "active", "superseded")
    (new_change,) = registry.list_changes(second.identifier)
    assert (new_change.action, new_change.from_status, new_change.to_status) == ("amend", None, "active")
    (event,) = registry.list_events()
    assert (event.kind, event.subject) == ("license.amended", second.identifier)
    assert event.detail["supersedes"] == first.identifier
    # A third version follows the second; the first cannot be amended again.
    third = amend(registry, second, action="reissue", reason="遗失补发")
    assert (third.version, third.supersedes) == (3, second.identifier)
    with pytest.raises(StatusConflictError, match="already superseded"):
        amend(registry, first, identifier=str(LicenseIdentifier.parse(third.identifier).next_version()))
    assert registry.verify_event_chain() == []


def test_a_version_must_be_the_next_one_of_the_same_licence(registry, make_license):
    first = make_license()
    other = make_license()
    skipped = str(LicenseIdentifier.parse(next_identifier(first)).next_version())  # version 3
    for identifier in (skipped, next_identifier(other), first.identifier):
        with pytest.raises(InvalidValueError, match="identifier"):
            amend(registry, first, identifier=identifier)
    with pytest.raises(InvalidValueError, match="action"):
        amend(registry, first, action="suspend")
    with pytest.raises(NotFoundError):
        registry.add_license_version("1.2.156.3005.2.unknown", **_version_arguments(first))
    assert registry.get_license(first.identifier).status == "active"
    assert registry.list_events() == []


def _version_arguments(record: LicenseRecord) -> dict[str, Any]:
    return {"identifier": next_identifier(record), "action": "amend", "actor": "a", "reason": "r",
            "seal_id": record.seal_id, "holder_name": "n", "holder_code": record.holder_code, "fields": {},
            "issued_at": record.issued_at, "valid_from": None, "valid_until": None, "qr_text": "q", "pdf": b"p"}


def test_two_amendments_of_the_same_version_cannot_both_win(registry, make_license, engine):
    first = make_license()
    amend(registry, first)
    # Even behind the registry's back, the database keeps one row per (type, issuer, serial, version).
    with pytest.raises(IntegrityError, match=r"(?i)unique"), engine.begin() as connection:
        connection.execute(text(
            "UPDATE licenses SET version = 2 WHERE identifier = :i"), {"i": first.identifier})


def test_suspended_past_its_validity_is_expired(registry, make_license, clock):
    record = make_license(valid_until=date(2025, 3, 31))
    registry.set_license_status(record.identifier, status="suspended", action="suspend", actor="a", reason="r")
    clock.now = datetime(2025, 4, 1, tzinfo=UTC)
    assert registry.license_status(record.identifier) == "expired"
