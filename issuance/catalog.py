"""The licence catalogue (证照目录): licence types, their face fields, and field validation.

A licence type (证照类型) is identified by its GB/T 36904 证照类型代码: the USCC of the defining
authority (证照定义机构) plus a 3-digit sequence. Its holder is a natural person (持证主体代码类型
111, 公民身份号码) or a legal person (001, 统一社会信用代码), the codes cited from GB/T 36903.

:data:`BUILTIN_TYPES` holds three types every deployment knows: 居民身份证, 机动车驾驶证 and 营业执照.
:func:`validate_fields` checks what an issuer submits for a licence face before anything is signed.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import assert_never

from .errors import FieldValidationError, IssuanceError, UnknownLicenseTypeError
from .identifier import birth_date_of, sex_of, validate_resident_id, validate_uscc

LONG_TERM = "长期"
"""The value of an end-of-validity field that has no end date (长期), as printed on Chinese licences."""

_EARLIEST_DATE = date(1900, 1, 1)
_MAX_CODE_INPUT = 64  # longest raw input taken for an 18-character code (spaces allowed)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONEY = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Characters never accepted in a field value: controls (Cc), invisible format characters such as
# bidi overrides (Cf), lone surrogates (Cs) and line/paragraph separators. Unassigned (Cn) and
# private-use (Co) code points are accepted on purpose: rare characters in people's names (生僻字)
# are newer than Python's Unicode tables or are still carried in private-use code points.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class FieldKind(enum.Enum):
    """How the value of a licence field is checked and normalised."""

    TEXT = "text"
    """Free text on one line."""
    DATE = "date"
    """A calendar date written yyyy-mm-dd, not before 1900-01-01."""
    DATE_OR_LONG_TERM = "date-or-long-term"
    """An end of validity: a date, or 长期 (:data:`LONG_TERM`)."""
    RESIDENT_ID = "resident-id"
    """A 公民身份号码, GB 11643-1999."""
    USCC = "uscc"
    """A 统一社会信用代码, GB 32100-2015."""
    ENUM = "enum"
    """One of the field's ``choices``."""
    MONEY = "money"
    """A non-negative decimal amount (at most 6 decimal places) in the field's ``unit``, stored as the
    bare number; the unit and 人民币 may be written around it (``100万元``, ``人民币100万元``)."""


class HolderKind(enum.Enum):
    """Who holds a licence; the value is the 持证主体代码类型代码 (GB/T 36903 as used in practice)."""

    NATURAL_PERSON = "111"
    """自然人, identified by a 公民身份号码."""
    LEGAL_PERSON = "001"
    """法人及其他组织, identified by a 统一社会信用代码."""

    @property
    def code_type(self) -> str:
        """The 3-digit holder-code-type code (111 or 001)."""
        return self.value


def _mask_id_number(value: str) -> str:
    # Keeps the address code (6) and the last 4 characters: 110105********002X.
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _mask_name(value: str) -> str:
    # Keeps the family name's first character: 张三 → 张*, 欧阳娜娜 → 欧***. A one-character value is hidden.
    if len(value) <= 1:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 1)


_MASKERS = {"id_number": _mask_id_number, "name": _mask_name}
MASKING_RULES = frozenset(_MASKERS)
"""Names of the masking rules a :class:`FieldSpec` may use."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a licence face (照面信息): its key, Chinese label, kind and limits."""

    name: str
    """The key in submitted data: snake_case ASCII, e.g. ``holder_id_number``."""
    label: str
    """The label printed on the licence, e.g. 公民身份号码."""
    kind: FieldKind
    required: bool
    choices: tuple[str, ...] = ()
    """The allowed values of an :attr:`FieldKind.ENUM` field."""
    max_length: int = 200
    """Longest accepted value, in characters."""
    masking: str | None = None
    """The masking rule (one of :data:`MASKING_RULES`) used when the field is shown partially."""
    unit: str = ""
    """The unit of a :attr:`FieldKind.MONEY` field, e.g. 万元."""
    not_after_today: bool = False
    """A date that cannot lie in the future (a birth or founding date)."""

    def __post_init__(self) -> None:
        if not _FIELD_NAME.fullmatch(self.name):
            raise IssuanceError(f"field name {self.name!r} is not snake_case ASCII")
        if not self.label.strip():
            raise IssuanceError(f"field {self.name} has no label")
        if (self.kind is FieldKind.ENUM) != bool(self.choices):
            raise IssuanceError(f"field {self.name}: choices are given exactly for ENUM fields")
        if len(set(self.choices)) != len(self.choices):
            raise IssuanceError(f"field {self.name}: choices repeat")
        if self.max_length < 1:
            raise IssuanceError(f"field {self.name}: max_length must be positive")
        if self.masking is not None and self.masking not in MASKING_RULES:
            raise IssuanceError(f"field {self.name}: unknown masking rule {self.masking!r}")
        if self.unit and self.kind is not FieldKind.MONEY:
            raise IssuanceError(f"field {self.name}: only MONEY fields have a unit")

    def mask(self, value: str) -> str:
        """``value`` as shown to someone who may see only part of it; unchanged if the field has no rule."""
        if self.masking is None:
            return value
        return _MASKERS[self.masking](value)


