"""The software key store: keys encrypted at rest, wrong passphrase and tampering detected."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

import ca
from seal_keys.errors import KeyNotFoundError, KeyStoreError, WrongPassphraseError
from seal_keys.keystore import SoftwareKeyStore

PASS = "correct horse battery staple"


def test_generated_key_signs_after_reopening(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path, PASS)
    key_id = store.generate(algorithm=ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    reopened = SoftwareKeyStore(tmp_path, PASS)
    signature = reopened.signer(key_id).sign(b"data")
    public = reopened.public_key(key_id)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, b"data", ec.ECDSA(hashes.SHA256()))
    assert reopened.key_ids() == [key_id]


def test_no_private_key_material_in_clear(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path, PASS)
    key_id = store.generate(algorithm=ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    signer = store.signer(key_id)
    assert isinstance(signer, ca.SoftwareSigner)
    scalar = signer.private_key.private_numbers().private_value.to_bytes(32, "big")  # type: ignore[union-attr]
    for path in tmp_path.rglob("*"):
        data = path.read_bytes()
        assert b"PRIVATE KEY" not in data
        assert scalar not in data
        assert scalar.hex().encode() not in data
        assert PASS.encode() not in data
    assert (tmp_path / f"{key_id}.key.json").stat().st_mode & 0o077 == 0


def test_wrong_passphrase_is_reported(tmp_path: Path) -> None:
    key_id = SoftwareKeyStore(tmp_path, PASS).generate(algorithm=ca.SignatureAlgorithm.ED25519)
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        SoftwareKeyStore(tmp_path, "another passphrase").signer(key_id)


def test_swapped_key_files_are_detected(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path, PASS)
    a = store.generate(algorithm=ca.SignatureAlgorithm.ECDSA_P256_SHA256, key_id="seal-a")
    b = store.generate(algorithm=ca.SignatureAlgorithm.ECDSA_P256_SHA256, key_id="seal-b")
    doc_a = json.loads((tmp_path / f"{a}.key.json").read_text())
    doc_b = json.loads((tmp_path / f"{b}.key.json").read_text())
    doc_b["ciphertext"], doc_b["nonce"], doc_b["kdf"] = doc_a["ciphertext"], doc_a["nonce"], doc_a["kdf"]
    (tmp_path / f"{b}.key.json").write_text(json.dumps(doc_b))
    with pytest.raises(WrongPassphraseError, match="altered"):
        SoftwareKeyStore(tmp_path, PASS).signer(b)


@pytest.mark.parametrize(
    ("passphrase", "key_id", "error", "message"),
    [
        ("short", None, KeyStoreError, "at least 8"),
        (PASS, "../escape", KeyNotFoundError, "invalid key identifier"),
        (PASS, "missing", KeyNotFoundError, "no key"),
    ],
    ids=["short-passphrase", "path-traversal", "missing-key"],
)
def test_bad_input(tmp_path: Path, passphrase: str, key_id: str | None, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        store = SoftwareKeyStore(tmp_path, passphrase)
        store.signer(key_id or "x")


def test_repr_hides_the_passphrase(tmp_path: Path) -> None:
    assert PASS not in repr(SoftwareKeyStore(tmp_path, PASS))
