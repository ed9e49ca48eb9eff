"""Offline QR verification: a verdict a front-line user can act on, for every way a code can be wrong.

Credentials come from ``issuance.credential``, from pycose (an independent COSE implementation) and,
for shapes our issuer refuses to make, from ``_sign1`` below, which builds COSE_Sign1 with cbor2.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
import zxingcpp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from PIL import Image
from pycose.headers import KID, Algorithm
from pycose.keys.ec2 import EC2Key
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message

import ca
from issuance.credential import CredentialClaims, issue_credential, kid_of
from issuance.identifier import LicenseIdentifier
from issuance.qrimage import render_qr_png
from verification.errors import InputTooLargeError, MalformedInputError, TrustConfigurationError
from verification.ports import StatusUnavailableError
from verification.qr import CLOCK_SKEW, verify_qr
from verification.result import CheckOutcome, Verdict
from verification.trust import TrustStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ISSUED = NOW + timedelta(hours=1)
EXPIRES = ISSUED + timedelta(days=30)
USCC = "11330100002500295Y"
TYPE_CODE = USCC + "001"
IDENTIFIER = str(
    LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=USCC, serial="7K3Q9X2M4B8N1R5T6W0Z")
)
CLAIMS = {"name": "欧阳明华", "idm": "330106********2316", "birth": "1988-07-14", "until": "2039-05-20"}
ALGORITHMS = [ca.SignatureAlgorithm.ECDSA_P256_SHA256, ca.SignatureAlgorithm.ED25519]
CHECKS = ["format", "signature", "issuer_trust", "validity_window", "license_status"]


@dataclass(frozen=True)
class Pki:
    root: ca.CertificateAuthority
    issuing: ca.CertificateAuthority
    signer: ca.SoftwareSigner
    certificate: x509.Certificate

    @property
    def trust(self) -> TrustStore:
        return TrustStore(
            anchors=(self.root.certificate,), certificates=(self.issuing.certificate, self.certificate)
        )


def _pki(algorithm: ca.SignatureAlgorithm, *, root_name: str = "测试根CA") -> Pki:
    root_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization=root_name), now=NOW
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
        subject=ca.organisation_name(organization="示范市公安局", uscc=USCC),
        public_key=signer.public_key(),
        now=NOW,
    )
    return Pki(root=root, issuing=issuing, signer=signer, certificate=certificate)


def _issue(pki: Pki, **overrides: Any) -> str:
    values: dict[str, Any] = dict(
        issuer=USCC, license_identifier=IDENTIFIER, type_code=TYPE_CODE,
        issued_at=ISSUED, expires_at=EXPIRES, claims=CLAIMS,
    )
    values.update(overrides)
    return issue_credential(CredentialClaims(**values), signer=pki.signer, certificate=pki.certificate)


def _cwt() -> dict[int, Any]:
    return {
        1: USCC, 4: int(EXPIRES.timestamp()), 6: int(ISSUED.timestamp()), 7: b"\x01" * 16,
        -70000: {1: IDENTIFIER, 2: TYPE_CODE, 4: dict(CLAIMS)},
    }


def _raw_signature(signer: ca.SoftwareSigner, data: bytes) -> bytes:
    signature = signer.sign(data)
    if signer.algorithm is ca.SignatureAlgorithm.ECDSA_P256_SHA256:
        r, s = decode_dss_signature(signature)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return signature


def _sign1(signer: ca.SoftwareSigner, header: dict[int, Any], payload: bytes) -> str:
    """A YX1 text built here, field by field, for shapes the issuer refuses to produce."""
    protected = cbor2.dumps(header)
    signature = _raw_signature(signer, cbor2.dumps(["Signature1", protected, b"", payload]))
    return _wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))


def _wrap(cose: bytes) -> str:
    encoded: bytes = base45.b45encode(zlib.compress(cose))
    return "YX1:" + encoded.decode()


def _unwrap(text: str) -> bytes:
    return zlib.decompress(base45.b45decode(text[4:]))


def _check(result: Any, name: str) -> Any:
    return next(c for c in result.checks if c.name == name)


class StatusTable:
    """A LicenseStatusSource over a dict: the registry's answer without the database."""

    def __init__(self, statuses: dict[str, str], *, reachable: bool = True) -> None:
        self.statuses = statuses
        self.reachable = reachable
        self.asked: list[str] = []

    def license_status(self, identifier: str) -> str | None:
        self.asked.append(identifier)
        if not self.reachable:
            raise StatusUnavailableError("connection refused")
        return self.statuses.get(identifier)


