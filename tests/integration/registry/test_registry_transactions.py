"""A unit of work writes a licence and its event together or not at all."""

from __future__ import annotations

from typing import Any

import pytest

from registry import DuplicateError, LicenseRecord, NotFoundError, Registry, RegistryError


class Boom(Exception):
    pass


def issue(tx: Registry, make_license: Any, **overrides: Any) -> LicenseRecord:
    record: LicenseRecord = make_license(target=tx, **overrides)
    tx.record_event(kind="license.issued", actor="dept-api", subject=record.identifier,
                    detail={"type": record.type_code})
    return record


def test_licence_and_event_commit_together(registry, engine, clock, cipher, make_license):
    outsider = Registry(engine, clock=clock, cipher=cipher)
    with registry.transaction() as tx:
        record = issue(tx, make_license)
        # Inside the transaction its own writes are visible; outside they are not yet.
        assert tx.get_license(record.identifier) == record
        with pytest.raises(NotFoundError):
            outsider.get_license(record.identifier)
        assert outsider.list_events() == []
    assert outsider.get_license(record.identifier) == record
    (event,) = outsider.list_events()
    assert event.kind == "license.issued"
    assert event.subject == record.identifier
    assert registry.verify_event_chain() == []


def test_an_exception_in_the_block_rolls_everything_back(registry, make_license):
    with pytest.raises(Boom), registry.transaction() as tx:
        record = issue(tx, make_license)
        tx.set_license_status(record.identifier, status="suspended", action="suspend", actor="dept",
                              reason="inspection")
        raise Boom
    assert registry.list_licenses() == []
    assert registry.list_events() == []
    # The chain continues as if nothing happened.
    assert registry.record_event(kind="x", actor="a", subject="s", detail={}).seq == 1


def test_a_failing_operation_rolls_back_the_earlier_ones(registry, make_license):
    first = make_license()
    with pytest.raises(DuplicateError), registry.transaction() as tx:
        second = issue(tx, make_license)
        make_license(target=tx, serial=first.serial)  # duplicate identifier
    with pytest.raises(NotFoundError):
        registry.get_license(second.identifier)
    assert registry.list_events() == []
    assert registry.list_licenses() == [first]


def test_a_caught_failure_still_rolls_back_the_transaction(registry, make_license):
    first = make_license()
    with pytest.raises(RegistryError, match="rolled back"), registry.transaction() as tx:
        second = issue(tx, make_license)
        with pytest.raises(DuplicateError):
            make_license(target=tx, serial=first.serial)
        # The caller swallowed the error; the transaction refuses further work ...
        with pytest.raises(RegistryError, match="earlier operation"):
            tx.record_event(kind="x", actor="a", subject="s", detail={})
    # ... and nothing of it was committed, on either database.
    with pytest.raises(NotFoundError):
        registry.get_license(second.identifier)
    assert registry.list_events() == []


def test_nested_transaction_joins_the_outer_one(registry, make_license):
    with pytest.raises(Boom), registry.transaction() as tx:
        with tx.transaction() as inner:
            assert inner is tx
            record = issue(inner, make_license)
        assert tx.get_license(record.identifier) == record
        raise Boom
    assert registry.list_licenses() == []


def test_a_finished_transaction_cannot_be_reused(registry, department):
    with registry.transaction() as tx:
        tx.get_department(department.uscc)
    with pytest.raises(RegistryError, match="ended"):
        tx.get_department(department.uscc)


def test_not_found_inside_a_transaction_does_not_spoil_it(registry, department):
    with registry.transaction() as tx:
        with pytest.raises(NotFoundError):
            tx.get_department("91330106MA27XF9B49")
        tx.record_event(kind="department.checked", actor="admin", subject=department.uscc, detail={})
    assert [e.kind for e in registry.list_events()] == ["department.checked"]
