"""SM2 PKI (GB/T 20518): certificates and CRLs that OpenSSL and pkilint accept, SM2 chain validation.

A note on ``openssl verify``: GB/T 20518 certificates are signed with the default SM2 user ID
``1234567812345678`` (GM/T 0009 §10, the value every GB/T implementation uses). OpenSSL 3.0–3.6
verifies SM2 certificate signatures with an *empty* ID, and ``-vfyopt distid:…`` reaches only the
target certificate, not the intermediates or the anchor (openssl/openssl#23471, #32744); ``openssl crl``
has no way to set the ID at all. So the tests hand OpenSSL one link at a time — each certificate as the
target of ``openssl verify -vfyopt distid:1234567812345678`` with its issuer trusted — and check the
self-signature and the CRL signature with ``openssl pkeyutl -rawin -digest sm3`` over the TBS bytes.
Every SM2 signature in the chain is thereby checked by OpenSSL with the ID the standard prescribes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos, cms, core, keys
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import ca
from ca import gm_x509, oids
from ca.authority import CLOCK_SKEW, public_key_der
from ca.sm2 import SM2PrivateKey, SM2PublicKey, SM2Signer

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
USCC = "11330100002500295Y"
SEAL_HOLDER = "示范市政务服务数据管理局"
DISTID = "distid:1234567812345678"
SM2_SM3_ALGORITHM_DER = bytes.fromhex("300a06082a811ccf55018375")  # SEQUENCE { OID 1.2.156.10197.1.501 } — no NULL
LINT = str(Path(sys.executable).parent / "lint_pkix_cert")
LINT_CRL = str(Path(sys.executable).parent / "lint_crl")


@dataclass(frozen=True)
class Hierarchy:
    root: ca.CertificateAuthority
    issuing: ca.CertificateAuthority
    seal: x509.Certificate
    seal_key: SM2PrivateKey

    def der(self, which: str) -> bytes:
        certificate = {"root": self.root.certificate, "issuing": self.issuing.certificate, "seal": self.seal}[which]
        return certificate.public_bytes(serialization.Encoding.DER)


def _sm2_hierarchy(root_name: str = "测试根CA", issuing_name: str = "测试签发CA") -> Hierarchy:
    root_signer = SM2Signer(SM2PrivateKey.generate())
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization=root_name), now=NOW
        ),
        signer=root_signer,
    )
    issuing = ca.create_issuing_ca(
        root=root,
        signer=SM2Signer(SM2PrivateKey.generate()),
        subject=ca.organisation_name(organization=issuing_name),
        now=NOW,
    )
    seal_key = SM2PrivateKey.generate()
    seal = issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization=SEAL_HOLDER, uscc=USCC),
        public_key=seal_key.public_key(),
        now=NOW,
    )
    return Hierarchy(root=root, issuing=issuing, seal=seal, seal_key=seal_key)


@pytest.fixture(scope="module")
def sm2() -> Hierarchy:
    return _sm2_hierarchy()


def _pem(path: Path, der: bytes) -> Path:
    path.write_bytes(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM))
    return path


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)


def _openssl_verify_link(tmp_path: Path, *, issuer: bytes, subject: bytes) -> subprocess.CompletedProcess[str]:
    """``openssl verify`` of ``subject`` with ``issuer`` as the only trusted certificate."""
    at = str(int((NOW + timedelta(days=1)).timestamp()))
    return _run(
        "openssl", "verify", "-attime", at, "-vfyopt", DISTID, "-partial_chain",
        "-CAfile", _pem(tmp_path / "issuer.pem", issuer), _pem(tmp_path / "subject.pem", subject),
    )


def _openssl_verify_signed(tmp_path: Path, *, signer_certificate: bytes, tbs: bytes, signature: bytes) -> bool:
    """Check an SM2 signature over ``tbs`` with OpenSSL (default ID), key taken from ``signer_certificate``."""
    (tmp_path / "tbs").write_bytes(tbs)
    (tmp_path / "sig").write_bytes(signature)
    pub = tmp_path / "pub.pem"
    pub.write_text(_run("openssl", "x509", "-noout", "-pubkey", "-in",
                        _pem(tmp_path / "signer.pem", signer_certificate)).stdout)
    done = _run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
                "-pkeyopt", DISTID, "-in", tmp_path / "tbs", "-sigfile", tmp_path / "sig")
    return done.returncode == 0 and "Verified Successfully" in done.stdout


def _resign(der: bytes, signer: ca.KeySigner, mutate: Callable[[asn1_x509.TbsCertificate], None]) -> bytes:
    """A copy of a certificate with its TBS changed by ``mutate`` and signed again by ``signer``."""
    tbs = asn1_x509.Certificate.load(der)["tbs_certificate"].copy()
    mutate(tbs)
    tbs_der = tbs.dump(force=True)
    return bytes(asn1_x509.Certificate({
        "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"}),
        "signature_value": signer.sign(tbs_der),
    }).dump())


def _flip_in_subject(der: bytes) -> bytes:
    """Change one byte of the seal holder's name inside the TBS, leaving the DER well-formed."""
    name = SEAL_HOLDER.encode()
    at = der.rindex(name) + 1
    return der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1 :]


