"""Status lists: the verifier's side of the IETF Token Status List (draft-ietf-oauth-status-list), CWT form.

:func:`parse_status_list` checks a Status List Token (layout in :mod:`issuance.statuslist`): the COSE
signature by a trust-list certificate with the header's ``kid``, that certificate's path to a trust
anchor, and that its organizationIdentifier is the list's ``iss``. A list that passes is a
:class:`StatusList`; whether it is still fresh is asked at the time of each verification
(:meth:`StatusList.freshness_problem`): a list older than its ``ttl`` — or past its ``exp`` — must give
INDETERMINATE, never VALID. No I/O: the caller fetches the bytes and passes the time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from cryptography import x509

from .cose import (
    ALG_NAMES,
    CoseFormatError,
    certificate_name,
    decode_cbor,
    is_int,
    organization_identifier,
    parse_sign1,
    signature_problem,
)
from .errors import InputTooLargeError, VerificationError
from .trust import TrustStore

__all__ = [
    "MAX_LIST_BYTES",
    "MAX_TOKEN_BYTES",
    "MIN_LIST_SIZE",
    "STATUS_INVALID",
    "STATUS_LIST_TYP",
    "STATUS_SUSPENDED",
    "STATUS_VALID",
    "StatusList",
    "StatusListError",
    "StatusLists",
    "parse_status_list",
]

STATUS_VALID, STATUS_INVALID, STATUS_SUSPENDED = 0x00, 0x01, 0x02  # draft §7.1
STATUS_LIST_TYP = "application/statuslist+cwt"  # draft §5.2 / RFC 9596 typ
MIN_LIST_SIZE = 131_072
"""W3C Bitstring Status List v1.0 §6.1: a shorter list is refused (too little herd privacy)."""
MAX_TOKEN_BYTES = 4 * 2**20
"""Largest Status List Token accepted."""
MAX_LIST_BYTES = 4 * 2**20
"""Largest decompressed byte array accepted (16 Mi entries at 2 bits): the zlib-bomb limit."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ``iat`` may lie in the verifier's future (as for QR credentials)."""

_HEADER_KID, _HEADER_TYP = 4, 16
_CLAIM_ISS, _CLAIM_SUB, _CLAIM_EXP, _CLAIM_IAT = 1, 2, 4, 6
_CLAIM_TTL, _CLAIM_STATUS_LIST = 65534, 65533
_ALLOWED_BITS = (1, 2, 4, 8)


class StatusListError(VerificationError):
    """A status list cannot be used: malformed, too large, unsigned, signed by an untrusted key, or
    by a certificate that is not the issuer's."""

    code = "status_list_invalid"


@dataclass(frozen=True)
class StatusList:
    """A Status List Token whose signature and signer were checked (draft §8.3 steps 1–5).

    ``value_at(index)`` reads one entry; ask :meth:`freshness_problem` at the time of use first.
    """

    issuer: str
    uri: str
    issued_at: datetime
    ttl: timedelta
    expires_at: datetime | None
    bits: int
    signer: x509.Certificate
    array: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """How many entries the list holds."""
        return len(self.array) * 8 // self.bits

    def value_at(self, index: int) -> int:
        """The status value at ``index`` (draft §4.1: LSB first); :class:`IndexError` outside the list."""
        if not 0 <= index < self.size:
            raise IndexError(index)
        per_byte = 8 // self.bits
        byte, slot = divmod(index, per_byte)
        return (self.array[byte] >> (slot * self.bits)) & ((1 << self.bits) - 1)

    def freshness_problem(self, now: datetime) -> str | None:
        """Why the list may not be relied on at ``now`` (expired, older than its ttl, from the future), or None.

        draft §5.2 ``ttl``: the time a consumer may cache the list before fetching a fresh one. Yinxin's
        verifiers go further and refuse to answer VALID from an older list (fail closed).
        """
        if now < self.issued_at - CLOCK_SKEW:
            return f"the status list at {self.uri} is issued in the future ({self.issued_at.isoformat()})"
        if now > self.issued_at + self.ttl:
            return (f"the status list at {self.uri} is stale: issued {self.issued_at.isoformat()}, "
                    f"older than its ttl of {int(self.ttl.total_seconds())} s")
        if self.expires_at is not None and now >= self.expires_at:
            return f"the status list at {self.uri} expired at {self.expires_at.isoformat()}"
        return None


def _numeric_date(claims: Mapping[Any, Any], key: int, name: str) -> datetime:
    value = claims.get(key)
    if not is_int(value):
        raise StatusListError(f"status list: claim {name} ({key}) is missing or not an integer")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise StatusListError(f"status list: claim {name} ({key}) is out of range") from None


def _decompress(data: bytes) -> bytes:
    decompressor = zlib.decompressobj()
    try:
        output = decompressor.decompress(data, MAX_LIST_BYTES + 1)
    except zlib.error as exc:
        raise StatusListError(f"status list: zlib decompression of lst failed: {exc}") from None
    if len(output) > MAX_LIST_BYTES:
        raise InputTooLargeError(f"status list: lst decompresses to more than {MAX_LIST_BYTES} bytes")
    if not decompressor.eof or decompressor.unused_data:
        raise StatusListError("status list: lst is not one complete zlib stream")
    return output