@dataclass(frozen=True)
class LicenseType:
    """A licence type of the catalogue (证照目录): its GB/T 36904 type code, holder kind and face fields."""

    code: str
    """证照类型代码 (GB/T 36904): ``definer_uscc`` followed by a 3-digit sequence."""
    name: str
    """证照类型名称, e.g. 居民身份证."""
    short_name: str
    """ASCII slug for URLs and the CLI, e.g. ``resident-id``."""
    definer_name: str
    """证照定义机构."""
    definer_uscc: str
    """统一社会信用代码 of the 证照定义机构."""
    holder_kind: HolderKind
    fields: tuple[FieldSpec, ...]
    holder_name_field: str
    """The field holding the 持证主体 (holder's name)."""
    holder_code_field: str
    """The field holding the 持证主体代码 (ID number or USCC)."""
    validity_years: int | None
    """Usual term of a newly issued licence in years, proposed when the issuer gives no end date;
    ``None`` means 长期 (no end date)."""
    face_title: str
    """The title printed at the top of the licence face."""
    valid_from_field: str | None = None
    """The field giving 证照有效期起始日期, if the face has one."""
    valid_until_field: str | None = None
    """The field giving 证照有效期截止日期 (a date or 长期), if the face has one."""

    def __post_init__(self) -> None:
        try:
            definer = validate_uscc(self.definer_uscc, field="definer_uscc")
        except IssuanceError as exc:
            raise IssuanceError(f"licence type {self.name}: {exc.public_message}") from None
        if definer != self.definer_uscc:
            raise IssuanceError(f"licence type {self.name}: definer USCC must be upper case, no spaces")
        if len(self.code) != 21 or not self.code.startswith(self.definer_uscc) or not (
            self.code[18:].isascii() and self.code[18:].isdigit()
        ):
            raise IssuanceError(f"licence type {self.name}: code must be the definer USCC plus 3 digits")
        if not _SLUG.fullmatch(self.short_name):
            raise IssuanceError(f"licence type {self.name}: short name {self.short_name!r} is not a slug")
        if not self.fields:
            raise IssuanceError(f"licence type {self.name} has no fields")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise IssuanceError(f"licence type {self.name}: field names repeat")
        if self.validity_years is not None and self.validity_years < 1:
            raise IssuanceError(f"licence type {self.name}: validity_years must be positive or None")
        holder_name = self.field(self.holder_name_field)
        holder_code = self.field(self.holder_code_field)
        if not (holder_name.required and holder_code.required):
            raise IssuanceError(f"licence type {self.name}: the holder's name and code must be required")
        expected_kind = (
            FieldKind.RESIDENT_ID if self.holder_kind is HolderKind.NATURAL_PERSON else FieldKind.USCC
        )
        if holder_code.kind is not expected_kind:
            raise IssuanceError(f"licence type {self.name}: holder code field must be {expected_kind.name}")
        if self.valid_from_field is not None and self.field(self.valid_from_field).kind is not FieldKind.DATE:
            raise IssuanceError(f"licence type {self.name}: valid_from_field must be a DATE field")
        if self.valid_until_field is not None and self.field(self.valid_until_field).kind not in (
            FieldKind.DATE, FieldKind.DATE_OR_LONG_TERM,
        ):
            raise IssuanceError(f"licence type {self.name}: valid_until_field must be a date field")

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; raises :class:`IssuanceError` if the type has none."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise IssuanceError(f"licence type {self.name} has no field {name!r}")


