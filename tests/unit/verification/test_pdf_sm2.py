# pyHanko leaves parts of its API unannotated; calling them is not an error here.
# mypy: disable-error-code="no-untyped-call"
"""Verifying SM2-sealed PDFs: GB/T 35275 CMS and GB/T 20518 chains through pyHanko and ca.sm2."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import qrcode
from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator.sig_validate import SignatureValidationContext

import ca
from ca.oids import SM2_SIGN, SM2_SM3
from ca.sm2 import SM2PrivateKey
from issuance.render import LicenseFace, render_license_face
from issuance.stamp import stamp_pdf
from verification.pdf import SM2SignatureValidator, verify_pdf
from verification.result import CheckOutcome, Verdict, VerificationResult

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SIGNED_AT = NOW + timedelta(hours=1)
CHECK_AT = NOW + timedelta(days=30)
SM2 = ca.SignatureAlgorithm.SM2_SM3
IDENTIFIER = "1.2.156.3005.2.11100000000013338W027.11100000000013338W.0000000000000000001A.001.K"
ISSUER = "示范市公安局交通警察支队"


class Pki:
    """An SM2 hierarchy (GB/T 20518). Two of them share every name, so only keys tell them apart."""

    def __init__(self) -> None:
        root_signer = ca.SoftwareSigner(ca.generate_private_key(SM2))
        self.root = ca.CertificateAuthority(
            certificate=ca.create_root_certificate(
                signer=root_signer, subject=ca.organisation_name(organization="测试根CA"), now=NOW
            ),
            signer=root_signer,
        )
        self.issuing = ca.create_issuing_ca(
            root=self.root,
            signer=ca.SoftwareSigner(ca.generate_private_key(SM2)),
            subject=ca.organisation_name(organization="测试签发CA"),
            now=NOW,
        )
        self.seal_signer = ca.SoftwareSigner(SM2PrivateKey.generate())
        self.seal_certificate = self.issuing.issue(
            profile=ca.SEAL_PROFILE,
            subject=ca.organisation_name(organization=ISSUER, uscc="11100000000013338W"),
            public_key=self.seal_signer.public_key(),
            now=NOW,
        )


def _seal_png() -> bytes:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((5, 5, 295, 295), outline=(220, 0, 0, 255), width=10)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def face() -> bytes:
    qr = qrcode.make("YX1:TEST", border=2)
    buffer = io.BytesIO()
    qr.save(buffer, format="PNG")
    return render_license_face(
        LicenseFace(
            title="中华人民共和国机动车驾驶证",
            fields=(("姓名", "李四"), ("准驾车型", "C1")),
            identifier=IDENTIFIER,
            issuer_name=ISSUER,
            issue_date=date(2026, 11, 26),
            qr_png=buffer.getvalue(),
        )
    )


def seal(face: bytes, pki: Pki) -> bytes:
    return stamp_pdf(
        face,
        signer=pki.seal_signer,
        certificate=pki.seal_certificate,
        chain=[pki.issuing.certificate],
        seal_png=_seal_png(),
        signing_time=SIGNED_AT,
    )


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def stranger() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def sealed(face: bytes, pki: Pki) -> bytes:
    return seal(face, pki)


def check(result: VerificationResult, name: str) -> tuple[CheckOutcome, str]:
    (found,) = [c for c in result.checks if c.name == name]
    return found.outcome, found.detail


def with_cms(pdf: bytes, change: Callable[[cms.ContentInfo], None]) -> bytes:
    """``pdf`` with its CMS object changed in place in /Contents (outside the signed byte ranges)."""
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    start, first, second, _ = (int(n) for n in embedded.sig_object["/ByteRange"])
    hole = pdf[start + first : second]
    content_info = cms.ContentInfo.load(bytes.fromhex(hole[1:-1].decode()))
    change(content_info)
    hexed: bytes = content_info.dump(force=True).hex().encode()
    assert len(hexed) <= len(hole) - 2
    return pdf[: start + first] + b"<" + hexed.ljust(len(hole) - 2, b"0") + b">" + pdf[second:]


class Registry:
    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses

    def license_status(self, identifier: str) -> str | None:
        return self.statuses.get(identifier)


def test_an_sm2_seal_verifies(sealed: bytes, pki: Pki) -> None:
    result = verify_pdf(
        sealed, trust_roots=[pki.root.certificate], now=CHECK_AT, status_source=Registry({IDENTIFIER: "active"})
    )
    assert result.verdict is Verdict.VALID, result.reasons
    assert [c.name for c in result.checks] == [
        "format", "integrity", "signature", "coverage", "certificate_trust", "license_status",
    ]
    assert all(c.outcome is CheckOutcome.PASSED for c in result.checks)
    assert check(result, "signature")[1] == f"Seal: SM2-with-SM3 ({SM2_SM3}) signature verifies"
    assert result.signer is not None and f"CN={ISSUER}" in result.signer
    assert result.signing_time == SIGNED_AT
    assert result.license_identifier == IDENTIFIER


def test_a_flipped_byte_in_the_signed_range_fails_integrity(sealed: bytes, pki: Pki) -> None:
    tampered = bytearray(sealed)
    tampered[10] ^= 0x01  # the binary comment after %PDF-: signed, not structural
    result = verify_pdf(bytes(tampered), trust_roots=[pki.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert check(result, "integrity")[0] is CheckOutcome.FAILED
    # The SM2 signature over the signed attributes is still good: only the SM3 digest disagrees.
    assert check(result, "signature")[0] is CheckOutcome.PASSED


def test_a_seal_from_a_strangers_sm2_root_is_not_trusted(face: bytes, pki: Pki, stranger: Pki) -> None:
    # Same names at every level as our hierarchy, other keys.
    result = verify_pdf(seal(face, stranger), trust_roots=[pki.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert check(result, "integrity")[0] is CheckOutcome.PASSED
    assert check(result, "signature")[0] is CheckOutcome.PASSED
    outcome, detail = check(result, "certificate_trust")
    assert outcome is CheckOutcome.FAILED, detail


def test_a_chain_certificate_whose_sm2_signature_fails_is_not_trusted(
    sealed: bytes, pki: Pki, stranger: Pki
) -> None:
    # The issuing CA's certificate as embedded, re-signed by a key that is not the root's: its
    # names, key identifiers and validity still match, only the SM2 signature is wrong.
    issuing_der = pki.issuing.certificate.public_bytes(Encoding.DER)

    def forge(content_info: cms.ContentInfo) -> None:
        for choice in content_info["content"]["certificates"]:
            if choice.chosen.dump() == issuing_der:
                forged = asn1_x509.Certificate.load(issuing_der)
                forged["signature_value"] = stranger.root.signer.sign(forged["tbs_certificate"].dump())
                choice.chosen["signature_value"] = forged["signature_value"]

    result = verify_pdf(with_cms(sealed, forge), trust_roots=[pki.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert check(result, "signature")[0] is CheckOutcome.PASSED
    assert check(result, "certificate_trust")[0] is CheckOutcome.FAILED


@pytest.mark.parametrize("oid", [SM2_SIGN, SM2_SM3], ids=["sm2sign-301.1", "sm2-with-sm3-501"])
def test_both_sm2_signature_identifiers_are_accepted(sealed: bytes, pki: Pki, oid: str) -> None:
    # signatureAlgorithm is outside the signed attributes (no RFC 6211 attribute in PAdES), so
    # rewriting it leaves the SM2 signature intact: GB/T 35275's sm2sign and the 1.501 others write.
    def rename(content_info: cms.ContentInfo) -> None:
        content_info["content"]["signer_infos"][0]["signature_algorithm"] = {"algorithm": oid}

    result = verify_pdf(with_cms(sealed, rename), trust_roots=[pki.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.VALID, result.reasons
    assert oid in check(result, "signature")[1]


def test_an_sm2_signature_labelled_ecdsa_is_refused(sealed: bytes, pki: Pki) -> None:
    def relabel(content_info: cms.ContentInfo) -> None:
        content_info["content"]["signer_infos"][0]["signature_algorithm"] = {"algorithm": "sha256_ecdsa"}

    result = verify_pdf(with_cms(sealed, relabel), trust_roots=[pki.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert check(result, "signature")[0] is CheckOutcome.FAILED


def test_an_sm2_signature_by_another_key_fails(sealed: bytes, pki: Pki) -> None:
    def resign(content_info: cms.ContentInfo) -> None:
        info = content_info["content"]["signer_infos"][0]
        info["signature"] = SM2PrivateKey.generate().sign(info["signed_attrs"].untag().dump())

    result = verify_pdf(with_cms(sealed, resign), trust_roots=[pki.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert check(result, "signature") == (
        CheckOutcome.FAILED, f"Seal: SM2-with-SM3 ({SM2_SM3}) signature does not verify"
    )


# The validator on its own, on certificate signatures (what pyhanko-certvalidator hands it).


def _link(pki: Pki) -> tuple[bytes, bytes, algos.SignedDigestAlgorithm]:
    issuing = asn1_x509.Certificate.load(pki.issuing.certificate.public_bytes(Encoding.DER))
    return issuing["signature_value"].native, issuing["tbs_certificate"].dump(), issuing["signature_algorithm"]


def _spki(pki: Pki) -> asn1_x509.PublicKeyInfo:
    root = asn1_x509.Certificate.load(pki.root.certificate.public_bytes(Encoding.DER))
    key: asn1_x509.PublicKeyInfo = root.public_key
    return key


def test_the_validator_checks_sm2_certificate_signatures(pki: Pki, stranger: Pki) -> None:
    validator = SM2SignatureValidator()
    signature, tbs, algorithm = _link(pki)
    validator.validate_signature(signature, tbs, _spki(pki), algorithm)
    with pytest.raises(InvalidSignature):
        validator.validate_signature(signature, tbs, _spki(stranger), algorithm)
    with pytest.raises(InvalidSignature):
        validator.validate_signature(signature, tbs[:-1] + bytes([tbs[-1] ^ 1]), _spki(pki), algorithm)


@pytest.mark.parametrize(
    "context",
    [SignatureValidationContext(contextual_md_algorithm="sha256"), SignatureValidationContext(prehashed=True)],
    ids=["sha256-message-digest", "prehashed"],
)
def test_the_validator_refuses_sm2_without_sm3_over_the_message(
    pki: Pki, context: SignatureValidationContext
) -> None:
    signature, tbs, algorithm = _link(pki)
    with pytest.raises(InvalidSignature):
        SM2SignatureValidator().validate_signature(signature, tbs, _spki(pki), algorithm, context)


def test_the_validator_refuses_an_sm2_key_under_ecdsa(pki: Pki) -> None:
    signature, tbs, _ = _link(pki)
    ecdsa = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    with pytest.raises(InvalidSignature):
        SM2SignatureValidator().validate_signature(signature, tbs, _spki(pki), ecdsa)
