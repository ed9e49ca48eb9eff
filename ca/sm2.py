"""SM2 digital signatures with SM3 (GB/T 32918.2-2016, GM/T 0003.2-2012), keys and their encodings.

What a signature is here (the usual "SM2-with-SM3" of GB/T 35276 and GM/T 0009):

* ``Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)`` (GB/T 32918.2 §5.5), ENTL the length of the
  user ID in **bits** as two bytes, ID by default ``1234567812345678`` (GB/T 35276 §5.3);
* ``e = SM3(Z_A ‖ M)`` and the signature (r, s) over e (GB/T 32918.2 §6.1), with a fresh nonce from
  the operating system's CSPRNG for every signature;
* encoded as DER ``SEQUENCE {r INTEGER, s INTEGER}`` (GB/T 35276 §7.3, "SM2Signature"); a raw 64-byte
  ``r ‖ s`` is accepted on input;
* a verifier rejects r or s outside [1, n−1] (GB/T 32918.2 §7.1 B1, B2) and public keys that are not
  points of the curve (GB/T 32918.1 §6.2.1).

Two interchangeable backends do the elliptic-curve work (the pluggable seam of STYLE.md rule 7):

``openssl``
    A small ctypes binding to the system's OpenSSL 3 libcrypto (Debian ``libssl3``), which implements
    SM2 in C: ~2,000 verifications a second per core. Chosen automatically when present.
``gmssl``
    The pure-Python ``gmssl`` 3.2.2 package, wrapped so that none of its traps can bite (see
    :class:`_GmsslBackend`): ~60 verifications a second. The fallback, and the reference the
    other backend is cross-tested against.

``YINXIN_SM2_BACKEND=openssl|gmssl`` forces one (for tests and benchmarks). Every check that does
not need the curve arithmetic (encodings, ranges, the curve equation) runs here, before either
backend is called, so both enforce the same rules.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import secrets
import threading
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes

from .errors import CAError

if TYPE_CHECKING:
    from .algorithms import SignatureAlgorithm

__all__ = [
    "DEFAULT_ID",
    "SM2_CURVE_OID",
    "SM2_SM3_SIGNATURE_OID",
    "SM3_OID",
    "SM2Backend",
    "SM2Error",
    "SM2PrivateKey",
    "SM2PublicKey",
    "SM2Signer",
    "available_backends",
    "backend_name",
    "decode_signature",
    "encode_signature",
    "get_backend",
    "sm2_verify",
]

DEFAULT_ID: bytes = b"1234567812345678"
"""The default user ID of GB/T 35276 §5.3 (GM/T 0009 §10), used when the parties agreed on no other."""

SM2_CURVE_OID = "1.2.156.10197.1.301"
"""sm2p256v1, the curve of GB/T 32918.5 (GM/T 0006 §5.2.2); also the namedCurve of SM2 SPKIs."""
SM2_SM3_SIGNATURE_OID = "1.2.156.10197.1.501"
"""SM2-with-SM3 signature algorithm (GM/T 0006 §5.2.4)."""
SM3_OID = "1.2.156.10197.1.401"
"""SM3 hash algorithm (GM/T 0006 §5.2.3)."""

_ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"  # RFC 5480 §2.1.1, the algorithm of GB/T 20518 SM2 SPKIs

# GB/T 32918.5-2017 §10 recommended curve parameters (y² = x³ + ax + b over F_p).
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

_COORDINATE_BYTES = 32
_ENV_BACKEND = "YINXIN_SM2_BACKEND"
# ENTL is a 16-bit count of bits (GB/T 32918.2 §5.5), so an ID is at most 8,191 bytes long.
_MAX_ID_BYTES = 0xFFFF // 8


class SM2Error(CAError):
    """SM2 input that cannot be used: a malformed or off-curve key, a bad ID, an unavailable backend.

    A signature that does not verify is not an error: verification returns ``False``.
    """

    code = "sm2_error"


def _be(value: int) -> bytes:
    return value.to_bytes(_COORDINATE_BYTES, "big")


def _sm3(*parts: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    for part in parts:
        digest.update(part)
    return digest.finalize()


def _on_curve(x: int, y: int) -> bool:
    # GB/T 32918.1 §6.2.1 (public key validation) steps b and c: coordinates in F_p, the curve equation.
    # The cofactor of sm2p256v1 is 1, so every affine point of the curve has order n (step d holds).
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def _check_uid(uid: bytes) -> None:
    if not isinstance(uid, bytes | bytearray) or not 1 <= len(uid) <= _MAX_ID_BYTES:
        raise SM2Error(f"the SM2 user ID must be 1 to {_MAX_ID_BYTES} bytes")


# --------------------------------------------------------------------------------------------------
# Signature encoding (GB/T 35276 §7.3)


def encode_signature(r: int, s: int) -> bytes:
    """DER ``SEQUENCE {r INTEGER, s INTEGER}`` (GB/T 35276 §7.3) for a signature (r, s) in [1, n−1]."""
    if not (1 <= r < N and 1 <= s < N):
        raise SM2Error("SM2 signature values must lie in [1, n-1]")
    # asn1crypto's DSASignature is exactly SEQUENCE {r INTEGER, s INTEGER}.
    return bytes(asn1_algos.DSASignature({"r": r, "s": s}).dump())


def decode_signature(signature: bytes) -> tuple[int, int]:
    """(r, s) from a DER ``SEQUENCE {r, s}`` or a raw 64-byte ``r ‖ s``; range-checked.

    DER must be canonical (it is re-encoded and compared), so no two encodings of one signature
    are both accepted. Raises :class:`SM2Error` for anything else, including r or s outside
    [1, n−1] (GB/T 32918.2 §7.1 B1 and B2).
    """
    data = bytes(signature)
    if data[:1] == b"\x30":
        try:
            parsed = asn1_algos.DSASignature.load(data, strict=True)
            r, s = int(parsed["r"].native), int(parsed["s"].native)
            if 1 <= r < N and 1 <= s < N and encode_signature(r, s) == data:
                return r, s
        except (ValueError, TypeError, KeyError):
            pass
    if len(data) == 2 * _COORDINATE_BYTES:
        r = int.from_bytes(data[:_COORDINATE_BYTES], "big")
        s = int.from_bytes(data[_COORDINATE_BYTES:], "big")
        if 1 <= r < N and 1 <= s < N:
            return r, s
        raise SM2Error("SM2 signature values must lie in [1, n-1]")
    raise SM2Error("not an SM2 signature: expected DER SEQUENCE {r, s} in [1, n-1], or 64 bytes r||s")


def _sm2_algorithm() -> dict[str, Any]:
    # GB/T 20518 §6.2.5 / RFC 5480 §2.1.1: id-ecPublicKey with the namedCurve sm2p256v1. The OID is
    # given dotted, so this works whether or not a name was registered for it in asn1crypto.
    return {
        "algorithm": _ID_EC_PUBLIC_KEY,
        "parameters": asn1_keys.ECDomainParameters(name="named", value=SM2_CURVE_OID),
    }


def _pkcs8(d: int, point: bytes | None) -> bytes:
    # RFC 5208 §5 PrivateKeyInfo around an RFC 5915 ECPrivateKey. Like OpenSSL, the curve is named
    # once, in the outer algorithm; the public key is included when known.
    fields: dict[str, Any] = {"version": "ecPrivkeyVer1", "private_key": d}
    if point is not None:
        fields["public_key"] = point
    ec_key = asn1_keys.ECPrivateKey(fields)
    ec_key.set_key_size(_COORDINATE_BYTES)  # RFC 5915 §3: ceiling(log2(n)/8) = 32 octets, zero-padded
    # Assembled from its parts: asn1crypto's PrivateKeyInfo insists on a registered key size for the
    # curve, and registering names in asn1crypto's global maps is left to ca.oids.
    algorithm = asn1_keys.PrivateKeyAlgorithm(_sm2_algorithm())
    body = asn1_core.Integer(0).dump() + algorithm.dump() + asn1_core.OctetString(ec_key.dump()).dump()
    return bytes(asn1_core.Sequence(contents=body).dump())


# --------------------------------------------------------------------------------------------------
# Keys


@dataclass(frozen=True)
class SM2PublicKey:
    """An SM2 public key: a point of sm2p256v1, validated on construction (GB/T 32918.1 §6.2.1).

    ``point`` is the uncompressed encoding ``04 ‖ X ‖ Y`` (65 bytes, GB/T 32918.1 §4.2.9).
    Keys compare equal when their points are equal. Immutable; safe to share between threads.
    """

    point: bytes
    # Parsed backend key objects (e.g. an OpenSSL EVP_PKEY), built once per key and backend.
    _handles: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        point = self.point
        if not isinstance(point, bytes) or len(point) != 1 + 2 * _COORDINATE_BYTES or point[0] != 0x04:
            raise SM2Error("an SM2 public key must be an uncompressed point (65 bytes starting with 04)")
        x = int.from_bytes(point[1 : 1 + _COORDINATE_BYTES], "big")
        y = int.from_bytes(point[1 + _COORDINATE_BYTES :], "big")
        if not _on_curve(x, y):
            raise SM2Error("the SM2 public key is not a point of the SM2 curve")

    def __reduce__(self) -> tuple[type[SM2PublicKey], tuple[bytes]]:
        # Copies and pickles carry the point only, never the cached native handles.
        return (SM2PublicKey, (self.point,))

    @classmethod
    def from_point(cls, data: bytes) -> SM2PublicKey:
        """A key from an encoded point: ``04‖X‖Y`` (65 bytes), compressed ``02/03‖X`` (33 bytes,
        GB/T 32918.1 §4.2.9), or the bare ``X‖Y`` (64 bytes) of GM/T 0016 ECC public key blobs."""
        data = bytes(data)
        if len(data) == 2 * _COORDINATE_BYTES:
            return cls(b"\x04" + data)
        if len(data) == 1 + _COORDINATE_BYTES and data[0] in (2, 3):
            x = int.from_bytes(data[1:], "big")
            if x >= P:
                raise SM2Error("the SM2 public key is not a point of the SM2 curve")
            # p ≡ 3 (mod 4), so a square root of α is α^((p+1)/4) (GB/T 32918.1 Annex B.1.4).
            alpha = (x * x * x + A * x + B) % P
            y = pow(alpha, (P + 1) // 4, P)
            if (y * y) % P != alpha:
                raise SM2Error("the SM2 public key is not a point of the SM2 curve")
            if (y & 1) != (data[0] & 1):
                y = P - y
            return cls(b"\x04" + _be(x) + _be(y))
        return cls(data)

    @classmethod
    def from_spki_der(cls, der: bytes) -> SM2PublicKey:
        """A key from a DER SubjectPublicKeyInfo with id-ecPublicKey and namedCurve
        1.2.156.10197.1.301 (GB/T 20518 §6.2.5, RFC 5480 §2)."""
        try:
            info = asn1_keys.PublicKeyInfo.load(bytes(der), strict=True)
            algorithm = info["algorithm"]
            oid = algorithm["algorithm"].dotted
            parameters = algorithm["parameters"]
            curve = parameters.chosen.dotted if isinstance(parameters, asn1_keys.ECDomainParameters) else None
            bits = bytes(info["public_key"].contents)  # BIT STRING contents: unused-bits count, then the point
        except (ValueError, TypeError, KeyError) as exc:
            raise SM2Error("malformed SubjectPublicKeyInfo") from exc
        if oid != _ID_EC_PUBLIC_KEY or curve != SM2_CURVE_OID:
            raise SM2Error("not an SM2 public key (expected id-ecPublicKey with curve 1.2.156.10197.1.301)")
        if bits[:1] != b"\x00":
            raise SM2Error("malformed SM2 public key bit string")
        return cls.from_point(bits[1:])

    def to_spki_der(self) -> bytes:
        """DER SubjectPublicKeyInfo: id-ecPublicKey, namedCurve 1.2.156.10197.1.301, uncompressed point."""
        info = asn1_keys.PublicKeyInfo(
            {"algorithm": asn1_keys.PublicKeyAlgorithm(_sm2_algorithm()), "public_key": self.point}
        )
        return bytes(info.dump())

    @classmethod
    def from_certificate_der(cls, der: bytes) -> SM2PublicKey:
        """The subject public key of a DER X.509 certificate with an SM2 key (GB/T 20518)."""
        try:
            certificate = asn1_x509.Certificate.load(bytes(der), strict=True)
            spki = certificate["tbs_certificate"]["subject_public_key_info"].dump()
        except (ValueError, TypeError, KeyError) as exc:
            raise SM2Error("malformed certificate") from exc
        return cls.from_spki_der(spki)

    def z_digest(self, *, uid: bytes = DEFAULT_ID) -> bytes:
        """``Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)`` (GB/T 32918.2 §5.5).

        For signers that hash outside the key holder (an HSM signing e directly):
        ``e = SM3(Z_A ‖ M)``.
        """
        _check_uid(uid)
        entl = (8 * len(uid)).to_bytes(2, "big")
        return _sm3(entl, bytes(uid), _be(A), _be(B), _be(GX), _be(GY), self.point[1:])

    def verify(self, signature: bytes, message: bytes, *, uid: bytes = DEFAULT_ID) -> bool:
        """Verify an SM2-with-SM3 ``signature`` of ``message`` (GB/T 32918.2 §7).

        ``signature`` is DER ``SEQUENCE {r, s}`` or raw 64-byte ``r ‖ s``. Returns ``False`` for any
        signature that is malformed, out of range or wrong; raises :class:`SM2Error` only when the
        inputs cannot be evaluated (an unusable user ID or backend).
        """
        return get_backend().verify(self, message, signature, uid=uid)


class SM2PrivateKey:
    """An SM2 private key d ∈ [1, n−2] (GB/T 32918.1 §6.1) with its public key.

    Neither ``repr`` nor pickling reveals the scalar; persist it with :meth:`to_pkcs8_der` inside
    an encrypted envelope (the key store does).
    """

    __slots__ = ("__weakref__", "_d", "_handles", "_public")

    def __init__(self, *, private_value: int, public_key: SM2PublicKey | None = None) -> None:
        """Prefer :meth:`generate` or :meth:`from_pkcs8_der`. ``public_key``, when given, must match."""
        if not isinstance(private_value, int) or not 1 <= private_value <= N - 2:
            raise SM2Error("an SM2 private key must lie in [1, n-2]")
        self._d = private_value
        self._handles: dict[str, Any] = {}
        derived = get_backend()._public_point(private_value)
        if public_key is not None and public_key.point != derived:
            raise SM2Error("the SM2 public key does not match the private key")
        self._public = public_key if public_key is not None else SM2PublicKey(derived)

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        """A fresh key from the operating system's CSPRNG (GB/T 32918.1 §6.1)."""
        return get_backend()._generate()

    @classmethod
    def from_private_value(cls, value: int) -> SM2PrivateKey:
        """A key from its scalar d (e.g. a published test vector); the public key is derived."""
        return cls(private_value=value)

    @classmethod
    def from_pkcs8_der(cls, der: bytes) -> SM2PrivateKey:
        """A key from an unencrypted PKCS #8 PrivateKeyInfo (RFC 5208) with id-ecPublicKey,
        namedCurve 1.2.156.10197.1.301 and an RFC 5915 ECPrivateKey inside; a public key in it must
        match the scalar."""
        try:
            info = asn1_keys.PrivateKeyInfo.load(bytes(der), strict=True)
            algorithm = info["private_key_algorithm"]
            oid = algorithm["algorithm"].dotted
            parameters = algorithm["parameters"]
            curve = parameters.chosen.dotted if isinstance(parameters, asn1_keys.ECDomainParameters) else None
            if oid != _ID_EC_PUBLIC_KEY or curve != SM2_CURVE_OID:
                raise SM2Error("not an SM2 private key (expected id-ecPublicKey with curve 1.2.156.10197.1.301)")
            ec_key = asn1_keys.ECPrivateKey.load(bytes(info["private_key"].contents), strict=True)
            inner = ec_key["parameters"]
            if isinstance(inner, asn1_keys.ECDomainParameters) and inner.chosen.dotted != SM2_CURVE_OID:
                raise SM2Error("the ECPrivateKey names another curve")
            scalar_bytes = bytes(ec_key["private_key"].contents)
            public_bits = ec_key["public_key"]
            point = bytes(public_bits.contents)[1:] if isinstance(public_bits, asn1_keys.ECPointBitString) else None
        except SM2Error:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise SM2Error("malformed PKCS #8 private key") from exc
        if len(scalar_bytes) > _COORDINATE_BYTES:
            raise SM2Error("malformed SM2 private key")
        public = SM2PublicKey.from_point(point) if point else None
        return cls(private_value=int.from_bytes(scalar_bytes, "big"), public_key=public)

    def to_pkcs8_der(self) -> bytes:
        """Unencrypted PKCS #8 PrivateKeyInfo (RFC 5208 §5): id-ecPublicKey with namedCurve
        1.2.156.10197.1.301 and an RFC 5915 ECPrivateKey holding d (32 bytes) and the public key,
        as ``openssl pkey`` reads and writes it."""
        return _pkcs8(self._d, self._public.point)

    def public_key(self) -> SM2PublicKey:
        """The public key P = [d]G."""
        return self._public

    def sign(self, message: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        """Sign ``message``: e = SM3(Z_A ‖ M), fresh CSPRNG nonce, DER ``SEQUENCE {r, s}``
        (GB/T 32918.2 §6.1, GB/T 35276 §7.3)."""
        return get_backend().sign(self, message, uid=uid)

    def __repr__(self) -> str:
        return f"SM2PrivateKey(public_key={self._public.point.hex()[:18]}…)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SM2PrivateKey cannot be pickled or copied; use to_pkcs8_der() inside an encrypted envelope")

    def __copy__(self) -> SM2PrivateKey:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> SM2PrivateKey:
        return self


