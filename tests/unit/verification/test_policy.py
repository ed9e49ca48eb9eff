"""Verifier roles and disclosure rules as data: the packaged policy, strict loading, fail-closed disclosure."""

from __future__ import annotations

import pytest

from issuance.catalog import BUILTIN_TYPES
from issuance.presentation import DERIVED_CLAIM_NAMES
from verification.errors import VerificationError
from verification.policy import CLAIM_NAMES, STATUS_CLAIM, PolicyError, UnknownRoleError, default_policy, load_policy

DRIVING = ("11100000YX0000016N002", "driving-licence")
E_ID = ("11100000YX0000016N001", "resident-id")
BUSINESS = ("11100000YX0000024H001", "business-licence")
FACE = {"name": "李明", "holder_code": "330106********1236", "vehicle_class": "C1", "ZZYXQJZRQ": "2030-06-01"}
WHOLE = {"name": "李明", "holder_id_number": "330106199003071236", "address": "文三路1号", "vehicle_class": "C1"}


def test_the_type_keys_used_here_are_the_builtin_catalogue() -> None:
    assert {(t.code, t.short_name) for t in BUILTIN_TYPES} == {DRIVING, E_ID, BUSINESS}


def test_the_packaged_policy_has_the_three_front_line_roles() -> None:
    policy = default_policy()
    assert set(policy.roles) == {"hotel", "police", "window"}
    assert policy.role("hotel").label == "旅馆住宿登记" and policy.role("police").label == "路面执勤"
    assert policy.role("window").label == "容缺受理" and policy.role("window").acceptance_record
    assert not policy.role("hotel").acceptance_record
    assert [policy.status_label(s) for s in ("active", "suspended", "revoked", "cancelled")] == [
        "正常", "暂扣", "吊销", "注销"]


def test_every_claim_a_rule_may_name_is_one_the_issuer_can_write_or_the_verification_adds() -> None:
    assert set(DERIVED_CLAIM_NAMES) | {STATUS_CLAIM, "ZZBH"} == CLAIM_NAMES


def test_a_hotel_sees_name_masked_number_and_validity_of_an_id_or_driving_licence() -> None:
    policy = default_policy()
    for keys in (DRIVING, E_ID):
        shown = policy.disclose("hotel", type_keys=keys, available=FACE, status="active")
        assert dict(shown.fields) == {"name": "李明", "holder_code": "330106********1236", "ZZYXQJZRQ": "2030-06-01"}
    # handed the whole licence, it still sees its fields only: never the full number or the class
    shown = policy.disclose("hotel", type_keys=DRIVING, available=WHOLE, status="active")
    assert dict(shown.fields) == {"name": "李明"}
    assert set(shown.withheld) == {"holder_id_number", "address", "vehicle_class"}


def test_police_see_status_class_and_validity_of_a_driving_licence_and_name_and_validity_of_an_e_id() -> None:
    policy = default_policy()
    shown = policy.disclose("police", type_keys=DRIVING, available=FACE, status="suspended")
    assert list(shown.fields.items()) == [("ZT", "暂扣"), ("vehicle_class", "C1"), ("ZZYXQJZRQ", "2030-06-01")]
    assert dict(policy.disclose("police", type_keys=E_ID, available=FACE, status="active").fields) == {
        "name": "李明", "ZZYXQJZRQ": "2030-06-01"}
    # no status known (the signature did not verify): no ZT rather than a guessed one
    assert "ZT" not in policy.disclose("police", type_keys=DRIVING, available=FACE, status=None).fields


def test_a_window_sees_the_whole_licence_of_any_type() -> None:
    shown = default_policy().disclose("window", type_keys=BUSINESS, available=WHOLE, status="active")
    assert dict(shown.fields) == {**WHOLE, "ZT": "正常"} and shown.withheld == ()


def test_a_type_the_role_does_not_cover_shows_nothing_with_a_reason() -> None:
    shown = default_policy().disclose("hotel", type_keys=BUSINESS, available=FACE, status="active")
    assert dict(shown.fields) == {} and set(shown.withheld) == set(FACE)
    assert shown.reason is not None and "business-licence" in shown.reason and "no disclosure rule" in shown.reason
    assert not default_policy().disclose("police", type_keys=BUSINESS, available=FACE, status="active").fields


def test_an_unknown_role_is_an_error() -> None:
    with pytest.raises(UnknownRoleError, match="casino") as caught:
        default_policy().disclose("casino", type_keys=E_ID, available=FACE)
    assert isinstance(caught.value, VerificationError) and caught.value.code == "unknown_role"


GOOD = """
version = 1
[roles.hotel]
label = "旅馆"
purpose = "住宿登记"
[[roles.hotel.rules]]
types = ["resident-id"]
claims = ["name"]
"""


def test_a_policy_document_is_data() -> None:
    policy = load_policy(GOOD)
    assert policy.role("hotel").rules[0].types == ("resident-id",)
    assert dict(policy.disclose("hotel", type_keys=E_ID, available=FACE).fields) == {"name": "李明"}
    # a status without a label is shown as it is
    assert policy.status_label("suspended") == "suspended"


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ("version = 1\n[roles]\n", "roles"),
        (GOOD.replace('claims = ["name"]', 'claims = ["name", "birth_date"]'), "roles.hotel.rules[0].claims"),
        (GOOD.replace('types = ["resident-id"]', "types = []"), "roles.hotel.rules[0].types"),
        (GOOD.replace('claims = ["name"]', "claims = []"), "roles.hotel.rules[0].claims"),
        (GOOD.replace('purpose = "住宿登记"', 'purpose = "住宿登记"\nsee_all = true'), "roles.hotel"),
        (GOOD.replace("version = 1", "version = 2"), "version"),
        (GOOD + "\n[roles.police]\nlabel = 'x'\npurpose = 'y'\nrules = []\n", "roles.police.rules"),
        ("version = 1\nroles = 3\n", "roles"),
        ("this is not toml", ""),
    ],
    ids=["no-roles", "unknown-claim", "no-types", "no-claims", "unknown-key", "version", "no-rules", "not-a-table",
         "not-toml"],
)
def test_a_bad_policy_document_fails_closed_naming_the_key(document: str, key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(document)
    assert caught.value.key == key
