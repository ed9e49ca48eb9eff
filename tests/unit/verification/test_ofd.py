"""OFD package verification (verification.ofd): signatures per ID, and a package that fights back.

OFD documents are assembled here the way an OFD signer writes them (GB/T 33190 §18: Signatures.xml,
Signature.xml with SM3 References, Seal.esl, SignedValue.dat holding a V4 SES_Signature over
SM3(Signature.xml)), signed with real SM2 keys under a real SM2 root, then verified and tampered with.
"""

from __future__ import annotations

import base64
import io
import warnings
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image

import ca
from ca.sm2 import SM2PrivateKey, SM2Signer
from seal_keys.ses import SealPicture, document_hash, make_seal, make_signature
from verification import CheckOutcome, InputTooLargeError, MalformedInputError, Verdict, VerificationResult
from verification import ofd as ofd_module
from verification.ofd import verify_ofd

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Pki:
    root: bytes
    maker: SM2Signer
    maker_certificate: bytes
    holder: SM2Signer
    holder_certificate: bytes


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_signer = SM2Signer(SM2PrivateKey.generate())
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization="OFD测试根CA"), now=NOW
        ),
        signer=root_signer,
    )
    maker, holder = SM2Signer(SM2PrivateKey.generate()), SM2Signer(SM2PrivateKey.generate())

    def certify(signer: SM2Signer, name: str) -> bytes:
        subject = ca.organisation_name(organization=name, uscc="11330100002500295Y")
        return _der(root.issue(profile=ca.SEAL_PROFILE, subject=subject, public_key=signer.public_key(), now=NOW))

    return Pki(_der(root.certificate), maker, certify(maker, "印章制作中心"), holder, certify(holder, "示范单位"))


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (220, 0, 0, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names; one test wants them
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as package:
            for name, content in files.items():
                package.writestr(name.split("#", 1)[0], content)  # "name#2" writes a second "name"
    return output.getvalue()


def _files(
    pki: Pki,
    *,
    check_method: str | None = "SM3",
    type_: str | None = "Seal",
    base_loc: str = "Sign_0/Signature.xml",  # relative to Signatures.xml
    extra_reference: str = "",
    signature_xml_prefix: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
    sign: bool = True,
) -> dict[str, bytes]:
    files = {
        "OFD.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:OFD {NS} Version="1.1" DocType="OFD"><ofd:DocBody>'
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot><ofd:Signatures>Doc_0/Signs/Signatures.xml"
            "</ofd:Signatures></ofd:DocBody></ofd:OFD>"
        ).encode(),
        "Doc_0/Document.xml": f'<ofd:Document {NS}><ofd:Pages><ofd:Page ID="1"/></ofd:Pages></ofd:Document>'.encode(),
        "Doc_0/Pages/Page_0/Content.xml": f"<ofd:Page {NS}><ofd:Content>示范文件正文</ofd:Content></ofd:Page>".encode(),
    }
    seal = make_seal(
        es_id="33010000000009",
        seal_type=1,
        name="示范单位 公章",
        holder_certificates=[pki.holder_certificate],
        create_date=NOW,
        valid_start=NOW,
        valid_end=NOW + timedelta(days=365),
        picture=SealPicture(type="PNG", data=_png(), width_mm=40, height_mm=40),
        maker=pki.maker,
        maker_certificate=pki.maker_certificate,
    )
    files["Doc_0/Signs/Sign_0/Seal.esl"] = seal
    references = "".join(
        f'<ofd:Reference FileRef="/{name}"><ofd:CheckValue>'
        f"{base64.b64encode(document_hash(files[name])).decode()}</ofd:CheckValue></ofd:Reference>"
        for name in ("OFD.xml", "Doc_0/Document.xml", "Doc_0/Pages/Page_0/Content.xml", "Doc_0/Signs/Sign_0/Seal.esl")
    )
    references += extra_reference
    method = f' CheckMethod="{check_method}"' if check_method is not None else ""
    signature_xml = (
        f"{signature_xml_prefix}<ofd:Signature {NS}><ofd:SignedInfo>"
        '<ofd:Provider ProviderName="yinxin-test" Company="yinxin" Version="1"/>'
        "<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>"
        "<ofd:SignatureDateTime>2026-11-27 16:00:00</ofd:SignatureDateTime>"
        f"<ofd:References{method}>{references}</ofd:References>"
        "<ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal></ofd:SignedInfo>"
        "<ofd:SignedValue>/Doc_0/Signs/Sign_0/SignedValue.dat</ofd:SignedValue></ofd:Signature>"
    ).encode()
    files["Doc_0/Signs/Sign_0/Signature.xml"] = signature_xml
    if type_ == "Sign":
        files["Doc_0/Signs/Sign_0/SignedValue.dat"] = pki.holder.sign(signature_xml)
    elif sign:
        files["Doc_0/Signs/Sign_0/SignedValue.dat"] = make_signature(
            seal=seal,
            data_hash=document_hash(signature_xml),
            property_info="/Doc_0/Signs/Sign_0/Signature.xml",
            signing_time=NOW + timedelta(days=1),
            signer=pki.holder,
            signer_certificate=pki.holder_certificate,
        )
    type_attribute = f' Type="{type_}"' if type_ is not None else ""
    files["Doc_0/Signs/Signatures.xml"] = (
        f'<ofd:Signatures {NS}><ofd:MaxSignId>7</ofd:MaxSignId><ofd:Signature ID="s7"{type_attribute} '
        f'BaseLoc="{base_loc}"/></ofd:Signatures>'
    ).encode()
    return files


