"""Key stores: where seal and CA private keys live. One :class:`KeyStore` protocol.

The software key store keeps every private key encrypted at rest: PKCS #8 DER sealed with
AES-256-GCM under a key derived from the passphrase by scrypt (RFC 7914), one random salt and
nonce per key, the key's identifier and algorithm bound in as associated data so files cannot be
swapped. We do not use cryptography's ``BestAvailableEncryption`` for PKCS #8 because its KDF and
cost cannot be chosen; scrypt at n=2**15 makes an offline guess of a stolen file expensive.

SM2 keys (GB/T 32918) sit in the same envelope: their PKCS #8 (id-ecPublicKey with curve
1.2.156.10197.1.301, RFC 5915 ECPrivateKey inside) as :class:`ca.SM2PrivateKey` writes it, and their
public key as a SubjectPublicKeyInfo PEM; cryptography cannot load either, so they are read with
:mod:`ca.sm2`.

Data keys (:meth:`SoftwareKeyStore.data_key`) sit in the same envelope under algorithm
``data-key-aes256``: 32 random bytes that the registry derives its field-encryption and blind-index
keys from (``registry.crypto``). They live in ``<name>.data-key.json`` files, apart from signing
keys, so :meth:`SoftwareKeyStore.key_ids` never lists them.

A PKCS #11 store (HSM) implements the same protocol in a later module.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from asn1crypto import pem
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ca import (
    CAError,
    KeySigner,
    SignatureAlgorithm,
    SM2PrivateKey,
    SM2PublicKey,
    SM2Signer,
    SoftwareSigner,
    algorithm_of,
    generate_private_key,
)

from .errors import KeyNotFoundError, KeyStoreError, WrongPassphraseError

FORMAT = "yinxin-key/1"
DATA_KEY_ALGORITHM = "data-key-aes256"
DATA_KEY_LENGTH = 32
_DATA_KEY_SUFFIX = ".data-key.json"
_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# RFC 7914 §2 parameters; 2**15 × 8 × 128 B = 32 MiB of memory per derivation.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE_LENGTH = 8


class KeyStore(Protocol):
    """Generates keys that never leave the store and hands out signers for them."""

    def generate(self, *, algorithm: SignatureAlgorithm, key_id: str | None = None) -> str:
        """Generate a key pair inside the store; return its identifier."""

    def signer(self, key_id: str) -> KeySigner:
        """A signer for the key ``key_id``."""

    def public_key(self, key_id: str) -> PublicKeyTypes | SM2PublicKey:
        """The public key of ``key_id``."""

    def key_ids(self) -> list[str]:
        """Identifiers of every key in the store."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(passphrase: str, salt: bytes, *, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


