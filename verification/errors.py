"""Errors of the verification package. One root, :class:`VerificationError`.

A credential or document that fails a check is *not* an error: it is a
:class:`~verification.result.VerificationResult` with verdict INVALID. These exceptions mean the
input could not be evaluated at all (not a Yinxin QR text, not a PDF, too large, …).
"""

from __future__ import annotations


class VerificationError(Exception):
    """Root of every error the ``verification`` package raises."""

    code = "verification_error"

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class MalformedInputError(VerificationError):
    """The input is not something Yinxin can verify (wrong prefix, bad encoding, not a PDF)."""

    code = "malformed_input"


class InputTooLargeError(VerificationError):
    """The input exceeds a size limit (QR text length, decompressed size, upload size)."""

    code = "input_too_large"


class TrustConfigurationError(VerificationError):
    """No trust anchors were configured: fail closed rather than report VALID."""

    code = "no_trust_anchors"