# --- the built-in catalogue ------------------------------------------------------------------------
# The definers' codes below are ILLUSTRATIVE: well-formed 统一社会信用代码 (registration authority 1
# 机构编制, category 1 机关, area 100000, a GB 11714-valid organisation code "YX…", valid GB 32100
# check character) made for Yinxin's built-in catalogue. They are not the real codes of 中华人民共和国
# 公安部 or 国家市场监督管理总局; a deployment replaces them with the codes its platform assigns.
_MPS_USCC = "11100000YX0000016N"  # stands for 中华人民共和国公安部 (illustrative)
_SAMR_USCC = "11100000YX0000024H"  # stands for 国家市场监督管理总局 (illustrative)

_SEX = ("男", "女")
# 准驾车型 codes of the motor-vehicle driving licence (机动车驾驶证申领和使用规定).
VEHICLE_CLASSES = (
    "A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6", "D", "E", "F", "M", "N", "P",
)

RESIDENT_ID_CARD = LicenseType(
    code=_MPS_USCC + "001",
    name="居民身份证",
    short_name="resident-id",
    definer_name="中华人民共和国公安部",
    definer_uscc=_MPS_USCC,
    holder_kind=HolderKind.NATURAL_PERSON,
    fields=(
        FieldSpec(
            name="name", label="姓名", kind=FieldKind.TEXT, required=True, max_length=50, masking="name"
        ),
        FieldSpec(name="sex", label="性别", kind=FieldKind.ENUM, required=True, choices=_SEX),
        FieldSpec(name="ethnicity", label="民族", kind=FieldKind.TEXT, required=True, max_length=20),
        FieldSpec(
            name="birth_date", label="出生", kind=FieldKind.DATE, required=True, not_after_today=True
        ),
        FieldSpec(name="address", label="住址", kind=FieldKind.TEXT, required=True),
        FieldSpec(
            name="holder_id_number", label="公民身份号码", kind=FieldKind.RESIDENT_ID, required=True,
            masking="id_number",
        ),
        FieldSpec(
            name="issuing_authority", label="签发机关", kind=FieldKind.TEXT, required=True, max_length=100
        ),
        FieldSpec(name="valid_from", label="有效期限起始日期", kind=FieldKind.DATE, required=True),
        FieldSpec(
            name="valid_until", label="有效期限截止日期", kind=FieldKind.DATE_OR_LONG_TERM, required=True
        ),
    ),
    holder_name_field="name",
    holder_code_field="holder_id_number",
    # 居民身份证法 第五条: 10 years for holders aged 16–25, 20 years for 26–45, 长期 from 46.
    validity_years=10,
    face_title="中华人民共和国居民身份证",
    valid_from_field="valid_from",
    valid_until_field="valid_until",
)

DRIVING_LICENCE = LicenseType(
    code=_MPS_USCC + "002",
    name="机动车驾驶证",
    short_name="driving-licence",
    definer_name="中华人民共和国公安部",
    definer_uscc=_MPS_USCC,
    holder_kind=HolderKind.NATURAL_PERSON,
    fields=(
        FieldSpec(
            name="name", label="姓名", kind=FieldKind.TEXT, required=True, max_length=50, masking="name"
        ),
        FieldSpec(name="sex", label="性别", kind=FieldKind.ENUM, required=True, choices=_SEX),
        FieldSpec(name="nationality", label="国籍", kind=FieldKind.TEXT, required=True, max_length=50),
        FieldSpec(name="address", label="住址", kind=FieldKind.TEXT, required=True),
        FieldSpec(
            name="birth_date", label="出生日期", kind=FieldKind.DATE, required=True, not_after_today=True
        ),
        FieldSpec(
            name="first_issue_date", label="初次领证日期", kind=FieldKind.DATE, required=True,
            not_after_today=True,
        ),
        FieldSpec(
            name="vehicle_class", label="准驾车型", kind=FieldKind.ENUM, required=True,
            choices=VEHICLE_CLASSES,
        ),
        FieldSpec(
            name="holder_id_number", label="证号", kind=FieldKind.RESIDENT_ID, required=True,
            masking="id_number",
        ),
        FieldSpec(name="valid_from", label="有效起始日期", kind=FieldKind.DATE, required=True),
        FieldSpec(name="valid_until", label="有效期限", kind=FieldKind.DATE_OR_LONG_TERM, required=True),
    ),
    holder_name_field="name",
    holder_code_field="holder_id_number",
    # The first driving licence is valid for 6 years; renewals for 10 years, then 长期.
    validity_years=6,
    face_title="中华人民共和国机动车驾驶证",
    valid_from_field="valid_from",
    valid_until_field="valid_until",
)

