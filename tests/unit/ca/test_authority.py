"""The CA hierarchy: certificates that openssl and pkilint accept, profiles as specified."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

import ca

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
USCC = "11330100002500295Y"


def _hierarchy(algorithm: ca.SignatureAlgorithm):
    root_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization="测试根CA"), now=NOW
        ),
        signer=root_signer,
    )
    issuing = ca.create_issuing_ca(
        root=root,
        signer=ca.SoftwareSigner(ca.generate_private_key(algorithm)),
        subject=ca.organisation_name(organization="测试签发CA"),
        now=NOW,
    )
    seal_key = ca.generate_private_key(algorithm)
    seal = issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization="示范市政务服务数据管理局", uscc=USCC),
        public_key=seal_key.public_key(),
        now=NOW,
    )
    return root, issuing, seal


def _write(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


# SM2 chains are checked link by link in test_gm_x509.py: OpenSSL 3.0 verifies SM2 certificate signatures with an
# empty user ID instead of GB/T 35276's default, and cannot be told otherwise for intermediates (openssl#23471).
NON_SM2 = [a for a in ca.SignatureAlgorithm if a.value != "sm2-sm3"]


@pytest.mark.parametrize("algorithm", NON_SM2, ids=lambda a: a.value)
def test_openssl_verifies_the_chain(tmp_path: Path, algorithm: ca.SignatureAlgorithm) -> None:
    root, issuing, seal = _hierarchy(algorithm)
    root_pem = _write(tmp_path / "root.pem", root.certificate)
    issuing_pem = _write(tmp_path / "issuing.pem", issuing.certificate)
    seal_pem = _write(tmp_path / "seal.pem", seal)
    at = str(int((NOW + timedelta(days=1)).timestamp()))
    done = subprocess.run(
        ["openssl", "verify", "-attime", at, "-CAfile", root_pem, "-untrusted", issuing_pem, seal_pem],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def test_openssl_rejects_a_seal_from_another_hierarchy(tmp_path: Path) -> None:
    root, _, _ = _hierarchy(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    _, other_issuing, other_seal = _hierarchy(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    done = subprocess.run(
        ["openssl", "verify", "-CAfile", _write(tmp_path / "r.pem", root.certificate),
         "-untrusted", _write(tmp_path / "i.pem", other_issuing.certificate), _write(tmp_path / "s.pem", other_seal)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode != 0


def test_seal_certificate_profile() -> None:
    _, issuing, seal = _hierarchy(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign and not usage.value.key_encipherment
    assert not seal.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == USCC
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "示范市政务服务数据管理局"
    assert seal.issuer == issuing.certificate.subject
    assert seal.not_valid_after_utc <= issuing.certificate.not_valid_after_utc
    assert seal.not_valid_before_utc <= NOW


@pytest.mark.parametrize("kind", ["root", "issuing", "seal"])
def test_pkilint_finds_no_errors(tmp_path: Path, kind: str) -> None:
    root, issuing, seal = _hierarchy(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    cert = {"root": root.certificate, "issuing": issuing.certificate, "seal": seal}[kind]
    path = _write(tmp_path / f"{kind}.pem", cert)
    done = subprocess.run(
        [str(Path(__import__("sys").executable).parent / "lint_pkix_cert"), "lint", "-s", "ERROR", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_issuing_requires_utc_time_and_a_live_ca() -> None:
    _, issuing, _ = _hierarchy(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    key = ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    subject = ca.organisation_name(organization="x", uscc=USCC)
    with pytest.raises(ca.CAError, match="UTC"):
        issuing.issue(profile=ca.SEAL_PROFILE, subject=subject, public_key=key.public_key(),
                      now=NOW.replace(tzinfo=None))
    after = issuing.certificate.not_valid_after_utc
    with pytest.raises(ca.CAError, match="expired"):
        issuing.issue(profile=ca.SEAL_PROFILE, subject=subject, public_key=key.public_key(), now=after)


def test_mismatched_key_and_certificate_are_refused() -> None:
    root, issuing, _ = _hierarchy(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    with pytest.raises(ca.CAError, match="does not match"):
        ca.CertificateAuthority(certificate=root.certificate, signer=issuing.signer)


def test_unknown_algorithm_names_fail_closed() -> None:
    with pytest.raises(ca.UnsupportedAlgorithmError, match="dsa"):
        ca.SignatureAlgorithm.parse("dsa")
    assert ca.SignatureAlgorithm.parse("ES256") is ca.SignatureAlgorithm.ECDSA_P256_SHA256


def test_signer_repr_hides_the_key() -> None:
    signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    assert "private" not in repr(signer).lower() or "algorithm" in repr(signer)
    assert "PRIVATE" not in repr(signer)
