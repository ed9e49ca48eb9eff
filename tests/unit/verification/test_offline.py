"""Offline verification from files: trust list + status lists, no database, no server.

Everything is made here with the issuing side (:mod:`issuance`) and checked with the verifying side
(:mod:`verification`) at injected times: a licence's status comes from the list its credential names,
a stale list gives INDETERMINATE, and a bad trust list never lets anything through as VALID.
"""

from __future__ import annotations

import os
import random
import threading
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import base45
import cbor2
import pytest
from cryptography import x509

import ca
from ca.sm2 import SM2PrivateKey, SM2Signer
from issuance.credential import CredentialClaims, _cose_signature, issue_credential, kid_of
from issuance.identifier import LicenseIdentifier
from issuance.statuslist import STATUS_INVALID, STATUS_SUSPENDED, StatusListClaims, issue_status_list
from issuance.trustlist import TrustListClaims, issue_trust_list
from verification.errors import InputTooLargeError, TrustConfigurationError
from verification.qr import OfflineVerifier, _base45_decode, _FormatProblem, verify_offline, verify_qr
from verification.result import CheckOutcome, Verdict
from verification.statuslist import StatusListError, StatusLists, parse_status_list
from verification.trust import TrustStore

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
TTL = timedelta(hours=12)
USCC = "11330100002500295Y"
OTHER_USCC = "113301000025002874"
TYPE_CODE = USCC + "001"
URL = f"https://yinxin.example/api/v1/status-lists/{USCC}/0"
SIZE = 1 << 17


def _signer(algorithm: ca.SignatureAlgorithm) -> ca.KeySigner:
    if algorithm is ca.SignatureAlgorithm.SM2_SM3:
        return SM2Signer(SM2PrivateKey.generate())
    return ca.SoftwareSigner(ca.generate_private_key(algorithm))


@dataclass(frozen=True)
class Home:
    """One issuer's PKI as a Yinxin home makes it: root, issuing CA, a department seal, a trust-list signer."""

    root: ca.CertificateAuthority
    issuing: ca.CertificateAuthority
    seal_signer: ca.KeySigner
    seal: x509.Certificate
    list_signer: ca.KeySigner
    list_certificate: x509.Certificate

    def credential(self, index: int | None = 7, *, url: str = URL, serial: str = "OFFLINE0000000000001") -> str:
        identifier = LicenseIdentifier.compose(type_code=TYPE_CODE, issuer_code=USCC, serial=serial)
        return issue_credential(
            CredentialClaims(issuer=USCC, license_identifier=str(identifier), type_code=TYPE_CODE, issued_at=NOW,
                             expires_at=NOW + timedelta(days=30), claims={"name": "李明"},
                             status_url=url if index is not None else None, status_index=index),
            signer=self.seal_signer, certificate=self.seal)

    def status_list(self, statuses: dict[int, int], *, issued_at: datetime = NOW, url: str = URL,
                    ttl: timedelta = TTL) -> bytes:
        claims = StatusListClaims(issuer=USCC, uri=url, issued_at=issued_at, expires_at=issued_at + ttl, ttl=ttl,
                                  statuses=statuses, size=SIZE)
        return issue_status_list(claims, signer=self.seal_signer, certificate=self.seal)

    def trust_list(
        self, *, issued_at: datetime = NOW, days: int = 7, extra: tuple[x509.Certificate, ...] = ()
    ) -> bytes:
        claims = TrustListClaims(version=1, issued_at=issued_at, expires_at=issued_at + timedelta(days=days),
                                 certificates=[self.issuing.certificate, self.seal, *extra])
        return issue_trust_list(claims, signer=self.list_signer, certificate=self.list_certificate,
                                chain=[self.issuing.certificate])

    @property
    def anchors(self) -> list[x509.Certificate]:
        return [self.root.certificate]


def _home(algorithm: ca.SignatureAlgorithm, *, uscc: str = USCC, root_name: str = "测试根CA") -> Home:
    root_signer = _signer(algorithm)
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=root_signer, subject=ca.organisation_name(organization=root_name),
                                               now=NOW - timedelta(days=1)),
        signer=root_signer)
    issuing = ca.create_issuing_ca(root=root, signer=_signer(algorithm),
                                   subject=ca.organisation_name(organization=root_name + "签发CA"),
                                   now=NOW - timedelta(days=1))
    seal_signer = _signer(algorithm)
    seal = issuing.issue(profile=ca.SEAL_PROFILE, subject=ca.organisation_name(organization="示范市公安局", uscc=uscc),
                         public_key=seal_signer.public_key(), now=NOW - timedelta(days=1))
    list_signer = _signer(algorithm)
    list_certificate = issuing.issue(profile=ca.SEAL_MAKER_PROFILE,
                                     subject=ca.organisation_name(organization="印信", common_name="信任列表签名"),
                                     public_key=list_signer.public_key(), now=NOW - timedelta(days=1))
    return Home(root, issuing, seal_signer, seal, list_signer, list_certificate)


