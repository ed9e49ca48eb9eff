"""The built-in licence catalogue and face-field validation."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from issuance.catalog import (
    BUILTIN_TYPES,
    BUSINESS_LICENCE,
    DRIVING_LICENCE,
    LONG_TERM,
    RESIDENT_ID_CARD,
    FieldKind,
    FieldSpec,
    HolderKind,
    LicenseType,
    lookup,
    validate_fields,
)
from issuance.errors import FieldValidationError, IssuanceError, UnknownLicenseTypeError
from issuance.identifier import LicenseIdentifier, validate_uscc

TODAY = date(2026, 5, 20)


def complete_resident_id(first17: str) -> str:
    """Append the character that makes the GB 11643 weighted sum over all 18 positions ≡ 1 (mod 11)."""
    for check, value in [*((str(d), d) for d in range(10)), ("X", 10)]:
        values = [int(c) for c in first17] + [value]
        if sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1:
            return first17 + check
    raise AssertionError("no check character fits")


ID_CARD = {
    "name": "李华",
    "sex": "女",
    "ethnicity": "汉",
    "birth_date": "1949-12-31",
    "address": "北京市朝阳区建国路1号",
    "holder_id_number": "11010519491231002X",
    "issuing_authority": "北京市公安局朝阳分局",
    "valid_from": "2010-01-01",
    "valid_until": LONG_TERM,
}

DRIVING = {
    "name": "王强",
    "sex": "男",
    "nationality": "中国",
    "address": "广东省潮州市湘桥区",
    "birth_date": "1980-01-01",
    "first_issue_date": "2000-06-01",
    "vehicle_class": "C1",
    "holder_id_number": complete_resident_id("44510219800101001"),
    "valid_from": "2022-06-01",
    "valid_until": "2032-06-01",
}

BUSINESS = {
    "uscc": "91350100M000100Y43",
    "name": "福州某某科技有限公司",
    "entity_type": "有限责任公司（自然人投资或控股）",
    "legal_representative": "陈明",
    "registered_capital": "100",
    "established": "2015-03-01",
    "business_term": LONG_TERM,
    "address": "福建省福州市鼓楼区",
    "business_scope": "软件开发；信息技术咨询服务。",
}

# --- the catalogue itself ----------------------------------------------------------------------------


def test_builtin_types_are_the_three_known_ones():
    assert [t.name for t in BUILTIN_TYPES] == ["居民身份证", "机动车驾驶证", "营业执照"]
    assert [t.short_name for t in BUILTIN_TYPES] == ["resident-id", "driving-licence", "business-licence"]
    assert len({t.code for t in BUILTIN_TYPES}) == 3


@pytest.mark.parametrize("license_type", BUILTIN_TYPES, ids=lambda t: t.short_name)
def test_builtin_type_codes_are_gbt36904_type_codes(license_type):
    assert validate_uscc(license_type.definer_uscc) == license_type.definer_uscc
    assert license_type.code[:18] == license_type.definer_uscc
    assert license_type.code[18:].isdigit()
    # A type code must be usable in a real identifier.
    identifier = LicenseIdentifier.compose(
        type_code=license_type.code, issuer_code="11430000006122244L", serial="A1"
    )
    assert LicenseIdentifier.parse(str(identifier)).type_code == license_type.code


@pytest.mark.parametrize(
    ("license_type", "kind", "code_type", "name_field", "code_field", "code_kind"),
    [
        (RESIDENT_ID_CARD, HolderKind.NATURAL_PERSON, "111", "name", "holder_id_number",
         FieldKind.RESIDENT_ID),
        (DRIVING_LICENCE, HolderKind.NATURAL_PERSON, "111", "name", "holder_id_number",
         FieldKind.RESIDENT_ID),
        (BUSINESS_LICENCE, HolderKind.LEGAL_PERSON, "001", "name", "uscc", FieldKind.USCC),
    ],
    ids=["resident-id", "driving-licence", "business-licence"],
)
def test_holder_of_each_type(license_type, kind, code_type, name_field, code_field, code_kind):
    assert license_type.holder_kind is kind
    assert license_type.holder_kind.code_type == code_type
    assert license_type.holder_name_field == name_field
    assert license_type.field(code_field).kind is code_kind


@pytest.mark.parametrize(
    ("license_type", "labels"),
    [
        (RESIDENT_ID_CARD, {"name": "姓名", "sex": "性别", "ethnicity": "民族", "birth_date": "出生",
                            "address": "住址", "holder_id_number": "公民身份号码",
                            "issuing_authority": "签发机关"}),
        (DRIVING_LICENCE, {"nationality": "国籍", "first_issue_date": "初次领证日期",
                           "vehicle_class": "准驾车型", "holder_id_number": "证号"}),
        (BUSINESS_LICENCE, {"uscc": "统一社会信用代码", "name": "名称", "entity_type": "类型",
                            "legal_representative": "法定代表人", "registered_capital": "注册资本",
                            "established": "成立日期", "business_term": "营业期限", "address": "住所",
                            "business_scope": "经营范围"}),
    ],
    ids=["resident-id", "driving-licence", "business-licence"],
)
def test_face_labels(license_type, labels):
    assert {name: license_type.field(name).label for name in labels} == labels


@pytest.mark.parametrize(
    "key",
    [RESIDENT_ID_CARD.code, "resident-id", "居民身份证", "  居民身份证 "],
    ids=["code", "slug", "name", "padded-name"],
)
def test_lookup_by_code_slug_or_name(key):
    assert lookup(key) is RESIDENT_ID_CARD


@pytest.mark.parametrize("key", ["", "passport", "RESIDENT-ID", "11100000000013338W011", "身份证"])
def test_lookup_unknown_raises(key):
    with pytest.raises(UnknownLicenseTypeError) as info:
        lookup(key)
    assert info.value.code == "unknown_license_type"


def test_lookup_in_a_given_catalogue():
    assert lookup("business-licence", types=[BUSINESS_LICENCE]) is BUSINESS_LICENCE
    with pytest.raises(UnknownLicenseTypeError):
        lookup("resident-id", types=[BUSINESS_LICENCE])


# --- masking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("holder_id_number", "11010519491231002X", "110105********002X"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧***"),
        ("name", "张", "*"),
        ("address", "北京市朝阳区建国路1号", "北京市朝阳区建国路1号"),
    ],
    ids=["id-number", "two-char-name", "four-char-name", "one-char-name", "unmasked-field"],
)
def test_masking(field, value, shown):
    assert RESIDENT_ID_CARD.field(field).mask(value) == shown


# --- definitions are checked -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "Name", "kind": FieldKind.TEXT},
        {"name": "full name", "kind": FieldKind.TEXT},
        {"name": "姓名", "kind": FieldKind.TEXT},
        {"name": "sex", "kind": FieldKind.ENUM},
        {"name": "sex", "kind": FieldKind.TEXT, "choices": ("男", "女")},
        {"name": "sex", "kind": FieldKind.ENUM, "choices": ("男", "男")},
        {"name": "name", "kind": FieldKind.TEXT, "masking": "everything"},
        {"name": "name", "kind": FieldKind.TEXT, "max_length": 0},
        {"name": "name", "kind": FieldKind.TEXT, "unit": "万元"},
    ],
    ids=["capitals", "space", "non-ascii", "enum-no-choices", "choices-not-enum", "repeated-choice",
         "unknown-masking", "zero-length", "unit-on-text"],
)
def test_bad_field_definitions_are_refused(kwargs):
    with pytest.raises(IssuanceError):
        FieldSpec(label="标签", required=True, **kwargs)


def _type(**changes):
    base = {
        "code": "11100000YX0000016N009",
        "name": "测试证",
        "short_name": "test-licence",
        "definer_name": "测试机关",
        "definer_uscc": "11100000YX0000016N",
        "holder_kind": HolderKind.NATURAL_PERSON,
        "fields": (
            FieldSpec(name="name", label="姓名", kind=FieldKind.TEXT, required=True),
            FieldSpec(name="id_number", label="公民身份号码", kind=FieldKind.RESIDENT_ID, required=True),
        ),
        "holder_name_field": "name",
        "holder_code_field": "id_number",
        "validity_years": 5,
        "face_title": "测试证",
    }
    return LicenseType(**(base | changes))


def test_a_well_formed_type_definition_is_accepted():
    assert _type().field("id_number").kind is FieldKind.RESIDENT_ID


@pytest.mark.parametrize(
    "changes",
    [
        {"code": "11100000YX0000024H009"},
        {"code": "11100000YX0000016N09"},
        {"code": "11100000YX0000016NA09"},
        {"definer_uscc": "11100000YX0000016M", "code": "11100000YX0000016M009"},
        {"short_name": "Test Licence"},
        {"fields": ()},
        {"holder_code_field": "missing"},
        {"holder_kind": HolderKind.LEGAL_PERSON},
        {"validity_years": 0},
        {"valid_from_field": "name"},
        {"fields": (FieldSpec(name="name", label="姓名", kind=FieldKind.TEXT, required=True),) * 2},
    ],
    ids=["code-of-another-definer", "code-short", "code-letter", "definer-bad-check", "slug", "no-fields",
         "missing-holder-field", "holder-kind-mismatch", "zero-validity", "valid-from-not-a-date",
         "repeated-field"],
)
def test_bad_type_definitions_are_refused(changes):
    with pytest.raises(IssuanceError):
        _type(**changes)


# --- validate_fields: good input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("license_type", "fields"),
    [(RESIDENT_ID_CARD, ID_CARD), (DRIVING_LICENCE, DRIVING), (BUSINESS_LICENCE, BUSINESS)],
    ids=["resident-id", "driving-licence", "business-licence"],
)
def test_valid_faces_pass_unchanged(license_type, fields):
    result = validate_fields(license_type, fields, today=TODAY)
    assert result == fields
    assert list(result) == [f.name for f in license_type.fields if f.name in fields]


@pytest.mark.parametrize(
    ("license_type", "base", "field", "given", "normalised"),
    [
        (RESIDENT_ID_CARD, ID_CARD, "holder_id_number", "110105 19491231 002x", "11010519491231002X"),
        (RESIDENT_ID_CARD, ID_CARD, "name", "  李华 ", "李华"),
        (RESIDENT_ID_CARD, ID_CARD, "valid_until", date(2030, 1, 1), "2030-01-01"),
        (RESIDENT_ID_CARD, ID_CARD, "valid_until", " 长期 ", LONG_TERM),
        (RESIDENT_ID_CARD, ID_CARD, "birth_date", date(1949, 12, 31), "1949-12-31"),
        (DRIVING_LICENCE, DRIVING, "vehicle_class", "c1", "C1"),
        (BUSINESS_LICENCE, BUSINESS, "uscc", "91350100m000100y43", "91350100M000100Y43"),
        (BUSINESS_LICENCE, BUSINESS, "uscc", " 9135 0100 M000 100Y 43 ", "91350100M000100Y43"),
        (BUSINESS_LICENCE, BUSINESS, "registered_capital", "100.50", "100.5"),
        (BUSINESS_LICENCE, BUSINESS, "registered_capital", "0100", "100"),
        (BUSINESS_LICENCE, BUSINESS, "registered_capital", "12.000001", "12.000001"),
        (BUSINESS_LICENCE, BUSINESS, "registered_capital", "100万元", "100"),
        (BUSINESS_LICENCE, BUSINESS, "registered_capital", "人民币50.5万元", "50.5"),
        (BUSINESS_LICENCE, BUSINESS, "registered_capital", "50万元人民币", "50"),
        (BUSINESS_LICENCE, BUSINESS, "business_term", "2045-02-28", "2045-02-28"),
    ],
    ids=["id-spaces-lowercase", "name-trimmed", "date-object", "long-term-padded", "birth-date-object",
         "vehicle-class-lowercase", "uscc-lowercase", "uscc-grouped", "money-trailing-zero",
         "money-leading-zero", "money-6-decimals", "money-with-unit", "money-rmb-prefix", "money-rmb-suffix",
         "business-term-date"],
)
def test_values_are_normalised(license_type, base, field, given, normalised):
    assert validate_fields(license_type, base | {field: given}, today=TODAY)[field] == normalised


def test_optional_field_may_be_left_out_or_blank():
    for fields in ({k: v for k, v in BUSINESS.items() if k != "registered_capital"},
                   BUSINESS | {"registered_capital": "  "},
                   BUSINESS | {"registered_capital": None}):
        assert "registered_capital" not in validate_fields(BUSINESS_LICENCE, fields, today=TODAY)


@pytest.mark.parametrize(
    ("license_type", "base", "field"),
    [(DRIVING_LICENCE, DRIVING, "first_issue_date"), (BUSINESS_LICENCE, BUSINESS, "established")],
    ids=["first-issue-date", "established"],
)
def test_past_dates_accept_today_and_refuse_tomorrow(license_type, base, field):
    today = validate_fields(license_type, base | {field: TODAY.isoformat()}, today=TODAY)
    assert today[field] == TODAY.isoformat()
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    with pytest.raises(FieldValidationError) as info:
        validate_fields(license_type, base | {field: tomorrow}, today=TODAY)
    assert info.value.field == field
    assert info.value.reason == f"{tomorrow} is in the future (today is {TODAY.isoformat()})"


def test_holder_born_today_is_accepted_and_tomorrow_is_not():
    born_today = complete_resident_id(f"110105{TODAY:%Y%m%d}002")
    fields = ID_CARD | {"birth_date": TODAY.isoformat(), "holder_id_number": born_today}
    assert validate_fields(RESIDENT_ID_CARD, fields, today=TODAY)["holder_id_number"] == born_today
    tomorrow = TODAY + timedelta(days=1)
    born_tomorrow = complete_resident_id(f"110105{tomorrow:%Y%m%d}002")
    fields = ID_CARD | {"birth_date": tomorrow.isoformat(), "holder_id_number": born_tomorrow}
    with pytest.raises(FieldValidationError) as info:
        validate_fields(RESIDENT_ID_CARD, fields, today=TODAY)
    assert info.value.field == "birth_date"  # birth_date comes before holder_id_number on the face
    assert "is in the future" in info.value.reason


def test_validity_may_start_and_end_on_the_same_day():
    fields = ID_CARD | {"valid_from": "2020-01-01", "valid_until": "2020-01-01"}
    assert validate_fields(RESIDENT_ID_CARD, fields, today=TODAY)["valid_until"] == "2020-01-01"


# --- validate_fields: bad input -------------------------------------------------------------------

ID_BAD_CASES = [
    ("unknown-field", {"photo": "x"}, "photo", "is not a field of 居民身份证"),
    ("missing-name", {"name": None}, "name", "is required (姓名)"),
    ("blank-name", {"name": "   "}, "name", "is required (姓名)"),
    ("name-not-text", {"name": 42}, "name", "must be text"),
    ("name-too-long", {"name": "张" * 51}, "name", "is 51 characters long; at most 50"),
    ("name-newline", {"name": "李\n华"}, "name", "U+000A"),
    ("name-bidi-override", {"name": "李\u202e华"}, "name", "U+202E"),
    ("name-zero-width", {"name": "李\u200b华"}, "name", "U+200B"),
    ("sex-not-a-choice", {"sex": "F"}, "sex", "must be one of 男, 女"),
    ("sex-mismatch", {"sex": "男"}, "sex", "is 男 but the sequence code of holder_id_number is for 女"),
    ("ethnicity-too-long", {"ethnicity": "汉" * 21}, "ethnicity", "at most 20"),
    ("birth-slashes", {"birth_date": "1949/12/31"}, "birth_date", "must be a date written yyyy-mm-dd"),
    ("birth-compact", {"birth_date": "19491231"}, "birth_date", "must be a date written yyyy-mm-dd"),
    ("birth-not-real", {"birth_date": "1949-02-30"}, "birth_date", "1949-02-30 is not a real calendar date"),
    ("birth-datetime", {"birth_date": datetime(1949, 12, 31, 8, 0)}, "birth_date", "not a date and time"),
    ("birth-before-1900", {"birth_date": "1899-12-31"}, "birth_date", "before 1900-01-01"),
    ("birth-mismatch", {"birth_date": "1949-12-30"}, "birth_date",
     "is 1949-12-30 but holder_id_number gives 1949-12-31"),
    ("address-too-long", {"address": "路" * 201}, "address", "at most 200"),
    ("id-check-digit", {"holder_id_number": "110105194912310021"}, "holder_id_number",
     "check digit is 1, expected X"),
    ("id-not-text", {"holder_id_number": 11010519491231002}, "holder_id_number", "must be text"),
    ("id-15-digit", {"holder_id_number": "110105491231002"}, "holder_id_number", "15-digit"),
    ("id-future-birth", {"holder_id_number": complete_resident_id("11010520270101002")}, "holder_id_number",
     "is in the future"),
    ("valid-from-bad", {"valid_from": "2010-1-1"}, "valid_from", "yyyy-mm-dd"),
    ("valid-until-bad-word", {"valid_until": "永久"}, "valid_until", "yyyy-mm-dd, got '永久' (or 长期)"),
    ("valid-until-before-from", {"valid_until": "2009-12-31"}, "valid_until",
     "2009-12-31 is before valid_from 2010-01-01"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [case[1:] for case in ID_BAD_CASES],
    ids=[case[0] for case in ID_BAD_CASES],
)
def test_resident_id_card_bad_fields(changes, field, message):
    with pytest.raises(FieldValidationError) as info:
        validate_fields(RESIDENT_ID_CARD, ID_CARD | changes, today=TODAY)
    assert info.value.field == field
    assert message in info.value.reason


def test_missing_key_is_reported_like_a_blank_one():
    fields = {k: v for k, v in ID_CARD.items() if k != "issuing_authority"}
    with pytest.raises(FieldValidationError) as info:
        validate_fields(RESIDENT_ID_CARD, fields, today=TODAY)
    assert info.value.field == "issuing_authority"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"address": "", "holder_id_number": "bad"}, "address"),
        ({"holder_id_number": "bad", "name": ""}, "name"),
        ({"sex": "男", "birth_date": "1949-12-30"}, "sex"),
        ({"valid_until": "永久", "name": "李\x00华"}, "name"),
        ({"zzz": "1", "name": ""}, "zzz"),
        ({"zzz": "1", "aaa": "2"}, "aaa"),
    ],
    ids=["address-before-id", "name-first", "sex-before-birth-date", "per-field-before-order",
         "unknown-first", "unknown-sorted"],
)
def test_the_first_bad_field_is_named(changes, field):
    with pytest.raises(FieldValidationError) as info:
        validate_fields(RESIDENT_ID_CARD, ID_CARD | changes, today=TODAY)
    assert info.value.field == field


DRIVING_BAD_CASES = [
    ("vehicle-class-unknown", {"vehicle_class": "C7"}, "vehicle_class", "must be one of A1, A2, A3"),
    ("vehicle-class-combined", {"vehicle_class": "C1E"}, "vehicle_class", "must be one of"),
    ("first-issue-future", {"first_issue_date": "2026-05-21"}, "first_issue_date", "is in the future"),
    ("birth-mismatch", {"birth_date": "1980-01-02"}, "birth_date", "holder_id_number gives 1980-01-01"),
    ("sex-mismatch", {"sex": "女"}, "sex", "is for 男"),
    ("id-bad", {"holder_id_number": DRIVING["holder_id_number"][:-1] + "9"}, "holder_id_number",
     "check digit is 9"),
    ("valid-until-before-from", {"valid_until": "2022-05-31"}, "valid_until", "is before valid_from"),
    ("nationality-missing", {"nationality": ""}, "nationality", "is required (国籍)"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [case[1:] for case in DRIVING_BAD_CASES],
    ids=[case[0] for case in DRIVING_BAD_CASES],
)
def test_driving_licence_bad_fields(changes, field, message):
    with pytest.raises(FieldValidationError) as info:
        validate_fields(DRIVING_LICENCE, DRIVING | changes, today=TODAY)
    assert info.value.field == field
    assert message in info.value.reason


@pytest.mark.parametrize("vehicle_class", ["A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6",
                                           "D", "E", "F", "M", "N", "P"])
def test_every_vehicle_class_is_accepted(vehicle_class):
    fields = DRIVING | {"vehicle_class": vehicle_class}
    assert validate_fields(DRIVING_LICENCE, fields, today=TODAY)["vehicle_class"] == vehicle_class


BUSINESS_BAD_CASES = [
    ("uscc-check", {"uscc": "91350100M000100Y44"}, "uscc", "check character is 4, expected 3"),
    ("uscc-letter-O", {"uscc": "9135O100M000100Y43"}, "uscc", "contains 'O'"),
    ("uscc-legacy", {"uscc": "91350100M0001TGQXM"}, "uscc", "check character is M"),
    ("uscc-missing", {"uscc": ""}, "uscc", "is required (统一社会信用代码)"),
    ("uscc-not-text", {"uscc": 913501001}, "uscc", "must be text"),
    ("uscc-huge", {"uscc": "9" * 65}, "uscc", "is 65 characters long"),
    ("capital-negative", {"registered_capital": "-5"}, "registered_capital", "must be an amount in 万元"),
    ("capital-exponent", {"registered_capital": "1e3"}, "registered_capital", "must be an amount"),
    ("capital-words", {"registered_capital": "壹佰万元"}, "registered_capital", "must be an amount"),
    ("capital-7-decimals", {"registered_capital": "1.0000001"}, "registered_capital", "must be an amount"),
    ("capital-comma", {"registered_capital": "1,000"}, "registered_capital", "must be an amount"),
    ("capital-other-unit", {"registered_capital": "100万美元"}, "registered_capital", "must be an amount"),
    ("capital-unit-only", {"registered_capital": "万元"}, "registered_capital", "must be an amount"),
    ("established-future", {"established": "2026-05-21"}, "established", "is in the future"),
    ("term-before-established", {"business_term": "2015-02-28"}, "business_term",
     "2015-02-28 is before established 2015-03-01"),
    ("scope-too-long", {"business_scope": "软" * 2001}, "business_scope", "at most 2000"),
    ("legal-rep-missing", {"legal_representative": None}, "legal_representative", "is required (法定代表人)"),
    ("sex-is-not-a-business-field", {"sex": "男"}, "sex", "is not a field of 营业执照"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [case[1:] for case in BUSINESS_BAD_CASES],
    ids=[case[0] for case in BUSINESS_BAD_CASES],
)
def test_business_licence_bad_fields(changes, field, message):
    with pytest.raises(FieldValidationError) as info:
        validate_fields(BUSINESS_LICENCE, BUSINESS | changes, today=TODAY)
    assert info.value.field == field
    assert message in info.value.reason
