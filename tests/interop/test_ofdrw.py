"""Interoperability with ofdrw (Java): its seals, signatures and signed OFD documents verify here.

The vectors are shared/interop/ofdrw/ (README there). What each one deserves, and why:

* Their certificates chain to roots we are not given (ofdrw's test root "OFD Reader and WriterROOT
  Certificate", the tax administration's "税务电子证书管理中心(SM2)", "Hebei Gede SM2CA"), so with no trust
  anchors every certificate check says "trust not established" (INDETERMINATE): at best a vector is
  INDETERMINATE, never VALID.
* The ofdrw test certificates are valid 2020-04-21 → 2022-04-21. Files signed or sealed inside that
  span are checked at a time inside it (``IN_2021``); files made later (the V5 vectors, dated 2026, and
  SESV4SignDoc.ofd, signed 2026-08-04 with the 2020 seal) are INVALID because their certificates had
  expired — and, for SESV4SignDoc.ofd, the seal's own window too — when they were used.
* SESealData.DER (Hebei Gede) is INVALID three times over, as its bytes show: a critical vendor
  extension (1.2.156.112600.7.2) we cannot understand, a maker signature that verifies neither over
  DER(eSealInfo) nor over the V1 form SEQUENCE{info, cert, alg}, and a maker certificate that expired
  (2019-01-02) before the seal was made (2020-10-13). The reference notes say every vector's
  signatures verify; this one's does not.
* SignedValueV4.dat and SignedValueV5.dat carry 32 zero bytes as dataHash (a placeholder in ofdrw's
  test) and come without the document they sign: ``document_hash`` is SKIPPED for them.
* DigitalSign.ofd is a ``Type="Sign"`` signature: a bare SM2 signature over Signature.xml. The package
  holds no certificate; the signer is ofdrw's USER certificate, the one in UserV4.esl's certList.

Each vector then has one byte flipped where it matters, and exactly the check that guards that
byte must start failing.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import parser
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image

import ca
from ca.ses_asn1 import raw_elements
from ca.sm2 import SM2PrivateKey, SM2Signer
from seal_keys.ses import SealPicture, document_hash, make_seal, make_signature
from verification import CheckOutcome, Verdict, VerificationResult
from verification.ofd import verify_ofd
from verification.ses import parse_seal, parse_signature, verify_seal, verify_ses_signature

IN_2021 = datetime(2021, 6, 1, tzinfo=UTC)  # inside the ofdrw test certificates' validity
IN_2026 = datetime(2026, 6, 1, tzinfo=UTC)  # inside the V5 seals' window (2026-04-24 → 2028-04-24)
LATE_2026 = datetime(2026, 11, 26, tzinfo=UTC)

PASSED = CheckOutcome.PASSED
FAILED = CheckOutcome.FAILED
SKIPPED = CheckOutcome.SKIPPED
INDETERMINATE = CheckOutcome.INDETERMINATE


@pytest.fixture(scope="module")
def vectors(shared_dir: Path) -> Path:
    return shared_dir / "interop" / "ofdrw"


def _outcomes(result: VerificationResult) -> dict[str, CheckOutcome]:
    return {check.name: check.outcome for check in result.checks}


def _failed(result: VerificationResult) -> set[str]:
    return {check.name for check in result.checks if check.outcome is FAILED}


def _detail(result: VerificationResult, name: str) -> str:
    return next(check.detail for check in result.checks if check.name == name)


def _flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    changed = bytearray(data)
    changed[index] ^= mask
    return bytes(changed)


def _flip_in_picture(data: bytes, picture: bytes | None = None) -> bytes:
    """Flip a byte in the middle of a seal's picture (inside eSealInfo)."""
    picture = parse_seal(data).picture if picture is None else picture
    return _flip(data, data.index(picture) + len(picture) // 2)


# --- seals -------------------------------------------------------------------------------------------

SEALS: list[tuple[str, datetime, Verdict, dict[str, CheckOutcome], int, str]] = [
    # file, time, verdict, outcomes, layout, why
    (
        "UserV1.esl",
        IN_2021,
        Verdict.INDETERMINATE,
        {"format": PASSED, "seal_signature": PASSED, "maker_certificate": INDETERMINATE, "seal_validity": PASSED},
        1,
        "GM/T 0031-2014 seal: maker signature over SEQUENCE{info, cert, alg} verifies; root unknown",
    ),
    (
        "UserV4.esl",
        IN_2021,
        Verdict.INDETERMINATE,
        {"format": PASSED, "seal_signature": PASSED, "maker_certificate": INDETERMINATE, "seal_validity": PASSED},
        4,
        "GB/T 38540 seal: maker signature over DER(eSealInfo) verifies; root unknown",
    ),
    (
        "UserV5.esl",
        IN_2026,
        Verdict.INVALID,
        {"format": PASSED, "seal_signature": PASSED, "maker_certificate": FAILED, "seal_validity": PASSED},
        5,
        "made in 2026 with a maker certificate that expired on 2022-04-21",
    ),
    (
        "UserV5_ts.esl",
        IN_2026,
        Verdict.INVALID,
        {
            "format": PASSED,
            "seal_signature": PASSED,
            "maker_certificate": FAILED,
            "seal_validity": PASSED,
            "timestamp": SKIPPED,
        },
        5,
        "as UserV5.esl; its time-stamp is the 3-byte placeholder 01 02 03 of ofdrw's test, not a token",
    ),
    (
        "SESealData.DER",
        datetime(2020, 12, 1, tzinfo=UTC),
        Verdict.INVALID,
        {"format": FAILED, "seal_signature": FAILED, "maker_certificate": FAILED, "seal_validity": PASSED},
        4,
        "critical vendor extension, maker signature does not verify, maker certificate expired in 2019",
    ),
]


@pytest.mark.parametrize(("name", "now", "verdict", "outcomes", "layout", "why"), SEALS, ids=[s[0] for s in SEALS])
def test_ofdrw_seal_gets_the_verdict_it_deserves(
    vectors: Path,
    name: str,
    now: datetime,
    verdict: Verdict,
    outcomes: dict[str, CheckOutcome],
    layout: int,
    why: str,
) -> None:
    data = (vectors / name).read_bytes()
    assert parse_seal(data).layout == layout
    result = verify_seal(data, now=now)
    assert result.verdict is verdict, (why, result.reasons)
    assert {k: v for k, v in _outcomes(result).items() if k in outcomes} == outcomes, why
    if result.verdict is Verdict.INDETERMINATE:
        assert "trust not established" in _detail(result, "maker_certificate")


def test_sesealdata_failures_name_their_reasons(vectors: Path) -> None:
    result = verify_seal((vectors / "SESealData.DER").read_bytes(), now=datetime(2020, 12, 1, tzinfo=UTC))
    assert "unknown critical seal extension 1.2.156.112600.7.2" in _detail(result, "format")
    assert "does not verify" in _detail(result, "seal_signature")
    assert "2019-01-02" in _detail(result, "maker_certificate")


def test_ofdrw_v4_seal_is_outside_its_window_today(vectors: Path) -> None:
    result = verify_seal((vectors / "UserV4.esl").read_bytes(), now=LATE_2026)
    assert result.verdict is Verdict.INVALID
    assert _failed(result) == {"maker_certificate", "seal_validity"}


@pytest.mark.parametrize(
    ("name", "now"),
    [("UserV1.esl", IN_2021), ("UserV4.esl", IN_2021), ("UserV5.esl", IN_2026), ("UserV5_ts.esl", IN_2026)],
)
def test_a_flipped_byte_in_the_seal_info_fails_the_maker_signature(vectors: Path, name: str, now: datetime) -> None:
    data = (vectors / name).read_bytes()
    before = _failed(verify_seal(data, now=now))
    after = _failed(verify_seal(_flip_in_picture(data), now=now))
    assert after - before == {"seal_signature"}


def test_a_flipped_byte_in_sesealdata_keeps_its_maker_signature_failing(vectors: Path) -> None:
    data = (vectors / "SESealData.DER").read_bytes()
    now = datetime(2020, 12, 1, tzinfo=UTC)
    assert _failed(verify_seal(_flip_in_picture(data), now=now)) == _failed(verify_seal(data, now=now))


# --- signatures --------------------------------------------------------------------------------------


def test_signed_value_v4_verifies_but_trust_is_not_established(vectors: Path) -> None:
    data = (vectors / "SignedValueV4.dat").read_bytes()
    result = verify_ses_signature(data, document=None, now=IN_2021)
    assert result.verdict is Verdict.INDETERMINATE, result.reasons
    assert _outcomes(result) == {
        "format": PASSED,
        "signature": PASSED,
        "signer_in_seal": PASSED,
        "seal_signature": PASSED,
        "signing_time": PASSED,
        "maker_certificate": INDETERMINATE,
        "seal_validity": PASSED,
        "signer_certificate": INDETERMINATE,
        "timestamp": SKIPPED,
        "document_hash": SKIPPED,  # the signed Signature.xml is not among the vectors
    }
    assert result.signing_time == datetime(2020, 10, 12, 11, 14, 3, tzinfo=UTC)
    assert result.disclosed["property_info"] == "/Doc_0/Signs/Sign_0/Signature.xml"


def test_signed_value_v5_was_signed_with_expired_certificates(vectors: Path) -> None:
    data = (vectors / "SignedValueV5.dat").read_bytes()
    assert parse_signature(data).layout == 5
    result = verify_ses_signature(data, document=None, now=LATE_2026)
    assert result.verdict is Verdict.INVALID
    assert _failed(result) == {"maker_certificate", "signer_certificate"}
    for name in ("signature", "signer_in_seal", "seal_signature", "seal_validity"):
        assert _outcomes(result)[name] is PASSED


@pytest.mark.parametrize(("name", "now"), [("SignedValueV4.dat", IN_2021), ("SignedValueV5.dat", LATE_2026)])
def test_flipped_bytes_in_a_signature_fail_exactly_their_step(vectors: Path, name: str, now: datetime) -> None:
    data = (vectors / name).read_bytes()
    parsed = parse_signature(data)
    before = _failed(verify_ses_signature(data, document=None, now=now))

    def delta(changed: bytes) -> set[str]:
        return _failed(verify_ses_signature(changed, document=None, now=now)) - before

    # The signer's signature value.
    assert delta(_flip(data, data.rindex(parsed.signature) + 8)) == {"signature"}
    # The data hash is signed by the signer only. (ofdrw's test wrote 32 zero bytes there, so it is
    # found by structure, not by value.)
    assert delta(_flip(data, _data_hash_offset(data) + 3)) == {"signature"}
    # The seal's picture: signed by the maker, and by the signer as part of TBS_Sign.
    assert delta(_flip_in_picture(data, parsed.seal.picture)) == {"signature", "seal_signature"}


def _data_hash_offset(data: bytes) -> int:
    """Where the dataHash payload of a V4/V5 SES_Signature starts: TBS_Sign's fourth element."""
    tbs = raw_elements(data)[0][0]
    fields, _ = raw_elements(tbs)
    tbs_start = data.index(tbs) + len(tbs) - sum(len(f) for f in fields)  # where TBS_Sign's contents begin
    bit_string = fields[3]
    assert bit_string[0] == 0x03 and bit_string[1] == 33  # BIT STRING, 1 + 32 bytes
    return tbs_start + sum(len(f) for f in fields[:3]) + 3  # tag, length, unused-bits octet


# --- OFD documents -----------------------------------------------------------------------------------


def _rewrite(ofd: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The same package with one entry changed (all others byte for byte, in the same order)."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(ofd)) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return output.getvalue()


def _entry(ofd: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(ofd)) as package:
        return package.read(name)


def _flip_company(xml: bytes) -> bytes:
    # Signature.xml stays well-formed: the case of the first letter of Provider/@Company changes.
    return _flip(xml, xml.index(b'Company="') + len(b'Company="'), 0x20)


def _flip_signature_value(dat: bytes) -> bytes:
    return _flip(dat, dat.rindex(parse_signature(dat).signature) + 8)


def _user_certificate(vectors: Path) -> bytes:
    return parse_seal((vectors / "UserV4.esl").read_bytes()).certificates[0]


SEAL_OFDS: list[tuple[str, str, datetime, Verdict, set[str], str]] = [
    # file, signature id, time, verdict, failed checks, why
    ("v4signed.ofd", "1", IN_2021, Verdict.INDETERMINATE, set(), "a tax invoice (GOMAIN seal, SM3 references)"),
    ("signedFile.ofd", "2", IN_2021, Verdict.INDETERMINATE, set(), "a Jiangsu tax invoice (GOMAIN seal)"),
    (
        "SESV4SignDoc.ofd",
        "1",
        LATE_2026,
        Verdict.INVALID,
        {"1:maker_certificate", "1:seal_validity", "1:signer_certificate"},
        "signed 2026-08-04 with ofdrw's 2020 test seal: seal window and certificates had ended in 2022",
    ),
]


@pytest.mark.parametrize(("name", "sid", "now", "verdict", "failed", "why"), SEAL_OFDS, ids=[s[0] for s in SEAL_OFDS])
def test_sealed_ofd_gets_the_verdict_it_deserves(
    vectors: Path, name: str, sid: str, now: datetime, verdict: Verdict, failed: set[str], why: str
) -> None:
    result = verify_ofd((vectors / name).read_bytes(), now=now)
    assert result.kind == "ofd"
    assert result.verdict is verdict, (why, result.reasons)
    assert _failed(result) == failed, why
    outcomes = _outcomes(result)
    for step in ("references", "format", "signature", "signer_in_seal", "seal_signature", "document_hash"):
        assert outcomes[f"{sid}:{step}"] is PASSED, (step, why)
    if verdict is Verdict.INDETERMINATE:
        assert outcomes[f"{sid}:signer_certificate"] is INDETERMINATE


def test_sesv4signdoc_seal_file_is_the_embedded_seal(vectors: Path) -> None:
    result = verify_ofd((vectors / "SESV4SignDoc.ofd").read_bytes(), now=LATE_2026)
    assert _outcomes(result)["1:seal_file"] is PASSED


@pytest.mark.parametrize(("name", "sid", "now", "verdict", "failed", "why"), SEAL_OFDS, ids=[s[0] for s in SEAL_OFDS])
def test_flipped_bytes_in_a_sealed_ofd_fail_exactly_their_step(
    vectors: Path, name: str, sid: str, now: datetime, verdict: Verdict, failed: set[str], why: str
) -> None:
    ofd = (vectors / name).read_bytes()
    before = _failed(verify_ofd(ofd, now=now))
    assert before == failed

    def delta(entry: str, change: Callable[[bytes], bytes]) -> set[str]:
        return _failed(verify_ofd(_rewrite(ofd, entry, change), now=now)) - before

    # A protected document part: its Reference/CheckValue no longer matches.
    assert delta("Doc_0/Pages/Page_0/Content.xml", lambda b: _flip(b, len(b) // 2)) == {f"{sid}:references"}
    # Signature.xml itself: SM3 of it is the SES_Signature's dataHash.
    assert delta("Doc_0/Signs/Sign_0/Signature.xml", _flip_company) == {f"{sid}:document_hash"}
    # The signer's signature value in SignedValue.dat.
    assert delta("Doc_0/Signs/Sign_0/SignedValue.dat", _flip_signature_value) == {f"{sid}:signature"}


def test_a_flipped_byte_in_sesv4signdoc_seal_file_is_caught_twice(vectors: Path) -> None:
    ofd = (vectors / "SESV4SignDoc.ofd").read_bytes()
    before = _failed(verify_ofd(ofd, now=LATE_2026))
    changed = _rewrite(ofd, "Doc_0/Signs/Sign_0/Seal.esl", _flip_in_picture)
    # Seal.esl is a protected file (a Reference) and must equal the seal inside SignedValue.dat.
    assert _failed(verify_ofd(changed, now=LATE_2026)) - before == {"1:references", "1:seal_file"}


def test_digital_sign_ofd_needs_the_signers_certificate(vectors: Path) -> None:
    ofd = (vectors / "DigitalSign.ofd").read_bytes()
    signed_value = _entry(ofd, "Doc_0/Signs/Sign_0/SignedValue.dat")
    assert signed_value[0] == 0x30 and len(signed_value) <= 72  # a bare DER SEQUENCE{r, s}, no CMS
    bare = verify_ofd(ofd, now=IN_2021)
    assert bare.verdict is Verdict.INDETERMINATE
    assert _outcomes(bare) == {"package": PASSED, "s001:references": PASSED, "s001:signature": INDETERMINATE}
    result = verify_ofd(ofd, now=IN_2021, signer_certificates=[_user_certificate(vectors)])
    assert result.verdict is Verdict.INDETERMINATE, result.reasons
    assert _outcomes(result) == {
        "package": PASSED,
        "s001:references": PASSED,
        "s001:signature": PASSED,
        "s001:signer_certificate": INDETERMINATE,
    }
    maker = parse_seal((vectors / "UserV4.esl").read_bytes()).maker_certificate
    assert _failed(verify_ofd(ofd, now=IN_2021, signer_certificates=[maker])) == {"s001:signature"}


def test_flipped_bytes_in_digital_sign_ofd_fail_exactly_their_step(vectors: Path) -> None:
    ofd = (vectors / "DigitalSign.ofd").read_bytes()
    certificates = [_user_certificate(vectors)]

    def failed(changed: bytes) -> set[str]:
        return _failed(verify_ofd(changed, now=IN_2021, signer_certificates=certificates))

    content = _rewrite(ofd, "Doc_0/Pages/Page_0/Content.xml", lambda b: _flip(b, len(b) // 2))
    assert failed(content) == {"s001:references"}
    assert failed(_rewrite(ofd, "Doc_0/Signs/Sign_0/Signature.xml", _flip_company)) == {"s001:signature"}
    assert failed(_rewrite(ofd, "Doc_0/Signs/Sign_0/SignedValue.dat", lambda b: _flip(b, 20))) == {"s001:signature"}


# --- our seals have ofdrw's shape, and round-trip ----------------------------------------------------


def _shape(der: bytes, depth: int = 0) -> list[Any]:
    """The tag tree of a DER value: (class, tag) at every level of constructed values."""
    class_, method, tag, _header, contents, _trailer = parser.parse(der)
    if method == 0 or depth > 4:
        return [(class_, tag)]
    children: list[Any] = []
    offset = 0
    while offset < len(contents):
        child = parser.parse(contents[offset:])
        length = len(child[3]) + len(child[4]) + len(child[5])
        children.append(_shape(contents[offset : offset + length], depth + 1))
        offset += length
    return [(class_, tag), children]


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def test_our_v4_seal_and_signature_have_ofdrws_shape_and_round_trip(vectors: Path) -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    root_signer = SM2Signer(SM2PrivateKey.generate())
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization="互通测试根CA"), now=now
        ),
        signer=root_signer,
    )
    maker, holder = SM2Signer(SM2PrivateKey.generate()), SM2Signer(SM2PrivateKey.generate())

    def certify(signer: SM2Signer, name: str) -> bytes:
        subject = ca.organisation_name(organization=name, uscc="11330100002500295Y")
        return _der(root.issue(profile=ca.SEAL_PROFILE, subject=subject, public_key=signer.public_key(), now=now))

    maker_certificate, holder_certificate = certify(maker, "互通印章制作中心"), certify(holder, "互通测试单位")
    picture = io.BytesIO()
    Image.new("RGBA", (16, 16), (220, 0, 0, 255)).save(picture, format="PNG")
    seal = make_seal(
        es_id="33010000000002",
        seal_type=3,
        name="互通测试单位 公章",
        holder_certificates=[holder_certificate],
        create_date=now,
        valid_start=now,
        valid_end=now + timedelta(days=365),
        picture=SealPicture(type="PNG", data=picture.getvalue(), width_mm=40, height_mm=40),
        maker=maker,
        maker_certificate=maker_certificate,
    )
    assert _shape(seal) == _shape((vectors / "UserV4.esl").read_bytes())
    document = b"<ofd:Signature>...</ofd:Signature>"
    signature = make_signature(
        seal=seal,
        data_hash=document_hash(document),
        property_info="/Doc_0/Signs/Sign_0/Signature.xml",
        signing_time=now + timedelta(minutes=1),
        signer=holder,
        signer_certificate=holder_certificate,
    )
    assert _shape(signature) == _shape((vectors / "SignedValueV4.dat").read_bytes())

    anchors = {"trust_anchors": [_der(root.certificate)]}
    later = now + timedelta(days=1)
    assert verify_seal(seal, now=later, **anchors).verdict is Verdict.VALID
    assert verify_ses_signature(signature, document=document, now=later, **anchors).verdict is Verdict.VALID
    changed = verify_ses_signature(signature, document=document + b" ", now=later, **anchors)
    assert _failed(changed) == {"document_hash"}
