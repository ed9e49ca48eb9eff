"""SM2 with SM3 (GB/T 32918.2): the published example, both backends against each other and the openssl CLI,
encodings, range checks, key validation, nonces, and the gmssl traps."""

from __future__ import annotations

import os
import pickle
import random
import secrets
import subprocess
from pathlib import Path

import pytest
from asn1crypto import pem
from cryptography.hazmat.primitives import hashes

import ca
from ca import sm2
from ca.sm2 import N, SM2Error, SM2PrivateKey, SM2PublicKey

BACKENDS = sm2.available_backends()
needs_both = pytest.mark.skipif(set(BACKENDS) != {"openssl", "gmssl"}, reason="needs both SM2 backends")

# GM/T 0003.5-2012 Annex A (also GB/T 32918.5-2017 Annex A): signature example on the recommended curve,
# default ID, message "message digest". Self-consistent: [d]G = P, SM3(Z_A ‖ M) = H, k gives (r, s).
VECTOR_D = 0x3945208F_7B2144B1_3F36E38A_C6D39F95_88939369_2860B51A_42FB81EF_4DF7C5B8
VECTOR_P = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
VECTOR_M = b"message digest"
VECTOR_H = bytes.fromhex("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640")
VECTOR_K = 0x59276E27_D506861A_16680F3A_D9C02DCC_EF3CC1FA_3CDBE4CE_6D54B80D_EAC1BC21
VECTOR_R = 0xF5A03B06_48D2C463_0EEAC513_E1BB81A1_5944DA38_27D5B741_43AC7EAC_EEE720B3
VECTOR_S = 0xB1B6AA29_DF212FD8_763182BC_0D421CA1_BB9038FD_1F7F42D4_840B69C4_85BBC1AA


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _messages() -> list[bytes]:
    sizes = [0, 1, 2, 31, 32, 33, 64, 100, 1000, 4096, 1 << 20]
    sizes += [secrets.randbelow(2000) for _ in range(20 - len(sizes))]
    return [secrets.token_bytes(size) for size in sizes]


def _openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *map(str, args)], input=stdin, capture_output=True, check=False)


@pytest.fixture(scope="module")
def key() -> SM2PrivateKey:
    return SM2PrivateKey.generate()


# -- the published example -----------------------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_published_example_key_and_digest(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("YINXIN_SM2_BACKEND", name)  # [d]G computed by this backend
    key = SM2PrivateKey.from_private_value(VECTOR_D)
    assert key.public_key().point == VECTOR_P
    assert _sm3(key.public_key().z_digest() + VECTOR_M) == VECTOR_H


@pytest.mark.parametrize("name", BACKENDS)
def test_published_example_verifies(name: str) -> None:
    backend = sm2.get_backend(name)
    public = SM2PublicKey(VECTOR_P)
    der = sm2.encode_signature(VECTOR_R, VECTOR_S)
    raw = VECTOR_R.to_bytes(32, "big") + VECTOR_S.to_bytes(32, "big")
    assert backend.verify(public, VECTOR_M, der)
    assert backend.verify(public, VECTOR_M, raw)
    assert not backend.verify(public, b"message digesT", der)
    assert not backend.verify(public, VECTOR_M, der, uid=b"ALICE123@YAHOO.COM")
    assert not backend.verify(public, VECTOR_M, sm2.encode_signature(VECTOR_R, VECTOR_S - 1))


@pytest.mark.skipif("gmssl" not in BACKENDS, reason="needs gmssl")
def test_published_example_signature_from_its_nonce() -> None:
    # The gmssl backend's curve primitive, given the example's k, reproduces (r, s) exactly.
    backend = sm2.get_backend("gmssl")
    crypt = backend._crypt(VECTOR_P, VECTOR_D)  # type: ignore[attr-defined]
    assert crypt.sign(VECTOR_H, f"{VECTOR_K:064x}") == f"{VECTOR_R:064x}{VECTOR_S:064x}"


# -- cross-tests ---------------------------------------------------------------------------------


