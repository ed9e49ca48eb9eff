"""Offline verification of Yinxin QR credentials (``YX1:`` + Base45(zlib(COSE_Sign1))).

The format is the public contract in docs/formats.md, the same pipeline as the EU Digital COVID
Certificate (HCERT): Base45 (RFC 9285), zlib (RFC 1950), COSE_Sign1 (RFC 9052 §4.2) over CWT
claims (RFC 8392). This module reads the contract on its own — it imports nothing from
``issuance`` — so a verifier can be shipped without the issuing side; round-trip tests keep the two
in step.

A verifier needs only a :class:`~verification.trust.TrustStore` (anchors and signer certificates
from the trust list) and, optionally, a licence status source. Checks, in order:

``format``          the text decodes to a COSE_Sign1 whose payload holds every required claim;
``signature``       a trust-list certificate with the header's ``kid`` verifies the signature
                    with the header's ``alg``;
``issuer_trust``    that certificate chains to a trust anchor at ``now`` and its
                    organizationIdentifier is the ``iss`` claim;
``validity_window`` ``iat`` ≤ now < ``exp``, and both lie within the signer certificate's validity;
``license_status``  the registry says the licence is active (skipped when no source is given).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import base45
import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from ca.sm2 import SM2Error, SM2PublicKey

from .errors import InputTooLargeError, MalformedInputError
from .ports import LicenseStatusSource, StatusUnavailableError
from .result import Check, CheckOutcome, VerificationResult
from .trust import TrustStore

__all__ = [
    "CHECK_NAMES",
    "CLOCK_SKEW",
    "CREDENTIAL_PREFIX",
    "MAX_DECOMPRESSED_BYTES",
    "MAX_TEXT_LENGTH",
    "verify_qr",
]

CREDENTIAL_PREFIX = "YX1:"
MAX_TEXT_LENGTH = 4096
"""Longest QR text accepted (a version-40 QR holds 4,296 alphanumeric characters)."""
MAX_DECOMPRESSED_BYTES = 64 * 1024
"""Largest decompressed COSE_Sign1 accepted: the zlib-bomb limit."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ``iat`` may lie in the verifier's future: a phone clock a little behind the issuer's
must not reject a credential issued a moment ago (certificates are backdated by the same amount)."""

KIND = "qr"

# COSE (RFC 9052 §3.1, RFC 9053 §2) and CWT (RFC 8392 §3.1) labels; values in docs/formats.md.
_COSE_SIGN1_TAG = 18
_HEADER_ALG, _HEADER_CRIT, _HEADER_KID = 1, 2, 4
_ALG_ES256, _ALG_EDDSA, _ALG_SM2_SM3 = -7, -8, -70001
_ALG_NAMES = {_ALG_ES256: "ES256", _ALG_EDDSA: "EdDSA", _ALG_SM2_SM3: "SM2-with-SM3"}
_CLAIM_ISS, _CLAIM_EXP, _CLAIM_IAT, _CLAIM_CTI, _CLAIM_YINXIN = 1, 4, 6, 7, -70000
_YX_LICENSE_IDENTIFIER, _YX_TYPE_CODE, _YX_STATUS, _YX_CLAIMS = 1, 2, 3, 4
_STATUS_URL, _STATUS_INDEX = 1, 2
_ES256_SIGNATURE_BYTES = 64
_CBOR_MAX_DEPTH = 16

_BASE45_ALPHABET: str = base45.BASE45_CHARSET  # RFC 9285 §4

CHECK_NAMES = ("format", "signature", "issuer_trust", "validity_window", "license_status")
"""The checks every QR verification reports, in this order (stable names; docs/formats.md §1.5)."""


class _FormatProblem(Exception):
    """The text has the right prefix but does not decode to a well-formed credential."""


@dataclass(frozen=True)
class _Credential:
    """A decoded, not yet verified, credential."""

    protected: bytes
    payload: bytes
    signature: bytes
    alg: int
    kid: bytes
    issuer: str
    issued_at: datetime
    expires_at: datetime
    credential_id: bytes
    license_identifier: str
    type_code: str
    status_url: str | None
    status_index: int | None
    claims: Mapping[str, str]

    def to_be_signed(self) -> bytes:
        """RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload]."""
        return cbor2.dumps(["Signature1", self.protected, b"", self.payload])


# --- decoding: Base45 → zlib → CBOR → COSE_Sign1 → CWT ------------------------------------------


def _base45_problem(body: str) -> str:
    """Explain why the Base45 library rejected ``body`` (RFC 9285 §4), naming the position."""
    offset = len(CREDENTIAL_PREFIX)
    for index, char in enumerate(body):
        if char not in _BASE45_ALPHABET:
            return f"Base45 decoding failed at position {index + offset}: {char!r} is not a Base45 character"
    if len(body) % 3 == 1:
        return f"Base45 decoding failed: {len(body)} characters leave a dangling character at the end"
    for start in range(0, len(body), 3):
        group = body[start:start + 3]
        value = sum(_BASE45_ALPHABET.index(c) * 45**i for i, c in enumerate(group))
        if value > (0xFFFF if len(group) == 3 else 0xFF):
            return f"Base45 decoding failed at position {start + offset}: group {group!r} is out of range"
    return "Base45 decoding failed"


def _base45_decode(body: str) -> bytes:
    if not body:
        raise _FormatProblem(f"nothing follows the prefix {CREDENTIAL_PREFIX}")
    try:
        data: bytes = base45.b45decode(body)
    except ValueError:
        raise _FormatProblem(_base45_problem(body)) from None
    return data


def _decompress(data: bytes) -> bytes:
    decompressor = zlib.decompressobj()
    try:
        # Ask for one byte more than the limit: getting it proves the stream is too large,
        # without ever inflating a zlib bomb in full.
        output = decompressor.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise _FormatProblem(f"zlib decompression failed: {exc}") from None
    if len(output) > MAX_DECOMPRESSED_BYTES:
        raise InputTooLargeError(
            f"the credential decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes"
        )
    if not decompressor.eof:
        raise _FormatProblem("zlib decompression failed: the stream is truncated")
    if decompressor.unused_data:
        raise _FormatProblem("zlib decompression failed: bytes follow the end of the stream")
    return output


def _cbor_decode(data: bytes, what: str) -> Any:
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream, max_depth=_CBOR_MAX_DEPTH, allow_indefinite=False, allow_duplicate_keys=False
    )
    try:
        value = decoder.decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise _FormatProblem(f"CBOR decoding of the {what} failed: {exc}") from None
    try:
        decoder.read(1)
    except cbor2.CBORDecodeEOF:
        return value
    raise _FormatProblem(f"CBOR decoding of the {what} failed: bytes follow the end of the item")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise _FormatProblem(message)


def _is_int(value: object) -> bool:
    return type(value) is int  # bool is an int subclass; CBOR true/false are not integers


def _numeric_date(claims: Mapping[Any, Any], key: int, name: str) -> datetime:
    value: Any = claims.get(key)
    _require(_is_int(value), f"CWT claim {name} ({key}) is missing or not an integer NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise _FormatProblem(f"CWT claim {name} ({key}) is out of range") from None


def _parse(cose: bytes) -> _Credential:
    item = _cbor_decode(cose, "COSE message")
    _require(
        isinstance(item, cbor2.CBORTag) and item.tag == _COSE_SIGN1_TAG,
        "not a COSE_Sign1 message (CBOR tag 18 expected, RFC 9052 §4.2)",
    )
    message = item.value
    _require(
        isinstance(message, list | tuple) and len(message) == 4,
        "COSE_Sign1 must be an array of 4 items (RFC 9052 §4.2)",
    )
    protected, unprotected, payload, signature = message
    _require(isinstance(protected, bytes) and len(protected) > 0, "COSE protected header must be a bstr")
    _require(isinstance(unprotected, Mapping), "COSE unprotected header must be a map")
    _require(isinstance(payload, bytes), "COSE payload must be an attached byte string")
    _require(isinstance(signature, bytes), "COSE signature must be a byte string")

    header = _cbor_decode(protected, "protected header")
    _require(isinstance(header, Mapping), "COSE protected header must be a map")
    # RFC 9052 §3.1: a recipient must reject a message whose 'crit' labels it does not understand.
    _require(_HEADER_CRIT not in header, "COSE critical header parameters are not supported")
    alg, kid = header.get(_HEADER_ALG), header.get(_HEADER_KID)
    _require(_is_int(alg), "COSE protected header lacks an integer alg (label 1)")
    _require(isinstance(kid, bytes) and len(kid) > 0, "COSE protected header lacks a kid (label 4)")

    claims = _cbor_decode(payload, "CWT claims")
    _require(isinstance(claims, Mapping), "the COSE payload is not a CWT claims map (RFC 8392 §7)")
    issuer, credential_id = claims.get(_CLAIM_ISS), claims.get(_CLAIM_CTI)
    _require(isinstance(issuer, str) and len(issuer) > 0, "CWT claim iss (1) is missing or not text")
    _require(isinstance(credential_id, bytes) and len(credential_id) > 0, "CWT claim cti (7) is missing")
    issued_at = _numeric_date(claims, _CLAIM_IAT, "iat")
    expires_at = _numeric_date(claims, _CLAIM_EXP, "exp")

    private = claims.get(_CLAIM_YINXIN)
    _require(isinstance(private, Mapping), f"the Yinxin claim ({_CLAIM_YINXIN}) is missing or not a map")
    identifier, type_code = private.get(_YX_LICENSE_IDENTIFIER), private.get(_YX_TYPE_CODE)
    _require(isinstance(identifier, str) and len(identifier) > 0, "the licence identifier (1) is missing")
    _require(isinstance(type_code, str) and len(type_code) > 0, "the licence type code (2) is missing")
    disclosed = private.get(_YX_CLAIMS)
    _require(
        isinstance(disclosed, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in disclosed.items()),
        "the disclosed claims (4) must be a map of text to text",
    )
    status_url: str | None = None
    status_index: int | None = None
    if _YX_STATUS in private:
        status = private[_YX_STATUS]
        _require(isinstance(status, Mapping), "the status reference (3) must be a map")
        status_url, status_index = status.get(_STATUS_URL), status.get(_STATUS_INDEX)
        _require(
            isinstance(status_url, str) and _is_int(status_index) and status_index >= 0,
            "the status reference (3) needs a URL (1) and a non-negative index (2)",
        )
    return _Credential(
        protected=protected,
        payload=payload,
        signature=signature,
        alg=alg,
        kid=kid,
        issuer=issuer,
        issued_at=issued_at,
        expires_at=expires_at,
        credential_id=credential_id,
        license_identifier=identifier,
        type_code=type_code,
        status_url=status_url,
        status_index=status_index,
        claims=MappingProxyType(dict(disclosed)),
    )


# --- checks -------------------------------------------------------------------------------------


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _sm2_signature_problem(credential: _Credential, certificate: x509.Certificate) -> str | None:
    # docs/formats.md: alg -70001 is SM2-with-SM3 (GB/T 32918.2, default user ID), signature r‖s (64 bytes).
    try:
        key = SM2PublicKey.from_certificate_der(certificate.public_bytes(serialization.Encoding.DER))
    except SM2Error:
        return f"alg SM2-with-SM3 does not match the key of {_name(certificate)}"
    if len(credential.signature) != _ES256_SIGNATURE_BYTES:
        return f"an SM2 signature is 64 bytes (r‖s), got {len(credential.signature)}"
    if not key.verify(credential.signature, credential.to_be_signed()):
        return f"the signature does not verify with the key of {_name(certificate)}"
    return None


def _signature_problem(credential: _Credential, certificate: x509.Certificate) -> str | None:
    """Verify the COSE signature with ``certificate``'s key; ``None`` when it verifies."""
    if credential.alg == _ALG_SM2_SM3:
        return _sm2_signature_problem(credential, certificate)
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):  # e.g. an SM2 key, which cryptography cannot load
        return f"the key of {_name(certificate)} cannot be used"
    data = credential.to_be_signed()
    try:
        if credential.alg == _ALG_ES256:
            if not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
                return f"alg ES256 does not match the key of {_name(certificate)}"
            if len(credential.signature) != _ES256_SIGNATURE_BYTES:
                return f"an ES256 signature is 64 bytes, got {len(credential.signature)}"
            # RFC 9053 §2.1: r‖s, each 32 bytes; cryptography verifies the DER form.
            r = int.from_bytes(credential.signature[:32], "big")
            s = int.from_bytes(credential.signature[32:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        elif credential.alg == _ALG_EDDSA:
            if not isinstance(key, ed25519.Ed25519PublicKey):
                return f"alg EdDSA does not match the key of {_name(certificate)} (Ed25519 expected)"
            key.verify(credential.signature, data)
        else:  # pragma: no cover - callers filter algorithms first
            return f"unsupported algorithm {credential.alg}"
    except InvalidSignature:
        return f"the signature does not verify with the key of {_name(certificate)}"
    return None


def _check_signature(
    credential: _Credential, trust: TrustStore
) -> tuple[Check, x509.Certificate | None]:
    alg_name = _ALG_NAMES.get(credential.alg, str(credential.alg))
    if credential.alg not in (_ALG_ES256, _ALG_EDDSA, _ALG_SM2_SM3):
        return Check("signature", CheckOutcome.FAILED, f"unknown signature algorithm {credential.alg}"), None
    candidates = trust.certificates_for_kid(credential.kid)
    if not candidates:
        return Check("signature", CheckOutcome.FAILED,
                     f"unknown signer: kid {credential.kid.hex()} is not in the trust list"), None
    problems = []
    for certificate in candidates:
        problem = _signature_problem(credential, certificate)
        if problem is None:
            return Check("signature", CheckOutcome.PASSED,
                         f"{alg_name} signature verifies with {_name(certificate)}"), certificate
        problems.append(problem)
    return Check("signature", CheckOutcome.FAILED, "; ".join(problems)), None


def _organization_identifier(certificate: x509.Certificate) -> str | None:
    values = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    return str(values[0].value) if values else None


def _check_issuer_trust(
    credential: _Credential, signer: x509.Certificate, trust: TrustStore, now: datetime
) -> Check:
    validation = trust.validate_path(signer, now=now)
    if not validation.trusted:
        return Check("issuer_trust", CheckOutcome.FAILED, validation.problem or "no path to a trust anchor")
    organization = _organization_identifier(signer)
    if organization != credential.issuer:
        return Check(
            "issuer_trust",
            CheckOutcome.FAILED,
            f"iss {credential.issuer} differs from the signer certificate's organizationIdentifier "
            f"({organization})",
        )
    return Check("issuer_trust", CheckOutcome.PASSED,
                 f"signer chains to trust anchor {_name(validation.path[-1])}")


def _check_validity_window(credential: _Credential, signer: x509.Certificate, now: datetime) -> Check:
    iat, exp = credential.issued_at, credential.expires_at
    if now < iat - CLOCK_SKEW:
        return Check("validity_window", CheckOutcome.FAILED, f"not valid before {iat.isoformat()} (iat)")
    if now >= exp:
        return Check("validity_window", CheckOutcome.FAILED, f"expired at {exp.isoformat()} (exp)")
    # HCERT §3.3.1 / the shell model: iat and exp lie within the signer certificate's validity.
    if iat < signer.not_valid_before_utc or exp > signer.not_valid_after_utc:
        return Check("validity_window", CheckOutcome.FAILED,
                     "the credential's iat…exp is not within the signer certificate's validity")
    return Check("validity_window", CheckOutcome.PASSED, f"valid until {exp.isoformat()}")


def _check_license_status(
    credential: _Credential, status_source: LicenseStatusSource | None
) -> tuple[Check, str | None]:
    if status_source is None:
        reason = "no registry configured; status not checked"
        return Check("license_status", CheckOutcome.SKIPPED, reason), None
    try:
        status = status_source.license_status(credential.license_identifier)
    except StatusUnavailableError:
        return Check("license_status", CheckOutcome.INDETERMINATE, "registry not reachable"), None
    if status is None:
        return Check("license_status", CheckOutcome.FAILED,
                     f"unknown licence: the registry has no record of {credential.license_identifier}"), None
    if status == "active":
        return Check("license_status", CheckOutcome.PASSED, "licence is active"), status
    return Check("license_status", CheckOutcome.FAILED, f"licence is {status}"), status


def _skipped(names: tuple[str, ...], reason: str) -> list[Check]:
    return [Check(name, CheckOutcome.SKIPPED, reason) for name in names]


def verify_qr(
    text: str,
    *,
    trust: TrustStore,
    now: datetime,
    status_source: LicenseStatusSource | None = None,
) -> VerificationResult:
    """Verify a ``YX1:`` QR credential offline and return a verdict with its checks.

    Raises only when the text cannot be evaluated as a Yinxin credential at all:
    :class:`~verification.errors.MalformedInputError` if it does not start with ``YX1:`` (a QR code
    of something else), :class:`~verification.errors.InputTooLargeError` if it is longer than
    :data:`MAX_TEXT_LENGTH` or decompresses to more than :data:`MAX_DECOMPRESSED_BYTES` (zlib bomb).
    A text with the right prefix that fails to decode — a damaged or altered code — is an answer,
    not a crash: verdict INVALID with the ``format`` check FAILED naming the step (Base45, zlib,
    CBOR, COSE, CWT). Disclosed fields, the licence identifier and the signing time (``iat``) are
    reported only when the signature verifies. Without ``status_source`` the ``license_status``
    check is SKIPPED, so an offline verification can still be VALID; an unreachable registry makes
    it INDETERMINATE.
    """
    if not isinstance(text, str):
        raise MalformedInputError("a QR credential is text")
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise ValueError("now must be a timezone-aware UTC datetime")
    now = now.astimezone(UTC)
    if len(text) > MAX_TEXT_LENGTH:
        raise InputTooLargeError(f"QR text longer than {MAX_TEXT_LENGTH} characters")
    text = text.strip()
    if not text.startswith(CREDENTIAL_PREFIX):
        raise MalformedInputError(f"not a Yinxin credential: expected prefix {CREDENTIAL_PREFIX}")

    try:
        credential = _parse(_decompress(_base45_decode(text[len(CREDENTIAL_PREFIX):])))
    except _FormatProblem as exc:
        checks = [Check("format", CheckOutcome.FAILED, str(exc))]
        checks += _skipped(CHECK_NAMES[1:], "not evaluated: the credential could not be decoded")
        return VerificationResult.from_checks(checks, kind=KIND)

    alg_name = _ALG_NAMES.get(credential.alg, f"alg {credential.alg}")
    described = f"{CREDENTIAL_PREFIX} COSE_Sign1 ({alg_name}) with CWT claims"
    checks = [Check("format", CheckOutcome.PASSED, described)]
    signature_check, signer = _check_signature(credential, trust)
    checks.append(signature_check)
    if signer is None:
        checks += _skipped(CHECK_NAMES[2:], "not evaluated: the signature was not verified")
        return VerificationResult.from_checks(checks, kind=KIND)

    checks.append(_check_issuer_trust(credential, signer, trust, now))
    checks.append(_check_validity_window(credential, signer, now))
    status_check, status = _check_license_status(credential, status_source)
    checks.append(status_check)
    return VerificationResult.from_checks(
        checks,
        kind=KIND,
        license_identifier=credential.license_identifier,
        license_status=status,
        signing_time=credential.issued_at,
        signing_time_source="credential iat",
        signer=_name(signer),
        disclosed=MappingProxyType(dict(credential.claims)),
    )
