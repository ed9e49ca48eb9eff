"""Errors of the seal_keys package. One root, :class:`SealKeyError`."""

from __future__ import annotations


class SealKeyError(Exception):
    """Root of every error the ``seal_keys`` package raises."""

    code = "seal_key_error"

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class KeyNotFoundError(SealKeyError):
    """The key store holds no key under that identifier."""

    code = "key_not_found"


class WrongPassphraseError(SealKeyError):
    """The passphrase does not open the key store (or a key file was altered)."""

    code = "wrong_passphrase"


class KeyStoreError(SealKeyError):
    """The key store cannot be used (missing passphrase, unreadable directory, damaged file)."""

    code = "keystore_error"


class SealImageError(SealKeyError):
    """A seal image could not be drawn (no CJK font, empty name)."""

    code = "seal_image_error"
