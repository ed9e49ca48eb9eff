"""Holder presentations: derived claims, purpose-bound claim sets, short lifetimes, expiry seen by a verifier."""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime, timedelta

import base45
import cbor2
import pytest
from cryptography import x509

import ca
from issuance.catalog import BUSINESS_LICENCE, DRIVING_LICENCE, RESIDENT_ID_CARD
from issuance.errors import CredentialError, FieldValidationError
from issuance.identifier import LicenseIdentifier
from issuance.presentation import (
    DEFAULT_PRESENTATION_TTL,
    derived_claims,
    issue_presentation,
    presentation_claims,
)
from verification.qr import verify_qr
from verification.trust import TrustStore

NOW = datetime(2026, 3, 2, 9, 30, 15, 500000, tzinfo=UTC)
USCC = "11330100002500295Y"
ID_NUMBER = "330106199003071236"
DRIVING = {
    "name": "李明", "sex": "男", "nationality": "中国", "address": "浙江省示范市西湖区文三路1号",
    "birth_date": "1990-03-07", "first_issue_date": "2012-06-01", "vehicle_class": "C1",
    "holder_id_number": ID_NUMBER, "valid_from": "2024-06-01", "valid_until": "2030-06-01",
}
IDENTIFIER = str(LicenseIdentifier.compose(type_code=DRIVING_LICENCE.code, issuer_code=USCC,
                                           serial="7K3Q9X2M4B8N1R5T6W0Z"))


@pytest.fixture(scope="module")
def pki() -> tuple[ca.SoftwareSigner, x509.Certificate, TrustStore]:
    algorithm = ca.SignatureAlgorithm.ECDSA_P256_SHA256
    root_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(
            signer=root_signer, subject=ca.organisation_name(organization="测试根CA"), now=NOW - timedelta(days=1)),
        signer=root_signer)
    issuing = ca.create_issuing_ca(root=root, signer=ca.SoftwareSigner(ca.generate_private_key(algorithm)),
                                   subject=ca.organisation_name(organization="测试签发CA"), now=NOW - timedelta(days=1))
    signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    certificate = issuing.issue(profile=ca.SEAL_PROFILE,
                                subject=ca.organisation_name(organization="示范市公安局", uscc=USCC),
                                public_key=signer.public_key(), now=NOW - timedelta(days=1))
    trust = TrustStore(anchors=(root.certificate,), certificates=(issuing.certificate, certificate))
    return signer, certificate, trust


def _payload_claims(text: str) -> dict[str, str]:
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    claims: dict[str, str] = cbor2.loads(cose.value[2])[-70000][4]
    return claims


def test_derived_claims_mask_the_number_and_stand_in_for_the_birth_date() -> None:
    claims = derived_claims(DRIVING_LICENCE, DRIVING, valid_until=date(2030, 6, 1), today=NOW.date())
    assert claims == {"name": "李明", "holder_code": "330106********1236", "age_over_18": "true",
                      "ZZYXQJZRQ": "2030-06-01", "vehicle_class": "C1"}
    assert ID_NUMBER not in claims.values() and "1990-03-07" not in claims.values()
    assert derived_claims(DRIVING_LICENCE, DRIVING, valid_until=None, today=NOW.date())["ZZYXQJZRQ"] == "长期"


@pytest.mark.parametrize(
    ("born", "today", "adult"),
    [
        ("2008-03-02", date(2026, 3, 2), "true"),   # the 18th birthday
        ("2008-03-03", date(2026, 3, 2), "false"),  # one day short
        ("2008-02-29", date(2026, 2, 28), "false"),  # born on 29 February: of age on 1 March in a common year
        ("2008-02-29", date(2026, 3, 1), "true"),
    ],
)
def test_age_over_18_is_computed_on_the_day_of_presentation(born: str, today: date, adult: str) -> None:
    values = {**DRIVING, "birth_date": born}
    assert derived_claims(DRIVING_LICENCE, values, valid_until=None, today=today)["age_over_18"] == adult


def test_age_comes_from_the_id_number_when_no_birth_date_field_is_given() -> None:
    values = {"name": "李明", "holder_id_number": "11010520080303002X"}
    claims = derived_claims(RESIDENT_ID_CARD, values, valid_until=None, today=date(2026, 3, 2))
    assert claims["age_over_18"] == "false" and claims["holder_code"] == "110105********002X"
    # a legal person has no age
    business = {"uscc": "91330100MA2CDE019E", "name": "示范科技有限公司"}
    assert "age_over_18" not in derived_claims(BUSINESS_LICENCE, business, valid_until=None, today=NOW.date())


