"""Offline verification of Yinxin QR credentials (``YX1:`` + Base45(zlib(COSE_Sign1))).

The format is the public contract in docs/formats.md, the same pipeline as the EU Digital COVID
Certificate (HCERT): Base45 (RFC 9285), zlib (RFC 1950), COSE_Sign1 (RFC 9052 §4.2) over CWT
claims (RFC 8392). This module reads the contract on its own — it imports nothing from
``issuance`` — so a verifier can be shipped without the issuing side; round-trip tests keep the two
in step.

A verifier needs only a :class:`~verification.trust.TrustStore` (anchors and signer certificates
from the trust list) and, optionally, the licence status: from the registry (online) or from the
issuer's signed status lists (offline, :mod:`verification.statuslist`). Checks, in order:

``format``          the text decodes to a COSE_Sign1 whose payload holds every required claim;
``signature``       a trust-list certificate with the header's ``kid`` verifies the signature
                    with the header's ``alg``;
``issuer_trust``    that certificate chains to a trust anchor at ``now`` and its
                    organizationIdentifier is the ``iss`` claim;
``validity_window`` ``iat`` ≤ now < ``exp``, and both lie within the signer certificate's validity;
``license_status``  the registry, or the status list the credential names, says the licence is
                    valid (skipped when neither is given).

:func:`verify_offline` does all of it from files alone — a trust list checked with the root
certificate(s), and status lists checked with the trust list — with no database and no server;
:class:`OfflineVerifier` keeps those checked lists for many verifications.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import cbor2
from cryptography import x509

from .cose import (
    ALG_EDDSA,
    ALG_ES256,
    ALG_NAMES,
    ALG_SM2_SM3,
    CoseFormatError,
    certificate_name,
    decode_cbor,
    is_int,
    organization_identifier,
    parse_sign1,
    signature_problem,
)
from .errors import InputTooLargeError, MalformedInputError, VerificationError
from .ports import LicenseStatusSource, StatusUnavailableError
from .result import Check, CheckOutcome, VerificationResult
from .statuslist import STATUS_INVALID, STATUS_SUSPENDED, STATUS_VALID, StatusLists
from .trust import TrustStore
from .trustlist import TrustList, parse_trust_list

__all__ = [
    "CHECK_NAMES",
    "CLOCK_SKEW",
    "CREDENTIAL_PREFIX",
    "MAX_DECOMPRESSED_BYTES",
    "MAX_TEXT_LENGTH",
    "OfflineVerifier",
    "verify_offline",
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

# COSE (RFC 9052 §3.1) and CWT (RFC 8392 §3.1) labels; values in docs/formats.md.
_HEADER_KID = 4
_CLAIM_ISS, _CLAIM_EXP, _CLAIM_IAT, _CLAIM_CTI, _CLAIM_YINXIN = 1, 4, 6, 7, -70000
_YX_LICENSE_IDENTIFIER, _YX_TYPE_CODE, _YX_STATUS, _YX_CLAIMS = 1, 2, 3, 4
_STATUS_URL, _STATUS_INDEX = 1, 2

_BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"  # RFC 9285 §4
_BASE45_VALUES = bytes(
    _BASE45_ALPHABET.index(chr(b)) if chr(b) in _BASE45_ALPHABET else 0xFF for b in range(256)
)

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
    """Explain why ``body`` is not Base45 (RFC 9285 §4), naming the position."""
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
    """RFC 9285 §4.2: each group of three characters c + 45·d + 45²·e is two bytes, a last pair one.

    Written here rather than taken from the ``base45`` package because it is the hot path of every
    scan, and done without a Python loop: the groups' digits go into 32-bit lanes of three big
    integers (c, d, e), and c + 45·d + 2025·e is computed for every group at once — a lane holds at
    most 91,124, so no carry crosses lanes; a group above 0xFFFF shows as a non-zero upper half.
    About 10× faster than the package; tests check that both agree on every input.
    """
    if not body:
        raise _FormatProblem(f"nothing follows the prefix {CREDENTIAL_PREFIX}")
    try:
        values = body.encode("ascii").translate(_BASE45_VALUES)
    except UnicodeEncodeError:
        raise _FormatProblem(_base45_problem(body)) from None
    groups, rest = divmod(len(values), 3)
    if 0xFF in values or rest == 1:
        raise _FormatProblem(_base45_problem(body))
    full = 3 * groups
    lanes = bytearray(4 * groups)
    lanes[3::4] = values[0:full:3]
    total = int.from_bytes(lanes, "big")
    lanes[3::4] = values[1:full:3]
    total += 45 * int.from_bytes(lanes, "big")
    lanes[3::4] = values[2:full:3]
    total += 2025 * int.from_bytes(lanes, "big")
    words = total.to_bytes(4 * groups, "big")
    if words[0::4].count(0) != groups or words[1::4].count(0) != groups:
        raise _FormatProblem(_base45_problem(body))  # a group above 0xFFFF
    data = bytearray(2 * groups + (rest // 2))
    data[0:2 * groups:2] = words[2::4]
    data[1:2 * groups:2] = words[3::4]
    if rest:
        last = values[full] + 45 * values[full + 1]
        if last > 0xFF:
            raise _FormatProblem(_base45_problem(body))
        data[-1] = last
    return bytes(data)


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


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise _FormatProblem(message)


def _is_map(value: object) -> bool:
    # CBOR maps decode to dict; the exact type test first spares the slow ABC check on the hot path.
    return type(value) is dict or isinstance(value, Mapping)


def _numeric_date(claims: Mapping[Any, Any], key: int, name: str) -> datetime:
    value: Any = claims.get(key)
    _require(is_int(value), f"CWT claim {name} ({key}) is missing or not an integer NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise _FormatProblem(f"CWT claim {name} ({key}) is out of range") from None


def _parse(cose: bytes) -> _Credential:
    try:
        message = parse_sign1(cose, "COSE message")
        claims = decode_cbor(message.payload, "CWT claims")
    except CoseFormatError as exc:
        raise _FormatProblem(str(exc)) from None
    kid = message.header.get(_HEADER_KID)
    if not (isinstance(kid, bytes) and len(kid) > 0):
        raise _FormatProblem("COSE protected header lacks a kid (label 4)")
    if not _is_map(claims):
        raise _FormatProblem("the COSE payload is not a CWT claims map (RFC 8392 §7)")
    issuer, credential_id = claims.get(_CLAIM_ISS), claims.get(_CLAIM_CTI)
    _require(isinstance(issuer, str) and len(issuer) > 0, "CWT claim iss (1) is missing or not text")
    _require(isinstance(credential_id, bytes) and len(credential_id) > 0, "CWT claim cti (7) is missing")
    issued_at = _numeric_date(claims, _CLAIM_IAT, "iat")
    expires_at = _numeric_date(claims, _CLAIM_EXP, "exp")

    private = claims.get(_CLAIM_YINXIN)
    if not _is_map(private):
        raise _FormatProblem(f"the Yinxin claim ({_CLAIM_YINXIN}) is missing or not a map")
    identifier, type_code = private.get(_YX_LICENSE_IDENTIFIER), private.get(_YX_TYPE_CODE)
    _require(isinstance(identifier, str) and len(identifier) > 0, "the licence identifier (1) is missing")
    _require(isinstance(type_code, str) and len(type_code) > 0, "the licence type code (2) is missing")
    disclosed = private.get(_YX_CLAIMS)
    _require(
        _is_map(disclosed) and all(type(k) is str and type(v) is str for k, v in disclosed.items()),
        "the disclosed claims (4) must be a map of text to text",
    )
    status_url: str | None = None
    status_index: int | None = None
    if _YX_STATUS in private:
        status = private[_YX_STATUS]
        _require(_is_map(status), "the status reference (3) must be a map")
        status_url, status_index = status.get(_STATUS_URL), status.get(_STATUS_INDEX)
        _require(
            isinstance(status_url, str) and is_int(status_index) and status_index >= 0,
            "the status reference (3) needs a URL (1) and a non-negative index (2)",
        )
    return _Credential(
        protected=message.protected,
        payload=message.payload,
        signature=message.signature,
        alg=message.alg,
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


def _check_signature(
    credential: _Credential, trust: TrustStore
) -> tuple[Check, x509.Certificate | None]:
    alg_name = ALG_NAMES.get(credential.alg, str(credential.alg))
    if credential.alg not in (ALG_ES256, ALG_EDDSA, ALG_SM2_SM3):
        return Check("signature", CheckOutcome.FAILED, f"unknown signature algorithm {credential.alg}"), None
    candidates = trust.certificates_for_kid(credential.kid)
    if not candidates:
        return Check("signature", CheckOutcome.FAILED,
                     f"unknown signer: kid {credential.kid.hex()} is not in the trust list"), None
    problems = []
    to_be_signed = credential.to_be_signed()
    for certificate in candidates:
        problem = signature_problem(credential.alg, credential.signature, to_be_signed, certificate)
        if problem is None:
            return Check("signature", CheckOutcome.PASSED,
                         f"{alg_name} signature verifies with {certificate_name(certificate)}"), certificate
        problems.append(problem)
    return Check("signature", CheckOutcome.FAILED, "; ".join(problems)), None


def _check_issuer_trust(
    credential: _Credential, signer: x509.Certificate, trust: TrustStore, now: datetime
) -> Check:
    validation = trust.validate_path(signer, now=now)
    if not validation.trusted:
        return Check("issuer_trust", CheckOutcome.FAILED, validation.problem or "no path to a trust anchor")
    organization = organization_identifier(signer)
    if organization != credential.issuer:
        return Check(
            "issuer_trust",
            CheckOutcome.FAILED,
            f"iss {credential.issuer} differs from the signer certificate's organizationIdentifier "
            f"({organization})",
        )
    return Check("issuer_trust", CheckOutcome.PASSED,
                 f"signer chains to trust anchor {certificate_name(validation.path[-1])}")


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


def _check_registry_status(
    credential: _Credential, status_source: LicenseStatusSource
) -> tuple[Check, str | None]:
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


def _check_listed_status(
    credential: _Credential, status_lists: StatusLists, now: datetime
) -> tuple[Check, str | None]:
    """draft-ietf-oauth-status-list §8.3: the entry at the credential's index of the list at its URL."""

    def indeterminate(detail: str) -> tuple[Check, str | None]:
        return Check("license_status", CheckOutcome.INDETERMINATE, detail), None

    url, index = credential.status_url, credential.status_index
    if url is None or index is None:
        return indeterminate("the credential names no status list; its status cannot be checked offline")
    status_list = status_lists.get(url)
    if status_list is None:
        unusable = f" ({'; '.join(status_lists.problems)})" if status_lists.problems else ""
        return indeterminate(f"no usable status list for {url}{unusable}")
    if status_list.issuer != credential.issuer:
        return indeterminate(f"the status list at {url} is {status_list.issuer}'s, not the issuer's")
    problem = status_list.freshness_problem(now)
    if problem is not None:
        return indeterminate(problem)
    if index >= status_list.size:
        return Check("license_status", CheckOutcome.FAILED,
                     f"status index {index} lies outside the status list ({status_list.size} entries)"), None
    value = status_list.value_at(index)
    listed = f"status list of {status_list.issued_at.isoformat()}"
    if value == STATUS_VALID:
        return Check("license_status", CheckOutcome.PASSED, f"licence is valid ({listed})"), "active"
    if value == STATUS_SUSPENDED:
        return Check("license_status", CheckOutcome.FAILED, f"licence is suspended ({listed})"), "suspended"
    if value == STATUS_INVALID:
        # The list has one INVALID value for every final status (revoked, cancelled, expired, superseded).
        return Check("license_status", CheckOutcome.FAILED,
                     f"licence is revoked or otherwise no longer valid ({listed})"), "revoked"
    return indeterminate(f"unknown status value {value} in the {listed}")


