"""GB/T 38540 seal and signature verification (verification.ses): every step, each reported on its own.

Seals and signatures are made here with real SM2 keys under a real SM2 hierarchy (ca.gm_x509 through
ca.CertificateAuthority), then verified; V1 structures, non-DER encodings, extensions and time-stamps
are assembled with ca.ses_asn1 and signed for real, so every check can pass and can fail.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image

import ca
from ca import gm_x509, ses_asn1
from ca.sm2 import SM2PrivateKey, SM2Signer
from seal_keys.ses import SealPicture, document_hash, make_seal, make_signature
from verification import CheckOutcome, InputTooLargeError, MalformedInputError, Verdict, VerificationResult, ses

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
USCC = "11330100002500295Y"
SM3_OID = "1.2.156.10197.1.401"


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Pki:
    root: ca.CertificateAuthority
    issuing: ca.CertificateAuthority
    maker: SM2Signer
    maker_certificate: bytes
    holder: SM2Signer
    holder_certificate: bytes

    @property
    def trust(self) -> dict[str, Any]:
        return {"trust_anchors": [_der(self.root.certificate)], "intermediates": [_der(self.issuing.certificate)]}


def _hierarchy(name: str = "测试") -> Pki:
    root_signer = SM2Signer(SM2PrivateKey.generate())
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization=f"{name}根CA"), now=NOW
        ),
        signer=root_signer,
    )
    issuing = ca.create_issuing_ca(
        root=root,
        signer=SM2Signer(SM2PrivateKey.generate()),
        subject=ca.organisation_name(organization=f"{name}签发CA"),
        now=NOW,
    )
    maker = SM2Signer(SM2PrivateKey.generate())
    holder = SM2Signer(SM2PrivateKey.generate())
    maker_certificate = issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization=f"{name}电子印章制作中心", uscc=USCC),
        public_key=maker.public_key(),
        now=NOW,
    )
    holder_certificate = issuing.issue(
        profile=ca.SEAL_PROFILE,
        subject=ca.organisation_name(organization=f"{name}政务服务数据管理局", uscc=USCC),
        public_key=holder.public_key(),
        now=NOW,
    )
    return Pki(root, issuing, maker, _der(maker_certificate), holder, _der(holder_certificate))


@pytest.fixture(scope="module")
def pki() -> Pki:
    return _hierarchy()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (220, 0, 0, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def _seal(pki: Pki, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "es_id": "33010000000001",
        "seal_type": 1,
        "name": "测试政务服务数据管理局 公章",
        "holder_certificates": [pki.holder_certificate],
        "create_date": NOW,
        "valid_start": NOW,
        "valid_end": NOW + timedelta(days=365),
        "picture": SealPicture(type="PNG", data=_png(), width_mm=40, height_mm=40),
        "maker": pki.maker,
        "maker_certificate": pki.maker_certificate,
    }
    arguments.update(overrides)
    return make_seal(**arguments)


def _signature(pki: Pki, seal: bytes, document: bytes, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "seal": seal,
        "data_hash": document_hash(document),
        "property_info": "contract.pdf",
        "signing_time": NOW + timedelta(days=1),
        "signer": pki.holder,
        "signer_certificate": pki.holder_certificate,
    }
    arguments.update(overrides)
    return make_signature(**arguments)


def _outcomes(result: VerificationResult) -> dict[str, CheckOutcome]:
    return {check.name: check.outcome for check in result.checks}


def _failed(result: VerificationResult) -> set[str]:
    return {check.name for check in result.checks if check.outcome is CheckOutcome.FAILED}


def _detail(result: VerificationResult, name: str) -> str:
    return next(check.detail for check in result.checks if check.name == name)


# --- seals -----------------------------------------------------------------------------------------


def test_our_seal_round_trips_valid_under_our_anchors(pki: Pki) -> None:
    der = _seal(pki)
    parsed = ses.parse_seal(der)
    assert (parsed.layout, parsed.header_version, parsed.vid) == (4, 4, "YINXIN")
    assert parsed.certificates == (pki.holder_certificate,)
    assert (parsed.picture_type, parsed.picture_width_mm, parsed.picture_height_mm) == ("PNG", 40, 40)
    result = ses.verify_seal(der, now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons
    assert result.kind == "ses-seal"
    assert _outcomes(result) == {
        "format": CheckOutcome.PASSED,
        "seal_signature": CheckOutcome.PASSED,
        "maker_certificate": CheckOutcome.PASSED,
        "seal_validity": CheckOutcome.PASSED,
        "timestamp": CheckOutcome.SKIPPED,
    }
    assert "chains to a trust anchor" in _detail(result, "maker_certificate")
    assert result.disclosed["seal_name"] == "测试政务服务数据管理局 公章"


def test_without_trust_anchors_a_good_seal_is_indeterminate(pki: Pki) -> None:
    result = ses.verify_seal(_seal(pki), now=LATER)
    assert result.verdict is Verdict.INDETERMINATE
    assert _outcomes(result)["maker_certificate"] is CheckOutcome.INDETERMINATE
    assert "trust not established" in _detail(result, "maker_certificate")
    assert _outcomes(result)["seal_signature"] is CheckOutcome.PASSED


def test_anchors_of_another_hierarchy_do_not_establish_trust(pki: Pki) -> None:
    other = _hierarchy("其他")
    result = ses.verify_seal(_seal(pki), now=LATER, **other.trust)
    assert result.verdict is Verdict.INDETERMINATE
    assert "no path to a trust anchor" in _detail(result, "maker_certificate")


def test_a_changed_seal_fails_the_maker_signature_only(pki: Pki) -> None:
    der = bytearray(_seal(pki))
    picture = ses.parse_seal(bytes(der)).picture
    der[bytes(der).index(picture) + 20] ^= 0x01
    result = ses.verify_seal(bytes(der), now=LATER, **pki.trust)
    assert result.verdict is Verdict.INVALID
    assert _failed(result) == {"seal_signature"}


@pytest.mark.parametrize(
    ("now", "outcome"),
    [
        (NOW - timedelta(seconds=1), CheckOutcome.FAILED),
        (NOW, CheckOutcome.PASSED),
        (NOW + timedelta(days=365), CheckOutcome.PASSED),
        (NOW + timedelta(days=365, seconds=1), CheckOutcome.FAILED),
    ],
)
def test_seal_window_is_checked_to_the_second(pki: Pki, now: datetime, outcome: CheckOutcome) -> None:
    result = ses.verify_seal(_seal(pki), now=now)
    assert _outcomes(result)["seal_validity"] is outcome


def test_a_ca_certificate_cannot_be_the_seal_maker(pki: Pki) -> None:
    # The issuing CA's certificate allows keyCertSign and cRLSign only (RFC 5280 §4.2.1.3): the maker
    # needs its own certificate with digitalSignature / nonRepudiation.
    seal = _seal(pki, maker=pki.issuing.signer, maker_certificate=_der(pki.issuing.certificate))
    result = ses.verify_seal(seal, now=LATER, **pki.trust)
    assert _failed(result) == {"maker_certificate"}
    assert "keyUsage" in _detail(result, "maker_certificate")


def _tlv(tag: int, body: bytes) -> bytes:
    """DER tag-length-value with a definite length (X.690 §8.1.3)."""
    length = len(body)
    if length < 0x80:
        return bytes([tag, length]) + body
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def _seq(body: bytes) -> bytes:
    return _tlv(0x30, body)


def _sign_v4_info(pki: Pki, info_der: bytes, *, time_stamp_over: bytes | None = None) -> bytes:
    """An SESeal around ``info_der`` as given, signed by the maker; V5 with a time-stamp when asked."""
    signature = pki.maker.sign(info_der)
    body = (
        info_der
        + core.OctetString(pki.maker_certificate).dump()
        + core.ObjectIdentifier(ses_asn1.SM2_SM3_OID).dump()
        + core.OctetBitString(signature).dump()
    )
    if time_stamp_over is not None:
        token = _time_stamp_token(signature if time_stamp_over == b"" else time_stamp_over)
        body += _tlv(0xA0, core.OctetBitString(token).dump())  # [0] EXPLICIT
    return _seq(body)


def _info(pki: Pki, *, version: int = 4, ext_datas: bytes = b"", cert_list: bytes | None = None) -> bytes:
    """A SES_SealInfo written field by field, so tests control every byte."""
    header = ses_asn1.SESHeader({"id": "ES", "version": version, "vid": "TEST"}).dump()
    times = b"".join(core.GeneralizedTime(t).dump() for t in (NOW, NOW, NOW + timedelta(days=365)))
    if cert_list is None:
        cert_list = ses_asn1.CertInfoList([pki.holder_certificate]).dump()
        cert_list_type = 1
    else:
        cert_list_type = 2
    prop = _seq(
        core.Integer(1).dump()
        + core.UTF8String("测试章").dump()
        + core.Integer(cert_list_type).dump()
        + cert_list
        + times
    )
    picture = ses_asn1.SESESPictrueInfo({"type": "PNG", "data": _png(), "width": 40, "height": 40}).dump()
    return _seq(header + core.IA5String("esid-1").dump() + prop + picture + ext_datas)


def test_signatures_are_checked_over_the_received_bytes_not_a_re_encoding(pki: Pki) -> None:
    # ExtData.critical is BOOLEAN DEFAULT FALSE: DER leaves it out, but real seals (SESealData.DER)
    # write it. A verifier that re-encoded eSealInfo would drop those 3 bytes and reject the seal.
    ext = _seq(core.ObjectIdentifier("1.2.3.4").dump() + core.Boolean(False).dump() + core.OctetString(b"v").dump())
    info = _info(pki, ext_datas=_seq(ext))
    parsed = ses_asn1.SESSealInfo.load(info)
    parsed.native
    assert parsed.dump() == info  # asn1crypto hands back the received bytes of an unmodified value…
    assert ses_asn1.SESSealInfo.load(info).dump(force=True) != info  # …while a re-encoding would differ
    result = ses.verify_seal(_sign_v4_info(pki, info), now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons


def test_an_unknown_critical_extension_fails_the_format(pki: Pki) -> None:
    ext = _seq(
        core.ObjectIdentifier("1.2.156.112600.7.2").dump() + core.Boolean(True).dump() + core.OctetString(b"v").dump()
    )
    result = ses.verify_seal(_sign_v4_info(pki, _info(pki, ext_datas=_seq(ext))), now=LATER, **pki.trust)
    assert _failed(result) == {"format"}
    assert "unknown critical seal extension 1.2.156.112600.7.2" in _detail(result, "format")


def test_a_four_element_seal_that_claims_version_1_fails_the_format(pki: Pki) -> None:
    result = ses.verify_seal(_sign_v4_info(pki, _info(pki, version=1)), now=LATER, **pki.trust)
    assert _failed(result) == {"format"}
    assert "claims version 1" in _detail(result, "format")


def test_trailing_bytes_fail_the_format(pki: Pki) -> None:
    result = ses.verify_seal(_seal(pki) + b"\x00\x00", now=LATER, **pki.trust)
    assert _failed(result) == {"format"}
    assert "2 bytes follow" in _detail(result, "format")


def test_v5_seal_time_stamp_is_parsed_and_matched(pki: Pki) -> None:
    info = _info(pki, version=5)
    stamped = _sign_v4_info(pki, info, time_stamp_over=b"")  # over its own signature value
    assert ses.parse_seal(stamped).layout == 5
    result = ses.verify_seal(stamped, now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons
    assert _outcomes(result)["timestamp"] is CheckOutcome.SKIPPED
    assert "matches the signature value" in _detail(result, "timestamp")
    wrong = _sign_v4_info(pki, info, time_stamp_over=b"another signature value")
    assert _failed(ses.verify_seal(wrong, now=LATER, **pki.trust)) == {"timestamp"}


def _time_stamp_token(signature_value: bytes) -> bytes:
    """An RFC 3161 / GB/T 20520 token shape (unsigned here): what the imprint check reads."""
    tst = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": "1.2.3.4",
            "message_imprint": {
                "hash_algorithm": {"algorithm": SM3_OID},
                "hashed_message": document_hash(signature_value),
            },
            "serial_number": 1,
            "gen_time": NOW,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "tst_info", "content": tst},
            "signer_infos": [],
        }
    )
    token: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return token


# --- V1 ----------------------------------------------------------------------------------------------


class _V1MakerSigned(core.Sequence):  # type: ignore[misc]
    """GM/T 0031-2014: what the maker of a V1 seal signs."""

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("esealInfo", ses_asn1.SESSealInfoV1),
        ("cert", core.OctetString),
        ("signatureAlgorithm", core.ObjectIdentifier),
    ]


def _v1_seal(pki: Pki, *, time_type: str = "generalized_time", over_info_alone: bool = False) -> bytes:
    def when(moment: datetime) -> ses_asn1.SESTime:
        return ses_asn1.SESTime(name=time_type, value=moment)

    info = ses_asn1.SESSealInfoV1(
        {
            "header": {"id": "ES", "version": 1, "vid": "TEST"},
            "esID": "v1-seal",
            "property": {
                "type": 1,
                "name": "V1 测试章",
                "certList": [pki.holder_certificate],
                "createDate": when(NOW),
                "validStart": when(NOW),
                "validEnd": when(NOW + timedelta(days=365)),
            },
            "picture": {"type": "PNG", "data": _png(), "width": 40, "height": 40},
        }
    )
    signed = _V1MakerSigned(
        {"esealInfo": info, "cert": pki.maker_certificate, "signatureAlgorithm": ses_asn1.SM2_SM3_OID}
    ).dump()
    signature = pki.maker.sign(info.dump() if over_info_alone else signed)
    seal: bytes = ses_asn1.SESealV1(
        {
            "esealInfo": info,
            "signInfo": {
                "cert": pki.maker_certificate,
                "signatureAlgorithm": ses_asn1.SM2_SM3_OID,
                "signData": signature,
            },
        }
    ).dump()
    return seal


def test_v1_seal_signature_covers_info_cert_and_algorithm(pki: Pki) -> None:
    result = ses.verify_seal(_v1_seal(pki, time_type="utc_time"), now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons
    assert "layout V1" in _detail(result, "format")
    assert "tolerated" not in _detail(result, "format")
    wrong = ses.verify_seal(_v1_seal(pki, time_type="utc_time", over_info_alone=True), now=LATER, **pki.trust)
    assert _failed(wrong) == {"seal_signature"}


def test_v1_generalized_time_is_tolerated_and_said_so(pki: Pki) -> None:
    result = ses.verify_seal(_v1_seal(pki), now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons
    assert "tolerated: createDate is generalized time instead of utc time" in _detail(result, "format")


def test_v1_signature_with_octet_strings_is_tolerated_and_verifies(pki: Pki) -> None:
    seal = ses_asn1.SESealV1.load(_v1_seal(pki, time_type="utc_time"))
    document = b"V1 document"
    tbs = ses_asn1.TBSSignV1(
        {
            "version": 1,
            "eseal": seal,
            "timeInfo": ses_asn1.BitOrOctetString(name="octet_string", value=b"261127080000Z"),
            "dataHash": ses_asn1.BitOrOctetString(name="octet_string", value=document_hash(document)),
            "propertyInfo": "doc",
            "cert": pki.holder_certificate,
            "signatureAlgorithm": ses_asn1.SM2_SM3_OID,
        }
    )
    signature = ses_asn1.SESSignatureV1({"toSign": tbs, "signature": pki.holder.sign(tbs.dump())}).dump()
    result = ses.verify_ses_signature(signature, document=document, now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons
    assert result.signing_time == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    detail = _detail(result, "format")
    assert "timeInfo is an OCTET STRING" in detail and "dataHash is an OCTET STRING" in detail


# --- signatures --------------------------------------------------------------------------------------


def test_document_signature_round_trips_and_fails_only_the_hash_when_the_document_changes(pki: Pki) -> None:
    document = "合同正文 v1".encode()
    signature = _signature(pki, _seal(pki), document)
    result = ses.verify_ses_signature(signature, document=document, now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons
    assert result.kind == "ses-signature"
    assert result.signing_time == NOW + timedelta(days=1)
    assert result.signing_time_source == "timeInfo"
    assert set(_outcomes(result)) == {
        "format", "signature", "signer_in_seal", "seal_signature", "signing_time", "maker_certificate",
        "seal_validity", "signer_certificate", "timestamp", "document_hash",
    }  # fmt: skip
    changed = ses.verify_ses_signature(signature, document="合同正文 v2".encode(), now=LATER, **pki.trust)
    assert changed.verdict is Verdict.INVALID
    assert _failed(changed) == {"document_hash"}
    bare = ses.verify_ses_signature(signature, document=None, now=LATER, **pki.trust)
    assert _outcomes(bare)["document_hash"] is CheckOutcome.SKIPPED
    assert _detail(bare, "document_hash") == "no document given"


def test_a_flipped_signature_value_fails_the_signature_only(pki: Pki) -> None:
    signature = bytearray(_signature(pki, _seal(pki), b"doc"))
    value = ses.parse_signature(bytes(signature)).signature
    signature[bytes(signature).rindex(value) + 10] ^= 0x01
    result = ses.verify_ses_signature(bytes(signature), document=b"doc", now=LATER, **pki.trust)
    assert _failed(result) == {"signature"}


def test_a_signer_outside_the_seals_cert_list_fails(pki: Pki) -> None:
    signature = _signature(pki, _seal(pki), b"doc", signer=pki.maker, signer_certificate=pki.maker_certificate)
    result = ses.verify_ses_signature(signature, document=b"doc", now=LATER, **pki.trust)
    assert _failed(result) == {"signer_in_seal"}


def test_cert_list_type_2_matches_by_digest(pki: Pki) -> None:
    def digest_list(kind: str, value: bytes) -> bytes:
        return ses_asn1.CertDigestList([{"type": kind, "value": value}]).dump()

    for kind, value, outcome in [
        ("SM3", document_hash(pki.holder_certificate), CheckOutcome.PASSED),
        ("SM3", document_hash(pki.maker_certificate), CheckOutcome.FAILED),
        ("MD5", b"\x00" * 16, CheckOutcome.FAILED),
    ]:
        seal = _sign_v4_info(pki, _info(pki, cert_list=digest_list(kind, value)))
        assert ses.parse_seal(seal).cert_list_type == 2
        tbs = ses_asn1.TBSSign(
            {
                "version": 4,
                "eseal": ses_asn1.SESeal.load(seal),
                "timeInfo": NOW + timedelta(days=1),
                "dataHash": document_hash(b"doc"),
                "propertyInfo": "doc",
            }
        )
        signature = ses_asn1.SESSignature(
            {
                "toSign": tbs,
                "cert": pki.holder_certificate,
                "signatureAlgID": ses_asn1.SM2_SM3_OID,
                "signature": pki.holder.sign(tbs.dump()),
            }
        ).dump()
        result = ses.verify_ses_signature(signature, document=b"doc", now=LATER, **pki.trust)
        assert _outcomes(result)["signer_in_seal"] is outcome, (kind, result.reasons)


def test_a_signing_time_in_the_future_fails(pki: Pki) -> None:
    signature = _signature(pki, _seal(pki), b"doc", signing_time=LATER + timedelta(hours=1))
    result = ses.verify_ses_signature(signature, document=b"doc", now=LATER, **pki.trust)
    assert _failed(result) == {"signing_time"}


def test_signer_certificate_must_be_valid_at_the_signing_time(pki: Pki) -> None:
    short_lived = SM2Signer(SM2PrivateKey.generate())
    certificate = _der(
        pki.issuing.issue(
            profile=ca.SEAL_PROFILE,
            subject=ca.organisation_name(organization="短期证书", uscc=USCC),
            public_key=short_lived.public_key(),
            now=NOW,
            not_after=NOW + timedelta(hours=12),
        )
    )
    seal = _seal(pki, holder_certificates=[certificate])
    signature = _signature(pki, seal, b"doc", signer=short_lived, signer_certificate=certificate)
    result = ses.verify_ses_signature(signature, document=b"doc", now=LATER, **pki.trust)
    assert _failed(result) == {"signer_certificate"}
    assert "not at the signing time" in _detail(result, "signer_certificate")


def test_a_revoked_signer_certificate_fails_when_the_crl_is_given(pki: Pki) -> None:
    signature = _signature(pki, _seal(pki), b"doc")
    holder = x509.load_der_x509_certificate(pki.holder_certificate)

    def crl(authority: ca.CertificateAuthority, revoked: list[gm_x509.RevokedCertificate]) -> bytes:
        return gm_x509.build_crl(
            issuer_certificate=authority.certificate,
            signer=authority.signer,
            revoked=revoked,
            crl_number=1,
            this_update=LATER - timedelta(hours=1),
            next_update=LATER + timedelta(days=1),
        )

    root_crl = crl(pki.root, [])
    revoked = [gm_x509.RevokedCertificate(holder.serial_number, NOW + timedelta(hours=1))]
    crls = [root_crl, crl(pki.issuing, revoked)]
    result = ses.verify_ses_signature(signature, document=b"doc", now=LATER, crls=crls, **pki.trust)
    assert _failed(result) == {"signer_certificate"}
    assert "revoked" in _detail(result, "signer_certificate")
    # The maker's certificate is on neither CRL.
    assert _outcomes(result)["maker_certificate"] is CheckOutcome.PASSED
    clean = ses.verify_ses_signature(
        signature, document=b"doc", now=LATER, crls=[root_crl, crl(pki.issuing, [])], **pki.trust
    )
    assert clean.verdict is Verdict.VALID, clean.reasons
    assert "not revoked" in _detail(clean, "signer_certificate")
    # CRLs that cover only part of the path leave revocation open: not VALID.
    partial = ses.verify_ses_signature(signature, document=b"doc", now=LATER, crls=[crl(pki.issuing, [])], **pki.trust)
    assert partial.verdict is Verdict.INDETERMINATE
    assert "no valid CRL for 1 certificate" in _detail(partial, "signer_certificate")


def test_signature_time_stamp_must_be_over_the_signature_value(pki: Pki) -> None:
    seal = _seal(pki)
    good = _signature(pki, seal, b"doc", time_stamper=_time_stamp_token)
    result = ses.verify_ses_signature(good, document=b"doc", now=LATER, **pki.trust)
    assert result.verdict is Verdict.VALID, result.reasons
    assert "matches the signature value" in _detail(result, "timestamp")
    wrong = _signature(pki, seal, b"doc", time_stamper=lambda value: _time_stamp_token(value + b"x"))
    assert _failed(ses.verify_ses_signature(wrong, document=b"doc", now=LATER, **pki.trust)) == {"timestamp"}


def test_input_that_is_no_seal_raises() -> None:
    with pytest.raises(MalformedInputError):
        ses.verify_seal(b"not DER at all", now=NOW)
    with pytest.raises(MalformedInputError):
        ses.verify_ses_signature(_seq(core.Integer(1).dump() * 3), document=None, now=NOW)
    with pytest.raises(InputTooLargeError):
        ses.verify_seal(b"\x30" + b"\x00" * (ses.MAX_SES_SIZE + 1), now=NOW)
    with pytest.raises(MalformedInputError, match="timezone-aware"):
        ses.verify_seal(b"\x30\x00", now=datetime(2026, 1, 1))
