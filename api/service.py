"""The composition root: one Yinxin home wired into working objects.

``TrustService`` joins the core packages (ca, seal_keys, issuance, verification) to the registry and
the key store of one home directory. The CLI and the HTTP API both drive it; neither holds business
rules of its own. The passphrase is asked for lazily, so commands that need no private key (verify,
show, list) never ask for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import ca
from issuance.catalog import (
    BUILTIN_TYPES,
    HolderKind,
    LicenseType,
    license_type_from_json,
    license_type_to_json,
    lookup,
    validate_fields,
)
from issuance.credential import CredentialClaims, issue_credential
from issuance.errors import FieldValidationError, IssuanceError
from issuance.identifier import LicenseIdentifier, new_serial, validate_resident_id, validate_uscc
from issuance.lifecycle import LicenseStatus, LifecycleAction, next_status
from issuance.metadata import build_metadata
from issuance.qrimage import render_qr_png
from issuance.render import LicenseFace, render_license_face
from issuance.stamp import stamp_pdf
from registry import Registry, create_engine_for, upgrade
from registry.crypto import FieldCipher
from registry.errors import DuplicateError, NotFoundError
from registry.records import (
    DailyCount,
    DepartmentRecord,
    IssuedCount,
    LicenseChangeRecord,
    LicenseRecord,
    PrincipalRecord,
    SealRecord,
)
from registry.statuslists import StatusSlot, add_status_entry, candidate_slot
from seal_keys.keystore import SoftwareKeyStore
from seal_keys.seal import Department, SealType, make_seal
from seal_keys.ses import SealPicture
from seal_keys.ses import document_hash as ses_document_hash
from seal_keys.ses import make_seal as make_ses_seal
from seal_keys.ses import make_signature as make_ses_signature
from verification.pdf import verify_pdf
from verification.qr import verify_qr
from verification.result import VerificationResult
from verification.trust import TrustStore

from .settings import Settings
from .status import STATUS_LIST_SIZE, status_list_url

ROOT_KEY_ID = "root-ca"
ISSUING_KEY_ID = "issuing-ca"
API_KEY_PREFIX = "yx_"
MAX_NAME_LENGTH = 100


class ServiceError(Exception):
    """An operation of the trust service cannot be done; the message is safe to show."""

    code = "service_error"
    status = 400

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class NotInitialisedError(ServiceError):
    """The home has no CA yet: run ``yinxin init``."""

    code = "not_initialised"
    status = 409


class ForbiddenError(ServiceError):
    """The caller may not act on that department's seals, licences or types."""

    code = "forbidden"
    status = 403


class ConflictError(ServiceError):
    """The operation conflicts with what exists (already initialised, duplicate department)."""

    code = "conflict"
    status = 409


def utc_now() -> datetime:
    """The real clock; injected everywhere else."""
    return datetime.now(UTC)


