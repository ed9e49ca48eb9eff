"""Sealing a licence face: a visible PAdES signature that poppler's pdfsig accepts."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import qrcode
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader

import ca
from issuance.errors import RenderError
from issuance.render import SEAL_BOX, LicenseFace, render_license_face
from issuance.stamp import KeySignerAdapter, stamp_pdf
from verification.pdf import verify_pdf
from verification.result import CheckOutcome, Verdict

pytestmark = pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils is not installed")

# Real time for the certificates: pdfsig validates them against the machine's clock.
NOW = datetime.now(UTC).replace(microsecond=0)
SIGNING_TIME = NOW - timedelta(minutes=1)


class Pki:
    def __init__(self, algorithm: ca.SignatureAlgorithm) -> None:
        root_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
        self.root = ca.CertificateAuthority(
            certificate=ca.create_root_certificate(
                signer=root_signer, subject=ca.organisation_name(organization="测试根CA"), now=NOW
            ),
            signer=root_signer,
        )
        self.issuing = ca.create_issuing_ca(
            root=self.root,
            signer=ca.SoftwareSigner(ca.generate_private_key(algorithm)),
            subject=ca.organisation_name(organization="测试签发CA"),
            now=NOW,
        )
        self.seal_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
        self.seal_certificate = self.issuing.issue(
            profile=ca.SEAL_PROFILE,
            subject=ca.organisation_name(
                organization="北京市公安局公安交通管理局", uscc="11100000000013338W"
            ),
            public_key=self.seal_signer.public_key(),
            now=NOW,
        )


def seal_png() -> bytes:
    """A red ring and star on a transparent background (the real drawing is seal_keys.image)."""
    image = Image.new("RGBA", (420, 420), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 6, 414, 414), outline=(230, 0, 18, 255), width=14)
    draw.regular_polygon((210, 210, 70), 5, fill=(230, 0, 18, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def face_pdf() -> bytes:
    qr = qrcode.make("YX1:TEST", border=2)
    buffer = io.BytesIO()
    qr.save(buffer, format="PNG")
    return render_license_face(
        LicenseFace(
            title="中华人民共和国机动车驾驶证",
            fields=(("姓名", "张三"), ("准驾车型", "C1")),
            identifier="1.2.156.3005.2.11100000000013338W027.11100000000013338W.0000000000000000001A.001.K",
            issuer_name="北京市公安局公安交通管理局",
            issue_date=date(2024, 5, 1),
            qr_png=buffer.getvalue(),
        )
    )


def seal(pdf: bytes, pki: Pki, **kwargs: object) -> bytes:
    return stamp_pdf(
        pdf,
        signer=pki.seal_signer,
        certificate=pki.seal_certificate,
        chain=[pki.issuing.certificate],
        seal_png=seal_png(),
        reason="电子证照签发",
        location="北京",
        signing_time=SIGNING_TIME,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def face() -> bytes:
    return face_pdf()


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki(ca.SignatureAlgorithm.ECDSA_P256_SHA256)


@pytest.fixture(scope="module")
def sealed(face: bytes, pki: Pki) -> bytes:
    return seal(face, pki)


def pdfsig(path: Path, *args: str) -> str:
    # Not "-no-ocsp": poppler 22.12 then reports "Unknown issue with Certificate" for a trusted
    # chain. Our test certificates carry no OCSP URL, so nothing is fetched either way.
    done = subprocess.run(["pdfsig", *args, str(path)], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def nss_db_trusting(directory: Path, root: x509.Certificate) -> Path:
    """An NSS database whose only trust anchor is ``root``, trusted for signatures (S/MIME slot:
    pdfsig validates signers for the email-signer usage, so "C,," alone would not do)."""
    if shutil.which("certutil") is None:
        pytest.skip("certutil (Debian libnss3-tools) is not installed")
    directory.mkdir()
    (directory / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    subprocess.run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{directory}", "-n", "yinxin-root", "-t", ",C,",
         "-a", "-i", str(directory / "root.pem")],
        check=True,
    )
    return directory


def test_pdfsig_accepts_the_seal(sealed: bytes, tmp_path: Path) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    report = pdfsig(path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Signature Field Name: Seal" in report
    assert "Total document signed" in report
    assert "北京市公安局公安交通管理局" in report


def test_pdfsig_trusts_the_seal_through_our_root(sealed: bytes, pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    nss = nss_db_trusting(tmp_path / "nss", pki.root.certificate)
    report = pdfsig(path, "-nssdir", f"sql:{nss}")
    assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in report


def test_pdfsig_rejects_a_tampered_file(sealed: bytes, tmp_path: Path) -> None:
    tampered = bytearray(sealed)
    # A byte of the binary comment on the header's second line: inside the signed range,
    # harmless to the PDF's structure.
    tampered[10] ^= 0x01
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(tampered))
    report = pdfsig(path)
    assert "Signature Validation:" in report
    assert "Signature is Valid." not in report


def test_signing_time_is_the_one_passed_in(sealed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(sealed))
    (embedded,) = reader.embedded_signatures
    assert embedded.self_reported_timestamp == SIGNING_TIME
    assert str(embedded.sig_object["/Reason"]) == "电子证照签发"
    assert str(embedded.sig_object["/Location"]) == "北京"


def test_the_face_is_unchanged_under_the_seal(face: bytes, sealed: bytes) -> None:
    # PAdES adds an incremental update: the rendered bytes stay a prefix of the sealed file.
    assert sealed.startswith(face)


def _raster(pdf: bytes, tmp_path: Path, name: str) -> Image.Image:
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "72", "-singlefile", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
        check=True,
    )
    return Image.open(tmp_path / f"{name}.png").convert("RGB")


def test_the_seal_shows_as_red_ink_over_the_text(face: bytes, sealed: bytes, tmp_path: Path) -> None:
    before = _raster(face, tmp_path, "before")
    after = _raster(sealed, tmp_path, "after")
    x1, y1, x2, y2 = SEAL_BOX
    box = (x1, before.height - y2, x2, before.height - y1)  # raster rows run top-down
    region_before, region_after = before.crop(box), after.crop(box)

    def count(image: Image.Image, test: Callable[[tuple[int, ...]], bool]) -> int:
        data = image.tobytes()
        return sum(1 for i in range(0, len(data), 3) if test(tuple(data[i : i + 3])))

    red = count(region_after, lambda p: p[0] > 150 and p[1] < 90 and p[2] < 90)
    assert red > 0.08 * region_after.width * region_after.height
    assert count(region_before, lambda p: p[0] > 150 and p[1] < 90 and p[2] < 90) == 0
    # Transparent background: the corners of the box (outside the ring) are the page as it was,
    # not a white box.
    for corner in ((1, 1), (region_after.width - 2, 1), (1, region_after.height - 2)):
        assert region_after.getpixel(corner) == region_before.getpixel(corner)
    # The issuer's name and the date stay legible through the ink (multiplied, not covered).
    dark_before = count(region_before, lambda p: max(p) < 110)
    dark_after = count(region_after, lambda p: max(p) < 110)
    assert dark_before > 100
    assert dark_after >= 0.9 * dark_before


@pytest.mark.parametrize("algorithm", list(ca.SignatureAlgorithm), ids=lambda a: a.value)
def test_every_key_algorithm_seals_a_valid_document(face: bytes, algorithm: ca.SignatureAlgorithm) -> None:
    pki = Pki(algorithm)
    result = verify_pdf(seal(face, pki), trust_roots=[pki.root.certificate], now=NOW)
    assert result.verdict is Verdict.VALID, result.reasons
    assert result.signing_time == SIGNING_TIME


def test_a_second_seal_leaves_the_first_valid(sealed: bytes, pki: Pki) -> None:
    twice = seal(sealed, pki, field_name="Seal2", box=(60, 340, 180, 460))
    result = verify_pdf(twice, trust_roots=[pki.root.certificate], now=NOW)
    assert result.verdict is Verdict.VALID, result.reasons
    assert [c.outcome for c in result.checks if c.name == "coverage"] == [CheckOutcome.PASSED] * 2


def test_a_key_that_does_not_match_the_certificate_is_refused(pki: Pki) -> None:
    other = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    with pytest.raises(RenderError, match="does not match"):
        KeySignerAdapter(key_signer=other, certificate=pki.seal_certificate, chain=[])


def test_naive_signing_time_is_refused(face: bytes, pki: Pki) -> None:
    with pytest.raises(RenderError, match="timezone"):
        stamp_pdf(
            face, signer=pki.seal_signer, certificate=pki.seal_certificate, chain=[],
            seal_png=seal_png(), signing_time=datetime(2024, 5, 1, 8, 0),
        )


def test_a_non_pdf_is_refused(pki: Pki) -> None:
    with pytest.raises(RenderError, match="could not be sealed"):
        seal(b"%PDF-1.7\nnot really a pdf", pki)


def test_a_face_with_xmp_metadata_seals_and_keeps_it(pki: Pki, tmp_path: Path) -> None:
    from issuance.catalog import RESIDENT_ID_CARD, validate_fields
    from issuance.identifier import LicenseIdentifier
    from issuance.metadata import build_metadata, read_xmp_elements

    values = validate_fields(RESIDENT_ID_CARD, {
        "name": "李华", "sex": "女", "ethnicity": "汉", "birth_date": "1949-12-31", "address": "北京市朝阳区建国路1号",
        "holder_id_number": "11010519491231002X", "issuing_authority": "北京市公安局朝阳分局",
        "valid_from": "2010-01-01", "valid_until": "长期",
    }, today=NOW.date())
    identifier = LicenseIdentifier.compose(
        type_code=RESIDENT_ID_CARD.code, issuer_code="11100000000013338W", serial="A1B2C3", version=2
    )
    metadata = build_metadata(
        RESIDENT_ID_CARD, values, identifier=identifier, issuer_name="北京市公安局朝阳分局", issue_date=NOW.date()
    )
    qr = qrcode.make("YX1:TEST", border=2)
    buffer = io.BytesIO()
    qr.save(buffer, format="PNG")
    face = render_license_face(LicenseFace(
        title=RESIDENT_ID_CARD.face_title, fields=RESIDENT_ID_CARD.face_lines(values), identifier=str(identifier),
        issuer_name="北京市公安局朝阳分局", issue_date=NOW.date(), qr_png=buffer.getvalue(),
        metadata_xmp=metadata.to_xmp(),
    ))
    path = tmp_path / "sealed.pdf"
    path.write_bytes(seal(face, pki))
    report = pdfsig(path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, check=True).stdout.strip()
    assert read_xmp_elements(meta) == metadata.elements()
    assert read_xmp_elements(meta)["BBH"] == "002"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "中华人民共和国居民身份证" in text and "北京市朝阳区建国路1号" in text
    result = verify_pdf(path.read_bytes(), trust_roots=[pki.root.certificate], now=NOW)
    assert result.verdict is Verdict.VALID, result.reasons
