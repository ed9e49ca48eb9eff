"""PKI core: algorithms (SM2 among them), the CA hierarchy and certificate profiles.

Knows nothing of HTTP, databases or the CLI; callers pass keys, certificates and the time.
"""

from .algorithms import KeySigner, SignatureAlgorithm, SoftwareSigner, algorithm_of, generate_private_key
from .authority import CertificateAuthority, create_issuing_ca, create_root_certificate
from .errors import CAError, KeyDecryptionError, ProfileError, UnsupportedAlgorithmError
from .profiles import (
    ISSUING_CA_PROFILE,
    ROOT_CA_PROFILE,
    SEAL_MAKER_PROFILE,
    SEAL_PROFILE,
    CertificateKind,
    CertificateProfile,
    organisation_name,
)
from .sm2 import DEFAULT_ID, SM2Error, SM2PrivateKey, SM2PublicKey, SM2Signer, sm2_verify

__all__ = [
    "DEFAULT_ID",
    "ISSUING_CA_PROFILE",
    "ROOT_CA_PROFILE",
    "SEAL_MAKER_PROFILE",
    "SEAL_PROFILE",
    "CAError",
    "CertificateAuthority",
    "CertificateKind",
    "CertificateProfile",
    "KeyDecryptionError",
    "KeySigner",
    "ProfileError",
    "SM2Error",
    "SM2PrivateKey",
    "SM2PublicKey",
    "SM2Signer",
    "SignatureAlgorithm",
    "SoftwareSigner",
    "UnsupportedAlgorithmError",
    "algorithm_of",
    "create_issuing_ca",
    "create_root_certificate",
    "generate_private_key",
    "organisation_name",
    "sm2_verify",
]