@dataclass(frozen=True, repr=False)
class SM2Signer:
    """A :class:`ca.KeySigner` over an :class:`SM2PrivateKey` held in process memory.

    ``sign`` returns DER ``SEQUENCE {r, s}`` over SM3 with Z computed from the default ID
    (GB/T 35276 §5.3), the form GB/T 38540 seals, GB/T 20518 certificates and GB/T 35275 CMS use.
    """

    private_key: SM2PrivateKey

    @property
    def algorithm(self) -> SignatureAlgorithm:
        from .algorithms import SignatureAlgorithm  # deferred: ca.algorithms imports this module

        return SignatureAlgorithm.SM2_SM3

    def public_key(self) -> SM2PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def __repr__(self) -> str:
        return "SM2Signer(algorithm=sm2-sm3)"


def sm2_verify(public_key: SM2PublicKey, message: bytes, signature: bytes, *, uid: bytes = DEFAULT_ID) -> bool:
    """Verify an SM2-with-SM3 signature (GB/T 32918.2 §7); see :meth:`SM2PublicKey.verify`."""
    return public_key.verify(signature, message, uid=uid)


# --------------------------------------------------------------------------------------------------
# Backends


class SM2Backend(ABC):
    """One implementation of the SM2 curve arithmetic. Encodings and range checks are shared."""

    name: str

    def sign(self, key: SM2PrivateKey, message: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        """DER ``SEQUENCE {r, s}`` over e = SM3(Z_A ‖ M) with a fresh CSPRNG nonce (GB/T 32918.2 §6.1)."""
        _check_uid(uid)
        der = self._sign(key, bytes(message), bytes(uid))
        r, s = decode_signature(der)  # never hand out a signature outside [1, n-1] or non-canonical
        return encode_signature(r, s)

    def verify(self, key: SM2PublicKey, message: bytes, signature: bytes, *, uid: bytes = DEFAULT_ID) -> bool:
        """True when ``signature`` (DER or raw r‖s) is a valid SM2-with-SM3 signature (GB/T 32918.2 §7.1)."""
        _check_uid(uid)
        try:
            r, s = decode_signature(signature)  # B1, B2: r, s ∈ [1, n−1]
        except SM2Error:
            return False
        if (r + s) % N == 0:  # B5: t = (r + s) mod n must not be 0
            return False
        return self._verify(key, bytes(message), r, s, bytes(uid))

    @abstractmethod
    def _sign(self, key: SM2PrivateKey, message: bytes, uid: bytes) -> bytes: ...

    @abstractmethod
    def _verify(self, key: SM2PublicKey, message: bytes, r: int, s: int, uid: bytes) -> bool: ...

    @abstractmethod
    def _public_point(self, d: int) -> bytes:
        """``04 ‖ X ‖ Y`` of [d]G."""

    @abstractmethod
    def _generate(self) -> SM2PrivateKey: ...

    def __repr__(self) -> str:
        return f"SM2Backend({self.name})"


class _GmsslBackend(SM2Backend):
    """SM2 through the pure-Python ``gmssl`` 3.2.2 package (duanhongyi/gmssl), used only safely.

    Its traps (reference/cn-standards.md §4.5) and what this wrapper does about each:

    1. ``sign``/``sign_with_sm3`` draw the nonce k from ``random.choice`` (Mersenne Twister, not a
       CSPRNG: a few signatures reveal the private key) unless K is given → we always pass K from
       :mod:`secrets`, uniform in [1, n−1], and never call ``sign_with_sm3``, ``encrypt`` or
       ``func.random_hex``.
    2. Its constructor strips a leading ``04`` from the public key with ``str.lstrip("04")``, which
       also eats any following ``0``/``4`` hex digits — and it does so for a bare ``X‖Y`` whose X
       happens to start with ``04`` as well → we set ``public_key`` on the object after construction,
       always the 128-hex-digit ``X‖Y``.
    3. ``verify`` does not check that r and s lie in [1, n−1] and crashes (``TypeError``) when the
       sum point is at infinity → the shared :meth:`SM2Backend.verify` checks the ranges and t ≠ 0
       first, and any exception from gmssl is a failed verification.
    4. It hashes with its own pure-Python SM3 (slow for large messages) and hard-codes the ID → we
       compute e = SM3(Z_A ‖ M) with cryptography's SM3 (:meth:`SM2PublicKey.z_digest`) and hand
       gmssl only e, through its ``sign(e, K)``/``verify(sig, e)`` primitives.
    5. It returns ``None`` instead of a signature when r = 0, r + k = n or s = 0 → we draw a new k.
    6. Its DER option uses pycryptodome's lenient decoder → we encode and decode DER ourselves.
    """

    name = "gmssl"

    def __init__(self) -> None:
        from gmssl import sm2 as gmssl_sm2

        self._module = gmssl_sm2

    def _crypt(self, point: bytes, d: int | None = None) -> Any:
        xy = point[1:].hex()
        crypt = self._module.CryptSM2(private_key="" if d is None else f"{d:064x}", public_key=xy)
        crypt.public_key = xy  # trap 2: undo the constructor's lstrip("04")
        return crypt

    @staticmethod
    def _e(point: SM2PublicKey, message: bytes, uid: bytes) -> bytes:
        return _sm3(point.z_digest(uid=uid), message)  # GB/T 32918.2 §6.1 A1, A2

    def _sign(self, key: SM2PrivateKey, message: bytes, uid: bytes) -> bytes:
        public = key.public_key()
        e = self._e(public, message, uid)
        crypt = key._handles.get(self.name)
        if crypt is None:
            crypt = key._handles[self.name] = self._crypt(public.point, key._d)
        while True:
            k = secrets.randbelow(N - 1) + 1  # trap 1: GB/T 32918.2 §6.1 A3, k ∈ [1, n−1] from a CSPRNG
            result = crypt.sign(e, f"{k:064x}")
            if result is not None:  # trap 5
                r, s = int(result[:64], 16), int(result[64:128], 16)
                return encode_signature(r, s)

    def _verify(self, key: SM2PublicKey, message: bytes, r: int, s: int, uid: bytes) -> bool:
        e = self._e(key, message, uid)
        crypt = key._handles.get(self.name)
        if crypt is None:
            crypt = key._handles[self.name] = self._crypt(key.point)
        try:
            return bool(crypt.verify(f"{r:064x}{s:064x}", e))
        except (TypeError, ValueError, IndexError):  # trap 3: gmssl raises on a sum point at infinity
            return False

    def _public_point(self, d: int) -> bytes:
        generator = f"{GX:064x}{GY:064x}"
        xy = self._crypt(b"\x04" + bytes(64))._kg(d, generator)
        return b"\x04" + bytes.fromhex(xy)

    def _generate(self) -> SM2PrivateKey:
        return SM2PrivateKey(private_value=secrets.randbelow(N - 2) + 1)  # d ∈ [1, n−2], GB/T 32918.1 §6.1


# OpenSSL 3 constants (include/openssl/core_dispatch.h, evp.h).
_OSSL_KEYMGMT_SELECT_KEYPAIR = 0x87  # EVP_PKEY_KEYPAIR
_SIGNATURE_BUFFER = 80  # EVP_PKEY_get_size() of an SM2 key is 72
_OPENSSL_3 = 0x30000000


class _LibCrypto:
    """The few libcrypto 3 functions the openssl backend calls, with their C signatures."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        vp, cp, i, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t

        def bind(name: str, restype: Any, *argtypes: Any) -> Any:
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = list(argtypes)
            return function

        self.ERR_clear_error = bind("ERR_clear_error", None)
        self.EVP_sm3 = bind("EVP_sm3", vp)
        self.EVP_MD_CTX_new = bind("EVP_MD_CTX_new", vp)
        self.EVP_MD_CTX_free = bind("EVP_MD_CTX_free", None, vp)
        self.EVP_DigestSignInit = bind("EVP_DigestSignInit", i, vp, ctypes.POINTER(vp), vp, vp, vp)
        self.EVP_DigestSign = bind("EVP_DigestSign", i, vp, cp, ctypes.POINTER(sz), cp, sz)
        self.EVP_DigestVerifyInit = bind("EVP_DigestVerifyInit", i, vp, ctypes.POINTER(vp), vp, vp, vp)
        self.EVP_DigestVerify = bind("EVP_DigestVerify", i, vp, cp, sz, cp, sz)
        self.EVP_PKEY_CTX_set1_id = bind("EVP_PKEY_CTX_set1_id", i, vp, cp, i)
        self.EVP_PKEY_CTX_new_from_name = bind("EVP_PKEY_CTX_new_from_name", vp, vp, cp, cp)
        self.EVP_PKEY_CTX_free = bind("EVP_PKEY_CTX_free", None, vp)
        self.EVP_PKEY_keygen_init = bind("EVP_PKEY_keygen_init", i, vp)
        self.EVP_PKEY_generate = bind("EVP_PKEY_generate", i, vp, ctypes.POINTER(vp))
        self.EVP_PKEY_get_bn_param = bind("EVP_PKEY_get_bn_param", i, vp, cp, ctypes.POINTER(vp))
        self.EVP_PKEY_get_octet_string_param = bind(
            "EVP_PKEY_get_octet_string_param", i, vp, cp, cp, sz, ctypes.POINTER(sz)
        )
        self.EVP_PKEY_is_a = bind("EVP_PKEY_is_a", i, vp, cp)
        self.EVP_PKEY_free = bind("EVP_PKEY_free", None, vp)
        self.d2i_PUBKEY = bind("d2i_PUBKEY", vp, vp, ctypes.POINTER(cp), ctypes.c_long)
        self.d2i_AutoPrivateKey = bind("d2i_AutoPrivateKey", vp, vp, ctypes.POINTER(cp), ctypes.c_long)
        self.BN_bn2binpad = bind("BN_bn2binpad", i, vp, cp, i)
        self.BN_clear_free = bind("BN_clear_free", None, vp)


class _EvpPkey:
    """Owns one ``EVP_PKEY *``; frees it when the Python object goes (also at interpreter exit)."""

    __slots__ = ("__weakref__", "pointer")

    def __init__(self, lib: _LibCrypto, pointer: int) -> None:
        self.pointer = pointer
        finalizer = weakref.finalize(self, lib.EVP_PKEY_free, pointer)
        finalizer.atexit = False  # at exit the OS reclaims it; no call into a library being torn down

    def __reduce__(self) -> NoReturn:
        raise TypeError("native key handles cannot be copied")


class _OpensslBackend(SM2Backend):
    """SM2 through the system's OpenSSL 3 libcrypto (its ``crypto/sm2`` and SM2 signature provider).

    Keys are handed over as DER (SubjectPublicKeyInfo, PKCS #8), which libcrypto 3 decodes as
    ``SM2`` keys when the curve is sm2p256v1 (checked with ``EVP_PKEY_is_a``); the parsed
    ``EVP_PKEY`` is cached on the key object. Each operation builds and frees its own
    ``EVP_MD_CTX``, so one key can be used from many threads (ctypes releases the GIL).
    """

    name = "openssl"

    def __init__(self, lib: _LibCrypto) -> None:
        self._lib = lib
        sm3 = lib.EVP_sm3()
        if not sm3:
            raise SM2Error("libcrypto has no SM3")
        self._sm3 = sm3

    def _fail(self, what: str) -> NoReturn:
        self._lib.ERR_clear_error()  # leave no stale error on this thread's queue
        raise SM2Error(f"OpenSSL SM2 operation failed: {what}")

    def _load(self, der: bytes, *, private: bool) -> _EvpPkey:
        lib = self._lib
        cursor = ctypes.c_char_p(der)
        decode = lib.d2i_AutoPrivateKey if private else lib.d2i_PUBKEY
        pointer = decode(None, ctypes.byref(cursor), len(der))
        if not pointer:
            self._fail("key not decoded")
        handle = _EvpPkey(lib, pointer)  # owns the pointer from here on
        # The decoders may queue errors from the formats they tried first; libcrypto is shared with
        # Python's ssl and hashlib modules, so leave the queue empty.
        lib.ERR_clear_error()
        if lib.EVP_PKEY_is_a(pointer, b"SM2") != 1:
            self._fail("libcrypto did not decode the key as an SM2 key")
        return handle

    def _public_handle(self, key: SM2PublicKey) -> _EvpPkey:
        handle = key._handles.get(self.name)
        if not isinstance(handle, _EvpPkey):
            handle = self._load(key.to_spki_der(), private=False)
            key._handles[self.name] = handle
        return handle

    def _private_handle(self, key: SM2PrivateKey) -> _EvpPkey:
        handle = key._handles.get(self.name)
        if not isinstance(handle, _EvpPkey):
            handle = self._load(key.to_pkcs8_der(), private=True)
            key._handles[self.name] = handle
        return handle

    def _sign(self, key: SM2PrivateKey, message: bytes, uid: bytes) -> bytes:
        lib, handle = self._lib, self._private_handle(key)
        md_ctx = lib.EVP_MD_CTX_new()
        if not md_ctx:
            self._fail("EVP_MD_CTX_new")
        try:
            pkey_ctx = ctypes.c_void_p()  # owned by md_ctx
            if lib.EVP_DigestSignInit(md_ctx, ctypes.byref(pkey_ctx), self._sm3, None, handle.pointer) != 1:
                self._fail("EVP_DigestSignInit")
            # GB/T 32918.2 §5.5: the ID enters Z_A. Set explicitly, whatever libcrypto's default.
            if lib.EVP_PKEY_CTX_set1_id(pkey_ctx, uid, len(uid)) != 1:
                self._fail("EVP_PKEY_CTX_set1_id")
            buffer = ctypes.create_string_buffer(_SIGNATURE_BUFFER)
            length = ctypes.c_size_t(_SIGNATURE_BUFFER)
            if lib.EVP_DigestSign(md_ctx, buffer, ctypes.byref(length), message, len(message)) != 1:
                self._fail("EVP_DigestSign")
            return buffer.raw[: length.value]
        finally:
            lib.EVP_MD_CTX_free(md_ctx)

    def _verify(self, key: SM2PublicKey, message: bytes, r: int, s: int, uid: bytes) -> bool:
        lib, handle = self._lib, self._public_handle(key)
        der = encode_signature(r, s)
        md_ctx = lib.EVP_MD_CTX_new()
        if not md_ctx:
            self._fail("EVP_MD_CTX_new")
        try:
            pkey_ctx = ctypes.c_void_p()
            if lib.EVP_DigestVerifyInit(md_ctx, ctypes.byref(pkey_ctx), self._sm3, None, handle.pointer) != 1:
                self._fail("EVP_DigestVerifyInit")
            if lib.EVP_PKEY_CTX_set1_id(pkey_ctx, uid, len(uid)) != 1:
                self._fail("EVP_PKEY_CTX_set1_id")
            result = lib.EVP_DigestVerify(md_ctx, der, len(der), message, len(message))
            if result != 1:
                lib.ERR_clear_error()  # 0 = wrong signature, < 0 = could not evaluate: both are "no"
            return bool(result == 1)
        finally:
            lib.EVP_MD_CTX_free(md_ctx)

    def _public_point(self, d: int) -> bytes:
        # d2i_ECPrivateKey computes [d]G when the ECPrivateKey carries no public key (RFC 5915 §3).
        handle = self._load(_pkcs8(d, None), private=True)
        return self._octets(handle, b"pub", 1 + 2 * _COORDINATE_BYTES)

    def _octets(self, handle: _EvpPkey, name: bytes, size: int) -> bytes:
        buffer = ctypes.create_string_buffer(size)
        length = ctypes.c_size_t(0)
        if (
            self._lib.EVP_PKEY_get_octet_string_param(handle.pointer, name, buffer, size, ctypes.byref(length)) != 1
            or length.value != size
        ):
            self._fail(f"EVP_PKEY_get_octet_string_param({name.decode()})")
        return buffer.raw

    def _generate(self) -> SM2PrivateKey:
        lib = self._lib
        ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            self._fail("EVP_PKEY_CTX_new_from_name(SM2)")
        try:
            raw = ctypes.c_void_p()
            if lib.EVP_PKEY_keygen_init(ctx) != 1 or lib.EVP_PKEY_generate(ctx, ctypes.byref(raw)) != 1 or not raw:
                self._fail("EVP_PKEY_generate")
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        handle = _EvpPkey(lib, int(raw.value or 0))
        point = self._octets(handle, b"pub", 1 + 2 * _COORDINATE_BYTES)
        bn = ctypes.c_void_p()
        if lib.EVP_PKEY_get_bn_param(handle.pointer, b"priv", ctypes.byref(bn)) != 1 or not bn:
            self._fail("EVP_PKEY_get_bn_param(priv)")
        try:
            scalar = ctypes.create_string_buffer(_COORDINATE_BYTES)
            if lib.BN_bn2binpad(bn, scalar, _COORDINATE_BYTES) != _COORDINATE_BYTES:
                self._fail("BN_bn2binpad")
            d = int.from_bytes(scalar.raw, "big")
            ctypes.memset(scalar, 0, _COORDINATE_BYTES)
        finally:
            lib.BN_clear_free(bn)
        if not 1 <= d <= N - 2:  # GB/T 32918.1 §6.1; probability ~2^-256, but never hand it out
            return self._generate()
        key = SM2PrivateKey(private_value=d, public_key=SM2PublicKey(point))
        key._handles[self.name] = handle
        return key


def _load_openssl() -> _OpensslBackend | None:
    """The openssl backend, or ``None`` when no OpenSSL ≥ 3.0 libcrypto is installed."""
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        version = lib.OpenSSL_version_num
        version.restype = ctypes.c_ulong
        version.argtypes = []
        if int(version()) < _OPENSSL_3:
            return None
        return _OpensslBackend(_LibCrypto(lib))
    except (OSError, AttributeError, SM2Error):
        return None  # a missing symbol means an older or unusual libcrypto: not available


_BACKEND_ORDER = ("openssl", "gmssl")  # fastest first
_backends: dict[str, SM2Backend | None] = {}
_backends_lock = threading.Lock()


def _backend(name: str) -> SM2Backend | None:
    with _backends_lock:
        if name not in _backends:
            backend: SM2Backend | None
            if name == "openssl":
                backend = _load_openssl()
            else:
                try:
                    backend = _GmsslBackend()
                except ImportError:
                    backend = None
            _backends[name] = backend
        return _backends[name]


def available_backends() -> tuple[str, ...]:
    """Names of the SM2 backends that work on this machine, fastest first."""
    return tuple(name for name in _BACKEND_ORDER if _backend(name) is not None)


def get_backend(name: str | None = None) -> SM2Backend:
    """The backend called ``name``, or (``None``) the one ``YINXIN_SM2_BACKEND`` forces, else the fastest.

    Raises :class:`SM2Error` when the named or forced backend is unknown or unavailable, or none is.
    """
    requested = name if name is not None else os.environ.get(_ENV_BACKEND, "").strip().lower() or None
    if requested is not None:
        if requested not in _BACKEND_ORDER:
            raise SM2Error(f"unknown SM2 backend {requested!r}; choose one of: {', '.join(_BACKEND_ORDER)}")
        backend = _backend(requested)
        if backend is None:
            raise SM2Error(f"the SM2 backend {requested!r} is not available on this machine")
        return backend
    for candidate in _BACKEND_ORDER:
        backend = _backend(candidate)
        if backend is not None:
            return backend
    raise SM2Error("no SM2 backend is available (install OpenSSL 3 libcrypto or the gmssl package)")


def backend_name() -> str:
    """``"openssl"`` (libcrypto 3 through ctypes) or ``"gmssl"`` (pure-Python fallback): the one in use."""
    return get_backend().name