# --------------------------------------------------------------------------------------------------
# ca.oids


def test_asn1crypto_names_the_national_identifiers_and_leaves_parameters_absent() -> None:
    algorithm = algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})
    assert algorithm.dump() == SM2_SM3_ALGORITHM_DER  # GB/T 20518: parameters absent, not NULL
    assert algos.SignedDigestAlgorithm.load(SM2_SM3_ALGORITHM_DER)["algorithm"].native == "sm2_sm3"
    assert algos.SignedDigestAlgorithmId("sm2_sign").dotted == "1.2.156.10197.1.301.1"
    assert algos.DigestAlgorithm({"algorithm": "sm3"}).dump() == bytes.fromhex("300a06082a811ccf55018311")
    assert keys.NamedCurve("sm2p256v1").dotted == "1.2.156.10197.1.301"
    assert [cms.ContentType(f"sm2_{n}").dotted for n in ("data", "signed_data", "key_agreement_info")] == [
        "1.2.156.10197.6.1.4.2.1", "1.2.156.10197.6.1.4.2.2", "1.2.156.10197.6.1.4.2.6",
    ]
    oids.register()  # idempotent
    assert algos.SignedDigestAlgorithmId.map(oids.SM2_SM3) == "sm2_sm3"
    assert algos.SignedDigestAlgorithmId.map("1.2.840.10045.4.3.2") == "sha256_ecdsa"  # nothing renamed


def test_a_gbt35275_signed_data_content_info_parses_as_signed_data() -> None:
    signed = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": "sm3"}],
        "encap_content_info": {"content_type": "sm2_data"},
        "signer_infos": [],
    })
    info = cms.ContentInfo.load(cms.ContentInfo({"content_type": "sm2_signed_data", "content": signed}).dump())
    assert info["content_type"].dotted == "1.2.156.10197.6.1.4.2.2"
    assert isinstance(info["content"], cms.SignedData)
    assert info["content"]["digest_algorithms"][0]["algorithm"].native == "sm3"


# --------------------------------------------------------------------------------------------------
# Certificates


def test_sm2_certificates_follow_gbt_20518(sm2: Hierarchy) -> None:
    for which in ("root", "issuing", "seal"):
        parsed = asn1_x509.Certificate.load(sm2.der(which))
        tbs = parsed["tbs_certificate"]
        assert parsed["signature_algorithm"].dump() == SM2_SM3_ALGORITHM_DER
        assert tbs["signature"].dump() == SM2_SM3_ALGORITHM_DER
        spki = tbs["subject_public_key_info"]
        assert spki["algorithm"]["algorithm"].dotted == "1.2.840.10045.2.1"  # id-ecPublicKey
        assert spki["algorithm"]["parameters"].chosen.dotted == "1.2.156.10197.1.301"
        point = bytes(spki["public_key"].native)
        assert len(point) == 65 and point[0] == 0x04
        assert tbs["version"].native == "v3"
    assert SM2PublicKey.from_certificate_der(sm2.der("seal")) == sm2.seal_key.public_key()
    assert public_key_der(sm2.seal) == sm2.seal_key.public_key().to_spki_der()


