"""The catalogue (GB/T 36902) in the registry: each type's definition JSON, and the departments allowed
to issue it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from registry import InvalidValueError, LicenseTypeRecord, NotFoundError

DEPT_USCC = "113300000024821886"
OTHER_USCC = "91330106MA27XF9B49"
TYPE_CODE = "11100000000013127D001"
DEFINITION = json.dumps({"code": TYPE_CODE, "name": "营业执照", "fields": [{"name": "name", "required": True}]},
                        ensure_ascii=False)


def test_definition_json_is_stored_and_kept_by_a_bare_upsert(registry, license_type):
    assert license_type.definition_json is None
    stored = registry.upsert_license_type(
        code=TYPE_CODE, slug="business-licence", name="营业执照", definer_uscc="11100000000013127D",
        definer_name="国家市场监督管理总局", holder_kind="001", definition_json=DEFINITION,
    )
    assert stored.definition_json == DEFINITION
    assert registry.get_license_type(TYPE_CODE).definition_json == DEFINITION
    # Seeding the built-in types again (`yinxin init`, six-element tuples) keeps the definition.
    (again,) = registry.ensure_license_types([(TYPE_CODE, "business-licence", "营业执照（新）",
                                               "11100000000013127D", "国家市场监督管理总局", "001")])
    assert (again.name, again.definition_json) == ("营业执照（新）", DEFINITION)
    replaced = json.dumps({"code": TYPE_CODE, "fields": []})
    registry.ensure_license_types([dataclasses.replace(again, definition_json=replaced)])
    assert registry.list_license_types()[0].definition_json == replaced
    assert DEFINITION not in repr(registry.get_license_type(TYPE_CODE))


@pytest.mark.parametrize("definition", ["not json", "[1, 2]", '"text"'], ids=["garbage", "array", "string"])
def test_a_definition_must_be_a_json_object(registry, license_type, definition):
    with pytest.raises(InvalidValueError, match="definition_json"):
        registry.ensure_license_types([dataclasses.replace(license_type, definition_json=definition)])
    assert registry.get_license_type(TYPE_CODE).definition_json is None


def test_issuers_are_allowed_and_withdrawn(registry, license_type, department):
    assert registry.may_issue(TYPE_CODE, DEPT_USCC) is False  # nobody until allowed
    assert registry.issuers_of(TYPE_CODE) == []
    registry.allow_issuer(TYPE_CODE, DEPT_USCC)
    registry.allow_issuer(TYPE_CODE, DEPT_USCC)  # idempotent
    registry.add_department(uscc=OTHER_USCC, name="杭州某某科技有限公司")
    assert registry.may_issue(TYPE_CODE, DEPT_USCC) is True
    assert registry.may_issue(TYPE_CODE, OTHER_USCC) is False
    registry.allow_issuer(TYPE_CODE, OTHER_USCC)
    assert registry.issuers_of(TYPE_CODE) == sorted([DEPT_USCC, OTHER_USCC])
    assert registry.disallow_issuer(TYPE_CODE, DEPT_USCC) is True
    assert registry.disallow_issuer(TYPE_CODE, DEPT_USCC) is False
    assert registry.may_issue(TYPE_CODE, DEPT_USCC) is False
    assert registry.issuers_of(TYPE_CODE) == [OTHER_USCC]
    # Unknown types and departments fail closed, or are reported when named for a change.
    assert registry.may_issue("11100000000013127D999", OTHER_USCC) is False
    assert registry.may_issue(TYPE_CODE, "91330000000000000X") is False
    with pytest.raises(NotFoundError):
        registry.allow_issuer("11100000000013127D999", DEPT_USCC)
    with pytest.raises(NotFoundError):
        registry.allow_issuer(TYPE_CODE, "91330000000000000X")
    with pytest.raises(NotFoundError):
        registry.issuers_of("11100000000013127D999")


def test_records_from_tuples_and_records_are_alike(registry):
    as_tuple = ("11100000000013127D003", "driving-licence", "机动车驾驶证", "11100000000013127D", "公安部", "111",
                '{"code": "11100000000013127D003"}')
    (from_tuple,) = registry.ensure_license_types([as_tuple])
    assert from_tuple == LicenseTypeRecord(*as_tuple)
    with pytest.raises(InvalidValueError, match="licence types are"):
        registry.ensure_license_types([as_tuple[:5]])  # type: ignore[list-item]
