"""Status lists: the issuing side of the IETF Token Status List (draft-ietf-oauth-status-list), CWT form.

One list per issuing department and list number holds 2 bits per licence version, at a random index
the credential names (``status_url`` + ``status_index`` in :class:`~issuance.credential.CredentialClaims`).
The verifier's side is :mod:`verification.statuslist`. Layout (CDDL, RFC 8610)::

    Status_List_Token = #6.18([                                   ; COSE_Sign1, RFC 9052 §4.2
        protected: bstr .cbor {1: alg, 4: kid, 16: "application/statuslist+cwt"},
        unprotected: {},
        payload: bstr .cbor {
            1: tstr,                 ; iss: the department's USCC (GB 32100)
            2: tstr,                 ; sub: the list's URL (draft §5.2), equal to the credentials' status_url
            6: int,                  ; iat (RFC 8392)
            4: int,                  ; exp
            65534: uint,             ; ttl: seconds a verifier may rely on this list (draft §5.2)
            65533: {"bits": 2, "lst": bstr},   ; the status list (draft §4.3): zlib (RFC 1950) byte array
        },
        signature: bstr,             ; by the department's official seal key (kid as in QR credentials)
    ])

Byte array (draft §4.1): entry ``i`` occupies bits ``(i * 2) mod 8`` … of byte ``i * 2 // 8``, least
significant bits first. Values (draft §7.1): 0 VALID, 1 INVALID (revoked, cancelled, expired or
superseded), 2 SUSPENDED. W3C Bitstring Status List §6.1 asks for at least 131,072 entries (herd
privacy); lists here default to 2^20.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import cbor2
from cryptography import x509

from ca import KeySigner
from ca.authority import organization_identifier, public_key_der

from .credential import HEADER_ALG, HEADER_KID, _cose_alg, _cose_signature, _spki_der, kid_of
from .errors import FieldValidationError, IssuanceError
from .identifier import validate_uscc
from .lifecycle import LicenseStatus

__all__ = [
    "BITS",
    "DEFAULT_LIST_SIZE",
    "MIN_LIST_SIZE",
    "STATUS_INVALID",
    "STATUS_LIST_TYP",
    "STATUS_SUSPENDED",
    "STATUS_VALID",
    "StatusListClaims",
    "issue_status_list",
    "pack_statuses",
    "status_value",
]

STATUS_VALID = 0x00
"""draft-ietf-oauth-status-list §7.1: the referenced token is valid."""
STATUS_INVALID = 0x01
"""§7.1: revoked, annulled, taken back, recalled or cancelled — here also expired and superseded."""
STATUS_SUSPENDED = 0x02
"""§7.1: temporarily invalid; a resumed licence goes back to VALID."""
BITS = 2
"""Bits per entry (§4.1 allows 1, 2, 4 or 8): enough for VALID / INVALID / SUSPENDED."""
MIN_LIST_SIZE = 131_072
"""W3C Bitstring Status List v1.0 §6.1: fewer entries give too little herd privacy."""
DEFAULT_LIST_SIZE = 1 << 20
"""Entries per list: 256 KiB before compression, a few KiB after while few licences are not valid."""
STATUS_LIST_TYP = "application/statuslist+cwt"
"""COSE ``typ`` header (RFC 9596, label 16) and HTTP media type of a Status List Token (draft §11)."""

HEADER_TYP = 16  # RFC 9596
CLAIM_ISS, CLAIM_SUB, CLAIM_EXP, CLAIM_IAT = 1, 2, 4, 6  # RFC 8392 §3.1
CLAIM_TTL = 65534  # draft-ietf-oauth-status-list §5.2 (IANA CWT Claims)
CLAIM_STATUS_LIST = 65533
_COSE_SIGN1_TAG = 18
_MAX_URI_LENGTH = 512

_STATUS_VALUES = {
    LicenseStatus.ACTIVE: STATUS_VALID,
    LicenseStatus.SUSPENDED: STATUS_SUSPENDED,
    LicenseStatus.REVOKED: STATUS_INVALID,
    LicenseStatus.CANCELLED: STATUS_INVALID,
    LicenseStatus.EXPIRED: STATUS_INVALID,
    LicenseStatus.SUPERSEDED: STATUS_INVALID,
}


def status_value(status: str) -> int:
    """The status-list value of a licence status (``active`` → 0, ``suspended`` → 2, anything final → 1).

    An unknown status raises :class:`~issuance.errors.IssuanceError` rather than being listed as valid.
    """
    return _STATUS_VALUES[LicenseStatus.parse(status)]


def pack_statuses(statuses: Mapping[int, int], *, size: int, bits: int = BITS) -> bytes:
    """The uncompressed byte array of draft §4.1: ``size`` entries of ``bits`` bits, LSB first.

    ``statuses`` maps index → value; indices not given are VALID (0).
    """
    if bits not in (1, 2, 4, 8):
        raise IssuanceError(f"a status list has 1, 2, 4 or 8 bits per entry, not {bits}")
    per_byte = 8 // bits
    if size <= 0 or size % per_byte:
        raise IssuanceError(f"the list size must be a positive multiple of {per_byte}")
    array = bytearray(size * bits // 8)
    mask = (1 << bits) - 1
    for index, value in statuses.items():
        if type(index) is not int or not 0 <= index < size:
            raise IssuanceError(f"status index {index!r} is outside the list (0…{size - 1})")
        if type(value) is not int or not 0 <= value <= mask:
            raise IssuanceError(f"status value {value!r} does not fit in {bits} bits")
        byte, slot = divmod(index, per_byte)
        array[byte] |= value << (slot * bits)
    return bytes(array)


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise FieldValidationError(name, "must be a timezone-aware datetime")
    return value.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class StatusListClaims:
    """What one Status List Token states: whose list, where it lives, when, and each entry's value.

    ``statuses`` holds the entries that are not VALID (index → :data:`STATUS_INVALID` or
    :data:`STATUS_SUSPENDED`); every other index of the ``size`` entries is VALID. ``ttl`` is how long a
    verifier may rely on the list (draft §5.2); a verifier holding an older list answers INDETERMINATE.
    """

    issuer: str
    uri: str
    issued_at: datetime
    expires_at: datetime
    ttl: timedelta
    statuses: Mapping[int, int]
    size: int = DEFAULT_LIST_SIZE

    def __post_init__(self) -> None:
        issuer = validate_uscc(self.issuer, field="issuer")
        if not (isinstance(self.uri, str) and self.uri.startswith(("https://", "http://"))
                and len(self.uri) <= _MAX_URI_LENGTH):
            raise FieldValidationError("uri", "must be an http(s) URL")
        issued_at = _utc(self.issued_at, "issued_at")
        expires_at = _utc(self.expires_at, "expires_at")
        if expires_at <= issued_at:
            raise FieldValidationError("expires_at", "must be later than issued_at")
        if not isinstance(self.ttl, timedelta) or self.ttl < timedelta(seconds=1):
            raise FieldValidationError("ttl", "must be at least one second")
        if type(self.size) is not int or self.size < MIN_LIST_SIZE:
            raise FieldValidationError("size", f"a status list has at least {MIN_LIST_SIZE} entries")
        object.__setattr__(self, "issuer", issuer)
        object.__setattr__(self, "issued_at", issued_at)
        object.__setattr__(self, "expires_at", expires_at)
        object.__setattr__(self, "statuses", MappingProxyType(dict(self.statuses)))

    def to_cwt(self) -> dict[int, object]:
        """The CWT claims map (RFC 8392 §3, draft §5.2) with the zlib-compressed list."""
        packed = pack_statuses(self.statuses, size=self.size, bits=BITS)
        return {
            CLAIM_ISS: self.issuer,
            CLAIM_SUB: self.uri,
            CLAIM_IAT: int(self.issued_at.timestamp()),
            CLAIM_EXP: int(self.expires_at.timestamp()),
            CLAIM_TTL: int(self.ttl.total_seconds()),
            CLAIM_STATUS_LIST: {"bits": BITS, "lst": zlib.compress(packed, 9)},
        }


def issue_status_list(claims: StatusListClaims, *, signer: KeySigner, certificate: x509.Certificate) -> bytes:
    """Sign ``claims`` as a Status List Token (draft §5.2: a CWT in COSE_Sign1) and return its bytes.

    ``certificate`` certifies ``signer``'s key (the department's official seal) and its subject
    organizationIdentifier must be the list's issuer, as for QR credentials; the list must not outlive
    the certificate. ES256, EdDSA and SM2-with-SM3 keys sign, as in :mod:`issuance.credential`.
    """
    alg = _cose_alg(signer)
    if _spki_der(signer) != public_key_der(certificate):
        raise IssuanceError("the signer's key does not match the certificate")
    if organization_identifier(certificate) != claims.issuer:
        raise IssuanceError("the list's issuer differs from the signer certificate's organizationIdentifier")
    if claims.issued_at < certificate.not_valid_before_utc or claims.expires_at > certificate.not_valid_after_utc:
        raise IssuanceError("the status list's validity must lie within the signer certificate's validity")
    protected = cbor2.dumps(
        {HEADER_ALG: alg, HEADER_KID: kid_of(certificate), HEADER_TYP: STATUS_LIST_TYP}, canonical=True
    )
    payload = cbor2.dumps(claims.to_cwt())
    # RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload].
    signature = _cose_signature(alg, signer.sign(cbor2.dumps(["Signature1", protected, b"", payload])))
    encoded: bytes = cbor2.dumps(cbor2.CBORTag(_COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    return encoded
