"""The offline QR credential: a signed CWT in COSE_Sign1, compressed and Base45-encoded.

Layout (the public contract; docs/formats.md holds the exact CDDL and test vectors)::

    "YX1:" + Base45( zlib( COSE_Sign1 ) )                        # RFC 9285 Base45, RFC 1950 zlib
    COSE_Sign1 = #6.18([ protected: bstr .cbor {1: alg, 4: kid}, {}, payload: bstr .cbor CWT, signature ])
    CWT        = {1: iss, 4: exp, 6: iat, 7: cti, -70000: {1: licence id, 2: type code,
                  ? 3: {1: status list URL, 2: index}, 4: {field key: text}}}

The same pipeline as the EU Digital COVID Certificate (HCERT §2–§4), with our own prefix and
private claim. The private claim key and the SM2 algorithm value lie in the private-use ranges of
the IANA CWT Claims (RFC 8392 §9.1) and COSE Algorithms (RFC 9053 §10.2 / RFC 8152 §16.4) registries.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import base45
import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils

from ca import KeySigner, SignatureAlgorithm
from ca.authority import certificate_kid as kid_of
from ca.authority import organization_identifier, public_key_der
from ca.sm2 import SM2PublicKey

from .errors import CredentialError, FieldValidationError
from .identifier import LicenseIdentifier, validate_uscc

__all__ = [
    "ALG_EDDSA",
    "ALG_ES256",
    "ALG_SM2_SM3",
    "CLAIM_YINXIN",
    "CREDENTIAL_PREFIX",
    "MAX_CREDENTIAL_LENGTH",
    "CredentialClaims",
    "issue_credential",
    "kid_of",
]

CREDENTIAL_PREFIX = "YX1:"
"""Version prefix of the QR text; ``YX2:`` is reserved for an incompatible successor (cf. HCERT ``HC1:``)."""

MAX_CREDENTIAL_LENGTH = 1000
"""Longest QR text :func:`issue_credential` produces. Aim for < 600 (QR version ≤ 19 at level Q)."""

# COSE Algorithms registry (RFC 9053 §2.1, §2.2).
ALG_ES256 = -7
ALG_EDDSA = -8
ALG_SM2_SM3 = -70001
"""SM2-with-SM3 (GB/T 32918, GM/T 0003) — private-use value (< -65536); reserved, not implemented yet."""

# CWT claim keys (RFC 8392 §3.1).
CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_CTI = 7
CLAIM_YINXIN = -70000
"""The private-use CWT claim (RFC 8392 §9.1: integers < -65536) carrying the licence data."""

# Sub-keys of the Yinxin claim and of its status reference.
YX_LICENSE_IDENTIFIER = 1
YX_TYPE_CODE = 2
YX_STATUS = 3
YX_CLAIMS = 4
STATUS_URL = 1
STATUS_INDEX = 2

# COSE header labels (RFC 9052 §3.1).
HEADER_ALG = 1
HEADER_KID = 4

_COSE_SIGN1_TAG = 18  # RFC 9052 §2

_ALGORITHMS = {
    SignatureAlgorithm.ECDSA_P256_SHA256: ALG_ES256,
    SignatureAlgorithm.ED25519: ALG_EDDSA,
    SignatureAlgorithm.SM2_SM3: ALG_SM2_SM3,
}
_ES256_COORDINATE_BYTES = 32
_MAX_CTI_BYTES = 64


def _new_cti() -> bytes:
    return secrets.token_bytes(16)


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise FieldValidationError(name, "must be a timezone-aware datetime")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class CredentialClaims:
    """What one QR credential states: who issued which licence, when, and the fields it discloses.

    ``claims`` holds only what this presentation discloses (field key → text), e.g. a masked ID
    number instead of the full one; disclosure works on whole fields, so derive the field first.
    ``status_url`` + ``status_index`` point into the issuer's status list (IETF Token Status List);
    give both or neither. Times become CWT NumericDates (RFC 8392 §2), whole seconds.
    """

    issuer: str
    license_identifier: str
    type_code: str
    issued_at: datetime
    expires_at: datetime
    claims: Mapping[str, str]
    credential_id: bytes = field(default_factory=_new_cti)
    status_url: str | None = None
    status_index: int | None = None

    def __post_init__(self) -> None:
        issuer = validate_uscc(self.issuer, field="issuer")
        identifier = LicenseIdentifier.parse(self.license_identifier)
        if identifier.type_code != self.type_code:
            raise FieldValidationError(
                "type_code",
                f"{self.type_code!r} differs from the identifier's type code {identifier.type_code!r}",
            )
        issued_at = _utc(self.issued_at, "issued_at").replace(microsecond=0)
        expires_at = _utc(self.expires_at, "expires_at").replace(microsecond=0)
        if expires_at <= issued_at:
            raise FieldValidationError("expires_at", "must be later than issued_at")
        if not isinstance(self.claims, Mapping):
            raise FieldValidationError("claims", "must be a mapping of field key to text")
        for key, value in self.claims.items():
            if not isinstance(key, str) or not key:
                raise FieldValidationError("claims", f"field key {key!r} must be non-empty text")
            if not isinstance(value, str):
                raise FieldValidationError(f"claims.{key}", "must be text")
        if not isinstance(self.credential_id, bytes) or not 1 <= len(self.credential_id) <= _MAX_CTI_BYTES:
            raise FieldValidationError("credential_id", f"must be 1–{_MAX_CTI_BYTES} bytes")
        if (self.status_url is None) != (self.status_index is None):
            raise FieldValidationError("status_index", "status_url and status_index go together")
        if self.status_url is not None and not (
            isinstance(self.status_url, str) and self.status_url.startswith(("https://", "http://"))
        ):
            raise FieldValidationError("status_url", "must be an http(s) URL")
        if self.status_index is not None and (
            type(self.status_index) is not int or self.status_index < 0
        ):
            raise FieldValidationError("status_index", "must be a non-negative integer")
        object.__setattr__(self, "issuer", issuer)
        object.__setattr__(self, "license_identifier", str(identifier))
        object.__setattr__(self, "issued_at", issued_at)
        object.__setattr__(self, "expires_at", expires_at)
        object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))

    def to_cwt(self) -> dict[int, Any]:
        """The CWT claims map (RFC 8392 §3) with the Yinxin private claim."""
        private: dict[int, Any] = {
            YX_LICENSE_IDENTIFIER: self.license_identifier,
            YX_TYPE_CODE: self.type_code,
        }
        if self.status_url is not None:
            private[YX_STATUS] = {STATUS_URL: self.status_url, STATUS_INDEX: self.status_index}
        private[YX_CLAIMS] = dict(self.claims)
        return {
            CLAIM_ISS: self.issuer,
            CLAIM_EXP: int(self.expires_at.timestamp()),
            CLAIM_IAT: int(self.issued_at.timestamp()),
            CLAIM_CTI: self.credential_id,
            CLAIM_YINXIN: private,
        }


def _cose_alg(signer: KeySigner) -> int:
    algorithm = signer.algorithm
    try:
        return _ALGORITHMS[algorithm]
    except KeyError:
        pass
    raise CredentialError(f"unsupported credential algorithm {algorithm.value}; use ecdsa-p256 or ed25519")


def _cose_signature(alg: int, der_or_raw: bytes) -> bytes:
    if alg in (ALG_ES256, ALG_SM2_SM3):
        # RFC 9053 §2.1: ES256 signatures are r‖s, each left-padded to 32 bytes — not the DER
        # SEQUENCE {r, s} that KeySigner returns for ECDSA. SM2 (docs/formats.md) follows the same
        # fixed-length layout, as COSE does for every ECDSA-like algorithm.
        r, s = asym_utils.decode_dss_signature(der_or_raw)
        return r.to_bytes(_ES256_COORDINATE_BYTES, "big") + s.to_bytes(_ES256_COORDINATE_BYTES, "big")
    return der_or_raw  # EdDSA (RFC 9053 §2.2): the 64-byte RFC 8032 signature as is


def _spki_der(signer: KeySigner) -> bytes:
    key = signer.public_key()
    if isinstance(key, SM2PublicKey):
        return key.to_spki_der()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def issue_credential(
    claims: CredentialClaims, *, signer: KeySigner, certificate: x509.Certificate
) -> str:
    """Sign ``claims`` as a COSE_Sign1 CWT (RFC 9052 §4.2, RFC 8392 §7) and return the ``YX1:`` QR text.

    ``certificate`` certifies ``signer``'s key; its subject organizationIdentifier must be the
    issuer's USCC and its validity must cover ``issued_at`` … ``expires_at`` (HCERT §3.3: the
    credential must not outlive its signer certificate). Raises
    :class:`~issuance.errors.CredentialError` for an unsupported algorithm (RSA; SM2 is reserved
    but not implemented) or a text longer than :data:`MAX_CREDENTIAL_LENGTH` characters.
    """
    alg = _cose_alg(signer)
    if _spki_der(signer) != public_key_der(certificate):
        raise CredentialError("the signer's key does not match the certificate")
    if organization_identifier(certificate) != claims.issuer:
        raise CredentialError("the issuer USCC differs from the signer certificate's organizationIdentifier")
    certificate_validity = (certificate.not_valid_before_utc, certificate.not_valid_after_utc)
    if claims.issued_at < certificate_validity[0] or claims.expires_at > certificate_validity[1]:
        raise CredentialError("the credential's validity must lie within the signer certificate's validity")

    protected = cbor2.dumps({HEADER_ALG: alg, HEADER_KID: kid_of(certificate)}, canonical=True)
    # Not canonical: the disclosed fields keep the issuer's order, which verifiers display as is.
    payload = cbor2.dumps(claims.to_cwt())
    # RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload].
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    signature = _cose_signature(alg, signer.sign(to_be_signed))
    cose_sign1 = cbor2.dumps(cbor2.CBORTag(_COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    encoded: bytes = base45.b45encode(zlib.compress(cose_sign1, 9))
    text = CREDENTIAL_PREFIX + encoded.decode("ascii")
    if len(text) > MAX_CREDENTIAL_LENGTH:
        raise CredentialError(
            f"the credential would be {len(text)} characters (limit {MAX_CREDENTIAL_LENGTH}); "
            "disclose fewer fields"
        )
    return text
