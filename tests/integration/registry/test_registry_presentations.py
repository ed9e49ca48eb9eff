"""Holders' blind index, single-use presentation tokens and acceptance records, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from sqlalchemy import text

from registry import Registry
from registry.errors import DataKeyRequiredError, InvalidValueError, NotFoundError
from registry.presentations import (
    TokenOutcome,
    add_acceptance_record,
    consume_presentation_token,
    create_presentation_token,
    holder_identity,
    holder_licenses,
    holder_owns_license,
    list_acceptance_records,
    set_holder_code,
)
from registry.records import PrincipalRecord
from registry.statuslists import status_slot

from .conftest import OTHER_USCC, FakeClock


def _key() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


def _principal(registry: Registry, kind: str, role: str | None = None) -> PrincipalRecord:
    # Names are unique per kind; the PostgreSQL schema is shared by the session's tests.
    return registry.add_principal(kind=kind, name=f"{kind}-{secrets.token_hex(4)}", role=role, api_key_hash=_key())


def _token() -> str:
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def test_a_holder_reaches_only_licences_with_their_own_code(registry: Registry, make_license) -> None:
    mine = make_license()
    theirs = make_license(holder_code="91330106MA2B0AAA1M")
    holder = _principal(registry, "holder")
    assert not holder_owns_license(registry, holder_id=holder.id, identifier=mine.identifier), "no code yet"
    set_holder_code(registry, holder.id, holder_code=OTHER_USCC.lower(), holder_code_type="001")
    assert holder_owns_license(registry, holder_id=holder.id, identifier=mine.identifier)
    assert not holder_owns_license(registry, holder_id=holder.id, identifier=theirs.identifier)
    assert not holder_owns_license(registry, holder_id=holder.id, identifier=mine.identifier + "0")
    assert [r.identifier for r in holder_licenses(registry, holder.id)] == [mine.identifier]
    assert holder_identity(registry, holder.id).holder_code_type == "001"
    # the same code as a 公民身份号码 type is another holder code
    set_holder_code(registry, holder.id, holder_code=OTHER_USCC, holder_code_type="111")
    assert not holder_owns_license(registry, holder_id=holder.id, identifier=mine.identifier)


def test_the_holder_code_is_stored_only_as_the_blind_index(registry: Registry) -> None:
    holder = _principal(registry, "holder")
    set_holder_code(registry, holder.id, holder_code=OTHER_USCC, holder_code_type="001")
    with registry.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM principals WHERE id = :id"), {"id": holder.id}).one()
    assert OTHER_USCC not in " ".join(str(v) for v in row)
    assert row.holder_code_index is not None and len(row.holder_code_index) == 64


def test_the_blind_index_needs_the_data_key(registry: Registry) -> None:
    holder = _principal(registry, "holder")
    keyless = registry.with_cipher(None)
    with pytest.raises(DataKeyRequiredError):
        set_holder_code(keyless, holder.id, holder_code=OTHER_USCC, holder_code_type="001")
    verifier = _principal(registry, "verifier", role="hotel")
    with pytest.raises(NotFoundError):
        set_holder_code(registry, verifier.id, holder_code=OTHER_USCC, holder_code_type="001")
    with pytest.raises(InvalidValueError):
        set_holder_code(registry, holder.id, holder_code=OTHER_USCC, holder_code_type="999")


def test_a_token_is_used_once_and_expires(registry: Registry, make_license, clock: FakeClock) -> None:
    licence = make_license()
    holder = _principal(registry, "holder")
    verifier = _principal(registry, "verifier", role="hotel")
    token = _token()
    stored = create_presentation_token(registry, token_hash=token, identifier=licence.identifier, holder_id=holder.id,
                                       purpose="hotel", expires_at=clock() + timedelta(minutes=5))
    assert stored.used_at is None
    first = consume_presentation_token(registry, token_hash=token, verifier_id=verifier.id)
    assert first.outcome is TokenOutcome.CONSUMED and first.token is not None
    assert first.token.used_at == clock() and first.token.used_by == verifier.id
    assert consume_presentation_token(registry, token_hash=token, verifier_id=verifier.id).outcome \
        is TokenOutcome.USED
    assert consume_presentation_token(registry, token_hash=_token(), verifier_id=verifier.id).outcome \
        is TokenOutcome.UNKNOWN

    late = _token()
    create_presentation_token(registry, token_hash=late, identifier=licence.identifier, holder_id=holder.id,
                              purpose="hotel", expires_at=clock() + timedelta(minutes=5))
    clock.advance(minutes=5)  # exactly at expires_at: expired
    assert consume_presentation_token(registry, token_hash=late, verifier_id=verifier.id).outcome \
        is TokenOutcome.EXPIRED
    clock.advance(seconds=-1)  # one second before: still usable
    assert consume_presentation_token(registry, token_hash=late, verifier_id=verifier.id).outcome \
        is TokenOutcome.CONSUMED


def test_racing_verifiers_cannot_both_use_a_token(registry: Registry, make_license, clock: FakeClock) -> None:
    licence = make_license()
    holder = _principal(registry, "holder")
    verifiers = [_principal(registry, "verifier", role="police") for _ in range(6)]
    token = _token()
    create_presentation_token(registry, token_hash=token, identifier=licence.identifier, holder_id=holder.id,
                              purpose="police", expires_at=clock() + timedelta(minutes=5))
    start = Barrier(len(verifiers))

    def race(verifier_id: int) -> TokenOutcome:
        start.wait()
        return consume_presentation_token(registry, token_hash=token, verifier_id=verifier_id).outcome

    with ThreadPoolExecutor(len(verifiers)) as pool:
        outcomes = list(pool.map(race, [v.id for v in verifiers]))
    assert outcomes.count(TokenOutcome.CONSUMED) == 1
    assert outcomes.count(TokenOutcome.USED) == len(verifiers) - 1


def test_a_token_is_refused_when_already_expired_or_malformed(registry: Registry, make_license,
                                                               clock: FakeClock) -> None:
    licence = make_license()
    holder = _principal(registry, "holder")
    with pytest.raises(InvalidValueError, match="expires_at"):
        create_presentation_token(registry, token_hash=_token(), identifier=licence.identifier, holder_id=holder.id,
                                  purpose="hotel", expires_at=clock())
    with pytest.raises(InvalidValueError, match="token_hash"):
        create_presentation_token(registry, token_hash="not-hex", identifier=licence.identifier, holder_id=holder.id,
                                  purpose="hotel", expires_at=clock() + timedelta(minutes=1))


def test_acceptance_records(registry: Registry, make_license) -> None:
    licence, other = make_license(), make_license()
    window = _principal(registry, "verifier", role="window")
    with registry.transaction() as tx:
        first = add_acceptance_record(tx, identifier=licence.identifier, verifier_id=window.id, purpose="容缺受理",
                                      detail={"channel": "qr", "fields": ["name", "address"]})
    add_acceptance_record(registry, identifier=other.identifier, verifier_id=window.id, purpose="容缺受理",
                          detail={"channel": "online"})
    found = list_acceptance_records(registry, identifier=licence.identifier)
    assert [r.id for r in found] == [first.id]
    assert found[0].verifier_id == window.id and found[0].detail["fields"] == ("name", "address")
    assert len(list_acceptance_records(registry, verifier_id=window.id)) == 2
    holder = _principal(registry, "holder")
    with pytest.raises(NotFoundError):
        add_acceptance_record(registry, identifier=licence.identifier, verifier_id=holder.id, purpose="x", detail={})


def test_a_licence_without_a_status_list_entry_has_no_slot(registry: Registry, make_license) -> None:
    assert status_slot(registry, make_license().identifier) is None


def test_a_presentation_finds_the_licence_status_list_slot(registry: Registry, make_license, department,
                                                           clock: FakeClock) -> None:
    from sqlalchemy.orm import Session

    from registry.tables import StatusListEntry

    licence = make_license()
    with Session(registry.engine) as session, session.begin():
        session.add(StatusListEntry(identifier=licence.identifier, department_id=department.id, list_id=3,
                                    idx=90_210, created_at=clock()))
    slot = status_slot(registry, licence.identifier)
    assert slot is not None and (slot.department_uscc, slot.list_id, slot.index) == (department.uscc, 3, 90_210)