BUSINESS_LICENCE = LicenseType(
    code=_SAMR_USCC + "001",
    name="营业执照",
    short_name="business-licence",
    definer_name="国家市场监督管理总局",
    definer_uscc=_SAMR_USCC,
    holder_kind=HolderKind.LEGAL_PERSON,
    fields=(
        FieldSpec(name="uscc", label="统一社会信用代码", kind=FieldKind.USCC, required=True),
        FieldSpec(name="name", label="名称", kind=FieldKind.TEXT, required=True),
        FieldSpec(name="entity_type", label="类型", kind=FieldKind.TEXT, required=True, max_length=100),
        FieldSpec(
            name="legal_representative", label="法定代表人", kind=FieldKind.TEXT, required=True,
            max_length=50,
        ),
        # Optional: 个体工商户 and some other entities have no registered capital.
        FieldSpec(
            name="registered_capital", label="注册资本", kind=FieldKind.MONEY, required=False, max_length=30,
            unit="万元",
        ),
        FieldSpec(
            name="established", label="成立日期", kind=FieldKind.DATE, required=True, not_after_today=True
        ),
        # The end of the 营业期限; it runs from the 成立日期 and is often 长期.
        FieldSpec(name="business_term", label="营业期限", kind=FieldKind.DATE_OR_LONG_TERM, required=True),
        FieldSpec(name="address", label="住所", kind=FieldKind.TEXT, required=True),
        FieldSpec(
            name="business_scope", label="经营范围", kind=FieldKind.TEXT, required=True, max_length=2000
        ),
    ),
    holder_name_field="name",
    holder_code_field="uscc",
    validity_years=None,
    face_title="营业执照",
    valid_from_field="established",
    valid_until_field="business_term",
)

BUILTIN_TYPES: tuple[LicenseType, ...] = (RESIDENT_ID_CARD, DRIVING_LICENCE, BUSINESS_LICENCE)
"""The licence types every Yinxin deployment knows."""


def lookup(key: str, *, types: Iterable[LicenseType] = BUILTIN_TYPES) -> LicenseType:
    """The licence type whose 21-character code, short name or Chinese name is ``key``.

    Raises :class:`UnknownLicenseTypeError` when none matches.
    """
    wanted = key.strip() if isinstance(key, str) else ""
    for license_type in types:
        if wanted in (license_type.code, license_type.short_name, license_type.name):
            return license_type
    shown = wanted if len(wanted) <= 64 else wanted[:64] + "…"
    raise UnknownLicenseTypeError(f"no licence type {shown!r} in the catalogue")


# --- field validation ------------------------------------------------------------------------------


def _text(spec: FieldSpec, value: object) -> str:
    if not isinstance(value, str):
        raise FieldValidationError(spec.name, "must be text")
    text = value.strip()
    for ch in text:
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            raise FieldValidationError(
                spec.name, f"contains the control or invisible character U+{ord(ch):04X}"
            )
    if len(text) > spec.max_length:
        raise FieldValidationError(
            spec.name, f"is {len(text)} characters long; at most {spec.max_length} are allowed"
        )
    return text


def _date(spec: FieldSpec, value: object, today: date) -> date:
    if isinstance(value, datetime):
        raise FieldValidationError(spec.name, "must be a date (yyyy-mm-dd), not a date and time")
    if isinstance(value, date):
        day = value
    else:
        text = _text(spec, value)
        if not _ISO_DATE.fullmatch(text):
            raise FieldValidationError(spec.name, f"must be a date written yyyy-mm-dd, got {text[:20]!r}")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise FieldValidationError(spec.name, f"{text} is not a real calendar date") from None
    if day < _EARLIEST_DATE:
        raise FieldValidationError(spec.name, f"{day.isoformat()} is before 1900-01-01")
    if spec.not_after_today and day > today:
        raise FieldValidationError(
            spec.name, f"{day.isoformat()} is in the future (today is {today.isoformat()})"
        )
    return day


