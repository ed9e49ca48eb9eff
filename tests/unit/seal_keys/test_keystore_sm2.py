"""SM2 keys in the software key store: same encrypted envelope, SM2 signer, SPKI public key openssl reads."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from asn1crypto import pem

import ca
from ca.sm2 import SM2PrivateKey, SM2PublicKey, SM2Signer
from seal_keys.errors import KeyStoreError, WrongPassphraseError
from seal_keys.keystore import SoftwareKeyStore

PASS = "correct horse battery staple"


def _store(path: Path) -> SoftwareKeyStore:
    return SoftwareKeyStore(path, PASS)


def test_sm2_key_signs_after_reopening(tmp_path: Path) -> None:
    key_id = _store(tmp_path).generate(algorithm=ca.SignatureAlgorithm.SM2_SM3, key_id="seal-sm2")
    reopened = _store(tmp_path)
    signer = reopened.signer(key_id)
    assert isinstance(signer, SM2Signer)
    assert signer.algorithm is ca.SignatureAlgorithm.SM2_SM3
    public = reopened.public_key(key_id)
    assert isinstance(public, SM2PublicKey)
    assert public == signer.public_key()
    signature = signer.sign(b"data")
    assert public.verify(signature, b"data")
    assert not public.verify(signature, b"datA")
    document = json.loads((tmp_path / f"{key_id}.key.json").read_text())
    assert document["algorithm"] == "sm2-sm3"
    assert reopened.key_ids() == [key_id]


def test_public_pem_is_an_spki_openssl_reads(tmp_path: Path) -> None:
    store = _store(tmp_path)
    key_id = store.generate(algorithm=ca.SignatureAlgorithm.SM2_SM3)
    pub_pem = tmp_path / "pub.pem"
    pub_pem.write_text(json.loads((tmp_path / f"{key_id}.key.json").read_text())["public_key"])
    (tmp_path / "msg").write_bytes(b"sealed document")
    (tmp_path / "sig").write_bytes(_store(tmp_path).signer(key_id).sign(b"sealed document"))
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", str(pub_pem),
         "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig"), "-pkeyopt", "distid:1234567812345678"],
        capture_output=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    _, _, der = pem.unarmor(pub_pem.read_bytes())
    assert SM2PublicKey.from_spki_der(der) == store.public_key(key_id)


def test_no_sm2_private_key_in_clear(tmp_path: Path) -> None:
    key_id = _store(tmp_path).generate(algorithm=ca.SignatureAlgorithm.SM2_SM3)
    signer = _store(tmp_path).signer(key_id)
    assert isinstance(signer, SM2Signer)
    pkcs8 = signer.private_key.to_pkcs8_der()
    scalar = SM2PrivateKey.from_pkcs8_der(pkcs8)._d.to_bytes(32, "big")
    for path in tmp_path.rglob("*"):
        data = path.read_bytes()
        assert scalar not in data
        assert scalar.hex().encode() not in data
        assert pkcs8 not in data
        assert b"PRIVATE KEY" not in data
    assert "sm2-sm3" in repr(signer)
    assert scalar.hex() not in repr(signer)


def test_wrong_passphrase_and_tampering(tmp_path: Path) -> None:
    key_id = _store(tmp_path).generate(algorithm=ca.SignatureAlgorithm.SM2_SM3)
    with pytest.raises(WrongPassphraseError):
        SoftwareKeyStore(tmp_path, "another passphrase").signer(key_id)
    path = tmp_path / f"{key_id}.key.json"
    document = json.loads(path.read_text())
    document["algorithm"] = "ecdsa-p256-sha256"  # the algorithm is bound into the AEAD
    path.write_text(json.dumps(document))
    with pytest.raises(WrongPassphraseError):
        _store(tmp_path).signer(key_id)
    with pytest.raises(KeyStoreError):
        _store(tmp_path).public_key(key_id)


def test_swapped_public_key_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sm2_id = store.generate(algorithm=ca.SignatureAlgorithm.SM2_SM3, key_id="sm2")
    p256_id = store.generate(algorithm=ca.SignatureAlgorithm.ECDSA_P256_SHA256, key_id="p256")
    sm2_doc = json.loads((tmp_path / f"{sm2_id}.key.json").read_text())
    p256_doc = json.loads((tmp_path / f"{p256_id}.key.json").read_text())
    sm2_doc["public_key"] = p256_doc["public_key"]
    (tmp_path / f"{sm2_id}.key.json").write_text(json.dumps(sm2_doc))
    with pytest.raises(KeyStoreError):
        store.public_key(sm2_id)


def test_sm2_and_other_algorithms_side_by_side(tmp_path: Path) -> None:
    store = _store(tmp_path)
    ids = {
        algorithm: store.generate(algorithm=algorithm, key_id=algorithm.value.replace("_", "-"))
        for algorithm in ca.SignatureAlgorithm
    }
    reopened = _store(tmp_path)
    reopened.check_passphrase()
    for algorithm, key_id in ids.items():
        signer = reopened.signer(key_id)
        assert signer.algorithm is algorithm
        assert ca.algorithm_of(reopened.public_key(key_id)) is algorithm