@pytest.fixture(params=ALGORITHMS, ids=lambda a: a.value)
def pki(request: pytest.FixtureRequest) -> Pki:
    return _pki(request.param)


@pytest.fixture(scope="module")
def ed_pki() -> Pki:
    return _pki(ca.SignatureAlgorithm.ED25519)


# --- the happy path ------------------------------------------------------------------------------


def test_issued_credential_verifies_offline_as_valid(pki: Pki) -> None:
    result = verify_qr(_issue(pki), trust=pki.trust, now=ISSUED + timedelta(minutes=3))
    assert result.verdict is Verdict.VALID, result.reasons
    assert [c.name for c in result.checks] == CHECKS
    assert _check(result, "license_status").outcome is CheckOutcome.SKIPPED
    assert _check(result, "license_status").detail == "no registry configured; status not checked"
    assert dict(result.disclosed) == CLAIMS
    assert result.license_identifier == IDENTIFIER
    assert result.signing_time == ISSUED
    assert result.signing_time_source == "credential iat"
    assert result.signer is not None and USCC in result.signer and "示范市公安局" in result.signer
    assert result.kind == "qr"


def test_active_licence_in_the_registry_is_valid(ed_pki: Pki) -> None:
    registry = StatusTable({IDENTIFIER: "active"})
    result = verify_qr(_issue(ed_pki), trust=ed_pki.trust, now=ISSUED, status_source=registry)
    assert result.verdict is Verdict.VALID
    assert result.license_status == "active"
    assert registry.asked == [IDENTIFIER]


def test_credential_signed_by_pycose_verifies(pki: Pki) -> None:
    """Interop the other way round: a COSE_Sign1 made by pycose is accepted."""
    public = pki.certificate.public_key()
    private = pki.signer.private_key
    if isinstance(public, ec.EllipticCurvePublicKey):
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        n = public.public_numbers()
        key: EC2Key | OKPKey = EC2Key(
            crv="P_256", x=n.x.to_bytes(32, "big"), y=n.y.to_bytes(32, "big"),
            d=private.private_numbers().private_value.to_bytes(32, "big"),
        )
        alg = "ES256"
    else:
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        raw = serialization.Encoding.Raw
        key = OKPKey(
            crv="ED25519",
            x=public.public_bytes(raw, serialization.PublicFormat.Raw),
            d=private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
        )
        alg = "EdDSA"
    message = Sign1Message(phdr={Algorithm: alg, KID: kid_of(pki.certificate)}, payload=cbor2.dumps(_cwt()))
    message.key = key
    result = verify_qr(_wrap(message.encode()), trust=pki.trust, now=ISSUED)
    assert result.verdict is Verdict.VALID, result.reasons


def test_scanned_qr_image_verifies(ed_pki: Pki) -> None:
    text = _issue(ed_pki)
    scanned = zxingcpp.read_barcode(Image.open(io.BytesIO(render_qr_png(text))))
    assert scanned is not None
    assert verify_qr(scanned.text, trust=ed_pki.trust, now=ISSUED).verdict is Verdict.VALID


# --- tampering -----------------------------------------------------------------------------------


def test_every_one_character_change_is_invalid_not_a_crash(pki: Pki) -> None:
    text = _issue(pki)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for position in range(4, len(text)):
        replacement = alphabet[(alphabet.index(text[position]) + 1) % len(alphabet)]
        altered = text[:position] + replacement + text[position + 1:]
        result = verify_qr(altered, trust=pki.trust, now=ISSUED)
        assert result.verdict is Verdict.INVALID, position
        failed = [c.name for c in result.checks if c.outcome is CheckOutcome.FAILED]
        assert failed and failed[0] in ("format", "signature"), (position, result.reasons)
        assert result.disclosed == {} and result.license_identifier is None