def test_sm2_certificates_carry_the_profiles_of_ca_profiles(sm2: Hierarchy) -> None:
    seal, issuing, root = sm2.seal, sm2.issuing.certificate, sm2.root.certificate
    assert seal.subject == ca.organisation_name(organization=SEAL_HOLDER, uscc=USCC)
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == USCC
    assert seal.issuer == issuing.subject and issuing.issuer == root.subject and root.issuer == root.subject
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    constraints = seal.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    assert issuing.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 1
    for issuer, child in ((root, root), (root, issuing), (issuing, seal)):
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        aki = child.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        assert aki == ski
    assert seal.not_valid_before_utc == NOW - CLOCK_SKEW
    assert seal.not_valid_after_utc == NOW + ca.SEAL_PROFILE.validity
    assert issuing.not_valid_after_utc <= root.not_valid_after_utc
    # RFC 5280 §4.1.2.2 and ca.authority: 159 random bits, top bit set, so always 20 octets.
    assert seal.serial_number.bit_length() == 159 and issuing.serial_number != seal.serial_number


def test_sm2_and_ecdsa_extensions_are_encoded_alike(sm2: Hierarchy) -> None:
    signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    ecdsa_root = ca.create_root_certificate(signer=signer, subject=sm2.root.certificate.subject, now=NOW)
    for extension_class in (x509.BasicConstraints, x509.KeyUsage):
        ours = sm2.root.certificate.extensions.get_extension_for_class(extension_class)
        theirs = ecdsa_root.extensions.get_extension_for_class(extension_class)
        assert ours == theirs


def test_the_seal_validity_is_cut_to_the_issuer(sm2: Hierarchy) -> None:
    end = sm2.issuing.certificate.not_valid_after_utc
    late = sm2.issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization="迟到单位", uscc=USCC),
        public_key=SM2PrivateKey.generate().public_key(),
        now=end - timedelta(days=30),
    )
    assert late.not_valid_after_utc == end


def test_openssl_shows_sm2_and_the_extensions(tmp_path: Path, sm2: Hierarchy) -> None:
    issuing = _run("openssl", "x509", "-noout", "-text", "-in", _pem(tmp_path / "i.pem", sm2.der("issuing"))).stdout
    assert issuing.count("Signature Algorithm: SM2-with-SM3") == 2
    assert "ASN1 OID: SM2" in issuing
    assert "X509v3 Basic Constraints: critical" in issuing and "CA:TRUE, pathlen:0" in issuing
    assert "X509v3 Key Usage: critical" in issuing and "Certificate Sign, CRL Sign" in issuing
    assert "X509v3 Subject Key Identifier" in issuing and "X509v3 Authority Key Identifier" in issuing
    seal = _run("openssl", "x509", "-noout", "-text", "-in", _pem(tmp_path / "s.pem", sm2.der("seal"))).stdout
    assert "Digital Signature, Non Repudiation" in seal and "CA:FALSE" in seal


def test_openssl_verifies_every_link_of_the_sm2_chain(tmp_path: Path, sm2: Hierarchy) -> None:
    for issuer, subject in (("root", "issuing"), ("issuing", "seal")):
        done = _openssl_verify_link(tmp_path, issuer=sm2.der(issuer), subject=sm2.der(subject))
        assert done.returncode == 0, f"{issuer} → {subject}: {done.stdout}{done.stderr}"
        assert "OK" in done.stdout
    root = asn1_x509.Certificate.load(sm2.der("root"))
    assert _openssl_verify_signed(
        tmp_path,
        signer_certificate=sm2.der("root"),
        tbs=root["tbs_certificate"].dump(),
        signature=bytes(root["signature_value"].native),
    ), "OpenSSL rejects the root's self-signature"


def test_openssl_rejects_a_tampered_or_foreign_sm2_certificate(tmp_path: Path, sm2: Hierarchy) -> None:
    done = _openssl_verify_link(tmp_path, issuer=sm2.der("issuing"), subject=_flip_in_subject(sm2.der("seal")))
    assert done.returncode != 0 and "signature failure" in done.stdout + done.stderr
    # Same issuer name, other key: the signature cannot verify.
    other = _sm2_hierarchy()
    done = _openssl_verify_link(tmp_path, issuer=other.der("issuing"), subject=sm2.der("seal"))
    assert done.returncode != 0


@pytest.mark.parametrize("which", ["root", "issuing", "seal"])
def test_pkilint_finds_no_errors_or_warnings_in_sm2_certificates(tmp_path: Path, sm2: Hierarchy, which: str) -> None:
    # pkilint decodes the SM2 AlgorithmIdentifiers and SPKI without knowing the algorithm (it has no SM2
    # rules); everything it does know (names, extensions, criticality, encodings) must be clean.
    done = _run(LINT, "lint", "-s", "WARNING", _pem(tmp_path / f"{which}.pem", sm2.der(which)))
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


