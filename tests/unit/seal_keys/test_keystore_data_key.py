"""Data keys in the software key store: created once, kept encrypted, the same for every process."""

from __future__ import annotations

import json
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import ca
from seal_keys.errors import KeyStoreError, WrongPassphraseError
from seal_keys.keystore import DATA_KEY_ALGORITHM, SoftwareKeyStore

PASS = "correct horse battery staple"


def test_data_key_is_created_once_and_found_again(tmp_path: Path) -> None:
    key = SoftwareKeyStore(tmp_path, PASS).data_key()
    assert len(key) == 32
    assert SoftwareKeyStore(tmp_path, PASS).data_key("registry") == key
    other = SoftwareKeyStore(tmp_path, PASS).data_key("archive")
    assert other != key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.data-key.json", "registry.data-key.json"]


def test_data_key_is_never_written_in_clear(tmp_path: Path) -> None:
    key = SoftwareKeyStore(tmp_path, PASS).data_key()
    document = json.loads((tmp_path / "registry.data-key.json").read_text())
    assert document["algorithm"] == DATA_KEY_ALGORITHM
    assert document["cipher"] == "aes-256-gcm"
    assert document["kdf"]["name"] == "scrypt"
    for path in tmp_path.rglob("*"):
        data = path.read_bytes()
        assert key not in data
        assert key.hex().encode() not in data
        assert key.hex().upper().encode() not in data
        assert PASS.encode() not in data
    assert (tmp_path / "registry.data-key.json").stat().st_mode & 0o077 == 0


def test_data_key_is_not_a_signing_key(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path, PASS)
    key_id = store.generate(algorithm=ca.SignatureAlgorithm.ED25519, key_id="registry")
    store.data_key("registry")
    assert store.key_ids() == [key_id]
    # A data key file renamed to look like a signing key is refused, not loaded as one.
    shutil.copy(tmp_path / "registry.data-key.json", tmp_path / "seal-x.key.json")
    document = json.loads((tmp_path / "seal-x.key.json").read_text())
    document["key_id"] = "seal-x"
    (tmp_path / "seal-x.key.json").write_text(json.dumps(document))
    with pytest.raises(KeyStoreError, match="data key"):
        SoftwareKeyStore(tmp_path, PASS).signer("seal-x")


def test_wrong_passphrase_does_not_open_the_data_key(tmp_path: Path) -> None:
    SoftwareKeyStore(tmp_path, PASS).data_key()
    wrong = SoftwareKeyStore(tmp_path, "another passphrase")
    with pytest.raises(WrongPassphraseError):
        wrong.data_key()
    # check_passphrase reports it even when the store holds no signing key yet.
    with pytest.raises(WrongPassphraseError):
        wrong.check_passphrase()


def test_altered_data_key_file_is_detected(tmp_path: Path) -> None:
    SoftwareKeyStore(tmp_path, PASS).data_key()
    path = tmp_path / "registry.data-key.json"
    document = json.loads(path.read_text())
    document["algorithm"] = "ecdsa-p256-sha256"  # bound into the associated data
    path.write_text(json.dumps(document))
    with pytest.raises(KeyStoreError):
        SoftwareKeyStore(tmp_path, PASS).data_key()


def test_stores_creating_the_key_at_once_get_the_same_key(tmp_path: Path) -> None:
    # Several workers of one home (separate store objects) ask for the key for the first time at once.
    barrier = threading.Barrier(4)

    def first_use() -> bytes:
        barrier.wait()
        return SoftwareKeyStore(tmp_path, PASS).data_key()

    with ThreadPoolExecutor(4) as pool:
        keys = list(pool.map(lambda _: first_use(), range(4)))
    assert len(set(keys)) == 1
    assert SoftwareKeyStore(tmp_path, PASS).data_key() == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == ["registry.data-key.json"]
    assert os.stat(tmp_path / "registry.data-key.json").st_nlink == 1
