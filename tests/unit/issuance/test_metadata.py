"""GB/T 36903 licence metadata: built from a licence, written as XMP, carried as credential claims."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

import ca
from issuance.catalog import (
    BUSINESS_LICENCE,
    DRIVING_LICENCE,
    LONG_TERM,
    RESIDENT_ID_CARD,
    FieldKind,
    FieldSpec,
    HolderKind,
    LicenseType,
    ServiceItem,
    validate_fields,
)
from issuance.credential import CredentialClaims, issue_credential
from issuance.errors import FieldValidationError, IssuanceError
from issuance.identifier import LicenseIdentifier
from issuance.lifecycle import LicenseStatus
from issuance.metadata import (
    XMP_NAMESPACE,
    LicenseMetadata,
    build_metadata,
    jurisdiction_of,
    read_xmp_elements,
    validity_window,
)

TODAY = date(2026, 5, 20)
ISSUER = "11330100002500295Y"  # registered in area 330100 (杭州市)
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

ID_CARD = {
    "name": "李华", "sex": "女", "ethnicity": "汉", "birth_date": "1949-12-31", "address": "北京市朝阳区建国路1号",
    "holder_id_number": "11010519491231002X", "issuing_authority": "北京市公安局朝阳分局",
    "valid_from": "2010-01-01", "valid_until": LONG_TERM,
}
DRIVING = {
    "name": "王强", "sex": "男", "nationality": "中国", "address": "广东省潮州市湘桥区", "birth_date": "1980-01-01",
    "first_issue_date": "2000-06-01", "vehicle_class": "C1", "holder_id_number": "445102198001010018",
    "valid_from": "2022-06-01", "valid_until": "2032-06-01",
}
BUSINESS = {
    "uscc": "91350100M000100Y43", "name": "福州某某科技有限公司", "entity_type": "有限责任公司",
    "legal_representative": "陈明", "registered_capital": "100", "established": "2015-03-01",
    "business_term": LONG_TERM, "address": "福建省福州市鼓楼区", "business_scope": "软件开发。",
}

# A type with no number field of its own, no validity fields and a service item.
PERMIT = LicenseType(
    code="11100000YX0000016N021",
    name="特种作业操作证",
    short_name="special-operation",
    definer_name="应急管理部",
    definer_uscc="11100000YX0000016N",
    holder_kind=HolderKind.NATURAL_PERSON,
    fields=(
        FieldSpec(name="name", label="姓名", kind=FieldKind.TEXT, required=True),
        FieldSpec(name="id_number", label="身份证号", kind=FieldKind.RESIDENT_ID, required=True),
        FieldSpec(name="operation", label="作业类别", kind=FieldKind.TEXT, required=True),
    ),
    holder_name_field="name",
    holder_code_field="id_number",
    validity_years=6,
    face_title="中华人民共和国特种作业操作证",
    service_item=ServiceItem(name="特种作业操作证核发", code="000105001000"),
)
PERMIT_VALUES = {"name": "赵六", "id_number": "11010519491231002X", "operation": "电工作业"}
# The same with a number printed on it.
NUMBERED = LicenseType(**{
    **{name: getattr(PERMIT, name) for name in LicenseType.__dataclass_fields__},
    "fields": (*PERMIT.fields, FieldSpec(name="number", label="证号", kind=FieldKind.TEXT, required=True)),
    "number_field": "number",
})


def _identifier(license_type: LicenseType, *, serial: str = "7K3Q9X2M4B8N1R5T6W0Z", version: int = 1) -> str:
    return str(LicenseIdentifier.compose(
        type_code=license_type.code, issuer_code=ISSUER, serial=serial, version=version,
    ))


def _metadata(license_type: LicenseType, values: dict[str, str], **kwargs: object) -> LicenseMetadata:
    fields = validate_fields(license_type, values, today=TODAY)
    arguments: dict[str, object] = {
        "identifier": _identifier(license_type), "issuer_name": "杭州市公安局", "issue_date": TODAY,
    }
    arguments.update(kwargs)
    return build_metadata(license_type, fields, **arguments)  # type: ignore[arg-type]


# --- building ---------------------------------------------------------------------------------------


def test_driving_licence_metadata():
    md = _metadata(DRIVING_LICENCE, DRIVING)
    assert md.license_name == "中华人民共和国机动车驾驶证"
    assert md.type_name == "机动车驾驶证"
    assert md.type_code == DRIVING_LICENCE.code
    assert md.definer_name == "中华人民共和国公安部"
    assert md.definer_code == DRIVING_LICENCE.definer_uscc
    # the 证号 of a driving licence is the holder's ID number
    assert md.number == "445102198001010018"
    assert md.number_is_personal
    assert md.identifier == _identifier(DRIVING_LICENCE)
    assert (md.issuer_name, md.issuer_code, md.issue_date) == ("杭州市公安局", ISSUER, TODAY)
    assert md.jurisdiction_code == "330100"
    assert (md.holder_name, md.holder_code, md.holder_code_type) == ("王强", "445102198001010018",
                                                                      HolderKind.NATURAL_PERSON)
    assert (md.valid_from, md.valid_until) == (date(2022, 6, 1), date(2032, 6, 1))
    assert (md.version, md.status) == (1, LicenseStatus.ACTIVE)
    assert md.service_item_name is None and md.service_item_code is None


def test_business_licence_is_numbered_by_its_uscc_and_long_term():
    md = _metadata(BUSINESS_LICENCE, BUSINESS)
    assert md.number == "91350100M000100Y43" == md.holder_code
    assert md.holder_code_type is HolderKind.LEGAL_PERSON
    assert md.valid_from == date(2015, 3, 1)
    assert md.valid_until is None
    assert md.elements()["ZZYXQJZRQ"] == "长期"
    assert md.elements()["CZZTDMLXDM"] == "001"


def test_a_type_without_a_number_field_uses_the_serial_and_its_term():
    md = _metadata(PERMIT, PERMIT_VALUES)
    assert md.number == "7K3Q9X2M4B8N1R5T6W0Z"
    assert not md.number_is_personal
    # no validity fields: from the issue date, for the type's 6 years, to the same day
    assert (md.valid_from, md.valid_until) == (TODAY, date(2032, 5, 20))
    assert (md.service_item_name, md.service_item_code) == ("特种作业操作证核发", "000105001000")


def test_validity_window_on_29_february():
    assert validity_window(PERMIT, {}, issue_date=date(2028, 2, 29)) == (date(2028, 2, 29), date(2034, 2, 28))


def test_version_status_and_explicit_jurisdiction():
    md = _metadata(RESIDENT_ID_CARD, ID_CARD, identifier=_identifier(RESIDENT_ID_CARD, version=3),
                   status=LicenseStatus.SUSPENDED, jurisdiction_code="330106")
    assert (md.version, md.status, md.jurisdiction_code) == (3, LicenseStatus.SUSPENDED, "330106")
    assert md.elements()["BBH"] == "003"
    assert md.elements()["ZT"] == "suspended"


def test_jurisdiction_is_positions_3_to_8_of_the_uscc():
    assert jurisdiction_of("11330100002500295Y") == "330100"
    assert jurisdiction_of("91350100M000100Y43") == "350100"
    assert jurisdiction_of("11100000YX0000016N") == "100000"  # a central authority
    with pytest.raises(FieldValidationError):
        jurisdiction_of("11330100002500295X")


def test_an_identifier_of_another_type_is_refused():
    with pytest.raises(FieldValidationError) as info:
        _metadata(DRIVING_LICENCE, DRIVING, identifier=_identifier(RESIDENT_ID_CARD))
    assert info.value.field == "identifier"
    assert "not " + DRIVING_LICENCE.code in info.value.reason


def test_missing_holder_is_refused():
    with pytest.raises(FieldValidationError) as info:
        build_metadata(PERMIT, {"name": "赵六"}, identifier=_identifier(PERMIT), issuer_name="某局", issue_date=TODAY)
    assert info.value.field == "id_number"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"jurisdiction_code": "33010"}, "jurisdiction_code"),
        ({"version": 2}, "version"),
        ({"issuer_code": "91350100M000100Y43"}, "issuer_code"),
        ({"holder_code": "11010519491231002Y"}, "holder_code"),
        ({"holder_code": "11010519491231002x"}, "holder_code"),
        ({"holder_name": " 王强"}, "holder_name"),
        ({"issuer_name": "杭州\x00市"}, "issuer_name"),
        ({"valid_until": date(2022, 5, 31)}, "valid_until"),
        ({"issue_date": datetime(2026, 5, 20, tzinfo=UTC)}, "issue_date"),
        ({"service_item_code": "000105001000"}, "service_item_code"),
    ],
    ids=["jurisdiction", "version", "issuer", "holder-check", "holder-lowercase", "holder-name-space",
         "control-char", "ends-before-start", "datetime", "code-without-name"],
)
def test_inconsistent_metadata_is_refused(changes, field):
    md = _metadata(DRIVING_LICENCE, DRIVING)
    values = {name: getattr(md, name) for name in LicenseMetadata.__dataclass_fields__}
    values.update(changes)
    with pytest.raises(FieldValidationError) as info:
        LicenseMetadata(**values)
    assert info.value.field == field


# --- XMP ------------------------------------------------------------------------------------------


def test_xmp_is_a_well_formed_packet_with_every_element():
    md = _metadata(PERMIT, PERMIT_VALUES)
    packet = md.to_xmp()
    text = packet.decode("utf-8")
    assert text.startswith('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>')
    assert text.endswith('<?xpacket end="w"?>')
    root = ET.fromstring(packet)
    assert root.tag == "{adobe:ns:meta/}xmpmeta"
    (rdf,) = list(root)
    assert rdf.tag == f"{{{RDF}}}RDF"
    (description,) = list(rdf)
    assert description.tag == f"{{{RDF}}}Description"
    assert description.get(f"{{{RDF}}}about") == ""
    found = {
        child.tag.removeprefix(f"{{{XMP_NAMESPACE}}}"): child.text
        for child in description if child.tag.startswith(f"{{{XMP_NAMESPACE}}}")
    }
    assert found == md.elements()
    assert list(found) == [
        "ZZMC", "ZZLXMC", "ZZLXDM", "ZZDYJG", "ZZDYJGDM", "ZZBH", "ZZBS", "ZZBFJG", "ZZBFJGDM", "ZZBFRQ",
        "ZZSSGXSDBM", "CZZT", "CZZTDM", "CZZTDMLX", "CZZTDMLXDM", "ZZYXQQSRQ", "ZZYXQJZRQ", "GLSXMC", "GLSXDM",
        "BBH", "ZT",
    ]
    assert found["CZZTDMLX"] == "公民身份号码"
    assert found["ZZBFRQ"] == "2026-05-20"
    assert description.find("{http://purl.org/dc/elements/1.1/}identifier").text == md.identifier
    assert read_xmp_elements(packet) == md.elements()


def test_xmp_escapes_markup_in_values():
    md = _metadata(PERMIT, PERMIT_VALUES, issuer_name='某局 <b>&amp;</b> "引号"')
    packet = md.to_xmp()
    assert b"<b>" not in packet
    assert read_xmp_elements(packet)["ZZBFJG"] == '某局 <b>&amp;</b> "引号"'


def test_reading_the_attribute_form():
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:zz="{XMP_NAMESPACE}" zz:ZZBH="A1" zz:ZT="revoked"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()
    assert read_xmp_elements(packet) == {"ZZBH": "A1", "ZT": "revoked"}


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (b"<x:xmpmeta", "not well-formed"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "DOCTYPE"),
        (b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>", "x:xmpmeta/rdf:RDF"),
    ],
    ids=["truncated", "doctype", "no-xmpmeta"],
)
def test_bad_packets_are_refused(packet, message):
    with pytest.raises(IssuanceError, match=message):
        read_xmp_elements(packet)


# --- credential claims ---------------------------------------------------------------------------


def test_claims_leave_out_personal_data_and_what_the_identifier_says():
    driving = _metadata(DRIVING_LICENCE, DRIVING).to_claims()
    assert driving == {"ZZYXQJZRQ": "2032-06-01"}
    assert "445102198001010018" not in str(driving) and "王强" not in str(driving)
    # the number of this type is the identifier's serial, already in the credential
    assert _metadata(PERMIT, PERMIT_VALUES).to_claims() == {"ZZYXQJZRQ": "2032-05-20"}
    # a business licence's number is the holder's USCC: personal to the holder, so not disclosed
    assert _metadata(BUSINESS_LICENCE, BUSINESS).to_claims() == {"ZZYXQJZRQ": "长期"}


def test_a_number_of_its_own_is_claimed():
    md = _metadata(NUMBERED, PERMIT_VALUES | {"number": "T330106194912310021"})
    assert md.number == "T330106194912310021"
    assert md.to_claims() == {"ZZBH": "T330106194912310021", "ZZYXQJZRQ": "2032-05-20"}


def _seal(now: datetime, uscc: str) -> tuple[ca.SoftwareSigner, object]:
    algorithm = ca.SignatureAlgorithm.ECDSA_P256_SHA256
    root_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization="测试根CA"), now=now
        ),
        signer=root_signer,
    )
    issuing = ca.create_issuing_ca(
        root=root, signer=ca.SoftwareSigner(ca.generate_private_key(algorithm)),
        subject=ca.organisation_name(organization="测试签发CA"), now=now,
    )
    signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    certificate = issuing.issue(
        profile=ca.SEAL_PROFILE, subject=ca.organisation_name(organization="杭州市公安局", uscc=uscc),
        public_key=signer.public_key(), now=now,
    )
    return signer, certificate


def test_a_credential_with_face_and_metadata_claims_stays_under_600_characters():
    now = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
    signer, certificate = _seal(now, ISSUER)
    md = _metadata(NUMBERED, PERMIT_VALUES | {"name": "欧阳明华", "number": "浙A0420120009391234"})
    assert set(md.to_claims()) == {"ZZBH", "ZZYXQJZRQ"}
    # the holder's claims the service puts in the printed QR beside them (api.service._disclosed_on_face;
    # its valid_until is ZZYXQJZRQ here)
    face = {"name": "欧阳明华", "holder_code": "330106********2316", "vehicle_class": "C1"}
    text = issue_credential(
        CredentialClaims(
            issuer=ISSUER, license_identifier=md.identifier, type_code=md.type_code, issued_at=now,
            expires_at=now + timedelta(days=365), claims=face | md.to_claims(),
            status_url="https://yinxin.example.gov.cn/api/v1/status/3", status_index=40213,
        ),
        signer=signer, certificate=certificate,  # type: ignore[arg-type]
    )
    assert len(text) < 600
