"""The verifier's trust list: trust anchors, known signer certificates, and path validation.

Like the EU DCC trust list (HCERT Appendix A), a verifier looks signer certificates up by ``kid``
(the first 8 bytes of SHA-256 over the certificate DER) and must try every certificate with that kid.
Unlike it, a listed signer certificate is not trusted by its presence alone: it must chain to a
trust anchor (root CA) at the time of verification (RFC 5280 §6.1).

Path validation is written here, signature by signature, instead of using
``cryptography.x509.verification``: that verifier enforces the Web PKI profile, which forbids
Ed25519 keys ("Forbidden public key algorithm") and expects SAN/EKU that our seal and credential
certificates do not carry, and its extension policies cannot lift the algorithm restriction.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtensionOID

from ca.authority import certificate_kid as kid_of
from ca.sm2 import SM2_SM3_SIGNATURE_OID, SM2Error, SM2PublicKey

from .errors import TrustConfigurationError

__all__ = ["PathValidation", "TrustStore", "kid_of"]

MAX_PATH_LENGTH = 6
"""Longest certificate path (signer … anchor) the validator builds; ours are 2–3 long."""
MAX_CACHED_PATHS = 10_000
"""Validated paths remembered (one per signer certificate); the cache starts afresh when full."""

# Extensions this validator processes (RFC 5280 §4.2: a critical extension the relying party does
# not process makes the certificate unacceptable). keyUsage and basicConstraints are enforced below.
_PROCESSED_CRITICAL = frozenset({ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE})
_ACCEPTED_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


@dataclass(frozen=True)
class PathValidation:
    """The outcome of validating one certificate's path to a trust anchor.

    ``path`` runs from the certificate to the anchor when it is trusted; ``problem`` says why not.
    """

    path: tuple[x509.Certificate, ...] = ()
    problem: str | None = None

    @property
    def trusted(self) -> bool:
        """Whether a valid path to a trust anchor was found."""
        return self.problem is None and len(self.path) > 0


def _extensions_problem(certificate: x509.Certificate) -> str | None:
    try:
        extensions = list(certificate.extensions)
    except ValueError as exc:  # duplicate or undecodable extension
        return f"certificate {_name(certificate)} has malformed extensions ({exc})"
    for extension in extensions:
        if extension.critical and extension.oid not in _PROCESSED_CRITICAL:
            # RFC 5280 §4.2: fail closed on a critical extension we do not understand.
            oid = extension.oid.dotted_string
            return f"certificate {_name(certificate)} has an unsupported critical extension {oid}"
    return None


def _validity_problem(certificate: x509.Certificate, now: datetime) -> str | None:
    # RFC 5280 §6.1.3 (a)(2): the current time lies within the validity period (both ends inclusive).
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now < not_before:
        return f"certificate {_name(certificate)} is not valid before {not_before.isoformat()}"
    if now > not_after:
        return f"certificate {_name(certificate)} expired at {not_after.isoformat()}"
    return None


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _basic_constraints(certificate: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _ca_problem(certificate: x509.Certificate) -> str | None:
    """RFC 5280 §6.1.4 (k), (n): an issuer must be a CA allowed to sign certificates."""
    constraints = _basic_constraints(certificate)
    if constraints is None or not constraints.ca:
        return f"certificate {_name(certificate)} is not a CA certificate (basicConstraints)"
    usage = _key_usage(certificate)
    if usage is None or not usage.key_cert_sign:
        return f"certificate {_name(certificate)} may not sign certificates (keyUsage keyCertSign)"
    return None


def _sm2_signature_problem(child: x509.Certificate, issuer: x509.Certificate) -> str | None:
    # GB/T 20518: cryptography parses SM2 certificates but cannot verify them; ca.sm2 does, over the
    # TBSCertificate bytes as received, with the GB/T 35276 default user ID.
    try:
        key = SM2PublicKey.from_certificate_der(issuer.public_bytes(serialization.Encoding.DER))
    except SM2Error:
        return f"certificate {_name(child)} is SM2-signed but {_name(issuer)} has no SM2 key"
    if not key.verify(child.signature, child.tbs_certificate_bytes):
        return f"the signature on certificate {_name(child)} does not verify with {_name(issuer)}'s key"
    return None


def _signature_problem(child: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """RFC 5280 §6.1.3 (a)(1), (a)(4): issuer name chaining and the signature."""
    if child.signature_algorithm_oid.dotted_string == SM2_SM3_SIGNATURE_OID:
        return _sm2_signature_problem(child, issuer)
    try:
        hash_algorithm = child.signature_hash_algorithm
        if hash_algorithm is not None and not isinstance(hash_algorithm, _ACCEPTED_HASHES):
            return f"certificate {_name(child)} is signed with the weak hash {hash_algorithm.name}"
        child.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return f"the signature on certificate {_name(child)} does not verify with {_name(issuer)}'s key"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return f"certificate {_name(child)} cannot be checked against {_name(issuer)}: {exc}"
    return None


@dataclass(frozen=True)
class _CachedPath:
    """A validated path and the window [latest notBefore, earliest notAfter] of its certificates."""

    validation: PathValidation
    not_before: datetime
    not_after: datetime
    # Sets, not tuples: a subset test reuses the stored hashes instead of hashing certificates again.
    certificates: frozenset[x509.Certificate]
    anchor: frozenset[x509.Certificate]

    def applies(self, store: TrustStore, now: datetime) -> bool:
        return (self.not_before <= now <= self.not_after and self.anchor <= store._anchor_set
                and self.certificates <= store._known)


_PATHS: dict[x509.Certificate, _CachedPath] = {}
_PATHS_LOCK = threading.Lock()


def _remember(certificate: x509.Certificate, validation: PathValidation) -> None:
    path = validation.path
    entry = _CachedPath(validation, max(c.not_valid_before_utc for c in path),
                        min(c.not_valid_after_utc for c in path), frozenset(path), frozenset(path[-1:]))
    with _PATHS_LOCK:
        if len(_PATHS) >= MAX_CACHED_PATHS:
            _PATHS.clear()
        _PATHS[certificate] = entry


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors (root CA certificates) plus the signer and issuing-CA certificates a verifier knows.

    Fails closed: no anchors, or an anchor that is not a CA certificate, raises
    :class:`~verification.errors.TrustConfigurationError`.
    """

    anchors: tuple[x509.Certificate, ...]
    certificates: tuple[x509.Certificate, ...] = ()
    _by_kid: Mapping[bytes, tuple[x509.Certificate, ...]] = field(init=False, repr=False, compare=False)
    _by_subject: Mapping[x509.Name, tuple[x509.Certificate, ...]] = field(
        init=False, repr=False, compare=False
    )
    _known: frozenset[x509.Certificate] = field(init=False, repr=False, compare=False)
    _anchor_set: frozenset[x509.Certificate] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        anchors = tuple(dict.fromkeys(self.anchors))
        certificates = tuple(c for c in dict.fromkeys(self.certificates) if c not in anchors)
        if not anchors:
            raise TrustConfigurationError("no trust anchors configured; refusing to verify anything")
        for anchor in anchors:
            if not isinstance(anchor, x509.Certificate):
                raise TrustConfigurationError("trust anchors must be X.509 certificates")
            problem = _ca_problem(anchor)
            if problem is not None:
                raise TrustConfigurationError(f"unusable trust anchor: {problem}")
        by_kid: dict[bytes, list[x509.Certificate]] = {}
        by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for certificate in anchors + certificates:
            by_kid.setdefault(kid_of(certificate), []).append(certificate)
            by_subject.setdefault(certificate.subject, []).append(certificate)
        object.__setattr__(self, "anchors", anchors)
        object.__setattr__(self, "certificates", certificates)
        object.__setattr__(self, "_by_kid", MappingProxyType({k: tuple(v) for k, v in by_kid.items()}))
        object.__setattr__(
            self, "_by_subject", MappingProxyType({k: tuple(v) for k, v in by_subject.items()})
        )
        object.__setattr__(self, "_known", frozenset(anchors + certificates))
        object.__setattr__(self, "_anchor_set", frozenset(anchors))

    def certificates_for_kid(self, kid: bytes) -> list[x509.Certificate]:
        """Every known certificate whose kid is ``kid`` (kids may collide: try them all)."""
        return list(self._by_kid.get(bytes(kid), ()))

    def validate_path(self, certificate: x509.Certificate, *, now: datetime) -> PathValidation:
        """Validate ``certificate`` as an end-entity signer at ``now`` (RFC 5280 §6.1, simplified).

        Checked: on every certificate, validity at ``now`` and no unprocessed critical extension;
        on each link, issuer name chaining and signature (SHA-2 or Ed25519 only); on issuers,
        basicConstraints CA, keyUsage keyCertSign and pathLenConstraint; on the signer,
        keyUsage digitalSignature and not a CA. The anchor's own signature is not checked
        (a trust anchor is trusted as configured, RFC 5280 §6.1.1 (d)).

        A path once validated is remembered for its certificate (by every store: stores are often
        rebuilt): while ``now`` lies inside the validity of every certificate on it, and this store
        holds its certificates with its last one as an anchor, it is answered again without checking
        signatures — nothing the checks read can have changed but the time. Safe in several threads.
        """
        if now.tzinfo is None or now.utcoffset() != timedelta(0):
            raise ValueError("now must be a timezone-aware UTC datetime")
        now = now.astimezone(UTC)
        cached = _PATHS.get(certificate)
        if cached is not None and cached.applies(self, now):
            return cached.validation
        problem = (
            _extensions_problem(certificate)
            or _validity_problem(certificate, now)
            or self._signer_usage_problem(certificate)
        )
        if problem is not None:
            return PathValidation(problem=problem)
        problems: list[str] = []
        path = self._extend((certificate,), now, problems)
        if path is not None:
            validation = PathValidation(path=path)
            _remember(certificate, validation)
            return validation
        return PathValidation(
            problem=problems[0] if problems else f"no path from {_name(certificate)} to a trust anchor"
        )

    @staticmethod
    def _signer_usage_problem(certificate: x509.Certificate) -> str | None:
        constraints = _basic_constraints(certificate)
        if constraints is not None and constraints.ca:
            return f"certificate {_name(certificate)} is a CA certificate, not a signer certificate"
        usage = _key_usage(certificate)
        if usage is None or not usage.digital_signature:
            return f"certificate {_name(certificate)} may not sign data (keyUsage digitalSignature)"
        return None

    def _extend(
        self, path: tuple[x509.Certificate, ...], now: datetime, problems: list[str]
    ) -> tuple[x509.Certificate, ...] | None:
        """Depth-first search for an issuer chain from ``path[-1]`` up to an anchor."""
        current = path[-1]
        if len(path) >= MAX_PATH_LENGTH:
            problems.append(f"no trust anchor within {MAX_PATH_LENGTH} certificates")
            return None
        candidates = [c for c in self._by_subject.get(current.issuer, ()) if c not in path]
        if not candidates:
            problems.append(
                f"the issuer of {_name(current)} ({current.issuer.rfc4514_string()}) is not in the trust list"
            )
            return None
        for issuer in candidates:
            # RFC 5280 §6.1.4 (l), (m): CA certificates below this issuer, the signer excluded.
            below = len(path) - 1
            constraints = _basic_constraints(issuer)
            problem = (
                _extensions_problem(issuer)
                or _ca_problem(issuer)
                or _validity_problem(issuer, now)
                or _signature_problem(current, issuer)
            )
            limit = constraints.path_length if constraints is not None else None
            if problem is None and limit is not None and below > limit:
                problem = f"certificate {_name(issuer)} allows only {limit} CA(s) below it"
            if problem is not None:
                problems.append(problem)
                continue
            extended = (*path, issuer)
            if issuer in self.anchors:
                return extended
            found = self._extend(extended, now, problems)
            if found is not None:
                return found
        return None
