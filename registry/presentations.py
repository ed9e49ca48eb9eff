"""Front-line verification records: holders' blind index, single-use presentation tokens, acceptance records.

Functions over a :class:`~registry.Registry` (they join its transaction when called on ``tx``):

- a holder principal (``principals`` of kind ``holder``) carries its own 持证主体代码 only as the keyed
  blind index (:meth:`registry.crypto.FieldCipher.blind_index`) and its code type; a holder reaches the
  licences whose ``holder_code_index`` is the same — compared in SQL, so no code is ever decrypted to
  decide it;
- an online presentation is a random token of which only the SHA-256 is stored; it is consumed at most
  once by one conditional ``UPDATE … WHERE used_at IS NULL AND expires_at > now`` (atomic on SQLite,
  whose write lock is taken at BEGIN, and on PostgreSQL, whose row lock makes a second concurrent
  UPDATE re-check the condition and find it false);
- a service window's acceptance (容缺受理) leaves a row in ``acceptance_records``.

This module lives inside the registry package and uses the repository's unit-of-work helpers.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer

from .crypto import check_holder_code_type
from .errors import InvalidValueError, NotFoundError
from .events import detail_json
from .records import LicenseRecord
from .repositories import Registry, _check_aware, _check_limit, _check_sha256_hex, _check_text, _license
from .tables import AcceptanceRecord, License, PresentationToken, Principal

__all__ = [
    "AcceptanceEntry",
    "HolderIdentity",
    "PresentationTokenRecord",
    "TokenConsumption",
    "TokenOutcome",
    "add_acceptance_record",
    "consume_presentation_token",
    "create_presentation_token",
    "holder_identity",
    "holder_licenses",
    "holder_owns_license",
    "list_acceptance_records",
    "set_holder_code",
]

_MAX_PURPOSE = 32  # presentation_tokens.purpose
_MAX_ACCEPTANCE_PURPOSE = 200  # acceptance_records.purpose


@dataclass(frozen=True)
class HolderIdentity:
    """A holder principal's code type (111 / 001) and whether its blind index is set (never the code)."""

    principal_id: int
    holder_code_type: str | None
    has_holder_code: bool


@dataclass(frozen=True)
class PresentationTokenRecord:
    """A stored online presentation: the token's SHA-256, the licence, holder, purpose and lifetime."""

    token_hash: str
    identifier: str
    holder_id: int
    purpose: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None


class TokenOutcome(enum.Enum):
    """What consuming a token found."""

    CONSUMED = "consumed"
    """This call used the token: it was unused and not expired."""
    USED = "used"
    """Someone used it before (replay)."""
    EXPIRED = "expired"
    """Unused, but its time is over."""
    UNKNOWN = "unknown"
    """No such token."""


@dataclass(frozen=True)
class TokenConsumption:
    """The outcome of :func:`consume_presentation_token` and the token as stored afterwards."""

    outcome: TokenOutcome
    token: PresentationTokenRecord | None


@dataclass(frozen=True)
class AcceptanceEntry:
    """A service window's acceptance of a licence (容缺受理): which licence, which verifier, why, when."""

    id: int
    identifier: str
    verifier_id: int
    purpose: str
    detail: Any
    occurred_at: datetime


def _holder_row(s: Session, holder_id: int) -> Principal:
    row = s.get(Principal, holder_id, populate_existing=True)
    if row is None or row.kind != "holder":
        raise NotFoundError(f"no holder #{holder_id}")
    return row


# -- holders -----------------------------------------------------------------------------------------------

def set_holder_code(registry: Registry, holder_id: int, *, holder_code: str, holder_code_type: str) -> None:
    """Store a holder principal's own 持证主体代码 as the keyed blind index (needs the data key).

    The code is expected validated (GB 11643 / GB 32100) by the caller; it is never stored itself.
    """
    check_holder_code_type(holder_code_type)
    _check_text("holder_code", holder_code, 64)
    with registry._work(write=True) as s:
        cipher = registry._data_key(s, write=True)
        row = _holder_row(s, holder_id)
        row.holder_code_index = cipher.blind_index(holder_code, code_type=holder_code_type)
        row.holder_code_type = holder_code_type
        s.flush()


def holder_identity(registry: Registry, holder_id: int) -> HolderIdentity:
    """The holder's code type and whether its blind index is set."""
    with registry._work(write=False) as s:
        row = _holder_row(s, holder_id)
        return HolderIdentity(principal_id=row.id, holder_code_type=row.holder_code_type,
                              has_holder_code=row.holder_code_index is not None)


def holder_owns_license(registry: Registry, *, holder_id: int, identifier: str) -> bool:
    """Whether the licence's holder code is the holder's own (blind indexes and code types equal).

    ``False`` for an unknown licence, an inactive or unknown holder, or a holder without a code.
    """
    with registry._work(write=False) as s:
        found = s.execute(
            select(License.id)
            .join(Principal, Principal.holder_code_index == License.holder_code_index)
            .where(
                License.identifier == identifier,
                Principal.id == holder_id,
                Principal.kind == "holder",
                Principal.active.is_(True),
                Principal.holder_code_type == License.holder_code_type,
            )
        ).first()
        return found is not None


