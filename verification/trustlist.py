"""The trust list, verifier's side: checked with nothing but the root certificate(s) the verifier holds.

Layout in :mod:`issuance.trustlist`. :func:`parse_trust_list` validates the signer's x5chain
(RFC 9360, in the protected header) up to a trust anchor at ``now`` (RFC 5280 §6.1), verifies the COSE_Sign1 signature
(RFC 9052 §4.4), refuses an expired list, and checks every entry against its certificate. The
result gives a :class:`~verification.trust.TrustStore` for QR credentials and status lists, the
way an EU DCC verifier app uses its downloaded DSC list (HCERT Appendix A). No I/O; time passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .cose import ALG_NAMES, CoseFormatError, decode_cbor, is_int, organization_identifier, parse_sign1
from .cose import signature_problem as cose_signature_problem
from .errors import InputTooLargeError, VerificationError
from .trust import TrustStore

__all__ = ["MAX_TRUST_LIST_BYTES", "TRUST_LIST_TYP", "TrustList", "TrustListError", "parse_trust_list"]

TRUST_LIST_TYP = "application/yinxin-trust-list+cbor"
MAX_TRUST_LIST_BYTES = 16 * 2**20
"""Largest trust list accepted (a few thousand certificates fit in a few MiB)."""
CLOCK_SKEW = timedelta(minutes=5)

_HEADER_TYP, _HEADER_X5CHAIN = 16, 33  # RFC 9596, RFC 9360 §2
_MAX_CHAIN = 5
_PAYLOAD_KEYS = frozenset({"version", "issued_at", "expires_at", "entries"})
_ENTRY_KEYS = frozenset({"kid", "certificate", "not_before", "not_after", "issuer"})


class TrustListError(VerificationError):
    """A trust list cannot be used: malformed, not signed by a certificate chaining to a trust anchor,
    altered, or expired. Verifiers must then not answer VALID."""

    code = "trust_list_invalid"


@dataclass(frozen=True)
class TrustList:
    """A trust list whose signature, signer chain and expiry were checked at the time given."""

    version: int
    issued_at: datetime
    expires_at: datetime
    certificates: tuple[x509.Certificate, ...]
    signer: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    def trust_store(self, anchors: Sequence[x509.Certificate]) -> TrustStore:
        """A :class:`TrustStore` of ``anchors`` and the listed certificates (for credentials and status lists)."""
        return TrustStore(anchors=tuple(anchors), certificates=self.certificates)

    def expiry_problem(self, now: datetime) -> str | None:
        """Why the list may not be used at ``now`` (expired, or issued in the future), or None."""
        if now >= self.expires_at:
            return f"the trust list (version {self.version}) expired at {self.expires_at.isoformat()}"
        if now < self.issued_at - CLOCK_SKEW:
            return f"the trust list (version {self.version}) is issued in the future"
        return None


def _fail(message: str) -> TrustListError:
    return TrustListError(f"trust list: {message}")


def _certificate(der: object, what: str) -> x509.Certificate:
    if not isinstance(der, bytes):
        raise _fail(f"{what} must be a DER byte string")
    try:
        certificate = x509.load_der_x509_certificate(der)
        # cryptography decodes names and times when first asked: ask now, so a damaged one fails here.
        _ = (certificate.subject, certificate.issuer, certificate.not_valid_before_utc,
             certificate.not_valid_after_utc, certificate.extensions)
        return certificate
    except (ValueError, TypeError, x509.InvalidVersion, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        raise _fail(f"{what} is not a DER X.509 certificate") from None


def _x5chain(protected: Mapping[Any, Any]) -> tuple[x509.Certificate, ...]:
    # Only from the protected header, so that the signature covers it (see issuance.trustlist).
    if _HEADER_X5CHAIN not in protected:
        raise _fail("no x5chain (label 33) in the protected header: the signer's certificate is missing")
    value = protected[_HEADER_X5CHAIN]
    items = [value] if isinstance(value, bytes) else value
    if not isinstance(items, list | tuple) or not 1 <= len(items) <= _MAX_CHAIN:
        raise _fail(f"x5chain (label 33) must hold 1 to {_MAX_CHAIN} certificates")
    return tuple(_certificate(item, f"x5chain[{i}]") for i, item in enumerate(items))


def _date(value: object, what: str) -> datetime:
    if not is_int(value):
        raise _fail(f"{what} must be an integer NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise _fail(f"{what} is out of range") from None


def _kid(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


def _entry(index: int, entry: object) -> x509.Certificate:
    what = f"entries[{index}]"
    if not isinstance(entry, Mapping) or not {"kid", "certificate", "not_before", "not_after"} <= entry.keys() \
            or not entry.keys() <= _ENTRY_KEYS:
        raise _fail(f"{what} must be a map of kid, certificate, not_before, not_after and an optional issuer")
    certificate = _certificate(entry["certificate"], f"{what}.certificate")
    if entry["kid"] != _kid(certificate):
        raise _fail(f"{what}.kid is not the kid of its certificate")
    if _date(entry["not_before"], f"{what}.not_before") != certificate.not_valid_before_utc.replace(microsecond=0) \
            or _date(entry["not_after"], f"{what}.not_after") != certificate.not_valid_after_utc.replace(microsecond=0):
        raise _fail(f"{what}: the validity differs from its certificate's")
    if "issuer" in entry and entry["issuer"] != organization_identifier(certificate):
        raise _fail(f"{what}.issuer differs from its certificate's organizationIdentifier")
    return certificate


def parse_trust_list(data: bytes, *, anchors: Sequence[x509.Certificate], now: datetime) -> TrustList:
    """Check a trust list against the trust ``anchors`` (root certificates) at ``now`` and return it.

    Raises :class:`TrustListError` when the bytes are not a trust list, the x5chain does not lead to an
    anchor at ``now`` (RFC 5280 §6.1: names, signatures, validity, CA and key usage constraints), the
    signature does not verify (any altered byte), the list has expired, or an entry contradicts its
    certificate; :class:`~verification.errors.TrustConfigurationError` without anchors;
    :class:`~verification.errors.InputTooLargeError` past :data:`MAX_TRUST_LIST_BYTES`.
    """
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise ValueError("now must be a timezone-aware UTC datetime")
    now = now.astimezone(UTC)
    if not isinstance(data, bytes | bytearray):
        raise _fail("a trust list is bytes")
    if len(data) > MAX_TRUST_LIST_BYTES:
        raise InputTooLargeError(f"a trust list larger than {MAX_TRUST_LIST_BYTES} bytes is refused")
    try:
        message = parse_sign1(bytes(data), "trust list")
        payload = decode_cbor(message.payload, "trust list payload")
    except CoseFormatError as exc:
        raise _fail(str(exc)) from None
    if message.header.get(_HEADER_TYP) != TRUST_LIST_TYP:
        raise _fail(f"the typ header must be {TRUST_LIST_TYP}")
    if message.alg not in ALG_NAMES:
        raise _fail(f"unknown signature algorithm {message.alg}")
    chain = _x5chain(message.header)
    signer = chain[0]
    validation = TrustStore(anchors=tuple(anchors), certificates=chain[1:]).validate_path(signer, now=now)
    if not validation.trusted:
        raise _fail(f"its signer is not trusted: {validation.problem}")
    problem = cose_signature_problem(message.alg, message.signature, message.to_be_signed(), signer)
    if problem is not None:
        raise _fail(problem)

    if not isinstance(payload, Mapping) or set(payload.keys()) != _PAYLOAD_KEYS:
        raise _fail("the payload must be a map of version, issued_at, expires_at and entries")
    version, entries = payload["version"], payload["entries"]
    if not (is_int(version) and version >= 0):
        raise _fail("version must be a non-negative integer")
    if not isinstance(entries, list | tuple):
        raise _fail("entries must be an array")
    trust_list = TrustList(
        version=version,
        issued_at=_date(payload["issued_at"], "issued_at"),
        expires_at=_date(payload["expires_at"], "expires_at"),
        certificates=tuple(_entry(i, e) for i, e in enumerate(entries)),
        signer=signer,
        chain=chain,
    )
    expired = trust_list.expiry_problem(now)
    if expired is not None:
        raise TrustListError(expired)
    return trust_list
