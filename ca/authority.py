"""The certificate authority: a root CA and an issuing CA that certifies seal keys (RFC 5280).

The authority holds no storage and reads no clock: the caller passes the signing key
(any :class:`~ca.algorithms.KeySigner`), the CA certificate and the time of issue.

SM2 hierarchies (GB/T 20518) go through the same functions: cryptography cannot build SM2
certificates, so :mod:`ca.gm_x509` builds them and the result is loaded back as a cryptography
:class:`~cryptography.x509.Certificate`. Such a certificate reads normally (names, serial,
validity, extensions) except ``public_key()``, which raises; use :func:`public_key_der` instead.
An SM2 CA certifies SM2 keys only, and only an SM2 CA certifies SM2 keys.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import NameOID

from .algorithms import KeySigner, SignatureAlgorithm, SoftwareSigner, certificate_hash
from .errors import CAError, UnsupportedAlgorithmError
from .profiles import (
    ISSUING_CA_PROFILE,
    ROOT_CA_PROFILE,
    CertificateProfile,
)
from .sm2 import SM2PublicKey

# Backdate notBefore a little so a verifier whose clock lags slightly still accepts a fresh certificate.
CLOCK_SKEW = timedelta(minutes=5)


def _require_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise CAError("time of issue must be timezone-aware UTC")
    return now.astimezone(UTC)


def validity_window(
    *, profile: CertificateProfile, now: datetime, not_after: datetime | None, issuer_not_after: datetime | None
) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) of a certificate issued at ``now`` under ``profile`` (RFC 5280 §4.1.2.5).

    notBefore is backdated by :data:`CLOCK_SKEW`; notAfter is the profile's validity, cut to the
    requested ``not_after`` and, in the shell model, to the issuer's own notAfter.
    """
    now = _require_utc(now)
    not_before = now - CLOCK_SKEW
    end = now + profile.validity
    if not_after is not None:
        end = min(end, not_after)
    if issuer_not_after is not None:
        # The shell model (RFC 5280 §6 in practice): nothing outlives its issuer.
        end = min(end, issuer_not_after)
    return not_before, end


def certificate_kid(certificate: x509.Certificate) -> bytes:
    """The COSE ``kid`` of a signer certificate: the first 8 bytes of SHA-256 over its DER (HCERT §3.3.1).

    Not unique: a verifier tries every certificate with a matching kid.
    """
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


def organization_identifier(certificate: x509.Certificate) -> str | None:
    """The subject's organizationIdentifier (X.520 2.5.4.97): a department's 统一社会信用代码 in our profiles."""
    values = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    return str(values[0].value) if values else None


def public_key_der(certificate: x509.Certificate) -> bytes:
    """The certificate's SubjectPublicKeyInfo, DER as it appears in the certificate (RFC 5280 §4.1.2.7).

    Works for every key type, SM2 included, because it never calls ``certificate.public_key()``
    (which raises for SM2 keys: cryptography has no SM2 curve).
    """
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    der: bytes = parsed["tbs_certificate"]["subject_public_key_info"].dump()
    return der


def _key_der(key: PublicKeyTypes | SM2PublicKey) -> bytes:
    # SubjectPublicKeyInfo DER of a public key, whatever its type, to compare keys with certificates.
    if isinstance(key, SM2PublicKey):
        return key.to_spki_der()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _issuer_key(signer: KeySigner) -> CertificateIssuerPrivateKeyTypes:
    # cryptography's builders sign only with its own key objects; a key store that keeps the key
    # elsewhere (PKCS #11) supplies one through a private-key subclass, see seal_keys.
    if isinstance(signer, SoftwareSigner):
        key = signer.private_key
        return key  # type: ignore[return-value]
    raise UnsupportedAlgorithmError(f"cannot sign certificates with {type(signer).__name__}")


def _public_key(key: PublicKeyTypes | SM2PublicKey) -> CertificatePublicKeyTypes:
    # Every key type ca.algorithms generates is a certificate public key type, except SM2, which
    # cryptography cannot put in a certificate (GB/T 20518 certificates come from ca.gm_x509).
    if isinstance(key, SM2PublicKey):
        raise UnsupportedAlgorithmError("cryptography cannot build SM2 certificates; use ca.gm_x509")
    return cast(CertificatePublicKeyTypes, key)