@dataclass(repr=False)
class SoftwareKeyStore:
    """Encrypted key files in one directory (``<home>/keystore``), mode 0600, written atomically.

    The passphrase is held in memory only; ``repr`` hides it.
    """

    directory: Path
    passphrase: str
    _unlocked: dict[str, SoftwareSigner | SM2Signer] = field(default_factory=dict, init=False)
    _data_keys: dict[str, bytes] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if len(self.passphrase) < MIN_PASSPHRASE_LENGTH:
            raise KeyStoreError(f"the key store passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters")
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyStoreError(f"cannot create key store directory {self.directory}") from exc

    def __repr__(self) -> str:
        return f"SoftwareKeyStore(directory={str(self.directory)!r})"

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise KeyNotFoundError(f"invalid key identifier {key_id!r}")
        return self.directory / f"{key_id}.key.json"

    def generate(self, *, algorithm: SignatureAlgorithm, key_id: str | None = None) -> str:
        key_id = key_id or f"key-{secrets.token_hex(8)}"
        path = self._path(key_id)
        if path.exists():
            raise KeyStoreError(f"a key named {key_id!r} already exists")
        private_key = generate_private_key(algorithm)
        signer = SM2Signer(private_key) if isinstance(private_key, SM2PrivateKey) else SoftwareSigner(private_key)
        self._write(path, key_id, signer)
        return key_id

    def _write(self, path: Path, key_id: str, signer: SoftwareSigner | SM2Signer) -> None:
        key = signer.private_key
        if isinstance(key, SM2PrivateKey):
            der = key.to_pkcs8_der()
            public_pem = pem.armor("PUBLIC KEY", key.public_key().to_spki_der()).decode("ascii")
        else:
            der = key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            public_pem = (
                key.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode("ascii")
            )
        document = self._envelope(key_id, signer.algorithm.value, der)
        document["public_key"] = public_pem
        tmp = self._write_temporary(path, document)
        os.replace(tmp, path)
        self._unlocked[key_id] = signer

    def _envelope(self, key_id: str, algorithm: str, secret: bytes) -> dict[str, object]:
        """``secret`` sealed with AES-256-GCM under the passphrase (scrypt), bound to name and algorithm."""
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        aad = f"{FORMAT}|{key_id}|{algorithm}".encode()
        kek = _derive(self.passphrase, salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
        return {
            "format": FORMAT,
            "key_id": key_id,
            "algorithm": algorithm,
            "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
            "cipher": "aes-256-gcm",
            "nonce": _b64(nonce),
            "ciphertext": _b64(AESGCM(kek).encrypt(nonce, secret, aad)),
        }

    @staticmethod
    def _write_temporary(path: Path, document: dict[str, object]) -> Path:
        """Write ``document`` next to ``path`` (mode 0600, fsynced); the caller moves it into place."""
        tmp = path.with_name(f"{path.name}.tmp-{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        return tmp

    def _open_envelope(self, key_id: str, document: dict[str, object]) -> bytes:
        try:
            kdf = document["kdf"]
            assert isinstance(kdf, dict)
            kek = _derive(
                self.passphrase, _unb64(str(kdf["salt"])), n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])
            )
            aad = f"{FORMAT}|{key_id}|{document['algorithm']}".encode()
            return AESGCM(kek).decrypt(_unb64(str(document["nonce"])), _unb64(str(document["ciphertext"])), aad)
        except InvalidTag:
            raise WrongPassphraseError(
                f"cannot open key {key_id!r}: wrong passphrase, or the key file was altered"
            ) from None
        except (KeyError, ValueError, TypeError, AssertionError) as exc:
            raise KeyStoreError(f"key file for {key_id!r} is damaged") from exc

    def data_key(self, name: str = "registry") -> bytes:
        """The 32-byte data key ``name`` (e.g. the registry's master key for encryption at rest).

        Created on first use from :mod:`secrets` and kept only in the encrypted envelope (algorithm
        ``data-key-aes256``), never in clear. Several processes asking for a new key at once all get
        the same one: the file is linked into place only if none exists yet. Raises
        :class:`~seal_keys.errors.WrongPassphraseError` with the wrong passphrase.
        """
        if name in self._data_keys:
            return self._data_keys[name]
        if not _KEY_ID.match(name):
            raise KeyNotFoundError(f"invalid data key name {name!r}")
        path = self.directory / f"{name}{_DATA_KEY_SUFFIX}"
        if not path.exists():
            key = secrets.token_bytes(DATA_KEY_LENGTH)
            tmp = self._write_temporary(path, self._envelope(name, DATA_KEY_ALGORITHM, key))
            try:
                os.link(tmp, path)  # fails if another process created the key first
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        document = self._read_file(path, name)
        if document.get("algorithm") != DATA_KEY_ALGORITHM:
            raise KeyStoreError(f"key file for {name!r} does not hold a data key")
        key = self._open_envelope(name, document)
        if len(key) != DATA_KEY_LENGTH:
            raise KeyStoreError(f"key file for {name!r} holds a data key of the wrong size")
        self._data_keys[name] = key
        return key

    def _read(self, key_id: str) -> dict[str, object]:
        return self._read_file(self._path(key_id), key_id)

    @staticmethod
    def _read_file(path: Path, key_id: str) -> dict[str, object]:
        try:
            document: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyNotFoundError(f"no key {key_id!r} in the key store") from None
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"key file for {key_id!r} is unreadable or damaged") from exc
        if document.get("format") != FORMAT or document.get("key_id") != key_id:
            raise KeyStoreError(f"key file for {key_id!r} has an unknown format or the wrong name")
        return document

    def signer(self, key_id: str) -> KeySigner:
        if key_id in self._unlocked:
            return self._unlocked[key_id]
        document = self._read(key_id)
        if document.get("algorithm") == DATA_KEY_ALGORITHM:
            raise KeyStoreError(f"{key_id!r} is a data key, not a signing key")
        der = self._open_envelope(key_id, document)
        signer: SoftwareSigner | SM2Signer
        try:
            if document["algorithm"] == SignatureAlgorithm.SM2_SM3.value:
                signer = SM2Signer(SM2PrivateKey.from_pkcs8_der(der))
            else:
                signer = SoftwareSigner(serialization.load_der_private_key(der, password=None))
        except (CAError, UnsupportedAlgorithm, ValueError) as exc:
            raise KeyStoreError(f"key file for {key_id!r} holds a key that cannot be loaded") from exc
        if signer.algorithm.value != document["algorithm"]:
            raise KeyStoreError(f"key file for {key_id!r} does not match its declared algorithm")
        self._unlocked[key_id] = signer
        return signer

    def public_key(self, key_id: str) -> PublicKeyTypes | SM2PublicKey:
        document = self._read(key_id)
        text = str(document.get("public_key", "")).encode("ascii", errors="replace")
        key: PublicKeyTypes | SM2PublicKey
        try:
            if document.get("algorithm") == SignatureAlgorithm.SM2_SM3.value:
                kind, _, der = pem.unarmor(text)
                if kind != "PUBLIC KEY":
                    raise ValueError("not a PUBLIC KEY PEM block")
                key = SM2PublicKey.from_spki_der(der)
            else:
                key = serialization.load_pem_public_key(text)
            algorithm = algorithm_of(key)  # fail closed on a key type we do not support
        except (CAError, UnsupportedAlgorithm, ValueError, TypeError) as exc:
            raise KeyStoreError(f"key file for {key_id!r} holds a public key that cannot be loaded") from exc
        if algorithm.value != document.get("algorithm"):
            raise KeyStoreError(f"key file for {key_id!r} does not match its declared algorithm")
        return key

    def key_ids(self) -> list[str]:
        """Identifiers of the signing keys (data keys are not listed)."""
        return sorted(p.name.removesuffix(".key.json") for p in self._key_files())

    def _key_files(self) -> Iterator[Path]:
        return self.directory.glob("*.key.json")

    def check_passphrase(self) -> None:
        """Open one key (if any) so a wrong passphrase is reported before any work starts."""
        ids = self.key_ids()
        if ids:
            self.signer(ids[0])
            return
        names = sorted(p.name.removesuffix(_DATA_KEY_SUFFIX) for p in self.directory.glob(f"*{_DATA_KEY_SUFFIX}"))
        if names:
            self.data_key(names[0])
