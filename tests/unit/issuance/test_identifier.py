"""GB 11643 resident ID numbers, GB 32100 USCCs and GB/T 36904 e-licence identifiers.

Vectors come from reference/cn-standards.md §2.2, §3.1 and §3.2. Numbers built for boundary tests get
their check characters from the test's own helpers, which use the "whole weighted sum" form of each
check (a different formulation from the code under test).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from issuance.errors import FieldValidationError
from issuance.identifier import (
    LicenseIdentifier,
    Sex,
    birth_date_of,
    has_valid_organization_code,
    mod37_36_check_character,
    new_serial,
    organization_code_check_character,
    resident_id_check_character,
    sex_of,
    uscc_check_character,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2026, 5, 20)

# --- independent helpers --------------------------------------------------------------------------


def complete_resident_id(first17: str) -> str:
    """Append the character that makes the weighted sum over all 18 positions ≡ 1 (mod 11)."""
    for check, value in [*((str(d), d) for d in range(10)), ("X", 10)]:
        full = first17 + check
        values = [int(c) for c in first17] + [value]
        if sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1:
            return full
    raise AssertionError("no check character fits")


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_sum_is_zero(code: str) -> bool:
    """GB 32100: Σ value×3^(i-1) over positions 1–17 plus the check value ≡ 0 (mod 31)."""
    values = [USCC_CHARS.index(c) for c in code]
    return (sum(v * pow(3, i, 31) for i, v in enumerate(values[:17])) + values[17]) % 31 == 0


# --- GB 11643-1999 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44052418800101001", "4")],
    ids=["standard-example", "reference-1880"],
)
def test_resident_id_check_character_matches_reference(first17, check):
    assert resident_id_check_character(first17) == check
    assert complete_resident_id(first17)[-1] == check


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 110105 19491231 002x ", "11010519491231002X"),
    ],
    ids=["canonical", "lowercase-x", "spaces"],
)
def test_validate_resident_id_accepts_and_normalises(value, expected):
    assert validate_resident_id(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("11010519491231002", "must be 18 characters, got 17"),
        ("11010519491231002X1", "must be 18 characters, got 19"),
        ("110105491231002", "15-digit numbers"),
        ("11010519491231A02X", "first 17 characters must be digits"),
        ("1101051949123100XX", "first 17 characters must be digits"),
        ("１１0105194912310021", "first 17 characters must be digits"),
        ("110105194912310021", "check digit is 1, expected X"),
        ("110105194912310020", "check digit is 0, expected X"),
        ("440524188001010014", "birth date 1880-01-01 is before 1900-01-01"),
        ("110105194902310021", "birth date 19490231 is not a real calendar date"),
        ("110105194913010021", "birth date 19491301 is not a real calendar date"),
        ("110105202605210021", "birth date 2026-05-21 is in the future (today is 2026-05-20)"),
    ],
    ids=[
        "empty", "blank", "too-short", "too-long", "legacy-15-digit", "letter-inside", "x-inside",
        "fullwidth-digit", "wrong-check-1", "wrong-check-0", "born-1880", "feb-31", "month-13",
        "born-tomorrow",
    ],
)
def test_validate_resident_id_rejects_with_reason(value, message):
    with pytest.raises(FieldValidationError) as info:
        validate_resident_id(value, today=TODAY)
    assert info.value.field == "holder_id_number"
    assert message in info.value.reason


def test_validate_resident_id_names_the_callers_field():
    with pytest.raises(FieldValidationError) as info:
        validate_resident_id("110105194912310021", today=TODAY, field="applicant_id")
    assert info.value.field == "applicant_id"
    assert str(info.value) == "applicant_id: check digit is 1, expected X"


@pytest.mark.parametrize(
    ("born", "accepted"),
    [
        (TODAY, True),
        (TODAY + timedelta(days=1), False),
        (date(1900, 1, 1), True),
        (date(1899, 12, 31), False),
        (date(2024, 2, 29), True),
    ],
    ids=["born-today", "born-tomorrow", "first-day-1900", "last-day-1899", "leap-day"],
)
def test_resident_id_birth_date_boundaries(born, accepted):
    number = complete_resident_id(f"110105{born:%Y%m%d}003")
    if accepted:
        assert validate_resident_id(number, today=TODAY) == number
        assert birth_date_of(number) == born
    else:
        with pytest.raises(FieldValidationError, match="birth date"):
            validate_resident_id(number, today=TODAY)


@pytest.mark.parametrize(
    ("number", "born", "sex"),
    [
        ("11010519491231002X", date(1949, 12, 31), Sex.FEMALE),
        ("440524188001010014", date(1880, 1, 1), Sex.MALE),
        ("11010519491231002x", date(1949, 12, 31), Sex.FEMALE),
    ],
    ids=["standard-example", "reference-1880", "lowercase"],
)
def test_birth_date_and_sex_are_read_from_the_number(number, born, sex):
    assert birth_date_of(number) == born
    assert sex_of(number) is sex


@pytest.mark.parametrize("sequence", ["001", "003", "015", "999"])
def test_odd_sequence_is_male(sequence):
    assert sex_of(complete_resident_id(f"11010519800101{sequence}")) is Sex.MALE


@pytest.mark.parametrize("sequence", ["000", "002", "010", "998"])
def test_even_sequence_is_female(sequence):
    assert sex_of(complete_resident_id(f"11010519800101{sequence}")) is Sex.FEMALE


@pytest.mark.parametrize("bad", ["110105491231002", "1101051949123100", "ABCDEFGHIJKLMNOPQR"])
def test_birth_date_of_refuses_malformed_numbers(bad):
    with pytest.raises(FieldValidationError):
        birth_date_of(bad)
    with pytest.raises(FieldValidationError):
        sex_of(bad)


# --- GB 32100-2015 -----------------------------------------------------------------------------------

VALID_USCCS = [
    "91350100M000100Y43",
    "11100000000013338W",
    "11430000006122244L",
    "11220000013544541J",
    "11330105002500287C",
    "91110000MA00000240",
]


@pytest.mark.parametrize("code", VALID_USCCS, ids=VALID_USCCS)
def test_validate_uscc_accepts_valid_codes(code):
    assert uscc_sum_is_zero(code)
    assert uscc_check_character(code[:17]) == code[17]
    assert validate_uscc(code) == code


def test_check_character_zero_is_not_31():
    # Σ ≡ 0 (mod 31) must give "0"; an implementation without the final mod 31 overflows here.
    assert uscc_check_character("91110000MA0000024") == "0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("91350100m000100y43", "91350100M000100Y43"), (" 9135 0100 M000 100Y 43 ", "91350100M000100Y43")],
    ids=["lowercase", "spaces"],
)
def test_validate_uscc_normalises(value, expected):
    assert validate_uscc(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        ("91350100M000100Y4", "must be 18 characters, got 17"),
        ("91350100M000100Y433", "must be 18 characters, got 19"),
        ("91350100M000100Y44", "check character is 4, expected 3"),
        ("91350100M000100Y4I", "contains 'I'"),
        ("9135O100M000100Y43", "contains 'O'"),
        ("91350100M00S100Y43", "contains 'S'"),
        ("91350100M000100V43", "contains 'V'"),
        ("9135010ZM000100Y43", "contains 'Z'"),
        ("91350100M000100Y4-", "contains '-'"),
        ("91350100M0001TGQXM", "check character is M, expected"),
        ("91350211M0000XUF46", "check character is 6, expected"),
        ("91350203M0001FUE2P", "check character is P, expected"),
    ],
    ids=[
        "empty", "short", "long", "wrong-check", "letter-I", "letter-O", "letter-S", "letter-V", "letter-Z",
        "dash", "legacy-TGQXM", "legacy-XUF46", "legacy-FUE2P",
    ],
)
def test_validate_uscc_rejects_with_reason(value, message):
    with pytest.raises(FieldValidationError) as info:
        validate_uscc(value, field="issuer_uscc")
    assert info.value.field == "issuer_uscc"
    assert message in info.value.reason


def test_legacy_override_list_accepts_a_listed_pilot_code_only():
    legacy = {"91350100M0001TGQXM"}
    assert validate_uscc("91350100M0001TGQXM", legacy_codes=legacy) == "91350100M0001TGQXM"
    with pytest.raises(FieldValidationError, match="check character"):
        validate_uscc("91350211M0000XUF46", legacy_codes=legacy)
    with pytest.raises(FieldValidationError, match="contains"):
        validate_uscc("91350100M0001TGQXI", legacy_codes={"91350100M0001TGQXI"})


@pytest.mark.parametrize(
    ("code", "valid"),
    [("91350100M000100Y43", True), ("11100000000013338W", True), ("91350100M000100Y53", False)],
    ids=["reference-1", "reference-2", "altered"],
)
def test_inner_gb11714_check(code, valid):
    assert has_valid_organization_code(code) is valid
    if valid:
        assert organization_code_check_character(code[8:16]) == code[16]


# --- GB/T 36904-2018 e-licence identifier ------------------------------------------------------------

# §2.2 shows these real identifiers with the type code cut to "…W011", "…W032" and "…W009". §2.2 also
# gives 11100000000013338W032 in full (住建部 11100000000013338W + 032); the same 住建部 prefix
# reproduces the published check characters of all three (a wrong prefix would match each by chance
# with probability 1/36), so the vectors below use it. The fourth example ("…MB03271699022.340100…")
# does not follow the layout and cannot be reconstructed, so it is not used.
REAL_IDENTIFIERS = [
    ("11100000000013338W011", "11430000006122244L", "20230000403", 1, "U"),
    ("11100000000013338W032", "11220000013544541J", "2430599", 1, "F"),
    ("11100000000013338W009", "11330105002500287C", "2025052201", 2, "0"),
]


@pytest.mark.parametrize(("type_code", "issuer", "serial", "version", "check"), REAL_IDENTIFIERS)
def test_mod37_36_matches_real_identifiers(type_code, issuer, serial, version, check):
    assert mod37_36_check_character(f"{type_code}{issuer}{serial}{version:03d}") == check


@pytest.mark.parametrize(("type_code", "issuer", "serial", "version", "check"), REAL_IDENTIFIERS)
def test_parse_real_identifiers_round_trip(type_code, issuer, serial, version, check):
    text = f"1.2.156.3005.2.{type_code}.{issuer}.{serial}.{version:03d}.{check}"
    identifier = LicenseIdentifier.parse(text)
    assert identifier == LicenseIdentifier(
        type_code=type_code, issuer_code=issuer, serial=serial, version=version
    )
    assert identifier.check_character == check
    assert str(identifier) == text


def test_every_single_character_substitution_changes_the_check():
    payload = "11100000000013338W011" + "11430000006122244L" + "20230000403" + "001"
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for i, original in enumerate(payload):
        for replacement in alphabet:
            if replacement != original:
                altered = payload[:i] + replacement + payload[i + 1:]
                assert mod37_36_check_character(altered) != "U", (i, replacement)


GOOD = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD[:-1] + "V", "check character is V, expected U"),
        (GOOD.replace("20230000403", "20230000404"), "check character is U, expected"),
        (GOOD.replace(".001.", ".002."), "check character is U, expected"),
        (GOOD[:-1] + "u", "check character must be one digit or capital letter"),
        (GOOD[:-1] + "UU", "check character must be one digit or capital letter"),
        (GOOD.replace("1.2.156.3005.2.", "1.2.156.3005.3."), "must start with the root code 1.2.156.3005.2"),
        (GOOD.replace(".001.U", ".U"), "must have 5 parts"),
        (GOOD + ".X", "must have 5 parts"),
        (GOOD.replace(".001.", ".01."), "version must be 3 digits"),
        (GOOD.replace(".001.", ".0001."), "version must be 3 digits"),
        (GOOD.replace(".001.", ".000."), "version must be a whole number from 1 to 999"),
        (GOOD.replace("W011", "W11"), "type code must be 21 characters"),
        (GOOD.replace("W011", "W01A"), "type code must end in 3 digits"),
        (GOOD.replace("13338W011", "13338X011"), "type code definer USCC check character is X, expected W"),
        (GOOD.replace("13338W011", "13338w011"), "type code definer USCC must be written in capitals"),
        (GOOD.replace("6122244L", "6122244M"), "issuer code check character is M, expected L"),
        (GOOD.replace("6122244L", "612224L"), "issuer code must be an 18-character USCC"),
        (GOOD.replace("11430000006122244L", "1143000000612224IL"), "issuer code contains 'I'"),
        (GOOD.replace("20230000403", "2023.0000403"), "must have 5 parts"),
        (GOOD.replace("20230000403", "2023-0000403"), "serial must be 1 to 32 digits or capital letters"),
        (GOOD.replace("20230000403", "2023_0000403"), "serial must be 1 to 32 digits or capital letters"),
        (GOOD.replace("20230000403", "2023000040a"), "serial must be 1 to 32 digits or capital letters"),
        (GOOD.replace("20230000403", "A" * 33), "serial must be 1 to 32"),
        (GOOD.replace(".20230000403.", ".."), "serial must be 1 to 32"),
        ("", "must start with the root code"),
        (GOOD + "0" * 200, "is too long"),
    ],
    ids=[
        "wrong-check", "serial-changed", "version-changed", "lowercase-check", "two-char-check", "wrong-root",
        "missing-part", "extra-part", "version-2-digits", "version-4-digits", "version-zero",
        "type-code-short", "type-code-letter-suffix", "definer-bad-check", "definer-lowercase",
        "issuer-bad-check", "issuer-short", "issuer-letter-I", "serial-with-dot", "serial-dash",
        "serial-underscore", "serial-lowercase", "serial-33", "serial-empty", "empty", "too-long",
    ],
)
def test_parse_rejects_and_names_the_part(text, message):
    with pytest.raises(FieldValidationError) as info:
        LicenseIdentifier.parse(text)
    assert info.value.field == "identifier"
    assert message in info.value.reason


def test_parse_tolerates_surrounding_whitespace_only():
    assert str(LicenseIdentifier.parse(f"  {GOOD}\n")) == GOOD


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"version": 0}, "version must be a whole number from 1 to 999"),
        ({"version": 1000}, "version must be a whole number from 1 to 999"),
        ({"version": True}, "version must be a whole number"),
        ({"serial": ""}, "serial must be 1 to 32"),
        ({"serial": "ab"}, "serial must be 1 to 32"),
        ({"issuer_code": "91350100M0001TGQXM"}, "issuer code check character is M"),
        ({"type_code": "11100000000013338W"}, "type code must be 21 characters"),
    ],
    ids=["version-0", "version-1000", "version-bool", "serial-empty", "serial-lowercase", "issuer-legacy",
         "type-code-without-sequence"],
)
def test_compose_validates_parts(parts, message):
    arguments = {
        "type_code": "11100000000013338W011",
        "issuer_code": "11430000006122244L",
        "serial": "20230000403",
        "version": 1,
    } | parts
    with pytest.raises(FieldValidationError) as info:
        LicenseIdentifier.compose(**arguments)
    assert info.value.field == "identifier"
    assert message in info.value.reason


def test_compose_version_boundaries_and_formatting():
    low = LicenseIdentifier.compose(
        type_code="11100000000013338W011", issuer_code="11430000006122244L", serial="X", version=1
    )
    high = LicenseIdentifier.compose(
        type_code="11100000000013338W011", issuer_code="11430000006122244L", serial="Z" * 32, version=999
    )
    assert str(low).split(".")[-2] == "001"
    assert str(high).split(".")[-2] == "999"
    assert LicenseIdentifier.parse(str(high)) == high


def test_next_version_keeps_serial_and_changes_check():
    first = LicenseIdentifier.parse(GOOD)
    second = first.next_version()
    assert (second.type_code, second.issuer_code, second.serial, second.version) == (
        first.type_code, first.issuer_code, first.serial, 2,
    )
    assert str(second) != str(first)
    assert LicenseIdentifier.parse(str(second)) == second
    last = LicenseIdentifier.compose(
        type_code=first.type_code, issuer_code=first.issuer_code, serial=first.serial, version=999
    )
    with pytest.raises(FieldValidationError, match="999"):
        last.next_version()


def test_new_serial_is_20_random_base36_characters():
    serials = {new_serial() for _ in range(200)}
    assert len(serials) == 200
    for serial in serials:
        assert re.fullmatch(r"[0-9A-Z]{20}", serial)
    # All 36 characters turn up across 4,000 draws; a digits-only or letters-only generator would not.
    assert set("".join(serials)) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_new_serial_makes_a_parseable_identifier():
    identifier = LicenseIdentifier.compose(
        type_code="11100000000013338W032", issuer_code="11220000013544541J", serial=new_serial()
    )
    assert identifier.version == 1
    assert LicenseIdentifier.parse(str(identifier)) == identifier
