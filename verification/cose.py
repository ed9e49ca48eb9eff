"""COSE_Sign1 reading and signature checking shared by the QR credential, status list and trust list verifiers.

Strict CBOR (RFC 8949 §5.2: no duplicate keys, no indefinite lengths, bounded nesting), COSE_Sign1
(RFC 9052 §4.2: tag 18, four items, critical headers refused) and the three signature algorithms of
docs/formats.md §1.3. Public keys, subject names and organizationIdentifiers are read once per
certificate and cached: a busy verifier meets the same few signer certificates over and over.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ca.authority import organization_identifier as subject_organization_identifier
from ca.sm2 import SM2Error, SM2PublicKey

__all__ = [
    "ALG_EDDSA",
    "ALG_ES256",
    "ALG_NAMES",
    "ALG_SM2_SM3",
    "CoseFormatError",
    "Sign1",
    "certificate_name",
    "decode_cbor",
    "organization_identifier",
    "parse_sign1",
    "signature_problem",
]

# COSE Algorithms (RFC 9053 §2.1, §2.2; -70001 private use, docs/formats.md §1.3).
ALG_ES256, ALG_EDDSA, ALG_SM2_SM3 = -7, -8, -70001
ALG_NAMES = {ALG_ES256: "ES256", ALG_EDDSA: "EdDSA", ALG_SM2_SM3: "SM2-with-SM3"}
HEADER_ALG, HEADER_CRIT = 1, 2  # RFC 9052 §3.1
COSE_SIGN1_TAG = 18  # RFC 9052 §2
CBOR_MAX_DEPTH = 16
_RAW_SIGNATURE_BYTES = 64  # r‖s of ES256 and SM2 (RFC 9053 §2.1), and Ed25519 (RFC 8032)
_CACHED_CERTIFICATES = 4096
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class CoseFormatError(Exception):
    """The bytes are not a well-formed CBOR item or COSE_Sign1; the message names the step."""


def decode_cbor(data: bytes, what: str) -> Any:
    """Decode exactly one strict CBOR item from ``data`` (RFC 8949 §5.2); ``what`` names it in errors."""
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream, max_depth=CBOR_MAX_DEPTH, allow_indefinite=False, allow_duplicate_keys=False
    )
    try:
        value = decoder.decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CoseFormatError(f"CBOR decoding of the {what} failed: {exc}") from None
    if stream.tell() != len(data):
        raise CoseFormatError(f"CBOR decoding of the {what} failed: bytes follow the end of the item")
    return value


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CoseFormatError(message)


def is_int(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a CBOR integer (a CBOR ``true`` is not one, though Python's bool is an int)."""
    return type(value) is int


@dataclass(frozen=True)
class Sign1:
    """A decoded, not yet verified, COSE_Sign1 (RFC 9052 §4.2) with an attached payload."""

    protected: bytes
    header: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes
    alg: int

    def to_be_signed(self) -> bytes:
        """RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload]."""
        return cbor2.dumps(["Signature1", self.protected, b"", self.payload])


def parse_sign1(data: bytes, what: str) -> Sign1:
    """Decode a tagged COSE_Sign1 whose protected header names an integer ``alg`` and no ``crit``."""
    item = decode_cbor(data, what)
    _require(
        isinstance(item, cbor2.CBORTag) and item.tag == COSE_SIGN1_TAG,
        f"the {what} is not a COSE_Sign1 message (CBOR tag 18 expected, RFC 9052 §4.2)",
    )
    message = item.value
    _require(isinstance(message, list | tuple) and len(message) == 4,
             "COSE_Sign1 must be an array of 4 items (RFC 9052 §4.2)")
    protected, unprotected, payload, signature = message
    _require(isinstance(protected, bytes) and len(protected) > 0, "COSE protected header must be a bstr")
    _require(type(unprotected) is dict or isinstance(unprotected, Mapping), "COSE unprotected header must be a map")
    _require(isinstance(payload, bytes), "COSE payload must be an attached byte string")
    _require(isinstance(signature, bytes), "COSE signature must be a byte string")
    header = decode_cbor(protected, "protected header")
    _require(type(header) is dict or isinstance(header, Mapping), "COSE protected header must be a map")
    # RFC 9052 §3.1: a recipient must reject a message whose 'crit' labels it does not understand.
    _require(HEADER_CRIT not in header, "COSE critical header parameters are not supported")
    alg = header.get(HEADER_ALG)
    _require(is_int(alg), "COSE protected header lacks an integer alg (label 1)")
    return Sign1(protected=protected, header=header, unprotected=unprotected, payload=payload,
                 signature=signature, alg=alg)


