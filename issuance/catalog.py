"""The licence catalogue (证照目录): licence types, their face fields, and field validation.

A licence type (证照类型) is identified by its GB/T 36904 证照类型代码: the USCC of the defining
authority (证照定义机构) plus a 3-digit sequence. Its holder is a natural person (持证主体代码类型
111, 公民身份号码) or a legal person (001, 统一社会信用代码), the codes cited from GB/T 36903.

:data:`BUILTIN_TYPES` holds three types every deployment knows: 居民身份证, 机动车驾驶证 and 营业执照.
:func:`validate_fields` checks what an issuer submits for a licence face before anything is signed.

A type definition travels as JSON (GB/T 36902 证照目录信息, import and export between platforms):
:func:`license_type_to_dict` / :func:`license_type_from_dict` (``"format": "yinxin-license-type/1"``)
and, for several types, :func:`catalog_to_dict` / :func:`catalog_from_dict`
(``"format": "yinxin-catalog/1"``). Reading checks everything and names the bad key, e.g.
``fields[3].kind: unknown kind 'datee'``; the keys are the same paths whether a definition is
read from JSON or built in code.
"""

from __future__ import annotations

import enum
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, assert_never

from .errors import CatalogError, FieldValidationError, IssuanceError, UnknownLicenseTypeError
from .identifier import birth_date_of, sex_of, validate_resident_id, validate_uscc

LONG_TERM = "长期"
"""The value of an end-of-validity field that has no end date (长期), as printed on Chinese licences."""

_EARLIEST_DATE = date(1900, 1, 1)
_MAX_CODE_INPUT = 64  # longest raw input taken for an 18-character code (spaces allowed)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONEY = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_SERVICE_ITEM_CODE = re.compile(r"[0-9A-Za-z-]{1,64}")
_MAX_NAME = 64  # longest field name or slug
_MAX_TEXT = 200  # longest label, type name, title or authority name
_MAX_FIELD_LENGTH = 10_000  # the largest max_length a field may declare
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


_HOLDER_KIND_NAMES: Final = {HolderKind.NATURAL_PERSON: "natural-person", HolderKind.LEGAL_PERSON: "legal-person"}
"""How a :class:`HolderKind` is written in a licence-type definition (JSON)."""


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


def _is_clean_text(text: str) -> bool:
    return bool(text.strip()) and text == text.strip() and not any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text
    )


@dataclass(frozen=True)
class FieldSpec:
    """One field of a licence face (照面信息): its key, Chinese label, kind and limits.

    An invalid definition raises :class:`~issuance.errors.CatalogError` whose ``key`` is the
    attribute (``name``, ``label``, ``kind``, ``choices``, ``max_length``, ``masking``, ``unit``),
    the same key as in the JSON form (:func:`license_type_to_dict`).
    """

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
        if isinstance(self.choices, list):
            object.__setattr__(self, "choices", tuple(self.choices))
        if not isinstance(self.name, str) or len(self.name) > _MAX_NAME or not _FIELD_NAME.fullmatch(self.name):
            raise CatalogError(
                "name", f"{self.name!r} is not a snake_case ASCII name of at most {_MAX_NAME} characters"
            )
        if not isinstance(self.label, str) or not _is_clean_text(self.label) or len(self.label) > _MAX_TEXT:
            raise CatalogError("label", f"field {self.name} needs a label: one line of text, no outer spaces")
        if not isinstance(self.kind, FieldKind):
            raise CatalogError("kind", f"field {self.name}: {self.kind!r} is not a FieldKind")
        if not isinstance(self.required, bool):
            raise CatalogError("required", f"field {self.name}: must be true or false")
        if not isinstance(self.choices, tuple):
            raise CatalogError("choices", f"field {self.name}: must be a list of values")
        if (self.kind is FieldKind.ENUM) != bool(self.choices):
            raise CatalogError("choices", f"field {self.name}: choices are given exactly for enum fields")
        if (
            isinstance(self.max_length, bool) or not isinstance(self.max_length, int)
            or not 1 <= self.max_length <= _MAX_FIELD_LENGTH
        ):
            raise CatalogError("max_length", f"field {self.name}: must be a whole number from 1 to {_MAX_FIELD_LENGTH}")
        for choice in self.choices:
            if not isinstance(choice, str) or not _is_clean_text(choice) or len(choice) > self.max_length:
                raise CatalogError(
                    "choices", f"field {self.name}: choice {choice!r} is not one line of text within max_length"
                )
        if len(set(self.choices)) != len(self.choices):
            raise CatalogError("choices", f"field {self.name}: choices repeat")
        if self.masking is not None and self.masking not in MASKING_RULES:
            known = ", ".join(sorted(MASKING_RULES))
            raise CatalogError("masking", f"field {self.name}: unknown masking rule {self.masking!r} (known: {known})")
        if not isinstance(self.unit, str) or (self.unit and not _is_clean_text(self.unit)):
            raise CatalogError("unit", f"field {self.name}: the unit must be short text")
        if self.unit and self.kind is not FieldKind.MONEY:
            raise CatalogError("unit", f"field {self.name}: only money fields have a unit")
        if not isinstance(self.not_after_today, bool):
            raise CatalogError("not_after_today", f"field {self.name}: must be true or false")
        if self.not_after_today and self.kind is not FieldKind.DATE:
            raise CatalogError("not_after_today", f"field {self.name}: only date fields can be limited to the past")

    def mask(self, value: str) -> str:
        """``value`` as shown to someone who may see only part of it; unchanged if the field has no rule."""
        if self.masking is None:
            return value
        return _MASKERS[self.masking](value)

    def printed(self, value: str) -> str:
        """``value`` as printed on the face: a money amount with its unit (``100万元``), others unchanged."""
        return f"{value}{self.unit}" if self.unit else value


