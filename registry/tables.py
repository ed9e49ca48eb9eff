"""The registry's tables (SQLAlchemy 2 declarative models).

These ORM classes never leave the package: :mod:`registry.repositories` turns rows into the frozen
records of :mod:`registry.records`. The schema is created and changed only by the Alembic migrations
in ``registry/migrations``; a test checks that they and this module agree.

Portability (SQLite and PostgreSQL):
- every instant is a timezone-aware UTC ``datetime`` (:class:`UTCDateTime`): PostgreSQL stores
  ``timestamp with time zone``; SQLite stores the UTC wall time as text, read back as UTC;
- binary data (certificate DER, seal PNG, encrypted licence content) is ``LargeBinary`` (``bytea`` /
  ``BLOB``);
- JSON documents are canonical JSON *text*, so that their bytes (and the event hashes over them)
  are identical on both databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .crypto import HOLDER_CODE_TYPES

# Constraint names are fixed so that migrations can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The licence statuses of the public contract (DESIGN.md "Verification result"); ``superseded`` is an
# older version after an amendment or re-issue (issuance.lifecycle).
LICENSE_STATUSES = ("active", "suspended", "revoked", "cancelled", "expired", "superseded")
# The lifecycle actions recorded in license_changes (issuance.lifecycle.LifecycleAction values).
LICENSE_ACTIONS = ("issue", "amend", "suspend", "resume", "revoke", "cancel", "expire", "reissue")
# The seal lifecycle after 制发 (issued): 启用 → 暂停 / 挂失 → 注销 / 吊销.
SEAL_STATUSES = ("issued", "active", "suspended", "lost", "cancelled", "revoked")
# Principals other than departments.
PRINCIPAL_KINDS = ("admin", "verifier", "holder")
# ca.SignatureAlgorithm value used when a department does not choose one.
DEFAULT_ALGORITHM = "ecdsa-p256-sha256"
# ca.CertificateKind values.
# seal-maker: the 制章者 end-entity certificate that signs GB/T 38540 SESeal structures.
CERTIFICATE_KINDS = ("root-ca", "issuing-ca", "seal", "seal-maker")

# Wide enough for any 64-bit sequence; SQLite needs INTEGER for an autoincrementing rowid alias.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant, stored portably.

    Naive datetimes are refused on the way in (they are ambiguous); values come back aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("registry datetimes must be timezone-aware")
        value = value.astimezone(UTC)
        # SQLite has no time-zone type: store the UTC wall time and re-attach UTC when reading.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - drivers return datetime
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        # SQLite gives back the stored UTC wall time; PostgreSQL an aware value in the session's zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the registry tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        date: Date(),
        bytes: LargeBinary(),
        float: Float(),
    }


class Department(Base):
    """An issuing department (发证部门), identified by its 统一社会信用代码 (GB 32100)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 hex of the department's bearer API key; the key itself is never stored.
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # The signature algorithm of the department's new seals (ca.SignatureAlgorithm value), e.g. sm2-sm3.
    algorithm: Mapped[str] = mapped_column(String(32), server_default=DEFAULT_ALGORITHM)


class Principal(Base):
    """Someone who calls the API other than a department: an administrator, a verifier with a role
    (hotel, police, service window), or a holder. Only the hash of its bearer key is stored."""

    __tablename__ = "principals"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_quoted(PRINCIPAL_KINDS)})", name="kind"),
        UniqueConstraint("kind", "name", name="uq_principals_kind_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # A verifier's role (e.g. hotel, police, window): the verifier policies are keyed by it.
    role: Mapped[str | None] = mapped_column(String(32))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime]
    # A holder's own 持证主体代码, as the keyed blind index (registry.crypto) and its code type (111/001):
    # a holder reaches only the licences whose holder_code_index is this.
    holder_code_index: Mapped[str | None] = mapped_column(String(64), index=True)
    holder_code_type: Mapped[str | None] = mapped_column(String(3))


class StatusListEntry(Base):
    """A licence's place in its issuer's status list (IETF Token Status List / W3C Bitstring Status List).

    Indices are drawn at random (so an index says nothing about issue order) and are unique within one
    department's list ``list_id``; a licence version has exactly one.
    """

    __tablename__ = "status_list_entries"
    __table_args__ = (UniqueConstraint("department_id", "list_id", "idx", name="uq_status_list_entries_slot"),)

    identifier: Mapped[str] = mapped_column(ForeignKey("licenses.identifier"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    list_id: Mapped[int] = mapped_column(Integer)
    idx: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class PresentationToken(Base):
    """A single-use online presentation (a holder shows one licence for one purpose): only the token's
    SHA-256 is stored; ``used_at`` is set once, by the first verifier that resolves it."""

    __tablename__ = "presentation_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    identifier: Mapped[str] = mapped_column(ForeignKey("licenses.identifier"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("principals.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("principals.id"))


class AcceptanceRecord(Base):
    """A service window's record of accepting a licence (容缺受理): who, which licence, for what."""

    __tablename__ = "acceptance_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(ForeignKey("licenses.identifier"), index=True)
    verifier_id: Mapped[int] = mapped_column(ForeignKey("principals.id"))
    purpose: Mapped[str] = mapped_column(String(200))
    detail_json: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]


