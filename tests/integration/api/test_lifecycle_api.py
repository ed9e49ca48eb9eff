"""Issue 4 through the API: issuing rights, lifecycle changes seen by verifiers, sharing, statistics."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import TrustService
from api.settings import load_settings

PASSPHRASE = "lifecycle api passphrase"
DEPT = ("11330100002500295Y", "示范市公安局")
OTHER = ("113301000025002874", "示范市市场监督管理局")
ID_NUMBER = "330106199003071236"
ID_FIELDS = {
    "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
    "address": "浙江省示范市西湖区文三路1号", "holder_id_number": ID_NUMBER,
    "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    path = tmp_path_factory.mktemp("lifecycle-home")
    service = TrustService.open(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    service.initialise()
    _, key = service.add_department(uscc=DEPT[0], name=DEPT[1])
    _, other_key = service.add_department(uscc=OTHER[0], name=OTHER[1])
    service.create_seal(uscc=DEPT[0])
    service.create_seal(uscc=OTHER[0])
    service.set_issuer(license_type="resident-id", uscc=DEPT[0], allowed=True, actor="test")
    app = create_app(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    with TestClient(app) as c:
        yield c, {"dept": key, "other": other_key}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def issue(c: TestClient, key: str) -> dict[str, Any]:
    response = c.post("/api/v1/licenses", json={"type": "resident-id", "fields": ID_FIELDS}, headers=auth(key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def qr_verdict(c: TestClient, qr_text: str) -> tuple[str, str | None]:
    body = c.post("/api/v1/verify/qr", json={"qr_text": qr_text}).json()
    return body["verdict"], body["status"]


def pdf_verdict(c: TestClient, key: str, identifier: str) -> tuple[str, str | None]:
    pdf = c.get(f"/api/v1/licenses/{identifier}/pdf", headers=auth(key)).content
    body = c.post("/api/v1/verify/pdf", files={"file": ("l.pdf", io.BytesIO(pdf), "application/pdf")}).json()
    return body["verdict"], body["status"]


def test_a_department_issues_only_allowed_types(client: tuple[TestClient, dict[str, str]]) -> None:
    c, keys = client
    refused = c.post("/api/v1/licenses", json={"type": "resident-id", "fields": ID_FIELDS}, headers=auth(keys["other"]))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "may not issue" in refused.json()["detail"]


def test_suspend_resume_revoke_are_seen_by_every_verifier(client: tuple[TestClient, dict[str, str]]) -> None:
    c, keys = client
    lic = issue(c, keys["dept"])
    ident = lic["identifier"]
    assert qr_verdict(c, lic["qr_text"]) == ("VALID", "active")
    r = c.post(f"/api/v1/licenses/{ident}/suspend", json={"reason": "涉嫌违法，暂扣核查"}, headers=auth(keys["dept"]))
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert qr_verdict(c, lic["qr_text"]) == ("INVALID", "suspended")
    assert pdf_verdict(c, keys["dept"], ident) == ("INVALID", "suspended")
    c.post(f"/api/v1/licenses/{ident}/resume", json={"reason": "核查完毕"}, headers=auth(keys["dept"]))
    assert qr_verdict(c, lic["qr_text"]) == ("VALID", "active")
    c.post(f"/api/v1/licenses/{ident}/revoke", json={"reason": "依法吊销"}, headers=auth(keys["dept"]))
    verdict, status = qr_verdict(c, lic["qr_text"])
    assert (verdict, status) == ("INVALID", "revoked")
    # the signature itself is still valid: "signature valid, licence not valid"
    body = c.post("/api/v1/verify/qr", json={"qr_text": lic["qr_text"]}).json()
    outcome = {ch["name"]: ch["result"] for ch in body["checks"]}
    assert outcome["signature"] == "passed" and outcome["license_status"] == "failed"
    again = c.post(f"/api/v1/licenses/{ident}/resume", json={"reason": "x"}, headers=auth(keys["dept"]))
    assert again.status_code == 409 and "revoked licence cannot be resumed" in again.json()["detail"]
    history = c.get(f"/api/v1/licenses/{ident}/history", headers=auth(keys["dept"])).json()
    assert [(h["action"], h["to_status"], h["reason"]) for h in history] == [
        ("suspend", "suspended", "涉嫌违法，暂扣核查"),
        ("resume", "active", "核查完毕"),
        ("revoke", "revoked", "依法吊销"),
    ]


def test_amend_supersedes_the_old_version(client: tuple[TestClient, dict[str, str]]) -> None:
    c, keys = client
    lic = issue(c, keys["dept"])
    r = c.post(f"/api/v1/licenses/{lic['identifier']}/amend",
               json={"reason": "住址变更", "fields": {"address": "浙江省示范市新地址2号"}}, headers=auth(keys["dept"]))
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["version"] == 2 and new["fields"]["address"] == "浙江省示范市新地址2号"
    assert new["identifier"].rsplit(".", 2)[0] == lic["identifier"].rsplit(".", 2)[0]
    assert qr_verdict(c, lic["qr_text"]) == ("INVALID", "superseded")
    assert qr_verdict(c, new["qr_text"]) == ("VALID", "active")
    assert pdf_verdict(c, keys["dept"], new["identifier"]) == ("VALID", "active")
    bad = c.post(f"/api/v1/licenses/{new['identifier']}/amend",
                 json={"reason": "x", "fields": {"holder_id_number": "330106199003071235"}}, headers=auth(keys["dept"]))
    assert bad.status_code == 422 and bad.json()["field"] == "holder_id_number"


def test_another_department_cannot_touch_the_licence(client: tuple[TestClient, dict[str, str]]) -> None:
    c, keys = client
    lic = issue(c, keys["dept"])
    for action, body in (("amend", {"reason": "x", "fields": {"address": "别处"}}), ("suspend", {"reason": "x"}),
                         ("revoke", {"reason": "x"}), ("reissue", {"reason": "x"})):
        r = c.post(f"/api/v1/licenses/{lic['identifier']}/{action}", json=body, headers=auth(keys["other"]))
        assert r.status_code == 403, (action, r.text)
    assert qr_verdict(c, lic["qr_text"]) == ("VALID", "active")
    assert c.post(f"/api/v1/licenses/{lic['identifier']}/suspend", json={"reason": ""},
                  headers=auth(keys["dept"])).status_code == 422


def test_sharing_query_and_time_limited_link(client: tuple[TestClient, dict[str, str]]) -> None:
    c, keys = client
    lic = issue(c, keys["dept"])
    params = {"holder_code": ID_NUMBER, "holder_code_type": "111", "type_code": "resident-id",
              "purpose": "企业开办窗口核验法定代表人身份"}
    found = c.get("/api/v1/share/licenses", params=params, headers=auth(keys["other"]))
    assert found.status_code == 200, found.text
    assert lic["identifier"] in {f["identifier"] for f in found.json()}
    no_purpose = c.get("/api/v1/share/licenses", params={**params, "purpose": ""}, headers=auth(keys["other"]))
    assert no_purpose.status_code == 422
    link = c.post("/api/v1/share/links", headers=auth(keys["other"]),
                  json={"identifier": lic["identifier"], "purpose": "窗口核验", "ttl_seconds": 60})
    assert link.status_code == 201
    url = link.json()["url"]
    got = c.get(url)
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert c.get(forged).status_code == 403
    stats = c.get("/api/v1/stats", headers=auth(keys["other"])).json()
    assert any(s["type"].endswith("N001") and s["department"] == DEPT[0] for s in stats["issued"])


def test_admin_api_manages_the_catalogue(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("admin-home")
    service = TrustService.open(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    service.initialise()
    service.add_department(uscc=DEPT[0], name=DEPT[1])
    _, admin_key = service.add_principal(kind="admin", name="张管理员")
    app = create_app(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    with TestClient(app) as c:
        assert c.get("/api/v1/admin/license-types").status_code == 401
        types = c.get("/api/v1/admin/license-types", headers=auth(admin_key)).json()
        resident = next(t for t in types if t["short_name"] == "resident-id")
        assert resident["issuers"] == []
        r = c.post(f"/api/v1/admin/license-types/{resident['code']}/issuers", json={"uscc": DEPT[0]},
                   headers=auth(admin_key))
        assert r.status_code == 200 and r.json() == [DEPT[0]]
        # a new type: the resident-id definition under another code and name
        custom = {k: v for k, v in resident.items() if k != "issuers"}
        custom.update(code=resident["code"][:-3] + "099", name="测试证", short_name="test-card")
        saved = c.put(f"/api/v1/admin/license-types/{custom['code']}", json=custom, headers=auth(admin_key))
        assert saved.status_code == 200, saved.text
        broken = dict(custom, fields=[dict(custom["fields"][0], kind="datee")])
        bad = c.put(f"/api/v1/admin/license-types/{custom['code']}", json=broken, headers=auth(admin_key))
        assert bad.status_code == 422 and "datee" in bad.json()["detail"]
    assert service.license_type("test-card").name == "测试证"
