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

from .errors import DataKeyRequiredError, RegistryError


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
class PrincipalRecord:
    """An administrator, a verifier (with its role) or a holder who calls the API with a bearer key."""

    id: int
    kind: str
    name: str
    role: str | None
    active: bool
    created_at: datetime


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
    """A licence type of the catalogue (GB/T 36902): type code, short name (slug), definer, and its
    whole definition as JSON (``issuance.catalog.license_type_to_dict``), if stored."""

    code: str
    slug: str
    name: str
    definer_uscc: str
    definer_name: str
    holder_kind: str
    definition_json: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LicensePersonalData:
    """The decrypted personal content of a licence version (stored encrypted, see registry.crypto).

    ``pdf`` is ``None`` in listings, which do not load PDFs; it takes no part in comparisons (a
    version's PDF never changes), so a listed record equals the same version fetched whole.
    """

    holder_name: str
    holder_code: str
    fields: Mapping[str, str]
    qr_text: str
    pdf: bytes | None = field(compare=False)


_PDF_NOT_LOADED = "listings do not carry the PDF: get the licence by its identifier"


@dataclass(frozen=True)
class LicenseRecord:
    """An issued licence version (电子证照) under its GB/T 36904 identifier.

    Identifier, type, issuer, serial, version, holder code type, status, dates and the superseded
    version are always there. The personal data (``holder_name``, ``holder_code``, ``fields``,
    ``qr_text``, ``pdf``) is there only when the registry was opened with its data key; asking for
    it otherwise raises :class:`~registry.errors.DataKeyRequiredError`. None of it appears in ``repr``.
    """

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
    # 持证主体代码类型: 111 公民身份号码, 001 统一社会信用代码.
    holder_code_type: str
    # The identifier of the version this one replaced (amend / reissue), if any.
    supersedes: str | None = None
    personal: LicensePersonalData | None = field(default=None, repr=False)

    @property
    def has_personal_data(self) -> bool:
        """Whether the personal data was decrypted into this record."""
        return self.personal is not None

    def _personal(self) -> LicensePersonalData:
        if self.personal is None:
            raise DataKeyRequiredError()
        return self.personal

    @property
    def holder_name(self) -> str:
        """持证主体 (the holder's name)."""
        return self._personal().holder_name

    @property
    def holder_code(self) -> str:
        """持证主体代码 (公民身份号码 or 统一社会信用代码)."""
        return self._personal().holder_code

    @property
    def fields(self) -> Mapping[str, str]:
        """The licence's field values (read-only)."""
        return self._personal().fields

    @property
    def qr_text(self) -> str:
        """The QR credential text (``YX1:…``)."""
        return self._personal().qr_text

    @property
    def pdf(self) -> bytes:
        """The sealed licence PDF."""
        pdf = self._personal().pdf
        if pdf is None:
            raise RegistryError(_PDF_NOT_LOADED)
        return pdf


@dataclass(frozen=True)
class NewLicense:
    """One licence version to store with :meth:`registry.Registry.bulk_add_licenses` (the same values
    :meth:`registry.Registry.add_license` takes)."""

    identifier: str
    type_code: str
    department_uscc: str
    seal_id: str
    serial: str
    version: int
    holder_name: str = field(repr=False)
    holder_code: str = field(repr=False)
    fields: Mapping[str, str] = field(repr=False)
    status: str
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None
    qr_text: str = field(repr=False)
    pdf: bytes = field(repr=False)
    holder_code_type: str | None = None


@dataclass(frozen=True)
class LicenseChangeRecord:
    """One lifecycle change of a licence (issue, amend, suspend, resume, revoke, cancel, expire,
    reissue): the status before and after, who made it and why."""

    id: int
    identifier: str
    action: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    occurred_at: datetime


@dataclass(frozen=True)
class ImportJobRecord:
    """A bulk import of one file (job id: SHA-256 of department and file bytes)."""

    job_id: str
    file_name: str
    total_rows: int
    created_at: datetime
    finished_at: datetime | None
    rows_recorded: int


@dataclass(frozen=True)
class ImportRowRecord:
    """The outcome of one row of an import: its licence identifier, or the bad field and the error."""

    job_id: str
    row_no: int
    identifier: str | None
    error_field: str | None
    error: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class IssuedCount:
    """Licences of one type issued by one department: every version, and those now active."""

    type_code: str
    department_uscc: str
    issued: int
    active: int


@dataclass(frozen=True)
class DailyCount:
    """How many events of a kind (e.g. verifications) happened on one UTC day."""

    day: date
    count: int


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