def hash_api_key(key: str) -> str:
    """API keys are stored as SHA-256 hex: they are 256-bit random, so no slow hash is needed."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class TrustService:
    """Everything one home can do. Build it with :meth:`open`."""

    settings: Settings
    registry: Registry
    passphrase: Callable[[], str]
    clock: Callable[[], datetime] = utc_now
    _keystore: SoftwareKeyStore | None = field(default=None, init=False, repr=False)
    _private: Registry | None = field(default=None, init=False, repr=False)
    _trust_cache: tuple[tuple[int, int], TrustStore] | None = field(default=None, init=False, repr=False)
    _type_cache: dict[str, tuple[str, LicenseType]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        passphrase: Callable[[], str],
        clock: Callable[[], datetime] = utc_now,
        migrate: bool = True,
    ) -> TrustService:
        """Open (and migrate) the database of ``settings`` and return a service over it."""
        settings.home.mkdir(parents=True, exist_ok=True)
        engine = create_engine_for(settings.database_url)
        if migrate:
            upgrade(engine)
        return cls(settings=settings, registry=Registry(engine, clock=clock), passphrase=passphrase, clock=clock)

    # -- key store -------------------------------------------------------------------------------
    @property
    def keystore(self) -> SoftwareKeyStore:
        """The software key store, opened with the passphrase on first use."""
        if self._keystore is None:
            store = SoftwareKeyStore(self.settings.keystore_dir, self.passphrase())
            store.check_passphrase()
            self._keystore = store
        return self._keystore

    @property
    def private_registry(self) -> Registry:
        """The registry opened with the home's data key: it reads and writes licences' personal data.

        The data key lives in the key store (passphrase); ``registry`` without it still answers
        statuses, listings and the catalogue.
        """
        if self._private is None:
            private = self.registry.with_cipher(FieldCipher(self.keystore.data_key("registry")))
            private.check_data_key()
            self._private = private
        return self._private

    # -- CA ----------------------------------------------------------------------------------------
    def is_initialised(self) -> bool:
        """Whether at least one CA hierarchy (root + issuing CA) exists in this home."""
        return bool(self.registry.certificates_of_kind("issuing-ca"))

    def algorithms(self) -> list[ca.SignatureAlgorithm]:
        """The algorithms for which this home has an issuing CA, in the order they were created."""
        records = self.registry.certificates_of_kind("issuing-ca")
        return list(dict.fromkeys(certificate_algorithm(r.der) for r in records))

    def initialise(self, *, algorithm: str | None = None) -> dict[str, Any]:
        """Create a root CA and an issuing CA for ``algorithm`` (``yinxin init``).

        A home may hold one hierarchy per algorithm (e.g. ECDSA P-256 and SM2, GB/T 39786): running
        init again with another algorithm adds that hierarchy; with the same one it is a conflict.
        """
        chosen = ca.SignatureAlgorithm.parse(algorithm or self.settings.algorithm)
        if chosen in self.algorithms():
            raise ConflictError(f"{self.settings.home} already has a {chosen.value} CA")
        first = not self.is_initialised()
        now = self.clock()
        store = self.keystore
        suffix = "" if first and chosen.value == "ecdsa-p256-sha256" else f"-{chosen.value}"
        root_signer = store.signer(store.generate(algorithm=chosen, key_id=ROOT_KEY_ID + suffix))
        root_cert = ca.create_root_certificate(
            signer=root_signer,
            subject=ca.organisation_name(organization=_ca_name(self.settings.root_name, chosen)),
            now=now,
        )
        root = ca.CertificateAuthority(certificate=root_cert, signer=root_signer)
        issuing_signer = store.signer(store.generate(algorithm=chosen, key_id=ISSUING_KEY_ID + suffix))
        issuing = ca.create_issuing_ca(
            root=root,
            signer=issuing_signer,
            subject=ca.organisation_name(organization=_ca_name(self.settings.issuing_name, chosen)),
            now=now,
        )
        with self.registry.transaction() as tx:
            tx.add_certificate(kind="root-ca", der=root_cert.public_bytes(serialization.Encoding.DER),
                               key_id=ROOT_KEY_ID + suffix)
            tx.add_certificate(kind="issuing-ca",
                               der=issuing.certificate.public_bytes(serialization.Encoding.DER),
                               key_id=ISSUING_KEY_ID + suffix)
            if first:  # later hierarchies keep the catalogue as the administrators left it
                tx.ensure_license_types(_type_row(t) for t in BUILTIN_TYPES)
            tx.record_event(kind="ca.initialised", actor="admin", subject=root_cert.subject.rfc4514_string(),
                            detail={"algorithm": chosen.value,
                                    "root_serial": format(root_cert.serial_number, "x"),
                                    "issuing_serial": format(issuing.certificate.serial_number, "x")})
        paths = self.export_ca_certificates()
        if not self.settings.config_path.exists():
            self.settings.config_path.write_text(self.settings.to_toml(), encoding="utf-8")
        return {"algorithm": chosen.value, "root_certificate": str(paths["root"]),
                "issuing_certificate": str(paths["issuing"])}

    def export_ca_certificates(self, directory: Path | None = None) -> dict[str, Path]:
        """Write the CA certificates as PEM (default: ``<home>/ca``): ``root.pem`` and ``issuing.pem`` with
        every hierarchy, and ``root-<algorithm>.pem`` / ``issuing-<algorithm>.pem`` for each one."""
        directory = directory or self.settings.home / "ca"
        directory.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for kind, stem in (("root-ca", "root"), ("issuing-ca", "issuing")):
            records = self.registry.certificates_of_kind(kind)
            paths[stem] = directory / f"{stem}.pem"
            paths[stem].write_bytes(b"".join(_pem_der(r.der) for r in records))
            for algorithm in dict.fromkeys(certificate_algorithm(r.der) for r in records):
                path = directory / f"{stem}-{algorithm.value}.pem"
                path.write_bytes(b"".join(_pem_der(r.der) for r in records
                                          if certificate_algorithm(r.der) is algorithm))
                paths[f"{stem}-{algorithm.value}"] = path
        return paths

    def _certificates(self, kind: str) -> list[x509.Certificate]:
        return [x509.load_der_x509_certificate(r.der) for r in self.registry.certificates_of_kind(kind)]

    def root_certificates(self) -> list[x509.Certificate]:
        """The trust anchors of this home."""
        return self._certificates("root-ca")

    def issuing_authority(self, algorithm: ca.SignatureAlgorithm | None = None) -> ca.CertificateAuthority:
        """The issuing CA for ``algorithm`` (default: the first one made) with its key unlocked."""
        records = self.registry.certificates_of_kind("issuing-ca")
        if not records:
            raise NotInitialisedError(f"{self.settings.home} has no CA yet: run `yinxin init` first")
        if algorithm is not None:
            records = [r for r in records if certificate_algorithm(r.der) is algorithm]
            if not records:
                raise NotInitialisedError(
                    f"{self.settings.home} has no {algorithm.value} CA: run `yinxin init --algorithm "
                    f"{algorithm.value}` first"
                )
        record = records[-1] if algorithm is not None else records[0]
        if record.key_id is None:
            raise ServiceError("the issuing CA's key is not in this home's key store")
        return ca.CertificateAuthority(
            certificate=x509.load_der_x509_certificate(record.der), signer=self.keystore.signer(record.key_id)
        )

    def trust_store(self) -> TrustStore:
        """Trust anchors (root CAs) plus every certificate we issued, for chain building.

        Kept while the registry's certificates do not change (one cheap query per call), so its cache of
        validated chains serves every verification of a long-running server.
        """
        stamp = self.registry.certificates_stamp()
        cached = self._trust_cache
        if cached is not None and cached[0] == stamp:
            return cached[1]
        roots = self.root_certificates()
        if not roots:
            raise NotInitialisedError(f"{self.settings.home} has no CA yet: run `yinxin init` first")
        known = self._certificates("issuing-ca") + self._certificates("seal")
        store = TrustStore(anchors=tuple(roots), certificates=tuple(known))
        self._trust_cache = (stamp, store)
        return store

    # -- departments and seals -----------------------------------------------------------------------
    def add_department(
        self, *, uscc: str, name: str, algorithm: str | None = None
    ) -> tuple[DepartmentRecord, str]:
        """Register a department (name + USCC per GB 32100); return it and its new API key (shown once).

        ``algorithm`` is the signature algorithm of the department's seals (default: the home's first CA's).
        """
        uscc = validate_uscc(uscc, field="uscc")
        chosen = ca.SignatureAlgorithm.parse(algorithm) if algorithm else None
        name = name.strip()
        if not name:
            raise FieldValidationError("name", "must not be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise FieldValidationError("name", f"at most {MAX_NAME_LENGTH} characters")
        available = self.algorithms()
        if chosen is None:
            chosen = available[0] if available else ca.SignatureAlgorithm.parse(self.settings.algorithm)
        elif chosen not in available:
            raise NotInitialisedError(f"this home has no {chosen.value} CA: run `yinxin init --algorithm "
                                      f"{chosen.value}` first")
        api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        with self.registry.transaction() as tx:
            record = tx.add_department(uscc=uscc, name=name, api_key_hash=hash_api_key(api_key),
                                       algorithm=chosen.value)
            tx.record_event(kind="department.added", actor="admin", subject=uscc,
                            detail={"name": name, "algorithm": chosen.value})
        return record, api_key

    def add_principal(self, *, kind: str, name: str, role: str | None = None) -> tuple[PrincipalRecord, str]:
        """Register an administrator, a verifier with a role, or a holder; return it and its API key (shown once)."""
        name = name.strip()
        if not name:
            raise FieldValidationError("name", "must not be empty")
        api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        with self.registry.transaction() as tx:
            record = tx.add_principal(kind=kind, name=name, role=role, api_key_hash=hash_api_key(api_key))
            tx.record_event(kind=f"{kind}.added", actor="admin", subject=name, detail={"role": role})
        return record, api_key

    def principal_for_api_key(self, api_key: str, *, kind: str) -> PrincipalRecord | None:
        """The active principal of ``kind`` an API key belongs to, if any."""
        return self.registry.principal_by_api_key_hash(hash_api_key(api_key), kind=kind)

    def department(self, uscc: str) -> DepartmentRecord:
        """The department with this USCC."""
        return self.registry.get_department(uscc)

    def department_for_api_key(self, api_key: str) -> DepartmentRecord | None:
        """The department an API key belongs to, if any."""
        return self.registry.department_by_api_key_hash(hash_api_key(api_key))

    def create_seal(
        self, *, uscc: str, seal_type: str = "公章", holder_name: str | None = None, algorithm: str | None = None
    ) -> SealRecord:
        """Make a seal for a department: key in the key store, certificate, image (``yinxin seal create``).

        The key's algorithm is ``algorithm`` if given, else the department's; the issuing CA of the same
        algorithm certifies it.
        """
        kind = SealType.parse(seal_type)
        dept = self.registry.get_department(uscc)
        chosen = ca.SignatureAlgorithm.parse(algorithm or dept.algorithm)
        authority = self.issuing_authority(chosen)
        seal = make_seal(
            department=Department(uscc=dept.uscc, name=dept.name),
            seal_type=kind,
            keystore=self.keystore,
            authority=authority,
            algorithm=chosen,
            now=self.clock(),
            holder_name=holder_name,
        )
        with self.registry.transaction() as tx:
            record = tx.add_seal(
                seal_id=seal.seal_id,
                department_uscc=dept.uscc,
                name=seal.name,
                seal_type=seal.seal_type.value,
                key_id=seal.key_id,
                certificate_der=seal.certificate.public_bytes(serialization.Encoding.DER),
                image_png=seal.image.png,
                image_width_mm=seal.image.width_mm,
            )
            tx.record_event(kind="seal.created", actor="admin", subject=seal.seal_id,
                            detail={"department": dept.uscc, "type": seal.seal_type.value,
                                    "algorithm": chosen.value,
                                    "certificate_serial": format(seal.certificate.serial_number, "x")})
        return record

    # -- GB/T 38540 seals -----------------------------------------------------------------------------
    def seal_maker(self) -> tuple[ca.KeySigner, x509.Certificate]:
        """The seal maker (制章者, GB/T 38540 §6) of this home's SM2 hierarchy, made on first use.

        Its end-entity certificate (signing key usage) comes from the SM2 issuing CA; it signs SESeal
        structures, never certificates.
        """
        authority = self.issuing_authority(ca.SignatureAlgorithm.SM2_SM3)
        for record in reversed(self.registry.certificates_of_kind("seal-maker")):
            certificate = x509.load_der_x509_certificate(record.der)
            if certificate.issuer == authority.certificate.subject and record.key_id is not None \
                    and certificate.not_valid_after_utc > self.clock():
                return self.keystore.signer(record.key_id), certificate
        key_id = self.keystore.generate(algorithm=ca.SignatureAlgorithm.SM2_SM3,
                                        key_id=f"seal-maker-{secrets.token_hex(4)}")
        certificate = authority.issue(
            profile=ca.SEAL_MAKER_PROFILE,
            subject=ca.organisation_name(organization=self.settings.issuing_name, common_name="电子印章制作系统"),
            public_key=self.keystore.public_key(key_id),
            now=self.clock(),
        )
        with self.registry.transaction() as tx:
            tx.add_certificate(kind="seal-maker", der=certificate.public_bytes(serialization.Encoding.DER),
                               key_id=key_id)
            tx.record_event(kind="ca.seal_maker_created", actor="admin", subject=certificate.subject.rfc4514_string(),
                            detail={"serial": format(certificate.serial_number, "x")})
        return self.keystore.signer(key_id), certificate

    def _sm2_seal(self, seal_id: str) -> tuple[SealRecord, x509.Certificate]:
        record = self.registry.get_seal(seal_id)
        certificate = x509.load_der_x509_certificate(self.registry.get_certificate(record.certificate_id).der)
        if certificate_algorithm(certificate.public_bytes(serialization.Encoding.DER)) \
                is not ca.SignatureAlgorithm.SM2_SM3:
            raise ServiceError(f"seal {seal_id} is not an SM2 seal: GB/T 38540 seals need SM2 "
                               "(make one with `yinxin seal create --algorithm sm2`)")
        return record, certificate

    def export_seal_esl(self, seal_id: str, *, actor: str) -> bytes:
        """The seal as a GB/T 38540 V4 ``SESeal`` (DER), signed by the seal maker (``seal export --format esl``)."""
        record, certificate = self._sm2_seal(seal_id)
        maker, maker_certificate = self.seal_maker()
        picture = SealPicture(type="PNG", data=record.image_png, width_mm=round(record.image_width_mm),
                              height_mm=round(record.image_width_mm))
        esl = make_ses_seal(
            es_id=record.seal_id.replace("-", ""),
            seal_type=_SES_SEAL_TYPE.get(record.seal_type, 1),
            name=record.name,
            holder_certificates=[certificate.public_bytes(serialization.Encoding.DER)],
            create_date=record.created_at,
            valid_start=certificate.not_valid_before_utc,
            valid_end=certificate.not_valid_after_utc,
            picture=picture,
            maker=maker,
            maker_certificate=maker_certificate.public_bytes(serialization.Encoding.DER),
        )
        self.registry.record_event(kind="seal.exported", actor=actor, subject=seal_id,
                                   detail={"format": "esl", "sm3": hashlib.new("sm3", esl).hexdigest()})
        return esl

    def sign_document_ses(self, seal_id: str, *, document: bytes, document_name: str, actor: str) -> bytes:
        """An ``SES_Signature`` (GB/T 38540 §7) by ``seal_id`` over ``document``'s SM3 hash; the use is recorded."""
        record, certificate = self._sm2_seal(seal_id)
        if record.status != "active":
            raise ServiceError(f"seal {seal_id} is {record.status}; it cannot be used")
        esl = self.export_seal_esl(seal_id, actor=actor)
        data_hash = ses_document_hash(document)
        signature = make_ses_signature(
            seal=esl,
            data_hash=data_hash,
            property_info=_ascii_property(document_name),
            signing_time=self.clock(),
            signer=self.keystore.signer(record.key_id),
            signer_certificate=certificate.public_bytes(serialization.Encoding.DER),
        )
        self.registry.record_event(kind="seal.used", actor=actor, subject=seal_id,
                                   detail={"document_sm3": data_hash.hex(), "format": "ses-signature"})
        return signature

    def _gm_trust(self) -> dict[str, tuple[bytes, ...]]:
        roots = tuple(r.der for r in self.registry.certificates_of_kind("root-ca"))
        intermediates = tuple(r.der for kind in ("issuing-ca", "seal-maker")
                              for r in self.registry.certificates_of_kind(kind))
        return {"trust_anchors": roots, "intermediates": intermediates}

    def verify_ses_bytes(self, data: bytes, *, document: bytes | None, actor: str) -> VerificationResult:
        """Verify a GB/T 38540 seal (.esl) or signature (.dat) against this home's roots."""
        from verification.errors import MalformedInputError
        from verification.ses import parse_signature, verify_seal, verify_ses_signature

        try:
            parse_signature(data)
        except MalformedInputError:
            if document is not None:
                raise
            result = verify_seal(data, now=self.clock(), **self._gm_trust())
        else:
            result = verify_ses_signature(data, document=document, now=self.clock(), **self._gm_trust())
        self._record_verification(result, actor=actor)
        return result

    def verify_ofd_bytes(self, data: bytes, *, actor: str) -> VerificationResult:
        """Verify every e-seal of a signed OFD document (GB/T 33190 §18, GB/T 38540)."""
        from verification.ofd import verify_ofd

        result = verify_ofd(data, now=self.clock(), **self._gm_trust())
        self._record_verification(result, actor=actor)
        return result

    # -- catalogue (GB/T 36902) -----------------------------------------------------------------------
    def license_types(self) -> tuple[LicenseType, ...]:
        """The catalogue: every licence type stored in the registry (the built-ins until ``init``)."""
        stored = [self._parsed_type(r.code, r.definition_json) for r in self.registry.list_license_types()
                  if r.definition_json]
        return tuple(stored) or BUILTIN_TYPES

    def _parsed_type(self, code: str, definition_json: str) -> LicenseType:
        # Parsing and validating a definition costs more than reading it; reuse the parse while the stored
        # text is the same (every verification looks its licence type up).
        cached = self._type_cache.get(code)
        if cached is None or cached[0] != definition_json:
            cached = (definition_json, license_type_from_json(definition_json))
            self._type_cache[code] = cached
        return cached[1]

    def license_type(self, key: str) -> LicenseType:
        """A catalogue type by its 21-character code, its short name or its Chinese name."""
        return lookup(key, types=self.license_types())

    def save_license_types(self, types: Sequence[LicenseType], *, actor: str) -> list[LicenseType]:
        """Add or replace catalogue types (``yinxin catalog import``, the admin API); recorded."""
        with self.registry.transaction() as tx:
            tx.ensure_license_types(_type_row(t) for t in types)
            for t in types:
                tx.record_event(kind="catalog.type_saved", actor=actor, subject=t.code,
                                detail={"name": t.name, "fields": len(t.fields)})
        return list(types)

    def set_issuer(self, *, license_type: str, uscc: str, allowed: bool, actor: str) -> list[str]:
        """Allow (or stop) a department issuing a type; returns the type's issuers afterwards."""
        lt = self.license_type(license_type)
        self.registry.get_department(uscc)
        with self.registry.transaction() as tx:
            if allowed:
                tx.allow_issuer(lt.code, uscc)
            else:
                tx.disallow_issuer(lt.code, uscc)
            tx.record_event(kind="catalog.issuer_allowed" if allowed else "catalog.issuer_disallowed",
                            actor=actor, subject=lt.code, detail={"department": uscc})
        return self.registry.issuers_of(lt.code)

    # -- licences ------------------------------------------------------------------------------------
    def _produce(
        self, *, lt: LicenseType, dept: DepartmentRecord, seal_record: SealRecord, values: Mapping[str, str],
        identifier: LicenseIdentifier, now: datetime, status_slot: StatusSlot,
    ) -> tuple[str, bytes, date | None, date | None]:
        """Sign the QR credential and render and seal the PDF of one licence version.

        The credential names ``status_slot``: its place in the department's status list (IETF Token
        Status List), which the caller stores in the licence's transaction.
        """
        seal_cert = x509.load_der_x509_certificate(self.registry.get_certificate(seal_record.certificate_id).der)
        signer = self.keystore.signer(seal_record.key_id)
        chain = [c for c in self._certificates("issuing-ca") if c.subject == seal_cert.issuer]
        metadata = build_metadata(lt, values, identifier=identifier, issuer_name=dept.name, issue_date=now.date())
        valid_from, valid_until = metadata.valid_from, metadata.valid_until
        credential_expiry = seal_cert.not_valid_after_utc
        if valid_until is not None:
            credential_expiry = min(
                credential_expiry, datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), UTC)
            )
        if credential_expiry <= now:
            raise FieldValidationError(lt.valid_until_field or "valid_until", "the licence has already expired")
        qr_text = issue_credential(
            CredentialClaims(
                issuer=dept.uscc,
                license_identifier=str(identifier),
                type_code=lt.code,
                issued_at=now,
                expires_at=credential_expiry,
                claims=_disclosed_on_face(lt, values) | metadata.to_claims(),
                status_url=status_list_url(self.settings, status_slot.department_uscc, status_slot.list_id),
                status_index=status_slot.index,
            ),
            signer=signer,
            certificate=seal_cert,
        )
        face = LicenseFace(
            title=lt.face_title,
            fields=lt.face_lines(values),
            identifier=str(identifier),
            issuer_name=dept.name,
            issue_date=now.date(),
            qr_png=render_qr_png(qr_text),
            metadata_xmp=metadata.to_xmp(),
        )
        pdf = stamp_pdf(
            render_license_face(face),
            signer=signer,
            certificate=seal_cert,
            chain=chain,
            seal_png=seal_record.image_png,
            reason=f"{lt.name}签发",
            location=dept.name,
            signing_time=now,
        )
        return qr_text, pdf, valid_from, valid_until

    def _issuing_seal(self, dept: DepartmentRecord) -> SealRecord:
        seal_record = self.registry.active_official_seal(dept.uscc)
        if seal_record is None:
            raise ServiceError(f"department {dept.uscc} has no active official seal (公章): "
                               "run `yinxin seal create` first")
        return seal_record

    def issue_license(
        self, *, department_uscc: str, license_type: str, fields: Mapping[str, object], actor: str,
        import_row: tuple[str, int] | None = None,
    ) -> LicenseRecord:
        """Issue a licence: check the department may issue the type, validate, identify (GB/T 36904), sign
        its QR credential, render its face with GB/T 36903 metadata and seal it, and record it.

        Nothing is written unless every step succeeded: the licence, its event and (for a bulk import) the
        import row are one transaction. A serial that collides is drawn again.
        """
        now = self.clock()
        lt = self.license_type(license_type)
        dept = self.registry.get_department(department_uscc)
        if not self.registry.may_issue(lt.code, dept.uscc):
            raise ForbiddenError(f"department {dept.uscc} may not issue {lt.name} ({lt.code}); an administrator "
                                 f"can allow it with `yinxin catalog allow --type {lt.short_name} --dept {dept.uscc}`")
        values = validate_fields(lt, fields, today=now.date())
        seal_record = self._issuing_seal(dept)
        registry = self.private_registry
        for attempt in range(3):
            identifier = LicenseIdentifier.compose(
                type_code=lt.code, issuer_code=dept.uscc, serial=new_serial(), version=1
            )
            slot = candidate_slot(self.registry, department_uscc=dept.uscc, size=STATUS_LIST_SIZE)
            qr_text, pdf, valid_from, valid_until = self._produce(
                lt=lt, dept=dept, seal_record=seal_record, values=values, identifier=identifier, now=now,
                status_slot=slot,
            )
            try:
                with registry.transaction() as tx:
                    record = tx.add_license(
                        identifier=str(identifier), type_code=lt.code, department_uscc=dept.uscc,
                        seal_id=seal_record.seal_id, serial=identifier.serial, version=identifier.version,
                        holder_name=values[lt.holder_name_field], holder_code=values[lt.holder_code_field],
                        holder_code_type=lt.holder_kind.code_type, fields=values, status="active",
                        issued_at=now, valid_from=valid_from, valid_until=valid_until, qr_text=qr_text, pdf=pdf,
                    )
                    # Same transaction: a slot two issuers drew at once fails here, and the loop draws again.
                    add_status_entry(tx, identifier=str(identifier), slot=slot)
                    tx.record_event(kind="license.issued", actor=actor, subject=str(identifier),
                                    detail={"type": lt.code, "department": dept.uscc, "seal": seal_record.seal_id})
                    if import_row is not None:
                        tx.record_import_row(import_row[0], import_row[1], identifier=str(identifier))
                return record
            except DuplicateError:
                if import_row is not None and import_row[1] in registry.done_rows(import_row[0]):
                    raise ConflictError(f"row {import_row[1]} of this import was already issued") from None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _own(self, identifier: str, department_uscc: str | None) -> LicenseRecord:
        record = self.get_license(identifier)
        if department_uscc is not None and record.department_uscc != department_uscc:
            raise ForbiddenError("this licence was issued by another department")
        return record

    def new_version(
        self, identifier: str, *, action: str, department_uscc: str | None, actor: str, reason: str,
        changes: Mapping[str, object] | None = None,
    ) -> LicenseRecord:
        """Amend (变更: new field values) or reissue (补发: same values) a licence as its next version.

        The old version becomes ``superseded``; the new one gets version + 1 of the same identifier, a new
        QR credential and a newly sealed PDF. ``department_uscc`` (None for an administrator) must be the
        issuer's.
        """
        kind = LifecycleAction.parse(action)
        if kind not in (LifecycleAction.AMEND, LifecycleAction.REISSUE):
            raise ServiceError(f"{action} does not make a new version")
        reason = _reason(reason)
        now = self.clock()
        registry = self.private_registry
        old = self._own(identifier, department_uscc)
        next_status(LicenseStatus.parse(old.status), kind)  # the state machine decides (raises if not allowed)
        lt = self.license_type(old.type_code)
        if kind is LifecycleAction.AMEND and not changes:
            raise FieldValidationError("fields", "an amendment needs at least one changed field")
        merged: dict[str, object] = dict(old.fields)
        merged.update(changes or {})
        values = validate_fields(lt, merged, today=now.date())
        dept = self.registry.get_department(old.department_uscc)
        seal_record = self._issuing_seal(dept)
        new_identifier = LicenseIdentifier.parse(identifier).next_version()
        for attempt in range(3):
            slot = candidate_slot(self.registry, department_uscc=dept.uscc, size=STATUS_LIST_SIZE)
            qr_text, pdf, valid_from, valid_until = self._produce(
                lt=lt, dept=dept, seal_record=seal_record, values=values, identifier=new_identifier, now=now,
                status_slot=slot,
            )
            try:
                with registry.transaction() as tx:
                    record = tx.add_license_version(
                        identifier, identifier=str(new_identifier), action=kind.value, actor=actor, reason=reason,
                        seal_id=seal_record.seal_id, holder_name=values[lt.holder_name_field],
                        holder_code=values[lt.holder_code_field], holder_code_type=lt.holder_kind.code_type,
                        fields=values, issued_at=now, valid_from=valid_from, valid_until=valid_until,
                        qr_text=qr_text, pdf=pdf, expected_status=old.status,
                    )
                    add_status_entry(tx, identifier=str(new_identifier), slot=slot)
                return record
            except DuplicateError:
                # A status list slot drawn by two issuers at once; a concurrent new version makes the
                # next attempt fail with StatusConflictError instead.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def change_status(
        self, identifier: str, *, action: str, department_uscc: str | None, actor: str, reason: str
    ) -> LicenseRecord:
        """Suspend, resume, revoke (吊销), cancel (注销) or expire a licence; who and why are recorded."""
        kind = LifecycleAction.parse(action)
        if kind.creates_version or kind is LifecycleAction.ISSUE:
            raise ServiceError(f"{action} is not a status change")
        reason = _reason(reason)
        LicenseIdentifier.parse(identifier)
        record = self.registry.get_license(identifier)
        if department_uscc is not None and record.department_uscc != department_uscc:
            raise ForbiddenError("this licence was issued by another department")
        current = LicenseStatus.parse(record.status)
        target = next_status(current, kind)
        return self.registry.set_license_status(identifier, status=target.value, action=kind.value, actor=actor,
                                                reason=reason, expected_status=current.value)

    def license_history(self, identifier: str) -> list[LicenseChangeRecord]:
        """Every lifecycle change of every version of the licence, oldest first."""
        LicenseIdentifier.parse(identifier)
        versions = self.registry.license_versions(identifier)
        changes = [c for v in versions for c in self.registry.list_changes(v.identifier)]
        return sorted(changes, key=lambda c: (c.occurred_at, c.id))

    def get_license(self, identifier: str) -> LicenseRecord:
        """A licence by its GB/T 36904 identifier, with its personal data (needs the data key)."""
        LicenseIdentifier.parse(identifier)
        return self.private_registry.get_license(identifier)

    # -- sharing (GB/T 36906 practice) ------------------------------------------------------------------
    def share_query(
        self, *, caller: str, holder_code: str, holder_code_type: str, type_code: str, purpose: str
    ) -> list[LicenseRecord]:
        """Find a holder's licences of one type for another department, with a stated purpose (用证事由).

        The holder code is validated (111: GB 11643; 001: GB 32100) and looked up through the blind index;
        the call is recorded with its caller and purpose, never with the holder code.
        """
        purpose = _purpose(purpose)
        if holder_code_type == HolderKind.NATURAL_PERSON.code_type:
            holder_code = validate_resident_id(holder_code, today=self.clock().date(), field="holder_code")
        elif holder_code_type == HolderKind.LEGAL_PERSON.code_type:
            holder_code = validate_uscc(holder_code, field="holder_code")
        else:
            raise FieldValidationError("holder_code_type", "must be 111 (公民身份号码) or 001 (统一社会信用代码)")
        lt = self.license_type(type_code)
        found = self.private_registry.find_licenses(holder_code=holder_code, holder_code_type=holder_code_type,
                                                    type_code=lt.code)
        self.registry.record_event(kind="share.queried", actor=caller, subject=lt.code,
                                   detail={"purpose": purpose, "results": len(found)})
        return found

    def _share_key(self) -> bytes:
        return self.keystore.data_key("share-links")

    def share_link(self, *, caller: str, identifier: str, purpose: str, ttl: timedelta) -> tuple[str, datetime]:
        """A time-limited token for fetching one licence's PDF; recorded with caller and purpose."""
        purpose = _purpose(purpose)
        if not timedelta(seconds=30) <= ttl <= timedelta(hours=24):
            raise FieldValidationError("ttl", "between 30 seconds and 24 hours")
        LicenseIdentifier.parse(identifier)
        self.registry.get_license(identifier)
        expires = (self.clock() + ttl).replace(microsecond=0)
        body = json.dumps({"i": identifier, "c": caller, "p": purpose, "e": int(expires.timestamp())},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        tag = hmac.new(self._share_key(), body, hashlib.sha256).digest()
        token = _b64url(body) + "." + _b64url(tag)
        self.registry.record_event(kind="share.link_issued", actor=caller, subject=identifier,
                                   detail={"purpose": purpose, "expires": expires.isoformat()})
        return token, expires

    def share_file(self, token: str) -> LicenseRecord:
        """The licence a share token names, if the token is authentic and not expired; the fetch is recorded."""
        try:
            body_text, tag_text = token.split(".", 1)
            body, tag = _unb64url(body_text), _unb64url(tag_text)
        except ValueError:
            raise ForbiddenError("the link is not valid") from None
        expected = hmac.new(self._share_key(), body, hashlib.sha256).digest()
        if not hmac.compare_digest(tag, expected):
            raise ForbiddenError("the link is not valid")
        claims = json.loads(body)
        if self.clock().timestamp() >= claims["e"]:
            raise ForbiddenError("the link has expired")
        record = self.get_license(claims["i"])
        self.registry.record_event(kind="share.downloaded", actor=claims["c"], subject=claims["i"],
                                   detail={"purpose": claims["p"]})
        return record

    def statistics(self, *, days: int = 30) -> dict[str, Any]:
        """Licences issued per type and department, and verifications per day (the last ``days`` days)."""
        issued: list[IssuedCount] = self.registry.issued_per_type_and_department()
        daily: list[DailyCount] = self.registry.verifications_per_day(days)
        return {
            "issued": [{"type": c.type_code, "department": c.department_uscc, "issued": c.issued,
                        "active": c.active} for c in issued],
            "verifications_per_day": [{"day": d.day.isoformat(), "count": d.count} for d in daily],
        }

    # -- verification ----------------------------------------------------------------------------------
    def verify_qr_text(self, text: str, *, actor: str) -> VerificationResult:
        """Verify a QR credential against this home's trust anchors and the registry's status."""
        result = verify_qr(text, trust=self.trust_store(), now=self.clock(), status_source=self.registry)
        self._record_verification(result, actor=actor)
        return result

    def verify_pdf_bytes(self, data: bytes, *, actor: str) -> VerificationResult:
        """Verify a sealed licence PDF against this home's trust anchors and the registry's status."""
        result = verify_pdf(data, trust_roots=self.root_certificates() or _no_roots(self.settings),
                            now=self.clock(), status_source=self.registry,
                            max_size=self.settings.max_upload_bytes)
        self._record_verification(result, actor=actor)
        return result

    def _record_verification(self, result: VerificationResult, *, actor: str) -> None:
        self.registry.record_event(
            kind="license.verified", actor=actor, subject=result.license_identifier or "",
            detail={"kind": result.kind, "verdict": result.verdict.value, "reasons": result.reasons},
        )


def certificate_algorithm(der: bytes) -> ca.SignatureAlgorithm:
    """The signature algorithm of a certificate's key, read from its SubjectPublicKeyInfo.

    Read with asn1crypto rather than cryptography because cryptography cannot load SM2 keys.
    """
    spki = asn1_x509.Certificate.load(der).public_key["algorithm"]
    algorithm = spki["algorithm"].dotted
    if algorithm == "1.2.840.10045.2.1":  # id-ecPublicKey (RFC 5480)
        curve = spki["parameters"].chosen
        curve_oid = curve.dotted if isinstance(curve, asn1_core.ObjectIdentifier) else ""
        names = {"1.2.840.10045.3.1.7": "ecdsa-p256-sha256", "1.2.156.10197.1.301": "sm2-sm3"}
        if curve_oid in names:
            return ca.SignatureAlgorithm(names[curve_oid])
    elif algorithm == "1.3.101.112":  # id-Ed25519 (RFC 8410)
        return ca.SignatureAlgorithm.ED25519
    elif algorithm == "1.2.840.113549.1.1.1":  # rsaEncryption
        return ca.SignatureAlgorithm.RSA2048_SHA256
    raise ServiceError(f"certificate key algorithm {algorithm} is not supported")


def _ca_name(base: str, algorithm: ca.SignatureAlgorithm) -> str:
    # Hierarchies of different algorithms must have different names, or chains would cross.
    return f"{base}（SM2）" if algorithm.value == "sm2-sm3" else base


def _pem_der(der: bytes) -> bytes:
    return _pem(x509.load_der_x509_certificate(der))


# GB/T 38540 SES_ESPropertyInfo.type: 1 = organisation seal (单位印章), 2 = personal seal (个人印章),
# as GM/T 0031-2014 defines them; GB/T 38540 leaves further values to the business.
_SES_SEAL_TYPE = {"法定代表人名章": 2}


def _ascii_property(name: str) -> str:
    # propertyInfo is an IA5String: keep the document's name readable where it is ASCII, else its SM3 digest.
    cleaned = Path(name).name
    return cleaned if cleaned.isascii() and cleaned.isprintable() and cleaned else \
        "sm3:" + hashlib.new("sm3", name.encode("utf-8")).hexdigest()


def _no_roots(settings: Settings) -> list[x509.Certificate]:
    raise NotInitialisedError(f"{settings.home} has no CA yet: run `yinxin init` first")


def _type_row(t: LicenseType) -> tuple[str, str, str, str, str, str, str]:
    return (t.code, t.short_name, t.name, t.definer_uscc, t.definer_name, t.holder_kind.value,
            license_type_to_json(t))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FieldValidationError("reason", "is required: say why")
    if len(reason) > 500:
        raise FieldValidationError("reason", "at most 500 characters")
    return reason


def _purpose(purpose: str) -> str:
    # 用证事由: every sharing platform demands one (reference/cn-standards.md §2.4), at most 200 characters.
    purpose = (purpose or "").strip()
    if not purpose:
        raise FieldValidationError("purpose", "a stated purpose (用证事由) is required")
    if len(purpose) > 200:
        raise FieldValidationError("purpose", "at most 200 characters")
    return purpose


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _disclosed_on_face(lt: LicenseType, values: Mapping[str, str]) -> dict[str, str]:
    """Claims carried by the QR printed on the licence face: who holds it, masked, and until when.

    The full record stays in the registry; the printed QR discloses no more than the face shows
    about the holder, with identity numbers masked (a photocopy of the face must not leak them).
    """
    claims: dict[str, str] = {}
    for spec in lt.fields:
        value = values.get(spec.name)
        if not value:
            continue
        if spec.name == lt.holder_name_field:
            claims["name"] = value
        elif spec.name == lt.holder_code_field:
            claims["holder_code"] = spec.mask(value) if spec.masking else value
        elif spec.name == "vehicle_class":
            claims["vehicle_class"] = value
    return claims


__all__ = [
    "ConflictError",
    "ForbiddenError",
    "IssuanceError",
    "NotFoundError",
    "NotInitialisedError",
    "ServiceError",
    "TrustService",
    "hash_api_key",
    "utc_now",
]