@dataclass(frozen=True)
class _Facts:
    """What verifiers read from a certificate again and again."""

    name: str
    organization: str | None
    key: object  # a cryptography public key, an SM2PublicKey, or the exception loading it raised


@functools.lru_cache(maxsize=_CACHED_CERTIFICATES)
def _facts_of(certificate: x509.Certificate) -> _Facts:
    # Keyed by certificate equality (its DER): equal certificates loaded again share the entry.
    key: object
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:  # e.g. an SM2 key, which cryptography cannot load
        try:
            key = SM2PublicKey.from_certificate_der(certificate.public_bytes(serialization.Encoding.DER))
        except SM2Error:
            key = exc
    return _Facts(name=certificate.subject.rfc4514_string(),
                  organization=subject_organization_identifier(certificate), key=key)


# The same certificate objects come back on every scan (a verifier's trust store holds them): look
# them up by identity first, which spares hashing the DER. The entry keeps the object alive, so its id
# cannot be reused while it is cached.
_BY_IDENTITY: dict[int, tuple[x509.Certificate, _Facts]] = {}
_BY_IDENTITY_LOCK = threading.Lock()


def _facts(certificate: x509.Certificate) -> _Facts:
    entry = _BY_IDENTITY.get(id(certificate))
    if entry is not None and entry[0] is certificate:
        return entry[1]
    facts = _facts_of(certificate)
    with _BY_IDENTITY_LOCK:
        if len(_BY_IDENTITY) >= _CACHED_CERTIFICATES:
            _BY_IDENTITY.clear()
        _BY_IDENTITY[id(certificate)] = (certificate, facts)
    return facts


def certificate_name(certificate: x509.Certificate) -> str:
    """The certificate's subject as an RFC 4514 string (cached)."""
    return _facts(certificate).name


def organization_identifier(certificate: x509.Certificate) -> str | None:
    """The subject's organizationIdentifier (X.520 2.5.4.97: the USCC of a department), if any (cached)."""
    return _facts(certificate).organization


def signature_problem(alg: int, signature: bytes, data: bytes, certificate: x509.Certificate) -> str | None:
    """Verify a COSE ``signature`` over ``data`` with ``certificate``'s key under ``alg``; ``None`` if it verifies.

    ES256 and SM2-with-SM3 signatures are r‖s, 32 bytes each (RFC 9053 §2.1; docs/formats.md §1.3 for
    SM2 with the GB/T 32918.2 default user ID); EdDSA is Ed25519 only (RFC 8032). Any other ``alg``
    fails closed.
    """
    key = _facts(certificate).key
    if alg == ALG_SM2_SM3:
        if not isinstance(key, SM2PublicKey):
            return f"alg SM2-with-SM3 does not match the key of {certificate_name(certificate)}"
        if len(signature) != _RAW_SIGNATURE_BYTES:
            return f"an SM2 signature is 64 bytes (r‖s), got {len(signature)}"
        if not key.verify(signature, data):
            return f"the signature does not verify with the key of {certificate_name(certificate)}"
        return None
    if isinstance(key, Exception | SM2PublicKey):
        return f"the key of {certificate_name(certificate)} cannot be used"
    try:
        if alg == ALG_ES256:
            if not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
                return f"alg ES256 does not match the key of {certificate_name(certificate)}"
            if len(signature) != _RAW_SIGNATURE_BYTES:
                return f"an ES256 signature is 64 bytes, got {len(signature)}"
            # RFC 9053 §2.1: r‖s, each 32 bytes; cryptography verifies the DER form.
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), data, _ECDSA_SHA256)
        elif alg == ALG_EDDSA:
            if not isinstance(key, ed25519.Ed25519PublicKey):
                return f"alg EdDSA does not match the key of {certificate_name(certificate)} (Ed25519 expected)"
            key.verify(signature, data)
        else:
            return f"unsupported algorithm {alg}"
    except InvalidSignature:
        return f"the signature does not verify with the key of {certificate_name(certificate)}"
    return None