def _normalise(spec: FieldSpec, value: object, today: date) -> str:
    kind = spec.kind
    if kind is FieldKind.DATE:
        return _date(spec, value, today).isoformat()
    if kind is FieldKind.DATE_OR_LONG_TERM:
        if isinstance(value, str) and value.strip() == LONG_TERM:
            return LONG_TERM
        try:
            return _date(spec, value, today).isoformat()
        except FieldValidationError as exc:
            raise FieldValidationError(spec.name, f"{exc.reason} (or {LONG_TERM})") from None
    if kind is FieldKind.RESIDENT_ID or kind is FieldKind.USCC:
        # The code validators drop grouping spaces and check the length themselves; this only
        # keeps absurdly long input out of them.
        if not isinstance(value, str):
            raise FieldValidationError(spec.name, "must be text")
        if len(value) > _MAX_CODE_INPUT:
            raise FieldValidationError(spec.name, f"is {len(value)} characters long; at most 18 are expected")
        if kind is FieldKind.RESIDENT_ID:
            return validate_resident_id(value, today=today, field=spec.name)
        return validate_uscc(value, field=spec.name)
    text = _text(spec, value)
    if kind is FieldKind.TEXT:
        return text
    if kind is FieldKind.ENUM:
        for choice in spec.choices:
            if text == choice or (text.isascii() and text.upper() == choice):
                return choice
        raise FieldValidationError(spec.name, f"must be one of {', '.join(spec.choices)}")
    if kind is FieldKind.MONEY:
        amount = text.removeprefix("人民币").removesuffix("人民币")
        if spec.unit:
            amount = amount.removesuffix(spec.unit)
        if not _MONEY.fullmatch(amount):
            raise FieldValidationError(
                spec.name,
                f"must be an amount in {spec.unit or 'the field unit'} such as 100 or 12.5,"
                f" got {text[:20]!r}",
            )
        return format(Decimal(amount).normalize(), "f")
    assert_never(kind)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_fields(
    license_type: LicenseType, fields: Mapping[str, object], *, today: date
) -> dict[str, str]:
    """Check the face fields submitted for a licence of ``license_type`` and return them normalised.

    Unknown keys are refused; required fields must be present and not blank; each value is checked
    by its :class:`FieldKind` (dates yyyy-mm-dd, 公民身份号码 per GB 11643, USCC per GB 32100, choices,
    lengths). Then the fields are checked against each other: on a natural person's licence the
    ``birth_date`` and ``sex`` fields must agree with the 公民身份号码, and the end of validity may
    not precede its start.

    Raises :class:`FieldValidationError` for the first bad field in the type's field order
    (unknown keys first). Returns the non-blank values in field order.
    """
    known = {spec.name for spec in license_type.fields}
    unknown = sorted(str(key) for key in fields if key not in known)
    if unknown:
        raise FieldValidationError(unknown[0][:64], f"is not a field of {license_type.name}")

    result: dict[str, str] = {}
    for spec in license_type.fields:
        value = fields.get(spec.name)
        if _is_blank(value):
            if spec.required:
                raise FieldValidationError(spec.name, f"is required ({spec.label})")
            continue
        result[spec.name] = _normalise(spec, value, today)

    _check_holder_consistency(license_type, result)
    _check_validity_window(license_type, result)
    return result


def _check_holder_consistency(license_type: LicenseType, values: Mapping[str, str]) -> None:
    # GB 11643-1999 §4: the number codes the birth date and, by the parity of the sequence code, the sex.
    if license_type.holder_kind is not HolderKind.NATURAL_PERSON:
        return
    code_field = license_type.holder_code_field
    id_number = values[code_field]
    for spec in license_type.fields:  # keep the type's field order so the first bad field is named
        if spec.name == "birth_date" and "birth_date" in values:
            coded = birth_date_of(id_number).isoformat()
            if values["birth_date"] != coded:
                raise FieldValidationError(
                    "birth_date", f"is {values['birth_date']} but {code_field} gives {coded}"
                )
        if spec.name == "sex" and "sex" in values:
            coded_sex = sex_of(id_number).value
            if values["sex"] != coded_sex:
                raise FieldValidationError(
                    "sex",
                    f"is {values['sex']} but the sequence code of {code_field} is for {coded_sex}",
                )


def _check_validity_window(license_type: LicenseType, values: Mapping[str, str]) -> None:
    start_field, end_field = license_type.valid_from_field, license_type.valid_until_field
    if start_field is None or end_field is None:
        return
    start, end = values.get(start_field), values.get(end_field)
    if start is None or end is None or end == LONG_TERM:
        return
    if end < start:  # both are ISO dates, which sort as text
        raise FieldValidationError(end_field, f"{end} is before {start_field} {start}")
