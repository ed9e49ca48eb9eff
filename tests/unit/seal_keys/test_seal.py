"""Making a seal: key in the store, certificate from the issuing CA naming the department, image."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

import ca
from seal_keys import Department, SealKeyError, SealType, SoftwareKeyStore, make_seal

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DEPT = Department(uscc="11330100002500295Y", name="示范市政务服务数据管理局")


@pytest.fixture(scope="module")
def authority() -> ca.CertificateAuthority:
    signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=signer, subject=ca.organisation_name(organization="根"),
                                               now=NOW),
        signer=signer,
    )
    return ca.create_issuing_ca(root=root, signer=ca.SoftwareSigner(ca.generate_private_key(
        ca.SignatureAlgorithm.ECDSA_P256_SHA256)), subject=ca.organisation_name(organization="签发"), now=NOW)


def test_official_seal(tmp_path: Path, authority: ca.CertificateAuthority) -> None:
    store = SoftwareKeyStore(tmp_path, "seal test passphrase")
    seal = make_seal(department=DEPT, seal_type=SealType.OFFICIAL, keystore=store, authority=authority,
                     algorithm=ca.SignatureAlgorithm.ECDSA_P256_SHA256, now=NOW)
    assert seal.key_id in store.key_ids()
    assert seal.certificate.public_key() == store.public_key(seal.key_id)
    assert seal.certificate.issuer == authority.certificate.subject
    subject = seal.certificate.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == DEPT.uscc
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "示范市政务服务数据管理局公章"
    assert seal.certificate.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    assert seal.image.png.startswith(b"\x89PNG") and 40 <= seal.image.width_mm <= 42
    assert "PRIVATE" not in repr(seal)


def test_contract_seal_and_name_seal(tmp_path: Path, authority: ca.CertificateAuthority) -> None:
    store = SoftwareKeyStore(tmp_path, "seal test passphrase")
    contract = make_seal(department=DEPT, seal_type=SealType.parse("合同专用章"), keystore=store,
                         authority=authority, algorithm=ca.SignatureAlgorithm.ED25519, now=NOW)
    assert contract.name.endswith("合同专用章")
    with pytest.raises(SealKeyError, match="legal representative"):
        make_seal(department=DEPT, seal_type=SealType.LEGAL_REPRESENTATIVE, keystore=store, authority=authority,
                  algorithm=ca.SignatureAlgorithm.ED25519, now=NOW)
    name_seal = make_seal(department=DEPT, seal_type=SealType.LEGAL_REPRESENTATIVE, keystore=store,
                          authority=authority, algorithm=ca.SignatureAlgorithm.ED25519, now=NOW, holder_name="李明")
    assert name_seal.image.width_mm == name_seal.image.height_mm


def test_unknown_seal_type_lists_the_choices() -> None:
    with pytest.raises(SealKeyError, match="合同专用章"):
        SealType.parse("round")