def test_altered_claim_with_valid_encoding_fails_the_signature(pki: Pki) -> None:
    cose = cbor2.loads(_unwrap(_issue(pki)))
    protected, _, payload, signature = cose.value
    cwt = cbor2.loads(payload)
    forged_cwt = {k: v for k, v in cwt.items() if k != -70000}
    forged_cwt[-70000] = {1: IDENTIFIER, 2: TYPE_CODE, 4: {**CLAIMS, "name": "张三"}}
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, cbor2.dumps(forged_cwt), signature]))
    result = verify_qr(_wrap(forged), trust=pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert _check(result, "format").outcome is CheckOutcome.PASSED
    assert _check(result, "signature").outcome is CheckOutcome.FAILED
    assert "does not verify" in _check(result, "signature").detail
    assert result.disclosed == {}, "forged fields must not be shown"


def test_damaged_base45_is_reported_with_its_position(ed_pki: Pki) -> None:
    text = _issue(ed_pki)
    result = verify_qr(text[:20] + "a" + text[21:], trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    expected = "Base45 decoding failed at position 20: 'a' is not a Base45 character"
    assert _check(result, "format").detail == expected
    assert all(c.outcome is CheckOutcome.SKIPPED for c in result.checks[1:])


@pytest.mark.parametrize("cut", [1, 2, 3, 30])
def test_truncated_text_is_invalid_format(ed_pki: Pki, cut: int) -> None:
    result = verify_qr(_issue(ed_pki)[:-cut], trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert _check(result, "format").outcome is CheckOutcome.FAILED
    assert any(step in _check(result, "format").detail for step in ("Base45", "zlib"))


@pytest.mark.parametrize(
    ("cose", "message"),
    [
        (lambda c: c + b"\x00", "bytes follow"),
        (lambda c: cbor2.dumps(cbor2.loads(c).value), "not a COSE_Sign1"),
        (lambda c: cbor2.dumps(cbor2.CBORTag(18, list(cbor2.loads(c).value)[:3])), "array of 4"),
        (lambda c: b"\xff\xfe", "CBOR decoding of the COSE message failed"),
    ],
    ids=["trailing-bytes", "untagged", "three-items", "not-cbor"],
)
def test_broken_cose_structure_is_invalid_format(ed_pki: Pki, cose: Any, message: str) -> None:
    text = _wrap(cose(_unwrap(_issue(ed_pki))))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert message in _check(result, "format").detail


def test_zlib_stream_followed_by_garbage_is_invalid(ed_pki: Pki) -> None:
    text = "YX1:" + base45.b45encode(zlib.compress(_unwrap(_issue(ed_pki))) + b"junk").decode()
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert "bytes follow the end of the stream" in _check(result, "format").detail


@pytest.mark.parametrize(
    ("cwt", "message"),
    [
        (_cwt() | {1: 42}, "iss (1)"),
        ({k: v for k, v in _cwt().items() if k != 4}, "exp (4)"),
        (_cwt() | {6: True}, "iat (6)"),
        (_cwt() | {-70000: {1: IDENTIFIER, 2: TYPE_CODE, 4: {"name": 7}}}, "map of text to text"),
        (_cwt() | {-70000: {2: TYPE_CODE, 4: {}}}, "licence identifier"),
        (_cwt() | {-70000: {1: IDENTIFIER, 2: TYPE_CODE, 3: {1: "https://x"}, 4: {}}}, "status reference"),
    ],
    ids=["iss-not-text", "no-exp", "iat-boolean", "claim-not-text", "no-identifier", "status-without-index"],
)
def test_signed_but_incomplete_claims_are_invalid_format(
    ed_pki: Pki, cwt: dict[int, Any], message: str
) -> None:
    text = _sign1(ed_pki.signer, {1: -8, 4: kid_of(ed_pki.certificate)}, cbor2.dumps(cwt))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert message in _check(result, "format").detail


# --- signature, algorithms and the trust list ------------------------------------------------------


def test_unknown_kid_is_an_unknown_signer(ed_pki: Pki) -> None:
    trust = TrustStore(anchors=(ed_pki.root.certificate,), certificates=(ed_pki.issuing.certificate,))
    result = verify_qr(_issue(ed_pki), trust=trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    signature = _check(result, "signature")
    assert signature.outcome is CheckOutcome.FAILED
    kid = kid_of(ed_pki.certificate).hex()
    assert signature.detail == f"unknown signer: kid {kid} is not in the trust list"


def test_kid_collision_tries_every_certificate(ed_pki: Pki) -> None:
    """Two certificates could share a kid (HCERT §3.3.1); the right one must still be found."""
    other = _pki(ca.SignatureAlgorithm.ED25519)
    trust = ed_pki.trust
    kid = kid_of(ed_pki.certificate)
    colliding = dict(trust._by_kid)
    colliding[kid] = (other.certificate, ed_pki.certificate)
    object.__setattr__(trust, "_by_kid", colliding)
    assert verify_qr(_issue(ed_pki), trust=trust, now=ISSUED).verdict is Verdict.VALID


def test_alg_must_match_the_certificate_key(ed_pki: Pki) -> None:
    text = _sign1(ed_pki.signer, {1: -7, 4: kid_of(ed_pki.certificate)}, cbor2.dumps(_cwt()))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert "alg ES256 does not match the key" in _check(result, "signature").detail


@pytest.mark.parametrize(
    ("alg", "message"),
    [(-70001, "alg SM2-with-SM3 does not match the key"), (-35, "unknown signature algorithm -35")],
)
def test_unsupported_algorithms_fail_closed(ed_pki: Pki, alg: int, message: str) -> None:
    text = _sign1(ed_pki.signer, {1: alg, 4: kid_of(ed_pki.certificate)}, cbor2.dumps(_cwt()))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert message in _check(result, "signature").detail


def test_sm2_certificate_in_the_trust_list_fails_closed(ed_pki: Pki, shared_dir: Path) -> None:
    """An SM2 certificate (ofdrw's, from ../shared/interop): ES256 cannot use its key, and a signature that is
    not the certificate holder's SM2 signature does not verify with it."""
    pem = shared_dir / "interop" / "ofdrw" / "sign_cert.pem"
    sm2 = x509.load_pem_x509_certificate(pem.read_bytes())
    trust = TrustStore(anchors=(ed_pki.root.certificate,), certificates=(sm2,))
    for alg, message in [(-7, "cannot be used"), (-70001, "does not verify with the key of CN=Test Certificate")]:
        text = _sign1(ed_pki.signer, {1: alg, 4: kid_of(sm2)}, cbor2.dumps(_cwt()))
        result = verify_qr(text, trust=trust, now=ISSUED)
        assert result.verdict is Verdict.INVALID
        assert message in _check(result, "signature").detail


def test_critical_header_parameters_are_refused(ed_pki: Pki) -> None:
    header = {1: -8, 2: [99], 4: kid_of(ed_pki.certificate), 99: "must-understand"}
    result = verify_qr(_sign1(ed_pki.signer, header, cbor2.dumps(_cwt())), trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert "critical header" in _check(result, "format").detail


def test_untrusted_root_fails_issuer_trust(pki: Pki) -> None:
    stranger = _pki(pki.signer.algorithm, root_name="测试根CA")  # same name, different key
    trust = TrustStore(
        anchors=(stranger.root.certificate,), certificates=(pki.issuing.certificate, pki.certificate)
    )
    result = verify_qr(_issue(pki), trust=trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert _check(result, "signature").outcome is CheckOutcome.PASSED
    issuer_trust = _check(result, "issuer_trust")
    assert issuer_trust.outcome is CheckOutcome.FAILED
    assert "does not verify" in issuer_trust.detail


def test_missing_intermediate_fails_issuer_trust(ed_pki: Pki) -> None:
    trust = TrustStore(anchors=(ed_pki.root.certificate,), certificates=(ed_pki.certificate,))
    result = verify_qr(_issue(ed_pki), trust=trust, now=ISSUED)
    assert _check(result, "issuer_trust").outcome is CheckOutcome.FAILED
    assert "is not in the trust list" in _check(result, "issuer_trust").detail


def test_iss_must_be_the_signer_certificate_organisation(ed_pki: Pki) -> None:
    other_uscc = "91350100M000100Y43"
    header = {1: -8, 4: kid_of(ed_pki.certificate)}
    text = _sign1(ed_pki.signer, header, cbor2.dumps(_cwt() | {1: other_uscc}))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert "organizationIdentifier" in _check(result, "issuer_trust").detail


def test_ca_key_cannot_sign_credentials(ed_pki: Pki) -> None:
    issuing = ed_pki.issuing
    assert isinstance(issuing.signer, ca.SoftwareSigner)
    text = _sign1(issuing.signer, {1: -8, 4: kid_of(issuing.certificate)}, cbor2.dumps(_cwt()))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert "is a CA certificate, not a signer certificate" in _check(result, "issuer_trust").detail


def test_unknown_critical_extension_on_the_signer_fails_closed(ed_pki: Pki) -> None:
    issuing_key = ed_pki.issuing.signer
    assert isinstance(issuing_key, ca.SoftwareSigner)
    signer = ca.SoftwareSigner(ed25519.Ed25519PrivateKey.generate())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(ca.organisation_name(organization="示范市公安局", uscc=USCC))
        .issuer_name(ed_pki.issuing.certificate.subject)
        .public_key(signer.private_key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(ca.SEAL_PROFILE.key_usage_extension(), critical=True)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"),
                       critical=True)
        .sign(issuing_key.private_key, None)  # type: ignore[arg-type]
    )
    text = issue_credential(
        CredentialClaims(issuer=USCC, license_identifier=IDENTIFIER, type_code=TYPE_CODE,
                         issued_at=ISSUED, expires_at=EXPIRES, claims=CLAIMS),
        signer=signer, certificate=certificate,
    )
    trust = TrustStore(
        anchors=(ed_pki.root.certificate,), certificates=(ed_pki.issuing.certificate, certificate)
    )
    result = verify_qr(text, trust=trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert "unsupported critical extension 1.3.6.1.4.1.55555.1" in _check(result, "issuer_trust").detail


def test_empty_trust_list_is_a_configuration_error(ed_pki: Pki) -> None:
    with pytest.raises(TrustConfigurationError):
        TrustStore(anchors=(), certificates=(ed_pki.certificate,))
    with pytest.raises(TrustConfigurationError, match="not a CA certificate"):
        TrustStore(anchors=(ed_pki.certificate,))


# --- time ----------------------------------------------------------------------------------------


def test_expiry_boundary(ed_pki: Pki) -> None:
    text = _issue(ed_pki)
    assert verify_qr(text, trust=ed_pki.trust, now=EXPIRES - timedelta(seconds=1)).verdict is Verdict.VALID
    result = verify_qr(text, trust=ed_pki.trust, now=EXPIRES)
    assert result.verdict is Verdict.INVALID
    window = _check(result, "validity_window")
    assert window.outcome is CheckOutcome.FAILED and window.detail.startswith("expired at")
    assert result.disclosed == CLAIMS, "an expired credential is still authentic: its fields are shown"


def test_not_yet_valid_boundary(ed_pki: Pki) -> None:
    text = _issue(ed_pki)
    earliest = ISSUED - CLOCK_SKEW
    assert verify_qr(text, trust=ed_pki.trust, now=earliest).verdict is Verdict.VALID
    result = verify_qr(text, trust=ed_pki.trust, now=earliest - timedelta(seconds=1))
    assert result.verdict is Verdict.INVALID
    assert _check(result, "validity_window").detail.startswith("not valid before")


def test_credential_outliving_its_signer_certificate_is_invalid(ed_pki: Pki) -> None:
    late = int((ed_pki.certificate.not_valid_after_utc + timedelta(days=1)).timestamp())
    text = _sign1(ed_pki.signer, {1: -8, 4: kid_of(ed_pki.certificate)}, cbor2.dumps(_cwt() | {4: late}))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED)
    assert result.verdict is Verdict.INVALID
    assert "signer certificate's validity" in _check(result, "validity_window").detail


def test_expired_signer_certificate_fails_issuer_trust(ed_pki: Pki) -> None:
    text = _issue(ed_pki, expires_at=ed_pki.certificate.not_valid_after_utc)
    after = ed_pki.certificate.not_valid_after_utc + timedelta(seconds=1)
    result = verify_qr(text, trust=ed_pki.trust, now=after)
    assert "expired at" in _check(result, "issuer_trust").detail


# --- licence status ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["revoked", "suspended", "cancelled"])
def test_withdrawn_licence_is_invalid_naming_its_status(ed_pki: Pki, status: str) -> None:
    result = verify_qr(_issue(ed_pki), trust=ed_pki.trust, now=ISSUED,
                       status_source=StatusTable({IDENTIFIER: status}))
    assert result.verdict is Verdict.INVALID
    assert result.license_status == status
    assert f"license_status: licence is {status}" in result.reasons


def test_licence_unknown_to_the_registry_is_invalid(ed_pki: Pki) -> None:
    result = verify_qr(_issue(ed_pki), trust=ed_pki.trust, now=ISSUED, status_source=StatusTable({}))
    assert result.verdict is Verdict.INVALID
    assert _check(result, "license_status").detail.startswith("unknown licence")


def test_unreachable_registry_is_indeterminate(ed_pki: Pki) -> None:
    registry = StatusTable({IDENTIFIER: "active"}, reachable=False)
    result = verify_qr(_issue(ed_pki), trust=ed_pki.trust, now=ISSUED, status_source=registry)
    assert result.verdict is Verdict.INDETERMINATE
    assert result.reasons == ["license_status: registry not reachable"]


def test_registry_is_not_asked_about_forged_credentials(ed_pki: Pki) -> None:
    stranger = _pki(ca.SignatureAlgorithm.ED25519)
    registry = StatusTable({IDENTIFIER: "active"})
    text = _sign1(stranger.signer, {1: -8, 4: kid_of(ed_pki.certificate)}, cbor2.dumps(_cwt()))
    result = verify_qr(text, trust=ed_pki.trust, now=ISSUED, status_source=registry)
    assert result.verdict is Verdict.INVALID
    assert registry.asked == []


# --- input that cannot be evaluated ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["hello world", "HC1:6BFOXN%TS3DH", "https://example.com/v/abc", "", "yx1:ABC"]
)
def test_text_that_is_not_a_yinxin_credential_raises(ed_pki: Pki, text: str) -> None:
    with pytest.raises(MalformedInputError, match="not a Yinxin credential: expected prefix YX1:"):
        verify_qr(text, trust=ed_pki.trust, now=ISSUED)


def test_overlong_text_raises(ed_pki: Pki) -> None:
    with pytest.raises(InputTooLargeError):
        verify_qr("YX1:" + "0" * 5000, trust=ed_pki.trust, now=ISSUED)


def test_zlib_bomb_raises_without_inflating_it(ed_pki: Pki) -> None:
    bomb = zlib.compress(b"\x00" * 2_000_000, 9)
    text = "YX1:" + base45.b45encode(bomb).decode()
    assert len(text) <= 4096
    with pytest.raises(InputTooLargeError, match="decompresses to more than 65536 bytes"):
        verify_qr(text, trust=ed_pki.trust, now=ISSUED)


# --- the published test vector -------------------------------------------------------------------


def test_docs_test_vector_is_reproduced_by_its_script() -> None:
    """docs/formats.md §1.6 prints a script and its output; running the script must print exactly that."""
    root = Path(__file__).resolve().parents[3]
    doc = (root / "docs" / "formats.md").read_text(encoding="utf-8")
    section = doc[doc.index("### 1.6 Test vector"):]
    script = section.split("```python\n", 1)[1].split("\n```", 1)[0]
    expected = section.split("```text\n", 1)[1].split("\n```", 1)[0]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip("\n") == expected
    assert "verification at iat + 1 h:   VALID" in expected
