"""The scanning page /verify in a real headless Chromium (Debian's, driven by playwright) against the real app
served by uvicorn on loopback: upload a QR image, paste text, switch language, phone-sized layout, no request
to another origin, a strict Content-Security-Policy.

Needs what ``scripts/install.sh --test`` installs: /usr/bin/chromium, the playwright package, and jsQR in
node_modules (``npm ci``): Chromium on Linux has no BarcodeDetector, so the page decodes with jsQR here.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import base45
import cbor2
import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from api.presentations import add_holder, present
from api.routers.page import jsqr_path
from api.service import TrustService
from api.settings import load_settings
from issuance.qrimage import render_qr_png

CHROMIUM = Path(os.environ.get("YINXIN_CHROMIUM", "/usr/bin/chromium"))
# As root in a container, without the background services' network traffic (the machine has no network).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]
PASSPHRASE = "page test passphrase"
DEPT = ("11330100002500295Y", "示范市政务服务数据管理局")
ID_FIELDS = {
    "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
    "address": "浙江省示范市西湖区文三路1号", "holder_id_number": "330106199003071236",
    "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("page-home")
    service = TrustService.open(load_settings(path, {}), passphrase=lambda: PASSPHRASE)
    service.initialise()
    service.add_department(uscc=DEPT[0], name=DEPT[1])
    service.create_seal(uscc=DEPT[0])
    service.set_issuer(license_type="resident-id", uscc=DEPT[0], allowed=True, actor="test")
    record = service.issue_license(department_uscc=DEPT[0], license_type="resident-id", fields=ID_FIELDS,
                                   actor="test")
    _, hotel_key = service.add_principal(kind="verifier", name="示范宾馆前台", role="hotel")
    _, window_key = service.add_principal(kind="verifier", name="示范市政务服务中心3号窗口", role="window")
    holder, _ = add_holder(service, name="李明", holder_code=ID_FIELDS["holder_id_number"], holder_code_type="111")
    online = present(service, holder=holder, identifier=record.identifier, purpose="window").url
    return {"path": path, "qr_text": record.qr_text, "hotel_key": hotel_key, "window_key": window_key,
            "online_url": online}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(home: dict[str, Any]) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "YINXIN_HOME": str(home["path"]), "YINXIN_PASSPHRASE": PASSPHRASE}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_environment",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if server.poll() is not None:
                pytest.fail(f"uvicorn exited: {server.stderr.read().decode() if server.stderr else ''}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def camera_video(qr_text: str, path: Path) -> Path:
    """A Y4M video (YUV 4:2:0) showing the QR code, for Chromium's fake camera (--use-file-for-fake-video-capture)."""
    qr = Image.open(io.BytesIO(render_qr_png(qr_text))).convert("L")
    frame = Image.new("L", (640, 640), 255)
    frame.paste(qr, ((640 - qr.width) // 2, (640 - qr.height) // 2))
    chroma = bytes([128]) * (320 * 320)
    path.write_bytes(b"YUV4MPEG2 W640 H640 F10:1 Ip A1:1 C420jpeg\n"
                     + (b"FRAME\n" + frame.tobytes() + chroma + chroma) * 2)
    return path


@pytest.fixture(scope="module")
def browser(base_url: str, home: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # After the home and the server: playwright's sync API runs an event loop in this thread, and making the
    # home (pyHanko) must not run inside it.
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: run `bash scripts/install.sh --test` (Debian chromium)")
    video = camera_video(home["qr_text"], tmp_path_factory.mktemp("camera") / "qr.y4m")
    camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS + camera)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh page whose every request is recorded, with console errors (CSP violations included) collected."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.requests = []
    tab.errors = []

    def on_request(request: Any) -> None:
        tab.requests.append(request)

    def on_console(message: Any) -> None:
        # Chromium logs every 4xx as an error; an API's 4xx answer is expected (a QR that is not a credential).
        if message.type == "error" and "/api/v1/" not in message.location.get("url", ""):
            tab.errors.append(f"{message.text} {message.location.get('url', '')}")

    tab.on("request", on_request)
    tab.on("console", on_console)
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    foreign = [r.url for r in tab.requests if not r.url.startswith((base_url + "/", "blob:", "data:"))]
    assert foreign == [], f"the page made requests to other origins: {foreign}"
    context.close()


def tampered(qr_text: str) -> str:
    """The same credential with the holder's name changed after signing (COSE_Sign1 payload edited, RFC 9052)."""
    cose = cbor2.loads(zlib.decompress(base45.b45decode(qr_text.removeprefix("YX1:"))))
    protected, unprotected, payload, signature = cose.value
    forged = payload.replace("李明".encode(), "王明".encode())
    assert forged != payload
    cose = cbor2.CBORTag(cose.tag, [protected, unprotected, forged, signature])
    return "YX1:" + base45.b45encode(zlib.compress(cbor2.dumps(cose), 9)).decode("ascii")


def use_key(page: Any, key: str) -> None:
    """Type the verifier key into the page's settings, as staff would."""
    page.locator("details.settings summary").click()
    page.locator("#verifier-key").fill(key)


def upload_png(page: Any, png: bytes) -> None:
    page.set_input_files("#image-file", files=[{"name": "qr.png", "mimeType": "image/png", "buffer": png}])


def verdict(page: Any) -> Any:
    box = page.locator("#verdict")
    expect(box).not_to_have_class("verdict verdict-busy")
    expect(box).not_to_have_class("verdict verdict-idle")
    return box


def test_page_headers_and_assets(base_url: str) -> None:
    response = httpx.get(f"{base_url}/verify")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = {d.split()[0]: d.split()[1:] for d in response.headers["content-security-policy"].split("; ")}
    assert csp["default-src"] == ["'none'"] and csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    # No inline script, style or event handler: all of them would be refused by script-src 'self'.
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None
    assert re.search(r"\s(on[a-z]+|style)\s*=", response.text) is None
    jsqr = httpx.get(f"{base_url}/vendor/jsQR.js")
    assert jsqr.status_code == 200, "jsQR is not served: run `npm ci` in the repository"
    assert jsqr.content == jsqr_path().read_bytes()  # type: ignore[union-attr]
    assert httpx.get(f"{base_url}/static/verify.js").status_code == 200


def test_upload_valid_then_tampered_qr_image(page: Any, base_url: str, home: dict[str, Any]) -> None:
    page.goto(f"{base_url}/verify")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#verdict-text")).to_have_text("请扫码、上传图片或粘贴内容")
    use_key(page, home["hotel_key"])

    upload_png(page, render_qr_png(home["qr_text"]))
    expect(page.locator("#verdict")).to_have_class("verdict verdict-valid")
    expect(page.locator("#verdict-text")).to_have_text("有效")
    expect(page.locator("#verdict-sub")).to_have_text("证照状态：正常")
    expect(page.locator("#result-notes")).to_contain_text("核验角色：旅馆住宿登记")
    fields = page.locator("#fields")
    shown = dict(zip(fields.locator("dt").all_inner_texts(), fields.locator("dd").all_inner_texts(), strict=True))
    assert shown["姓名"] == "李明"
    assert shown["公民身份号码(脱敏)"] == "330106********1236"
    assert shown["有效期截止"] == "2040-05-01"
    assert "330106199003071236" not in page.locator("#result").inner_text()  # a hotel never sees the full number
    assert page.locator("#verdict").get_attribute("aria-live") == "assertive"
    assert page.locator("#problems").is_hidden()

    upload_png(page, render_qr_png(tampered(home["qr_text"])))
    expect(page.locator("#verdict-text")).to_have_text("无效")
    expect(page.locator("#verdict")).to_have_class("verdict verdict-invalid")
    expect(page.locator("#problem-list")).to_contain_text("签名不符")
    assert page.locator("#fields").is_hidden()  # nothing from a forged credential is shown as fact
    assert "王明" not in page.locator("#result").inner_text()

    posts = [r for r in page.requests if r.url == f"{base_url}/api/v1/verify/qr"]
    assert len(posts) == 2 and all(r.method == "POST" for r in posts)
    assert all(r.headers["authorization"] == f"Bearer {home['hotel_key']}" for r in posts)
    assert page.errors == []


def test_camera_scan(page: Any, base_url: str, home: dict[str, Any]) -> None:
    """The camera path: frames from Chromium's fake camera (a video of the QR code) decoded in the page."""
    page.goto(f"{base_url}/verify")
    expect(page.locator("#camera-stop")).to_be_hidden()
    expect(page.locator("#camera")).to_be_hidden()
    use_key(page, home["hotel_key"])
    page.get_by_role("button", name="打开摄像头").click()
    expect(page.locator("#verdict-text")).to_have_text("有效")
    expect(page.locator("#fields")).to_contain_text("李明")
    # A hit stops the camera: the stream is released and the start button is back.
    expect(page.locator("#camera")).to_be_hidden()
    expect(page.locator("#camera-start")).to_be_visible()
    assert page.evaluate("document.getElementById('camera').srcObject") is None
    assert page.errors == []


def test_paste_without_key_then_window_in_english(page: Any, base_url: str, home: dict[str, Any]) -> None:
    page.goto(f"{base_url}/verify")
    page.get_by_label("以 YX1: 开头的文本，或在线核验链接").fill(home["qr_text"])
    page.get_by_role("button", name="核验", exact=True).click()
    expect(page.locator("#verdict-text")).to_have_text("有效")
    expect(page.locator("#result-notes")).to_contain_text("未使用核验方密钥")
    assert "李明" not in page.locator("#result").inner_text()  # no key: who issued it, but nothing of the holder
    expect(page.locator("#fields")).to_contain_text("签发方")
    assert "authorization" not in next(r for r in page.requests if r.url.endswith("/verify/qr")).headers

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Licence verification")
    expect(page.locator("#verdict-text")).to_have_text("Valid")  # the shown result is re-labelled, not lost
    page.locator("details.settings summary").click()
    page.get_by_label("Verifier key (optional)").fill("not-a-verifier-key")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("#verdict-text")).to_have_text("Cannot confirm")  # amber: no answer, not a forgery
    expect(page.locator("#verdict")).to_have_class("verdict verdict-indeterminate")
    expect(page.locator("#problem-list")).to_contain_text("verifier key is missing or not valid")

    page.get_by_label("Verifier key (optional)").fill(home["window_key"])
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("#result-notes")).to_contain_text("Acceptance record kept")
    fields = page.locator("#fields")
    shown = dict(zip(fields.locator("dt").all_inner_texts(), fields.locator("dd").all_inner_texts(), strict=True))
    assert shown["Name"] == "李明" and shown["ID number (masked)"] == "330106********1236"
    assert shown["Status"] == "In force"  # the policy's 正常, in the page's language

    page.get_by_role("button", name="中文").click()
    expect(page.locator("#verdict-text")).to_have_text("有效")
    expect(page.locator("#fields")).to_contain_text("公民身份号码")
    page.reload()  # the key stays for this tab's session
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert page.locator("#verifier-key").input_value() == home["window_key"]

    page.get_by_label("以 YX1: 开头的文本，或在线核验链接").fill("HTTPS://EXAMPLE.COM/NOT-A-CREDENTIAL")
    page.get_by_role("button", name="核验", exact=True).click()
    expect(page.locator("#verdict-text")).to_have_text("无效")
    expect(page.locator("#problem-list")).to_contain_text("不是有效的印信证照二维码")
    assert page.errors == []


