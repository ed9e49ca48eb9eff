"""Trust list and status lists through the API and the CLI, checked offline with nothing but the root.

A home with two hierarchies (ECDSA P-256 and SM2) and a department on each issues licences through
the API; the trust list and the status lists are fetched over HTTP (or exported with the CLI) and the
credentials verified offline, at injected times, by :mod:`verification` alone.
"""

from __future__ import annotations

import argparse
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import base45
import cbor2
import pytest
from cryptography import x509
from fastapi.testclient import TestClient

import api.service
from api import status as status_api
from api.app import create_app
from api.routers import status as status_router
from api.service import TrustService
from api.settings import load_settings
from registry.statuslists import StatusSlot, status_slot
from verification.qr import verify_offline
from verification.result import Verdict
from verification.trustlist import TrustListError, parse_trust_list

PASSPHRASE = "status api passphrase"
P256_DEPT = ("11330100002500295Y", "示范市公安局")
SM2_DEPT = ("113301000025002874", "示范市市场监督管理局")
ID_FIELDS = {
    "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
    "address": "浙江省示范市西湖区文三路1号", "holder_id_number": "330106199003071236",
    "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
}


@dataclass
class Env:
    path: Path
    client: TestClient
    service: TrustService
    keys: dict[str, str]

    @property
    def roots(self) -> list[x509.Certificate]:
        """The root certificates as a verifier receives them: the exported ca/root.pem, nothing else."""
        return x509.load_pem_x509_certificates((self.path / "ca" / "root.pem").read_bytes())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path = tmp_path_factory.mktemp("status-home")
    service = TrustService.open(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    service.initialise()
    service.initialise(algorithm="sm2")
    keys = {}
    for (uscc, name), algorithm in ((P256_DEPT, "p256"), (SM2_DEPT, "sm2")):
        _, keys[uscc] = service.add_department(uscc=uscc, name=name, algorithm=algorithm)
        service.create_seal(uscc=uscc)
        service.set_issuer(license_type="resident-id", uscc=uscc, allowed=True, actor="test")
    app = create_app(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    if not any(getattr(r, "path", "") == "/api/v1/trust-list" for r in app.routes):
        app.include_router(status_router.router, prefix="/api/v1")  # until app.py includes it
    with TestClient(app) as client:
        yield Env(path, client, app.state.service, keys)


def issue(env: Env, uscc: str = P256_DEPT[0]) -> dict[str, Any]:
    response = env.client.post("/api/v1/licenses", json={"type": "resident-id", "fields": ID_FIELDS},
                               headers={"Authorization": f"Bearer {env.keys[uscc]}"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def change(env: Env, licence: dict[str, Any], action: str) -> None:
    response = env.client.post(f"/api/v1/licenses/{licence['identifier']}/{action}", json={"reason": "测试"},
                               headers={"Authorization": f"Bearer {env.keys[licence['department']]}"})
    assert response.status_code == 200, response.text


def status_reference(qr_text: str) -> tuple[str, int]:
    """The status list URL and index a credential names (docs/formats.md §1.2), read without our verifier."""
    cose = cbor2.loads(zlib.decompress(base45.b45decode(qr_text.removeprefix("YX1:"))))
    reference = cbor2.loads(cose.value[2])[-70000][3]
    return reference[1], reference[2]


def fetch_status_list(env: Env, qr_text: str, **headers: str) -> Any:
    url, _ = status_reference(qr_text)
    return env.client.get(urlsplit(url).path, headers=headers)


def fetch_trust_list(env: Env) -> bytes:
    response = env.client.get("/api/v1/trust-list")
    assert response.status_code == 200
    return response.content


def offline(env: Env, qr_text: str, *, now: datetime | None = None, lists: list[bytes] | None = None) -> Any:
    if lists is None:
        response = fetch_status_list(env, qr_text)
        assert response.status_code == 200
        lists = [response.content]
    return verify_offline(qr_text, trust_list=fetch_trust_list(env), anchors=env.roots, status_lists=lists,
                          now=now or datetime.now(UTC))


def online(env: Env, qr_text: str) -> tuple[str, str | None]:
    body = env.client.post("/api/v1/verify/qr", json={"qr_text": qr_text}).json()
    return body["verdict"], body["status"]


# --- the endpoints ------------------------------------------------------------------------------------


def test_the_trust_list_is_served_with_caching_headers_and_verifies_with_the_root_alone(env: Env) -> None:
    response = env.client.get("/api/v1/trust-list")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cose")
    cache_control = response.headers["cache-control"]
    assert cache_control.startswith("public, max-age=")
    assert 0 < int(cache_control.split("=")[1]) <= status_router.TRUST_LIST_REFRESH
    etag = response.headers["etag"]
    again = env.client.get("/api/v1/trust-list", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag

    checked = parse_trust_list(response.content, anchors=env.roots, now=datetime.now(UTC))
    subjects = {c.subject.rfc4514_string() for c in checked.certificates}
    assert any(P256_DEPT[0] in s for s in subjects) and any(SM2_DEPT[0] in s for s in subjects)
    assert checked.expires_at - checked.issued_at == status_api.TRUST_LIST_VALIDITY
    altered = bytearray(response.content)
    altered[len(altered) // 3] ^= 0x01
    with pytest.raises(TrustListError):
        parse_trust_list(bytes(altered), anchors=env.roots, now=datetime.now(UTC))


def test_a_status_list_is_served_where_the_credential_says(env: Env) -> None:
    licence = issue(env)
    url, index = status_reference(licence["qr_text"])
    assert url.startswith(f"{env.service.settings.base_url}/api/v1/status-lists/{P256_DEPT[0]}/")
    slot = status_slot(env.service.registry, licence["identifier"])
    assert slot is not None and (slot.index, url.endswith(f"/{slot.list_id}")) == (index, True)
    response = fetch_status_list(env, licence["qr_text"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/statuslist+cwt"
    max_age = int(response.headers["cache-control"].removeprefix("public, max-age="))
    assert 0 < max_age <= status_api.STATUS_LIST_TTL.total_seconds()
    assert fetch_status_list(env, licence["qr_text"], **{"If-None-Match": response.headers["etag"]}).status_code == 304


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/status-lists/91330100MA2B3C4D5N/0", 404), (f"/api/v1/status-lists/{P256_DEPT[0]}/999", 404),
     ("/api/v1/status-lists/11330100002500295X/0", 422), (f"/api/v1/status-lists/{P256_DEPT[0]}/-1", 422)],
    ids=["unknown-department", "unknown-list", "bad-check-character", "negative-list"],
)
def test_unknown_lists_are_problems_not_errors(env: Env, path: str, status: int) -> None:
    response = env.client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


# --- the acceptance path ------------------------------------------------------------------------------


def test_revoke_is_seen_online_at_once_and_offline_with_a_fresh_list(env: Env) -> None:
    licence = issue(env)
    assert offline(env, licence["qr_text"]).verdict is Verdict.VALID
    before = fetch_status_list(env, licence["qr_text"]).content
    change(env, licence, "revoke")
    assert online(env, licence["qr_text"]) == ("INVALID", "revoked")
    result = offline(env, licence["qr_text"])
    assert (result.verdict, result.license_status) == (Verdict.INVALID, "revoked")
    # the list downloaded before the revocation still says valid: that is what its ttl bounds
    stale_copy = offline(env, licence["qr_text"], lists=[before])
    assert stale_copy.verdict is Verdict.VALID
    # and once older than its ttl, no list gives VALID any more: the verifier must fetch a fresh one
    later = datetime.now(UTC) + status_api.STATUS_LIST_TTL + timedelta(minutes=1)
    trust_list = fetch_trust_list(env)
    stale = verify_offline(licence["qr_text"], trust_list=trust_list, anchors=env.roots, status_lists=[before],
                           now=later)
    assert stale.verdict is Verdict.INDETERMINATE
    assert "stale" in next(c.detail for c in stale.checks if c.name == "license_status")


def test_a_suspended_then_resumed_licence_is_valid_again_in_a_fresh_list(env: Env) -> None:
    licence = issue(env)
    change(env, licence, "suspend")
    assert offline(env, licence["qr_text"]).license_status == "suspended"
    change(env, licence, "resume")
    result = offline(env, licence["qr_text"])
    assert (result.verdict, result.license_status) == (Verdict.VALID, "active")


def test_an_amended_licence_gets_its_own_slot_and_the_old_credential_stops_verifying(env: Env) -> None:
    licence = issue(env)
    response = env.client.post(f"/api/v1/licenses/{licence['identifier']}/amend",
                               json={"reason": "住址变更", "fields": {"address": "浙江省示范市新地址2号"}},
                               headers={"Authorization": f"Bearer {env.keys[P256_DEPT[0]]}"})
    assert response.status_code == 201, response.text
    new = response.json()
    assert status_reference(new["qr_text"]) != status_reference(licence["qr_text"])
    assert offline(env, new["qr_text"]).verdict is Verdict.VALID
    assert offline(env, licence["qr_text"]).verdict is Verdict.INVALID  # superseded: INVALID in the list


def test_es256_and_sm2_credentials_both_verify_offline(env: Env) -> None:
    for uscc, alg in ((P256_DEPT[0], "ES256"), (SM2_DEPT[0], "SM2-with-SM3")):
        licence = issue(env, uscc)
        result = offline(env, licence["qr_text"])
        assert result.verdict is Verdict.VALID, result.reasons
        assert alg in next(c.detail for c in result.checks if c.name == "signature")


def test_a_slot_taken_meanwhile_is_drawn_again(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two issuers that drew the same free index: the second one's transaction fails and draws again."""
    first = issue(env)
    taken = status_slot(env.service.registry, first["identifier"])
    assert taken is not None
    real = api.service.candidate_slot
    draws: list[StatusSlot] = []

    def racing(registry: Any, **kwargs: Any) -> StatusSlot:
        slot = taken if not draws else real(registry, **kwargs)
        draws.append(slot)
        return slot

    monkeypatch.setattr(api.service, "candidate_slot", racing)
    second = issue(env)
    assert len(draws) == 2
    slot = status_slot(env.service.registry, second["identifier"])
    assert slot is not None and slot != taken and slot == draws[1]
    assert status_reference(second["qr_text"])[1] == slot.index
    assert offline(env, second["qr_text"]).verdict is Verdict.VALID


# --- the CLI --------------------------------------------------------------------------------------------


def _run(argv: list[str]) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home")
    common.add_argument("--json", action="store_true")
    common.add_argument("--verbose", action="store_true")
    parser = argparse.ArgumentParser(prog="yinxin", parents=[common])
    status_api.add_commands(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_exported_files_verify_offline_without_the_home(env: Env, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("YINXIN_PASSPHRASE", PASSPHRASE)
    licence = issue(env)
    change(env, licence, "suspend")
    home = str(env.path)
    assert _run(["trust-list", "export", "--home", home, "--out", str(tmp_path / "trust.cose")]) == 0
    assert "Trust list version" in capsys.readouterr().out
    assert _run(["status-list", "export", "--home", home, "--dept", P256_DEPT[0], "--out",
                 str(tmp_path / "status.cwt"), "--json"]) == 0
    exported = capsys.readouterr().out
    assert '"lists"' in exported and P256_DEPT[0] in exported
    root = tmp_path / "root.pem"
    root.write_bytes((env.path / "ca" / "root.pem").read_bytes())
    result = status_api.verify_offline_files(licence["qr_text"], roots=root, trust_list=tmp_path / "trust.cose",
                                             status_lists=[tmp_path / "status.cwt"], now=datetime.now(UTC))
    assert (result.verdict, result.license_status) == (Verdict.INVALID, "suspended")
    fresh = issue(env)
    result = status_api.verify_offline_files(fresh["qr_text"], roots=root, trust_list=tmp_path / "trust.cose",
                                             status_lists=[tmp_path / "status.cwt"], now=datetime.now(UTC))
    assert result.verdict is Verdict.VALID  # the fresh licence's index is VALID in the exported list


def test_a_server_without_the_passphrase_says_503_for_what_needs_keys(tmp_path: Path) -> None:
    """Started without YINXIN_PASSPHRASE: public verification still answers; signing says 503, not 400 or 500."""
    service = TrustService.open(load_settings(tmp_path, {}), passphrase=lambda: "locked server passphrase")
    service.initialise()
    service.add_department(uscc="11330100002500295Y", name="示范市公安局")
    service.create_seal(uscc="11330100002500295Y")
    service.set_issuer(license_type="business-licence", uscc="11330100002500295Y", allowed=True, actor="test")
    service.issue_license(department_uscc="11330100002500295Y", license_type="business-licence", actor="test", fields={
        "uscc": "91330100MA2CDE019E", "name": "示范科技有限公司", "entity_type": "有限责任公司",
        "legal_representative": "李明", "registered_capital": "100", "established": "2019-08-01",
        "business_term": "长期", "address": "浙江省示范市滨江区网商路699号", "business_scope": "软件开发。"})
    saved = os.environ.pop("YINXIN_PASSPHRASE", None)
    try:
        with TestClient(create_app(load_settings(tmp_path, {}))) as client:
            assert client.get("/api/v1/health").status_code == 200
            response = client.get("/api/v1/status-lists/11330100002500295Y/0")
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "key_store_locked"
    finally:
        if saved is not None:
            os.environ["YINXIN_PASSPHRASE"] = saved