class Certificate(Base):
    """An X.509 certificate the CA made (root CA, issuing CA, seal), RFC 5280."""

    __tablename__ = "certificates"
    __table_args__ = (CheckConstraint(f"kind IN ({_quoted(CERTIFICATE_KINDS)})", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Lower-case hex of the serialNumber (RFC 5280 §4.1.2.2: at most 20 octets).
    serial_hex: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    subject: Mapped[str] = mapped_column(Text)
    issuer_subject: Mapped[str] = mapped_column(Text)
    der: Mapped[bytes]
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    # Identifier of the private key in the key store (software or PKCS #11), if this home holds it.
    key_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Seal(Base):
    """An electronic seal (电子印章) of a department: key, certificate and picture (GB/T 38540)."""

    __tablename__ = "seals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    seal_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(200))
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    image_png: Mapped[bytes]
    image_width_mm: Mapped[float]
    created_at: Mapped[datetime]

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    certificate: Mapped[Certificate] = relationship(lazy="joined", innerjoin=True)


class LicenseType(Base):
    """A licence type of the catalogue (证照目录, GB/T 36902): its 21-character type code and definer."""

    __tablename__ = "license_types"

    code: Mapped[str] = mapped_column(String(21), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    definer_uscc: Mapped[str] = mapped_column(String(18))
    definer_name: Mapped[str] = mapped_column(String(200))
    holder_kind: Mapped[str] = mapped_column(String(32))
    # The whole definition (fields, validity rule, face) as JSON (issuance.catalog.license_type_to_dict).
    definition_json: Mapped[str | None] = mapped_column(Text)


class LicenseTypeIssuer(Base):
    """A department allowed to issue a licence type (GB/T 36902: 发证机构 of a catalogue entry)."""

    __tablename__ = "license_type_issuers"

    type_code: Mapped[str] = mapped_column(ForeignKey("license_types.code"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)


class License(Base):
    """An issued licence version (电子证照): its GB/T 36904 identifier, status and encrypted content.

    Personal data is stored encrypted (see :mod:`registry.crypto`): the holder's name and code, the
    field values (canonical JSON), the QR text and the sealed PDF, each an AES-256-GCM token bound to
    this table, its column and the identifier. ``holder_code_index`` is the keyed blind index that
    finds a holder's licences. An amended or re-issued licence is a new row (version + 1, same type,
    issuer and serial) that names the row it supersedes.
    """

    __tablename__ = "licenses"
    __table_args__ = (
        CheckConstraint(f"status IN ({_quoted(LICENSE_STATUSES)})", name="status"),
        CheckConstraint(f"holder_code_type IN ({_quoted(HOLDER_CODE_TYPES)})", name="holder_code_type"),
        # GB/T 36904: type, issuer and serial identify a licence; each version is one row.
        UniqueConstraint("type_code", "department_id", "serial", "version", name="uq_licenses_version"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    # 1.2.156.3005.2.<21>.<18>.<serial>.<3>.<check> (GB/T 36904), at most ~120 characters.
    identifier: Mapped[str] = mapped_column(String(128), unique=True)
    # Found by type through uq_licenses_version, whose first column it is (no index of its own: each
    # index costs every bulk insert).
    type_code: Mapped[str] = mapped_column(ForeignKey("license_types.code"))
    # Indexed together with id below (a department's licences, newest first).
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    # Not indexed: nothing looks licences up by seal, and seals are never deleted.
    seal_id: Mapped[str] = mapped_column(ForeignKey("seals.id"))
    serial: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    holder_code_type: Mapped[str] = mapped_column(String(3))
    # HMAC-SHA256 hex of "<code type>:<normalised holder code>" (registry.crypto.FieldCipher.blind_index).
    holder_code_index: Mapped[str] = mapped_column(String(64), index=True)
    holder_name_ciphertext: Mapped[bytes]
    holder_code_ciphertext: Mapped[bytes]
    fields_ciphertext: Mapped[bytes]
    qr_text_ciphertext: Mapped[bytes]
    pdf_ciphertext: Mapped[bytes]
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    # Identifier of the previous version (amend / reissue), if any.
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("licenses.identifier"))
    created_at: Mapped[datetime]

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class LicenseChange(Base):
    """One lifecycle change of a licence: who did what, why, and the status before and after."""

    __tablename__ = "license_changes"
    __table_args__ = (CheckConstraint(f"action IN ({_quoted(LICENSE_ACTIONS)})", name="action"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    identifier: Mapped[str] = mapped_column(ForeignKey("licenses.identifier"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[datetime]


class ImportJob(Base):
    """A bulk import of licence records from one file; its id is SHA-256(department ‖ file bytes)."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    total_rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ImportRow(Base):
    """The outcome of one row of an import: the licence it became, or the field and error."""

    __tablename__ = "import_rows"
    __table_args__ = (
        UniqueConstraint("job_id", "row_no", name="uq_import_rows_job_id_row_no"),
        CheckConstraint("(identifier IS NULL) <> (error IS NULL)", name="outcome"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("import_jobs.id"))
    row_no: Mapped[int] = mapped_column(Integer)
    identifier: Mapped[str | None] = mapped_column(ForeignKey("licenses.identifier"))
    error_field: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[datetime]


class DataKeyCheck(Base):
    """Identifies the data key personal data was encrypted with (registry.crypto.FieldCipher.key_check),
    so that a registry opened with another key says so instead of finding nothing."""

    __tablename__ = "data_key_checks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    check_value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Event(Base):
    """One entry of the append-only, hash-chained event record (see :mod:`registry.events`)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    # 1, 2, 3, … with no gaps; part of the hashed content.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    detail_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# Listing a department's licences newest first.
Index("ix_licenses_department_id_id", License.department_id, License.id)
# Counting verifications per day (events of one kind in a time range).
Index("ix_events_kind_occurred_at", Event.kind, Event.occurred_at)