@pytest.fixture(scope="module")
def p256() -> Home:
    return _home(ca.SignatureAlgorithm.ECDSA_P256_SHA256)


def _status(result_checks: object) -> tuple[str, str]:
    check = next(c for c in result_checks if c.name == "license_status")  # type: ignore[attr-defined]
    return check.outcome.value, check.detail


# --- the acceptance cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [ca.SignatureAlgorithm.ECDSA_P256_SHA256, ca.SignatureAlgorithm.SM2_SM3,
                                       ca.SignatureAlgorithm.ED25519])
def test_a_valid_licence_verifies_offline(algorithm: ca.SignatureAlgorithm) -> None:
    home = _home(algorithm)
    result = verify_offline(home.credential(), trust_list=home.trust_list(), anchors=home.anchors,
                            status_lists=[home.status_list({})], now=LATER)
    assert result.verdict is Verdict.VALID, result.reasons
    assert result.license_status == "active"
    assert [c.outcome for c in result.checks] == [CheckOutcome.PASSED] * 5
    assert dict(result.disclosed) == {"name": "李明"}


def test_a_revoked_licence_is_revoked_offline(p256: Home) -> None:
    result = verify_offline(p256.credential(7), trust_list=p256.trust_list(), anchors=p256.anchors,
                            status_lists=[p256.status_list({7: STATUS_INVALID})], now=LATER)
    assert result.verdict is Verdict.INVALID
    assert result.license_status == "revoked"
    outcome, detail = _status(result.checks)
    assert outcome == "failed" and "revoked" in detail
    # the entry beside it is untouched
    other = verify_offline(p256.credential(8), trust_list=p256.trust_list(), anchors=p256.anchors,
                           status_lists=[p256.status_list({7: STATUS_INVALID})], now=LATER)
    assert other.verdict is Verdict.VALID


def test_a_suspended_licence_is_suspended_offline(p256: Home) -> None:
    result = verify_offline(p256.credential(7), trust_list=p256.trust_list(), anchors=p256.anchors,
                            status_lists=[p256.status_list({7: STATUS_SUSPENDED})], now=LATER)
    assert (result.verdict, result.license_status) == (Verdict.INVALID, "suspended")


def test_a_list_older_than_its_ttl_gives_indeterminate_never_valid(p256: Home) -> None:
    verifier = OfflineVerifier.load(trust_list=p256.trust_list(), anchors=p256.anchors,
                                    status_lists=[p256.status_list({})], now=NOW)
    at_ttl = verifier.verify(p256.credential(), now=NOW + TTL - timedelta(seconds=1))
    assert at_ttl.verdict is Verdict.VALID
    stale = verifier.verify(p256.credential(), now=NOW + TTL + timedelta(seconds=1))
    assert stale.verdict is Verdict.INDETERMINATE
    outcome, detail = _status(stale.checks)
    assert outcome == "indeterminate" and "stale" in detail and "ttl" in detail
    # even a revoked entry is not reported from a stale list: the answer is "cannot tell"
    revoked = OfflineVerifier.load(trust_list=p256.trust_list(), anchors=p256.anchors,
                                   status_lists=[p256.status_list({7: STATUS_INVALID})], now=NOW)
    assert revoked.verify(p256.credential(7), now=NOW + TTL + timedelta(hours=1)).verdict is Verdict.INDETERMINATE


def test_a_fresh_list_after_resuming_says_valid_again(p256: Home) -> None:
    suspended = p256.status_list({7: STATUS_SUSPENDED}, issued_at=NOW)
    resumed = p256.status_list({}, issued_at=NOW + timedelta(minutes=30))
    # given both (an old download and a new one), the newer list answers
    result = verify_offline(p256.credential(7), trust_list=p256.trust_list(), anchors=p256.anchors,
                            status_lists=[suspended, resumed], now=LATER)
    assert (result.verdict, result.license_status) == (Verdict.VALID, "active")


