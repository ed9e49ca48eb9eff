"""The composition root: one Yinxin home wired into working objects.

``TrustService`` joins the core packages (ca, seal_keys, issuance, verification) to the registry and
the key store of one home directory. The CLI and the HTTP API both drive it; neither holds business
rules of its own. The passphrase is asked for lazily, so commands that need no private key (verify,
show, list) never ask for it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import ca
from issuance.catalog import BUILTIN_TYPES, LicenseType, lookup, validate_fields
from issuance.credential import CredentialClaims, issue_credential
from issuance.errors import FieldValidationError, IssuanceError
from issuance.identifier import LicenseIdentifier, new_serial, validate_uscc
from issuance.qrimage import render_qr_png
from issuance.render import LicenseFace, render_license_face
from issuance.stamp import stamp_pdf
from registry import Registry, create_engine_for, upgrade
from registry.errors import NotFoundError
from registry.records import DepartmentRecord, LicenseRecord, SealRecord
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
            tx.ensure_license_types(
                (t.code, t.short_name, t.name, t.definer_uscc, t.definer_name, t.holder_kind.value)
                for t in BUILTIN_TYPES
            )
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
        """Trust anchors (root CAs) plus every certificate we issued, for chain building."""
        roots = self.root_certificates()
        if not roots:
            raise NotInitialisedError(f"{self.settings.home} has no CA yet: run `yinxin init` first")
        known = self._certificates("issuing-ca") + self._certificates("seal")
        return TrustStore(anchors=tuple(roots), certificates=tuple(known))

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

    # -- licences ------------------------------------------------------------------------------------
    def issue_license(
        self, *, department_uscc: str, license_type: str, fields: Mapping[str, object], actor: str
    ) -> LicenseRecord:
        """Issue a licence: validate, identify, sign its QR credential, render and seal its PDF, record it.

        Nothing is written unless every step succeeded (one transaction for the licence and its event).
        """
        now = self.clock()
        lt = lookup(license_type)
        values = validate_fields(lt, fields, today=now.date())
        dept = self.registry.get_department(department_uscc)
        seal_record = self.registry.active_official_seal(dept.uscc)
        if seal_record is None:
            raise ServiceError(f"department {dept.uscc} has no active official seal (公章): "
                               "run `yinxin seal create` first")
        seal_cert = x509.load_der_x509_certificate(self.registry.get_certificate(seal_record.certificate_id).der)
        issuing = self._certificates("issuing-ca")
        signer = self.keystore.signer(seal_record.key_id)
        identifier = LicenseIdentifier.compose(
            type_code=lt.code, issuer_code=dept.uscc, serial=new_serial(), version=1
        )
        valid_from, valid_until = _validity(lt, values)
        credential_expiry = seal_cert.not_valid_after_utc
        if valid_until is not None:
            credential_expiry = min(
                credential_expiry, datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), UTC)
            )
        if credential_expiry <= now:
            raise FieldValidationError("valid_until", "the licence has already expired")
        qr_text = issue_credential(
            CredentialClaims(
                issuer=dept.uscc,
                license_identifier=str(identifier),
                type_code=lt.code,
                issued_at=now,
                expires_at=credential_expiry,
                claims=_disclosed_on_face(lt, values),
            ),
            signer=signer,
            certificate=seal_cert,
        )
        face = LicenseFace(
            title=lt.face_title,
            fields=_face_fields(lt, values),
            identifier=str(identifier),
            issuer_name=dept.name,
            issue_date=now.date(),
            qr_png=render_qr_png(qr_text),
        )
        pdf = stamp_pdf(
            render_license_face(face),
            signer=signer,
            certificate=seal_cert,
            chain=issuing,
            seal_png=seal_record.image_png,
            reason=f"{lt.name}签发",
            location=dept.name,
            signing_time=now,
        )
        with self.registry.transaction() as tx:
            record = tx.add_license(
                identifier=str(identifier),
                type_code=lt.code,
                department_uscc=dept.uscc,
                seal_id=seal_record.seal_id,
                serial=identifier.serial,
                version=identifier.version,
                holder_name=values[lt.holder_name_field],
                holder_code=values[lt.holder_code_field],
                fields=values,
                status="active",
                issued_at=now,
                valid_from=valid_from,
                valid_until=valid_until,
                qr_text=qr_text,
                pdf=pdf,
            )
            tx.record_event(kind="license.issued", actor=actor, subject=str(identifier),
                            detail={"type": lt.code, "department": dept.uscc, "seal": seal_record.seal_id})
        return record

    def get_license(self, identifier: str) -> LicenseRecord:
        """A licence by its GB/T 36904 identifier."""
        LicenseIdentifier.parse(identifier)
        return self.registry.get_license(identifier)

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


def _validity(lt: LicenseType, values: Mapping[str, str]) -> tuple[date | None, date | None]:
    """The licence's validity window from the fields its type names for it (长期 → no end)."""

    def parse(name: str | None) -> date | None:
        text = values.get(name, "") if name else ""
        if not text or text == "长期":
            return None
        return date.fromisoformat(text)  # validate_fields has already checked the format

    return parse(lt.valid_from_field), parse(lt.valid_until_field)


def _face_fields(lt: LicenseType, values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Label and printed value of every filled field, in the face's order (money with its unit)."""
    return tuple(
        (spec.label, f"{values[spec.name]}{spec.unit}" if spec.unit else values[spec.name])
        for spec in lt.fields
        if values.get(spec.name)
    )


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
        elif spec.name == lt.valid_until_field:
            claims["valid_until"] = value
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