@needs_both
@pytest.mark.parametrize(("signer", "verifier"), [("openssl", "gmssl"), ("gmssl", "openssl")])
def test_each_backend_verifies_the_others_signatures(key: SM2PrivateKey, signer: str, verifier: str) -> None:
    sign_with, verify_with = sm2.get_backend(signer), sm2.get_backend(verifier)
    public = key.public_key()
    for message in _messages():
        signature = sign_with.sign(key, message)
        assert verify_with.verify(public, message, signature), len(message)
        tampered = bytearray(message or b"\x00")
        tampered[len(tampered) // 2] ^= 0x01
        assert not verify_with.verify(public, bytes(tampered), signature)


@needs_both
def test_custom_user_id_crosses_backends(key: SM2PrivateKey) -> None:
    uid = b"ALICE123@YAHOO.COM"
    openssl, gmssl = sm2.get_backend("openssl"), sm2.get_backend("gmssl")
    public = key.public_key()
    assert gmssl.verify(public, b"m", openssl.sign(key, b"m", uid=uid), uid=uid)
    assert openssl.verify(public, b"m", gmssl.sign(key, b"m", uid=uid), uid=uid)
    assert not openssl.verify(public, b"m", openssl.sign(key, b"m", uid=uid))  # default ID: another Z_A


@needs_both
def test_gmssl_backend_computes_the_same_z_as_gmssl_itself(key: SM2PrivateKey) -> None:
    # gmssl's own (hard-coded default ID) e = SM3(Z_A ‖ M), computed with its pure-Python SM3.
    crypt = sm2.get_backend("gmssl")._crypt(key.public_key().point)  # type: ignore[attr-defined]
    message = b"\x00\x04abc" * 50
    assert crypt._sm3_z(message) == _sm3(key.public_key().z_digest() + message).hex()


# -- the openssl command line ----------------------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_openssl_cli_signature_verifies_with_ours(tmp_path: Path, key: SM2PrivateKey, name: str) -> None:
    key_pem = tmp_path / "key.pem"
    key_pem.write_bytes(pem.armor("PRIVATE KEY", key.to_pkcs8_der()))
    for message in (b"", b"hello", secrets.token_bytes(100_000)):
        (tmp_path / "msg").write_bytes(message)
        done = _openssl(
            "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", key_pem, "-in", tmp_path / "msg",
            "-pkeyopt", "distid:1234567812345678",
        )
        assert done.returncode == 0, done.stderr
        assert sm2.get_backend(name).verify(key.public_key(), message, done.stdout)
        assert not sm2.get_backend(name).verify(key.public_key(), message + b".", done.stdout)


@pytest.mark.parametrize("name", BACKENDS)
def test_our_signature_verifies_with_openssl_cli(tmp_path: Path, key: SM2PrivateKey, name: str) -> None:
    pub_pem = tmp_path / "pub.pem"
    pub_pem.write_bytes(pem.armor("PUBLIC KEY", key.public_key().to_spki_der()))
    for message in (b"", b"hello", secrets.token_bytes(100_000)):
        (tmp_path / "msg").write_bytes(message)
        (tmp_path / "sig").write_bytes(sm2.get_backend(name).sign(key, message))

        def verify(path: Path) -> subprocess.CompletedProcess[bytes]:
            return _openssl(
                "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", pub_pem,
                "-in", path, "-sigfile", tmp_path / "sig", "-pkeyopt", "distid:1234567812345678",
            )

        done = verify(tmp_path / "msg")
        assert done.returncode == 0, done.stderr
        assert b"Signature Verified Successfully" in done.stdout
        (tmp_path / "other").write_bytes(message + b".")
        assert verify(tmp_path / "other").returncode != 0


def test_pkcs8_is_read_by_openssl_and_openssl_keys_are_read_by_us(tmp_path: Path, key: SM2PrivateKey) -> None:
    (tmp_path / "ours.der").write_bytes(key.to_pkcs8_der())
    done = _openssl("pkey", "-inform", "DER", "-in", tmp_path / "ours.der", "-pubout", "-outform", "DER")
    assert done.returncode == 0, done.stderr
    assert done.stdout == key.public_key().to_spki_der()

    generated = _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2")
    assert generated.returncode == 0, generated.stderr
    _, _, der = pem.unarmor(generated.stdout)
    theirs = SM2PrivateKey.from_pkcs8_der(der)
    public = _openssl("pkey", "-pubout", "-outform", "DER", stdin=generated.stdout)
    assert SM2PublicKey.from_spki_der(public.stdout) == theirs.public_key()
    assert SM2PrivateKey.from_pkcs8_der(theirs.to_pkcs8_der()).public_key() == theirs.public_key()


# -- signatures: encodings and ranges ------------------------------------------------------------


def test_flipped_bits_fail(key: SM2PrivateKey) -> None:
    signature = key.sign(b"document")
    public = key.public_key()
    assert public.verify(signature, b"document")
    for index in range(len(signature)):
        damaged = bytearray(signature)
        damaged[index] ^= 0x01
        assert not public.verify(bytes(damaged), b"document")
    assert not public.verify(signature, b"documenu")
    assert not SM2PrivateKey.generate().public_key().verify(signature, b"document")


def test_out_of_range_values_are_refused(key: SM2PrivateKey) -> None:
    r, s = sm2.decode_signature(key.sign(b"m"))
    public = key.public_key()

    def der(r_: int, s_: int) -> bytes:
        body = b"".join(
            b"\x02" + len(v).to_bytes(1, "big") + v
            for v in (x.to_bytes(x.bit_length() // 8 + 1, "big", signed=True) for x in (r_, s_))
        )
        return b"\x30" + len(body).to_bytes(1, "big") + body

    assert sm2.decode_signature(der(r, s)) == (r, s)
    for bad in ((0, s), (N, s), (r, N), (r, 0), (r + N, s), (-r, s)):
        with pytest.raises(SM2Error):
            sm2.decode_signature(der(*bad))
        assert not public.verify(der(*bad), b"m")
    for bad in ((0, s), (N, s), (r, N)):
        raw = bad[0].to_bytes(32, "big") + bad[1].to_bytes(32, "big")
        with pytest.raises(SM2Error):
            sm2.decode_signature(raw)
        assert not public.verify(raw, b"m")
        with pytest.raises(SM2Error):
            sm2.encode_signature(*bad)
    # t = (r + s) mod n = 0 (GB/T 32918.2 §7.1 B5)
    assert not public.verify(sm2.encode_signature(r, N - r), b"m")


def test_raw_and_der_forms(key: SM2PrivateKey) -> None:
    signature = key.sign(b"m")
    r, s = sm2.decode_signature(signature)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert sm2.decode_signature(raw) == (r, s)
    assert key.public_key().verify(raw, b"m")
    assert sm2.encode_signature(r, s) == signature
    # Non-canonical DER (a superfluous leading zero), trailing bytes, truncation, other lengths: refused.
    body = signature[2:]
    padded_r = b"\x02" + bytes([body[1] + 1]) + b"\x00" + body[2:]
    assert not key.public_key().verify(b"\x30" + bytes([len(padded_r)]) + padded_r, b"m")
    for bad in (signature + b"\x00", signature[:-1], raw[:-1], raw + b"\x00", b"", b"\x30\x00"):
        with pytest.raises(SM2Error):
            sm2.decode_signature(bad)
        assert not key.public_key().verify(bad, b"m")


@pytest.mark.parametrize("name", BACKENDS)
def test_nonces_differ(key: SM2PrivateKey, name: str) -> None:
    backend = sm2.get_backend(name)
    first, second = backend.sign(key, b"same"), backend.sign(key, b"same")
    assert sm2.decode_signature(first)[0] != sm2.decode_signature(second)[0]
    assert backend.verify(key.public_key(), b"same", first)
    assert backend.verify(key.public_key(), b"same", second)


def test_user_id_limits(key: SM2PrivateKey) -> None:
    with pytest.raises(SM2Error):
        key.sign(b"m", uid=b"")
    with pytest.raises(SM2Error):
        key.public_key().verify(key.sign(b"m"), b"m", uid=bytes(8192))
    long_id = bytes(range(256)) * 31  # 7,936 bytes: ENTL still fits in 16 bits
    assert key.public_key().verify(key.sign(b"m", uid=long_id), b"m", uid=long_id)


# -- keys ----------------------------------------------------------------------------------------


def test_point_not_on_the_curve_is_refused() -> None:
    x, y = VECTOR_P[1:33], VECTOR_P[33:]
    off = bytearray(VECTOR_P)
    off[-1] ^= 0x01
    for bad in (bytes(off), b"\x04" + bytes(64), b"\x04" + x + x, b"\x05" + x + y, VECTOR_P[:-1], b""):
        with pytest.raises(SM2Error):
            SM2PublicKey(bad)
        with pytest.raises(SM2Error):
            SM2PublicKey.from_point(bad)
    p_plus = (int.from_bytes(x, "big") + sm2.P).to_bytes(33, "big")
    with pytest.raises(SM2Error):
        SM2PublicKey.from_point(b"\x04" + p_plus[1:] + y)  # x + p wraps: coordinates must be < p
    with pytest.raises(SM2Error):
        SM2PublicKey.from_point(b"\x02" + b"\xff" * 32)


def test_point_encodings() -> None:
    public = SM2PublicKey(VECTOR_P)
    y_is_odd = VECTOR_P[-1] & 1
    compressed = bytes([2 + y_is_odd]) + VECTOR_P[1:33]
    assert SM2PublicKey.from_point(compressed) == public
    assert SM2PublicKey.from_point(bytes([3 - y_is_odd]) + VECTOR_P[1:33]) != public
    assert SM2PublicKey.from_point(VECTOR_P[1:]) == public
    assert SM2PublicKey.from_spki_der(public.to_spki_der()) == public


def test_spki_of_another_curve_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = p256.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(SM2Error, match="not an SM2 public key"):
        SM2PublicKey.from_spki_der(der)
    with pytest.raises(SM2Error):
        SM2PublicKey.from_spki_der(b"\x30\x03\x02\x01\x00")


def test_ofdrw_certificate_key_loads(shared_dir: Path) -> None:
    _, _, der = pem.unarmor((shared_dir / "interop/ofdrw/sign_cert.pem").read_bytes())
    public = SM2PublicKey.from_certificate_der(der)
    assert len(public.point) == 65 and public.point[0] == 4
    assert public.to_spki_der() in der
    with pytest.raises(SM2Error):
        SM2PublicKey.from_certificate_der(der[:-10])


def test_pkcs8_round_trip_and_mismatch(key: SM2PrivateKey) -> None:
    der = key.to_pkcs8_der()
    again = SM2PrivateKey.from_pkcs8_der(der)
    assert again.public_key() == key.public_key()
    assert again.public_key().verify(again.sign(b"m"), b"m")
    other = SM2PrivateKey.generate().public_key().point
    with pytest.raises(SM2Error, match="does not match"):
        SM2PrivateKey.from_pkcs8_der(der.replace(key.public_key().point, other))
    with pytest.raises(SM2Error):
        SM2PrivateKey.from_pkcs8_der(der[:-1])
    for bad in (0, N - 1, N, -1):
        with pytest.raises(SM2Error):
            SM2PrivateKey.from_private_value(bad)


def test_private_key_is_not_revealed(key: SM2PrivateKey) -> None:
    scalar = SM2PrivateKey.from_pkcs8_der(key.to_pkcs8_der())._d
    assert f"{scalar:x}" not in repr(key)
    assert str(scalar) not in repr(key)
    assert repr(sm2.SM2Signer(key)) == "SM2Signer(algorithm=sm2-sm3)"
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert pickle.loads(pickle.dumps(key.public_key())) == key.public_key()


# -- backends and the gmssl traps ----------------------------------------------------------------


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sm2.backend_name() == BACKENDS[0]
    for name in BACKENDS:
        monkeypatch.setenv("YINXIN_SM2_BACKEND", name)
        assert sm2.backend_name() == name
        key = SM2PrivateKey.generate()
        assert key.public_key().verify(key.sign(b"m"), b"m")
    monkeypatch.setenv("YINXIN_SM2_BACKEND", "libsm2")
    with pytest.raises(SM2Error, match="unknown SM2 backend"):
        sm2.backend_name()
    with pytest.raises(SM2Error):
        sm2.get_backend("nope")


@pytest.mark.skipif("gmssl" not in BACKENDS, reason="needs gmssl")
def test_gmssl_backend_never_uses_random(monkeypatch: pytest.MonkeyPatch) -> None:
    import gmssl.func
    import gmssl.sm2

    def forbidden(*_: object) -> object:
        raise AssertionError("the random module must not be used for SM2 nonces")

    for module in (random, gmssl.func, gmssl.sm2):
        monkeypatch.setattr(module, "choice", forbidden)
    monkeypatch.setattr(random, "randint", forbidden)
    monkeypatch.setattr(random, "random", forbidden)
    backend = sm2.get_backend("gmssl")
    monkeypatch.setenv("YINXIN_SM2_BACKEND", "gmssl")
    key = SM2PrivateKey.generate()
    for message in (b"", b"one", b"two"):
        assert backend.verify(key.public_key(), message, backend.sign(key, message))


@needs_both
def test_gmssl_public_key_starting_with_04_is_not_mangled() -> None:
    # gmssl 3.2.2 applies lstrip("04") to a key that starts with "04"; an X coordinate starting with
    # byte 0x04 would lose digits. Find such a key (1 in 256) and check both backends still agree.
    for _ in range(5000):
        key = SM2PrivateKey.generate()
        if key.public_key().point[1] == 0x04:
            break
    else:
        pytest.fail("no key with X starting 0x04 found")
    openssl, gmssl = sm2.get_backend("openssl"), sm2.get_backend("gmssl")
    assert gmssl.verify(key.public_key(), b"m", openssl.sign(key, b"m"))
    assert openssl.verify(key.public_key(), b"m", gmssl.sign(key, b"m"))


@pytest.mark.skipif("openssl" not in BACKENDS, reason="needs libcrypto 3")
def test_no_native_memory_growth() -> None:
    # Every EVP_PKEY and EVP_MD_CTX must be freed: parse fresh keys and sign/verify in a loop.
    def rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    backend = sm2.get_backend("openssl")
    key = SM2PrivateKey.generate()
    der, point, signature = key.to_pkcs8_der(), key.public_key().point, key.sign(b"m")

    def round_trip() -> None:
        public = SM2PublicKey(point)
        assert backend.verify(public, b"m", signature)
        assert not backend.verify(public, b"n", signature)
        backend.sign(SM2PrivateKey.from_pkcs8_der(der), b"m")

    for _ in range(200):
        round_trip()
    before = rss()
    for _ in range(800):
        round_trip()
    assert rss() - before < 256 * 1024


# -- ca.algorithms integration -------------------------------------------------------------------


def test_algorithm_integration() -> None:
    for name in ("sm2", "SM2-SM3", "sm2sm3"):
        assert ca.SignatureAlgorithm.parse(name) is ca.SignatureAlgorithm.SM2_SM3
    private = ca.generate_private_key(ca.SignatureAlgorithm.SM2_SM3)
    assert isinstance(private, SM2PrivateKey)
    assert ca.algorithm_of(private) is ca.SignatureAlgorithm.SM2_SM3
    assert ca.algorithm_of(private.public_key()) is ca.SignatureAlgorithm.SM2_SM3
    for signer in (ca.SM2Signer(private), ca.SoftwareSigner(private)):
        assert isinstance(signer, ca.KeySigner)
        assert signer.algorithm is ca.SignatureAlgorithm.SM2_SM3
        assert signer.public_key() == private.public_key()
        assert ca.sm2_verify(private.public_key(), b"data", signer.sign(b"data"))
    from ca.algorithms import certificate_hash

    with pytest.raises(ca.UnsupportedAlgorithmError):
        certificate_hash(ca.SignatureAlgorithm.SM2_SM3)