def test_online_presentation_link_is_used_once(page: Any, base_url: str, home: dict[str, Any]) -> None:
    """A holder's online presentation (…/v/<token>) pasted at a service window: the whole licence, then refused."""
    page.goto(f"{base_url}/verify")
    paste = page.get_by_label("以 YX1: 开头的文本，或在线核验链接")
    paste.fill(home["online_url"])
    page.get_by_role("button", name="核验", exact=True).click()
    expect(page.locator("#verdict-text")).to_have_text("无法确认")  # a link needs a verifier key
    expect(page.locator("#problem-list")).to_contain_text("需要核验方密钥")

    use_key(page, home["window_key"])
    page.get_by_role("button", name="核验", exact=True).click()
    expect(page.locator("#verdict-text")).to_have_text("有效")
    fields = page.locator("#fields")
    shown = dict(zip(fields.locator("dt").all_inner_texts(), fields.locator("dd").all_inner_texts(), strict=True))
    assert shown["公民身份号码"] == ID_FIELDS["holder_id_number"]  # the window's 容缺受理 sees the whole licence
    assert shown["住址"] == ID_FIELDS["address"]
    expect(page.locator("#result-notes")).to_contain_text("容缺受理记录")

    page.get_by_role("button", name="核验", exact=True).click()  # the same link again
    expect(page.locator("#verdict-text")).to_have_text("无效")
    expect(page.locator("#problem-list")).to_contain_text("已使用")
    assert page.locator("#fields").is_hidden()
    assert page.errors == []


