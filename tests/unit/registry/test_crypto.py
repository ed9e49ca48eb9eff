"""registry.crypto: AES-256-GCM field tokens bound to their place, and the keyed blind index."""

from __future__ import annotations

import hashlib
import hmac
import pickle

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from registry import DataKeyError, FieldCipher, InvalidValueError

KEY = bytes(range(32))
ID_NUMBER = "11010519491231002X"


def test_round_trip_and_token_layout():
    cipher = FieldCipher(KEY)
    token = cipher.encrypt(b"11010519491231002X", aad=b"licenses|holder_code|id-1")
    assert token[0] == 1  # version byte
    assert len(token) == 1 + 12 + len(b"11010519491231002X") + 16
    assert cipher.decrypt(token, aad=b"licenses|holder_code|id-1") == b"11010519491231002X"
    # A fresh nonce each time: equal plaintexts give unequal tokens.
    assert cipher.encrypt(b"x", aad=b"a") != cipher.encrypt(b"x", aad=b"a")


def test_token_is_standard_aes_gcm_under_an_hkdf_subkey():
    # An independent decryption with cryptography's primitives, from the documented construction.
    token = FieldCipher(KEY).encrypt(b"secret", aad=b"place")
    subkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yinxin registry data key",
                  info=b"yinxin/registry/field-encryption/aes-256-gcm/v1").derive(KEY)
    assert subkey != KEY
    assert AESGCM(subkey).decrypt(token[1:13], token[13:], b"\x01place") == b"secret"


@pytest.mark.parametrize(
    ("change", "aad"),
    [
        (lambda t: t, b"licenses|holder_code|id-2"),  # moved to another licence
        (lambda t: t, b"licenses|holder_name|id-1"),  # moved to another column
        (lambda t: t[:-1] + bytes([t[-1] ^ 1]), b"licenses|holder_code|id-1"),  # altered
        (lambda t: b"\x02" + t[1:], b"licenses|holder_code|id-1"),  # unknown version
        (lambda t: t[:20], b"licenses|holder_code|id-1"),  # truncated
    ],
    ids=["other-licence", "other-column", "altered", "version", "truncated"],
)
def test_moved_or_altered_tokens_do_not_open(change, aad):
    cipher = FieldCipher(KEY)
    token = cipher.encrypt(ID_NUMBER.encode(), aad=b"licenses|holder_code|id-1")
    with pytest.raises(DataKeyError) as caught:
        cipher.decrypt(change(token), aad=aad)
    assert caught.value.code == "data_key_error"


def test_wrong_key_is_reported_as_such():
    token = FieldCipher(KEY).encrypt(b"x", aad=b"a")
    with pytest.raises(DataKeyError, match="not the one it was written with"):
        FieldCipher(bytes(32)).decrypt(token, aad=b"a")
    assert FieldCipher(KEY).key_check != FieldCipher(bytes(32)).key_check
    assert FieldCipher(KEY).key_check == FieldCipher(KEY).key_check


def test_blind_index_is_keyed_normalised_and_typed():
    cipher = FieldCipher(KEY)
    index = cipher.blind_index(ID_NUMBER, code_type="111")
    assert len(index) == 64
    assert index == cipher.blind_index(" 110105 19491231 002x ", code_type="111")
    assert index != cipher.blind_index(ID_NUMBER, code_type="001")
    assert index != FieldCipher(bytes(32)).blind_index(ID_NUMBER, code_type="111")
    # Not a plain hash of the code: without the key it cannot be recomputed.
    for guess in (ID_NUMBER, f"111:{ID_NUMBER}"):
        assert index != hashlib.sha256(guess.encode()).hexdigest()
        assert index != hmac.new(KEY, guess.encode(), hashlib.sha256).hexdigest()
    with pytest.raises(InvalidValueError, match="holder_code_type"):
        cipher.blind_index(ID_NUMBER, code_type="999")


def test_key_is_checked_and_never_shown():
    with pytest.raises(InvalidValueError, match="32 bytes"):
        FieldCipher(b"short")
    cipher = FieldCipher(KEY)
    assert KEY.hex() not in repr(cipher)
    with pytest.raises(TypeError):
        pickle.dumps(cipher)
