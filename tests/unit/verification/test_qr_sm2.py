"""QR credentials signed with SM2-with-SM3 (COSE alg -70001, docs/formats.md) and an SM2 CA hierarchy."""

from __future__ import annotations

import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base45
import cbor2
import pytest
from cryptography import x509

import ca
from ca.sm2 import SM2PrivateKey, SM2Signer, decode_signature, encode_signature
from issuance.credential import CredentialClaims, issue_credential
from issuance.identifier import LicenseIdentifier
from verification.qr import verify_qr
from verification.result import CheckOutcome, Verdict
from verification.trust import TrustStore

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
USCC = "11330100002500295Y"
TYPE_CODE = "11100000YX0000016N001"


def _hierarchy(root_name: str = "SM2根CA") -> tuple[ca.CertificateAuthority, ca.CertificateAuthority]:
    signer = SM2Signer(SM2PrivateKey.generate())
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=signer, subject=ca.organisation_name(organization=root_name),
                                               now=NOW),
        signer=signer,
    )
    issuing = ca.create_issuing_ca(root=root, signer=SM2Signer(SM2PrivateKey.generate()),
                                   subject=ca.organisation_name(organization="SM2签发CA"), now=NOW)
    return root, issuing


@pytest.fixture(scope="module")
def sm2() -> dict[str, object]:
    root, issuing = _hierarchy()
    seal_signer = SM2Signer(SM2PrivateKey.generate())
    seal = issuing.issue(profile=ca.SEAL_PROFILE, subject=ca.organisation_name(organization="示范市公安局", uscc=USCC),
                         public_key=seal_signer.public_key(), now=NOW)
    identifier = LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=USCC, serial="SM2TEST", version=1)
    text = issue_credential(
        CredentialClaims(issuer=USCC, license_identifier=str(identifier), type_code=TYPE_CODE, issued_at=NOW,
                         expires_at=NOW + timedelta(days=30), claims={"name": "李明", "valid_until": "2040-05-01"}),
        signer=seal_signer, certificate=seal,
    )
    trust = TrustStore(anchors=(root.certificate,), certificates=(issuing.certificate, seal))
    return {"root": root, "issuing": issuing, "seal": seal, "text": text, "trust": trust}


def _cose(text: str) -> list[object]:
    item = cbor2.loads(zlib.decompress(base45.b45decode(text.removeprefix("YX1:"))))
    assert isinstance(item, cbor2.CBORTag) and item.tag == 18
    return list(item.value)


def test_sm2_credential_verifies(sm2: dict[str, object]) -> None:
    text = sm2["text"]
    assert isinstance(text, str) and len(text) < 600
    result = verify_qr(text, trust=sm2["trust"], now=NOW)  # type: ignore[arg-type]
    assert result.verdict is Verdict.VALID, result.reasons
    assert "SM2-with-SM3" in next(c.detail for c in result.checks if c.name == "signature")
    assert cbor2.loads(_cose(text)[0]) == {1: -70001, 4: _cose_kid(sm2["seal"])}


def _cose_kid(certificate: object) -> bytes:
    import hashlib

    assert isinstance(certificate, x509.Certificate)
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()[:8]


def test_openssl_verifies_the_cose_signature(sm2: dict[str, object], tmp_path: Path) -> None:
    """Independent check: OpenSSL's SM2 (default ID) verifies the COSE Sig_structure's signature."""
    protected, _unprotected, payload, signature = _cose(sm2["text"])  # type: ignore[arg-type]
    assert isinstance(signature, bytes) and len(signature) == 64  # r‖s
    tbs = tmp_path / "tbs.bin"
    tbs.write_bytes(cbor2.dumps(["Signature1", protected, b"", payload]))
    sig = tmp_path / "sig.der"
    sig.write_bytes(encode_signature(*decode_signature(signature)))
    cert = tmp_path / "seal.pem"
    seal = sm2["seal"]
    assert isinstance(seal, x509.Certificate)
    from cryptography.hazmat.primitives.serialization import Encoding

    cert.write_bytes(seal.public_bytes(Encoding.PEM))
    pub = tmp_path / "pub.pem"
    subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout", "-out", pub], check=True)

    def openssl_verify(data: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
             "-pkeyopt", "distid:1234567812345678", "-in", data, "-sigfile", sig],
            capture_output=True, text=True, check=False)

    done = openssl_verify(tbs)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stdout + done.stderr
    tampered = tmp_path / "tampered.bin"
    tampered.write_bytes(tbs.read_bytes()[:-1] + b"\x00")
    assert openssl_verify(tampered).returncode != 0


def test_tampered_sm2_credential_is_invalid(sm2: dict[str, object]) -> None:
    protected, unprotected, payload, signature = _cose(sm2["text"])  # type: ignore[arg-type]
    assert isinstance(payload, bytes)
    claims = cbor2.loads(payload)
    claims[-70000][4]["name"] = "张三"
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, dict(unprotected), cbor2.dumps(claims), signature]))  # type: ignore[call-overload]
    text = "YX1:" + base45.b45encode(zlib.compress(forged)).decode()
    result = verify_qr(text, trust=sm2["trust"], now=NOW)  # type: ignore[arg-type]
    assert result.verdict is Verdict.INVALID
    assert next(c for c in result.checks if c.name == "signature").outcome is CheckOutcome.FAILED
    assert "张三" not in str(result.to_dict())


def test_sm2_credential_from_a_stranger_hierarchy_is_untrusted(sm2: dict[str, object]) -> None:
    stranger_root, _ = _hierarchy(root_name="SM2根CA")  # same name, other key
    issuing = sm2["issuing"]
    assert isinstance(issuing, ca.CertificateAuthority)
    trust = TrustStore(anchors=(stranger_root.certificate,), certificates=(issuing.certificate, sm2["seal"]))  # type: ignore[arg-type]
    result = verify_qr(sm2["text"], trust=trust, now=NOW)  # type: ignore[arg-type]
    assert result.verdict is Verdict.INVALID
    trust_check = next(c for c in result.checks if c.name == "issuer_trust")
    assert trust_check.outcome is CheckOutcome.FAILED and "does not verify" in trust_check.detail