def _failed(result: VerificationResult) -> set[str]:
    return {check.name for check in result.checks if check.outcome is CheckOutcome.FAILED}


def _detail(result: VerificationResult, name: str) -> str:
    return next(check.detail for check in result.checks if check.name == name)


def test_an_ofd_we_seal_verifies_valid_with_every_step_named_by_signature_id(pki: Pki) -> None:
    result = verify_ofd(_zip(_files(pki)), now=LATER, trust_anchors=[pki.root])
    assert result.verdict is Verdict.VALID, result.reasons
    names = [check.name for check in result.checks]
    assert names[0] == "package"
    assert {"s7:references", "s7:seal_file", "s7:signature", "s7:document_hash", "s7:signer_in_seal"} <= set(names)
    assert all(name == "package" or name.startswith("s7:") for name in names)
    assert result.signing_time == NOW + timedelta(days=1)
    assert result.disclosed["signatures"][0]["seal_name"] == "示范单位 公章"


def test_without_trust_anchors_the_same_ofd_is_indeterminate(pki: Pki) -> None:
    result = verify_ofd(_zip(_files(pki)), now=LATER)
    assert result.verdict is Verdict.INDETERMINATE
    assert "trust not established" in _detail(result, "s7:signer_certificate")


def test_a_changed_page_fails_the_references(pki: Pki) -> None:
    files = _files(pki)
    files["Doc_0/Pages/Page_0/Content.xml"] = files["Doc_0/Pages/Page_0/Content.xml"].replace(
        "正文".encode(), "伪造".encode()
    )
    result = verify_ofd(_zip(files), now=LATER, trust_anchors=[pki.root])
    assert _failed(result) == {"s7:references"}
    assert "/Doc_0/Pages/Page_0/Content.xml changed" in _detail(result, "s7:references")


def test_type_sign_signature_verifies_with_the_signers_certificate(pki: Pki) -> None:
    package = _zip(_files(pki, type_="Sign"))
    result = verify_ofd(package, now=LATER, trust_anchors=[pki.root], signer_certificates=[pki.holder_certificate])
    assert result.verdict is Verdict.VALID, result.reasons
    assert [c.name for c in result.checks] == ["package", "s7:references", "s7:signature", "s7:signer_certificate"]
    wrong = verify_ofd(package, now=LATER, trust_anchors=[pki.root], signer_certificates=[pki.maker_certificate])
    assert _failed(wrong) == {"s7:signature"}


def test_a_missing_type_means_seal(pki: Pki) -> None:
    result = verify_ofd(_zip(_files(pki, type_=None)), now=LATER, trust_anchors=[pki.root])
    assert result.verdict is Verdict.VALID, result.reasons


def test_an_unknown_type_fails(pki: Pki) -> None:
    result = verify_ofd(_zip(_files(pki, type_="Stamp")), now=LATER, trust_anchors=[pki.root])
    assert _failed(result) == {"s7:format"}


@pytest.mark.parametrize(
    ("check_method", "message"),
    [("MD5", "unsupported CheckMethod"), (None, "algorithm is not stated"), ("1.2.156.10197.1.401", "")],
)
def test_check_methods(pki: Pki, check_method: str | None, message: str) -> None:
    result = verify_ofd(_zip(_files(pki, check_method=check_method)), now=LATER, trust_anchors=[pki.root])
    if message:
        assert _failed(result) == {"s7:references"}
        assert message in _detail(result, "s7:references")
    else:
        assert result.verdict is Verdict.VALID, result.reasons


def test_a_reference_outside_the_package_fails(pki: Pki) -> None:
    escape = '<ofd:Reference FileRef="/../../etc/passwd"><ofd:CheckValue>AAAA</ofd:CheckValue></ofd:Reference>'
    result = verify_ofd(_zip(_files(pki, extra_reference=escape)), now=LATER, trust_anchors=[pki.root])
    assert "s7:references" in _failed(result)
    assert "points outside the package" in _detail(result, "s7:references")


def test_a_base_loc_outside_the_package_fails(pki: Pki) -> None:
    result = verify_ofd(_zip(_files(pki, base_loc="../../../Signature.xml")), now=LATER, trust_anchors=[pki.root])
    assert _failed(result) == {"s7:format"}


def test_a_doctype_in_signature_xml_is_refused(pki: Pki) -> None:
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
    result = verify_ofd(_zip(_files(pki, signature_xml_prefix=bomb)), now=LATER, trust_anchors=[pki.root])
    assert _failed(result) == {"s7:format"}
    assert "DOCTYPE" in _detail(result, "s7:format")


