"""Algorithm-agile signing: one :class:`KeySigner` protocol, whatever holds the key.

A signer produces the signature format its algorithm's standards expect:
ECDSA → DER ``SEQUENCE {r, s}`` (RFC 5480 / X9.62), Ed25519 → 64 raw bytes (RFC 8032),
RSA → PKCS #1 v1.5, SM2 → DER ``SEQUENCE {r, s}`` over SM3 with Z from the default ID
(GB/T 32918.2, GB/T 35276). Callers that need another encoding (COSE's raw ``r‖s``, RFC 9053 §2.1)
convert it themselves.

cryptography has no SM2 key type, so SM2 keys are :class:`ca.sm2.SM2PrivateKey` /
:class:`ca.sm2.SM2PublicKey` and sign through :class:`ca.sm2.SM2Signer` (or a
:class:`SoftwareSigner` holding an SM2 key, which delegates to it). The key stores of ``seal_keys``
return objects of this protocol.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from .errors import UnsupportedAlgorithmError
from .sm2 import SM2PrivateKey, SM2PublicKey


class SignatureAlgorithm(enum.Enum):
    """Signature algorithms Yinxin can use for CA, seal and credential keys."""

    ECDSA_P256_SHA256 = "ecdsa-p256-sha256"
    ED25519 = "ed25519"
    RSA2048_SHA256 = "rsa2048-sha256"
    SM2_SM3 = "sm2-sm3"
    """SM2 with SM3 and the default ID (GB/T 32918.2, GB/T 35276)."""

    @classmethod
    def parse(cls, name: str) -> SignatureAlgorithm:
        """Map a user-facing name (``ecdsa-p256``, ``p256``, ``ed25519``, ``rsa``, ``sm2``) to an algorithm."""
        aliases = {
            "ecdsa-p256-sha256": cls.ECDSA_P256_SHA256,
            "ecdsa-p256": cls.ECDSA_P256_SHA256,
            "p256": cls.ECDSA_P256_SHA256,
            "es256": cls.ECDSA_P256_SHA256,
            "ed25519": cls.ED25519,
            "rsa": cls.RSA2048_SHA256,
            "rsa2048-sha256": cls.RSA2048_SHA256,
            "sm2": cls.SM2_SM3,
            "sm2-sm3": cls.SM2_SM3,
            "sm2sm3": cls.SM2_SM3,
        }
        try:
            return aliases[name.strip().lower()]
        except KeyError:
            raise UnsupportedAlgorithmError(
                f"unsupported algorithm {name!r}; choose one of: ecdsa-p256, ed25519, rsa, sm2"
            ) from None


@runtime_checkable
class KeySigner(Protocol):
    """Something that signs with one private key it does not reveal."""

    @property
    def algorithm(self) -> SignatureAlgorithm:
        """The signature algorithm this key signs with."""

    def public_key(self) -> PublicKeyTypes | SM2PublicKey:
        """The matching public key."""

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (the hash is computed inside, per the algorithm)."""


def generate_private_key(algorithm: SignatureAlgorithm) -> PrivateKeyTypes | SM2PrivateKey:
    """Generate a fresh private key for ``algorithm`` from the OS CSPRNG."""
    if algorithm is SignatureAlgorithm.ECDSA_P256_SHA256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm is SignatureAlgorithm.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm is SignatureAlgorithm.RSA2048_SHA256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm is SignatureAlgorithm.SM2_SM3:
        return SM2PrivateKey.generate()
    raise UnsupportedAlgorithmError(f"unsupported algorithm {algorithm!r}")


def algorithm_of(key: PrivateKeyTypes | PublicKeyTypes | SM2PrivateKey | SM2PublicKey) -> SignatureAlgorithm:
    """The signature algorithm a key is used with; unknown key types fail closed."""
    if isinstance(key, SM2PrivateKey | SM2PublicKey):
        return SignatureAlgorithm.SM2_SM3
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return SignatureAlgorithm.ECDSA_P256_SHA256
    elif isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return SignatureAlgorithm.ED25519
    elif isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return SignatureAlgorithm.RSA2048_SHA256
    raise UnsupportedAlgorithmError(f"unsupported key type {type(key).__name__}")


def certificate_hash(algorithm: SignatureAlgorithm) -> hashes.HashAlgorithm | None:
    """The hash used when this algorithm signs certificates (``None`` for Ed25519, RFC 8410).

    SM2 raises: cryptography cannot sign SM2 certificates; ``ca.gm_x509`` builds them (GB/T 20518).
    """
    if algorithm is SignatureAlgorithm.SM2_SM3:
        raise UnsupportedAlgorithmError("cryptography cannot sign SM2 certificates; use ca.gm_x509")
    return None if algorithm is SignatureAlgorithm.ED25519 else hashes.SHA256()


@dataclass(frozen=True, repr=False)
class SoftwareSigner:
    """A :class:`KeySigner` over a private key held in process memory.

    An SM2 key signs as :class:`ca.sm2.SM2Signer` does. ``repr`` is disabled so the key never
    reaches a log line or a traceback.
    """

    private_key: PrivateKeyTypes | SM2PrivateKey

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return algorithm_of(self.private_key)

    def public_key(self) -> PublicKeyTypes | SM2PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, SM2PrivateKey):
            return key.sign(data)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        raise UnsupportedAlgorithmError(f"unsupported key type {type(key).__name__}")

    def __repr__(self) -> str:
        return f"SoftwareSigner(algorithm={self.algorithm.value})"
