# pyHanko leaves parts of its API unannotated; calling them is not an error here.
# mypy: disable-error-code="no-untyped-call"
"""Verifying sealed PDFs: a verdict with named checks, never a crash on a bad seal."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import qrcode
from cryptography import x509
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

import ca
from issuance.render import LicenseFace, render_license_face
from issuance.stamp import stamp_pdf
from verification.errors import InputTooLargeError, MalformedInputError, TrustConfigurationError
from verification.pdf import verify_pdf
from verification.ports import StatusUnavailableError
from verification.result import CheckOutcome, Verdict, VerificationResult

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SIGNED_AT = NOW + timedelta(hours=1)
CHECK_AT = NOW + timedelta(days=30)
IDENTIFIER = "1.2.156.3005.2.11100000000013338W027.11100000000013338W.0000000000000000001A.001.K"


def _root(name: str) -> ca.CertificateAuthority:
    signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    certificate = ca.create_root_certificate(signer=signer, subject=ca.organisation_name(organization=name),
                                             now=NOW)
    return ca.CertificateAuthority(certificate=certificate, signer=signer)


def _seal_png() -> bytes:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((5, 5, 295, 295), outline=(220, 0, 0, 255), width=10)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Sealed:
    """A rendered licence face sealed under a two-level test PKI."""

    def __init__(self) -> None:
        self.root = _root("测试根CA")
        issuing = ca.create_issuing_ca(
            root=self.root,
            signer=ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256)),
            subject=ca.organisation_name(organization="测试签发CA"),
            now=NOW,
        )
        signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
        self.seal_certificate = issuing.issue(
            profile=ca.SEAL_PROFILE,
            subject=ca.organisation_name(organization="示范市公安局交通警察支队", uscc="11100000000013338W"),
            public_key=signer.public_key(),
            now=NOW,
        )
        qr = qrcode.make("YX1:TEST", border=2)
        buffer = io.BytesIO()
        qr.save(buffer, format="PNG")
        self.face = render_license_face(
            LicenseFace(
                title="中华人民共和国机动车驾驶证",
                fields=(("姓名", "李四"), ("准驾车型", "C1")),
                identifier=IDENTIFIER,
                issuer_name="示范市公安局交通警察支队",
                issue_date=date(2026, 11, 26),
                qr_png=buffer.getvalue(),
            )
        )
        self.pdf = stamp_pdf(
            self.face,
            signer=signer,
            certificate=self.seal_certificate,
            chain=[issuing.certificate],
            seal_png=_seal_png(),
            reason="电子证照签发",
            location="示范市",
            signing_time=SIGNED_AT,
        )


@pytest.fixture(scope="module")
def sealed() -> Sealed:
    return Sealed()


class Registry:
    """A LicenseStatusSource over a dict, as registry/ will implement it over a table."""

    def __init__(self, statuses: dict[str, str], *, reachable: bool = True) -> None:
        self.statuses = statuses
        self.reachable = reachable
        self.asked: list[str] = []

    def license_status(self, identifier: str) -> str | None:
        self.asked.append(identifier)
        if not self.reachable:
            raise StatusUnavailableError("registry down")
        return self.statuses.get(identifier)


def outcome(result: VerificationResult, name: str) -> CheckOutcome:
    (check,) = [c for c in result.checks if c.name == name]
    return check.outcome


def detail(result: VerificationResult, name: str) -> str:
    (check,) = [c for c in result.checks if c.name == name]
    return check.detail


def test_a_sealed_licence_is_valid(sealed: Sealed) -> None:
    result = verify_pdf(sealed.pdf, trust_roots=[sealed.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.VALID, result.reasons
    assert [c.name for c in result.checks] == [
        "format", "integrity", "signature", "coverage", "certificate_trust", "license_status",
    ]
    assert outcome(result, "license_status") is CheckOutcome.SKIPPED
    assert result.kind == "pdf"
    assert result.license_identifier == IDENTIFIER
    assert result.signing_time == SIGNED_AT
    assert result.signing_time_source == "signer-claimed"
    assert result.signer is not None and "CN=示范市公安局交通警察支队" in result.signer
    assert result.to_dict()["verdict"] == "VALID"


def test_a_byte_changed_inside_the_signed_range_breaks_integrity(sealed: Sealed) -> None:
    tampered = bytearray(sealed.pdf)
    # the binary comment on the header's second line: signed, but not structural
    tampered[10] ^= 0x01
    result = verify_pdf(bytes(tampered), trust_roots=[sealed.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert outcome(result, "integrity") is CheckOutcome.FAILED
    assert "altered" in detail(result, "integrity")
    # the chain itself is still fine: only the document changed
    assert outcome(result, "certificate_trust") is CheckOutcome.PASSED


def test_a_forged_signature_value_fails_the_signature_check(sealed: Sealed) -> None:
    # /Contents is outside the signed range; the ECDSA value sits at the end of the CMS object
    # (a B-B signature has no unsigned attributes), before the zero padding.
    start = sealed.pdf.rindex(b"/Contents <") + len(b"/Contents <")
    end = sealed.pdf.index(b">", start)
    hex_cms = sealed.pdf[start:end].rstrip(b"0")
    target = start + len(hex_cms) - 12
    forged = bytearray(sealed.pdf)
    forged[target] = ord("1") if forged[target] != ord("1") else ord("2")
    result = verify_pdf(bytes(forged), trust_roots=[sealed.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert outcome(result, "integrity") is CheckOutcome.PASSED
    assert outcome(result, "signature") is CheckOutcome.FAILED


def test_an_untrusted_root_is_not_valid(sealed: Sealed) -> None:
    stranger = _root("陌生根CA")
    result = verify_pdf(sealed.pdf, trust_roots=[stranger.certificate], now=CHECK_AT)
    assert result.verdict is not Verdict.VALID
    assert outcome(result, "certificate_trust") is CheckOutcome.FAILED
    assert outcome(result, "integrity") is CheckOutcome.PASSED


def test_an_expired_seal_certificate_is_not_trusted(sealed: Sealed) -> None:
    later = sealed.seal_certificate.not_valid_after_utc + timedelta(days=1)
    result = verify_pdf(sealed.pdf, trust_roots=[sealed.root.certificate], now=later)
    assert result.verdict is not Verdict.VALID
    assert outcome(result, "certificate_trust") is CheckOutcome.FAILED


def test_a_pdf_without_signatures_is_invalid(sealed: Sealed) -> None:
    result = verify_pdf(sealed.face, trust_roots=[sealed.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert outcome(result, "format") is CheckOutcome.FAILED
    assert outcome(result, "signature") is CheckOutcome.FAILED
    assert "no signature" in detail(result, "signature")


def test_a_page_changed_after_sealing_fails_coverage(sealed: Sealed) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed.pdf))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    extra = generic.StreamObject(stream_data=b"BT /F1 30 Tf 80 600 Td ET 0 0 1 rg 80 600 200 40 re f")
    page = page_ref.get_object()
    page["/Contents"] = generic.ArrayObject([page["/Contents"], writer.add_object(extra)])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue(), trust_roots=[sealed.root.certificate], now=CHECK_AT)
    assert result.verdict is Verdict.INVALID
    assert outcome(result, "integrity") is CheckOutcome.PASSED
    assert outcome(result, "coverage") is CheckOutcome.FAILED
    assert "modified after sealing" in detail(result, "coverage")


def test_the_identifier_is_read_from_the_signed_revision(sealed: Sealed) -> None:
    # An update after sealing that points /Info at another licence must not redirect the lookup.
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed.pdf))
    info = writer.trailer["/Info"]
    info["/YinxinLicenseIdentifier"] = generic.TextStringObject("1.2.156.OTHER")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    registry = Registry({IDENTIFIER: "active"})
    result = verify_pdf(out.getvalue(), trust_roots=[sealed.root.certificate], now=CHECK_AT,
                        status_source=registry)
    assert registry.asked == [IDENTIFIER]
    assert result.license_identifier == IDENTIFIER
    # A metadata-only update is an allowed change (the sealed page is untouched).
    assert result.verdict is Verdict.VALID, result.reasons


@pytest.mark.parametrize(
    ("statuses", "reachable", "expected", "verdict", "words"),
    [
        ({IDENTIFIER: "active"}, True, CheckOutcome.PASSED, Verdict.VALID, "active"),
        ({IDENTIFIER: "revoked"}, True, CheckOutcome.FAILED, Verdict.INVALID, "revoked"),
        ({IDENTIFIER: "suspended"}, True, CheckOutcome.FAILED, Verdict.INVALID, "suspended"),
        ({}, True, CheckOutcome.FAILED, Verdict.INVALID, "unknown"),
        ({}, False, CheckOutcome.INDETERMINATE, Verdict.INDETERMINATE, "cannot be reached"),
    ],
)
def test_licence_status_from_the_registry(
    sealed: Sealed,
    statuses: dict[str, str],
    reachable: bool,
    expected: CheckOutcome,
    verdict: Verdict,
    words: str,
) -> None:
    registry = Registry(statuses, reachable=reachable)
    result = verify_pdf(sealed.pdf, trust_roots=[sealed.root.certificate], now=CHECK_AT,
                        status_source=registry)
    assert registry.asked == [IDENTIFIER]
    assert outcome(result, "license_status") is expected
    assert words in detail(result, "license_status")
    assert result.verdict is verdict
    assert result.license_status == statuses.get(IDENTIFIER)


def test_an_identifier_passed_in_must_match_the_document(sealed: Sealed) -> None:
    registry = Registry({"1.2.156.OTHER": "active", IDENTIFIER: "active"})
    result = verify_pdf(sealed.pdf, trust_roots=[sealed.root.certificate], now=CHECK_AT,
                        status_source=registry, license_identifier="1.2.156.OTHER")
    assert outcome(result, "license_status") is CheckOutcome.FAILED
    assert result.verdict is Verdict.INVALID


def test_an_identifier_passed_in_is_used_for_a_plain_sealed_document(sealed: Sealed) -> None:
    # A document without the /Info key (e.g. sealed by another tool) relies on the caller's identifier.
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed.face))
    del writer.trailer["/Info"]["/YinxinLicenseIdentifier"]
    writer.update_container(writer.trailer["/Info"])
    plain = io.BytesIO()
    writer.write(plain)
    registry = Registry({IDENTIFIER: "active"})
    unnamed = verify_pdf(stamp_again(sealed, plain.getvalue()), trust_roots=[sealed.root.certificate],
                         now=CHECK_AT, status_source=registry)
    assert outcome(unnamed, "license_status") is CheckOutcome.SKIPPED
    named = verify_pdf(stamp_again(sealed, plain.getvalue()), trust_roots=[sealed.root.certificate],
                       now=CHECK_AT, status_source=registry, license_identifier=IDENTIFIER)
    assert outcome(named, "license_status") is CheckOutcome.PASSED
    assert named.verdict is Verdict.VALID


def stamp_again(sealed: Sealed, pdf: bytes) -> bytes:
    root_ca = sealed.root
    signer = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    certificate = root_ca.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization="示范市公安局交通警察支队"),
        public_key=signer.public_key(),
        now=NOW,
    )
    return stamp_pdf(pdf, signer=signer, certificate=certificate, chain=[], seal_png=_seal_png(),
                     signing_time=SIGNED_AT)


def test_not_a_pdf_is_malformed_input(sealed: Sealed) -> None:
    with pytest.raises(MalformedInputError, match="PDF"):
        verify_pdf(b"<html>hello</html>", trust_roots=[sealed.root.certificate], now=CHECK_AT)
    with pytest.raises(MalformedInputError, match="PDF"):
        verify_pdf(b"%PDF-1.7\n garbage without objects", trust_roots=[sealed.root.certificate],
                   now=CHECK_AT)


def test_an_oversized_pdf_is_refused_before_parsing(sealed: Sealed) -> None:
    with pytest.raises(InputTooLargeError):
        verify_pdf(sealed.pdf, trust_roots=[sealed.root.certificate], now=CHECK_AT, max_size=1000)


def test_no_trust_anchors_fails_closed(sealed: Sealed) -> None:
    roots: list[x509.Certificate] = []
    with pytest.raises(TrustConfigurationError):
        verify_pdf(sealed.pdf, trust_roots=roots, now=CHECK_AT)