def test_es256_and_sm2_credentials_both_verify_offline_with_both_roots() -> None:
    p256, sm2 = _home(ca.SignatureAlgorithm.ECDSA_P256_SHA256), _home(ca.SignatureAlgorithm.SM2_SM3,
                                                                          root_name="SM2根CA")
    other_url = URL.replace(USCC, USCC) + "-sm2"
    # one trust list (signed in the P-256 hierarchy) carries the SM2 department's certificates too
    trust_list = p256.trust_list(extra=(sm2.issuing.certificate, sm2.seal))
    anchors = [p256.root.certificate, sm2.root.certificate]
    lists = [p256.status_list({}), sm2.status_list({}, url=other_url)]
    for home, url in ((p256, URL), (sm2, other_url)):
        result = verify_offline(home.credential(url=url), trust_list=trust_list, anchors=anchors, status_lists=lists,
                                now=LATER)
        assert result.verdict is Verdict.VALID, result.reasons


# --- failing closed ------------------------------------------------------------------------------------


def test_without_the_credentials_status_list_the_answer_is_indeterminate(p256: Home) -> None:
    result = verify_offline(p256.credential(), trust_list=p256.trust_list(), anchors=p256.anchors, status_lists=[],
                            now=LATER)
    assert result.verdict is Verdict.INDETERMINATE
    assert _status(result.checks) == ("indeterminate", f"no usable status list for {URL}")


def test_a_credential_naming_no_status_list_is_indeterminate_offline(p256: Home) -> None:
    result = verify_offline(p256.credential(None), trust_list=p256.trust_list(), anchors=p256.anchors,
                            status_lists=[p256.status_list({})], now=LATER)
    assert result.verdict is Verdict.INDETERMINATE
    assert "names no status list" in _status(result.checks)[1]


def test_a_tampered_status_list_is_reported_and_not_used(p256: Home) -> None:
    token = bytearray(p256.status_list({7: STATUS_INVALID}))
    token[-1] ^= 0x01  # the signature
    result = verify_offline(p256.credential(7), trust_list=p256.trust_list(), anchors=p256.anchors,
                            status_lists=[bytes(token)], now=LATER)
    assert result.verdict is Verdict.INDETERMINATE
    assert "does not verify" in _status(result.checks)[1]


def test_another_departments_list_at_the_same_url_is_not_trusted_for_this_issuer(p256: Home) -> None:
    other = _home(ca.SignatureAlgorithm.ECDSA_P256_SHA256, uscc=OTHER_USCC)
    claims = StatusListClaims(issuer=OTHER_USCC, uri=URL, issued_at=NOW, expires_at=NOW + TTL, ttl=TTL,
                              statuses={}, size=SIZE)
    foreign = issue_status_list(claims, signer=other.seal_signer, certificate=other.seal)
    trust_list = p256.trust_list(extra=(other.issuing.certificate, other.seal))
    result = verify_offline(p256.credential(7), trust_list=trust_list, anchors=[p256.root.certificate,
                                                                                  other.root.certificate],
                            status_lists=[foreign], now=LATER)
    assert result.verdict is Verdict.INDETERMINATE
    assert f"{OTHER_USCC}'s, not the issuer's" in _status(result.checks)[1]