# --------------------------------------------------------------------------------------------------
# Mixed hierarchies and key checks


def test_mixed_hierarchies_are_refused(sm2: Hierarchy) -> None:
    p256 = ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    subject = ca.organisation_name(organization="混合", uscc=USCC)
    with pytest.raises(ca.CAError, match="mixed hierarchy"):
        sm2.issuing.issue(profile=ca.SEAL_PROFILE, subject=subject, public_key=p256.public_key(), now=NOW)
    ecdsa_signer = ca.SoftwareSigner(p256)
    ecdsa_root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=ecdsa_signer, subject=subject, now=NOW), signer=ecdsa_signer
    )
    with pytest.raises(ca.CAError, match="mixed hierarchy"):
        ecdsa_root.issue(profile=ca.SEAL_PROFILE, subject=subject,
                         public_key=SM2PrivateKey.generate().public_key(), now=NOW)
    with pytest.raises(ca.CAError, match="SM2 key"):
        gm_x509.build_crl(issuer_certificate=sm2.issuing.certificate, signer=ecdsa_signer, revoked=[],
                          crl_number=1, this_update=NOW, next_update=NOW + timedelta(days=1))


def test_an_sm2_ca_with_the_wrong_key_is_refused(sm2: Hierarchy) -> None:
    with pytest.raises(ca.CAError, match="does not match"):
        ca.CertificateAuthority(certificate=sm2.root.certificate, signer=sm2.issuing.signer)
    with pytest.raises(ca.CAError, match="does not match"):
        gm_x509.build_certificate(
            profile=ca.SEAL_PROFILE, subject=sm2.seal.subject, public_key=sm2.seal_key.public_key(),
            signer=sm2.root.signer, issuer_certificate=sm2.issuing.certificate, now=NOW,
        )


def test_public_key_der_reads_any_certificate(sm2: Hierarchy) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = ca.SoftwareSigner(key)
    certificate = ca.create_root_certificate(signer=signer, subject=ca.organisation_name(organization="P"), now=NOW)
    assert public_key_der(certificate) == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public_key_der(sm2.root.certificate) == sm2.root.signer.public_key().to_spki_der()  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------
# verify_chain


def _verify(sm2: Hierarchy, seal_der: bytes | None = None, *, intermediates: list[bytes] | None = None,
            now: datetime = NOW) -> gm_x509.ChainValidation:
    return gm_x509.verify_chain(
        sm2.der("seal") if seal_der is None else seal_der,
        intermediates=[sm2.der("issuing")] if intermediates is None else intermediates,
        anchors=[sm2.der("root")],
        now=now,
    )


def _cn(certificate: x509.Certificate) -> str:
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_verify_chain_accepts_a_good_chain(sm2: Hierarchy) -> None:
    result = _verify(sm2)
    assert result.ok, result.problem
    assert result.path == (sm2.der("seal"), sm2.der("issuing"), sm2.der("root"))
    assert [SEAL_HOLDER in s for s in result.subjects] == [True, False, False]
    # An anchor is trusted as itself; without its intermediate the seal has no path.
    assert gm_x509.verify_chain(sm2.der("root"), intermediates=[], anchors=[sm2.der("root")], now=NOW).ok
    missing = _verify(sm2, intermediates=[])
    assert not missing.ok and "no path" in missing.problem


def test_verify_chain_names_a_certificate_with_a_tampered_tbs(sm2: Hierarchy) -> None:
    result = _verify(sm2, _flip_in_subject(sm2.der("seal")))
    assert not result.ok
    assert "signature does not verify" in result.problem
    # Named as received: the flipped CN, with the untouched O and organizationIdentifier.
    assert result.failed_subject.startswith("CN=") and f"CN={SEAL_HOLDER}," not in result.failed_subject
    assert f"O={SEAL_HOLDER}" in result.failed_subject and USCC in result.failed_subject
    tampered_issuing = _flip_in_subject_of(sm2.der("issuing"), "测试签发CA")
    result = _verify(sm2, intermediates=[tampered_issuing])
    # The seal's issuer name no longer matches the tampered CA's subject: no path at all.
    assert not result.ok and "no path" in result.problem and SEAL_HOLDER in result.failed_subject


