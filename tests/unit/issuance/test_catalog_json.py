"""Licence-type definitions as JSON (GB/T 36902 catalogue import and export)."""

from __future__ import annotations

import copy
import json

import pytest

from issuance.catalog import (
    BUILTIN_TYPES,
    BUSINESS_LICENCE,
    CATALOG_FORMAT,
    DRIVING_LICENCE,
    LICENSE_TYPE_FORMAT,
    RESIDENT_ID_CARD,
    FieldKind,
    FieldSpec,
    HolderKind,
    LicenseType,
    ServiceItem,
    catalog_from_dict,
    catalog_from_json,
    catalog_to_dict,
    catalog_to_json,
    license_type_from_dict,
    license_type_from_json,
    license_type_to_dict,
    license_type_to_json,
    lookup,
)
from issuance.errors import CatalogError, IssuanceError

CUSTOM = LicenseType(
    code="11100000YX0000016N017",
    name="网络预约出租汽车运输证",
    short_name="ride-hailing-permit",
    definer_name="中华人民共和国交通运输部",
    definer_uscc="11100000YX0000016N",
    holder_kind=HolderKind.LEGAL_PERSON,
    fields=(
        FieldSpec(name="permit_number", label="证号", kind=FieldKind.TEXT, required=True, max_length=30),
        FieldSpec(name="operator", label="经营者", kind=FieldKind.TEXT, required=True),
        FieldSpec(name="operator_uscc", label="统一社会信用代码", kind=FieldKind.USCC, required=True),
        FieldSpec(name="plate", label="车辆号牌", kind=FieldKind.TEXT, required=True, max_length=10),
        FieldSpec(name="seats", label="座位数", kind=FieldKind.ENUM, required=False, choices=("5", "7")),
        FieldSpec(name="deposit", label="保证金", kind=FieldKind.MONEY, required=False, unit="元"),
        FieldSpec(name="valid_from", label="有效期起", kind=FieldKind.DATE, required=True),
        FieldSpec(name="valid_until", label="有效期至", kind=FieldKind.DATE, required=True),
    ),
    holder_name_field="operator",
    holder_code_field="operator_uscc",
    validity_years=8,
    face_title="网络预约出租汽车运输证",
    valid_from_field="valid_from",
    valid_until_field="valid_until",
    number_field="permit_number",
    face_fields=("permit_number", "plate", "operator", "valid_until"),
    service_item=ServiceItem(name="网络预约出租汽车运输证核发", code="000117024000"),
)
ALL = (*BUILTIN_TYPES, CUSTOM)


@pytest.mark.parametrize("license_type", ALL, ids=lambda t: t.short_name)
def test_round_trip_through_json_text(license_type):
    document = license_type_to_dict(license_type)
    assert document["format"] == LICENSE_TYPE_FORMAT
    # what is written is plain JSON and reads back to an equal definition
    text = json.dumps(document, ensure_ascii=False)
    assert license_type_from_dict(json.loads(text)) == license_type
    assert license_type_from_json(license_type_to_json(license_type)) == license_type
    assert license_type_from_json(license_type_to_json(license_type).encode()) == license_type


def test_the_written_form_of_the_driving_licence():
    document = license_type_to_dict(DRIVING_LICENCE)
    assert document["code"] == DRIVING_LICENCE.code
    assert document["definer"] == {"name": "中华人民共和国公安部", "uscc": DRIVING_LICENCE.definer_uscc}
    assert document["holder"] == {
        "kind": "natural-person", "name_field": "name", "code_field": "holder_id_number",
    }
    assert document["number_field"] == "holder_id_number"
    assert document["validity"] == {"years": 6, "from_field": "valid_from", "until_field": "valid_until"}
    assert document["face"] == {"title": "中华人民共和国机动车驾驶证"}
    assert "service_item" not in document
    assert [f["name"] for f in document["fields"]] == [f.name for f in DRIVING_LICENCE.fields]
    assert document["fields"][6] == {
        "name": "vehicle_class", "label": "准驾车型", "kind": "enum", "required": True, "max_length": 200,
        "choices": list(DRIVING_LICENCE.field("vehicle_class").choices),
    }
    # Chinese stays readable in the stored text
    assert "机动车驾驶证" in license_type_to_json(DRIVING_LICENCE)


def test_business_licence_is_long_term_and_numbered_by_its_uscc():
    document = license_type_to_dict(BUSINESS_LICENCE)
    assert document["validity"]["long_term"] is True and "years" not in document["validity"]
    assert document["holder"]["kind"] == "legal-person"
    assert document["number_field"] == "uscc"
    money = next(f for f in document["fields"] if f["name"] == "registered_capital")
    assert money["unit"] == "万元" and money["required"] is False


def test_optional_parts_are_written_when_present():
    document = license_type_to_dict(CUSTOM)
    assert document["face"] == {
        "title": "网络预约出租汽车运输证", "fields": ["permit_number", "plate", "operator", "valid_until"],
    }
    assert document["service_item"] == {"name": "网络预约出租汽车运输证核发", "code": "000117024000"}


