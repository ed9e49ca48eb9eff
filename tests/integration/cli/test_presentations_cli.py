"""The presentations commands: ``verifier add|list``, ``holder add|list``, ``present`` (api.presentations.add_commands).

The commands are registered on a parser built like ``cli.build_parser`` builds its own, so this runs the
real handlers on a real home; the printed QR image is read back with zxing-cpp.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from api.presentations import add_commands, verify_qr_as
from api.service import ForbiddenError, TrustService
from api.settings import load_settings
from issuance.errors import FieldValidationError

PASSPHRASE = "presentations cli passphrase"
DEPT = ("11330100002500295Y", "示范市公安局")
ID_NUMBER = "330106199003071236"
ID_FIELDS = {
    "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
    "address": "浙江省示范市西湖区文三路1号", "holder_id_number": ID_NUMBER,
    "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home")
    common.add_argument("--json", action="store_true")
    common.add_argument("--verbose", action="store_true")
    parser = argparse.ArgumentParser(prog="yinxin", parents=[common])
    add_commands(parser.add_subparsers(dest="command", required=True), common)
    return parser


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    args = _parser().parse_args([*argv, "--json"])
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.setenv("YINXIN_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("YINXIN_HOLDER_KEY", raising=False)
    service = TrustService.open(load_settings(tmp_path, {}), passphrase=lambda: PASSPHRASE)
    service.initialise()
    service.add_department(uscc=DEPT[0], name=DEPT[1])
    service.create_seal(uscc=DEPT[0])
    service.set_issuer(license_type="resident-id", uscc=DEPT[0], allowed=True, actor="test")
    licence = service.issue_license(department_uscc=DEPT[0], license_type="resident-id", fields=ID_FIELDS,
                                    actor="test")
    return tmp_path, licence.identifier


def test_verifiers_and_holders_are_added_and_listed(capsys: pytest.CaptureFixture[str],
                                                    home: tuple[Path, str]) -> None:
    path = str(home[0])
    hotel = run(capsys, "verifier", "add", "--name", "西湖宾馆前台", "--role", "hotel", "--home", path)
    assert hotel["role"] == "hotel" and hotel["api_key"].startswith("yx_")
    listed = run(capsys, "verifier", "list", "--home", path)
    assert [(v["name"], v["role"], v["role_label"]) for v in listed] == [("西湖宾馆前台", "hotel", "旅馆住宿登记")]
    with pytest.raises(SystemExit):  # argparse refuses a role the policy does not define
        _parser().parse_args(["verifier", "add", "--name", "x", "--role", "casino"])

    holder = run(capsys, "holder", "add", "--name", "李明", "--holder-code", ID_NUMBER.lower(),
                 "--holder-code-type", "111", "--home", path)
    assert holder["api_key"].startswith("yx_")
    listed_holders = run(capsys, "holder", "list", "--home", path)
    assert listed_holders == [{**listed_holders[0], "name": "李明", "holder_code_type": "111"}]
    assert ID_NUMBER not in json.dumps(listed_holders)
    args = _parser().parse_args(["holder", "add", "--name", "王芳", "--holder-code", "330106199003071235",
                                 "--holder-code-type", "111", "--home", path])
    with pytest.raises(FieldValidationError) as caught:
        args.func(args)
    assert caught.value.field == "holder_code"


def test_present_prints_the_offline_qr_and_the_online_url(capsys: pytest.CaptureFixture[str],
                                                          home: tuple[Path, str], tmp_path: Path) -> None:
    path, identifier = str(home[0]), home[1]
    key = run(capsys, "holder", "add", "--name", "李明", "--holder-code", ID_NUMBER, "--holder-code-type", "111",
              "--home", path)["api_key"]
    png = tmp_path / "qr.png"
    shown = run(capsys, "present", "--holder-key", key, "--license", identifier, "--purpose", "hotel",
                "--out", str(png), "--home", path)
    assert shown["qr_text"].startswith("YX1:") and "/v/" in shown["url"]
    assert shown["claims"] == ["ZZYXQJZRQ", "holder_code", "name", "purpose"]
    (decoded,) = zxingcpp.read_barcodes(Image.open(png))
    assert decoded.text == shown["qr_text"]

    service = TrustService.open(load_settings(home[0], {}), passphrase=lambda: PASSPHRASE)
    hotel = service.principal_for_api_key(
        run(capsys, "verifier", "add", "--name", "前台", "--role", "hotel", "--home", path)["api_key"],
        kind="verifier")
    assert hotel is not None
    seen = verify_qr_as(service, shown["qr_text"], verifier=hotel)
    assert seen.result.verdict.value == "VALID"
    assert dict(seen.result.disclosed) == {"name": "李明", "holder_code": "330106********1236",
                                           "ZZYXQJZRQ": "2040-05-01"}
    assert verify_qr_as(service, shown["url"], verifier=hotel).channel == "online"

    human = _parser().parse_args(["present", "--holder-key", key, "--license", identifier, "--purpose", "police",
                                  "--home", path])
    assert human.func(human) == 0
    out = capsys.readouterr().out
    assert "Offline QR" in out and "YX1:" in out and "/v/" in out

    wrong = _parser().parse_args(["present", "--holder-key", "yx_not-a-key", "--license", identifier,
                                  "--purpose", "hotel", "--home", path])
    with pytest.raises(ForbiddenError):
        wrong.func(wrong)
