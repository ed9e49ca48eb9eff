"""Status List Tokens as issued: the draft's bit layout, the CWT claims, and a signature pycose accepts."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.keys.ec2 import EC2Key
from pycose.messages.sign1message import Sign1Message

import ca
from issuance.credential import kid_of
from issuance.errors import FieldValidationError, IssuanceError
from issuance.statuslist import (
    MIN_LIST_SIZE,
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusListClaims,
    issue_status_list,
    pack_statuses,
    status_value,
)

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
USCC = "11330100002500295Y"
URI = "https://yinxin.example/api/v1/status-lists/11330100002500295Y/0"


def _seal(uscc: str = USCC) -> tuple[ca.SoftwareSigner, x509.Certificate]:
    algorithm = ca.SignatureAlgorithm.ECDSA_P256_SHA256
    root_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=root_signer, subject=ca.organisation_name(organization="根"),
                                               now=NOW),
        signer=root_signer)
    signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    certificate = root.issue(profile=ca.SEAL_PROFILE,
                             subject=ca.organisation_name(organization="示范市公安局", uscc=uscc),
                             public_key=signer.public_key(), now=NOW)
    return signer, certificate


def _claims(**overrides: object) -> StatusListClaims:
    values: dict[str, object] = dict(issuer=USCC, uri=URI, issued_at=NOW, expires_at=NOW + timedelta(hours=12),
                                     ttl=timedelta(hours=12), statuses={7: STATUS_INVALID, 1000: STATUS_SUSPENDED})
    values.update(overrides)
    return StatusListClaims(**values)  # type: ignore[arg-type]


def test_bit_layout_matches_the_drafts_two_bit_example() -> None:
    # draft-ietf-oauth-status-list §4.1 / examples/status_list_encoding2: statuses 1,2,0,3, 0,1,0,1, 1,2,3,3.
    statuses = dict(enumerate([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]))
    assert pack_statuses(statuses, size=12) == bytes([0xC9, 0x44, 0xF9])
    assert pack_statuses({}, size=8) == b"\x00\x00"


def test_one_bit_layout_is_least_significant_bit_first() -> None:
    assert pack_statuses({0: 1, 9: 1}, size=16, bits=1) == bytes([0x01, 0x02])


@pytest.mark.parametrize(
    ("statuses", "size", "message"),
    [({16: 1}, 16, "outside the list"), ({0: 4}, 16, "does not fit"), ({-1: 1}, 16, "outside"), ({}, 15, "multiple")],
)
def test_packing_refuses_what_does_not_fit(statuses: dict[int, int], size: int, message: str) -> None:
    with pytest.raises(IssuanceError, match=message):
        pack_statuses(statuses, size=size)


@pytest.mark.parametrize(
    ("status", "value"),
    [("active", STATUS_VALID), ("suspended", STATUS_SUSPENDED), ("revoked", STATUS_INVALID),
     ("cancelled", STATUS_INVALID), ("expired", STATUS_INVALID), ("superseded", STATUS_INVALID)],
)
def test_every_licence_status_has_a_list_value(status: str, value: int) -> None:
    assert status_value(status) == value


def test_an_unknown_status_is_refused_not_listed_as_valid() -> None:
    with pytest.raises(IssuanceError, match="unknown licence status"):
        status_value("lost")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"size": MIN_LIST_SIZE - 8}, "size"), ({"uri": "ftp://x/0"}, "uri"), ({"ttl": timedelta(0)}, "ttl"),
     ({"expires_at": NOW}, "expires_at"), ({"issuer": "11330100002500295X"}, "issuer"),
     ({"issued_at": NOW.replace(tzinfo=None)}, "issued_at")],
)
def test_claims_are_checked(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(FieldValidationError) as caught:
        _claims(**overrides)
    assert caught.value.field == field


def test_the_token_is_a_cwt_with_the_drafts_claims() -> None:
    signer, certificate = _seal()
    token = issue_status_list(_claims(), signer=signer, certificate=certificate)
    item = cbor2.loads(token)
    assert isinstance(item, cbor2.CBORTag) and item.tag == 18
    protected, unprotected, payload, signature = item.value
    assert cbor2.loads(protected) == {1: -7, 4: kid_of(certificate), 16: "application/statuslist+cwt"}
    assert unprotected == {} and len(signature) == 64
    claims = cbor2.loads(payload)
    assert claims[1] == USCC and claims[2] == URI
    assert claims[6] == int(NOW.timestamp()) and claims[4] == int((NOW + timedelta(hours=12)).timestamp())
    assert claims[65534] == 12 * 3600
    assert claims[65533]["bits"] == 2
    array = zlib.decompress(claims[65533]["lst"])
    assert len(array) == (1 << 20) * 2 // 8  # 2^20 entries of 2 bits
    assert (array[7 // 4] >> (7 % 4 * 2)) & 3 == STATUS_INVALID
    assert (array[1000 // 4] >> (1000 % 4 * 2)) & 3 == STATUS_SUSPENDED
    assert sum(1 for b in array if b) == 2
    assert len(token) < 2000  # a sparse list compresses to almost nothing


def test_pycose_verifies_the_tokens_signature() -> None:
    signer, certificate = _seal()
    token = issue_status_list(_claims(), signer=signer, certificate=certificate)
    protected, unprotected, payload, signature = cbor2.loads(token).value
    numbers = certificate.public_key()
    assert isinstance(numbers, ec.EllipticCurvePublicKey)
    public = numbers.public_numbers()
    key = EC2Key(crv="P_256", x=public.x.to_bytes(32, "big"), y=public.y.to_bytes(32, "big"))
    message = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
    message.key = key
    assert message.verify_signature()
    tampered = Sign1Message.from_cose_obj([protected, {}, payload[:-1] + bytes([payload[-1] ^ 1]), signature], True)
    tampered.key = key
    assert not tampered.verify_signature()


def test_a_list_signed_with_another_departments_seal_is_refused() -> None:
    signer, certificate = _seal("113301000025002874")
    with pytest.raises(IssuanceError, match="organizationIdentifier"):
        issue_status_list(_claims(), signer=signer, certificate=certificate)


def test_a_list_may_not_outlive_its_seal_certificate() -> None:
    signer, certificate = _seal()
    late = certificate.not_valid_after_utc
    with pytest.raises(IssuanceError, match="within the signer certificate"):
        issue_status_list(_claims(issued_at=late - timedelta(hours=1), expires_at=late + timedelta(hours=1)),
                          signer=signer, certificate=certificate)
