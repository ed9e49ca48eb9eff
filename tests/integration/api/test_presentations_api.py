"""Issue 5 through the API: holder presentations, disclosure by verifier role, anti-replay, hostile QR input.

Everything goes through the app as served (TestClient over ``create_app``; one test over real HTTP with
uvicorn). The clock is injected, so expiry is tested one second either side of its boundary.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import base45
import cbor2
import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.presentations import add_holder, add_verifier
from api.service import TrustService
from api.settings import load_settings
from registry.presentations import list_acceptance_records

PASSPHRASE = "presentations api passphrase"
DEPT = ("11330100002500295Y", "示范市公安局")
ID_NUMBER = "330106199003071236"
MASKED_ID = "330106********1236"
OTHER_ID_NUMBER = "11010519491231002X"
ID_FIELDS = {
    "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
    "address": "浙江省示范市西湖区文三路1号", "holder_id_number": ID_NUMBER,
    "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
}
DRIVING_FIELDS = {
    "name": "李明", "sex": "男", "nationality": "中国", "address": "浙江省示范市西湖区文三路1号",
    "birth_date": "1990-03-07", "first_issue_date": "2012-06-01", "vehicle_class": "C1",
    "holder_id_number": ID_NUMBER, "valid_from": "2024-06-01", "valid_until": "2030-06-01",
}
BUSINESS_FIELDS = {
    "uscc": "91330100MA2CDE019E", "name": "示范科技有限公司", "entity_type": "有限责任公司",
    "legal_representative": "李明", "registered_capital": "100", "established": "2019-08-01",
    "business_term": "长期", "address": "浙江省示范市滨江区网商路699号", "business_scope": "软件开发。",
}


class Clock:
    """The injected clock of the app under test: real time at the start, moved only by the tests."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"] and body["code"]
    return body


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("presentations-home")
    setup = TrustService.open(load_settings(path, {}), passphrase=lambda: PASSPHRASE, clock=clock)
    setup.initialise()
    _, dept_key = setup.add_department(uscc=DEPT[0], name=DEPT[1])
    setup.create_seal(uscc=DEPT[0])
    for slug in ("resident-id", "driving-licence", "business-licence"):
        setup.set_issuer(license_type=slug, uscc=DEPT[0], allowed=True, actor="test")
    _, holder_key = add_holder(setup, name="李明", holder_code=ID_NUMBER, holder_code_type="111")
    _, other_holder_key = add_holder(setup, name="王芳", holder_code=OTHER_ID_NUMBER, holder_code_type="111")
    keys = {role: add_verifier(setup, name=f"{role} verifier", role=role)[1] for role in ("hotel", "police", "window")}
    app = create_app(load_settings(path, {}), passphrase=lambda: PASSPHRASE, clock=clock)
    with TestClient(app) as client:
        yield {"path": path, "client": client, "dept": dept_key, "holder": holder_key,
               "other_holder": other_holder_key, **keys}


def issue(env: dict[str, Any], license_type: str, fields: dict[str, str]) -> dict[str, Any]:
    response = env["client"].post("/api/v1/licenses", json={"type": license_type, "fields": fields},
                                  headers=auth(env["dept"]))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def e_id(env: dict[str, Any]) -> dict[str, Any]:
    return issue(env, "resident-id", ID_FIELDS)


@pytest.fixture(scope="module")
def driving(env: dict[str, Any]) -> dict[str, Any]:
    return issue(env, "driving-licence", DRIVING_FIELDS)


def present(env: dict[str, Any], identifier: str, purpose: str, **extra: Any) -> dict[str, Any]:
    response = env["client"].post("/api/v1/presentations", json={"license": identifier, "purpose": purpose, **extra},
                                  headers=auth(env["holder"]))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def verify(env: dict[str, Any], text: str, role: str | None) -> httpx.Response:
    headers = auth(env[role]) if role else {}
    response: httpx.Response = env["client"].post("/api/v1/verify/qr", json={"qr_text": text}, headers=headers)
    return response


