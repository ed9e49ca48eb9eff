"""Making GB/T 38540 V4 seals and seal signatures (seal_keys.ses).

The maker's and the signer's SM2 signatures are checked with the ``openssl`` CLI (an independent
SM2 implementation) over the bytes the standard says are signed: DER(eSealInfo) for the seal,
DER(TBS_Sign) for the signature. The structure is read back with a generic DER parser, not with our
own classes, so a mistake in ca.ses_asn1 cannot hide itself.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core, pem
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image

import ca
from ca.ses_asn1 import raw_elements
from ca.sm2 import SM2PrivateKey, SM2PublicKey, SM2Signer
from seal_keys.ses import SealPicture, SESError, document_hash, make_seal, make_signature

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
USCC = "11330100002500295Y"
# OpenSSL 3 uses an empty SM2 ID unless told; GB/T 35276 signatures use the default ID.
OPENSSL_SM2_VERIFY = ("openssl", "pkeyutl", "-verify", "-pubin", "-rawin", "-digest", "sm3")
OPENSSL_SM2_VERIFY += ("-pkeyopt", "distid:1234567812345678")


@dataclass(frozen=True)
class Pki:
    maker: SM2Signer
    maker_certificate: bytes
    holder: SM2Signer
    holder_certificate: bytes


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_signer = SM2Signer(SM2PrivateKey.generate())
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization="测试根CA"), now=NOW
        ),
        signer=root_signer,
    )
    issuing = ca.create_issuing_ca(
        root=root,
        signer=SM2Signer(SM2PrivateKey.generate()),
        subject=ca.organisation_name(organization="测试签发CA"),
        now=NOW,
    )
    maker = SM2Signer(SM2PrivateKey.generate())
    holder = SM2Signer(SM2PrivateKey.generate())
    maker_certificate = issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization="示范市电子印章制作中心", uscc=USCC),
        public_key=maker.public_key(),
        now=NOW,
    )
    holder_certificate = issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization="示范市政务服务数据管理局", uscc=USCC),
        public_key=holder.public_key(),
        now=NOW,
    )
    return Pki(maker, _der(maker_certificate), holder, _der(holder_certificate))


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (220, 0, 0, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def _seal(pki: Pki, **overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "es_id": "33010000000001",
        "seal_type": 1,
        "name": "示范市政务服务数据管理局 合同专用章",
        "holder_certificates": [pki.holder_certificate],
        "create_date": NOW,
        "valid_start": NOW,
        "valid_end": NOW + timedelta(days=365),
        "picture": SealPicture(type="PNG", data=_png(), width_mm=40, height_mm=40),
        "maker": pki.maker,
        "maker_certificate": pki.maker_certificate,
    }
    arguments.update(overrides)
    return make_seal(**arguments)  # type: ignore[arg-type]


def _openssl_verify(tmp_path: Path, key: SM2PublicKey, message: bytes, signature: bytes) -> bool:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem.armor("PUBLIC KEY", key.to_spki_der()))
    (tmp_path / "message").write_bytes(message)
    (tmp_path / "signature").write_bytes(signature)
    result = subprocess.run(
        [
            *[
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
            ],
            *("-inkey", str(key_file), "-in", str(tmp_path / "message"), "-sigfile", str(tmp_path / "signature")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return "Signature Verified Successfully" in result.stdout


def _bit_string_payload(element: bytes) -> bytes:
    value = core.load(element)
    assert isinstance(value, core.BitString)
    assert value.contents[0] == 0  # no unused bits
    return bytes(value.contents[1:])


def test_seal_has_the_v4_layout_and_fields(pki: Pki) -> None:
    der = _seal(pki)
    seal = core.Sequence.load(der, strict=True)
    assert len(seal) == 4  # eSealInfo, cert, signAlgID, signedValue (GB/T 38540 §7.1)
    info = core.Sequence.load(seal[0].dump())
    header = core.Sequence.load(info[0].dump())
    assert (header[0].native, header[1].native, header[2].native) == ("ES", 4, "YINXIN")
    assert info[1].native == "33010000000001"
    prop = core.Sequence.load(info[2].dump())
    assert prop[0].native == 1 and prop[1].native == "示范市政务服务数据管理局 合同专用章"
    assert prop[2].native == 1  # certListType 1: certificates
    cert_list = core.SequenceOf.load(prop[3].dump(), spec=core.OctetString)
    assert [c.native for c in cert_list] == [pki.holder_certificate]
    # createDate, validStart, validEnd are GeneralizedTime in whole UTC seconds.
    assert all(isinstance(prop[i], core.GeneralizedTime) for i in (4, 5, 6))
    assert prop[6].dump()[2:] == b"20271126080000Z"
    picture = core.Sequence.load(info[3].dump())
    assert (picture[0].native, picture[2].native, picture[3].native) == ("PNG", 40, 40)
    assert picture[1].native.startswith(b"\x89PNG")
    assert seal[1].native == pki.maker_certificate
    assert seal[2].dotted == "1.2.156.10197.1.501"


def test_maker_signature_covers_der_of_seal_info_alone(pki: Pki, tmp_path: Path) -> None:
    der = _seal(pki)
    elements, trailing = raw_elements(der)
    assert trailing == b""
    signature = _bit_string_payload(elements[3])
    maker_key = SM2PublicKey.from_certificate_der(pki.maker_certificate)
    assert _openssl_verify(tmp_path, maker_key, elements[0], signature)
    # Not the V1 form SEQUENCE{info, cert, alg}: that would be another message.
    assert not _openssl_verify(tmp_path, maker_key, elements[0] + elements[1] + elements[2], signature)


def test_signature_covers_der_of_tbs_sign_and_embeds_the_seal_unchanged(pki: Pki, tmp_path: Path) -> None:
    seal = _seal(pki)
    document = "示范文件".encode()
    signed = make_signature(
        seal=seal,
        data_hash=document_hash(document),
        property_info="/Doc_0/Signs/Sign_0/Signature.xml",
        signing_time=NOW + timedelta(hours=1, microseconds=5),
        signer=pki.holder,
        signer_certificate=pki.holder_certificate,
    )
    elements, _ = raw_elements(signed)
    assert len(elements) == 4  # no time-stamp asked for
    tbs, _ = raw_elements(elements[0])
    assert core.Integer.load(tbs[0]).native == 4
    assert tbs[1] == seal
    assert tbs[2][2:] == b"20261126090000Z"  # GeneralizedTime, whole seconds
    assert _bit_string_payload(tbs[3]) == document_hash(document)
    assert core.IA5String.load(tbs[4]).native == "/Doc_0/Signs/Sign_0/Signature.xml"
    assert core.OctetString.load(elements[1]).native == pki.holder_certificate
    holder_key = SM2PublicKey.from_certificate_der(pki.holder_certificate)
    assert _openssl_verify(tmp_path, holder_key, elements[0], _bit_string_payload(elements[3]))


def test_time_stamper_receives_the_signature_value_and_fills_field_0(pki: Pki) -> None:
    seen: list[bytes] = []

    def stamper(signature_value: bytes) -> bytes:
        seen.append(signature_value)
        return b"token over " + signature_value[:4]

    signed = make_signature(
        seal=_seal(pki),
        data_hash=document_hash(b"x"),
        property_info="x",
        signing_time=NOW,
        signer=pki.holder,
        signer_certificate=pki.holder_certificate,
        time_stamper=stamper,
    )
    elements, _ = raw_elements(signed)
    assert len(elements) == 5
    assert _bit_string_payload(elements[3]) == seen[0]
    assert elements[4][0] == 0xA0  # [0], constructed: EXPLICIT
    assert _bit_string_payload(elements[4][2:]) == b"token over " + seen[0][:4]


def test_only_sm2_keys_make_seals(pki: Pki) -> None:
    ecdsa = ca.SoftwareSigner(ca.generate_private_key(ca.SignatureAlgorithm.ECDSA_P256_SHA256))
    with pytest.raises(SESError, match="SM2"):
        _seal(pki, maker=ecdsa)


def test_maker_key_must_match_maker_certificate(pki: Pki) -> None:
    with pytest.raises(SESError, match="does not match"):
        _seal(pki, maker=pki.holder)


def test_signer_key_must_match_signer_certificate(pki: Pki) -> None:
    with pytest.raises(SESError, match="does not match"):
        make_signature(
            seal=_seal(pki),
            data_hash=document_hash(b"x"),
            property_info="x",
            signing_time=NOW,
            signer=pki.maker,
            signer_certificate=pki.holder_certificate,
        )


def test_a_seal_cannot_sign_outside_its_window(pki: Pki) -> None:
    seal = _seal(pki, valid_end=NOW + timedelta(days=1))
    arguments = {
        "seal": seal,
        "data_hash": document_hash(b"x"),
        "property_info": "x",
        "signer": pki.holder,
        "signer_certificate": pki.holder_certificate,
    }
    make_signature(signing_time=NOW + timedelta(days=1), **arguments)  # type: ignore[arg-type]
    with pytest.raises(SESError, match="expired"):
        make_signature(signing_time=NOW + timedelta(days=1, seconds=1), **arguments)  # type: ignore[arg-type]
    with pytest.raises(SESError, match="not yet valid"):
        make_signature(signing_time=NOW - timedelta(seconds=1), **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"create_date": datetime(2026, 11, 26)}, "timezone-aware"),
        ({"valid_end": NOW}, "end after it starts"),
        ({"holder_certificates": []}, "holder certificates"),
        ({"es_id": "印章"}, "ASCII"),
    ],
)
def test_bad_seal_inputs_are_refused(pki: Pki, overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SESError, match=message):
        _seal(pki, **overrides)


def test_picture_is_checked() -> None:
    with pytest.raises(SESError, match="picture type"):
        SealPicture(type="TIFF", data=b"x", width_mm=40, height_mm=40)
    with pytest.raises(SESError, match="size"):
        SealPicture(type="PNG", data=b"x", width_mm=0, height_mm=40)


def test_only_v4_seals_are_signed_with_v4_signatures(pki: Pki, shared_dir: Path) -> None:
    arguments = {
        "data_hash": document_hash(b"x"),
        "property_info": "x",
        "signing_time": NOW,
        "signer": pki.holder,
        "signer_certificate": pki.holder_certificate,
    }
    with pytest.raises(SESError, match="not a GB/T 38540 SESeal"):
        make_signature(seal=b"\x30\x00", **arguments)  # type: ignore[arg-type]
    v5_seal = (shared_dir / "interop" / "ofdrw" / "UserV5.esl").read_bytes()
    with pytest.raises(SESError, match="only V4"):
        make_signature(seal=v5_seal, **arguments)  # type: ignore[arg-type]