def _flip_in_subject_of(der: bytes, name: str) -> bytes:
    encoded = name.encode()
    at = der.rindex(encoded) + 1
    return der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1 :]


def test_verify_chain_rejects_a_seal_from_another_issuer(sm2: Hierarchy) -> None:
    impostor = _sm2_hierarchy()
    # Same issuer name and key identifier, signed by another key: the signature check names the seal.
    forged = _resign(sm2.der("seal"), impostor.issuing.signer, lambda tbs: None)
    result = _verify(sm2, forged)
    assert not result.ok and "signature does not verify" in result.problem and SEAL_HOLDER in result.failed_subject
    # Same issuer name, other CA key: its authorityKeyIdentifier matches no CA we were given.
    result = _verify(sm2, impostor.der("seal"))
    assert not result.ok and "no path" in result.problem and SEAL_HOLDER in result.failed_subject
    # A differently named issuer: no path to the anchor, reported on the seal.
    stranger = _sm2_hierarchy(issuing_name="另一签发CA")
    result = _verify(sm2, stranger.der("seal"), intermediates=[sm2.der("issuing"), stranger.der("issuing")])
    assert not result.ok and "no path" in result.problem and SEAL_HOLDER in result.failed_subject


def test_verify_chain_checks_validity_at_the_given_time(sm2: Hierarchy) -> None:
    expired = _verify(sm2, now=sm2.seal.not_valid_after_utc + timedelta(seconds=1))
    assert not expired.ok and "expired" in expired.problem and SEAL_HOLDER in expired.failed_subject
    assert _verify(sm2, now=sm2.seal.not_valid_after_utc).ok
    early = _verify(sm2, now=NOW - CLOCK_SKEW - timedelta(seconds=1))
    assert not early.ok and "not valid before" in early.problem
    # The root is checked as well: it names the anchor.
    after_root = _verify(sm2, now=sm2.root.certificate.not_valid_after_utc + timedelta(seconds=1))
    assert not after_root.ok and "测试根CA" in after_root.failed_subject


def test_verify_chain_needs_keycertsign_on_the_issuer(sm2: Hierarchy) -> None:
    def crl_sign_only(tbs: asn1_x509.TbsCertificate) -> None:
        tbs["extensions"] = [
            e if e["extn_id"].native != "key_usage" else asn1_x509.Extension(
                {"extn_id": "key_usage", "critical": True, "extn_value": asn1_x509.KeyUsage({"crl_sign"})}
            )
            for e in tbs["extensions"]
        ]

    weakened = _resign(sm2.der("issuing"), sm2.root.signer, crl_sign_only)
    result = _verify(sm2, intermediates=[weakened])
    assert not result.ok and "keyCertSign" in result.problem and "测试签发CA" in result.failed_subject


def test_verify_chain_enforces_path_length(sm2: Hierarchy) -> None:
    sub_signer = SM2Signer(SM2PrivateKey.generate())
    sub_ca = x509.load_der_x509_certificate(gm_x509.build_certificate(
        profile=ca.ISSUING_CA_PROFILE, subject=ca.organisation_name(organization="子签发CA"),
        public_key=sub_signer.public_key(), signer=sm2.issuing.signer,
        issuer_certificate=sm2.issuing.certificate, now=NOW,
    ))
    seal = gm_x509.build_certificate(
        profile=ca.SEAL_PROFILE, subject=ca.organisation_name(organization=SEAL_HOLDER, uscc=USCC),
        public_key=SM2PrivateKey.generate().public_key(), signer=sub_signer, issuer_certificate=sub_ca, now=NOW,
    )
    sub_der = sub_ca.public_bytes(serialization.Encoding.DER)
    # root (pathLen 1) → issuing (pathLen 0) → sub-CA → seal: both limits are broken; the root's is found first.
    result = _verify(sm2, seal, intermediates=[sm2.der("issuing"), sub_der])
    assert not result.ok and "pathLenConstraint 1" in result.problem and "测试根CA" in result.failed_subject
    # With the issuing CA as the anchor, its own pathLen 0 is what fails.
    result = gm_x509.verify_chain(seal, intermediates=[sub_der], anchors=[sm2.der("issuing")], now=NOW)
    assert not result.ok and "pathLenConstraint 0" in result.problem and "测试签发CA" in result.failed_subject
    assert gm_x509.verify_chain(seal, intermediates=[], anchors=[sub_der], now=NOW).ok


