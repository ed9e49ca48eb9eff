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

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cryptography import x509
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from verification.ports import LicenseStatusSource, StatusUnavailableError

from .db import SQLITE_BEGIN
from .errors import DatabaseUnavailableError, DuplicateError, InvalidValueError, NotFoundError, RegistryError
from .events import GENESIS_HASH, ChainWalker, StoredEvent, detail_json, event_hash
from .records import (
    CertificateRecord,
    ChainProblem,
    DepartmentRecord,
    EventRecord,
    LicenseRecord,
    LicenseTypeRecord,
    SealRecord,
)
from .tables import (
    CERTIFICATE_KINDS,
    DEFAULT_ALGORITHM,
    LICENSE_STATUSES,
    SEAL_STATUSES,
    Certificate,
    Department,
    Event,
    License,
    LicenseType,
    Seal,
)

Clock = Callable[[], datetime]
LicenseTypeRow = tuple[str, str, str, str, str, str]

# The seal type a licence is stamped with (公章, the organisation's official seal).
OFFICIAL_SEAL_TYPE = "公章"
MAX_LIST_LIMIT = 1000
# pg_advisory_xact_lock key serialising event appends ("YXEVENTS").
_EVENT_CHAIN_LOCK_KEY = 0x59584556454E5453
_CHAIN_PAGE = 1000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEX = frozenset("0123456789abcdef")
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)


def utc_now() -> datetime:
    """The default clock, used only when the caller injects none (the edge of the system)."""
    return datetime.now(UTC)


@dataclass
class _TransactionState:
    failed: bool = False
    ended: bool = False


