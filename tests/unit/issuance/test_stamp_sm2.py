# pyHanko leaves parts of its API unannotated; calling them is not an error here.
# mypy: disable-error-code="no-untyped-call"
"""Stamping with an SM2 seal: GB/T 35275 CMS (SM3, SM2) inside a visible PDF signature.

The CMS is checked field by field, its SM2 signature and SM3 message digest are recomputed
independently (hashlib's SM3, ``openssl pkeyutl``), and the tests record what OpenSSL's
``cms -verify`` and poppler's ``pdfsig`` make of it: OpenSSL 3.0 reads the structure and the SM3
digest but computes SM2's Z with its own default user ID instead of GB/T 35276's
``1234567812345678``; pdfsig does not know SM3 and cannot validate the seal at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import qrcode
from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import SigningError

import ca
from ca.oids import SM2_SIGN, SM2_SM3, SM3
from ca.sm2 import SM2PrivateKey, SM2PublicKey
from issuance.errors import RenderError
from issuance.render import SEAL_BOX, LicenseFace, render_license_face
from issuance.stamp import KeySignerAdapter, stamp_pdf

# Real time: OpenSSL checks certificate validity against the machine's clock.
NOW = datetime.now(UTC).replace(microsecond=0)
SIGNING_TIME = NOW - timedelta(minutes=1)
SM2 = ca.SignatureAlgorithm.SM2_SM3
ISSUER = "北京市公安局公安交通管理局"

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
needs_poppler = pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils is not installed")


class Pki:
    """An SM2 root, issuing CA and seal certificate (GB/T 20518), as `yinxin init --algorithm sm2` makes."""

    def __init__(self, root_name: str = "测试根CA") -> None:
        root_signer = ca.SoftwareSigner(ca.generate_private_key(SM2))
        self.root = ca.CertificateAuthority(
            certificate=ca.create_root_certificate(
                signer=root_signer, subject=ca.organisation_name(organization=root_name), now=NOW
            ),
            signer=root_signer,
        )
        self.issuing = ca.create_issuing_ca(
            root=self.root,
            signer=ca.SoftwareSigner(ca.generate_private_key(SM2)),
            subject=ca.organisation_name(organization="测试签发CA"),
            now=NOW,
        )
        self.seal_key = SM2PrivateKey.generate()
        self.seal_signer = ca.SoftwareSigner(self.seal_key)
        self.seal_certificate = self.issuing.issue(
            profile=ca.SEAL_PROFILE,
            subject=ca.organisation_name(organization=ISSUER, uscc="11100000000013338W"),
            public_key=self.seal_signer.public_key(),
            now=NOW,
        )


def seal_png() -> bytes:
    image = Image.new("RGBA", (420, 420), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 6, 414, 414), outline=(230, 0, 18, 255), width=14)
    draw.regular_polygon((210, 210, 70), 5, fill=(230, 0, 18, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Signature:
    """The pieces of a PDF signature a verifier works from."""

    signed_bytes: bytes  # the two /ByteRange pieces, concatenated (ISO 32000-1 §12.8.1)
    der: bytes  # the CMS ContentInfo from /Contents, without the zero padding
    subfilter: str

    @property
    def content_info(self) -> cms.ContentInfo:
        return cms.ContentInfo.load(self.der)

    @property
    def signer_info(self) -> cms.SignerInfo:
        return self.content_info["content"]["signer_infos"][0]

    @property
    def signed_attrs_der(self) -> bytes:
        # RFC 5652 §5.4: the signature covers the attributes re-tagged as a universal SET OF.
        der: bytes = self.signer_info["signed_attrs"].untag().dump()
        return der

    def attribute(self, name: str) -> core.Asn1Value:
        (value,) = [a["values"][0] for a in self.signer_info["signed_attrs"] if a["type"].native == name]
        return value


def signature_of(pdf: bytes) -> Signature:
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    start, first, second, length = (int(n) for n in embedded.sig_object["/ByteRange"])
    hole = pdf[start + first : second]
    assert hole[:1] == b"<" and hole[-1:] == b">"
    der = cms.ContentInfo.load(bytes.fromhex(hole[1:-1].decode())).dump()
    return Signature(
        signed_bytes=pdf[start : start + first] + pdf[second : second + length],
        der=der,
        subfilter=str(embedded.sig_object["/SubFilter"]),
    )


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def face() -> bytes:
    qr = qrcode.make("YX1:TEST", border=2)
    buffer = io.BytesIO()
    qr.save(buffer, format="PNG")
    return render_license_face(
        LicenseFace(
            title="中华人民共和国机动车驾驶证",
            fields=(("姓名", "张三"), ("准驾车型", "C1")),
            identifier="1.2.156.3005.2.11100000000013338W027.11100000000013338W.0000000000000000001A.001.K",
            issuer_name=ISSUER,
            issue_date=date(2024, 5, 1),
            qr_png=buffer.getvalue(),
        )
    )


@pytest.fixture(scope="module")
def sealed(face: bytes, pki: Pki) -> bytes:
    return stamp_pdf(
        face,
        signer=pki.seal_signer,
        certificate=pki.seal_certificate,
        chain=[pki.issuing.certificate],
        seal_png=seal_png(),
        reason="电子证照签发",
        location="北京",
        signing_time=SIGNING_TIME,
    )


@pytest.fixture(scope="module")
def signature(sealed: bytes) -> Signature:
    return signature_of(sealed)


def test_the_cms_names_sm3_and_sm2_with_gbt_identifiers(signature: Signature) -> None:
    assert signature.subfilter == "/ETSI.CAdES.detached"
    signed_data = signature.content_info["content"]
    assert [d["algorithm"].dotted for d in signed_data["digest_algorithms"]] == [SM3]
    info = signature.signer_info
    assert info["digest_algorithm"]["algorithm"].dotted == SM3
    assert info["signature_algorithm"]["algorithm"].dotted == SM2_SM3
    # GB/T 20518 / GB/T 35275: SM2 and SM3 algorithm identifiers carry no parameters (absent, not NULL).
    assert isinstance(info["signature_algorithm"]["parameters"], core.Void)
    assert isinstance(info["digest_algorithm"]["parameters"], core.Void)
    assert info["sid"].name == "issuer_and_serial_number"
    assert info["sid"].chosen["serial_number"].native == signature_serial(signature)


def signature_serial(signature: Signature) -> int:
    (seal,) = [
        c.chosen for c in signature.content_info["content"]["certificates"]
        if c.chosen.subject.native.get("organization_name") == ISSUER
    ]
    serial: int = seal.serial_number
    return serial


def test_the_message_digest_is_sm3_of_the_signed_byte_ranges(sealed: bytes, signature: Signature) -> None:
    digest = signature.attribute("message_digest").native
    assert digest == hashlib.new("sm3", signature.signed_bytes).digest()
    assert len(signature.signed_bytes) < len(sealed)  # the /Contents hole itself is not signed


def test_the_sm2_signature_covers_the_signed_attributes_with_the_default_id(
    pki: Pki, signature: Signature
) -> None:
    public_key = SM2PublicKey.from_certificate_der(pki.seal_certificate.public_bytes(Encoding.DER))
    value = signature.signer_info["signature"].native
    assert value[0] == 0x30  # DER SEQUENCE {r, s} (GB/T 35276), not raw r‖s
    assert public_key.verify(value, signature.signed_attrs_der)
    # Z_A is computed from the default ID 1234567812345678: another ID gives another hash.
    assert not public_key.verify(value, signature.signed_attrs_der, uid=b"ALICE123@YAHOO.COM")


def test_the_seal_certificate_and_its_chain_are_embedded_and_bound(pki: Pki, signature: Signature) -> None:
    embedded = {c.chosen.dump() for c in signature.content_info["content"]["certificates"]}
    seal_der = pki.seal_certificate.public_bytes(Encoding.DER)
    assert {seal_der, pki.issuing.certificate.public_bytes(Encoding.DER)} <= embedded
    # CAdES: the ESS signing-certificate-v2 attribute (RFC 5035) binds the seal certificate.
    (cert_id,) = signature.attribute("signing_certificate_v2")["certs"]
    assert cert_id["cert_hash"].native == hashlib.sha256(seal_der).digest()


def test_the_seal_picture_shows_as_red_ink(face: bytes, sealed: bytes, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed")
    (tmp_path / "sealed.pdf").write_bytes(sealed)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "72", "-singlefile", str(tmp_path / "sealed.pdf"), str(tmp_path / "sealed")],
        check=True,
    )
    page = Image.open(tmp_path / "sealed.png").convert("RGB")
    x1, y1, x2, y2 = SEAL_BOX
    region = page.crop((x1, page.height - y2, x2, page.height - y1)).tobytes()
    red = sum(1 for i in range(0, len(region), 3) if region[i] > 150 and region[i + 1] < 90 and region[i + 2] < 90)
    assert red > 0.08 * (x2 - x1) * (y2 - y1)
    assert sealed.startswith(face)


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)


def _write_pem(path: Path, certificate: x509.Certificate) -> Path:
    path.write_bytes(certificate.public_bytes(Encoding.PEM))
    return path


@needs_openssl
def test_openssl_verifies_the_sm2_signature_over_the_signed_attributes(
    pki: Pki, signature: Signature, tmp_path: Path
) -> None:
    seal_pem = _write_pem(tmp_path / "seal.pem", pki.seal_certificate)
    public = _openssl("x509", "-noout", "-pubkey", "-in", seal_pem)
    assert public.returncode == 0, public.stderr
    (tmp_path / "pub.pem").write_text(public.stdout)
    (tmp_path / "attrs.der").write_bytes(signature.signed_attrs_der)
    (tmp_path / "sig.bin").write_bytes(signature.signer_info["signature"].native)
    verify = (
        "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem", "-rawin", "-digest", "sm3",
        "-in", tmp_path / "attrs.der", "-sigfile", tmp_path / "sig.bin",
    )
    done = _openssl(*verify, "-pkeyopt", "distid:1234567812345678")
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stdout + done.stderr
    (tmp_path / "attrs.der").write_bytes(signature.signed_attrs_der[:-1] + b"\x00")
    assert _openssl(*verify, "-pkeyopt", "distid:1234567812345678").returncode != 0


def _cms_verify(tmp_path: Path, cms_der: bytes, content: bytes, *trust: str | Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sig.der").write_bytes(cms_der)
    (tmp_path / "signed.bin").write_bytes(content)
    return _openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.der",
        "-content", tmp_path / "signed.bin", "-out", tmp_path / "out.bin", *trust,
    )


@needs_openssl
def test_openssl_cms_verify_uses_another_sm2_user_id(pki: Pki, signature: Signature, tmp_path: Path) -> None:
    """What `openssl cms -verify` (OpenSSL 3.0) says of the seal as made: it cannot validate it.

    OpenSSL 3.0 verifies SM2 certificate and SignerInfo signatures with its own default user ID,
    not GB/T 35276's 1234567812345678 that every SM2 signature in this PDF uses, and `openssl cms`
    has no option to set it; so both the chain and the signature fail there, while ours (and
    `openssl pkeyutl -pkeyopt distid:…`, test above) verify them.
    """
    root_pem = _write_pem(tmp_path / "root.pem", pki.root.certificate)
    with_chain = _cms_verify(tmp_path, signature.der, signature.signed_bytes, "-CAfile", root_pem)
    assert with_chain.returncode != 0
    assert "certificate signature failure" in with_chain.stderr
    signature_only = _cms_verify(tmp_path, signature.der, signature.signed_bytes, "-noverify")
    assert signature_only.returncode != 0
    assert "CMS_SignerInfo_verify" in signature_only.stderr


@needs_openssl
@pytest.mark.parametrize("oid", [SM2_SM3, SM2_SIGN], ids=["sm2-with-sm3-501", "sm2sign-301.1"])
def test_openssl_cms_accepts_the_structure_and_the_sm3_digest(
    pki: Pki, signature: Signature, tmp_path: Path, oid: str
) -> None:
    """Everything but the user ID checks out in OpenSSL: re-sign the same signed attributes with
    OpenSSL's own SM2 (its default ID) and `openssl cms -verify` accepts the CMS, SM3 message
    digest over the /ByteRange bytes included, under either SM2 signatureAlgorithm identifier;
    change one signed byte and it refuses."""
    (tmp_path / "seal.p8").write_bytes(pki.seal_key.to_pkcs8_der())
    (tmp_path / "attrs.der").write_bytes(signature.signed_attrs_der)
    resigned = subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-keyform", "DER",
         "-inkey", str(tmp_path / "seal.p8"), "-in", str(tmp_path / "attrs.der")],
        capture_output=True, check=True,
    ).stdout
    content_info = signature.content_info
    content_info["content"]["signer_infos"][0]["signature"] = resigned
    content_info["content"]["signer_infos"][0]["signature_algorithm"] = {"algorithm": oid}
    der = content_info.dump(force=True)

    done = _cms_verify(tmp_path, der, signature.signed_bytes, "-noverify")
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr

    altered = bytearray(signature.signed_bytes)
    altered[10] ^= 0x01
    refused = _cms_verify(tmp_path, der, bytes(altered), "-noverify")
    assert refused.returncode != 0
    assert "content verify error" in refused.stderr or "digest failure" in refused.stderr


@needs_poppler
def test_pdfsig_cannot_validate_an_sm2_seal(sealed: bytes, tmp_path: Path) -> None:
    """poppler's pdfsig (NSS) reads the signature but knows neither SM3 nor SM2: it reports the
    hash as unknown and never says the signature is valid. Readers built on NSS or on Adobe's
    algorithm list (ISO 32000 §12.8.3) cannot validate SM2 seals; verification.pdf can."""
    path = tmp_path / "sm2.pdf"
    path.write_bytes(sealed)
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    report = done.stdout + done.stderr
    assert "Signature Field Name: Seal" in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert ISSUER in report  # it parses the SM2 certificate's names
    assert "Signing Hash Algorithm: unknown" in report
    assert "Signature Validation: Unknown Validation Failure." in report
    assert "Signature is Valid." not in report


def test_an_sm2_key_that_does_not_match_the_certificate_is_refused(pki: Pki) -> None:
    other = ca.SoftwareSigner(ca.generate_private_key(SM2))
    with pytest.raises(RenderError, match="does not match"):
        KeySignerAdapter(key_signer=other, certificate=pki.seal_certificate, chain=[])


def test_an_ecdsa_key_with_an_sm2_certificate_is_refused(pki: Pki) -> None:
    # cryptography cannot load the SM2 certificate's key: that is a mismatch, not a crash.
    ecdsa = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    with pytest.raises(RenderError, match="does not match"):
        KeySignerAdapter(key_signer=ecdsa, certificate=pki.seal_certificate, chain=[])


def test_the_adapter_signs_with_sm3_only(pki: Pki) -> None:
    adapter = KeySignerAdapter(key_signer=pki.seal_signer, certificate=pki.seal_certificate, chain=[])
    assert adapter.digest_algorithm == "sm3"
    assert adapter.signature_mechanism is not None
    assert adapter.signature_mechanism["algorithm"].dotted == SM2_SM3
    with pytest.raises(SigningError, match="sm3"):
        asyncio.run(adapter.async_sign_raw(b"attributes", "sha256"))
    signed = asyncio.run(adapter.async_sign_raw(b"attributes", "sm3"))
    assert SM2PublicKey.from_certificate_der(pki.seal_certificate.public_bytes(Encoding.DER)).verify(
        signed, b"attributes"
    )
