"""Privacy at rest: field encryption and the keyed blind index of holder codes.

Holder codes (公民身份号码, GB 11643; 统一社会信用代码, GB 32100), holder names, the licence's field
values, its QR text and its PDF are personal data. The registry stores them encrypted, so that a
copy or a plain-text dump of the database does not reveal them, and finds a holder's licences
through a *blind index*: a keyed hash of the holder code that can be matched for equality but not
reversed, and not brute-forced over the (small) space of ID numbers without the key.

Keys: one 32-byte master data key per home (kept by :meth:`seal_keys.keystore.SoftwareKeyStore.data_key`
under the passphrase). Two independent sub-keys are derived from it with HKDF-SHA256 (RFC 5869)
under distinct ``info`` labels, so the encryption key and the index key are never the same key:

- encryption: AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce per value (SP 800-38D
  §8.2.2: random nonces are safe for up to 2**32 encryptions under one key, far beyond a province's
  licence count). The associated data binds each value to its place (table, column, licence
  identifier), so a ciphertext moved to another row or column fails to decrypt;
- blind index: HMAC-SHA256 (RFC 2104) over ``code_type ":" normalised code``, as lower-case hex.

A token is ``version (1 byte, 0x01) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)``; the version
byte is authenticated too (it is prefixed to the associated data).

Everything here is done by ``cryptography`` (AESGCM, HKDF, HMAC); nothing is hand-rolled.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import DataKeyError, InvalidValueError

TOKEN_VERSION = 1
_VERSION_BYTE = bytes([TOKEN_VERSION])
NONCE_LENGTH = 12
TAG_LENGTH = 16
MASTER_KEY_LENGTH = 32
# 持证主体代码类型 (GB/T 36903 as used in practice): 111 公民身份号码, 001 统一社会信用代码.
HOLDER_CODE_TYPES = ("111", "001")

# HKDF-SHA256 info labels (RFC 5869 §3.2): one sub-key per purpose.
_ENCRYPTION_INFO = b"yinxin/registry/field-encryption/aes-256-gcm/v1"
_BLIND_INDEX_INFO = b"yinxin/registry/blind-index/hmac-sha256/v1"
_KEY_CHECK_INFO = b"yinxin/registry/key-check/v1"
_HKDF_SALT = b"yinxin registry data key"


def _subkey(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=info).derive(master_key)


def normalise_holder_code(value: str) -> str:
    """The form of a holder code that is indexed: no whitespace, upper case (``x`` → ``X``).

    The same normalisation as :func:`issuance.identifier.validate_resident_id` and
    :func:`issuance.identifier.validate_uscc` apply, so a code typed with spaces or a lowercase
    ``x`` finds the stored licence.
    """
    return "".join(value.split()).upper()


def check_holder_code_type(code_type: str) -> None:
    """Raise :class:`~registry.errors.InvalidValueError` unless ``code_type`` is ``111`` or ``001``."""
    if code_type not in HOLDER_CODE_TYPES:
        raise InvalidValueError(
            "holder_code_type: must be 111 (公民身份号码) or 001 (统一社会信用代码)"
        )


class FieldCipher:
    """Encrypts registry fields and computes blind indexes, from one 32-byte master data key.

    ``encrypt``/``decrypt`` take the associated data that binds a value to its place; ``decrypt``
    raises :class:`~registry.errors.DataKeyError` when the key is wrong, the token was altered or
    it was moved to another place. Instances are safe to share between threads. ``repr`` shows no key.
    """

    __slots__ = ("_aead", "_index_hmac", "_key_check")

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, bytes | bytearray) or len(master_key) != MASTER_KEY_LENGTH:
            raise InvalidValueError(f"the registry data key must be {MASTER_KEY_LENGTH} bytes")
        master = bytes(master_key)
        self._aead = AESGCM(_subkey(master, _ENCRYPTION_INFO))
        # Keyed once; each index works on a copy (HMAC's key schedule is not redone per value).
        self._index_hmac = hmac.new(_subkey(master, _BLIND_INDEX_INFO), digestmod=hashlib.sha256)
        self._key_check = _subkey(master, _KEY_CHECK_INFO).hex()

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"

    def __reduce__(self) -> tuple[object, ...]:
        # Never pickled (e.g. into a log or a worker's arguments): pass the key store instead.
        raise TypeError("FieldCipher holds a key and cannot be pickled")

    @property
    def key_check(self) -> str:
        """A value that identifies the master key without revealing it (HKDF output, hex).

        The registry stores it once, so a wrong key is reported as such instead of finding nothing.
        """
        return self._key_check

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> bytes:
        """AES-256-GCM encryption of ``plaintext`` bound to ``aad``; returns the token."""
        nonce = os.urandom(NONCE_LENGTH)
        return _VERSION_BYTE + nonce + self._aead.encrypt(nonce, plaintext, _VERSION_BYTE + aad)

    def decrypt(self, token: bytes, *, aad: bytes) -> bytes:
        """The plaintext of ``token``, checked against ``aad``.

        Raises :class:`~registry.errors.DataKeyError` if the token is not one of ours, the key is not
        the one it was made with, or the token or its place was altered.
        """
        token = bytes(token)
        if len(token) < 1 + NONCE_LENGTH + TAG_LENGTH or token[0] != TOKEN_VERSION:
            raise DataKeyError("an encrypted registry value is damaged or of an unknown version")
        try:
            return self._aead.decrypt(token[1 : 1 + NONCE_LENGTH], token[1 + NONCE_LENGTH :], token[:1] + aad)
        except InvalidTag:
            raise DataKeyError(
                "an encrypted registry value cannot be opened: the registry data key is not the one it was "
                "written with (wrong passphrase or key store), or the value was altered"
            ) from None

    def blind_index(self, value: str, *, code_type: str) -> str:
        """The keyed blind index (HMAC-SHA256 hex) of a holder code of type ``code_type``.

        Equal codes (after :func:`normalise_holder_code`) of the same type give equal indexes; the
        index reveals nothing about the code to anyone without the key.
        """
        check_holder_code_type(code_type)
        mac = self._index_hmac.copy()
        mac.update(f"{code_type}:{normalise_holder_code(value)}".encode())
        return mac.hexdigest()