def test_verify_chain_fails_closed_on_unknown_critical_extensions(sm2: Hierarchy) -> None:
    def add_critical(tbs: asn1_x509.TbsCertificate) -> None:
        extensions = list(tbs["extensions"])
        extensions.append(asn1_x509.Extension({
            "extn_id": "1.3.6.1.4.1.99999.1", "critical": True,
            "extn_value": core.ParsableOctetString(core.Null().dump()),
        }))
        tbs["extensions"] = extensions

    strange = _resign(sm2.der("seal"), sm2.issuing.signer, add_critical)
    result = _verify(sm2, strange)
    assert not result.ok and "unknown critical extension 1.3.6.1.4.1.99999.1" in result.problem
    assert SEAL_HOLDER in result.failed_subject

    def repeat_key_usage(tbs: asn1_x509.TbsCertificate) -> None:
        tbs["extensions"] = [*tbs["extensions"], tbs["extensions"][1].copy()]

    doubled = _resign(sm2.der("seal"), sm2.issuing.signer, repeat_key_usage)
    result = _verify(sm2, doubled)
    assert not result.ok and "2.5.29.15 appears twice" in result.problem and SEAL_HOLDER in result.failed_subject


def test_verify_chain_refuses_non_sm2_signatures_and_empty_trust(sm2: Hierarchy) -> None:
    signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    ecdsa = ca.create_root_certificate(signer=signer, subject=ca.organisation_name(organization="P"), now=NOW)
    ecdsa_der = ecdsa.public_bytes(serialization.Encoding.DER)
    result = gm_x509.verify_chain(ecdsa_der, intermediates=[], anchors=[sm2.der("root")], now=NOW)
    assert not result.ok
    with pytest.raises(ca.CAError, match="trust anchors"):
        gm_x509.verify_chain(sm2.der("seal"), intermediates=[sm2.der("issuing")], anchors=[], now=NOW)
    with pytest.raises(ca.CAError, match="UTC"):
        _verify(sm2, now=NOW.replace(tzinfo=None))
    garbage = gm_x509.verify_chain(b"\x30\x03\x02\x01\x01", intermediates=[], anchors=[sm2.der("root")], now=NOW)
    assert not garbage.ok and garbage.problem


def test_the_ofdrw_certificate_parses_but_does_not_chain_to_our_root(shared_dir: Path, sm2: Hierarchy) -> None:
    pem = (shared_dir / "interop" / "ofdrw" / "sign_cert.pem").read_bytes()
    certificate = x509.load_pem_x509_certificate(pem)
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert certificate.signature_algorithm_oid.dotted_string == "1.2.156.10197.1.501"
    assert _cn(certificate) == "Test Certificate"
    key = SM2PublicKey.from_certificate_der(der)
    assert public_key_der(certificate) == key.to_spki_der()
    assert asn1_x509.Certificate.load(der)["signature_algorithm"].dump() == SM2_SM3_ALGORITHM_DER
    result = gm_x509.verify_chain(der, intermediates=[], anchors=[sm2.der("root")], now=NOW)
    assert not result.ok and "no path" in result.problem and "Test Certificate" in result.failed_subject


# --------------------------------------------------------------------------------------------------
# CRLs


@pytest.fixture(scope="module")
def sm2_crl(sm2: Hierarchy) -> bytes:
    return gm_x509.build_crl(
        issuer_certificate=sm2.issuing.certificate,
        signer=sm2.issuing.signer,
        revoked=[
            gm_x509.RevokedCertificate(serial_number=sm2.seal.serial_number, revocation_date=NOW,
                                       reason=x509.ReasonFlags.key_compromise),
            gm_x509.RevokedCertificate(serial_number=12345, revocation_date=NOW),
        ],
        crl_number=42,
        this_update=NOW + timedelta(hours=1),
        next_update=NOW + timedelta(days=7),
    )