def open_url(env: dict[str, Any], url: str, role: str | None) -> httpx.Response:
    headers = auth(env[role]) if role else {}
    response: httpx.Response = env["client"].get(httpx.URL(url).path, headers=headers)
    return response


# -- disclosure by role --------------------------------------------------------------------------------------

def test_a_hotel_never_receives_the_full_id_number_or_the_driving_licence_class(
    env: dict[str, Any], driving: dict[str, Any], e_id: dict[str, Any]
) -> None:
    seen: list[httpx.Response] = []
    # the hotel's own presentation, offline and online, of both licences
    for licence in (driving, e_id):
        issued = present(env, licence["identifier"], "hotel")
        assert set(issued["claims"]) == {"name", "holder_code", "ZZYXQJZRQ", "purpose"}
        seen.append(verify(env, issued["qr_text"], "hotel"))
        seen.append(open_url(env, issued["url"], "hotel"))
    # codes made for others, and the QR printed on the licence face
    seen.append(verify(env, present(env, driving["identifier"], "police")["qr_text"], "hotel"))
    seen.append(verify(env, present(env, driving["identifier"], "window")["qr_text"], "hotel"))
    seen.append(open_url(env, present(env, driving["identifier"], "window")["url"], "hotel"))
    seen.append(verify(env, driving["qr_text"], "hotel"))
    seen.append(verify(env, e_id["qr_text"], "hotel"))

    for response in seen:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verdict"] == "VALID" and body["role"] == "hotel", body
        assert ID_NUMBER not in response.text, "the full ID number reached a hotel"
        assert "vehicle_class" not in body["disclosed"] and "C1" not in json.dumps(body["disclosed"])
        assert set(body["disclosed"]) <= {"name", "holder_code", "ZZYXQJZRQ"}
        if "holder_code" in body["disclosed"]:
            assert body["disclosed"]["holder_code"] == MASKED_ID
    # what the hotel's own presentation shows, exactly
    assert seen[0].json()["disclosed"] == {"name": "李明", "holder_code": MASKED_ID, "ZZYXQJZRQ": "2030-06-01"}
    assert seen[1].json()["disclosed"] == seen[0].json()["disclosed"]
    assert seen[1].json()["channel"] == "online" and seen[1].json()["presented_for"] == "hotel"


def test_the_qr_printed_on_the_licence_face_carries_the_id_number_masked(
    driving: dict[str, Any], e_id: dict[str, Any]
) -> None:
    for licence in (driving, e_id):
        cose = cbor2.loads(zlib.decompress(base45.b45decode(licence["qr_text"][4:])))
        claims = cbor2.loads(cose.value[2])[-70000][4]
        assert claims["holder_code"] == MASKED_ID and ID_NUMBER not in json.dumps(claims)
        assert ID_NUMBER not in licence["qr_text"]


def test_without_a_verifier_key_no_field_is_shown(env: dict[str, Any], driving: dict[str, Any]) -> None:
    window_code = present(env, driving["identifier"], "window")["qr_text"]
    for text in (driving["qr_text"], window_code):
        response = verify(env, text, None)
        body = response.json()
        assert body["verdict"] == "VALID" and body["status"] == "active"
        assert body["disclosed"] == {} and body["role"] is None and "verifier key" in body["disclosure_note"]
        assert ID_NUMBER not in response.text and "李明" not in response.text
    # an online presentation is opened only by a verifier
    url = present(env, driving["identifier"], "hotel")["url"]
    assert_problem(open_url(env, url, None), 401)
    assert_problem(verify(env, url, None), 401)
    # a key that is not a verifier's is refused, not downgraded to the anonymous answer
    assert_problem(verify(env, driving["qr_text"], "holder"), 401)
    assert_problem(verify(env, driving["qr_text"], "dept"), 401)