def _skipped(names: tuple[str, ...], reason: str) -> list[Check]:
    return [Check(name, CheckOutcome.SKIPPED, reason) for name in names]


def _utc_now(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise ValueError("now must be a timezone-aware UTC datetime")
    return now.astimezone(UTC)


def _decode(text: str) -> _Credential | VerificationResult:
    """The decoded credential, or the INVALID result of a text that does not decode."""
    if not isinstance(text, str):
        raise MalformedInputError("a QR credential is text")
    if len(text) > MAX_TEXT_LENGTH:
        raise InputTooLargeError(f"QR text longer than {MAX_TEXT_LENGTH} characters")
    text = text.strip()
    if not text.startswith(CREDENTIAL_PREFIX):
        raise MalformedInputError(f"not a Yinxin credential: expected prefix {CREDENTIAL_PREFIX}")
    try:
        return _parse(_decompress(_base45_decode(text[len(CREDENTIAL_PREFIX):])))
    except _FormatProblem as exc:
        checks = [Check("format", CheckOutcome.FAILED, str(exc))]
        checks += _skipped(CHECK_NAMES[1:], "not evaluated: the credential could not be decoded")
        return VerificationResult.from_checks(checks, kind=KIND)


def _format_passed(credential: _Credential) -> Check:
    alg_name = ALG_NAMES.get(credential.alg, f"alg {credential.alg}")
    return Check("format", CheckOutcome.PASSED, f"{CREDENTIAL_PREFIX} COSE_Sign1 ({alg_name}) with CWT claims")


def _verify(
    credential: _Credential,
    *,
    trust: TrustStore,
    now: datetime,
    status_source: LicenseStatusSource | None,
    status_lists: StatusLists | None,
) -> VerificationResult:
    checks = [_format_passed(credential)]
    signature_check, signer = _check_signature(credential, trust)
    checks.append(signature_check)
    if signer is None:
        checks += _skipped(CHECK_NAMES[2:], "not evaluated: the signature was not verified")
        return VerificationResult.from_checks(checks, kind=KIND)

    checks.append(_check_issuer_trust(credential, signer, trust, now))
    checks.append(_check_validity_window(credential, signer, now))
    status: str | None = None
    if status_source is not None:
        status_check, status = _check_registry_status(credential, status_source)
    elif status_lists is not None:
        status_check, status = _check_listed_status(credential, status_lists, now)
    else:
        status_check = Check("license_status", CheckOutcome.SKIPPED, "no registry configured; status not checked")
    checks.append(status_check)
    return VerificationResult.from_checks(
        checks,
        kind=KIND,
        license_identifier=credential.license_identifier,
        license_status=status,
        signing_time=credential.issued_at,
        signing_time_source="credential iat",
        signer=certificate_name(signer),
        disclosed=credential.claims,
    )


def verify_qr(
    text: str,
    *,
    trust: TrustStore,
    now: datetime,
    status_source: LicenseStatusSource | None = None,
    status_lists: StatusLists | None = None,
) -> VerificationResult:
    """Verify a ``YX1:`` QR credential and return a verdict with its checks.

    Raises only when the text cannot be evaluated as a Yinxin credential at all:
    :class:`~verification.errors.MalformedInputError` if it does not start with ``YX1:`` (a QR code
    of something else), :class:`~verification.errors.InputTooLargeError` if it is longer than
    :data:`MAX_TEXT_LENGTH` or decompresses to more than :data:`MAX_DECOMPRESSED_BYTES` (zlib bomb).
    A text with the right prefix that fails to decode — a damaged or altered code — is an answer,
    not a crash: verdict INVALID with the ``format`` check FAILED naming the step (Base45, zlib,
    CBOR, COSE, CWT). Disclosed fields, the licence identifier and the signing time (``iat``) are
    reported only when the signature verifies.

    Status: with ``status_source`` (online) the registry answers, and an unreachable registry makes
    the result INDETERMINATE. With ``status_lists`` (offline; checked lists, see
    :meth:`StatusLists.load <verification.statuslist.StatusLists.load>`) the entry at the
    credential's ``status_url`` + ``status_index`` answers: VALID passes, SUSPENDED fails as
    ``suspended``, INVALID fails as ``revoked`` (the list does not tell revoked from cancelled,
    expired or superseded); no list for that URL, a list past its ``exp`` or older than its ``ttl``
    gives INDETERMINATE, never VALID. With neither, the check is SKIPPED and an offline
    verification can still be VALID. Giving both is an error.
    """
    if status_source is not None and status_lists is not None:
        raise ValueError("give status_source (online) or status_lists (offline), not both")
    now = _utc_now(now)
    decoded = _decode(text)
    if isinstance(decoded, VerificationResult):
        return decoded
    return _verify(decoded, trust=trust, now=now, status_source=status_source, status_lists=status_lists)


@dataclass(frozen=True)
class OfflineVerifier:
    """A trust list and status lists, checked once, for verifying many QR credentials without a network.

    Build it with :meth:`load`. A trust list that could not be used (unsigned, not chaining to the
    anchors, altered, expired) is kept as ``problem``: every verification then answers INDETERMINATE
    with that reason, never VALID. Status lists that could not be used are reported when a credential
    names them. Thread-safe; holds no I/O.
    """

    anchors: tuple[x509.Certificate, ...]
    trust_list: TrustList | None
    trust: TrustStore | None
    status_lists: StatusLists
    problem: str | None = None

    @classmethod
    def load(
        cls,
        *,
        trust_list: bytes,
        anchors: Sequence[x509.Certificate],
        status_lists: Iterable[bytes] = (),
        now: datetime,
    ) -> OfflineVerifier:
        """Check ``trust_list`` with the root certificate(s) ``anchors`` and each status list with the
        trust list, at ``now`` (see :func:`~verification.trustlist.parse_trust_list` and
        :meth:`StatusLists.load <verification.statuslist.StatusLists.load>`).

        Raises :class:`~verification.errors.TrustConfigurationError` without anchors; a bad trust list or
        status list is an answer (``problem``), not an exception.
        """
        now = _utc_now(now)
        anchors = tuple(anchors)
        TrustStore(anchors=anchors)  # fail closed on no or unusable anchors before anything else
        try:
            checked = parse_trust_list(trust_list, anchors=anchors, now=now)
        except VerificationError as exc:
            return cls(anchors=anchors, trust_list=None, trust=None, status_lists=StatusLists(),
                       problem=exc.public_message)
        trust = checked.trust_store(anchors)
        return cls(anchors=anchors, trust_list=checked, trust=trust,
                   status_lists=StatusLists.load(status_lists, trust=trust, now=now))

    def verify(self, text: str, *, now: datetime) -> VerificationResult:
        """Verify one ``YX1:`` text at ``now`` against the checked lists (status from the status lists)."""
        now = _utc_now(now)
        decoded = _decode(text)
        if isinstance(decoded, VerificationResult):
            return decoded
        problem = self.problem
        if problem is None and self.trust_list is not None:
            problem = self.trust_list.expiry_problem(now)
        if problem is not None or self.trust is None:
            checks = [_format_passed(decoded),
                      Check("signature", CheckOutcome.INDETERMINATE,
                            f"no usable trust list: {problem or 'none was given'}")]
            checks += _skipped(CHECK_NAMES[2:], "not evaluated: the signature was not verified")
            return VerificationResult.from_checks(checks, kind=KIND)
        return _verify(decoded, trust=self.trust, now=now, status_source=None, status_lists=self.status_lists)


def verify_offline(
    text: str,
    *,
    trust_list: bytes,
    anchors: Sequence[x509.Certificate],
    status_lists: Sequence[bytes],
    now: datetime,
) -> VerificationResult:
    """Verify a QR credential from files alone: no database, no server (``yinxin verify --offline``).

    ``anchors`` are the root certificate(s) the verifier trusts, obtained out of band (``ca/root.pem``);
    ``trust_list`` is a trust list they verify; ``status_lists`` are Status List Tokens the trust list's
    certificates verify. The result is that of :meth:`OfflineVerifier.verify`: a bad or expired trust
    list, no status list for the credential, or a stale one, give INDETERMINATE, never VALID.
    For many verifications, build an :class:`OfflineVerifier` once.
    """
    verifier = OfflineVerifier.load(trust_list=trust_list, anchors=anchors, status_lists=status_lists, now=now)
    return verifier.verify(text, now=now)
