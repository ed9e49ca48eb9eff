"""The registry repository: departments, certificates, seals, licence types, licences and events.

:class:`Registry` is the only way in. It is built from an :class:`~sqlalchemy.Engine` and a clock,
returns frozen records (never ORM objects) and never commits behind the caller's back:

- called directly, each method runs in its own short transaction;
- inside ``with registry.transaction() as tx:`` the same methods, called on ``tx``, share one
  transaction that commits when the block ends and rolls back entirely if anything in it raises.
  If a database operation inside the block fails and the caller catches the error, the block still
  rolls back (and says so) rather than commit half of the work.

Database failures surface as :mod:`registry.errors` exceptions with safe messages; the driver's
exception is chained as the cause.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cryptography import x509
from sqlalchemy import Engine, case, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, defer

from verification.ports import LicenseStatusSource, StatusUnavailableError

from .crypto import HOLDER_CODE_TYPES, FieldCipher, check_holder_code_type
from .db import SQLITE_BEGIN
from .errors import (
    DatabaseUnavailableError,
    DataKeyError,
    DataKeyRequiredError,
    DuplicateError,
    InvalidValueError,
    NotFoundError,
    RegistryError,
    StatusConflictError,
)
from .events import GENESIS_HASH, ChainWalker, StoredEvent, detail_json, event_hash
from .records import (
    CertificateRecord,
    ChainProblem,
    DailyCount,
    DepartmentRecord,
    EventRecord,
    ImportJobRecord,
    ImportRowRecord,
    IssuedCount,
    LicenseChangeRecord,
    LicensePersonalData,
    LicenseRecord,
    LicenseTypeRecord,
    NewLicense,
    PrincipalRecord,
    SealRecord,
)
from .tables import (
    CERTIFICATE_KINDS,
    DEFAULT_ALGORITHM,
    LICENSE_ACTIONS,
    LICENSE_STATUSES,
    PRINCIPAL_KINDS,
    SEAL_STATUSES,
    Certificate,
    DataKeyCheck,
    Department,
    Event,
    ImportJob,
    ImportRow,
    License,
    LicenseChange,
    LicenseType,
    LicenseTypeIssuer,
    Principal,
    Seal,
)

Clock = Callable[[], datetime]
# (code, slug, name, definer_uscc, definer_name, holder_kind[, definition_json])
LicenseTypeRow = tuple[str, str, str, str, str, str] | tuple[str, str, str, str, str, str, str | None]

# The seal type a licence is stamped with (公章, the organisation's official seal).
OFFICIAL_SEAL_TYPE = "公章"
MAX_LIST_LIMIT = 1000
# pg_advisory_xact_lock key serialising event appends ("YXEVENTS").
_EVENT_CHAIN_LOCK_KEY = 0x59584556454E5453
_CHAIN_PAGE = 1000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEX = frozenset("0123456789abcdef")
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)
_DATA_KEY_NAME = "registry"
_LICENSE_IDENTIFIER_ROOT = "1.2.156.3005.2"
# The event kind of each lifecycle action.
_ACTION_EVENT_KINDS = {
    "issue": "license.issued",
    "amend": "license.amended",
    "suspend": "license.suspended",
    "resume": "license.resumed",
    "revoke": "license.revoked",
    "cancel": "license.cancelled",
    "expire": "license.expired",
    "reissue": "license.reissued",
}
_VERSION_ACTIONS = ("amend", "reissue")
_LICENSES = License.metadata.tables["licenses"]
VERIFICATION_EVENT_KIND = "license.verified"
MAX_STATISTICS_DAYS = 366
BULK_CHUNK_ROWS = 5000


def utc_now() -> datetime:
    """The default clock, used only when the caller injects none (the edge of the system)."""
    return datetime.now(UTC)


@dataclass
class _TransactionState:
    failed: bool = False
    ended: bool = False


@dataclass
class _KeyState:
    # Set once the stored data-key check was found equal to the cipher's (shared by transactions).
    checked: bool = False


class Registry:
    """Stores and finds the registry's records; implements
    :class:`verification.ports.LicenseStatusSource`.

    ``clock`` supplies ``created_at`` and event times; it must return timezone-aware datetimes.
    ``cipher`` (the home's data key, see :mod:`registry.crypto`) is needed to write licences and to
    read their personal data (holder name and code, fields, QR text, PDF) or find them by holder;
    without it, statuses, listings, lifecycle changes, the catalogue and the statistics still work.
    A ``Registry`` is safe to share between threads; a transaction object (``tx``) is not.
    """

    def __init__(self, engine: Engine, *, clock: Clock = utc_now, cipher: FieldCipher | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._cipher = cipher
        self._keys = _KeyState()
        self._session: Session | None = None
        self._state: _TransactionState | None = None

    def __repr__(self) -> str:
        bound = " (transaction)" if self._session is not None else ""
        return f"Registry({self._engine.dialect.name}{bound})"

    @property
    def engine(self) -> Engine:
        """The engine this registry uses."""
        return self._engine

    def with_cipher(self, cipher: FieldCipher | None) -> Registry:
        """A registry over the same engine and clock with this data key (e.g. opened once the passphrase
        is known, while verification keeps using the keyless one). Not inside a transaction."""
        if self._session is not None:
            raise RegistryError("with_cipher() is not available inside a transaction")
        return Registry(self._engine, clock=self._clock, cipher=cipher)

    @property
    def has_data_key(self) -> bool:
        """Whether this registry was opened with the data key (can read and write personal data)."""
        return self._cipher is not None

    def check_data_key(self) -> None:
        """Check that the data key is the one this database's personal data is encrypted with.

        On a database that holds no personal data yet, the key is registered as *the* key. Raises
        :class:`~registry.errors.DataKeyRequiredError` without a key and
        :class:`~registry.errors.DataKeyError` with another home's key (e.g. a wrong passphrase).
        """
        with self._work(write=True) as s:
            self._data_key(s, write=True)

    def _data_key(self, s: Session, *, write: bool) -> FieldCipher:
        """The cipher, after checking it against the stored key check (registering it on a write)."""
        cipher = self._cipher
        if cipher is None:
            raise DataKeyRequiredError()
        if self._keys.checked:
            return cipher
        query = select(DataKeyCheck.check_value).where(DataKeyCheck.name == _DATA_KEY_NAME)
        stored = s.scalar(query)
        if stored is None:
            if not write:
                return cipher
            # Several first writers at once: the first insert wins, the others compare with it.
            insert = _dialect_insert(self._engine)(DataKeyCheck).values(
                name=_DATA_KEY_NAME, check_value=cipher.key_check, created_at=self._now()
            )
            s.execute(insert.on_conflict_do_nothing(index_elements=[DataKeyCheck.name]))
            stored = s.scalar(query)
        elif hmac.compare_digest(stored, cipher.key_check):
            # Committed by an earlier transaction: no need to look again.
            self._keys.checked = True
        if stored is None or not hmac.compare_digest(stored, cipher.key_check):
            raise DataKeyError(
                "the registry data key is not the one this registry's personal data is encrypted with "
                "(wrong passphrase or key store?)"
            )
        return cipher

    # -- transactions ------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Registry]:
        """A unit of work: ``with registry.transaction() as tx: tx.add_license(...); tx.record_event(...)``.

        Commits when the block ends normally; rolls everything back if the block raises, or if any
        database operation inside it failed (then :class:`~registry.errors.RegistryError` is raised
        at the end of the block even if the caller caught the first error). Calling
        ``transaction()`` on ``tx`` joins the same transaction.
        """
        if self._session is not None:
            self._check_usable()
            yield self
            return
        state = _TransactionState()
        with self._translate(), self._open(write=True) as session:
            bound = Registry(self._engine, clock=self._clock, cipher=self._cipher)
            bound._keys = self._keys
            bound._session = session
            bound._state = state
            try:
                yield bound
            finally:
                state.ended = True
            if state.failed:
                raise RegistryError("the transaction was rolled back because an operation in it failed")

    unit_of_work = transaction

    @contextmanager
    def _open(self, *, write: bool) -> Iterator[Session]:
        with self._engine.connect() as connection:
            if write:
                # SQLite: take the database's write lock at BEGIN, so a transaction that reads and
                # then writes (the event chain) never finds its snapshot overtaken by another writer.
                connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with (
                connection.begin(),
                Session(bind=connection, autoflush=False, expire_on_commit=False) as session,
            ):
                yield session
                session.flush()

    @contextmanager
    def _work(self, *, write: bool, duplicate: str = "the record already exists") -> Iterator[Session]:
        """The session for one operation: the enclosing transaction's, or a new short one."""
        with self._translate(duplicate=duplicate):
            if self._session is None:
                with self._open(write=write) as session:
                    yield session
                return
            self._check_usable()
            try:
                yield self._session
            except SQLAlchemyError:
                assert self._state is not None
                self._state.failed = True
                raise

    def _check_usable(self) -> None:
        state = self._state
        assert state is not None
        if state.ended:
            raise RegistryError("this transaction has ended; start a new one")
        if state.failed:
            raise RegistryError("an earlier operation in this transaction failed; it will be rolled back")

    @staticmethod
    @contextmanager
    def _translate(*, duplicate: str = "the record already exists") -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise DuplicateError(duplicate) from exc
            raise RegistryError(
                "the record breaks a rule of the registry (missing reference or bad value)"
            ) from exc
        except _UNAVAILABLE as exc:
            if _is_missing_table(exc):
                raise DatabaseUnavailableError(
                    "the registry database has not been initialised (run the migrations)"
                ) from exc
            raise DatabaseUnavailableError("the registry database is unavailable") from exc
        except ProgrammingError as exc:
            if _is_missing_table(exc):
                raise DatabaseUnavailableError(
                    "the registry database has not been initialised (run the migrations)"
                ) from exc
            raise RegistryError("the registry database rejected the operation") from exc
        except SQLAlchemyError as exc:
            raise RegistryError("the registry database rejected the operation") from exc

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise RegistryError("the registry's clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    # -- departments -------------------------------------------------------------------------------

    def add_department(
        self, *, uscc: str, name: str, api_key_hash: str | None = None, algorithm: str = DEFAULT_ALGORITHM
    ) -> DepartmentRecord:
        """Register an issuing department by its 统一社会信用代码 (GB 32100).

        Raises :class:`~registry.errors.DuplicateError` if the USCC (or the API key hash) is taken.
        """
        _check_uscc(uscc)
        _check_text("name", name, 200)
        _check_text("algorithm", algorithm, 32)
        if api_key_hash is not None:
            _check_sha256_hex(api_key_hash)
        created_at = self._now()
        with self._work(write=True, duplicate="a department with this USCC or API key already exists") as s:
            row = Department(
                uscc=uscc, name=name, api_key_hash=api_key_hash, created_at=created_at, algorithm=algorithm
            )
            s.add(row)
            s.flush()
            return _department(row)

    def get_department(self, uscc: str) -> DepartmentRecord:
        """The department with this USCC; :class:`~registry.errors.NotFoundError` if there is none."""
        with self._work(write=False) as s:
            return _department(_department_row(s, uscc))

    def department_by_api_key_hash(self, api_key_hash: str) -> DepartmentRecord | None:
        """The department whose API key hashes (SHA-256 hex) to ``api_key_hash``, if any."""
        with self._work(write=False) as s:
            row = s.scalars(select(Department).where(Department.api_key_hash == api_key_hash)).one_or_none()
            return None if row is None else _department(row)

    def list_departments(self) -> list[DepartmentRecord]:
        """Every department, in the order they were added."""
        with self._work(write=False) as s:
            return [_department(row) for row in s.scalars(select(Department).order_by(Department.id))]

    def set_department_api_key_hash(self, *, uscc: str, api_key_hash: str | None) -> DepartmentRecord:
        """Replace the department's API key hash (``None`` revokes its key)."""
        if api_key_hash is not None:
            _check_sha256_hex(api_key_hash)
        with self._work(write=True, duplicate="this API key is already in use") as s:
            row = _department_row(s, uscc)
            row.api_key_hash = api_key_hash
            s.flush()
            return _department(row)

    # -- principals --------------------------------------------------------------------------------

    def add_principal(self, *, kind: str, name: str, api_key_hash: str, role: str | None = None) -> PrincipalRecord:
        """Register an administrator, a verifier (``role`` required) or a holder with its key's hash."""
        if kind not in PRINCIPAL_KINDS:
            raise InvalidValueError(f"kind: must be one of {', '.join(PRINCIPAL_KINDS)}")
        _check_text("name", name, 200)
        _check_sha256_hex(api_key_hash)
        if (kind == "verifier") != (role is not None):
            raise InvalidValueError("role: a verifier has a role, and only a verifier")
        if role is not None:
            _check_text("role", role, 32)
        with self._work(write=True, duplicate=f"a {kind} named {name!r} (or this key) already exists") as s:
            row = Principal(kind=kind, name=name, role=role, api_key_hash=api_key_hash, active=True,
                            created_at=self._now())
            s.add(row)
            s.flush()
            return _principal(row)

    def principal_by_api_key_hash(self, api_key_hash: str, *, kind: str | None = None) -> PrincipalRecord | None:
        """The active principal whose key hashes to ``api_key_hash`` (of ``kind``, if given)."""
        with self._work(write=False) as s:
            query = select(Principal).where(Principal.api_key_hash == api_key_hash, Principal.active.is_(True))
            if kind is not None:
                query = query.where(Principal.kind == kind)
            row = s.scalars(query).one_or_none()
            return None if row is None else _principal(row)

    def list_principals(self, *, kind: str | None = None) -> list[PrincipalRecord]:
        """Every principal (of ``kind``), in the order they were added."""
        with self._work(write=False) as s:
            query = select(Principal).order_by(Principal.id)
            if kind is not None:
                query = query.where(Principal.kind == kind)
            return [_principal(row) for row in s.scalars(query)]

    # -- certificates ------------------------------------------------------------------------------

    def add_certificate(self, *, kind: str, der: bytes, key_id: str | None) -> CertificateRecord:
        """Store a certificate (``kind``: ``root-ca``, ``issuing-ca`` or ``seal``) with the identifier of
        its private key in the key store. Subject, issuer, serial and validity come from the DER
        (RFC 5280 §4.1); SM2 certificates are accepted too.
        """
        with self._work(write=True, duplicate="a certificate with this serial number already exists") as s:
            row = self._certificate_row(kind=kind, der=der, key_id=key_id)
            s.add(row)
            s.flush()
            return _certificate(row)

    def _certificate_row(self, *, kind: str, der: bytes, key_id: str | None) -> Certificate:
        if kind not in CERTIFICATE_KINDS:
            raise InvalidValueError(f"kind: must be one of {', '.join(CERTIFICATE_KINDS)}")
        if key_id is not None:
            _check_text("key_id", key_id, 200)
        try:
            certificate = x509.load_der_x509_certificate(der)
            serial_hex = serial_to_hex(certificate.serial_number)
            subject = certificate.subject.rfc4514_string()
            issuer = certificate.issuer.rfc4514_string()
            not_before = certificate.not_valid_before_utc
            not_after = certificate.not_valid_after_utc
        except ValueError as exc:
            raise InvalidValueError("der: not a DER-encoded X.509 certificate") from exc
        return Certificate(
            serial_hex=serial_hex,
            kind=kind,
            subject=subject,
            issuer_subject=issuer,
            der=bytes(der),
            not_before=not_before,
            not_after=not_after,
            key_id=key_id,
            created_at=self._now(),
        )

    def get_certificate(self, certificate_id: int) -> CertificateRecord:
        """The certificate with this registry id."""
        with self._work(write=False) as s:
            row = s.get(Certificate, certificate_id)
            if row is None:
                raise NotFoundError(f"no certificate with id {certificate_id}")
            return _certificate(row)

    def get_certificate_by_serial(self, serial_number: int) -> CertificateRecord:
        """The certificate with this serialNumber (RFC 5280 §4.1.2.2), e.g. for OCSP and CRLs."""
        with self._work(write=False) as s:
            row = s.scalars(
                select(Certificate).where(Certificate.serial_hex == serial_to_hex(serial_number))
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"no certificate with serial number {serial_to_hex(serial_number)}")
            return _certificate(row)

    def certificates_stamp(self) -> tuple[int, int]:
        """(count, highest id) of the certificates: certificates are only ever added, so a cache of them
        (e.g. a verifier's trust store) is current while this stays the same. One cheap query."""
        with self._work(write=False) as s:
            count, highest = s.execute(select(func.count(Certificate.id), func.max(Certificate.id))).one()
            return int(count), int(highest or 0)

    def certificates_of_kind(self, kind: str) -> list[CertificateRecord]:
        """Every certificate of one kind, oldest first (so ``[-1]`` is the newest)."""
        if kind not in CERTIFICATE_KINDS:
            raise InvalidValueError(f"kind: must be one of {', '.join(CERTIFICATE_KINDS)}")
        with self._work(write=False) as s:
            rows = s.scalars(select(Certificate).where(Certificate.kind == kind).order_by(Certificate.id))
            return [_certificate(row) for row in rows]

    # -- seals -----------------------------------------------------------------------------------

    def add_seal(
        self,
        *,
        seal_id: str,
        department_uscc: str,
        name: str,
        seal_type: str,
        key_id: str,
        certificate_der: bytes,
        image_png: bytes,
        image_width_mm: float,
        status: str = "active",
    ) -> SealRecord:
        """Store a department's seal (GB/T 38540: key, certificate, picture); the seal certificate is
        stored as a ``seal`` certificate in the same transaction."""
        _check_text("seal_id", seal_id, 36)
        _check_text("name", name, 200)
        _check_text("seal_type", seal_type, 32)
        _check_text("key_id", key_id, 200)
        _check_seal_status(status)
        if not image_png.startswith(_PNG_SIGNATURE):
            raise InvalidValueError("image_png: not a PNG image")
        if not (math.isfinite(image_width_mm) and image_width_mm > 0):
            raise InvalidValueError("image_width_mm: must be a positive number of millimetres")
        with self._work(write=True, duplicate="a seal with this id or certificate already exists") as s:
            department = _department_row(s, department_uscc)
            certificate = self._certificate_row(kind="seal", der=certificate_der, key_id=key_id)
            s.add(certificate)
            row = Seal(
                id=seal_id,
                department=department,
                name=name,
                seal_type=seal_type,
                status=status,
                key_id=key_id,
                certificate=certificate,
                image_png=bytes(image_png),
                image_width_mm=float(image_width_mm),
                created_at=self._now(),
            )
            s.add(row)
            s.flush()
            return _seal(row)

    def get_seal(self, seal_id: str) -> SealRecord:
        """The seal with this id."""
        with self._work(write=False) as s:
            return _seal(_seal_row(s, seal_id))

    def list_seals(self, department_uscc: str | None = None) -> list[SealRecord]:
        """Every seal (or one department's), oldest first."""
        with self._work(write=False) as s:
            query = select(Seal).order_by(Seal.created_at, Seal.id)
            if department_uscc is not None:
                query = query.where(Seal.department_id == _department_row(s, department_uscc).id)
            return [_seal(row) for row in s.scalars(query)]

    def active_official_seal(self, uscc: str) -> SealRecord | None:
        """The department's newest active 公章 (official seal), or ``None`` if it has none."""
        with self._work(write=False) as s:
            department = _department_row(s, uscc)
            row = s.scalars(
                select(Seal)
                .where(Seal.department_id == department.id, Seal.seal_type == OFFICIAL_SEAL_TYPE,
                       Seal.status == "active")
                .order_by(Seal.created_at.desc(), Seal.id.desc())
                .limit(1)
            ).first()
            return None if row is None else _seal(row)

    def set_seal_status(self, seal_id: str, *, status: str) -> SealRecord:
        """Move a seal along its lifecycle: 启用 ``active``, 暂停 ``suspended``, 挂失 ``lost``,
        注销 ``cancelled``, 吊销 ``revoked``."""
        _check_seal_status(status)
        with self._work(write=True) as s:
            row = _seal_row(s, seal_id)
            row.status = status
            s.flush()
            return _seal(row)

    # -- licence types ---------------------------------------------------------------------------

    def ensure_license_types(
        self, types: Iterable[LicenseTypeRecord | LicenseTypeRow]
    ) -> list[LicenseTypeRecord]:
        """Insert or update catalogue types (GB/T 36902), each given as a record or as the tuple
        ``(code, slug, name, definer_uscc, definer_name, holder_kind[, definition_json])``.

        A type given without a definition keeps the definition already stored. Idempotent, and safe
        when several processes do it at once. Returns the types as stored.
        """
        records = [t if isinstance(t, LicenseTypeRecord) else _license_type_record(t) for t in types]
        for record in records:
            _check_license_type(record)
        if not records:
            return []
        with self._work(write=True, duplicate="two licence types would have the same slug") as s:
            table = LicenseType.__table__
            for record in records:
                values = {
                    "code": record.code,
                    "slug": record.slug,
                    "name": record.name,
                    "definer_uscc": record.definer_uscc,
                    "definer_name": record.definer_name,
                    "holder_kind": record.holder_kind,
                    "definition_json": record.definition_json,
                }
                # INSERT … ON CONFLICT (code) DO UPDATE: both databases have it, and it does not race.
                statement = _dialect_insert(self._engine)(LicenseType).values(values)
                updates: dict[str, Any] = {key: statement.excluded[key] for key in values if key != "code"}
                updates["definition_json"] = func.coalesce(
                    statement.excluded["definition_json"], table.c.definition_json
                )
                s.execute(statement.on_conflict_do_update(index_elements=[LicenseType.code], set_=updates))
            codes = [record.code for record in records]
            query = select(LicenseType).where(LicenseType.code.in_(codes)).execution_options(populate_existing=True)
            rows = {row.code: row for row in s.scalars(query)}
            return [_license_type(rows[code]) for code in codes]

    def upsert_license_type(
        self,
        *,
        code: str,
        slug: str,
        name: str,
        definer_uscc: str,
        definer_name: str,
        holder_kind: str,
        definition_json: str,
    ) -> LicenseTypeRecord:
        """Add or replace one catalogue type with its whole definition (GB/T 36902 catalogue entry).

        ``definition_json`` is the JSON document of the type (``issuance.catalog.license_type_to_dict``);
        it must be a JSON object. The columns beside it are what the registry queries by.
        """
        (record,) = self.ensure_license_types([
            LicenseTypeRecord(code=code, slug=slug, name=name, definer_uscc=definer_uscc,
                              definer_name=definer_name, holder_kind=holder_kind,
                              definition_json=definition_json)
        ])
        return record

    def get_license_type(self, code: str) -> LicenseTypeRecord:
        """The catalogue type with this type code."""
        with self._work(write=False) as s:
            return _license_type(_license_type_row(s, code))

    def list_license_types(self) -> list[LicenseTypeRecord]:
        """Every catalogue type, by code."""
        with self._work(write=False) as s:
            return [_license_type(row) for row in s.scalars(select(LicenseType).order_by(LicenseType.code))]

    def allow_issuer(self, type_code: str, uscc: str) -> None:
        """Allow the department ``uscc`` to issue licences of ``type_code`` (idempotent)."""
        with self._work(write=True) as s:
            _license_type_row(s, type_code)
            department = _department_row(s, uscc)
            statement = _dialect_insert(self._engine)(LicenseTypeIssuer).values(
                type_code=type_code, department_id=department.id
            )
            s.execute(statement.on_conflict_do_nothing(
                index_elements=[LicenseTypeIssuer.type_code, LicenseTypeIssuer.department_id]
            ))

    def disallow_issuer(self, type_code: str, uscc: str) -> bool:
        """Withdraw the department's right to issue ``type_code``; ``False`` if it did not have it.

        Licences it issued before stay as they are.
        """
        with self._work(write=True) as s:
            department = _department_row(s, uscc)
            row = s.get(LicenseTypeIssuer, (type_code, department.id))
            if row is None:
                return False
            s.delete(row)
            s.flush()
            return True

    def issuers_of(self, type_code: str) -> list[str]:
        """The USCCs of the departments allowed to issue ``type_code``, sorted."""
        with self._work(write=False) as s:
            _license_type_row(s, type_code)
            query = (
                select(Department.uscc)
                .join(LicenseTypeIssuer, LicenseTypeIssuer.department_id == Department.id)
                .where(LicenseTypeIssuer.type_code == type_code)
                .order_by(Department.uscc)
            )
            return list(s.scalars(query))

    def may_issue(self, type_code: str, uscc: str) -> bool:
        """Whether the department ``uscc`` is allowed to issue ``type_code``.

        Fails closed: ``False`` for an unknown type or department, and for a type that lists no
        issuers at all.
        """
        with self._work(write=False) as s:
            query = (
                select(LicenseTypeIssuer.type_code)
                .join(Department, LicenseTypeIssuer.department_id == Department.id)
                .where(LicenseTypeIssuer.type_code == type_code, Department.uscc == uscc)
            )
            return s.scalar(query) is not None

    # -- licences --------------------------------------------------------------------------------

    def add_license(
        self,
        *,
        identifier: str,
        type_code: str,
        department_uscc: str,
        seal_id: str,
        serial: str,
        version: int,
        holder_name: str,
        holder_code: str,
        fields: Mapping[str, str],
        status: str,
        issued_at: datetime,
        valid_from: date | None,
        valid_until: date | None,
        qr_text: str,
        pdf: bytes,
        holder_code_type: str | None = None,
    ) -> LicenseRecord:
        """Store an issued licence version under its GB/T 36904 identifier, its personal data encrypted.

        ``holder_code_type`` is ``111`` (公民身份号码) or ``001`` (统一社会信用代码); by default the licence
        type's holder kind. The identifier must be made of ``type_code``, ``department_uscc``,
        ``serial`` and ``version``. The seal must be an active seal of the issuing department (a
        department never seals with another's seal). Whether the department may issue the type is the
        caller's decision (:meth:`may_issue`). Needs the data key
        (:class:`~registry.errors.DataKeyRequiredError`). Raises
        :class:`~registry.errors.DuplicateError` for a known identifier, or a known (type, issuer,
        serial, version), and :class:`~registry.errors.NotFoundError` for an unknown department,
        type or seal.
        """
        item = NewLicense(
            identifier=identifier, type_code=type_code, department_uscc=department_uscc, seal_id=seal_id,
            serial=serial, version=version, holder_name=holder_name, holder_code=holder_code, fields=fields,
            status=status, issued_at=issued_at, valid_from=valid_from, valid_until=valid_until,
            qr_text=qr_text, pdf=pdf, holder_code_type=holder_code_type,
        )
        fields_json = _check_new_license(item)
        with self._work(write=True, duplicate="a licence with this identifier already exists") as s:
            cipher = self._data_key(s, write=True)
            resolver = _References(s)
            department_id = resolver.department_id(department_uscc)
            code_type = resolver.holder_code_type(item)
            resolver.check_seal(seal_id, department_id)
            now = self._now()
            values = _license_values(item, fields_json, cipher=cipher, department_id=department_id,
                                     holder_code_type=code_type, created_at=now)
            return _new_license_record(s, item, values, fields_json)

    def bulk_add_licenses(self, licenses: Iterable[NewLicense], *, chunk_rows: int = BULK_CHUNK_ROWS) -> int:
        """Store many licence versions at once (bulk import); returns how many were stored.

        The same checks and encryption as :meth:`add_license`, written in chunks of ``chunk_rows`` rows
        (SQLite: the driver's executemany; PostgreSQL: binary ``COPY``), all in one transaction (the
        enclosing one, or a new one): either every licence is stored or none. Writes no events; record
        one for the whole import.
        """
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
            raise InvalidValueError("chunk_rows: must be a positive integer")
        stored = 0
        with self._work(write=True, duplicate="a licence with one of these identifiers already exists") as s:
            cipher = self._data_key(s, write=True)
            resolver = _References(s)
            now = self._now()
            write = _bulk_writer(s)
            chunk: list[tuple[Any, ...]] = []
            for item in licenses:
                fields_json = _check_new_license(item)
                department_id = resolver.department_id(item.department_uscc)
                code_type = resolver.holder_code_type(item)
                resolver.check_seal(item.seal_id, department_id)
                chunk.append(_license_columns(item, fields_json, cipher=cipher, department_id=department_id,
                                              holder_code_type=code_type, created_at=now))
                if len(chunk) >= chunk_rows:
                    write(chunk)
                    stored += len(chunk)
                    chunk = []
            if chunk:
                write(chunk)
                stored += len(chunk)
        return stored

    def get_license(self, identifier: str) -> LicenseRecord:
        """The licence version with this GB/T 36904 identifier (with its personal data and PDF when the
        registry has the data key)."""
        with self._work(write=False) as s:
            cipher = self._data_key(s, write=False) if self._cipher is not None else None
            return _license(_license_row(s, identifier), cipher)

    def list_licenses(
        self,
        *,
        department_uscc: str | None = None,
        holder_code: str | None = None,
        holder_code_type: str | None = None,
        type_code: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[LicenseRecord]:
        """Licence versions, newest first, optionally of one department, one holder, one type or one status.

        Records carry personal data (but never the PDF) when the registry has the data key. Filtering by
        ``holder_code`` goes through the blind index and needs the key; without ``holder_code_type`` both
        types of code are matched.
        """
        _check_limit(limit)
        if status is not None:
            _check_license_status(status)
        with self._work(write=False) as s:
            cipher = self._data_key(s, write=False) if self._cipher is not None else None
            query = select(License).options(defer(License.pdf_ciphertext)).order_by(License.id.desc()).limit(limit)
            if department_uscc is not None:
                query = query.where(License.department_id == _department_row(s, department_uscc).id)
            if holder_code is not None:
                if cipher is None:
                    raise DataKeyRequiredError()
                code_types = (holder_code_type,) if holder_code_type is not None else ("111", "001")
                indexes = [cipher.blind_index(holder_code, code_type=code_type) for code_type in code_types]
                query = query.where(License.holder_code_index.in_(indexes))
            elif holder_code_type is not None:
                check_holder_code_type(holder_code_type)
                query = query.where(License.holder_code_type == holder_code_type)
            if type_code is not None:
                query = query.where(License.type_code == type_code)
            if status is not None:
                query = query.where(License.status == status)
            return [_license(row, cipher, with_pdf=False) for row in s.scalars(query)]

    def find_licenses(
        self,
        *,
        holder_code: str,
        holder_code_type: str,
        type_code: str | None = None,
        department_uscc: str | None = None,
        include_superseded: bool = False,
        limit: int = 100,
    ) -> list[LicenseRecord]:
        """A holder's licences, newest first, found through the keyed blind index (GB/T 36906 sharing:
        持证主体代码 + 持证主体代码类型 [+ 证照类型代码]).

        Needs the data key. Older versions (``superseded``) are left out unless asked for. The records
        carry personal data but not the PDF (:meth:`get_license` gives it).
        """
        check_holder_code_type(holder_code_type)
        _check_text("holder_code", holder_code, 64)
        _check_limit(limit)
        with self._work(write=False) as s:
            cipher = self._data_key(s, write=False)
            query = (
                select(License)
                .options(defer(License.pdf_ciphertext))
                .where(License.holder_code_index == cipher.blind_index(holder_code, code_type=holder_code_type))
                .order_by(License.id.desc())
                .limit(limit)
            )
            if type_code is not None:
                query = query.where(License.type_code == type_code)
            if department_uscc is not None:
                query = query.where(License.department_id == _department_row(s, department_uscc).id)
            if not include_superseded:
                query = query.where(License.status != "superseded")
            return [_license(row, cipher, with_pdf=False) for row in s.scalars(query)]

    def license_versions(self, identifier: str) -> list[LicenseRecord]:
        """Every version of the licence ``identifier`` belongs to (same type, issuer and serial), oldest
        first; the last is the current one. Records carry personal data (not the PDF) with the key."""
        with self._work(write=False) as s:
            cipher = self._data_key(s, write=False) if self._cipher is not None else None
            row = _license_row(s, identifier)
            query = (
                select(License)
                .options(defer(License.pdf_ciphertext))
                .where(
                    License.type_code == row.type_code,
                    License.department_id == row.department_id,
                    License.serial == row.serial,
                )
                .order_by(License.version)
            )
            return [_license(version, cipher, with_pdf=False) for version in s.scalars(query)]

    def set_license_status(
        self,
        identifier: str,
        *,
        status: str,
        action: str,
        actor: str,
        reason: str,
        expected_status: str | None = None,
    ) -> LicenseRecord:
        """Apply a lifecycle action (suspend, resume, revoke, cancel, expire) to a licence version.

        In one transaction: the new status, a ``license_changes`` row (action, status before and after,
        ``actor``, ``reason``) and a hash-chained event ``license.<past tense>``. The state machine is the
        caller's (:mod:`issuance.lifecycle`): pass the status it started from as ``expected_status``
        and a concurrent change makes this raise :class:`~registry.errors.StatusConflictError` instead
        of overwriting it. A licence is superseded only by :meth:`add_license_version`. Works without
        the data key (the record then carries no personal data).
        """
        _check_license_status(status)
        if status == "superseded":
            raise InvalidValueError("status: a licence is superseded only by adding its next version")
        _check_action(action)
        if action in _VERSION_ACTIONS:
            raise InvalidValueError(f"action: {action} creates a new version (use add_license_version)")
        _check_text("actor", actor, 200)
        _check_text("reason", reason, 500)
        if expected_status is not None:
            _check_license_status(expected_status)
        with self._work(write=True) as s:
            cipher = self._data_key(s, write=False) if self._cipher is not None else None
            row = _locked_license_row(s, identifier)
            from_status = row.status
            if expected_status is not None and from_status != expected_status:
                raise StatusConflictError(
                    f"the licence is now {from_status}, not {expected_status}: it was changed meanwhile"
                )
            now = self._now()
            row.status = status
            s.add(LicenseChange(identifier=identifier, action=action, from_status=from_status, to_status=status,
                                actor=actor, reason=reason, occurred_at=now))
            s.flush()
            self._append_event(s, kind=_ACTION_EVENT_KINDS[action], actor=actor, subject=identifier,
                               detail={"action": action, "from": from_status, "to": status, "reason": reason})
            return _license(row, cipher)

    def add_license_version(
        self,
        previous: str,
        *,
        identifier: str,
        action: str,
        actor: str,
        reason: str,
        seal_id: str,
        holder_name: str,
        holder_code: str,
        fields: Mapping[str, str],
        issued_at: datetime,
        valid_from: date | None,
        valid_until: date | None,
        qr_text: str,
        pdf: bytes,
        holder_code_type: str | None = None,
        expected_status: str | None = None,
    ) -> LicenseRecord:
        """Amend (变更) or re-issue (补发) a licence: its next version replaces ``previous``.

        In one transaction: ``previous`` becomes ``superseded``; the new version (same type, issuer and
        serial, version + 1, named by ``identifier``) is stored ``active`` and linked to it
        (``supersedes``); a ``license_changes`` row for each; one event ``license.amended`` /
        ``license.reissued``. ``expected_status`` as in :meth:`set_license_status`; a version that is
        already superseded raises :class:`~registry.errors.StatusConflictError`. Needs the data key.
        Returns the new version.
        """
        _check_action(action)
        if action not in _VERSION_ACTIONS:
            raise InvalidValueError("action: a new version comes from amend or reissue")
        _check_text("actor", actor, 200)
        _check_text("reason", reason, 500)
        if expected_status is not None:
            _check_license_status(expected_status)
        with self._work(write=True, duplicate="this version of the licence already exists") as s:
            cipher = self._data_key(s, write=True)
            old = _locked_license_row(s, previous)
            from_status = old.status
            if from_status == "superseded":
                raise StatusConflictError("the licence was already superseded by a newer version")
            if expected_status is not None and from_status != expected_status:
                raise StatusConflictError(
                    f"the licence is now {from_status}, not {expected_status}: it was changed meanwhile"
                )
            item = NewLicense(
                identifier=identifier, type_code=old.type_code, department_uscc=old.department.uscc,
                seal_id=seal_id, serial=old.serial, version=old.version + 1, holder_name=holder_name,
                holder_code=holder_code, fields=fields, status="active", issued_at=issued_at,
                valid_from=valid_from, valid_until=valid_until, qr_text=qr_text, pdf=pdf,
                holder_code_type=holder_code_type,
            )
            fields_json = _check_new_license(item)
            resolver = _References(s)
            code_type = resolver.holder_code_type(item)
            resolver.check_seal(seal_id, old.department_id)
            now = self._now()
            old.status = "superseded"
            s.flush()
            values = _license_values(item, fields_json, cipher=cipher, department_id=old.department_id,
                                     holder_code_type=code_type, created_at=now)
            values["supersedes"] = previous
            record = _new_license_record(s, item, values, fields_json)
            s.add_all([
                LicenseChange(identifier=previous, action=action, from_status=from_status,
                              to_status="superseded", actor=actor, reason=reason, occurred_at=now),
                LicenseChange(identifier=identifier, action=action, from_status=None, to_status="active",
                              actor=actor, reason=reason, occurred_at=now),
            ])
            s.flush()
            self._append_event(s, kind=_ACTION_EVENT_KINDS[action], actor=actor, subject=identifier,
                               detail={"action": action, "supersedes": previous, "previous_status": from_status,
                                       "version": item.version, "reason": reason})
            return record

    def list_changes(self, identifier: str) -> list[LicenseChangeRecord]:
        """The lifecycle changes of one licence version, oldest first."""
        with self._work(write=False) as s:
            _license_row(s, identifier)
            query = select(LicenseChange).where(LicenseChange.identifier == identifier).order_by(LicenseChange.id)
            return [_license_change(row) for row in s.scalars(query)]

    def license_status(self, identifier: str) -> str | None:
        """The licence's current status for verifiers, or ``None`` if the registry does not know it.

        An ``active`` or ``suspended`` licence whose ``valid_until`` day has passed (in UTC, the
        convention of the QR credential's expiry) is reported ``expired``; an older version of an
        amended or re-issued licence is ``superseded``. Implements
        :class:`verification.ports.LicenseStatusSource`; raises
        :class:`verification.ports.StatusUnavailableError` if the database cannot be reached.
        """
        try:
            with self._work(write=False) as s:
                found = s.execute(
                    select(License.status, License.valid_until).where(License.identifier == identifier)
                ).one_or_none()
        except DatabaseUnavailableError as exc:
            raise StatusUnavailableError("the licence registry is unavailable") from exc
        if found is None:
            return None
        status, valid_until = found
        if status in ("active", "suspended") and valid_until is not None:
            end = datetime.combine(valid_until + timedelta(days=1), time.min, UTC)
            if self._now() >= end:
                return "expired"
        return str(status)

    # -- bulk import bookkeeping -------------------------------------------------------------------

    def start_import(self, job_id: str, *, file_name: str, total_rows: int) -> ImportJobRecord:
        """Register an import job (id: SHA-256 hex of department and file bytes), or return the job
        already registered under that id (a re-run of the same file). Idempotent."""
        _check_sha256_hex(job_id, field="job_id")
        _check_text("file_name", file_name, 255)
        if isinstance(total_rows, bool) or not isinstance(total_rows, int) or total_rows < 0:
            raise InvalidValueError("total_rows: must be a non-negative integer")
        with self._work(write=True) as s:
            statement = _dialect_insert(self._engine)(ImportJob).values(
                id=job_id, file_name=file_name, total_rows=total_rows, created_at=self._now()
            )
            s.execute(statement.on_conflict_do_nothing(index_elements=[ImportJob.id]))
            job = _import_job(s, job_id)
            if job.total_rows != total_rows:
                raise InvalidValueError(
                    f"total_rows: this import was registered with {job.total_rows} rows, not {total_rows}"
                )
            return job

    def get_import(self, job_id: str) -> ImportJobRecord:
        """The import job ``job_id`` and how many of its rows are recorded."""
        with self._work(write=False) as s:
            return _import_job(s, job_id)

    def finish_import(self, job_id: str) -> ImportJobRecord:
        """Mark the import finished (the first time; later calls keep the first time)."""
        with self._work(write=True) as s:
            row = s.get(ImportJob, job_id)
            if row is None:
                raise NotFoundError(f"no import job {_shown(job_id)}")
            if row.finished_at is None:
                row.finished_at = self._now()
                s.flush()
            return _import_job(s, job_id)

    def done_rows(self, job_id: str) -> set[int]:
        """The row numbers of the import already recorded (a licence or an error): a re-run skips them."""
        with self._work(write=False) as s:
            return set(s.scalars(select(ImportRow.row_no).where(ImportRow.job_id == job_id)))

    def record_import_row(
        self,
        job_id: str,
        row_no: int,
        *,
        identifier: str | None = None,
        error_field: str | None = None,
        error: str | None = None,
    ) -> ImportRowRecord:
        """Record the outcome of one row: the licence ``identifier`` it became, or ``error`` (and the
        ``error_field`` it concerns). Call it on the transaction that adds the licence, so the two are
        committed together. Raises :class:`~registry.errors.DuplicateError` if the row is recorded.

        The error text is stored as given: it must not quote the row's personal data.
        """
        if isinstance(row_no, bool) or not isinstance(row_no, int) or row_no < 1:
            raise InvalidValueError("row_no: must be a positive integer")
        if (identifier is None) == (error is None):
            raise InvalidValueError("an import row has either an identifier or an error")
        if identifier is not None:
            _check_text("identifier", identifier, 128)
            if error_field is not None:
                raise InvalidValueError("error_field: only with an error")
        if error is not None:
            _check_text("error", error, 500)
        if error_field is not None:
            _check_text("error_field", error_field, 100)
        with self._work(write=True, duplicate=f"row {row_no} of this import is already recorded") as s:
            if s.get(ImportJob, job_id) is None:
                raise NotFoundError(f"no import job {_shown(job_id)}")
            row = ImportRow(job_id=job_id, row_no=row_no, identifier=identifier, error_field=error_field,
                            error=error, recorded_at=self._now())
            s.add(row)
            s.flush()
            return _import_row(row)

    def import_rows(self, job_id: str, *, errors_only: bool = False) -> list[ImportRowRecord]:
        """The recorded rows of an import by row number (only the failed ones with ``errors_only``)."""
        with self._work(write=False) as s:
            query = select(ImportRow).where(ImportRow.job_id == job_id).order_by(ImportRow.row_no)
            if errors_only:
                query = query.where(ImportRow.error.is_not(None))
            return [_import_row(row) for row in s.scalars(query)]

    # -- statistics --------------------------------------------------------------------------------

    def issued_per_type_and_department(self) -> list[IssuedCount]:
        """Licence versions issued per (type, department), with how many are now active; by type, USCC."""
        with self._work(write=False) as s:
            active = func.sum(case((License.status == "active", 1), else_=0))
            query = (
                select(License.type_code, Department.uscc, func.count(License.id), active)
                .join(Department, License.department_id == Department.id)
                .group_by(License.type_code, Department.uscc)
                .order_by(License.type_code, Department.uscc)
            )
            return [IssuedCount(type_code=type_code, department_uscc=uscc, issued=int(issued), active=int(now))
                    for type_code, uscc, issued, now in s.execute(query)]

    def verifications_per_day(self, days: int, *, kind: str = VERIFICATION_EVENT_KIND) -> list[DailyCount]:
        """Verifications (events of ``kind``) on each of the last ``days`` UTC days, today included,
        oldest first; days without any are listed with 0."""
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_STATISTICS_DAYS:
            raise InvalidValueError(f"days: must be between 1 and {MAX_STATISTICS_DAYS}")
        today = self._now().date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, time.min, UTC)
        with self._work(write=False) as s:
            if self._engine.dialect.name == "postgresql":
                day = func.date(func.timezone("UTC", Event.occurred_at))
            else:
                # SQLite stores the UTC wall time as text: its date() is the UTC day.
                day = func.date(Event.occurred_at)
            query = (
                select(day, func.count(Event.id))
                .where(Event.kind == kind, Event.occurred_at >= start)
                .group_by(day)
            )
            counts = {_as_date(found): int(count) for found, count in s.execute(query)}
        return [DailyCount(day=first + timedelta(days=n), count=counts.get(first + timedelta(days=n), 0))
                for n in range(days)]

    # -- events ----------------------------------------------------------------------------------

    def record_event(self, *, kind: str, actor: str, subject: str, detail: Mapping[str, Any]) -> EventRecord:
        """Append an entry to the tamper-evident event record (see :mod:`registry.events`).

        ``detail`` must be plain JSON without floats and must not carry secrets (keys such as
        ``password`` or ``private_key`` are refused). Appends are serialised: a PostgreSQL advisory
        lock, or SQLite's single write lock, so that sequence numbers stay contiguous.
        """
        _check_text("kind", kind, 64)
        _check_text("actor", actor, 200)
        if len(subject) > 200:
            raise InvalidValueError("subject: at most 200 characters")
        text_detail = detail_json(detail)
        with self._work(write=True, duplicate="a concurrent append took the same sequence number") as s:
            return self._append_event(s, kind=kind, actor=actor, subject=subject, detail_text=text_detail)

    def _append_event(
        self,
        s: Session,
        *,
        kind: str,
        actor: str,
        subject: str,
        detail: Mapping[str, Any] | None = None,
        detail_text: str | None = None,
    ) -> EventRecord:
        """Append one event on the session ``s`` (the caller's transaction). Take the chain lock last
        in a transaction: it is held until the commit."""
        text_detail = detail_text if detail_text is not None else detail_json(detail or {})
        if self._engine.dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_CHAIN_LOCK_KEY})
        last = s.execute(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).one_or_none()
        seq, prev_hash = (1, GENESIS_HASH) if last is None else (last[0] + 1, last[1])
        occurred_at = self._now()
        row = Event(
            seq=seq,
            occurred_at=occurred_at,
            kind=kind,
            actor=actor,
            subject=subject,
            detail_json=text_detail,
            prev_hash=prev_hash,
            hash=event_hash(
                seq=seq,
                occurred_at=occurred_at,
                kind=kind,
                actor=actor,
                subject=subject,
                detail_json=text_detail,
                prev_hash=prev_hash,
            ),
        )
        s.add(row)
        s.flush()
        return _event(row)

    def list_events(
        self, *, limit: int = 100, kind: str | None = None, subject: str | None = None
    ) -> list[EventRecord]:
        """The newest events first, optionally of one kind or about one subject."""
        _check_limit(limit)
        with self._work(write=False) as s:
            query = select(Event).order_by(Event.seq.desc()).limit(limit)
            if kind is not None:
                query = query.where(Event.kind == kind)
            if subject is not None:
                query = query.where(Event.subject == subject)
            return [_event(row) for row in s.scalars(query)]

    def verify_event_chain(self, *, anchor: EventRecord | None = None) -> list[ChainProblem]:
        """Recompute the event chain; return its problems (empty: the record is intact).

        Each problem names the first entry at which the chain breaks: an altered entry (its hash no
        longer matches), entries removed before it (gap in ``seq``, ``prev_hash`` mismatch) or moved.
        Pass a previously kept ``anchor`` entry to also detect entries cut off the end.
        """
        walker = ChainWalker()
        if anchor is not None:
            walker.watch(anchor.seq)
        columns = (Event.id, Event.seq, Event.occurred_at, Event.kind, Event.actor, Event.subject,
                   Event.detail_json, Event.prev_hash, Event.hash)
        with self._work(write=False) as s:
            after = None
            while True:
                query = select(*columns).order_by(Event.seq).limit(_CHAIN_PAGE)
                if after is not None:
                    query = query.where(Event.seq > after)
                page = s.execute(query).all()
                for found in page:
                    walker.step(StoredEvent(*found))
                if len(page) < _CHAIN_PAGE:
                    break
                after = page[-1].seq
        if anchor is not None:
            walker.check_anchor(seq=anchor.seq, event_id=anchor.id, hash=anchor.hash)
        return walker.problems