def test_police_receive_the_driving_licence_status(env: dict[str, Any], e_id: dict[str, Any]) -> None:
    licence = issue(env, "driving-licence", DRIVING_FIELDS)
    issued = present(env, licence["identifier"], "police")
    assert set(issued["claims"]) == {"vehicle_class", "ZZYXQJZRQ", "purpose"}
    body = verify(env, issued["qr_text"], "police").json()
    assert body["verdict"] == "VALID"
    assert body["disclosed"] == {"ZT": "正常", "vehicle_class": "C1", "ZZYXQJZRQ": "2030-06-01"}
    online = open_url(env, present(env, licence["identifier"], "police")["url"], "police").json()
    assert online["disclosed"] == body["disclosed"]

    for action, label in (("suspend", "暂扣"), ("resume", "正常"), ("revoke", "吊销")):
        done = env["client"].post(f"/api/v1/licenses/{licence['identifier']}/{action}", json={"reason": "路面执勤查处"},
                                  headers=auth(env["dept"]))
        assert done.status_code == 200, done.text
        seen = verify(env, licence["qr_text"], "police").json()
        assert seen["disclosed"]["ZT"] == label
        assert seen["verdict"] == ("VALID" if label == "正常" else "INVALID")
    # a revoked licence gets no fresh presentation
    refused = env["client"].post("/api/v1/presentations", json={"license": licence["identifier"], "purpose": "police"},
                                 headers=auth(env["holder"]))
    assert "revoked" in assert_problem(refused, 409)["detail"]
    # the e-ID: name and validity only
    e_id_body = verify(env, present(env, e_id["identifier"], "police")["qr_text"], "police").json()
    assert e_id_body["disclosed"] == {"name": "李明", "ZZYXQJZRQ": "2040-05-01"}


def test_a_window_receives_the_whole_licence_and_an_acceptance_record_is_written(
    env: dict[str, Any], e_id: dict[str, Any]
) -> None:
    service: TrustService = env["client"].app.state.service
    before = len(list_acceptance_records(service.registry, identifier=e_id["identifier"]))
    offline = verify(env, present(env, e_id["identifier"], "window")["qr_text"], "window").json()
    online = open_url(env, present(env, e_id["identifier"], "window")["url"], "window").json()
    for body in (offline, online):
        assert body["verdict"] == "VALID" and body["role"] == "window" and body["purpose"] == "政务服务窗口容缺受理"
        assert {k: body["disclosed"][k] for k in ID_FIELDS} == ID_FIELDS, "the whole licence"
        assert body["disclosed"]["ZT"] == "正常"
        assert body["acceptance"]["identifier"] == e_id["identifier"]
    records = list_acceptance_records(service.registry, identifier=e_id["identifier"])
    assert len(records) == before + 2
    assert {r.id for r in records[:2]} == {offline["acceptance"]["id"], online["acceptance"]["id"]}
    assert records[0].purpose == "政务服务窗口容缺受理" and records[0].detail["verdict"] == "VALID"
    # an invalid code is not accepted
    text = present(env, e_id["identifier"], "window")["qr_text"]
    tampered = text[:60] + ("A" if text[60] != "A" else "B") + text[61:]
    bad = verify(env, tampered, "window").json()
    assert bad["verdict"] == "INVALID" and bad["acceptance"] is None and bad["disclosed"] == {}
    # nor is an authentic code of a suspended licence
    suspended = issue(env, "resident-id", ID_FIELDS)
    done = env["client"].post(f"/api/v1/licenses/{suspended['identifier']}/suspend", json={"reason": "核查"},
                              headers=auth(env["dept"]))
    assert done.status_code == 200, done.text
    seen = verify(env, suspended["qr_text"], "window").json()
    assert seen["verdict"] == "INVALID" and seen["disclosed"]["ZT"] == "暂扣" and seen["acceptance"] is None
    assert list_acceptance_records(service.registry, identifier=suspended["identifier"]) == []