@dataclass(frozen=True)
class ServiceItem:
    """The government-service item (关联事项, 政务服务事项) a licence type is issued under (GB/T 36903)."""

    name: str
    """关联事项名称, e.g. 机动车驾驶证核发."""
    code: str | None = None
    """关联事项代码: the item's code in the service catalogue (基本编码 or 实施编码), if known."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _is_clean_text(self.name) or len(self.name) > _MAX_TEXT:
            raise CatalogError("service_item.name", "must be one line of text")
        if self.code is not None and (not isinstance(self.code, str) or not _SERVICE_ITEM_CODE.fullmatch(self.code)):
            raise CatalogError("service_item.code", "must be 1 to 64 letters, digits or hyphens")


@dataclass(frozen=True)
class LicenseType:
    """A licence type of the catalogue (证照目录, GB/T 36902): its GB/T 36904 type code, holder and fields.

    An invalid definition raises :class:`~issuance.errors.CatalogError` whose ``key`` is the path
    of the bad part in the JSON form, e.g. ``definer.uscc`` or ``holder.code_field``.
    """

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
    number_field: str | None = None
    """The field whose value is the 证照编号 (the number printed on the licence, GB/T 36903);
    ``None``: the licence has no number of its own and its identifier's 流水号 is used."""
    face_fields: tuple[str, ...] = ()
    """The fields printed on the face, in order; empty: every field, in definition order."""
    service_item: ServiceItem | None = None
    """关联事项: the government-service item the licence is issued under, if the catalogue names one."""

    def __post_init__(self) -> None:
        for name in ("fields", "face_fields"):
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if not isinstance(self.name, str) or not _is_clean_text(self.name) or len(self.name) > _MAX_TEXT:
            raise CatalogError("name", "the type name must be one line of text")
        if not isinstance(self.definer_name, str) or not _is_clean_text(self.definer_name) or (
            len(self.definer_name) > _MAX_TEXT
        ):
            raise CatalogError("definer.name", "the defining authority's name must be one line of text")
        try:
            definer = validate_uscc(self.definer_uscc, field="definer.uscc")
        except FieldValidationError as exc:
            raise CatalogError("definer.uscc", exc.reason) from None
        if definer != self.definer_uscc:
            raise CatalogError("definer.uscc", "must be written in capitals without spaces")
        # GB/T 36904: 证照类型代码 = USCC of the 证照定义机构 + 3-digit sequence (21 characters).
        code = self.code
        if not isinstance(code, str) or len(code) != 21 or not code.startswith(self.definer_uscc) or not (
            code[18:].isascii() and code[18:].isdigit()
        ):
            raise CatalogError("code", f"{self.code!r} is not the definer USCC {self.definer_uscc} plus 3 digits")
        if not isinstance(self.short_name, str) or len(self.short_name) > _MAX_NAME or not _SLUG.fullmatch(
            self.short_name
        ):
            raise CatalogError("short_name", f"{self.short_name!r} is not a lower-case slug such as resident-id")
        if not isinstance(self.holder_kind, HolderKind):
            raise CatalogError("holder.kind", f"{self.holder_kind!r} is not a HolderKind")
        if not isinstance(self.fields, tuple) or not self.fields:
            raise CatalogError("fields", "a licence type needs at least one field")
        seen: dict[str, int] = {}
        for index, spec in enumerate(self.fields):
            if not isinstance(spec, FieldSpec):
                raise CatalogError(f"fields[{index}]", "is not a FieldSpec")
            if spec.name in seen:
                raise CatalogError(f"fields[{index}].name", f"{spec.name!r} repeats fields[{seen[spec.name]}]")
            seen[spec.name] = index
        holder_name = self._referenced("holder.name_field", self.holder_name_field)
        holder_code = self._referenced("holder.code_field", self.holder_code_field)
        if not holder_name.required:
            raise CatalogError("holder.name_field", f"field {holder_name.name} must be required")
        if not holder_code.required:
            raise CatalogError("holder.code_field", f"field {holder_code.name} must be required")
        expected_kind = (
            FieldKind.RESIDENT_ID if self.holder_kind is HolderKind.NATURAL_PERSON else FieldKind.USCC
        )
        if holder_code.kind is not expected_kind:
            raise CatalogError(
                "holder.code_field",
                f"the holder code of a {_HOLDER_KIND_NAMES[self.holder_kind]} licence must be a"
                f" {expected_kind.value} field",
            )
        if self.validity_years is not None and (
            isinstance(self.validity_years, bool) or not isinstance(self.validity_years, int)
            or not 1 <= self.validity_years <= 100
        ):
            raise CatalogError("validity.years", "must be a whole number of years from 1 to 100 (or long_term)")
        if self.valid_from_field is not None and self._referenced(
            "validity.from_field", self.valid_from_field
        ).kind is not FieldKind.DATE:
            raise CatalogError("validity.from_field", "must name a date field")
        if self.valid_until_field is not None and self._referenced(
            "validity.until_field", self.valid_until_field
        ).kind not in (FieldKind.DATE, FieldKind.DATE_OR_LONG_TERM):
            raise CatalogError("validity.until_field", "must name a date or date-or-long-term field")
        if self.number_field is not None and not self._referenced("number_field", self.number_field).required:
            raise CatalogError(
                "number_field", f"field {self.number_field} must be required: every licence has a number"
            )
        if not isinstance(self.face_title, str) or not _is_clean_text(self.face_title) or (
            len(self.face_title) > _MAX_TEXT
        ):
            raise CatalogError("face.title", "the face title must be one line of text")
        if not isinstance(self.face_fields, tuple):
            raise CatalogError("face.fields", "must be a list of field names")
        for index, name in enumerate(self.face_fields):
            self._referenced(f"face.fields[{index}]", name)
            if self.face_fields.index(name) != index:
                raise CatalogError(f"face.fields[{index}]", f"{name!r} is printed twice")
        if self.service_item is not None and not isinstance(self.service_item, ServiceItem):
            raise CatalogError("service_item", "is not a ServiceItem")

    def _referenced(self, key: str, name: object) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise CatalogError(key, f"{name!r} is not one of the type's fields")

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; raises :class:`IssuanceError` if the type has none."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise IssuanceError(f"licence type {self.name} has no field {name!r}")

    @property
    def face_specs(self) -> tuple[FieldSpec, ...]:
        """The fields printed on the face, in the face's order (:attr:`face_fields`, or every field)."""
        if not self.face_fields:
            return self.fields
        return tuple(self.field(name) for name in self.face_fields)

    def face_lines(self, values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """(label, printed value) of every filled face field, in the face's order, for the licence face.

        ``values`` are the fields as :func:`validate_fields` returned them; money gets its unit.
        """
        return tuple(
            (spec.label, spec.printed(values[spec.name])) for spec in self.face_specs if values.get(spec.name)
        )


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
    # The card has no number of its own: its 证件号码 is the holder's 公民身份号码.
    number_field="holder_id_number",
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
    # The 证号 printed on a driving licence is the holder's 公民身份号码 (机动车驾驶证申领和使用规定).
    number_field="holder_id_number",
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
    # A business licence is known by its 统一社会信用代码 (GB 32100), printed at the top of the face.
    number_field="uscc",
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


# --- definitions as JSON (GB/T 36902 证照目录信息 import and export) ------------------------------

LICENSE_TYPE_FORMAT: Final = "yinxin-license-type/1"
"""The ``format`` of one licence-type definition written by :func:`license_type_to_dict`."""
CATALOG_FORMAT: Final = "yinxin-catalog/1"
"""The ``format`` of a catalogue document (several types) written by :func:`catalog_to_dict`."""

_MAX_CATALOG_TYPES = 10_000
_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
_FIELD_KINDS: Final = {kind.value: kind for kind in FieldKind}
_HOLDER_KINDS: Final = {name: kind for kind, name in _HOLDER_KIND_NAMES.items()}


def _field_to_dict(spec: FieldSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": spec.name,
        "label": spec.label,
        "kind": spec.kind.value,
        "required": spec.required,
        "max_length": spec.max_length,
    }
    if spec.choices:
        out["choices"] = list(spec.choices)
    if spec.masking is not None:
        out["masking"] = spec.masking
    if spec.unit:
        out["unit"] = spec.unit
    if spec.not_after_today:
        out["not_after_today"] = True
    return out


def license_type_to_dict(license_type: LicenseType) -> dict[str, Any]:
    """``license_type`` as a JSON-ready dict (``"format": "yinxin-license-type/1"``).

    Layout (field order in ``fields`` is the definition order)::

        {"format": "yinxin-license-type/1", "code": 21 chars, "name": 证照类型名称, "short_name": slug,
         "definer": {"name": 证照定义机构, "uscc": USCC},
         "holder": {"kind": "natural-person" | "legal-person", "name_field": .., "code_field": ..},
         "number_field": field | null,
         "fields": [{"name", "label", "kind", "required", "max_length",
                     ? "choices", ? "masking", ? "unit", ? "not_after_today"}, ...],
         "validity": {"years": n | "long_term": true, "from_field": field | null, "until_field": field | null},
         "face": {"title": .., ? "fields": [field, ...]},
         ? "service_item": {"name": 关联事项名称, ? "code": 关联事项代码}}

    :func:`license_type_from_dict` reads it back to an equal :class:`LicenseType`.
    """
    validity: dict[str, Any] = (
        {"long_term": True} if license_type.validity_years is None else {"years": license_type.validity_years}
    )
    validity["from_field"] = license_type.valid_from_field
    validity["until_field"] = license_type.valid_until_field
    face: dict[str, Any] = {"title": license_type.face_title}
    if license_type.face_fields:
        face["fields"] = list(license_type.face_fields)
    out: dict[str, Any] = {
        "format": LICENSE_TYPE_FORMAT,
        "code": license_type.code,
        "name": license_type.name,
        "short_name": license_type.short_name,
        "definer": {"name": license_type.definer_name, "uscc": license_type.definer_uscc},
        "holder": {
            "kind": _HOLDER_KIND_NAMES[license_type.holder_kind],
            "name_field": license_type.holder_name_field,
            "code_field": license_type.holder_code_field,
        },
        "number_field": license_type.number_field,
        "fields": [_field_to_dict(spec) for spec in license_type.fields],
        "validity": validity,
        "face": face,
    }
    if license_type.service_item is not None:
        item: dict[str, Any] = {"name": license_type.service_item.name}
        if license_type.service_item.code is not None:
            item["code"] = license_type.service_item.code
        out["service_item"] = item
    return out


class _Object:
    """A JSON object being read, with the path used to name its bad keys."""

    def __init__(self, value: object, path: str, *, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        if not isinstance(value, Mapping):
            raise CatalogError(path, f"must be an object, got {_json_type(value)}")
        self.path = path
        self.value: Mapping[object, object] = value
        required, optional = tuple(required), tuple(optional)
        for key in value:
            if not isinstance(key, str) or key not in required + optional:
                shown = key[:64] if isinstance(key, str) else repr(key)
                raise CatalogError(self.key(str(shown)), "unknown key")
        for key in required:
            if key not in value:
                raise CatalogError(self.key(key), "is required")

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.value

    def raw(self, name: str) -> object:
        return self.value.get(name)

    def text(self, name: str) -> str:
        value = self.value.get(name)
        if not isinstance(value, str):
            raise CatalogError(self.key(name), f"must be a string, got {_json_type(value)}")
        return value

    def optional_text(self, name: str) -> str | None:
        return None if self.value.get(name) is None else self.text(name)

    def flag(self, name: str, default: bool) -> bool:
        value = self.value.get(name, default)
        if not isinstance(value, bool):
            raise CatalogError(self.key(name), f"must be true or false, got {_json_type(value)}")
        return value

    def integer(self, name: str) -> int:
        value = self.value.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise CatalogError(self.key(name), f"must be a whole number, got {_json_type(value)}")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.value.get(name)
        if not isinstance(value, list):
            raise CatalogError(self.key(name), f"must be a list, got {_json_type(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise CatalogError(f"{self.key(name)}[{index}]", f"must be a string, got {_json_type(item)}")
        return tuple(value)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _rekeyed(exc: CatalogError, prefix: str) -> CatalogError:
    return CatalogError(f"{prefix}.{exc.key}" if prefix else exc.key, exc.reason)


def _field_from_dict(value: object, path: str) -> FieldSpec:
    doc = _Object(
        value, path,
        required=("name", "label", "kind", "required"),
        optional=("max_length", "choices", "masking", "unit", "not_after_today"),
    )
    kind_text = doc.text("kind")
    kind = _FIELD_KINDS.get(kind_text)
    if kind is None:
        known = ", ".join(_FIELD_KINDS)
        raise CatalogError(doc.key("kind"), f"unknown kind {kind_text[:32]!r} (known: {known})")
    try:
        return FieldSpec(
            name=doc.text("name"),
            label=doc.text("label"),
            kind=kind,
            required=doc.flag("required", False),
            choices=doc.texts("choices") if doc.has("choices") else (),
            max_length=doc.integer("max_length") if doc.has("max_length") else 200,
            masking=doc.optional_text("masking"),
            unit=doc.text("unit") if doc.has("unit") else "",
            not_after_today=doc.flag("not_after_today", False),
        )
    except CatalogError as exc:
        if exc.key.startswith(path):
            raise
        raise _rekeyed(exc, path) from None


def _license_type_from_object(value: object, path: str) -> LicenseType:
    doc = _Object(
        value, path,
        required=("format", "code", "name", "short_name", "definer", "holder", "fields", "validity", "face"),
        optional=("number_field", "service_item"),
    )
    fmt = doc.raw("format")
    if fmt != LICENSE_TYPE_FORMAT:
        shown = fmt[:40] if isinstance(fmt, str) else _json_type(fmt)
        raise CatalogError(doc.key("format"), f"expected {LICENSE_TYPE_FORMAT!r}, got {shown!r}")
    definer = _Object(doc.raw("definer"), doc.key("definer"), required=("name", "uscc"))
    holder = _Object(doc.raw("holder"), doc.key("holder"), required=("kind", "name_field", "code_field"))
    holder_kind_text = holder.text("kind")
    holder_kind = _HOLDER_KINDS.get(holder_kind_text)
    if holder_kind is None:
        raise CatalogError(
            holder.key("kind"), f"unknown holder kind {holder_kind_text[:32]!r} (known: natural-person, legal-person)"
        )
    raw_fields = doc.raw("fields")
    if not isinstance(raw_fields, list):
        raise CatalogError(doc.key("fields"), f"must be a list, got {_json_type(raw_fields)}")
    fields = tuple(
        _field_from_dict(item, f"{doc.key('fields')}[{index}]") for index, item in enumerate(raw_fields)
    )
    validity = _Object(
        doc.raw("validity"), doc.key("validity"),
        required=(), optional=("years", "long_term", "from_field", "until_field"),
    )
    if validity.has("years") == validity.has("long_term"):
        raise CatalogError(validity.path, "give either years or long_term: true")
    if validity.has("long_term") and not validity.flag("long_term", False):
        raise CatalogError(validity.key("long_term"), "may only be true (give years for a fixed term)")
    years = validity.integer("years") if validity.has("years") else None
    face = _Object(doc.raw("face"), doc.key("face"), required=("title",), optional=("fields",))
    service_item = None
    if doc.has("service_item"):
        item = _Object(doc.raw("service_item"), doc.key("service_item"), required=("name",), optional=("code",))
        try:
            service_item = ServiceItem(name=item.text("name"), code=item.optional_text("code"))
        except CatalogError as exc:
            raise _rekeyed(exc, path) from None
    try:
        return LicenseType(
            code=doc.text("code"),
            name=doc.text("name"),
            short_name=doc.text("short_name"),
            definer_name=definer.text("name"),
            definer_uscc=definer.text("uscc"),
            holder_kind=holder_kind,
            fields=fields,
            holder_name_field=holder.text("name_field"),
            holder_code_field=holder.text("code_field"),
            validity_years=years,
            face_title=face.text("title"),
            valid_from_field=validity.optional_text("from_field"),
            valid_until_field=validity.optional_text("until_field"),
            number_field=doc.optional_text("number_field"),
            face_fields=face.texts("fields") if face.has("fields") else (),
            service_item=service_item,
        )
    except CatalogError as exc:
        if path and exc.key.startswith(path + "."):
            raise
        raise _rekeyed(exc, path) from None


def license_type_from_dict(data: Mapping[str, object]) -> LicenseType:
    """Read a definition written by :func:`license_type_to_dict` (e.g. parsed from JSON), checking it all.

    Unknown and missing keys, wrong JSON types, unknown kinds, bad codes and references to fields
    that do not exist raise :class:`~issuance.errors.CatalogError` whose ``key`` names the bad part,
    e.g. ``fields[3].kind: unknown kind 'datee'`` or ``holder.code_field: 'id' is not one of the
    type's fields``.
    """
    return _license_type_from_object(data, "")


def license_type_to_json(license_type: LicenseType) -> str:
    """:func:`license_type_to_dict` as compact UTF-8 JSON text (Chinese kept as is), e.g. for a database column."""
    return json.dumps(license_type_to_dict(license_type), ensure_ascii=False, separators=(",", ":"))


def _parse_json(text: str | bytes) -> object:
    if len(text) > _MAX_DOCUMENT_BYTES:
        raise CatalogError("", f"the document is larger than {_MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError("", f"not valid JSON ({exc})") from None
    except RecursionError:
        raise CatalogError("", "the JSON document is nested too deeply") from None


def license_type_from_json(text: str | bytes) -> LicenseType:
    """Parse JSON text and read it with :func:`license_type_from_dict`."""
    return _license_type_from_object(_parse_json(text), "")


def catalog_to_dict(types: Iterable[LicenseType]) -> dict[str, Any]:
    """Several licence types as one catalogue document: ``{"format": "yinxin-catalog/1", "types": [...]}``.

    Each entry is a full :func:`license_type_to_dict` definition. The types must be distinct by
    code, short name and name (as :func:`lookup` needs); raises :class:`CatalogError` otherwise.
    """
    listed = tuple(types)
    _check_distinct(listed)
    return {"format": CATALOG_FORMAT, "types": [license_type_to_dict(t) for t in listed]}


def _check_distinct(types: tuple[LicenseType, ...]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for index, license_type in enumerate(types):
        for key in ("code", "short_name", "name"):
            value = getattr(license_type, key)
            first = seen.setdefault((key, value), index)
            if first != index:
                raise CatalogError(f"types[{index}].{key}", f"{value!r} repeats types[{first}]")


def catalog_from_dict(data: Mapping[str, object]) -> tuple[LicenseType, ...]:
    """Read a catalogue document written by :func:`catalog_to_dict`, checking every type.

    Errors name the type by its index: ``types[2].fields[0].label: ...``; two types with the same
    code, short name or name are refused.
    """
    doc = _Object(data, "", required=("format", "types"))
    fmt = doc.raw("format")
    if fmt != CATALOG_FORMAT:
        shown = fmt[:40] if isinstance(fmt, str) else _json_type(fmt)
        raise CatalogError("format", f"expected {CATALOG_FORMAT!r}, got {shown!r}")
    raw_types = doc.raw("types")
    if not isinstance(raw_types, list):
        raise CatalogError("types", f"must be a list, got {_json_type(raw_types)}")
    if len(raw_types) > _MAX_CATALOG_TYPES:
        raise CatalogError("types", f"at most {_MAX_CATALOG_TYPES} types per document")
    types = tuple(_license_type_from_object(item, f"types[{index}]") for index, item in enumerate(raw_types))
    _check_distinct(types)
    return types


def catalog_to_json(types: Iterable[LicenseType]) -> str:
    """:func:`catalog_to_dict` as indented UTF-8 JSON text, for files people read and edit."""
    return json.dumps(catalog_to_dict(types), ensure_ascii=False, indent=2) + "\n"


def catalog_from_json(text: str | bytes) -> tuple[LicenseType, ...]:
    """Parse JSON text and read it with :func:`catalog_from_dict`."""
    data = _parse_json(text)
    if not isinstance(data, dict):
        raise CatalogError("", f"a catalogue must be a JSON object, got {_json_type(data)}")
    return catalog_from_dict(data)