# -- helpers -------------------------------------------------------------------------------------


def serial_to_hex(serial_number: int) -> str:
    """The registry's text form of a certificate serial number: lower-case hex without leading zeros."""
    return format(serial_number, "x")


def _shown(value: str) -> str:
    # Echo caller input in messages, but bounded.
    return repr(value if len(value) <= 64 else value[:64] + "…")


def _check_text(name: str, value: str, max_length: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(f"{name}: must not be empty")
    if len(value) > max_length:
        raise InvalidValueError(f"{name}: at most {max_length} characters")


def _check_uscc(value: str, *, field: str = "uscc") -> None:
    # The GB 32100 check character is verified by issuance.identifier at the edge; here the shape only.
    if not isinstance(value, str) or len(value) != 18 or not value.isascii() or not value.isalnum():
        raise InvalidValueError(f"{field}: a 统一社会信用代码 has 18 letters and digits")


def _check_sha256_hex(value: str, *, field: str = "api_key_hash") -> None:
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX:
        raise InvalidValueError(f"{field}: must be a lower-case hex SHA-256 digest")


def _check_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(f"{name}: must be a timezone-aware datetime")


def _check_license_status(status: str) -> None:
    if status not in LICENSE_STATUSES:
        raise InvalidValueError(f"status: must be one of {', '.join(LICENSE_STATUSES)}")


def _check_seal_status(status: str) -> None:
    if status not in SEAL_STATUSES:
        raise InvalidValueError(f"status: must be one of {', '.join(SEAL_STATUSES)}")


def _check_action(action: str) -> None:
    if action not in LICENSE_ACTIONS:
        raise InvalidValueError(f"action: must be one of {', '.join(LICENSE_ACTIONS)}")


def _check_license_type(record: LicenseTypeRecord) -> None:
    _check_text("code", record.code, 21)
    _check_text("slug", record.slug, 64)
    _check_text("name", record.name, 200)
    _check_uscc(record.definer_uscc, field="definer_uscc")
    _check_text("definer_name", record.definer_name, 200)
    _check_text("holder_kind", record.holder_kind, 32)
    if record.definition_json is not None:
        try:
            definition = json.loads(record.definition_json)
        except (TypeError, ValueError):
            raise InvalidValueError(f"definition_json of {record.code}: not valid JSON") from None
        if not isinstance(definition, dict):
            raise InvalidValueError(f"definition_json of {record.code}: must be a JSON object")


def _check_new_license(item: NewLicense) -> str:
    """Check the values of a licence version to store; return its canonical fields JSON."""
    _check_text("identifier", item.identifier, 128)
    _check_text("serial", item.serial, 64)
    _check_text("holder_name", item.holder_name, 200)
    _check_text("holder_code", item.holder_code, 64)
    _check_license_status(item.status)
    _check_aware("issued_at", item.issued_at)
    if not isinstance(item.qr_text, str):
        raise InvalidValueError("qr_text: must be text")
    if not isinstance(item.pdf, bytes | bytearray | memoryview):
        raise InvalidValueError("pdf: must be bytes")
    if item.holder_code_type is not None:
        check_holder_code_type(item.holder_code_type)
    version = item.version
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 999:
        raise InvalidValueError("version: must be a whole number from 1 to 999")
    if item.valid_from is not None and item.valid_until is not None and item.valid_until < item.valid_from:
        raise InvalidValueError("valid_until: must not be before valid_from")
    # GB/T 36904: the identifier is made of the type code, issuer code, serial and version (and a check
    # character, verified where identifiers enter the system: issuance.identifier.LicenseIdentifier).
    prefix = f"{_LICENSE_IDENTIFIER_ROOT}.{item.type_code}.{item.department_uscc}.{item.serial}.{version:03d}."
    if not (item.identifier.startswith(prefix) and len(item.identifier) == len(prefix) + 1):
        raise InvalidValueError(
            "identifier: must be made of the licence's type code, issuer code, serial and version"
        )
    return _fields_json(item.fields)


def _aad(column: str, identifier: str) -> bytes:
    # The associated data of an encrypted licence value: its table, column and licence identifier.
    return f"licenses|{column}|{identifier}".encode()


# The columns a new licence row is written with, in this order (the id is generated).
_LICENSE_COLUMNS = (
    "identifier", "type_code", "department_id", "seal_id", "serial", "version", "holder_code_type",
    "holder_code_index", "holder_name_ciphertext", "holder_code_ciphertext", "fields_ciphertext",
    "qr_text_ciphertext", "pdf_ciphertext", "status", "issued_at", "valid_from", "valid_until", "supersedes",
    "created_at",
)
# PostgreSQL types of those columns, for binary COPY.
_LICENSE_COPY_TYPES = (
    "varchar", "varchar", "int4", "varchar", "varchar", "int4", "varchar", "varchar", "bytea", "bytea", "bytea",
    "bytea", "bytea", "varchar", "timestamptz", "date", "date", "varchar", "timestamptz",
)
# Positions of the instants and days among them (converted to SQLite's text forms on the bulk path).
_DATETIME_COLUMNS = (14, 18)
_DATE_COLUMNS = (15, 16)


def _license_columns(
    item: NewLicense,
    fields_json: str,
    *,
    cipher: FieldCipher,
    department_id: int,
    holder_code_type: str,
    created_at: datetime,
) -> tuple[Any, ...]:
    """The values of a new licence row in :data:`_LICENSE_COLUMNS` order, personal data encrypted."""
    identifier = item.identifier
    encrypt = cipher.encrypt
    return (
        identifier,
        item.type_code,
        department_id,
        item.seal_id,
        item.serial,
        item.version,
        holder_code_type,
        cipher.blind_index(item.holder_code, code_type=holder_code_type),
        encrypt(item.holder_name.encode(), aad=_aad("holder_name", identifier)),
        encrypt(item.holder_code.encode(), aad=_aad("holder_code", identifier)),
        encrypt(fields_json.encode(), aad=_aad("fields", identifier)),
        encrypt(item.qr_text.encode(), aad=_aad("qr_text", identifier)),
        encrypt(bytes(item.pdf), aad=_aad("pdf", identifier)),
        item.status,
        item.issued_at.astimezone(UTC),
        item.valid_from,
        item.valid_until,
        None,
        created_at,
    )


def _license_values(
    item: NewLicense,
    fields_json: str,
    *,
    cipher: FieldCipher,
    department_id: int,
    holder_code_type: str,
    created_at: datetime,
) -> dict[str, Any]:
    """The column values of a new licence row by name, personal data encrypted."""
    return dict(zip(_LICENSE_COLUMNS, _license_columns(
        item, fields_json, cipher=cipher, department_id=department_id, holder_code_type=holder_code_type,
        created_at=created_at), strict=True))


def _bulk_writer(s: Session) -> Callable[[list[tuple[Any, ...]]], None]:
    """A function that inserts rows of :data:`_LICENSE_COLUMNS` values on the session's connection.

    SQLAlchemy's per-value type processing costs more than the driver's whole insert here, so the bulk
    path hands the driver its native values: binary COPY on PostgreSQL, executemany on SQLite with
    instants and days already in the text forms :class:`~registry.tables.UTCDateTime` and ``Date``
    store (a test reads bulk rows back through the ORM on both databases).
    """
    connection = s.connection()
    if connection.dialect.name == "postgresql":
        import psycopg

        statement = f"COPY licenses ({', '.join(_LICENSE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"

        def copy_rows(rows: list[tuple[Any, ...]]) -> None:
            driver = connection.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            try:
                with driver.cursor() as cursor, cursor.copy(statement) as copy:
                    copy.set_types(list(_LICENSE_COPY_TYPES))
                    for row in rows:
                        copy.write_row(row)
            except psycopg.Error as exc:
                # The same exception classes as any other statement (IntegrityError, OperationalError…),
                # so that the transaction is marked failed and the error translated as usual.
                raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc

        return copy_rows

    placeholders = ", ".join("?" for _ in _LICENSE_COLUMNS)
    statement = f"INSERT INTO licenses ({', '.join(_LICENSE_COLUMNS)}) VALUES ({placeholders})"  # noqa: S608

    texts: dict[datetime, str] = {}  # rows of one import share instants (created_at, often issued_at)

    def insert_rows(rows: list[tuple[Any, ...]]) -> None:
        converted = []
        for row in rows:
            values = list(row)
            for position in _DATETIME_COLUMNS:
                instant = values[position]
                found = texts.get(instant)
                if found is None:
                    found = texts[instant] = _sqlite_datetime(instant)
                    if len(texts) > 1024:
                        texts.clear()
                values[position] = found
            for position in _DATE_COLUMNS:
                if values[position] is not None:
                    values[position] = values[position].isoformat()
            converted.append(tuple(values))
        connection.exec_driver_sql(statement, converted)

    return insert_rows


def _sqlite_datetime(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format, of the UTC wall time (as UTCDateTime stores it).
    value = value.astimezone(UTC)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")


class _References:
    """Looks up (once per value) the departments, licence types and seals new licences refer to."""

    def __init__(self, s: Session) -> None:
        self._s = s
        self._departments: dict[str, int] = {}
        self._holder_kinds: dict[str, str] = {}
        self._seals: set[tuple[str, int]] = set()

    def department_id(self, uscc: str) -> int:
        found = self._departments.get(uscc)
        if found is None:
            found = self._departments[uscc] = _department_row(self._s, uscc).id
        return found

    def holder_code_type(self, item: NewLicense) -> str:
        """The item's holder code type, by default its licence type's holder kind (111 / 001)."""
        kind = self._holder_kinds.get(item.type_code)
        if kind is None:
            kind = self._holder_kinds[item.type_code] = _license_type_row(self._s, item.type_code).holder_kind
        if item.holder_code_type is not None:
            return item.holder_code_type
        if kind not in HOLDER_CODE_TYPES:
            raise InvalidValueError(
                f"holder_code_type: licence type {item.type_code} does not say (holder kind {kind!r}); "
                "give 111 or 001"
            )
        return kind

    def check_seal(self, seal_id: str, department_id: int) -> None:
        if (seal_id, department_id) in self._seals:
            return
        seal = _seal_row(self._s, seal_id)
        if seal.department_id != department_id:
            raise InvalidValueError("seal_id: the seal belongs to another department")
        if seal.status != "active":
            raise InvalidValueError(f"seal_id: the seal is {seal.status}, not active")
        self._seals.add((seal_id, department_id))


def _dialect_insert(engine: Engine) -> Callable[..., Any]:
    # INSERT … ON CONFLICT: both databases have it, with the same SQLAlchemy API.
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def _as_date(value: Any) -> date:
    # SQLite's date() gives text, PostgreSQL's a date.
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidValueError(f"limit: must be between 1 and {MAX_LIST_LIMIT}")


def _fields_json(fields: Mapping[str, str]) -> str:
    for key, value in fields.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidValueError("fields: names and values must be strings")
    return json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _license_type_record(row: LicenseTypeRow) -> LicenseTypeRecord:
    if len(row) not in (6, 7):
        raise InvalidValueError(
            "licence types are (code, slug, name, definer_uscc, definer_name, holder_kind[, definition_json])"
        )
    return LicenseTypeRecord(*row)


def _is_unique_violation(exc: IntegrityError) -> bool:
    # PostgreSQL SQLSTATE 23505 unique_violation; SQLite reports "UNIQUE constraint failed".
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def _is_missing_table(exc: SQLAlchemyError) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "42P01" or "no such table" in str(orig)


def _department_row(s: Session, uscc: str) -> Department:
    row = s.scalars(select(Department).where(Department.uscc == uscc)).one_or_none()
    if row is None:
        raise NotFoundError(f"no department with USCC {_shown(uscc)}")
    return row


def _seal_row(s: Session, seal_id: str) -> Seal:
    row = s.get(Seal, seal_id)
    if row is None:
        raise NotFoundError(f"no seal with id {_shown(seal_id)}")
    return row


def _license_row(s: Session, identifier: str) -> License:
    row = s.scalars(select(License).where(License.identifier == identifier)).one_or_none()
    if row is None:
        raise NotFoundError(f"no licence with identifier {_shown(identifier)}")
    return row


def _locked_license_row(s: Session, identifier: str) -> License:
    # FOR UPDATE OF licenses (PostgreSQL; SQLite's write lock is already held): a concurrent change of
    # the same licence waits, then sees this one's status. Not the department row, which new licences'
    # foreign keys share-lock.
    query = (
        select(License)
        .where(License.identifier == identifier)
        .with_for_update(of=License.__table__)
        .execution_options(populate_existing=True)
    )
    row = s.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no licence with identifier {_shown(identifier)}")
    return row


def _license_type_row(s: Session, code: str) -> LicenseType:
    row = s.get(LicenseType, code)
    if row is None:
        raise NotFoundError(f"no licence type with code {_shown(code)}")
    return row


def _import_job(s: Session, job_id: str) -> ImportJobRecord:
    row = s.get(ImportJob, job_id, populate_existing=True)
    if row is None:
        raise NotFoundError(f"no import job {_shown(job_id)}")
    recorded = s.scalar(select(func.count(ImportRow.id)).where(ImportRow.job_id == job_id)) or 0
    return ImportJobRecord(job_id=row.id, file_name=row.file_name, total_rows=row.total_rows,
                           created_at=row.created_at, finished_at=row.finished_at, rows_recorded=int(recorded))


def _principal(row: Principal) -> PrincipalRecord:
    return PrincipalRecord(id=row.id, kind=row.kind, name=row.name, role=row.role, active=row.active,
                           created_at=row.created_at)


def _department(row: Department) -> DepartmentRecord:
    return DepartmentRecord(
        id=row.id,
        uscc=row.uscc,
        name=row.name,
        created_at=row.created_at,
        api_key_hash=row.api_key_hash,
        algorithm=row.algorithm,
    )


def _certificate(row: Certificate) -> CertificateRecord:
    return CertificateRecord(
        id=row.id,
        serial_hex=row.serial_hex,
        kind=row.kind,
        subject=row.subject,
        issuer_subject=row.issuer_subject,
        not_before=row.not_before,
        not_after=row.not_after,
        key_id=row.key_id,
        created_at=row.created_at,
        der=row.der,
    )


def _seal(row: Seal) -> SealRecord:
    return SealRecord(
        seal_id=row.id,
        department_uscc=row.department.uscc,
        name=row.name,
        seal_type=row.seal_type,
        status=row.status,
        key_id=row.key_id,
        certificate_id=row.certificate_id,
        image_width_mm=row.image_width_mm,
        created_at=row.created_at,
        image_png=row.image_png,
    )


def _license_type(row: LicenseType) -> LicenseTypeRecord:
    return LicenseTypeRecord(
        code=row.code,
        slug=row.slug,
        name=row.name,
        definer_uscc=row.definer_uscc,
        definer_name=row.definer_name,
        holder_kind=row.holder_kind,
        definition_json=row.definition_json,
    )


def _new_license_record(s: Session, item: NewLicense, values: Mapping[str, Any], fields_json: str) -> LicenseRecord:
    """Insert one licence row and return its record, built from the values just encrypted."""
    licence_id = s.execute(insert(_LICENSES).returning(_LICENSES.c.id), [dict(values)]).scalar_one()
    return LicenseRecord(
        id=licence_id,
        identifier=item.identifier,
        type_code=item.type_code,
        department_uscc=item.department_uscc,
        seal_id=item.seal_id,
        serial=item.serial,
        version=item.version,
        status=item.status,
        issued_at=item.issued_at.astimezone(UTC),
        valid_from=item.valid_from,
        valid_until=item.valid_until,
        created_at=values["created_at"],
        holder_code_type=values["holder_code_type"],
        supersedes=values["supersedes"],
        personal=LicensePersonalData(
            holder_name=item.holder_name,
            holder_code=item.holder_code,
            fields=MappingProxyType(json.loads(fields_json)),
            qr_text=item.qr_text,
            pdf=bytes(item.pdf),
        ),
    )


def _license(row: License, cipher: FieldCipher | None, *, with_pdf: bool = True) -> LicenseRecord:
    personal = None
    if cipher is not None:
        identifier = row.identifier

        def opened(column: str, token: bytes) -> bytes:
            return cipher.decrypt(token, aad=_aad(column, identifier))

        personal = LicensePersonalData(
            holder_name=opened("holder_name", row.holder_name_ciphertext).decode(),
            holder_code=opened("holder_code", row.holder_code_ciphertext).decode(),
            fields=MappingProxyType(json.loads(opened("fields", row.fields_ciphertext))),
            qr_text=opened("qr_text", row.qr_text_ciphertext).decode(),
            pdf=opened("pdf", row.pdf_ciphertext) if with_pdf else None,
        )
    return LicenseRecord(
        id=row.id,
        identifier=row.identifier,
        type_code=row.type_code,
        department_uscc=row.department.uscc,
        seal_id=row.seal_id,
        serial=row.serial,
        version=row.version,
        status=row.status,
        issued_at=row.issued_at,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        created_at=row.created_at,
        holder_code_type=row.holder_code_type,
        supersedes=row.supersedes,
        personal=personal,
    )


def _license_change(row: LicenseChange) -> LicenseChangeRecord:
    return LicenseChangeRecord(
        id=row.id,
        identifier=row.identifier,
        action=row.action,
        from_status=row.from_status,
        to_status=row.to_status,
        actor=row.actor,
        reason=row.reason,
        occurred_at=row.occurred_at,
    )


def _import_row(row: ImportRow) -> ImportRowRecord:
    return ImportRowRecord(
        job_id=row.job_id,
        row_no=row.row_no,
        identifier=row.identifier,
        error_field=row.error_field,
        error=row.error,
        recorded_at=row.recorded_at,
    )


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def _event(row: Event) -> EventRecord:
    return EventRecord(
        id=row.id,
        seq=row.seq,
        occurred_at=row.occurred_at,
        kind=row.kind,
        actor=row.actor,
        subject=row.subject,
        detail=_frozen(json.loads(row.detail_json)),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


if TYPE_CHECKING:

    def _implements_status_source(registry: Registry) -> LicenseStatusSource:
        # mypy checks here that Registry satisfies the verification port.
        return registry