def test_phone_sized_screen(browser: Any, base_url: str, home: dict[str, Any], tmp_path: Path) -> None:
    """On a 390×844 phone screen the verdict is large and above the fold, and nothing scrolls sideways.

    Screenshots go to ``$YINXIN_SCREENSHOTS`` (else the test's temporary folder) for a person to look at.
    """
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    shots = Path(os.environ.get("YINXIN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(f"{base_url}/verify")
        use_key(page, home["hotel_key"])
        for name, text, word in (("valid", home["qr_text"], "有效"), ("invalid", tampered(home["qr_text"]), "无效")):
            upload_png(page, render_qr_png(text))
            expect(page.locator("#verdict-text")).to_have_text(word)
            page.screenshot(path=str(shots / f"verify-390x844-{name}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
            verdict_box = page.locator("#verdict").bounding_box()
            assert verdict_box is not None and verdict_box["y"] + verdict_box["height"] < 844  # seen at once
            assert verdict_box["height"] >= 120  # large, not a line of small print
            text_box = page.locator("#verdict-text").bounding_box()
            assert text_box is not None and text_box["height"] >= 48
    finally:
        context.close()


def test_page_loads_without_jsqr(home: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                 caplog: pytest.LogCaptureFixture) -> None:
    """Without node_modules the app still starts and serves the page (BarcodeDetector browsers), with a warning."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    monkeypatch.setenv("YINXIN_NODE_MODULES", str(tmp_path / "no-node-modules"))
    with caplog.at_level("WARNING", logger="yinxin.api.page"):
        app = create_app(load_settings(home["path"], {}), passphrase=lambda: PASSPHRASE)
    assert any("jsQR not found" in r.getMessage() for r in caplog.records)
    with TestClient(app) as client:
        assert client.get("/verify").status_code == 200
        missing = client.get("/vendor/jsQR.js")
        assert missing.status_code == 404 and "npm ci" in missing.json()["detail"]
