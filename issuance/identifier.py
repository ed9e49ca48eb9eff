"""Identifiers an e-licence carries, and how to check them.

- 公民身份号码 (resident ID number), GB 11643-1999: layout, birth date and the ISO 7064 MOD 11-2
  check character.
- 统一社会信用代码 (unified social credit code, USCC), GB 32100-2015: character set and check character;
  the inner GB 11714 organisation-code check is offered separately and not enforced.
- 电子证照标识 (e-licence identifier), GB/T 36904-2018:
  ``1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>`` with an ISO 7064 MOD 37,36
  (hybrid) check character.

Every check raises :class:`issuance.errors.FieldValidationError` naming the field and saying, in plain
English, what is wrong. Nothing here reads the clock: "today" is a parameter.

The check-digit arithmetic is a few lines per system; no well-kept Python library covers GB 11643,
GB 32100 and GB/T 36904 together (python-stdnum has the ID number only), so it is written here and
tested against the published examples.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from .errors import FieldValidationError

# --- GB 11643-1999 公民身份号码 -------------------------------------------------------------------

# GB 11643-1999 §5 / ISO 7064 MOD 11-2: weight of position i (1-based) is 2^(18-i) mod 11.
_RESIDENT_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
# Remainder of the weighted sum mod 11 → check character.
_RESIDENT_ID_CHECK = "10X98765432"
_RESIDENT_ID_LAYOUT = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH_DATE = date(1900, 1, 1)


class Sex(enum.Enum):
    """Sex as printed on Chinese licences; GB 11643 codes it in the parity of the sequence code."""

    MALE = "男"
    FEMALE = "女"


def resident_id_check_character(first17: str) -> str:
    """The GB 11643-1999 check character (ISO 7064 MOD 11-2) for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the check character is computed over exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def _normalise_code(value: str) -> str:
    # People group the digits with spaces and type a lowercase x; neither changes the number.
    return "".join(value.split()).upper()


def _birth_date(id_number: str, field: str) -> date:
    digits = id_number[6:14]  # GB 11643-1999 §4.2: 出生日期码 YYYYMMDD at positions 7–14
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise FieldValidationError(field, f"birth date {digits} is not a real calendar date") from None


def validate_resident_id(value: str, *, today: date, field: str = "holder_id_number") -> str:
    """Check an 18-character 公民身份号码 (GB 11643-1999) and return it normalised.

    Spaces are removed and a lowercase ``x`` becomes ``X``. Checked: the layout (17 digits and a
    digit or ``X``), the birth date (a real date, not before 1900-01-01, not after ``today``) and
    the ISO 7064 MOD 11-2 check character. 15-digit numbers from before 1999 are refused.
    Raises :class:`FieldValidationError` with ``field`` on the first problem found.
    """
    if not isinstance(value, str):
        raise FieldValidationError(field, "must be text")
    number = _normalise_code(value)
    if not number:
        raise FieldValidationError(field, "is empty")
    if len(number) == 15 and number.isascii() and number.isdigit():
        raise FieldValidationError(
            field, "15-digit numbers from before GB 11643-1999 are not accepted; give the 18-character number"
        )
    if len(number) != 18:
        raise FieldValidationError(field, f"must be 18 characters, got {len(number)}")
    if not number.isascii() or not _RESIDENT_ID_LAYOUT.fullmatch(number):
        raise FieldValidationError(
            field, "the first 17 characters must be digits and the last a digit or X"
        )
    born = _birth_date(number, field)
    if born < _EARLIEST_BIRTH_DATE:
        raise FieldValidationError(field, f"birth date {born.isoformat()} is before 1900-01-01")
    if born > today:
        raise FieldValidationError(
            field, f"birth date {born.isoformat()} is in the future (today is {today.isoformat()})"
        )
    expected = resident_id_check_character(number[:17])
    if number[17] != expected:
        raise FieldValidationError(field, f"check digit is {number[17]}, expected {expected}")
    return number


def birth_date_of(id_number: str) -> date:
    """The birth date coded in positions 7–14 of a 公民身份号码 (GB 11643-1999 §4.2).

    Meant for numbers already accepted by :func:`validate_resident_id`; a number whose layout or
    date is unreadable raises :class:`FieldValidationError` for ``holder_id_number``.
    """
    number = _normalise_code(id_number)
    if len(number) != 18 or not number.isascii() or not _RESIDENT_ID_LAYOUT.fullmatch(number):
        raise FieldValidationError("holder_id_number", "is not an 18-character resident ID number")
    return _birth_date(number, "holder_id_number")


