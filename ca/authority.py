"""The certificate authority: a root CA and an issuing CA that certifies seal keys (RFC 5280).

The authority holds no storage and reads no clock: the caller passes the signing key
(any :class:`~ca.algorithms.KeySigner`), the CA certificate and the time of issue.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PublicKeyTypes,
)

from .algorithms import KeySigner, SoftwareSigner, certificate_hash
from .errors import CAError, UnsupportedAlgorithmError
from .profiles import (
    ISSUING_CA_PROFILE,
    ROOT_CA_PROFILE,
    CertificateProfile,
)

# Backdate notBefore a little so a verifier whose clock lags slightly still accepts a fresh certificate.
CLOCK_SKEW = timedelta(minutes=5)


def _require_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise CAError("time of issue must be timezone-aware UTC")
    return now.astimezone(UTC)


def _issuer_key(signer: KeySigner) -> CertificateIssuerPrivateKeyTypes:
    # cryptography's builders sign only with its own key objects; a key store that keeps the key
    # elsewhere (PKCS #11) supplies one through a private-key subclass, see seal_keys.
    if isinstance(signer, SoftwareSigner):
        key = signer.private_key
        return key  # type: ignore[return-value]
    raise UnsupportedAlgorithmError(f"cannot sign certificates with {type(signer).__name__}")


def _public_key(key: PublicKeyTypes) -> CertificatePublicKeyTypes:
    # Every key type ca.algorithms generates is a certificate public key type.
    return cast(CertificatePublicKeyTypes, key)


def _build(
    *,
    profile: CertificateProfile,
    subject: x509.Name,
    subject_key: PublicKeyTypes,
    issuer_name: x509.Name,
    issuer_signer: KeySigner,
    issuer_certificate: x509.Certificate | None,
    now: datetime,
    not_after: datetime | None,
) -> x509.Certificate:
    now = _require_utc(now)
    not_before = now - CLOCK_SKEW
    end = now + profile.validity
    if not_after is not None:
        end = min(end, not_after)
    if issuer_certificate is not None:
        # The shell model (RFC 5280 §6 in practice): nothing outlives its issuer.
        end = min(end, issuer_certificate.not_valid_after_utc)
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
        if self.certificate.public_key() != self.signer.public_key():
            raise CAError("the CA's key does not match its certificate")
        constraints = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca:
            raise CAError("the certificate is not a CA certificate")

    def issue(
        self,
        *,
        profile: CertificateProfile,
        subject: x509.Name,
        public_key: PublicKeyTypes,
        now: datetime,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        """Issue a certificate for ``public_key`` under ``profile`` at time ``now``."""
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
