"""What the registry returns: frozen records, detached from the database.

The repository (:class:`registry.Registry`) never hands out ORM objects; it copies each row into one
of these immutable values, so callers can keep them after the transaction ended and cannot write
to the database by accident. Binary payloads and personal data are left out of ``repr`` so a record
can be logged without leaking a PDF, a seal picture or a holder's identity number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class DepartmentRecord:
    """An issuing department (发证部门) and the hash of its API key (GB 32100 code in ``uscc``)."""

    id: int
    uscc: str
    name: str
    created_at: datetime
    # SHA-256 hex of the bearer key; the key itself is never stored.
    api_key_hash: str | None = field(default=None, repr=False)
    # The signature algorithm of the department's new seals (ca.SignatureAlgorithm value).
    algorithm: str = "ecdsa-p256-sha256"


@dataclass(frozen=True)
class CertificateRecord:
    """A stored X.509 certificate (RFC 5280) with the fields the registry indexes."""

    id: int
    serial_hex: str
    kind: str
    subject: str
    issuer_subject: str
    not_before: datetime
    not_after: datetime
    key_id: str | None
    created_at: datetime
    der: bytes = field(repr=False)


@dataclass(frozen=True)
class SealRecord:
    """An electronic seal (电子印章, GB/T 38540): its key, certificate and picture."""

    seal_id: str
    department_uscc: str
    name: str
    seal_type: str
    status: str
    key_id: str
    certificate_id: int
    image_width_mm: float
    created_at: datetime
    image_png: bytes = field(repr=False)


@dataclass(frozen=True)
class LicenseTypeRecord:
    """A licence type of the catalogue (GB/T 36902): type code, short name (slug), definer."""

    code: str
    slug: str
    name: str
    definer_uscc: str
    definer_name: str
    holder_kind: str


@dataclass(frozen=True)
class LicenseRecord:
    """An issued licence (电子证照) under its GB/T 36904 identifier."""

    id: int
    identifier: str
    type_code: str
    department_uscc: str
    seal_id: str
    serial: str
    version: int
    status: str
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None
    created_at: datetime
    holder_name: str = field(repr=False)
    holder_code: str = field(repr=False)
    fields: Mapping[str, str] = field(repr=False)
    qr_text: str = field(repr=False)
    pdf: bytes = field(repr=False)


@dataclass(frozen=True)
class EventRecord:
    """One entry of the tamper-evident event record (see :mod:`registry.events` for the hash)."""

    id: int
    seq: int
    occurred_at: datetime
    kind: str
    actor: str
    subject: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainProblem:
    """A place where the event record is not what was appended: altered, missing or out of order.

    ``seq`` and ``event_id`` name the first record at which the chain stops verifying (``event_id``
    is ``None`` when the record itself is gone).
    """

    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" + (f" (id {self.event_id})" if self.event_id is not None else "")
        return f"{where}: {self.reason}"