def test_a_doctype_in_ofd_xml_is_refused(pki: Pki) -> None:
    files = _files(pki)
    files["OFD.xml"] = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'
    with pytest.raises(MalformedInputError, match="DOCTYPE"):
        verify_ofd(_zip(files), now=LATER)


@pytest.mark.parametrize("name", ["../evil.xml", "/abs.xml", "Doc_0/../../evil.xml", "C:/evil.xml"])
def test_unsafe_entry_names_are_refused(pki: Pki, name: str) -> None:
    files = _files(pki)
    files[name] = b"x"
    with pytest.raises(MalformedInputError, match="unsafe entry name"):
        verify_ofd(_zip(files), now=LATER)


def test_two_entries_with_one_name_are_refused(pki: Pki) -> None:
    files = _files(pki)
    files["Doc_0/Pages/Page_0/Content.xml#2"] = b"<ofd:Page>forged</ofd:Page>"
    with pytest.raises(MalformedInputError, match="two entries named"):
        verify_ofd(_zip(files), now=LATER)


def test_size_limits_hold_against_zip_bombs(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = '<ofd:Reference FileRef="/Doc_0/Res/zeros.bin"><ofd:CheckValue>AAAA</ofd:CheckValue></ofd:Reference>'
    files = _files(pki, extra_reference=reference)
    files["Doc_0/Res/zeros.bin"] = b"\x00" * 2_000_000  # compresses to about 2 kB
    package = _zip(files)
    assert len(package) < 30_000
    # One entry above the per-entry limit: that reference cannot be checked.
    monkeypatch.setattr(ofd_module, "MAX_ENTRY_SIZE", 1_000_000)
    result = verify_ofd(package, now=LATER, trust_anchors=[pki.root])
    assert "larger than 1000000 bytes" in _detail(result, "s7:references")
    # Everything read together above the total limit: the package is refused.
    monkeypatch.setattr(ofd_module, "MAX_ENTRY_SIZE", 64 * 2**20)
    monkeypatch.setattr(ofd_module, "MAX_TOTAL_SIZE", 1_500_000)
    with pytest.raises(InputTooLargeError, match="decompression limits"):
        verify_ofd(package, now=LATER)
    monkeypatch.setattr(ofd_module, "MAX_ENTRIES", 5)
    with pytest.raises(InputTooLargeError, match="entries"):
        verify_ofd(package, now=LATER)


def test_an_ofd_without_signatures_is_invalid(pki: Pki) -> None:
    files = _files(pki)
    files["OFD.xml"] = files["OFD.xml"].replace(b"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>", b"")
    result = verify_ofd(_zip(files), now=LATER, trust_anchors=[pki.root])
    assert result.verdict is Verdict.INVALID
    assert _failed(result) == {"signatures"}


def test_a_signed_value_that_is_not_a_seal_signature_fails_the_format(pki: Pki) -> None:
    files = _files(pki)
    files["Doc_0/Signs/Sign_0/SignedValue.dat"] = b"\x30\x03\x02\x01\x01"
    result = verify_ofd(_zip(files), now=LATER, trust_anchors=[pki.root])
    assert _failed(result) == {"s7:format"}


def test_input_that_is_no_ofd_raises() -> None:
    with pytest.raises(MalformedInputError, match="not a ZIP"):
        verify_ofd(b"%PDF-1.7", now=LATER)
    with pytest.raises(MalformedInputError, match=r"OFD\.xml"):
        verify_ofd(_zip({"readme.txt": b"hello"}), now=LATER)


def test_each_signature_is_reported_under_its_own_id(pki: Pki) -> None:
    files = _files(pki)
    # A second signature whose Signature.xml was edited after signing (it now points at Sign_1's files).
    for name in ("Seal.esl", "SignedValue.dat"):
        files[f"Doc_0/Signs/Sign_1/{name}"] = files[f"Doc_0/Signs/Sign_0/{name}"]
    files["Doc_0/Signs/Sign_1/Signature.xml"] = files["Doc_0/Signs/Sign_0/Signature.xml"].replace(
        b"Sign_0/SignedValue.dat", b"Sign_1/SignedValue.dat"
    )
    files["Doc_0/Signs/Signatures.xml"] = files["Doc_0/Signs/Signatures.xml"].replace(
        b"</ofd:Signatures>",
        b'<ofd:Signature ID="s8" BaseLoc="/Doc_0/Signs/Sign_1/Signature.xml"/>'
        b'<ofd:Signature ID="s8" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/></ofd:Signatures>',
    )
    result = verify_ofd(_zip(files), now=LATER, trust_anchors=[pki.root])
    assert result.verdict is Verdict.INVALID
    assert _failed(result) == {"s8:document_hash"}
    prefixes = {check.name.split(":", 1)[0] for check in result.checks if ":" in check.name}
    assert prefixes == {"s7", "s8", "s8#3"}  # a repeated ID is made unique, not merged
    assert [s["id"] for s in result.disclosed["signatures"]] == ["s7", "s8", "s8#3"]