@pytest.mark.parametrize("case", ["tampered", "expired", "wrong-root", "garbage"])
def test_an_unusable_trust_list_never_gives_valid(p256: Home, case: str) -> None:
    trust_list, anchors, now = p256.trust_list(), p256.anchors, LATER
    if case == "tampered":
        altered = bytearray(trust_list)
        altered[len(altered) // 2] ^= 0x01
        trust_list = bytes(altered)
    elif case == "expired":
        now = NOW + timedelta(days=7)
    elif case == "wrong-root":
        anchors = _home(ca.SignatureAlgorithm.ECDSA_P256_SHA256, root_name="别的根CA").anchors
    else:
        trust_list = os.urandom(300)
    result = verify_offline(p256.credential(), trust_list=trust_list, anchors=anchors,
                            status_lists=[p256.status_list({}, issued_at=now - timedelta(minutes=1))], now=now)
    assert result.verdict is Verdict.INDETERMINATE
    signature = next(c for c in result.checks if c.name == "signature")
    assert signature.outcome is CheckOutcome.INDETERMINATE and signature.detail.startswith("no usable trust list")
    assert not result.disclosed


def test_a_trust_list_expiring_after_loading_stops_verification_at_its_expiry(p256: Home) -> None:
    verifier = OfflineVerifier.load(trust_list=p256.trust_list(days=1), anchors=p256.anchors,
                                    status_lists=[], now=NOW)
    assert verifier.verify(p256.credential(None), now=NOW + timedelta(days=1)).verdict is Verdict.INDETERMINATE


def test_no_root_fails_closed(p256: Home) -> None:
    with pytest.raises(TrustConfigurationError):
        verify_offline(p256.credential(), trust_list=p256.trust_list(), anchors=[], status_lists=[], now=LATER)


def test_a_forged_credential_is_invalid_offline(p256: Home) -> None:
    forger = _home(ca.SignatureAlgorithm.ECDSA_P256_SHA256, root_name="伪造根CA")
    result = verify_offline(forger.credential(), trust_list=p256.trust_list(), anchors=p256.anchors,
                            status_lists=[p256.status_list({})], now=LATER)
    assert result.verdict is Verdict.INVALID
    assert "not in the trust list" in next(c for c in result.checks if c.name == "signature").detail


def test_online_and_offline_status_cannot_be_mixed(p256: Home) -> None:
    class Registry:
        def license_status(self, identifier: str) -> str | None:
            return "active"

    with pytest.raises(ValueError, match="not both"):
        verify_qr(p256.credential(), trust=TrustStore(anchors=tuple(p256.anchors)), now=LATER,
                  status_source=Registry(), status_lists=StatusLists())


# --- status lists as such ---------------------------------------------------------------------------


def test_parse_status_list_reads_entries_and_refuses_alterations(p256: Home) -> None:
    trust = TrustStore(anchors=tuple(p256.anchors), certificates=(p256.issuing.certificate, p256.seal))
    token = p256.status_list({0: 1, 5: 2, SIZE - 1: 3})
    parsed = parse_status_list(token, trust=trust, now=NOW)
    assert (parsed.issuer, parsed.uri, parsed.size, parsed.bits) == (USCC, URL, SIZE, 2)
    assert [parsed.value_at(i) for i in (0, 1, 5, SIZE - 1)] == [1, 0, 2, 3]
    with pytest.raises(IndexError):
        parsed.value_at(SIZE)
    for position in range(0, len(token)):
        altered = bytearray(token)
        altered[position] ^= 0x01
        with pytest.raises((StatusListError, InputTooLargeError)):
            parse_status_list(bytes(altered), trust=trust, now=NOW)


def test_the_drafts_example_list_reads_as_the_draft_says() -> None:
    """draft-ietf-oauth-status-list examples/status_list_encoding2 (CBOR): bits 2, lst = zlib(c9 44 f9)."""
    status_list = cbor2.loads(bytes.fromhex("a2646269747302636c73744b78da3be9f2130003df0207"))
    assert status_list["bits"] == 2
    array = zlib.decompress(status_list["lst"])
    from verification.statuslist import StatusList

    parsed = StatusList(issuer=USCC, uri=URL, issued_at=NOW, ttl=TTL, expires_at=None, bits=2,
                        signer=_home(ca.SignatureAlgorithm.ED25519).seal, array=array)
    assert [parsed.value_at(i) for i in range(12)] == [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def _resigned(home: Home, claims: dict[int, object]) -> bytes:
    protected = cbor2.dumps({1: -7, 4: kid_of(home.seal), 16: "application/statuslist+cwt"})
    payload = cbor2.dumps(claims)
    signature = _cose_signature(-7, home.seal_signer.sign(cbor2.dumps(["Signature1", protected, b"", payload])))
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))


def _claims(lst: bytes, **changes: object) -> dict[int, object]:
    claims: dict[int, object] = {1: USCC, 2: URL, 6: int(NOW.timestamp()), 4: int((NOW + TTL).timestamp()),
                                 65534: int(TTL.total_seconds()), 65533: {"bits": 2, "lst": lst}}
    for key, value in changes.items():
        number = int(key.removeprefix("c"))
        if value is None:
            claims.pop(number)
        else:
            claims[number] = value
    return claims