def holder_licenses(registry: Registry, holder_id: int, *, limit: int = 100) -> list[LicenseRecord]:
    """The holder's own licences (not superseded versions), newest first; with personal data (but no PDF)
    when the registry has the data key."""
    _check_limit(limit)
    with registry._work(write=False) as s:
        cipher = registry._data_key(s, write=False) if registry.has_data_key else None
        row = _holder_row(s, holder_id)
        if row.holder_code_index is None:
            return []
        query = (
            select(License)
            .options(defer(License.pdf_ciphertext))
            .where(License.holder_code_index == row.holder_code_index,
                   License.holder_code_type == row.holder_code_type,
                   License.status != "superseded")
            .order_by(License.id.desc())
            .limit(limit)
        )
        return [_license(found, cipher, with_pdf=False) for found in s.scalars(query)]


# -- single-use tokens ------------------------------------------------------------------------------------

def _token(row: PresentationToken) -> PresentationTokenRecord:
    return PresentationTokenRecord(token_hash=row.token_hash, identifier=row.identifier, holder_id=row.holder_id,
                                   purpose=row.purpose, created_at=row.created_at, expires_at=row.expires_at,
                                   used_at=row.used_at, used_by=row.used_by)


def create_presentation_token(
    registry: Registry, *, token_hash: str, identifier: str, holder_id: int, purpose: str, expires_at: datetime
) -> PresentationTokenRecord:
    """Store a new online presentation by its token's SHA-256 (hex); it expires at ``expires_at``."""
    _check_sha256_hex(token_hash, field="token_hash")
    _check_text("purpose", purpose, _MAX_PURPOSE)
    _check_aware("expires_at", expires_at)
    created_at = registry._now()
    if expires_at <= created_at:
        raise InvalidValueError("expires_at: must be in the future")
    with registry._work(write=True, duplicate="this presentation token already exists") as s:
        _holder_row(s, holder_id)
        row = PresentationToken(token_hash=token_hash, identifier=identifier, holder_id=holder_id, purpose=purpose,
                                created_at=created_at, expires_at=expires_at, used_at=None, used_by=None)
        s.add(row)
        s.flush()
        return _token(row)


def consume_presentation_token(registry: Registry, *, token_hash: str, verifier_id: int) -> TokenConsumption:
    """Use a token once: the first caller while it is unused and unexpired gets ``CONSUMED``; every
    later (or concurrent) caller gets ``USED``; after ``expires_at`` it is ``EXPIRED``.

    One conditional UPDATE decides, so two verifiers racing for the same token cannot both win.
    """
    _check_sha256_hex(token_hash, field="token_hash")
    now = registry._now()
    with registry._work(write=True) as s:
        changed = s.execute(
            update(PresentationToken)
            .where(PresentationToken.token_hash == token_hash, PresentationToken.used_at.is_(None),
                   PresentationToken.expires_at > now)
            .values(used_at=now, used_by=verifier_id)
            .execution_options(synchronize_session=False)
        )
        row = s.get(PresentationToken, token_hash, populate_existing=True)
        if row is None:
            return TokenConsumption(TokenOutcome.UNKNOWN, None)
        if getattr(changed, "rowcount", 0) == 1:
            return TokenConsumption(TokenOutcome.CONSUMED, _token(row))
        outcome = TokenOutcome.USED if row.used_at is not None else TokenOutcome.EXPIRED
        return TokenConsumption(outcome, _token(row))


# -- acceptance records -----------------------------------------------------------------------------------

def _acceptance(row: AcceptanceRecord) -> AcceptanceEntry:
    return AcceptanceEntry(id=row.id, identifier=row.identifier, verifier_id=row.verifier_id, purpose=row.purpose,
                           detail=_frozen(json.loads(row.detail_json)), occurred_at=row.occurred_at)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def add_acceptance_record(
    registry: Registry, *, identifier: str, verifier_id: int, purpose: str, detail: dict[str, Any]
) -> AcceptanceEntry:
    """Record that a verifier accepted a licence for ``purpose`` (``detail``: plain JSON, no secrets)."""
    _check_text("purpose", purpose, _MAX_ACCEPTANCE_PURPOSE)
    text = detail_json(detail)
    with registry._work(write=True) as s:
        verifier = s.get(Principal, verifier_id)
        if verifier is None or verifier.kind != "verifier":
            raise NotFoundError(f"no verifier #{verifier_id}")
        row = AcceptanceRecord(identifier=identifier, verifier_id=verifier_id, purpose=purpose, detail_json=text,
                               occurred_at=registry._now())
        s.add(row)
        s.flush()
        return _acceptance(row)


def list_acceptance_records(
    registry: Registry, *, identifier: str | None = None, verifier_id: int | None = None, limit: int = 100
) -> list[AcceptanceEntry]:
    """Acceptance records, newest first, optionally of one licence or one verifier."""
    _check_limit(limit)
    with registry._work(write=False) as s:
        query = select(AcceptanceRecord).order_by(AcceptanceRecord.id.desc()).limit(limit)
        if identifier is not None:
            query = query.where(AcceptanceRecord.identifier == identifier)
        if verifier_id is not None:
            query = query.where(AcceptanceRecord.verifier_id == verifier_id)
        return [_acceptance(row) for row in s.scalars(query)]


# -- status list reference ------------------------------------------------------------------------------