def test_every_verification_is_recorded_with_verifier_role_and_purpose(
    env: dict[str, Any], driving: dict[str, Any]
) -> None:
    service: TrustService = env["client"].app.state.service
    verify(env, present(env, driving["identifier"], "police")["qr_text"], "hotel")
    event = service.registry.list_events(kind="license.verified", subject=driving["identifier"], limit=1)[0]
    assert event.actor == "verifier:hotel verifier"
    assert event.detail["role"] == "hotel" and event.detail["purpose"] == "旅馆住宿登记"
    assert event.detail["presented_for"] == "police" and event.detail["verifier"] == "hotel verifier"
    assert list(event.detail["fields"]) == ["ZZYXQJZRQ"], "the police code carries no name for the hotel"
    assert ID_NUMBER not in json.dumps(dict(event.detail), ensure_ascii=False)


def test_a_role_sees_nothing_of_a_type_its_policy_does_not_cover(env: dict[str, Any]) -> None:
    licence = issue(env, "business-licence", BUSINESS_FIELDS)
    body = verify(env, licence["qr_text"], "hotel").json()
    assert body["verdict"] == "VALID" and body["disclosed"] == {}
    assert "no disclosure rule" in body["disclosure_note"] and "name" in body["withheld"]


# -- who may present what -------------------------------------------------------------------------------------

def test_a_holder_presents_only_their_own_licences(env: dict[str, Any], e_id: dict[str, Any]) -> None:
    client = env["client"]
    mine = client.get("/api/v1/holder/licenses", headers=auth(env["holder"])).json()
    assert e_id["identifier"] in {m["identifier"] for m in mine}
    assert client.get("/api/v1/holder/licenses", headers=auth(env["other_holder"])).json() == []
    stolen = client.post("/api/v1/presentations", json={"license": e_id["identifier"], "purpose": "hotel"},
                         headers=auth(env["other_holder"]))
    assert "own" in assert_problem(stolen, 403)["detail"]
    assert_problem(client.post("/api/v1/presentations", json={"license": e_id["identifier"], "purpose": "hotel"},
                               headers=auth(env["hotel"])), 401)
    assert_problem(client.post("/api/v1/presentations", json={"license": e_id["identifier"], "purpose": "hotel"}),
                   401)
    unknown_role = client.post("/api/v1/presentations", json={"license": e_id["identifier"], "purpose": "casino"},
                               headers=auth(env["holder"]))
    assert "casino" in assert_problem(unknown_role, 422)["detail"]


# -- anti-replay ---------------------------------------------------------------------------------------------

def test_a_used_online_token_fails_on_reuse(env: dict[str, Any], e_id: dict[str, Any]) -> None:
    url = present(env, e_id["identifier"], "hotel")["url"]
    assert open_url(env, url, "hotel").status_code == 200
    again = assert_problem(open_url(env, url, "hotel"), 410)
    assert again["code"] == "presentation_used" and "already used" in again["detail"]
    assert assert_problem(open_url(env, url, "police"), 410)["code"] == "presentation_used"
    assert assert_problem(verify(env, url, "window"), 410)["code"] == "presentation_used"
    unknown = httpx.URL(url).path.rsplit("/", 1)[0] + "/" + secrets.token_urlsafe(32)
    assert_problem(env["client"].get(unknown, headers=auth(env["hotel"])), 404)


def test_an_expired_offline_qr_fails_with_expired(env: dict[str, Any], clock: Clock, e_id: dict[str, Any]) -> None:
    issued = present(env, e_id["identifier"], "hotel")
    expires = datetime.fromisoformat(issued["expires_at"])
    assert expires - clock.now == timedelta(minutes=5), "presentations last 5 minutes by default"
    start = clock.now
    try:
        clock.now = expires - timedelta(seconds=1)
        assert verify(env, issued["qr_text"], "hotel").json()["verdict"] == "VALID"
        clock.now = expires
        body = verify(env, issued["qr_text"], "hotel").json()
        assert body["verdict"] == "INVALID"
        assert any("expired" in reason for reason in body["reasons"]), body["reasons"]
        # the online half of the same presentation expires with it
        expired = assert_problem(open_url(env, issued["url"], "hotel"), 410)
        assert expired["code"] == "expired" and "expired" in expired["detail"]
    finally:
        clock.now = start