def _signer(alg: int, kid: bytes, signature: bytes, to_be_signed: bytes, trust: TrustStore) -> x509.Certificate:
    candidates = trust.certificates_for_kid(kid)
    if not candidates:
        raise StatusListError(f"status list: unknown signer: kid {kid.hex()} is not in the trust list")
    problems = []
    for certificate in candidates:
        problem = signature_problem(alg, signature, to_be_signed, certificate)
        if problem is None:
            return certificate
        problems.append(problem)
    raise StatusListError("status list: " + "; ".join(problems))


def parse_status_list(data: bytes, *, trust: TrustStore, now: datetime) -> StatusList:
    """Check a Status List Token (CWT, draft §5.2 and §8.3) against ``trust`` at ``now`` and return it.

    Raises :class:`StatusListError` when the bytes are not a Status List Token, the signature does not
    verify with a trust-list certificate of the header's ``kid``, that certificate does not chain to
    a trust anchor at ``now``, or its organizationIdentifier is not ``iss``;
    :class:`~verification.errors.InputTooLargeError` past the size limits. Freshness is not judged
    here but at each use (:meth:`StatusList.freshness_problem`).
    """
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise ValueError("now must be a timezone-aware UTC datetime")
    now = now.astimezone(UTC)
    if not isinstance(data, bytes | bytearray):
        raise StatusListError("a status list is bytes")
    if len(data) > MAX_TOKEN_BYTES:
        raise InputTooLargeError(f"a status list larger than {MAX_TOKEN_BYTES} bytes is refused")
    try:
        message = parse_sign1(bytes(data), "status list")
        claims = decode_cbor(message.payload, "status list claims")
    except CoseFormatError as exc:
        raise StatusListError(f"status list: {exc}") from None
    if message.header.get(_HEADER_TYP) != STATUS_LIST_TYP:
        raise StatusListError(f"status list: the typ header must be {STATUS_LIST_TYP} (draft §5.2)")
    if message.alg not in ALG_NAMES:
        raise StatusListError(f"status list: unknown signature algorithm {message.alg}")
    kid = message.header.get(_HEADER_KID)
    if not (isinstance(kid, bytes) and kid):
        raise StatusListError("status list: the protected header lacks a kid (label 4)")
    signer = _signer(message.alg, kid, message.signature, message.to_be_signed(), trust)
    validation = trust.validate_path(signer, now=now)
    if not validation.trusted:
        raise StatusListError(f"status list: its signer is not trusted: {validation.problem}")

    if not isinstance(claims, Mapping):
        raise StatusListError("status list: the payload is not a CWT claims map")
    issuer, uri = claims.get(_CLAIM_ISS), claims.get(_CLAIM_SUB)
    if not (isinstance(issuer, str) and issuer):
        raise StatusListError("status list: claim iss (1) is missing")
    if not (isinstance(uri, str) and uri):
        raise StatusListError("status list: claim sub (2), the list's URL, is missing")
    if organization_identifier(signer) != issuer:
        raise StatusListError(
            f"status list: iss {issuer} differs from the organizationIdentifier of {certificate_name(signer)}"
        )
    issued_at = _numeric_date(claims, _CLAIM_IAT, "iat")
    expires_at = _numeric_date(claims, _CLAIM_EXP, "exp") if _CLAIM_EXP in claims else None
    ttl = claims.get(_CLAIM_TTL)
    if not (is_int(ttl) and ttl > 0):
        raise StatusListError("status list: claim ttl (65534) is missing or not a positive integer")
    body = claims.get(_CLAIM_STATUS_LIST)
    if not isinstance(body, Mapping):
        raise StatusListError("status list: claim status_list (65533) is missing")
    bits, lst = body.get("bits"), body.get("lst")
    if not (is_int(bits) and bits in _ALLOWED_BITS):
        raise StatusListError("status list: bits must be 1, 2, 4 or 8 (draft §4.1)")
    if not isinstance(lst, bytes):
        raise StatusListError("status list: lst must be a byte string")
    array = _decompress(lst)
    status_list = StatusList(issuer=issuer, uri=uri, issued_at=issued_at, ttl=timedelta(seconds=ttl),
                             expires_at=expires_at, bits=bits, signer=signer, array=array)
    if status_list.size < MIN_LIST_SIZE:
        raise StatusListError(f"status list: {status_list.size} entries; at least {MIN_LIST_SIZE} are required")
    return status_list


@dataclass(frozen=True)
class StatusLists:
    """The status lists a verifier holds, by URL, and why the others it was given could not be used."""

    lists: Mapping[str, StatusList] = field(default_factory=lambda: MappingProxyType({}))
    problems: tuple[str, ...] = ()

    @classmethod
    def load(cls, tokens: Iterable[bytes], *, trust: TrustStore, now: datetime) -> StatusLists:
        """Parse every token (:func:`parse_status_list`); a bad one is kept as a problem, not raised.

        Of two lists with the same URL the newer (later ``iat``) is kept.
        """
        lists: dict[str, StatusList] = {}
        problems: list[str] = []
        for token in tokens:
            try:
                parsed = parse_status_list(token, trust=trust, now=now)
            except VerificationError as exc:
                problems.append(exc.public_message)
                continue
            known = lists.get(parsed.uri)
            if known is None or parsed.issued_at > known.issued_at:
                lists[parsed.uri] = parsed
        return cls(lists=MappingProxyType(lists), problems=tuple(problems))

    def get(self, uri: str) -> StatusList | None:
        """The list published at ``uri``, if held."""
        return self.lists.get(uri)
