"""Seal keys: the encrypted key store, seals (key + certificate + image) and seal images.

Knows nothing of HTTP, databases or the CLI.
"""

from .errors import KeyNotFoundError, KeyStoreError, SealImageError, SealKeyError, WrongPassphraseError
from .image import CjkFont, SealImage, draw_name_seal, draw_round_seal, find_cjk_font
from .keystore import KeyStore, SoftwareKeyStore
from .seal import Department, Seal, SealType, make_seal

__all__ = [
    "CjkFont",
    "Department",
    "KeyNotFoundError",
    "KeyStore",
    "KeyStoreError",
    "Seal",
    "SealImage",
    "SealImageError",
    "SealKeyError",
    "SealType",
    "SoftwareKeyStore",
    "WrongPassphraseError",
    "draw_name_seal",
    "draw_round_seal",
    "find_cjk_font",
    "make_seal",
]