def test_catalogue_round_trip_and_lookup():
    document = catalog_to_dict(ALL)
    assert document["format"] == CATALOG_FORMAT
    assert len(document["types"]) == 4
    types = catalog_from_json(catalog_to_json(ALL))
    assert types == ALL
    assert lookup("ride-hailing-permit", types=types) == CUSTOM
    assert lookup(CUSTOM.code, types=types).face_fields == CUSTOM.face_fields


def test_catalogue_refuses_repeated_types():
    with pytest.raises(CatalogError) as info:
        catalog_to_dict((RESIDENT_ID_CARD, BUSINESS_LICENCE, RESIDENT_ID_CARD))
    assert str(info.value) == f"types[2].code: {RESIDENT_ID_CARD.code!r} repeats types[0]"
    document = catalog_to_dict((RESIDENT_ID_CARD, CUSTOM))
    document["types"][1]["short_name"] = "resident-id"
    with pytest.raises(CatalogError, match=r"^types\[1\]\.short_name: 'resident-id' repeats types\[0\]$"):
        catalog_from_dict(document)


def _bad(path: str, value: object) -> dict:
    document = copy.deepcopy(license_type_to_dict(CUSTOM))
    *parents, last = path.split("/")
    target = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return document


_DELETE = object()

BAD_DEFINITIONS = [
    ("fields/3/kind", "datee", "fields[3].kind: unknown kind 'datee' (known: text, date, date-or-long-term,"
                               " resident-id, uscc, enum, money)"),
    ("format", "yinxin-license-type/2", "format: expected 'yinxin-license-type/1', got 'yinxin-license-type/2'"),
    ("format", _DELETE, "format: is required"),
    ("colour", "red", "colour: unknown key"),
    ("fields/0/colour", "red", "fields[0].colour: unknown key"),
    ("fields/1/label", _DELETE, "fields[1].label: is required"),
    ("fields/1/label", 7, "fields[1].label: must be a string, got a number"),
    ("fields/1/label", " 经营者", "fields[1].label: field operator needs a label: one line of text, no outer spaces"),
    ("fields/2/name", "OperatorUSCC", "fields[2].name: 'OperatorUSCC' is not a snake_case ASCII name of at most 64"
                                      " characters"),
    ("fields/2/name", "operator", "fields[2].name: 'operator' repeats fields[1]"),
    ("fields/0/required", "yes", "fields[0].required: must be true or false, got a string"),
    ("fields/0/max_length", True, "fields[0].max_length: must be a whole number, got a boolean"),
    ("fields/0/max_length", 0, "fields[0].max_length: field permit_number: must be a whole number from 1 to 10000"),
    ("fields/4/choices", [], "fields[4].choices: field seats: choices are given exactly for enum fields"),
    ("fields/4/choices", ["5", "5"], "fields[4].choices: field seats: choices repeat"),
    ("fields/4/choices", ["5", 7], "fields[4].choices[1]: must be a string, got a number"),
    ("fields/0/masking", "all", "fields[0].masking: field permit_number: unknown masking rule 'all' (known: id_number,"
                                " name)"),
    ("fields/0/unit", "元", "fields[0].unit: field permit_number: only money fields have a unit"),
    ("fields/0/not_after_today", True, "fields[0].not_after_today: field permit_number: only date fields can be"
                                       " limited to the past"),
    ("fields", [], "fields: a licence type needs at least one field"),
    ("fields", {}, "fields: must be a list, got an object"),
    ("fields/2", "operator_uscc", "fields[2]: must be an object, got a string"),
    ("code", "11100000YX0000016N17", "code: '11100000YX0000016N17' is not the definer USCC 11100000YX0000016N plus"
                                     " 3 digits"),
    ("code", "11100000YX0000024H017", "code: '11100000YX0000024H017' is not the definer USCC 11100000YX0000016N plus"
                                      " 3 digits"),
    ("definer/uscc", "11100000YX0000016M", "definer.uscc: check character is M, expected N"),
    ("definer/uscc", "11100000yx0000016n", "definer.uscc: must be written in capitals without spaces"),
    ("definer/name", "", "definer.name: the defining authority's name must be one line of text"),
    ("definer/phone", "110", "definer.phone: unknown key"),
    ("short_name", "Ride Hailing", "short_name: 'Ride Hailing' is not a lower-case slug such as resident-id"),
    ("name", "网约车\u202e证", "name: the type name must be one line of text"),
    ("holder/kind", "person", "holder.kind: unknown holder kind 'person' (known: natural-person, legal-person)"),
    ("holder/kind", "natural-person", "holder.code_field: the holder code of a natural-person licence must be a"
                                      " resident-id field"),
    ("holder/code_field", "uscc", "holder.code_field: 'uscc' is not one of the type's fields"),
    ("holder/name_field", "seats", "holder.name_field: field seats must be required"),
    ("number_field", "plate2", "number_field: 'plate2' is not one of the type's fields"),
    ("number_field", "seats", "number_field: field seats must be required: every licence has a number"),
    ("validity/years", 0, "validity.years: must be a whole number of years from 1 to 100 (or long_term)"),
    ("validity/years", "8", "validity.years: must be a whole number, got a string"),
    ("validity/long_term", True, "validity: give either years or long_term: true"),
    ("validity/years", _DELETE, "validity: give either years or long_term: true"),
    ("validity/from_field", "operator", "validity.from_field: must name a date field"),
    ("validity/until_field", "deposit", "validity.until_field: must name a date or date-or-long-term field"),
    ("face/title", _DELETE, "face.title: is required"),
    ("face/fields/2", "photo", "face.fields[2]: 'photo' is not one of the type's fields"),
    ("face/fields/3", "plate", "face.fields[3]: 'plate' is printed twice"),
    ("service_item/code", "code with spaces", "service_item.code: must be 1 to 64 letters, digits or hyphens"),
    ("service_item/name", "", "service_item.name: must be one line of text"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), BAD_DEFINITIONS, ids=[f"{p}={v!r}"[:60] for p, v, _ in BAD_DEFINITIONS]
)
def test_bad_definitions_name_the_bad_key(path, value, message):
    with pytest.raises(CatalogError) as info:
        license_type_from_dict(_bad(path, value))
    assert str(info.value) == message
    assert info.value.code == "invalid_catalog"
    assert info.value.key == message.split(":", 1)[0]