def test_a_purpose_gets_only_its_claims_in_its_order_or_the_whole_licence() -> None:
    claims = presentation_claims(DRIVING_LICENCE, DRIVING, purpose="police",
                                 disclose=("ZT", "vehicle_class", "ZZYXQJZRQ"), valid_until=date(2030, 6, 1),
                                 today=NOW.date())
    assert list(claims.items()) == [("vehicle_class", "C1"), ("ZZYXQJZRQ", "2030-06-01"), ("purpose", "police")]
    whole = presentation_claims(DRIVING_LICENCE, DRIVING, purpose="window", disclose=(), whole_licence=True,
                                valid_until=date(2030, 6, 1), today=NOW.date())
    assert whole == {**DRIVING, "purpose": "window"}


def test_a_presentation_carries_only_its_claims_and_expires_after_five_minutes(
    pki: tuple[ca.SoftwareSigner, x509.Certificate, TrustStore]
) -> None:
    signer, certificate, trust = pki
    presentation = issue_presentation(
        DRIVING_LICENCE, DRIVING, license_identifier=IDENTIFIER, issuer=USCC, purpose="hotel",
        disclose=("name", "holder_code", "ZZYXQJZRQ"), valid_until=date(2030, 6, 1), now=NOW, signer=signer,
        certificate=certificate)
    assert presentation.expires_at - presentation.issued_at == DEFAULT_PRESENTATION_TTL == timedelta(minutes=5)
    assert _payload_claims(presentation.text) == {"name": "李明", "holder_code": "330106********1236",
                                                  "ZZYXQJZRQ": "2030-06-01", "purpose": "hotel"}
    assert ID_NUMBER not in presentation.text and len(presentation.text) < 600

    before = verify_qr(presentation.text, trust=trust, now=presentation.expires_at - timedelta(seconds=1))
    assert before.verdict.value == "VALID" and before.disclosed["purpose"] == "hotel"
    after = verify_qr(presentation.text, trust=trust, now=presentation.expires_at)
    assert after.verdict.value == "INVALID" and any("expired" in r for r in after.reasons)


def test_the_whole_licence_fits_in_a_qr_code(pki: tuple[ca.SoftwareSigner, x509.Certificate, TrustStore]) -> None:
    signer, certificate, trust = pki
    presentation = issue_presentation(
        DRIVING_LICENCE, DRIVING, license_identifier=IDENTIFIER, issuer=USCC, purpose="window", disclose=(),
        whole_licence=True, valid_until=date(2030, 6, 1), now=NOW, signer=signer, certificate=certificate)
    assert dict(verify_qr(presentation.text, trust=trust, now=NOW).disclosed) == {**DRIVING, "purpose": "window"}


def test_a_presentation_never_outlives_the_licence(pki: tuple[ca.SoftwareSigner, x509.Certificate, TrustStore]) -> None:
    signer, certificate, _ = pki
    last_minutes = datetime(2026, 3, 2, 23, 58, tzinfo=UTC)
    presentation = issue_presentation(
        DRIVING_LICENCE, DRIVING, license_identifier=IDENTIFIER, issuer=USCC, purpose="hotel", disclose=("name",),
        valid_until=date(2026, 3, 2), now=last_minutes, signer=signer, certificate=certificate)
    assert presentation.expires_at == datetime(2026, 3, 3, tzinfo=UTC), "two minutes, not five"
    with pytest.raises(CredentialError, match="expired"):
        issue_presentation(DRIVING_LICENCE, DRIVING, license_identifier=IDENTIFIER, issuer=USCC, purpose="hotel",
                           disclose=("name",), valid_until=NOW.date() - timedelta(days=1), now=NOW, signer=signer,
                           certificate=certificate)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"ttl": timedelta(seconds=29)}, "ttl"), ({"ttl": timedelta(hours=1)}, "ttl"),
     ({"purpose": "旅馆"}, "purpose"), ({"purpose": ""}, "purpose"), ({"now": NOW.replace(tzinfo=None)}, "now")],
    ids=["ttl-short", "ttl-long", "purpose-not-a-role-name", "purpose-empty", "naive-now"],
)
def test_bad_requests_are_refused_naming_the_field(
    pki: tuple[ca.SoftwareSigner, x509.Certificate, TrustStore], changes: dict[str, object], field: str
) -> None:
    signer, certificate, _ = pki
    arguments: dict[str, object] = {"purpose": "hotel", "now": NOW, **changes}
    with pytest.raises(FieldValidationError) as caught:
        issue_presentation(DRIVING_LICENCE, DRIVING, license_identifier=IDENTIFIER, issuer=USCC, disclose=("name",),
                           valid_until=None, signer=signer, certificate=certificate, **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