class Registry:
    """Stores and finds the registry's records; implements
    :class:`verification.ports.LicenseStatusSource`.

    ``clock`` supplies ``created_at`` and event times; it must return timezone-aware datetimes.
    A ``Registry`` is safe to share between threads; a transaction object (``tx``) is not.
    """

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._session: Session | None = None
        self._state: _TransactionState | None = None

    def __repr__(self) -> str:
        bound = " (transaction)" if self._session is not None else ""
        return f"Registry({self._engine.dialect.name}{bound})"

    @property
    def engine(self) -> Engine:
        """The engine this registry uses."""
        return self._engine

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
            bound = Registry(self._engine, clock=self._clock)
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
        ``(code, slug, name, definer_uscc, definer_name, holder_kind)``. Idempotent, and safe when
        several processes do it at once."""
        records = [t if isinstance(t, LicenseTypeRecord) else _license_type_record(t) for t in types]
        for record in records:
            _check_text("code", record.code, 21)
            _check_text("slug", record.slug, 64)
            _check_text("name", record.name, 200)
            _check_uscc(record.definer_uscc, field="definer_uscc")
            _check_text("definer_name", record.definer_name, 200)
            _check_text("holder_kind", record.holder_kind, 32)
        if not records:
            return []
        with self._work(write=True, duplicate="two licence types would have the same slug") as s:
            dialect = self._engine.dialect.name
            for record in records:
                values = {
                    "code": record.code,
                    "slug": record.slug,
                    "name": record.name,
                    "definer_uscc": record.definer_uscc,
                    "definer_name": record.definer_name,
                    "holder_kind": record.holder_kind,
                }
                # INSERT … ON CONFLICT (code) DO UPDATE: both databases have it, and it does not race.
                insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LicenseType)
                statement = insert.values(values)
                statement = statement.on_conflict_do_update(
                    index_elements=[LicenseType.code],
                    set_={key: statement.excluded[key] for key in values if key != "code"},
                )
                s.execute(statement)
            return records

    def get_license_type(self, code: str) -> LicenseTypeRecord:
        """The catalogue type with this type code."""
        with self._work(write=False) as s:
            row = s.get(LicenseType, code)
            if row is None:
                raise NotFoundError(f"no licence type with code {_shown(code)}")
            return _license_type(row)

    def list_license_types(self) -> list[LicenseTypeRecord]:
        """Every catalogue type, by code."""
        with self._work(write=False) as s:
            return [_license_type(row) for row in s.scalars(select(LicenseType).order_by(LicenseType.code))]

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
    ) -> LicenseRecord:
        """Store an issued licence under its GB/T 36904 identifier.

        The seal must be an active seal of the issuing department (a department never seals with
        another's seal). Raises :class:`~registry.errors.DuplicateError` for a known identifier and
        :class:`~registry.errors.NotFoundError` for an unknown department, type or seal.
        """
        _check_text("identifier", identifier, 128)
        _check_text("serial", serial, 64)
        _check_text("holder_name", holder_name, 200)
        _check_text("holder_code", holder_code, 64)
        _check_license_status(status)
        _check_aware("issued_at", issued_at)
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise InvalidValueError("version: must be a non-negative integer")
        if valid_from is not None and valid_until is not None and valid_until < valid_from:
            raise InvalidValueError("valid_until: must not be before valid_from")
        fields_json = _fields_json(fields)
        with self._work(write=True, duplicate="a licence with this identifier already exists") as s:
            department = _department_row(s, department_uscc)
            if s.get(LicenseType, type_code) is None:
                raise NotFoundError(f"no licence type with code {_shown(type_code)}")
            seal = _seal_row(s, seal_id)
            if seal.department_id != department.id:
                raise InvalidValueError("seal_id: the seal belongs to another department")
            if seal.status != "active":
                raise InvalidValueError(f"seal_id: the seal is {seal.status}, not active")
            row = License(
                identifier=identifier,
                type_code=type_code,
                department=department,
                seal_id=seal.id,
                serial=serial,
                version=version,
                holder_name=holder_name,
                holder_code=holder_code,
                fields_json=fields_json,
                status=status,
                issued_at=issued_at,
                valid_from=valid_from,
                valid_until=valid_until,
                qr_text=qr_text,
                pdf=bytes(pdf),
                created_at=self._now(),
            )
            s.add(row)
            s.flush()
            return _license(row)

    def get_license(self, identifier: str) -> LicenseRecord:
        """The licence with this GB/T 36904 identifier."""
        with self._work(write=False) as s:
            return _license(_license_row(s, identifier))

    def list_licenses(
        self,
        *,
        department_uscc: str | None = None,
        holder_code: str | None = None,
        type_code: str | None = None,
        limit: int = 100,
    ) -> list[LicenseRecord]:
        """Licences, newest first, optionally of one department, one holder or one type."""
        _check_limit(limit)
        with self._work(write=False) as s:
            query = select(License).order_by(License.id.desc()).limit(limit)
            if department_uscc is not None:
                query = query.where(License.department_id == _department_row(s, department_uscc).id)
            if holder_code is not None:
                query = query.where(License.holder_code == holder_code)
            if type_code is not None:
                query = query.where(License.type_code == type_code)
            return [_license(row) for row in s.scalars(query)]

    def set_license_status(self, identifier: str, *, status: str) -> LicenseRecord:
        """Change a licence's status (suspend, revoke, cancel, expire, or reactivate)."""
        _check_license_status(status)
        with self._work(write=True) as s:
            row = _license_row(s, identifier)
            row.status = status
            s.flush()
            return _license(row)

    def license_status(self, identifier: str) -> str | None:
        """The licence's current status for verifiers, or ``None`` if the registry does not know it.

        An ``active`` licence whose ``valid_until`` day has passed (in UTC, the convention of the QR
        credential's expiry) is reported ``expired``. Implements
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
        if status == "active" and valid_until is not None:
            end = datetime.combine(valid_until + timedelta(days=1), time.min, UTC)
            if self._now() >= end:
                return "expired"
        return str(status)

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


def _check_sha256_hex(value: str) -> None:
    if len(value) != 64 or not set(value) <= _HEX:
        raise InvalidValueError("api_key_hash: must be a lower-case hex SHA-256 digest")


def _check_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(f"{name}: must be a timezone-aware datetime")


def _check_license_status(status: str) -> None:
    if status not in LICENSE_STATUSES:
        raise InvalidValueError(f"status: must be one of {', '.join(LICENSE_STATUSES)}")


def _check_seal_status(status: str) -> None:
    if status not in SEAL_STATUSES:
        raise InvalidValueError(f"status: must be one of {', '.join(SEAL_STATUSES)}")


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidValueError(f"limit: must be between 1 and {MAX_LIST_LIMIT}")


def _fields_json(fields: Mapping[str, str]) -> str:
    for key, value in fields.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidValueError("fields: names and values must be strings")
    return json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _license_type_record(row: LicenseTypeRow) -> LicenseTypeRecord:
    if len(row) != 6:
        raise InvalidValueError(
            "licence types are (code, slug, name, definer_uscc, definer_name, holder_kind)"
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
    )


def _license(row: License) -> LicenseRecord:
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
        holder_name=row.holder_name,
        holder_code=row.holder_code,
        fields=MappingProxyType(json.loads(row.fields_json)),
        qr_text=row.qr_text,
        pdf=row.pdf,
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