@pytest.mark.parametrize(
    ("lst", "changes", "message"),
    [
        (zlib.compress(bytes(SIZE // 4 // 2)), {}, "at least 131072"),
        (zlib.compress(bytes(SIZE // 4)), {"c65534": None}, "ttl"),
        (zlib.compress(bytes(SIZE // 4)), {"c65533": {"bits": 3, "lst": b""}}, "bits must be"),
        (zlib.compress(bytes(SIZE // 4)), {"c2": None}, r"sub \(2\)"),
        (zlib.compress(bytes(SIZE // 4)), {"c1": OTHER_USCC}, "differs from the organizationIdentifier"),
        (b"not zlib", {}, "zlib"),
    ],
    ids=["too-short", "no-ttl", "bits", "no-sub", "iss-not-signer", "not-zlib"],
)
def test_malformed_lists_are_refused(p256: Home, lst: bytes, changes: dict[str, object], message: str) -> None:
    trust = TrustStore(anchors=tuple(p256.anchors), certificates=(p256.issuing.certificate, p256.seal))
    with pytest.raises(StatusListError, match=message):
        parse_status_list(_resigned(p256, _claims(lst, **changes)), trust=trust, now=NOW)


def test_a_zlib_bomb_stops_at_the_limit(p256: Home) -> None:
    trust = TrustStore(anchors=tuple(p256.anchors), certificates=(p256.issuing.certificate, p256.seal))
    bomb = zlib.compress(bytes(64 * 2**20), 9)  # 64 MiB of zeros in ~64 KiB
    with pytest.raises(InputTooLargeError, match="decompresses to more than"):
        parse_status_list(_resigned(p256, _claims(bomb)), trust=trust, now=NOW)


def test_a_list_signed_by_an_unlisted_key_is_refused(p256: Home) -> None:
    trust = TrustStore(anchors=tuple(p256.anchors), certificates=(p256.issuing.certificate,))
    with pytest.raises(StatusListError, match="unknown signer"):
        parse_status_list(p256.status_list({}), trust=trust, now=NOW)


# --- speed paths: the Base45 decoder and the chain cache ---------------------------------------------------


def test_the_base45_decoder_agrees_with_the_base45_package() -> None:
    generator = random.Random(5)
    alphabet = base45.BASE45_CHARSET
    for length in range(0, 200):
        data = generator.randbytes(length)
        encoded = base45.b45encode(data).decode()
        if encoded:
            assert _base45_decode(encoded) == data
    for _ in range(3000):
        text = "".join(generator.choice(alphabet + "a~é") for _ in range(generator.randrange(1, 12)))
        try:
            expected: bytes | None = base45.b45decode(text)
        except ValueError:
            expected = None
        try:
            got: bytes | None = _base45_decode(text)
        except _FormatProblem:
            got = None
        assert got == expected, text


def test_a_cached_chain_is_not_used_once_a_certificate_has_expired(p256: Home) -> None:
    trust = TrustStore(anchors=tuple(p256.anchors), certificates=(p256.issuing.certificate, p256.seal))
    assert trust.validate_path(p256.seal, now=LATER).trusted
    end = p256.seal.not_valid_after_utc
    assert trust.validate_path(p256.seal, now=end).trusted
    late = trust.validate_path(p256.seal, now=end + timedelta(seconds=1))
    assert not late.trusted and "expired" in (late.problem or "")


def test_a_cached_chain_is_not_used_by_a_store_that_does_not_trust_its_root(p256: Home) -> None:
    trusted = TrustStore(anchors=tuple(p256.anchors), certificates=(p256.issuing.certificate, p256.seal))
    assert trusted.validate_path(p256.seal, now=LATER).trusted
    stranger = _home(ca.SignatureAlgorithm.ECDSA_P256_SHA256, root_name="别的根CA")
    other = TrustStore(anchors=tuple(stranger.anchors), certificates=(p256.issuing.certificate, p256.seal))
    assert not other.validate_path(p256.seal, now=LATER).trusted
    without_issuing = TrustStore(anchors=tuple(p256.anchors), certificates=(p256.seal,))
    assert not without_issuing.validate_path(p256.seal, now=LATER).trusted


def test_many_threads_get_the_same_answers(p256: Home) -> None:
    verifier = OfflineVerifier.load(trust_list=p256.trust_list(), anchors=p256.anchors,
                                    status_lists=[p256.status_list({7: STATUS_INVALID})], now=NOW)
    texts = {7: p256.credential(7), 8: p256.credential(8)}
    answers: list[tuple[int, str, str | None]] = []

    def work(index: int) -> None:
        for _ in range(50):
            result = verifier.verify(texts[index], now=LATER)
            answers.append((index, result.verdict.value, result.license_status))

    threads = [threading.Thread(target=work, args=(7 + i % 2,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) == {(7, "INVALID", "revoked"), (8, "VALID", "active")}
    assert len(answers) == 400
