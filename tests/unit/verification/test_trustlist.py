"""The trust list: verified with the root certificate alone, refused when anything about it is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.keys.ec2 import EC2Key
from pycose.messages.sign1message import Sign1Message

import ca
from ca.sm2 import SM2PrivateKey, SM2Signer
from issuance.credential import _cose_signature, kid_of
from issuance.trustlist import TrustListClaims, issue_trust_list
from verification.errors import TrustConfigurationError
from verification.trustlist import TrustListError, parse_trust_list

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
USCC = "11330100002500295Y"


def _signer(algorithm: ca.SignatureAlgorithm) -> ca.KeySigner:
    if algorithm is ca.SignatureAlgorithm.SM2_SM3:
        return SM2Signer(SM2PrivateKey.generate())
    return ca.SoftwareSigner(ca.generate_private_key(algorithm))


@dataclass(frozen=True)
class Pki:
    root: ca.CertificateAuthority
    issuing: ca.CertificateAuthority
    seal: x509.Certificate
    list_signer: ca.KeySigner
    list_certificate: x509.Certificate


def _pki(algorithm: ca.SignatureAlgorithm, root_name: str = "测试根CA") -> Pki:
    root_signer = _signer(algorithm)
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=root_signer, subject=ca.organisation_name(organization=root_name),
                                               now=NOW),
        signer=root_signer)
    issuing = ca.create_issuing_ca(root=root, signer=_signer(algorithm),
                                   subject=ca.organisation_name(organization=root_name + "签发CA"), now=NOW)
    seal = issuing.issue(profile=ca.SEAL_PROFILE, subject=ca.organisation_name(organization="示范市公安局", uscc=USCC),
                         public_key=_signer(algorithm).public_key(), now=NOW)
    list_signer = _signer(algorithm)
    list_certificate = issuing.issue(profile=ca.SEAL_MAKER_PROFILE,
                                     subject=ca.organisation_name(organization="印信", common_name="信任列表签名"),
                                     public_key=list_signer.public_key(), now=NOW)
    return Pki(root, issuing, seal, list_signer, list_certificate)


@pytest.fixture(scope="module")
def p256() -> Pki:
    return _pki(ca.SignatureAlgorithm.ECDSA_P256_SHA256)


def _claims(pki: Pki, **overrides: object) -> TrustListClaims:
    values: dict[str, object] = dict(version=7, issued_at=NOW, expires_at=NOW + timedelta(days=7),
                                     certificates=[pki.issuing.certificate, pki.seal])
    values.update(overrides)
    return TrustListClaims(**values)  # type: ignore[arg-type]


def _issue(pki: Pki, **overrides: object) -> bytes:
    return issue_trust_list(_claims(pki, **overrides), signer=pki.list_signer, certificate=pki.list_certificate,
                            chain=[pki.issuing.certificate])


@pytest.mark.parametrize("algorithm", [
    ca.SignatureAlgorithm.ECDSA_P256_SHA256, ca.SignatureAlgorithm.ED25519, ca.SignatureAlgorithm.SM2_SM3])
def test_the_root_certificate_alone_verifies_the_list(algorithm: ca.SignatureAlgorithm) -> None:
    pki = _pki(algorithm)
    checked = parse_trust_list(_issue(pki), anchors=[pki.root.certificate], now=NOW + timedelta(hours=1))
    assert checked.version == 7
    assert checked.issued_at == NOW and checked.expires_at == NOW + timedelta(days=7)
    assert checked.certificates == (pki.issuing.certificate, pki.seal)
    assert checked.signer == pki.list_certificate
    store = checked.trust_store([pki.root.certificate])
    assert store.certificates_for_kid(kid_of(pki.seal)) == [pki.seal]
    assert store.validate_path(pki.seal, now=NOW + timedelta(hours=1)).trusted


def test_changing_any_byte_makes_the_list_unusable(p256: Pki) -> None:
    data = _issue(p256)
    for position in range(len(data)):
        altered = bytearray(data)
        altered[position] ^= 0x01
        with pytest.raises(TrustListError):
            parse_trust_list(bytes(altered), anchors=[p256.root.certificate], now=NOW)


def test_another_root_does_not_verify_it(p256: Pki) -> None:
    other = _pki(ca.SignatureAlgorithm.ECDSA_P256_SHA256, root_name="别的根CA")
    with pytest.raises(TrustListError, match="not trusted"):
        parse_trust_list(_issue(p256), anchors=[other.root.certificate], now=NOW)


def test_no_anchor_fails_closed(p256: Pki) -> None:
    with pytest.raises(TrustConfigurationError):
        parse_trust_list(_issue(p256), anchors=[], now=NOW)


def test_an_expired_list_is_refused_at_its_expiry(p256: Pki) -> None:
    data = _issue(p256)
    end = NOW + timedelta(days=7)
    assert parse_trust_list(data, anchors=[p256.root.certificate], now=end - timedelta(seconds=1))
    with pytest.raises(TrustListError, match="expired at"):
        parse_trust_list(data, anchors=[p256.root.certificate], now=end)


def test_a_ca_certificate_may_not_sign_the_list(p256: Pki) -> None:
    data = issue_trust_list(_claims(p256), signer=p256.issuing.signer, certificate=p256.issuing.certificate,
                            chain=[])
    with pytest.raises(TrustListError, match="not a signer certificate"):
        parse_trust_list(data, anchors=[p256.root.certificate], now=NOW)


def test_pycose_verifies_the_signature_with_the_x5chain_leaf(p256: Pki) -> None:
    protected, unprotected, payload, signature = cbor2.loads(_issue(p256)).value
    x5chain = cbor2.loads(protected)[33]  # protected: the signature covers the chain
    leaf = x509.load_der_x509_certificate(x5chain[0])
    assert leaf == p256.list_certificate
    assert x509.load_der_x509_certificate(x5chain[1]) == p256.issuing.certificate
    public = leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    numbers = public.public_numbers()
    message = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
    message.key = EC2Key(crv="P_256", x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert message.verify_signature()


def _signed_payload(pki: Pki, payload: dict[str, object]) -> bytes:
    """A list signed properly around a payload our issuer would never write."""
    chain = [c.public_bytes(serialization.Encoding.DER) for c in (pki.list_certificate, pki.issuing.certificate)]
    protected = cbor2.dumps({1: -7, 16: "application/yinxin-trust-list+cbor", 33: chain})
    body = cbor2.dumps(payload)
    signature = _cose_signature(-7, pki.list_signer.sign(cbor2.dumps(["Signature1", protected, b"", body])))
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, body, signature]))


def _entry(certificate: x509.Certificate, **overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "kid": kid_of(certificate), "certificate": certificate.public_bytes(serialization.Encoding.DER),
        "not_before": int(certificate.not_valid_before_utc.timestamp()),
        "not_after": int(certificate.not_valid_after_utc.timestamp()), "issuer": USCC,
    }
    entry.update(overrides)
    return entry


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"kid": b"\x00" * 8}, "kid is not the kid"), ({"not_after": 0}, "validity differs"),
     ({"issuer": "113301000025002874"}, "issuer differs"), ({"extra": 1}, "must be a map")],
)
def test_an_entry_that_contradicts_its_certificate_is_refused(
    p256: Pki, overrides: dict[str, object], message: str
) -> None:
    payload = {"version": 1, "issued_at": int(NOW.timestamp()),
               "expires_at": int((NOW + timedelta(days=1)).timestamp()), "entries": [_entry(p256.seal, **overrides)]}
    with pytest.raises(TrustListError, match=message):
        parse_trust_list(_signed_payload(p256, payload), anchors=[p256.root.certificate], now=NOW)


def test_an_x5chain_outside_the_signature_is_not_used(p256: Pki) -> None:
    """In the unprotected header a certificate's DER could change without changing what it certifies."""
    protected, _, payload, _ = cbor2.loads(_issue(p256)).value
    header = cbor2.loads(protected)
    chain = header.pop(33)
    moved = cbor2.dumps(header)
    signature = _cose_signature(-7, p256.list_signer.sign(cbor2.dumps(["Signature1", moved, b"", payload])))
    data = cbor2.dumps(cbor2.CBORTag(18, [moved, {33: chain}, payload, signature]))
    with pytest.raises(TrustListError, match="no x5chain"):
        parse_trust_list(data, anchors=[p256.root.certificate], now=NOW)


def test_another_cose_message_is_not_taken_for_a_trust_list(p256: Pki) -> None:
    original, _, payload, _ = cbor2.loads(_issue(p256)).value
    protected = cbor2.dumps(cbor2.loads(original) | {16: "application/statuslist+cwt"})
    signature = _cose_signature(-7, p256.list_signer.sign(cbor2.dumps(["Signature1", protected, b"", payload])))
    data = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    with pytest.raises(TrustListError, match="typ header"):
        parse_trust_list(data, anchors=[p256.root.certificate], now=NOW)
