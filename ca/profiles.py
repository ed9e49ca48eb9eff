"""Certificate profiles (RFC 5280 §4.2): which extensions each kind of certificate carries.

Profiles are frozen data; :mod:`ca.authority` applies them. The seal profile follows the
practice of e-seal certificates for legal persons: keyUsage digitalSignature + nonRepudiation
(contentCommitment), subject with the organisation's name (O, CN) and its 统一社会信用代码
(GB 32100) in organizationIdentifier (X.520 2.5.4.97).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.x509.oid import NameOID

from .errors import ProfileError


class CertificateKind(enum.Enum):
    """The kinds of certificate the CA issues."""

    ROOT_CA = "root-ca"
    ISSUING_CA = "issuing-ca"
    SEAL = "seal"
    SEAL_MAKER = "seal-maker"


@dataclass(frozen=True)
class CertificateProfile:
    """What a certificate of one kind must contain (RFC 5280 §4.2.1)."""

    kind: CertificateKind
    validity: timedelta
    is_ca: bool
    path_length: int | None
    key_usage: frozenset[str]

    def __post_init__(self) -> None:
        if self.validity <= timedelta(0):
            raise ProfileError("certificate validity must be positive")
        if self.is_ca and "key_cert_sign" not in self.key_usage:
            raise ProfileError("a CA profile needs keyCertSign")
        if not self.is_ca and "key_cert_sign" in self.key_usage:
            raise ProfileError("an end-entity profile must not have keyCertSign")

    def key_usage_extension(self) -> x509.KeyUsage:
        """The keyUsage extension (RFC 5280 §4.2.1.3) for this profile."""
        names = (
            "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
            "key_agreement", "key_cert_sign", "crl_sign",
        )
        flags = {name: name in self.key_usage for name in names}
        return x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)


ROOT_CA_PROFILE = CertificateProfile(
    kind=CertificateKind.ROOT_CA,
    validity=timedelta(days=20 * 365),
    is_ca=True,
    path_length=1,
    key_usage=frozenset({"key_cert_sign", "crl_sign"}),
)
ISSUING_CA_PROFILE = CertificateProfile(
    kind=CertificateKind.ISSUING_CA,
    validity=timedelta(days=10 * 365),
    is_ca=True,
    path_length=0,
    key_usage=frozenset({"key_cert_sign", "crl_sign"}),
)
# digitalSignature + nonRepudiation (called contentCommitment in X.509 2005 and cryptography).
SEAL_PROFILE = CertificateProfile(
    kind=CertificateKind.SEAL,
    validity=timedelta(days=3 * 365),
    is_ca=False,
    path_length=None,
    key_usage=frozenset({"digital_signature", "content_commitment"}),
)


# The seal maker (制章者, GB/T 38540 §6): the authority's own signing certificate for SESeal structures.
# Not a CA certificate: GB/T 38540 verification checks the maker certificate's key usage for signing.
SEAL_MAKER_PROFILE = CertificateProfile(
    kind=CertificateKind.SEAL_MAKER,
    validity=timedelta(days=5 * 365),
    is_ca=False,
    path_length=None,
    key_usage=frozenset({"digital_signature", "content_commitment"}),
)


def organisation_name(*, organization: str, uscc: str | None = None, common_name: str | None = None,
                      country: str = "CN") -> x509.Name:
    """An X.501 name for an organisation: C, O, organizationIdentifier (its USCC), CN."""
    if not organization.strip():
        raise ProfileError("organisation name must not be empty")
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ]
    if uscc is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, uscc))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name or organization))
    return x509.Name(attributes)
