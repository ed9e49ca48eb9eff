"""SM2 certificates and CRLs (GB/T 20518, RFC 5280), built with asn1crypto and checked with our SM2 verifier.

pyca/cryptography parses SM2 certificates but can neither build nor verify them (cn-standards §4.4), so
this module assembles the TBSCertificate / TBSCertList with asn1crypto and signs its DER through any
:class:`~ca.algorithms.KeySigner` whose algorithm is SM2-with-SM3:

* subjectPublicKeyInfo: id-ecPublicKey with namedCurve 1.2.156.10197.1.301 and the uncompressed point;
* signature / signatureAlgorithm: 1.2.156.10197.1.501 with the parameters **absent** (GB/T 20518);
* signatureValue: the DER ``SEQUENCE {r, s}`` (GB/T 35276) in the BIT STRING, computed over
  e = SM3(Z_A ‖ DER(TBS)) with the default user ID (GB/T 32918.2).

Profiles, serial numbers, names and validity are the ones :mod:`ca.authority` applies to ECDSA
certificates; the extension values themselves are encoded by cryptography, so both hierarchies carry
byte-identical extensions. An SM2 hierarchy certifies SM2 keys only: a mixed request is a :class:`CAError`.

:func:`verify_chain` validates an SM2 path (RFC 5280 §6.1, reduced to what our hierarchy uses) and
:func:`verify_crl` checks an SM2-signed CRL (RFC 5280 §6.3.3 steps on signature, issuer and freshness).
Both verify the signature over the TBS bytes exactly as received, never over a re-encoding.

Interoperability: the signatures use the default SM2 user ID ``1234567812345678`` (GM/T 0009 §10,
now GB/T 35276), as BouncyCastle, GmSSL and the Chinese CAs do. OpenSSL 3.0–3.6 instead verifies SM2
certificate signatures with an empty ID; ``openssl verify -vfyopt distid:1234567812345678`` applies the
right ID to the target certificate only, not to intermediates or the anchor (openssl/openssl#23471), and
``openssl crl -verify`` cannot be told the ID at all. So OpenSSL checks these chains one link at a time
(each certificate as the target, its issuer trusted with ``-partial_chain``) and CRL signatures with
``openssl pkeyutl -rawin -digest sm3 -pkeyopt distid:…``; tests/unit/ca/test_gm_x509.py does exactly that.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from asn1crypto import algos, core, crl, keys, parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from . import oids
from .algorithms import KeySigner, SignatureAlgorithm
from .authority import public_key_der, validity_window
from .errors import CAError
from .profiles import CertificateProfile
from .sm2 import SM2Error, SM2PublicKey

__all__ = [
    "CRLValidation",
    "ChainValidation",
    "RevokedCertificate",
    "build_certificate",
    "build_crl",
    "verify_chain",
    "verify_crl",
]

# RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on (also for CRL times, §5.1.2.4).
_GENERALIZED_TIME_FROM: Final = datetime(2050, 1, 1, tzinfo=UTC)

# Longest path verify_chain will try (anchor included); our hierarchy uses 3.
_MAX_PATH: Final = 8

# Critical extensions this module processes (RFC 5280 §4.2: any other critical extension fails the path).
# subjectAltName and extendedKeyUsage only name things; checking the purpose is the caller's business.
_UNDERSTOOD_CRITICAL: Final = frozenset({"basic_constraints", "key_usage", "subject_alt_name", "extended_key_usage"})

# RFC 5280 §5.3.1 reason names, cryptography → asn1crypto.
_REASONS: Final[Mapping[x509.ReasonFlags, str]] = MappingProxyType({
    x509.ReasonFlags.unspecified: "unspecified",
    x509.ReasonFlags.key_compromise: "key_compromise",
    x509.ReasonFlags.ca_compromise: "ca_compromise",
    x509.ReasonFlags.affiliation_changed: "affiliation_changed",
    x509.ReasonFlags.superseded: "superseded",
    x509.ReasonFlags.cessation_of_operation: "cessation_of_operation",
    x509.ReasonFlags.certificate_hold: "certificate_hold",
    x509.ReasonFlags.remove_from_crl: "remove_from_crl",
    x509.ReasonFlags.privilege_withdrawn: "privilege_withdrawn",
    x509.ReasonFlags.aa_compromise: "aa_compromise",
})


# --------------------------------------------------------------------------------------------------
# Building


def _sm2_algorithm() -> algos.SignedDigestAlgorithm:
    # GB/T 20518: SM2-with-SM3, parameters absent (ca.oids keeps asn1crypto from adding NULL).
    return algos.SignedDigestAlgorithm({"algorithm": oids.SM2_SM3})


def _time(moment: datetime) -> asn1_x509.Time:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if moment >= _GENERALIZED_TIME_FROM:
        return asn1_x509.Time({"general_time": moment})
    return asn1_x509.Time({"utc_time": moment})


def _name(name: x509.Name) -> asn1_x509.Name:
    # The same X.501 name cryptography would write, carried over as DER.
    return asn1_x509.Name.load(name.public_bytes())


def _extension(
    container: type[core.Sequence], value: x509.ExtensionType, *, critical: bool
) -> core.Sequence:
    # cryptography encodes the extension value (so SM2 and ECDSA certificates carry identical bytes);
    # asn1crypto only wraps it.
    return container({
        "extn_id": value.oid.dotted_string,
        "critical": critical,
        "extn_value": core.ParsableOctetString(value.public_bytes()),
    })


def _sm2_signer_key(signer: KeySigner) -> SM2PublicKey:
    key: object = signer.public_key()
    if signer.algorithm is not SignatureAlgorithm.SM2_SM3 or not isinstance(key, SM2PublicKey):
        raise CAError(
            "an SM2 certificate or CRL must be signed with an SM2 key "
            "(mixed SM2 / non-SM2 hierarchies are not supported)"
        )
    return key


def _key_identifier(public_key: SM2PublicKey) -> bytes:
    # RFC 5280 §4.2.1.2 method (1): SHA-1 over the subjectPublicKey BIT STRING value, as cryptography does
    # for ECDSA keys. An identifier, not a security function.
    return hashlib.sha1(public_key.point, usedforsecurity=False).digest()


def _sign(signer: KeySigner, tbs: core.Sequence) -> tuple[bytes, bytes]:
    tbs_der: bytes = tbs.dump()
    return tbs_der, signer.sign(tbs_der)


def build_certificate(
    *,
    profile: CertificateProfile,
    subject: x509.Name,
    public_key: SM2PublicKey,
    signer: KeySigner,
    issuer_certificate: x509.Certificate | None,
    now: datetime,
    not_after: datetime | None = None,
) -> bytes:
    """Issue a GB/T 20518 SM2 certificate for ``public_key`` under ``profile``; returns its DER.

    With ``issuer_certificate=None`` the certificate is self-signed (a root): ``signer`` must hold
    the private key of ``public_key``. Otherwise ``signer`` must hold the key certified by
    ``issuer_certificate``, an SM2 CA certificate with keyCertSign. Validity follows
    :func:`ca.authority.validity_window` (clock skew, profile validity, shell model).
    """
    if not isinstance(public_key, SM2PublicKey):
        raise CAError("an SM2 hierarchy certifies SM2 keys only")
    signer_key = _sm2_signer_key(signer)
    if issuer_certificate is None:
        if signer_key.point != public_key.point:
            raise CAError("a self-signed certificate must be signed by its own key")
        issuer_name = subject
        authority_key_id = _key_identifier(public_key)
    else:
        if public_key_der(issuer_certificate) != signer_key.to_spki_der():
            raise CAError("the CA's key does not match its certificate")
        constraints = issuer_certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = issuer_certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        if not constraints.ca or not usage.key_cert_sign:
            raise CAError("the issuer certificate is not a CA certificate with keyCertSign")
        issuer_name = issuer_certificate.subject
        authority_key_id = issuer_certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value.digest

    not_before, end = validity_window(
        profile=profile,
        now=now,
        not_after=not_after,
        issuer_not_after=None if issuer_certificate is None else issuer_certificate.not_valid_after_utc,
    )
    if end <= not_before:
        raise CAError("the certificate would have no validity period")
    extensions = [
        _extension(
            asn1_x509.Extension,
            x509.BasicConstraints(ca=profile.is_ca, path_length=profile.path_length),
            critical=True,
        ),
        _extension(asn1_x509.Extension, profile.key_usage_extension(), critical=True),
        _extension(asn1_x509.Extension, x509.SubjectKeyIdentifier(_key_identifier(public_key)), critical=False),
        _extension(
            asn1_x509.Extension,
            x509.AuthorityKeyIdentifier(
                key_identifier=authority_key_id, authority_cert_issuer=None, authority_cert_serial_number=None
            ),
            critical=False,
        ),
    ]
    tbs = asn1_x509.TbsCertificate({
        "version": "v3",
        # RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 random bits (CA/B BR §7.1 asks ≥ 64).
        "serial_number": secrets.randbits(159) | 1 << 158,
        "signature": _sm2_algorithm(),
        "issuer": _name(issuer_name),
        "validity": {"not_before": _time(not_before), "not_after": _time(end)},
        "subject": _name(subject),
        "subject_public_key_info": keys.PublicKeyInfo.load(public_key.to_spki_der()),
        "extensions": extensions,
    })
    tbs_der, signature = _sign(signer, tbs)
    certificate = asn1_x509.Certificate({
        "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
        "signature_algorithm": _sm2_algorithm(),
        "signature_value": signature,
    })
    der: bytes = certificate.dump()
    return der


@dataclass(frozen=True)
class RevokedCertificate:
    """One entry of a CRL (RFC 5280 §5.1.2.6): serial, revocation time and, optionally, the reason.

    A reason of ``unspecified`` (or ``None``) is left out of the entry, as RFC 5280 §5.3.1 asks.
    """

    serial_number: int
    revocation_date: datetime
    reason: x509.ReasonFlags | None = None

    def __post_init__(self) -> None:
        if self.serial_number <= 0:
            raise CAError("a certificate serial number is a positive integer")
        if self.revocation_date.tzinfo is None:
            raise CAError("revocation time must be timezone-aware UTC")


def build_crl(
    *,
    issuer_certificate: x509.Certificate,
    signer: KeySigner,
    revoked: Sequence[RevokedCertificate],
    crl_number: int,
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    """Sign a v2 CRL (RFC 5280 §5) with an SM2 CA key; returns its DER.

    The CRL carries authorityKeyIdentifier and cRLNumber (§5.2.1, §5.2.3), thisUpdate/nextUpdate
    and one entry per revoked certificate with its reasonCode (§5.3.1). The issuer certificate
    must be an SM2 CA certificate with cRLSign whose key ``signer`` holds.
    """
    signer_key = _sm2_signer_key(signer)
    if public_key_der(issuer_certificate) != signer_key.to_spki_der():
        raise CAError("the CA's key does not match its certificate")
    usage = issuer_certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    if not usage.crl_sign:
        raise CAError("the issuer certificate does not allow cRLSign")
    for moment in (this_update, next_update):
        if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
            raise CAError("CRL times must be timezone-aware UTC")
    if next_update <= this_update:
        raise CAError("nextUpdate must be later than thisUpdate")
    if not 0 <= crl_number < 1 << 159:
        raise CAError("the CRL number is a non-negative integer of at most 20 octets")  # RFC 5280 §5.2.3
    serials = [entry.serial_number for entry in revoked]
    if len(set(serials)) != len(serials):
        raise CAError("a certificate appears twice in the CRL")

    entries = []
    for entry in revoked:
        value: dict[str, Any] = {
            "user_certificate": entry.serial_number,
            "revocation_date": _time(entry.revocation_date),
        }
        if entry.reason is not None and entry.reason is not x509.ReasonFlags.unspecified:
            value["crl_entry_extensions"] = [
                _extension(crl.CRLEntryExtension, x509.CRLReason(entry.reason), critical=False)
            ]
        entries.append(crl.RevokedCertificate(value))

    ski = issuer_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    tbs_value: dict[str, Any] = {
        "version": "v2",
        "signature": _sm2_algorithm(),
        "issuer": _name(issuer_certificate.subject),
        "this_update": _time(this_update),
        "next_update": _time(next_update),
        "crl_extensions": [
            _extension(
                crl.TBSCertListExtension,
                x509.AuthorityKeyIdentifier(
                    key_identifier=ski, authority_cert_issuer=None, authority_cert_serial_number=None
                ),
                critical=False,
            ),
            _extension(crl.TBSCertListExtension, x509.CRLNumber(crl_number), critical=False),
        ],
    }
    if entries:
        # RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked.
        tbs_value["revoked_certificates"] = entries
    tbs_der, signature = _sign(signer, crl.TbsCertList(tbs_value))
    certificate_list = crl.CertificateList({
        "tbs_cert_list": crl.TbsCertList.load(tbs_der),
        "signature_algorithm": _sm2_algorithm(),
        "signature": signature,
    })
    der: bytes = certificate_list.dump()
    return der


# --------------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class ChainValidation:
    """The outcome of :func:`verify_chain`.

    ``ok`` is the verdict; ``problem`` says what failed and ``failed_subject`` names the certificate
    it failed on (both empty when ``ok``). ``path`` is the DER of the path that was validated, or of
    the path that came closest, end-entity first and trust anchor last.
    """

    ok: bool
    problem: str = ""
    failed_subject: str = ""
    path: tuple[bytes, ...] = ()

    @property
    def subjects(self) -> tuple[str, ...]:
        """The subjects along ``path``, end-entity first, for messages and logs."""
        return tuple(_Parsed.of(der).subject_text for der in self.path)


@dataclass(frozen=True)
class CRLValidation:
    """The outcome of :func:`verify_crl`: verdict, problem text and the revoked serials with their reasons."""

    ok: bool
    problem: str = ""
    revoked: Mapping[int, x509.ReasonFlags] = field(default_factory=lambda: MappingProxyType({}))
    crl_number: int | None = None

    def is_revoked(self, serial_number: int) -> bool:
        """Whether ``serial_number`` is listed (meaningful only when ``ok``)."""
        return serial_number in self.revoked


class _Unusable(Exception):
    """A structure cannot be read; carries the text for the result."""


def _tbs_bytes(der: bytes) -> bytes:
    """The to-be-signed part of SIGNED{…} (X.509 §6.2) exactly as received: the signature covers these bytes."""
    try:
        # strict: no bytes may follow the outer SEQUENCE.
        class_, method, tag, _, contents, _ = parser.parse(der, strict=True)
        if (class_, method, tag) != (0, 1, 16):
            raise _Unusable("not a DER SEQUENCE")
        _, _, _, tbs_header, tbs_contents, _ = parser.parse(contents)
    except (ValueError, TypeError) as error:
        raise _Unusable("not a DER-encoded structure") from error
    return bytes(tbs_header + tbs_contents)


def _subject_text(der: bytes, certificate: asn1_x509.Certificate) -> str:
    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        text: str = certificate.subject.human_friendly
        return text


@dataclass(frozen=True)
class _Parsed:
    """A certificate parsed once, with the exact TBS bytes its signature covers."""

    der: bytes
    certificate: asn1_x509.Certificate
    tbs_der: bytes
    subject_text: str
    # Extensions by asn1crypto name (or dotted OID); the first of each, duplicates listed apart.
    extensions: Mapping[str, asn1_x509.Extension]
    duplicate_extensions: tuple[str, ...]

    @classmethod
    def of(cls, der: bytes) -> _Parsed:
        tbs_der = _tbs_bytes(der)
        try:
            certificate = asn1_x509.Certificate.load(der, strict=True)
            certificate.native  # noqa: B018 - forces a full parse, so malformed fields surface here
            subject_text = _subject_text(der, certificate)
            extensions: dict[str, asn1_x509.Extension] = {}
            duplicates: list[str] = []
            for extension in certificate["tbs_certificate"]["extensions"]:
                name = extension["extn_id"].native
                if name in extensions:
                    duplicates.append(extension["extn_id"].dotted)
                else:
                    extensions[name] = extension
        except (ValueError, TypeError, KeyError) as error:
            raise _Unusable("not a well-formed X.509 certificate") from error
        return cls(
            der=der,
            certificate=certificate,
            tbs_der=tbs_der,
            subject_text=subject_text,
            extensions=MappingProxyType(extensions),
            duplicate_extensions=tuple(duplicates),
        )

    @property
    def tbs(self) -> asn1_x509.TbsCertificate:
        return self.certificate["tbs_certificate"]

    def extension_value(self, name: str) -> Any:
        extension = self.extensions.get(name)
        return None if extension is None else extension["extn_value"].parsed


def _der_signature(value: core.Asn1Value) -> bytes | None:
    # GB/T 20518 / GB/T 35276: the BIT STRING holds DER SEQUENCE {r, s}; the raw r‖s form SM2PublicKey.verify
    # also accepts elsewhere has no place in a certificate or CRL.
    if value.unused_bits:
        return None
    signature = bytes(value.native)
    try:
        if algos.DSASignature.load(signature, strict=True).dump(force=True) != signature:
            return None
    except (ValueError, TypeError):
        return None
    return signature


def _check_signature(parsed: _Parsed, issuer: _Parsed) -> str:
    certificate = parsed.certificate
    outer = certificate["signature_algorithm"]
    if outer.dump() != parsed.tbs["signature"].dump():
        # RFC 5280 §4.1.1.2: the two algorithm fields must be identical.
        return "signature algorithm fields differ"
    if outer["algorithm"].dotted != oids.SM2_SM3 or not isinstance(outer["parameters"], core.Void):
        return f"signature algorithm {outer['algorithm'].dotted} is not SM2-with-SM3 (GB/T 20518)"
    try:
        issuer_key = SM2PublicKey.from_spki_der(issuer.tbs["subject_public_key_info"].dump())
    except SM2Error:
        return f"issuer {issuer.subject_text!r} does not hold an SM2 key"
    signature = _der_signature(certificate["signature_value"])
    if signature is None:
        return "signature value is not a DER SEQUENCE {r, s}"
    if not issuer_key.verify(signature, parsed.tbs_der):
        return "SM2 signature does not verify"
    return ""


def _check_validity(parsed: _Parsed, now: datetime) -> str:
    validity = parsed.tbs["validity"]
    not_before: datetime = validity["not_before"].native
    not_after: datetime = validity["not_after"].native
    if now < not_before:
        return f"not valid before {not_before.isoformat()}"
    if now > not_after:
        return f"expired at {not_after.isoformat()}"
    return ""


def _check_extensions(parsed: _Parsed) -> str:
    extensions = parsed.extensions
    if extensions and parsed.tbs["version"].native != "v3":
        return "extensions in a certificate that is not v3"
    if parsed.duplicate_extensions:
        return f"extension {parsed.duplicate_extensions[0]} appears twice"  # RFC 5280 §4.2
    for name, extension in extensions.items():
        if extension["critical"].native and name not in _UNDERSTOOD_CRITICAL:
            return f"unknown critical extension {extension['extn_id'].dotted}"
    return ""


def _check_issuer_is_ca(issuer: _Parsed, non_self_issued_below: int) -> str:
    # RFC 5280 §6.1.4 (k), (l), (m), (n) for the certificate that signs the next one down.
    if issuer.tbs["version"].native != "v3":
        return "a CA certificate must be v3"
    constraints = issuer.extension_value("basic_constraints")
    if constraints is None or not constraints["ca"].native:
        return "not a CA certificate (basicConstraints cA is not set)"
    usage = issuer.extension_value("key_usage")
    if usage is None or "key_cert_sign" not in usage.native:
        return "keyUsage does not allow keyCertSign"
    path_length = constraints["path_len_constraint"].native
    if path_length is not None and non_self_issued_below > path_length:
        return f"pathLenConstraint {path_length} exceeded ({non_self_issued_below} CA certificates below it)"
    return ""


def _self_issued(parsed: _Parsed) -> bool:
    return bool(parsed.tbs["issuer"] == parsed.tbs["subject"])


def _may_have_issued(issuer: _Parsed, child: _Parsed) -> bool:
    if issuer.tbs["subject"] != child.tbs["issuer"]:
        return False
    # Disambiguate same-named CAs (re-keying) by AKI/SKI when both are present (RFC 5280 §4.2.1.1).
    aki = child.extension_value("authority_key_identifier")
    ski = issuer.extension_value("key_identifier")
    if aki is not None and ski is not None and aki["key_identifier"].native is not None:
        return bool(aki["key_identifier"].native == ski.native)
    return True


def _validate_path(path: Sequence[_Parsed], now: datetime) -> tuple[str, str]:
    """RFC 5280 §6.1 over ``path`` (end-entity first, anchor last). Returns (problem, failed subject)."""
    top_down = list(reversed(path))
    for index, parsed in enumerate(top_down):
        problem = _check_extensions(parsed) or _check_validity(parsed, now)
        if not problem and index > 0:
            issuer = top_down[index - 1]
            problem = _check_signature(parsed, issuer)
        if not problem and index < len(top_down) - 1:
            below = sum(1 for c in top_down[index + 1 : -1] if not _self_issued(c))
            problem = _check_issuer_is_ca(parsed, below)
        if problem:
            return problem, parsed.subject_text
    return "", ""


def _require_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise CAError("validation time must be timezone-aware UTC")
    return now.astimezone(UTC)


def verify_chain(
    certificate_der: bytes, *, intermediates: Sequence[bytes], anchors: Sequence[bytes], now: datetime
) -> ChainValidation:
    """Validate an SM2 certificate path to one of ``anchors`` at time ``now`` (RFC 5280 §6.1, GB/T 20518).

    Builds every path from ``certificate_der`` through ``intermediates`` to an anchor (matching issuer
    to subject, and AKI to SKI when present) and accepts the first that passes: each signature is
    SM2-with-SM3 over the TBS bytes as received and verifies with the issuer's SM2 key; every
    certificate, anchor included, is valid at ``now``; every issuer is a v3 CA certificate with
    keyCertSign whose pathLenConstraint holds; no certificate has a critical extension this module
    does not process. Revocation is the caller's step (see :func:`verify_crl`).

    An invalid chain is an answer (``ok=False``), not an exception; an empty anchor list raises
    :class:`CAError` (fail closed: nothing is trusted by default).
    """
    now = _require_utc(now)
    if not anchors:
        raise CAError("no trust anchors configured")
    try:
        target = _Parsed.of(certificate_der)
    except _Unusable as error:
        return ChainValidation(ok=False, problem=str(error), path=(certificate_der,))
    anchor_pool: list[_Parsed] = []
    pool: list[_Parsed] = []
    for source, into in ((anchors, anchor_pool), (intermediates, pool)):
        for der in source:
            try:
                into.append(_Parsed.of(der))
            except _Unusable:
                continue  # a certificate that cannot be read cannot be part of a path
    anchor_ders = {anchor.der for anchor in anchor_pool}

    paths: list[list[_Parsed]] = []

    def extend(path: list[_Parsed]) -> None:
        last = path[-1]
        if last.der in anchor_ders:
            paths.append(path)
            return
        if len(path) >= _MAX_PATH:
            return
        for candidate in (*anchor_pool, *pool):
            if any(candidate.der == p.der for p in path):
                continue  # no loops
            if _may_have_issued(candidate, last):
                extend([*path, candidate])

    extend([target])
    if not paths:
        return ChainValidation(
            ok=False,
            problem="no path to a trust anchor: issuer not found",
            failed_subject=target.subject_text,
            path=(target.der,),
        )
    failures: list[ChainValidation] = []
    for path in paths:
        problem, failed = _validate_path(path, now)
        ders = tuple(p.der for p in path)
        if not problem:
            return ChainValidation(ok=True, path=ders)
        failures.append(ChainValidation(ok=False, problem=problem, failed_subject=failed, path=ders))
    return failures[0]


def verify_crl(crl_der: bytes, *, issuer_certificate: bytes, now: datetime) -> CRLValidation:
    """Check an SM2-signed CRL against its issuer's certificate at time ``now`` (RFC 5280 §6.3.3).

    Passes when the CRL is v2, names the issuer, is signed with SM2-with-SM3 by the issuer's key
    (over the TBSCertList bytes as received), the issuer allows cRLSign, ``now`` lies in
    [thisUpdate, nextUpdate], and no critical extension is unknown. The issuer certificate's own
    chain is validated separately with :func:`verify_chain`.
    """
    now = _require_utc(now)
    try:
        issuer = _Parsed.of(issuer_certificate)
        tbs_der = _tbs_bytes(crl_der)
        certificate_list = crl.CertificateList.load(crl_der, strict=True)
        tbs = certificate_list["tbs_cert_list"]
        certificate_list.native  # noqa: B018 - forces a full parse
    except (_Unusable, ValueError, TypeError, KeyError) as error:
        return CRLValidation(ok=False, problem=f"unreadable CRL or issuer certificate: {error}")

    def fail(problem: str) -> CRLValidation:
        return CRLValidation(ok=False, problem=problem)

    if tbs["version"].native != "v2":
        return fail("not a v2 CRL")
    if tbs["issuer"] != issuer.tbs["subject"]:
        return fail("the CRL issuer is not the given certificate's subject")
    usage = issuer.extension_value("key_usage")
    if usage is None or "crl_sign" not in usage.native:
        return fail("the issuer certificate does not allow cRLSign")
    algorithm = certificate_list["signature_algorithm"]
    if algorithm.dump() != tbs["signature"].dump():
        return fail("signature algorithm fields differ")
    if algorithm["algorithm"].dotted != oids.SM2_SM3 or not isinstance(algorithm["parameters"], core.Void):
        return fail(f"signature algorithm {algorithm['algorithm'].dotted} is not SM2-with-SM3")
    try:
        key = SM2PublicKey.from_spki_der(issuer.tbs["subject_public_key_info"].dump())
    except SM2Error:
        return fail("the issuer does not hold an SM2 key")
    signature = _der_signature(certificate_list["signature"])
    if signature is None:
        return fail("signature value is not a DER SEQUENCE {r, s}")
    if not key.verify(signature, tbs_der):
        return fail("SM2 signature does not verify")
    this_update: datetime = tbs["this_update"].native
    next_update: datetime | None = tbs["next_update"].native
    if now < this_update:
        return fail(f"not issued until {this_update.isoformat()}")
    if next_update is None or now > next_update:
        return fail("the CRL is stale (past nextUpdate)" if next_update else "the CRL has no nextUpdate")
    crl_number: int | None = None
    for extension in tbs["crl_extensions"]:
        name = extension["extn_id"].native
        if name == "crl_number":
            crl_number = extension["extn_value"].parsed.native
        elif extension["critical"].native and name != "authority_key_identifier":
            return fail(f"unknown critical CRL extension {extension['extn_id'].dotted}")
    revoked: dict[int, x509.ReasonFlags] = {}
    reasons = {value: flag for flag, value in _REASONS.items()}
    for entry in tbs["revoked_certificates"]:
        reason = x509.ReasonFlags.unspecified
        for extension in entry["crl_entry_extensions"]:
            if extension["extn_id"].native == "crl_reason":
                reason = reasons.get(extension["extn_value"].parsed.native, x509.ReasonFlags.unspecified)
            elif extension["critical"].native:
                return fail(f"unknown critical CRL entry extension {extension['extn_id'].dotted}")
        revoked[entry["user_certificate"].native] = reason
    return CRLValidation(ok=True, revoked=MappingProxyType(revoked), crl_number=crl_number)