# -- hostile input ----------------------------------------------------------------------------------------------

def _zlib_bomb() -> str:
    # 4 MB of zeros compress to ~4 KB of deflate; 512 KB to ~500 bytes: a short text that inflates 1,000-fold.
    return "YX1:" + base45.b45encode(zlib.compress(b"\0" * (512 * 1024), 9)).decode("ascii")


@pytest.mark.parametrize("role", [None, "hotel"])
def test_hostile_qr_texts_get_a_clear_4xx_never_a_500(env: dict[str, Any], role: str | None) -> None:
    client = env["client"]
    headers = auth(env[role]) if role else {}
    bomb = _zlib_bomb()
    assert len(bomb) < 4096
    random_bytes = secrets.token_bytes(3000)
    cases = {
        "100 KB": (client.post("/api/v1/verify/qr", json={"qr_text": "YX1:" + "A" * 100_000}, headers=headers),
                   (413, 422)),
        "zlib bomb": (client.post("/api/v1/verify/qr", json={"qr_text": bomb}, headers=headers), (413,)),
        "random bytes as the body": (client.post("/api/v1/verify/qr", content=random_bytes,
                                                 headers={**headers, "content-type": "application/json"}), (400, 422)),
        "random bytes as the text": (client.post("/api/v1/verify/qr", json={"qr_text": random_bytes.decode("latin-1")},
                                                 headers=headers), (413, 422)),
        "random base64 as the text": (client.post("/api/v1/verify/qr",
                                                  json={"qr_text": base64.b64encode(random_bytes[:600]).decode()},
                                                  headers=headers), (422,)),
        "wrong prefix": (client.post("/api/v1/verify/qr", json={"qr_text": "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5"},
                                     headers=headers), (422,)),
    }
    for name, (response, expected) in cases.items():
        body = assert_problem(response, response.status_code)
        assert response.status_code in expected, f"{name}: {response.status_code} {response.text[:300]}"
        assert len(body["detail"]) < 500, name
    assert "YX1" in cases["wrong prefix"][0].json()["detail"]
    assert "decompress" in cases["zlib bomb"][0].json()["detail"] or "64" in cases["zlib bomb"][0].json()["detail"]


# -- real HTTP ---------------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_presentation_over_real_http(env: dict[str, Any], driving: dict[str, Any]) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = {**os.environ, "YINXIN_PASSPHRASE": PASSPHRASE, "YINXIN_HOME": str(env["path"]),
                  "YINXIN_BASE_URL": base}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app_from_environment", "--factory", "--host", "127.0.0.1",
         "--port", str(port)],
        env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[3])
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        made = httpx.post(f"{base}/api/v1/presentations", json={"license": driving["identifier"], "purpose": "hotel"},
                          headers=auth(env["holder"]), timeout=10)
        assert made.status_code == 201, made.text
        url = made.json()["url"]
        assert url.startswith(f"{base}/v/")
        opened = httpx.get(url, headers=auth(env["hotel"]), timeout=10)
        assert opened.status_code == 200, opened.text
        assert opened.json()["disclosed"] == {"name": "李明", "holder_code": MASKED_ID, "ZZYXQJZRQ": "2030-06-01"}
        assert ID_NUMBER not in opened.text and "C1" not in json.dumps(opened.json()["disclosed"])
        assert httpx.get(url, headers=auth(env["hotel"]), timeout=10).status_code == 410
        offline = httpx.post(f"{base}/api/v1/verify/qr", json={"qr_text": made.json()["qr_text"]},
                             headers=auth(env["police"]), timeout=10).json()
        assert offline["verdict"] == "VALID" and offline["disclosed"] == {"ZT": "正常", "ZZYXQJZRQ": "2030-06-01"}
    finally:
        server.terminate()
        server.wait(timeout=10)