def _build(
    *,
    profile: CertificateProfile,
    subject: x509.Name,
    subject_key: PublicKeyTypes | SM2PublicKey,
    issuer_name: x509.Name,
    issuer_signer: KeySigner,
    issuer_certificate: x509.Certificate | None,
    now: datetime,
    not_after: datetime | None,
) -> x509.Certificate:
    signer_is_sm2 = issuer_signer.algorithm is SignatureAlgorithm.SM2_SM3
    if signer_is_sm2 != isinstance(subject_key, SM2PublicKey):
        raise CAError(
            "mixed hierarchy refused: an SM2 CA certifies only SM2 keys, and only an SM2 CA certifies SM2 keys"
        )
    if isinstance(subject_key, SM2PublicKey):
        # GB/T 20518 certificates: built with asn1crypto, since cryptography has no SM2.
        from . import gm_x509  # imported here: gm_x509 itself builds on this module

        der = gm_x509.build_certificate(
            profile=profile,
            subject=subject,
            public_key=subject_key,
            signer=issuer_signer,
            issuer_certificate=issuer_certificate,
            now=now,
            not_after=not_after,
        )
        return x509.load_der_x509_certificate(der)
    not_before, end = validity_window(
        profile=profile,
        now=now,
        not_after=not_after,
        issuer_not_after=None if issuer_certificate is None else issuer_certificate.not_valid_after_utc,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(_public_key(subject_key))
        # RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 random bits (CA/B BR §7.1 asks ≥ 64).
        .serial_number(secrets.randbits(159) | 1 << 158)
        .not_valid_before(not_before)
        .not_valid_after(end)
        .add_extension(
            x509.BasicConstraints(ca=profile.is_ca, path_length=profile.path_length), critical=True
        )
        .add_extension(profile.key_usage_extension(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(_public_key(subject_key)), critical=False)
    )
    if issuer_certificate is not None:
        ski = issuer_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                x509.SubjectKeyIdentifier.from_public_key(_public_key(subject_key))
            ),
            critical=False,
        )
    digest = cast(hashes.SHA256 | None, certificate_hash(issuer_signer.algorithm))
    return builder.sign(_issuer_key(issuer_signer), digest)


def create_root_certificate(*, signer: KeySigner, subject: x509.Name, now: datetime) -> x509.Certificate:
    """Self-sign a root CA certificate with ``signer`` (RFC 5280 §6.1 trust anchor)."""
    return _build(
        profile=ROOT_CA_PROFILE,
        subject=subject,
        subject_key=signer.public_key(),
        issuer_name=subject,
        issuer_signer=signer,
        issuer_certificate=None,
        now=now,
        not_after=None,
    )


@dataclass(frozen=True, repr=False)
class CertificateAuthority:
    """A CA: its certificate and the signer for its key. Issues certificates under a profile."""

    certificate: x509.Certificate
    signer: KeySigner

    def __post_init__(self) -> None:
        # Compared as SPKI DER: certificate.public_key() raises for SM2 certificates.
        if public_key_der(self.certificate) != _key_der(self.signer.public_key()):
            raise CAError("the CA's key does not match its certificate")
        constraints = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca:
            raise CAError("the certificate is not a CA certificate")

    def issue(
        self,
        *,
        profile: CertificateProfile,
        subject: x509.Name,
        public_key: PublicKeyTypes | SM2PublicKey,
        now: datetime,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        """Issue a certificate for ``public_key`` under ``profile`` at time ``now``.

        An SM2 CA issues GB/T 20518 certificates for SM2 keys; any other pairing of CA and key
        algorithms that mixes SM2 with something else raises :class:`CAError`.
        """
        if now.astimezone(UTC) >= self.certificate.not_valid_after_utc:
            raise CAError("the CA certificate has expired")
        return _build(
            profile=profile,
            subject=subject,
            subject_key=public_key,
            issuer_name=self.certificate.subject,
            issuer_signer=self.signer,
            issuer_certificate=self.certificate,
            now=now,
            not_after=not_after,
        )

    def __repr__(self) -> str:
        return f"CertificateAuthority(subject={self.certificate.subject.rfc4514_string()!r})"


def create_issuing_ca(
    *, root: CertificateAuthority, signer: KeySigner, subject: x509.Name, now: datetime
) -> CertificateAuthority:
    """Certify ``signer``'s key as an issuing (subordinate) CA under ``root``."""
    certificate = root.issue(
        profile=ISSUING_CA_PROFILE, subject=subject, public_key=signer.public_key(), now=now
    )
    return CertificateAuthority(certificate=certificate, signer=signer)
