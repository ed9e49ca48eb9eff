"""Verification: QR credentials and sealed PDFs, against trust anchors and licence status.

Verifiers return a :class:`VerificationResult` (verdict + checks); they raise only when the input
cannot be evaluated at all. Knows nothing of HTTP, databases or the CLI.
"""

from .errors import InputTooLargeError, MalformedInputError, TrustConfigurationError, VerificationError
from .pdf import verify_pdf
from .ports import LicenseStatusSource, StatusUnavailableError
from .qr import OfflineVerifier, verify_offline, verify_qr
from .result import Check, CheckOutcome, Verdict, VerificationResult, verdict_of
from .trust import TrustStore

__all__ = [
    "Check",
    "CheckOutcome",
    "InputTooLargeError",
    "LicenseStatusSource",
    "MalformedInputError",
    "OfflineVerifier",
    "StatusUnavailableError",
    "TrustConfigurationError",
    "TrustStore",
    "Verdict",
    "VerificationError",
    "VerificationResult",
    "verdict_of",
    "verify_offline",
    "verify_pdf",
    "verify_qr",
]
