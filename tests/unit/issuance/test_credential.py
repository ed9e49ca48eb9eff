"""QR credentials as issued: the YX1 layout, COSE_Sign1 checked by pycose, size limits, refusals.

The structure is taken apart here with base45/zlib/cbor2 directly, and the signature is verified
with pycose (an independent COSE implementation), never with our own verifier.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
import qrcode
import qrcode.constants
import qrcode.util
import zxingcpp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from PIL import Image
from pycose.keys.ec2 import EC2Key
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message

import ca
from issuance.credential import CredentialClaims, issue_credential, kid_of
from issuance.errors import CredentialError, FieldValidationError
from issuance.identifier import LicenseIdentifier
from issuance.qrimage import QR_MASK_PATTERN, render_qr_png

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
USCC = "11330100002500295Y"
TYPE_CODE = USCC + "001"
IDENTIFIER = str(
    LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=USCC, serial="7K3Q9X2M4B8N1R5T6W0Z")
)
E_ID_CLAIMS = {  # a realistic e-ID presentation: five fields, Chinese name, masked ID number
    "name": "欧阳明华",
    "idm": "330106********2316",
    "birth": "1988-07-14",
    "from": "2019-05-20",
    "until": "2039-05-20",
}
ALGORITHMS = [ca.SignatureAlgorithm.ECDSA_P256_SHA256, ca.SignatureAlgorithm.ED25519]
Issued = tuple[ca.SignatureAlgorithm, x509.Certificate, str]


def _signer_and_certificate(
    algorithm: ca.SignatureAlgorithm, *, uscc: str = USCC
) -> tuple[ca.SoftwareSigner, x509.Certificate]:
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
    signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    certificate = issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization="示范市公安局", uscc=uscc),
        public_key=signer.public_key(),
        now=NOW,
    )
    return signer, certificate


def _claims(**overrides: Any) -> CredentialClaims:
    values: dict[str, Any] = dict(
        issuer=USCC,
        license_identifier=IDENTIFIER,
        type_code=TYPE_CODE,
        issued_at=NOW,
        expires_at=NOW + timedelta(days=30),
        claims=E_ID_CLAIMS,
        status_url="https://yinxin.example.gov.cn/api/v1/status/3",
        status_index=40213,
    )
    values.update(overrides)
    return CredentialClaims(**values)


def _cose_bytes(text: str) -> bytes:
    assert text.startswith("YX1:")
    return zlib.decompress(base45.b45decode(text[4:]))


def _pycose_sign1(cose: bytes) -> Sign1Message:
    """Hand the COSE_Sign1 array to pycose.

    pycose 1.1's ``Sign1Message.decode`` rejects what cbor2 ≥ 6 returns (tuples and frozendicts
    inside tags: TimothyClaeys/pycose#141), so the outer array is unwrapped here; pycose still
    decodes the protected header, builds the Sig_structure and checks the signature itself.
    """
    item = cbor2.loads(cose)
    assert isinstance(item, cbor2.CBORTag) and item.tag == 18
    protected, unprotected, payload, signature = item.value
    return Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)


def _pycose_key(certificate: x509.Certificate) -> EC2Key | OKPKey:
    public = certificate.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return EC2Key(crv="P_256", x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return OKPKey(crv="ED25519", x=raw)


@pytest.fixture(params=ALGORITHMS, ids=lambda a: a.value)
def issued(request: pytest.FixtureRequest) -> Issued:
    signer, certificate = _signer_and_certificate(request.param)
    text = issue_credential(_claims(), signer=signer, certificate=certificate)
    return request.param, certificate, text


def test_layout_is_yx1_base45_zlib_cose_sign1_with_cwt_claims(issued: Issued) -> None:
    algorithm, certificate, text = issued
    item = cbor2.loads(_cose_bytes(text))
    assert isinstance(item, cbor2.CBORTag) and item.tag == 18
    protected, unprotected, payload, signature = item.value
    header = cbor2.loads(protected)
    expected_alg = -7 if algorithm is ca.SignatureAlgorithm.ECDSA_P256_SHA256 else -8
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert dict(header) == {1: expected_alg, 4: hashlib.sha256(der).digest()[:8]}
    assert kid_of(certificate) == hashlib.sha256(der).digest()[:8]
    assert dict(unprotected) == {}
    assert len(signature) == 64

    cwt = cbor2.loads(payload)
    assert cwt[1] == USCC
    assert cwt[6] == int(NOW.timestamp())
    assert cwt[4] == int((NOW + timedelta(days=30)).timestamp())
    assert isinstance(cwt[7], bytes) and len(cwt[7]) == 16
    private = cwt[-70000]
    assert private[1] == IDENTIFIER
    assert private[2] == TYPE_CODE
    assert dict(private[3]) == {1: "https://yinxin.example.gov.cn/api/v1/status/3", 2: 40213}
    assert dict(private[4]) == E_ID_CLAIMS
    assert list(private[4]) == list(E_ID_CLAIMS), "disclosed fields keep the issuer's order"


def test_pycose_verifies_the_signature_independently(issued: Issued) -> None:
    _, certificate, text = issued
    cose = _cose_bytes(text)
    message = _pycose_sign1(cose)
    message.key = _pycose_key(certificate)
    assert message.verify_signature()

    tampered = bytearray(cose)
    tampered[-1] ^= 0x01  # last byte of the signature
    message = _pycose_sign1(bytes(tampered))
    message.key = _pycose_key(certificate)
    assert not message.verify_signature()


def test_es256_signature_is_raw_r_and_s_not_der() -> None:
    signer, certificate = _signer_and_certificate(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    text = issue_credential(_claims(), signer=signer, certificate=certificate)
    protected, _, payload, signature = cbor2.loads(_cose_bytes(text)).value
    assert len(signature) == 64  # DER would be 70–72 bytes and start with 0x30
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hashes.SHA256()))


def test_every_credential_has_its_own_cti_by_default() -> None:
    assert _claims().credential_id != _claims().credential_id
    assert len(_claims().credential_id) == 16


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.value)
def test_realistic_e_id_credential_stays_under_600_characters(algorithm: ca.SignatureAlgorithm) -> None:
    signer, certificate = _signer_and_certificate(algorithm)
    text = issue_credential(_claims(), signer=signer, certificate=certificate)
    assert len(text) < 600, len(text)
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def test_a_credential_that_would_not_fit_a_qr_code_is_refused() -> None:
    signer, certificate = _signer_and_certificate(ca.SignatureAlgorithm.ED25519)
    many = {f"f{i}": secrets.token_hex(24) for i in range(20)}  # incompressible
    with pytest.raises(CredentialError, match="1000"):
        issue_credential(_claims(claims=many), signer=signer, certificate=certificate)


def test_rsa_keys_are_refused() -> None:
    signer, certificate = _signer_and_certificate(ca.SignatureAlgorithm.RSA2048_SHA256)
    with pytest.raises(CredentialError, match="unsupported credential algorithm"):
        issue_credential(_claims(), signer=signer, certificate=certificate)


def test_certificate_of_another_organisation_is_refused() -> None:
    other = "91350100M000100Y43"
    signer, certificate = _signer_and_certificate(ca.SignatureAlgorithm.ED25519, uscc=other)
    with pytest.raises(CredentialError, match="organizationIdentifier"):
        issue_credential(_claims(), signer=signer, certificate=certificate)


def test_signer_must_hold_the_certified_key() -> None:
    _, certificate = _signer_and_certificate(ca.SignatureAlgorithm.ED25519)
    stranger = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ED25519))
    with pytest.raises(CredentialError, match="does not match"):
        issue_credential(_claims(), signer=stranger, certificate=certificate)


def test_credential_may_not_outlive_its_signer_certificate() -> None:
    signer, certificate = _signer_and_certificate(ca.SignatureAlgorithm.ED25519)
    too_late = certificate.not_valid_after_utc + timedelta(seconds=1)
    with pytest.raises(CredentialError, match="within the signer certificate"):
        issue_credential(_claims(expires_at=too_late), signer=signer, certificate=certificate)
    at_end = issue_credential(
        _claims(expires_at=certificate.not_valid_after_utc), signer=signer, certificate=certificate
    )
    assert at_end.startswith("YX1:")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"issuer": "11330100002500295X"}, "issuer"),
        ({"license_identifier": IDENTIFIER[:-1] + ("0" if IDENTIFIER[-1] != "0" else "1")}, "identifier"),
        ({"type_code": USCC + "002"}, "type_code"),
        ({"expires_at": NOW}, "expires_at"),
        ({"issued_at": datetime(2026, 3, 2, 9, 30)}, "issued_at"),  # naive
        ({"claims": {"name": 5}}, "claims.name"),
        ({"status_index": None}, "status_index"),
        ({"status_index": -1}, "status_index"),
        ({"credential_id": b""}, "credential_id"),
    ],
)
def test_bad_claims_are_rejected_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldValidationError) as raised:
        _claims(**overrides)
    assert raised.value.field == field


def test_claims_are_immutable_after_construction() -> None:
    source = dict(E_ID_CLAIMS)
    claims = _claims(claims=source)
    source["name"] = "someone else"
    assert claims.claims["name"] == "欧阳明华"
    with pytest.raises(TypeError):
        claims.claims["name"] = "x"  # type: ignore[index]


# --- the QR image ---------------------------------------------------------------------------------


def _min_version(text: str, mode: int) -> int:
    """The smallest QR version holding ``text`` in ``mode`` at level Q (qrcode's capacity tables)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    code.add_data(qrcode.util.QRData(text.encode("ascii"), mode=mode))
    code.make(fit=True)
    return int(code.version)


@pytest.fixture(scope="module")
def e_id_text() -> str:
    signer, certificate = _signer_and_certificate(ca.SignatureAlgorithm.ECDSA_P256_SHA256)
    return issue_credential(_claims(), signer=signer, certificate=certificate)


def test_zbarimg_reads_the_png_back_exactly(e_id_text: str, tmp_path: Path) -> None:
    png = tmp_path / "credential.png"
    png.write_bytes(render_qr_png(e_id_text))
    done = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip("\n") == e_id_text


def test_zxing_reads_alphanumeric_level_q(e_id_text: str) -> None:
    image = Image.open(io.BytesIO(render_qr_png(e_id_text, box_size=4)))
    scanned = zxingcpp.read_barcode(image)
    assert scanned is not None
    assert scanned.text == e_id_text
    assert scanned.ec_level == "Q"
    assert scanned.format == zxingcpp.BarcodeFormat.QRCode
    extra = scanned.extra
    assert isinstance(extra, dict)
    assert extra["DataMask"] == QR_MASK_PATTERN
    # One alphanumeric segment needs fewer modules than byte mode: the version zxing saw proves the mode.
    version = int(extra["Version"])
    assert version == _min_version(e_id_text, qrcode.util.MODE_ALPHA_NUM)
    assert version < _min_version(e_id_text, qrcode.util.MODE_8BIT_BYTE)


def test_image_geometry_follows_box_size_and_border(e_id_text: str) -> None:
    modules = 17 + 4 * _min_version(e_id_text, qrcode.util.MODE_ALPHA_NUM)
    image = Image.open(io.BytesIO(render_qr_png(e_id_text, box_size=3, border=4)))
    assert image.format == "PNG"
    assert image.size == ((modules + 8) * 3, (modules + 8) * 3)


def test_text_outside_the_alphanumeric_set_is_refused() -> None:
    with pytest.raises(CredentialError, match="alphanumeric"):
        render_qr_png("YX1:abc")


def test_text_too_long_for_any_qr_code_is_refused() -> None:
    with pytest.raises(CredentialError, match="does not fit"):
        render_qr_png("YX1:" + "A" * 2417)  # one more than version 40-Q holds


def test_longest_text_that_fits_at_level_q_is_drawn() -> None:
    text = "YX1:" + "A" * 2416  # 2,420 characters: version 40-Q's alphanumeric capacity
    scanned = zxingcpp.read_barcode(Image.open(io.BytesIO(render_qr_png(text, box_size=2))))
    assert scanned is not None and scanned.text == text
