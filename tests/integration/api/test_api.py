"""The HTTP API end to end: issuance by an authenticated department, fetch, verification, problem+json."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import TrustService
from api.settings import load_settings

PASSPHRASE = "api test passphrase"
DEPT = ("11330100002500295Y", "示范市政务服务数据管理局")
OTHER = ("113301000025002874", "示范市另一个局")
ID_FIELDS = {
    "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
    "address": "浙江省示范市西湖区文三路1号", "holder_id_number": "330106199003071236",
    "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
}
BUSINESS_FIELDS = {
    "uscc": "91330100MA2CDE019E", "name": "示范科技有限公司", "entity_type": "有限责任公司",
    "legal_representative": "李明", "registered_capital": "100", "established": "2019-08-01",
    "business_term": "长期", "address": "浙江省示范市滨江区网商路699号", "business_scope": "软件开发。",
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("api-home")
    service = TrustService.open(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    service.initialise()
    _, key = service.add_department(uscc=DEPT[0], name=DEPT[1])
    _, other_key = service.add_department(uscc=OTHER[0], name=OTHER[1])
    service.create_seal(uscc=DEPT[0])
    service.create_seal(uscc=OTHER[0])
    for slug in ("resident-id", "business-licence"):
        service.set_issuer(license_type=slug, uscc=DEPT[0], allowed=True, actor="test")
    return {"path": path, "key": key, "other_key": other_key}


@pytest.fixture(scope="module")
def client(home: dict[str, Any]) -> Iterator[TestClient]:
    app = create_app(load_settings(home["path"], {}), passphrase=lambda: PASSPHRASE)
    with TestClient(app) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


@pytest.fixture(scope="module")
def issued(client: TestClient, home: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/licenses", json={"type": "resident-id", "fields": ID_FIELDS},
                           headers=auth(home["key"]))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"].endswith(body["identifier"])
    return body


def test_health(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["initialised"] is True


def test_openapi_is_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/licenses", "/api/v1/verify/qr", "/api/v1/verify/pdf"} <= set(paths)


def test_issue_and_fetch(client: TestClient, home: dict[str, Any], issued: dict[str, Any]) -> None:
    ident = issued["identifier"]
    assert issued["status"] == "active" and issued["department"] == DEPT[0]
    got = client.get(f"/api/v1/licenses/{ident}", headers=auth(home["key"]))
    assert got.json()["fields"]["name"] == "李明"
    pdf = client.get(f"/api/v1/licenses/{ident}/pdf", headers=auth(home["key"]))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    png = client.get(f"/api/v1/licenses/{ident}/qr.png", headers=auth(home["key"]))
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_verify_qr_valid_then_tampered(client: TestClient, issued: dict[str, Any]) -> None:
    ok = client.post("/api/v1/verify/qr", json={"qr_text": issued["qr_text"]})
    assert ok.status_code == 200 and ok.json()["verdict"] == "VALID"
    # Issue 5: fields are shown only to an authenticated verifier, by role (test_presentations_api.py);
    # an anonymous caller gets the verdict, the status and the checks.
    assert ok.json()["disclosed"] == {} and ok.json()["status"] == "active"
    assert "330106199003071236" not in ok.text  # the printed QR carries the ID number masked
    text = issued["qr_text"]
    changed = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    bad = client.post("/api/v1/verify/qr", json={"qr_text": changed})
    assert bad.status_code == 200 and bad.json()["verdict"] == "INVALID"
    assert bad.json()["reasons"]


def test_verify_pdf_upload(client: TestClient, home: dict[str, Any], issued: dict[str, Any]) -> None:
    pdf = client.get(f"/api/v1/licenses/{issued['identifier']}/pdf", headers=auth(home["key"])).content
    ok = client.post("/api/v1/verify/pdf", files={"file": ("licence.pdf", io.BytesIO(pdf), "application/pdf")})
    assert ok.status_code == 200 and ok.json()["verdict"] == "VALID", ok.text
    body = assert_problem(client.post("/api/v1/verify/pdf", files={"file": ("x.pdf", b"not a pdf", "text/plain")}),
                          422)
    assert "PDF" in body["detail"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({**ID_FIELDS, "holder_id_number": "330106199003071235"}, "holder_id_number"),
        ({k: v for k, v in ID_FIELDS.items() if k != "name"}, "name"),
    ],
    ids=["bad-check-digit", "missing-name"],
)
def test_bad_fields_are_422_naming_the_field(client: TestClient, home: dict[str, Any], fields: dict[str, str],
                                             field: str) -> None:
    body = assert_problem(client.post("/api/v1/licenses", json={"type": "resident-id", "fields": fields},
                                      headers=auth(home["key"])), 422)
    assert body["field"] == field


def test_bad_uscc_is_422_and_nothing_is_written(client: TestClient, home: dict[str, Any]) -> None:
    service: TrustService = client.app.state.service  # type: ignore[attr-defined]
    before = len(service.registry.list_licenses(limit=1000))
    body = assert_problem(client.post("/api/v1/licenses", json={"type": "business-licence", "fields": {
        **BUSINESS_FIELDS, "uscc": "91330100MA2CDE0191"}}, headers=auth(home["key"])), 422)
    assert body["field"] == "uscc"
    assert len(service.registry.list_licenses(limit=1000)) == before


def test_authentication_and_department_isolation(client: TestClient, home: dict[str, Any],
                                                 issued: dict[str, Any]) -> None:
    assert_problem(client.post("/api/v1/licenses", json={"type": "resident-id", "fields": ID_FIELDS}), 401)
    assert_problem(client.post("/api/v1/licenses", json={"type": "resident-id", "fields": ID_FIELDS},
                               headers=auth("yx_wrong")), 401)
    assert_problem(client.get(f"/api/v1/licenses/{issued['identifier']}", headers=auth(home["other_key"])), 403)
    assert_problem(client.get(f"/api/v1/licenses/{issued['identifier']}/pdf", headers=auth(home["other_key"])),
                   403)


def test_malformed_requests_are_problems(client: TestClient, home: dict[str, Any]) -> None:
    assert_problem(client.post("/api/v1/verify/qr", json={"qr_text": "random words"}), 422)
    assert_problem(client.post("/api/v1/verify/qr", json={}), 422)
    assert_problem(client.post("/api/v1/verify/qr", content=b"{", headers={"content-type": "application/json"}), 422)
    assert_problem(client.post("/api/v1/licenses", json={"type": "no-such-type", "fields": {}},
                               headers=auth(home["key"])), 422)
    assert_problem(client.get("/api/v1/licenses/1.2.156.3005.2.bad", headers=auth(home["key"])), 422)
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_http_through_uvicorn(home: dict[str, Any], issued: dict[str, Any]) -> None:
    port = _free_port()
    env = {**os.environ, "YINXIN_PASSPHRASE": PASSPHRASE}
    server = subprocess.Popen([str(Path(sys.executable).parent / "yinxin"), "serve", "--home", str(home["path"]),
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        verified = httpx.post(f"{base}/verify/qr", json={"qr_text": issued["qr_text"]}, timeout=10)
        assert verified.json()["verdict"] == "VALID"
        created = httpx.post(f"{base}/licenses", json={"type": "business-licence", "fields": BUSINESS_FIELDS},
                             headers=auth(home["key"]), timeout=30)
        assert created.status_code == 201, created.text
    finally:
        server.terminate()
        server.wait(timeout=10)
