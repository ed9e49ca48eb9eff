"""Errors raised by the PKI core. One root, :class:`CAError`."""

from __future__ import annotations


class CAError(Exception):
    """Root of every error the ``ca`` package raises.

    ``code`` is stable and machine-readable; ``public_message`` is safe to show to a client.
    Internal detail travels in the chained cause, never in the message.
    """

    code = "ca_error"

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class UnsupportedAlgorithmError(CAError):
    """The requested signature algorithm is not implemented (fail closed)."""

    code = "unsupported_algorithm"


class KeyDecryptionError(CAError):
    """A private key could not be decrypted: wrong passphrase or damaged file."""

    code = "key_decryption_failed"


class ProfileError(CAError):
    """A certificate request does not satisfy its profile."""

    code = "profile_violation"
