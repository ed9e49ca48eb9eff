"""Privacy at rest: a dump of the database reveals no holder ID number; holders are found through the
keyed blind index; without the data key, or with another home's, the registry says so."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from issuance.identifier import LicenseIdentifier, new_serial, resident_id_check_character
from registry import (
    DataKeyError,
    DataKeyRequiredError,
    FieldCipher,
    LicenseRecord,
    Registry,
)

DEPT_USCC = "113300000024821886"
OTHER_USCC = "91330106MA27XF9B49"
PERSON_TYPE = "11100000000013127D002"


def resident_id(n: int) -> str:
    """A well-formed 公民身份号码 (GB 11643) for person ``n``."""
    first17 = "330106" + (date(1980, 1, 1) + timedelta(days=97 * n)).strftime("%Y%m%d") + f"{n % 1000:03d}"
    return first17 + resident_id_check_character(first17)


@pytest.fixture
def person_type(registry: Registry, license_type: Any) -> str:
    registry.ensure_license_types([(PERSON_TYPE, "resident-id", "居民身份证", "11100000000013127D", "公安部", "111")])
    return PERSON_TYPE


@pytest.fixture
def issue_to_person(registry: Registry, seal: Any, person_type: str, clock: Any):
    def issue(id_number: str, name: str, *, target: Registry | None = None) -> LicenseRecord:
        serial = new_serial()
        identifier = LicenseIdentifier.compose(type_code=PERSON_TYPE, issuer_code=DEPT_USCC, serial=serial)
        return (target or registry).add_license(
            identifier=str(identifier), type_code=PERSON_TYPE, department_uscc=DEPT_USCC, seal_id=seal.seal_id,
            serial=serial, version=1, holder_name=name, holder_code=id_number,
            fields={"name": name, "holder_id_number": id_number, "address": "浙江省杭州市西湖区文三路"},
            status="active", issued_at=clock(), valid_from=date(2025, 3, 1), valid_until=date(2045, 3, 1),
            qr_text="YX1:" + id_number[:6] + "********" + id_number[-4:],
            pdf=b"%PDF-1.7\n(" + id_number.encode() + b")\n%%EOF\n",
        )

    return issue


def dump_text(engine: Engine, backend: str, tmp_path: Any) -> str:
    """Everything the database holds, as plain text, the way an operator would dump it."""
    if backend == "sqlite":
        connection = sqlite3.connect(str(engine.url.database))
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()
    url = engine.url
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    completed = subprocess.run(
        ["pg_dump", "--data-only", f"--schema={schema}", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
         "-U", url.username or "postgres", url.database or "test"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return completed.stdout


def assert_not_revealed(dump: str, secret: str) -> None:
    raw = secret.encode()
    for form in (secret, raw.hex(), raw.hex().upper()):
        assert form not in dump, f"the dump reveals {secret[:4]}… as {form[:12]}…"


def test_a_dump_of_the_database_reveals_no_holder_id_number(
    registry, engine, backend, tmp_path, issue_to_person, make_license
):
    people = [(resident_id(n), f"张{chr(0x4E00 + 37 * n)}{chr(0x4E00 + 53 * n)}") for n in range(1, 13)]
    issued = [issue_to_person(code, name) for code, name in people]
    # Lifecycle, a new version and an import leave rows in every table that mentions a licence.
    registry.set_license_status(issued[0].identifier, status="suspended", action="suspend", actor="dept",
                                reason="证件挂失")
    registry.add_license_version(
        issued[1].identifier, identifier=str(LicenseIdentifier.parse(issued[1].identifier).next_version()),
        action="amend", actor="dept", reason="地址变更", seal_id=issued[1].seal_id,
        holder_name=people[1][1], holder_code=people[1][0], fields={"holder_id_number": people[1][0]},
        issued_at=issued[1].issued_at, valid_from=None, valid_until=None, qr_text="YX1:AMENDED", pdf=b"%PDF-new",
    )
    job = "ab" * 32
    registry.start_import(job, file_name="people.csv", total_rows=1)
    registry.record_import_row(job, 1, identifier=issued[2].identifier)
    make_license()  # a legal person's licence too

    dump = dump_text(engine, backend, tmp_path)
    # The dump is real and complete: clear-text columns are there.
    assert issued[0].identifier in dump
    assert DEPT_USCC in dump
    assert "people.csv" in dump
    for code, name in people:
        assert_not_revealed(dump, code)
        assert_not_revealed(dump, name)
    assert_not_revealed(dump, OTHER_USCC)  # the company holder's code
    assert_not_revealed(dump, "文三路")  # a field value


def test_blind_index_finds_exactly_the_holders_licences(registry, issue_to_person, make_license):
    alice, bob = resident_id(1), resident_id(2)
    alices = [issue_to_person(alice, "李四") for _ in range(3)]
    bobs = [issue_to_person(bob, "王五")]
    company = make_license()

    def found(**query: Any) -> list[str]:
        return [r.identifier for r in registry.find_licenses(**query)]

    assert found(holder_code=alice, holder_code_type="111") == [r.identifier for r in reversed(alices)]
    assert found(holder_code=bob, holder_code_type="111") == [bobs[0].identifier]
    # Typed with spaces and a lowercase x, as people do.
    assert found(holder_code=" ".join([alice[:6], alice[6:14], alice[14:].lower()]), holder_code_type="111") == \
        found(holder_code=alice, holder_code_type="111")
    assert found(holder_code=alice, holder_code_type="111", type_code=PERSON_TYPE, department_uscc=DEPT_USCC) \
        == found(holder_code=alice, holder_code_type="111")
    assert found(holder_code=alice, holder_code_type="111", type_code=company.type_code) == []
    # The code type is part of the index: an ID number is not found as a USCC.
    assert found(holder_code=alice, holder_code_type="001") == []
    assert found(holder_code=OTHER_USCC, holder_code_type="001") == [company.identifier]
    assert found(holder_code=resident_id(3), holder_code_type="111") == []
    # Records carry the decrypted personal data, but listings never the PDF.
    (record,) = registry.find_licenses(holder_code=bob, holder_code_type="111")
    assert (record.holder_code, record.holder_name, record.holder_code_type) == (bob, "王五", "111")
    assert record.fields["holder_id_number"] == bob
    with pytest.raises(Exception, match="listings do not carry the PDF"):
        _ = record.pdf
    assert registry.get_license(record.identifier).pdf.startswith(b"%PDF")
    # list_licenses(holder_code=…) goes through the same index, for either code type.
    assert [r.identifier for r in registry.list_licenses(holder_code=bob)] == [bobs[0].identifier]


def test_superseded_versions_are_left_out_of_holder_lookups_unless_asked(registry, issue_to_person):
    code = resident_id(4)
    first = issue_to_person(code, "赵六")
    second = registry.add_license_version(
        first.identifier, identifier=str(LicenseIdentifier.parse(first.identifier).next_version()),
        action="reissue", actor="dept", reason="补发", seal_id=first.seal_id, holder_name="赵六", holder_code=code,
        fields=dict(first.fields), issued_at=first.issued_at, valid_from=first.valid_from,
        valid_until=first.valid_until, qr_text="YX1:NEW", pdf=b"%PDF-2",
    )
    assert [r.identifier for r in registry.find_licenses(holder_code=code, holder_code_type="111")] == \
        [second.identifier]
    assert [r.identifier for r in registry.find_licenses(holder_code=code, holder_code_type="111",
                                                         include_superseded=True)] == \
        [second.identifier, first.identifier]


def test_without_the_data_key_status_and_listings_work_but_personal_data_does_not(
    registry, engine, clock, cipher, issue_to_person
):
    record = issue_to_person(resident_id(5), "孙七")
    keyless = Registry(engine, clock=clock)
    assert not keyless.has_data_key
    found = keyless.get_license(record.identifier)
    assert (found.identifier, found.status, found.holder_code_type) == (record.identifier, "active", "111")
    assert not found.has_personal_data
    for attribute in ("holder_name", "holder_code", "fields", "qr_text", "pdf"):
        with pytest.raises(DataKeyRequiredError, match="YINXIN_PASSPHRASE"):
            getattr(found, attribute)
    assert [r.identifier for r in keyless.list_licenses()] == [record.identifier]
    assert keyless.license_status(record.identifier) == "active"
    changed = keyless.set_license_status(record.identifier, status="suspended", action="suspend", actor="dept",
                                         reason="核查")
    assert changed.status == "suspended"
    with pytest.raises(DataKeyRequiredError):
        keyless.find_licenses(holder_code=resident_id(5), holder_code_type="111")
    with pytest.raises(DataKeyRequiredError):
        keyless.list_licenses(holder_code=resident_id(5))
    with pytest.raises(DataKeyRequiredError):
        issue_to_person(resident_id(6), "周八", target=keyless)
    assert len(registry.list_licenses()) == 1
    keyed = keyless.with_cipher(cipher)
    assert keyed.get_license(record.identifier).holder_name == "孙七"


def test_another_homes_key_is_refused_clearly(registry, engine, clock, issue_to_person):
    record = issue_to_person(resident_id(7), "吴九")
    stranger = Registry(engine, clock=clock, cipher=FieldCipher(b"\x01" * 32))
    with pytest.raises(DataKeyError, match="wrong passphrase or key store"):
        stranger.get_license(record.identifier)
    # A lookup with the wrong key is an error, not an empty answer.
    with pytest.raises(DataKeyError):
        stranger.find_licenses(holder_code=resident_id(7), holder_code_type="111")
    with pytest.raises(DataKeyError):
        stranger.check_data_key()
    with pytest.raises(DataKeyError):
        issue_to_person(resident_id(8), "郑十", target=stranger)
    assert [r.identifier for r in registry.list_licenses()] == [record.identifier]
    registry.check_data_key()


def test_ciphertexts_swapped_between_licences_do_not_open(registry, engine, issue_to_person):
    first = issue_to_person(resident_id(9), "冯一")
    second = issue_to_person(resident_id(10), "陈二")
    with engine.begin() as connection:
        rows = dict(connection.execute(text("SELECT identifier, holder_code_ciphertext FROM licenses")).all())
        connection.execute(text("UPDATE licenses SET holder_code_ciphertext = :c WHERE identifier = :i"),
                           {"c": rows[second.identifier], "i": first.identifier})
    with pytest.raises(DataKeyError, match="altered"):
        registry.get_license(first.identifier)
    assert registry.get_license(second.identifier).holder_code == resident_id(10)


def test_a_new_database_takes_the_first_key_it_is_given(engine, clock, cipher, issue_to_person):
    # Nothing written yet: reading with any key finds nothing and registers nothing.
    assert Registry(engine, clock=clock, cipher=FieldCipher(b"\x02" * 32)).list_licenses() == []
    Registry(engine, clock=clock, cipher=cipher).check_data_key()
    with pytest.raises(DataKeyError):
        Registry(engine, clock=clock, cipher=FieldCipher(b"\x02" * 32)).check_data_key()