def test_the_sm2_crl_is_an_rfc5280_v2_crl_that_openssl_reads(tmp_path: Path, sm2: Hierarchy, sm2_crl: bytes) -> None:
    loaded = x509.load_der_x509_crl(sm2_crl)
    assert loaded.issuer == sm2.issuing.certificate.subject
    assert loaded.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    aki = loaded.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == sm2.issuing.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    entry = loaded.get_revoked_certificate_by_serial_number(sm2.seal.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    unspecified = loaded.get_revoked_certificate_by_serial_number(12345)
    assert unspecified is not None and len(unspecified.extensions) == 0  # RFC 5280 §5.3.1: leave it out
    assert asn1_crl.CertificateList.load(sm2_crl)["signature_algorithm"].dump() == SM2_SM3_ALGORITHM_DER

    (tmp_path / "crl.der").write_bytes(sm2_crl)
    text = _run("openssl", "crl", "-inform", "DER", "-in", tmp_path / "crl.der", "-noout", "-text").stdout
    assert "Signature Algorithm: SM2-with-SM3" in text and "Key Compromise" in text and "Version 2" in text
    # `openssl crl -verify` cannot be given the SM2 ID (see the module docstring): OpenSSL checks the same
    # signature through pkeyutl instead.
    parsed = asn1_crl.CertificateList.load(sm2_crl)
    assert _openssl_verify_signed(
        tmp_path, signer_certificate=sm2.der("issuing"),
        tbs=parsed["tbs_cert_list"].dump(), signature=bytes(parsed["signature"].native),
    )
    (tmp_path / "crl.pem").write_text(
        _run("openssl", "crl", "-inform", "DER", "-in", tmp_path / "crl.der").stdout
    )
    lint = _run(LINT_CRL, "lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING", tmp_path / "crl.pem")
    assert lint.returncode == 0 and lint.stdout.strip() == "", lint.stdout + lint.stderr


def test_verify_crl(sm2: Hierarchy, sm2_crl: bytes) -> None:
    at = NOW + timedelta(days=1)
    result = gm_x509.verify_crl(sm2_crl, issuer_certificate=sm2.der("issuing"), now=at)
    assert result.ok, result.problem
    assert result.crl_number == 42
    assert result.is_revoked(sm2.seal.serial_number) and not result.is_revoked(sm2.seal.serial_number + 1)
    assert result.revoked[sm2.seal.serial_number] is x509.ReasonFlags.key_compromise

    stale = gm_x509.verify_crl(sm2_crl, issuer_certificate=sm2.der("issuing"), now=NOW + timedelta(days=8))
    assert not stale.ok and "stale" in stale.problem
    early = gm_x509.verify_crl(sm2_crl, issuer_certificate=sm2.der("issuing"), now=NOW)
    assert not early.ok
    wrong_issuer = gm_x509.verify_crl(sm2_crl, issuer_certificate=sm2.der("root"), now=at)
    assert not wrong_issuer.ok and "issuer" in wrong_issuer.problem
    at_serial = sm2_crl.index(b"\x02\x02\x30\x39")  # INTEGER 12345
    tampered = sm2_crl[:at_serial] + b"\x02\x02\x30\x3a" + sm2_crl[at_serial + 4 :]  # revoke 12346 instead
    tampered_result = gm_x509.verify_crl(tampered, issuer_certificate=sm2.der("issuing"), now=at)
    assert not tampered_result.ok and "signature does not verify" in tampered_result.problem


def test_crl_requests_are_checked(sm2: Hierarchy) -> None:
    def build(**changes: object) -> bytes:
        arguments: dict[str, object] = {
            "issuer_certificate": sm2.issuing.certificate, "signer": sm2.issuing.signer, "revoked": [],
            "crl_number": 1, "this_update": NOW, "next_update": NOW + timedelta(days=1),
        } | changes
        return gm_x509.build_crl(**arguments)  # type: ignore[arg-type]

    empty = build()
    assert x509.load_der_x509_crl(empty).get_revoked_certificate_by_serial_number(1) is None
    assert gm_x509.verify_crl(empty, issuer_certificate=sm2.der("issuing"), now=NOW).ok
    with pytest.raises(ca.CAError, match="nextUpdate"):
        build(next_update=NOW)
    with pytest.raises(ca.CAError, match="twice"):
        entry = gm_x509.RevokedCertificate(serial_number=7, revocation_date=NOW)
        build(revoked=[entry, entry])
    with pytest.raises(ca.CAError, match="cRLSign"):
        build(issuer_certificate=sm2.seal, signer=SM2Signer(sm2.seal_key))