def sex_of(id_number: str) -> Sex:
    """The holder's sex from the sequence code (GB 11643-1999 §4.3: odd = male, even = female)."""
    number = _normalise_code(id_number)
    if len(number) != 18 or not number.isascii() or not _RESIDENT_ID_LAYOUT.fullmatch(number):
        raise FieldValidationError("holder_id_number", "is not an 18-character resident ID number")
    return Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE


# --- GB 32100-2015 统一社会信用代码 ----------------------------------------------------------------

# GB 32100-2015 §4.1: 31 characters, no I, O, S, V or Z; values 0–30 in this order.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
# GB 32100-2015 Annex: weight of position i (1-based) is 3^(i-1) mod 31.
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714-1997: weights of the 8 body characters of the organisation code.
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
        raise ValueError("the check character is computed over 17 characters of the USCC alphabet")
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    # The outer "mod 31" maps a sum ≡ 0 to the character 0 instead of an out-of-range 31.
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str, *, field: str = "uscc", legacy_codes: Collection[str] = ()) -> str:
    """Check a 统一社会信用代码 (GB 32100-2015) and return it normalised (spaces removed, upper case).

    Checked: 18 characters from the GB 32100 alphabet (digits and capitals without I, O, S, V, Z)
    and the check character. Some codes issued in early pilots are real but fail the check
    (reference/cn-standards.md §3.2); list them in ``legacy_codes`` to accept them after the
    layout check. Raises :class:`FieldValidationError` with ``field``.
    """
    if not isinstance(value, str):
        raise FieldValidationError(field, "must be text")
    code = _normalise_code(value)
    if not code:
        raise FieldValidationError(field, "is empty")
    if len(code) != 18:
        raise FieldValidationError(field, f"must be 18 characters, got {len(code)}")
    bad = sorted({c for c in code if c not in _USCC_VALUES})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise FieldValidationError(
            field, f"contains {shown}; only digits and capital letters other than I, O, S, V, Z are allowed"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected and code not in legacy_codes:
        raise FieldValidationError(field, f"check character is {code[17]}, expected {expected}")
    return code


def organization_code_check_character(body8: str) -> str:
    """The GB 11714-1997 check character for the 8-character body of an organisation code.

    In a USCC the organisation code sits at positions 9–17 (GB 32100-2015 §4.1), so
    ``organization_code_check_character(uscc[8:16]) == uscc[16]`` holds for codes derived from one.
    """
    if len(body8) != 8 or not re.fullmatch(r"[0-9A-Z]{8}", body8):
        raise ValueError("the organisation code body is 8 digits or capital letters")
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def has_valid_organization_code(uscc: str) -> bool:
    """Whether positions 9–17 of ``uscc`` carry a valid GB 11714 check. Informative only.

    GB 32100 does not require it and some registration authorities assign 主体标识码 that do not
    follow GB 11714, so Yinxin never rejects a code on this ground.
    """
    body, check = uscc[8:16], uscc[16:17]
    if len(body) != 8 or not re.fullmatch(r"[0-9A-Z]{8}", body):
        return False
    return organization_code_check_character(body) == check


# --- GB/T 36904-2018 电子证照标识 ------------------------------------------------------------------

LICENSE_IDENTIFIER_ROOT = "1.2.156.3005.2"
"""电子证照根代码 (GB/T 36904-2018): the fixed first part of every e-licence identifier."""

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SERIAL = re.compile(r"[0-9A-Z]{1,32}")
_MAX_IDENTIFIER_LENGTH = 128  # the longest valid identifier is 93 characters


def mod37_36_check_character(s: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid) check character over ``s`` (GB/T 36904 校验位).

    ``s`` is the type code, issuer code, serial and 3-digit version run together without dots.
    """
    if not s or not re.fullmatch(r"[0-9A-Z]+", s):
        raise ValueError("the check character is computed over digits and capital letters")
    product = 36
    for c in s:
        total = (product + int(c, 36)) % 36 or 36
        product = (2 * total) % 37
    return _BASE36[(37 - product) % 36]


def _check_embedded_uscc(code: str, part: str) -> None:
    # Inside an identifier the USCC is taken verbatim: no spaces, no lower case.
    try:
        normalised = validate_uscc(code, field="identifier")
    except FieldValidationError as exc:
        raise FieldValidationError("identifier", f"{part} {exc.reason}") from None
    if normalised != code:
        raise FieldValidationError("identifier", f"{part} must be written in capitals without spaces")


def _check_type_code(type_code: object) -> None:
    # GB/T 36904: 证照类型代码 = USCC of the 证照定义机构 (18) + 3-digit sequence.
    if not isinstance(type_code, str) or len(type_code) != 21:
        raise FieldValidationError("identifier", "type code must be 21 characters (definer USCC + 3 digits)")
    if not re.fullmatch(r"[0-9]{3}", type_code[18:]):
        raise FieldValidationError("identifier", "type code must end in 3 digits")
    _check_embedded_uscc(type_code[:18], "type code definer USCC")


def _check_issuer_code(issuer_code: object) -> None:
    if not isinstance(issuer_code, str) or len(issuer_code) != 18:
        raise FieldValidationError("identifier", "issuer code must be an 18-character USCC")
    _check_embedded_uscc(issuer_code, "issuer code")


def _check_serial(serial: object) -> None:
    if not isinstance(serial, str) or not _SERIAL.fullmatch(serial):
        raise FieldValidationError("identifier", "serial must be 1 to 32 digits or capital letters A-Z")


def _check_version(version: object) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 999:
        raise FieldValidationError("identifier", "version must be a whole number from 1 to 999")


@dataclass(frozen=True)
class LicenseIdentifier:
    """A GB/T 36904-2018 电子证照标识.

    Text form: ``1.2.156.3005.2.<type_code>.<issuer_code>.<serial>.<version:03d>.<check>``.
    Every instance is valid: the constructor checks each part and raises
    :class:`FieldValidationError` (field ``identifier``) naming the part that is wrong.
    """

    type_code: str
    """证照类型代码: the 18-character USCC of the defining authority plus a 3-digit sequence."""
    issuer_code: str
    """证照颁发机构代码: the 18-character USCC of the issuing authority."""
    serial: str
    """流水号: 1–32 characters from 0-9A-Z, chosen by the issuer."""
    version: int
    """版本号: 1–999, printed as 3 digits; bumped on amendment or re-issue."""

    def __post_init__(self) -> None:
        _check_type_code(self.type_code)
        _check_issuer_code(self.issuer_code)
        _check_serial(self.serial)
        _check_version(self.version)

    @classmethod
    def compose(cls, *, type_code: str, issuer_code: str, serial: str, version: int = 1) -> LicenseIdentifier:
        """Build an identifier from its parts; raises :class:`FieldValidationError` naming a bad part."""
        return cls(type_code=type_code, issuer_code=issuer_code, serial=serial, version=version)

    @property
    def check_character(self) -> str:
        """校验位: ISO 7064 MOD 37,36 over type code, issuer code, serial and version (no dots)."""
        return mod37_36_check_character(f"{self.type_code}{self.issuer_code}{self.serial}{self.version:03d}")

    def __str__(self) -> str:
        return (
            f"{LICENSE_IDENTIFIER_ROOT}.{self.type_code}.{self.issuer_code}."
            f"{self.serial}.{self.version:03d}.{self.check_character}"
        )

    @classmethod
    def parse(cls, text: str) -> LicenseIdentifier:
        """Parse and fully check the text form; raises :class:`FieldValidationError` naming the bad part."""
        if not isinstance(text, str):
            raise FieldValidationError("identifier", "must be text")
        text = text.strip()
        if len(text) > _MAX_IDENTIFIER_LENGTH:
            raise FieldValidationError("identifier", f"is too long ({len(text)} characters)")
        prefix = LICENSE_IDENTIFIER_ROOT + "."
        if not text.startswith(prefix):
            raise FieldValidationError(
                "identifier", f"must start with the root code {LICENSE_IDENTIFIER_ROOT}"
            )
        parts = text[len(prefix):].split(".")
        if len(parts) != 5:
            raise FieldValidationError(
                "identifier",
                "must have 5 parts after the root: type code, issuer code, serial, version, check character",
            )
        type_code, issuer_code, serial, version_text, check = parts
        if not re.fullmatch(r"[0-9]{3}", version_text):
            raise FieldValidationError("identifier", "version must be 3 digits")
        identifier = cls(
            type_code=type_code, issuer_code=issuer_code, serial=serial, version=int(version_text)
        )
        if len(check) != 1 or check not in _BASE36:
            raise FieldValidationError("identifier", "check character must be one digit or capital letter")
        expected = identifier.check_character
        if check != expected:
            raise FieldValidationError("identifier", f"check character is {check}, expected {expected}")
        return identifier

    def next_version(self) -> LicenseIdentifier:
        """The identifier of the amended or re-issued licence: same parts, version + 1."""
        if self.version >= 999:
            raise FieldValidationError("identifier", "version 999 is the last; issue a new serial instead")
        return LicenseIdentifier(
            type_code=self.type_code,
            issuer_code=self.issuer_code,
            serial=self.serial,
            version=self.version + 1,
        )


def new_serial() -> str:
    """A fresh 20-character 流水号 from 0-9A-Z, drawn with :mod:`secrets` (about 103 bits)."""
    return "".join(secrets.choice(_BASE36) for _ in range(20))