def test_a_bad_type_in_a_catalogue_is_named_by_its_index():
    document = catalog_to_dict(ALL)
    document["types"][3]["fields"][3]["kind"] = "datee"
    with pytest.raises(CatalogError) as info:
        catalog_from_dict(document)
    assert info.value.key == "types[3].fields[3].kind"
    document = catalog_to_dict(ALL)
    document["types"][1]["holder"]["code_field"] = "nope"
    with pytest.raises(CatalogError, match=r"^types\[1\]\.holder\.code_field: 'nope' is not one of"):
        catalog_from_dict(document)
    document = catalog_to_dict(ALL)
    document["types"][2]["code"] = "X"
    with pytest.raises(CatalogError, match=r"^types\[2\]\.code: 'X' is not the definer USCC"):
        catalog_from_dict(document)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "a catalogue must be a JSON object, got a list"),
        ("{", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        ('{"format": "yinxin-catalog/2", "types": []}', "format: expected 'yinxin-catalog/1'"),
        ('{"format": "yinxin-catalog/1"}', "types: is required"),
        ('{"format": "yinxin-catalog/1", "types": {}}', "types: must be a list, got an object"),
        ('{"format": "yinxin-catalog/1", "types": [1]}', "types[0]: must be an object, got a number"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=["list", "truncated", "not-utf8", "format", "no-types", "types-object", "type-number", "deep"],
)
def test_bad_catalogue_documents(text, message):
    with pytest.raises(CatalogError, match=message.replace("(", r"\(").replace("[", r"\[")):
        catalog_from_json(text)


def test_an_empty_catalogue_is_allowed():
    assert catalog_from_json('{"format": "yinxin-catalog/1", "types": []}') == ()


def test_catalog_errors_are_issuance_errors():
    # the API maps IssuanceError; a catalogue error must not escape as something else
    with pytest.raises(IssuanceError):
        license_type_from_json('{"format": 1}')


def test_face_lines_follow_the_face_order_with_units():
    values = {
        "permit_number": "浙杭网约0001", "operator": "杭州某某出行有限公司", "operator_uscc": "91350100M000100Y43",
        "plate": "浙A12345", "deposit": "2000", "valid_from": "2024-01-01", "valid_until": "2032-01-01",
    }
    assert CUSTOM.face_lines(values) == (
        ("证号", "浙杭网约0001"), ("车辆号牌", "浙A12345"), ("经营者", "杭州某某出行有限公司"),
        ("有效期至", "2032-01-01"),
    )
    assert [s.name for s in CUSTOM.face_specs] == list(CUSTOM.face_fields)
    # without face_fields every filled field is printed, money with its unit
    business = {"uscc": "91350100M000100Y43", "name": "福州某某科技有限公司", "registered_capital": "100"}
    assert BUSINESS_LICENCE.face_lines(business) == (
        ("统一社会信用代码", "91350100M000100Y43"), ("名称", "福州某某科技有限公司"), ("注册资本", "100万元"),
    )


def test_lists_given_in_code_become_tuples():
    spec = FieldSpec(name="seats", label="座位数", kind=FieldKind.ENUM, required=True, choices=["5", "7"])  # type: ignore[arg-type]
    assert spec.choices == ("5", "7")
    values = {name: getattr(CUSTOM, name) for name in LicenseType.__dataclass_fields__}
    rebuilt = LicenseType(**values | {"fields": list(CUSTOM.fields), "face_fields": list(CUSTOM.face_fields)})
    assert rebuilt == CUSTOM
    assert hash(rebuilt) == hash(CUSTOM)  # usable as a dict key, like every frozen definition


def test_a_service_item_without_code_round_trips():
    values = {name: getattr(CUSTOM, name) for name in LicenseType.__dataclass_fields__}
    no_code = LicenseType(**values | {"service_item": ServiceItem(name="网约车运输证核发")})
    document = license_type_to_dict(no_code)
    assert document["service_item"] == {"name": "网约车运输证核发"}
    assert license_type_from_dict(document) == no_code
