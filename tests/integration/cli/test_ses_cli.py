"""GB/T 38540 from the command line: export a seal (.esl), sign a file (.dat), verify both, verify OFD files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

YINXIN = str(Path(sys.executable).parent / "yinxin")
ENV = {**os.environ, "YINXIN_PASSPHRASE": "ses cli passphrase"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([YINXIN, *args], capture_output=True, text=True, env=ENV, check=False, timeout=300)


def checks(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {c["name"]: c["result"] for c in json.loads(done.stdout)["checks"]}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("ses")
    home = str(base / "home")
    assert run("init", "--home", home, "--algorithm", "sm2").returncode == 0
    assert run("init", "--home", home, "--algorithm", "p256").returncode == 0
    assert run("dept", "add", "--home", home, "--uscc", "11330100002500295Y", "--name", "示范市公安局",
               "--algorithm", "sm2").returncode == 0
    sm2_seal = json.loads(run("seal", "create", "--home", home, "--dept", "11330100002500295Y", "--json").stdout)
    p256_seal = json.loads(run("seal", "create", "--home", home, "--dept", "11330100002500295Y", "--type", "合同专用章",
                               "--algorithm", "p256", "--json").stdout)
    return {"home": home, "base": base, "sm2": sm2_seal["seal_id"], "p256": p256_seal["seal_id"]}


def test_exported_seal_verifies(home: dict[str, Any]) -> None:
    esl = home["base"] / "seal.esl"
    assert run("seal", "export", home["sm2"], "--home", home["home"], "--out", str(esl)).returncode == 0
    done = run("verify", str(esl), "--home", home["home"], "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["kind"] == "ses-seal" and result["verdict"] == "VALID"
    assert result["disclosed"]["vendor"] == "YINXIN" and result["disclosed"]["layout"] == 4
    # One flipped byte inside the seal's picture (signed by the maker) fails the maker's signature.
    data = bytearray(esl.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = home["base"] / "bad.esl"
    bad.write_bytes(bytes(data))
    done = run("verify", str(bad), "--home", home["home"], "--json")
    assert done.returncode == 1
    assert checks(done)["seal_signature"] == "failed"


def test_a_p256_seal_cannot_be_a_gbt38540_seal(home: dict[str, Any]) -> None:
    done = run("seal", "export", home["p256"], "--home", home["home"], "--out", str(home["base"] / "x.esl"))
    assert done.returncode == 2 and "need SM2" in done.stderr


def test_signed_file_verifies_and_changes_are_caught(home: dict[str, Any]) -> None:
    document = home["base"] / "contract.txt"
    document.write_text("合同正文 v1\n", encoding="utf-8")
    signature = home["base"] / "contract.dat"
    signed = run("seal", "sign", home["sm2"], str(document), "--home", home["home"], "--out", str(signature))
    assert signed.returncode == 0, signed.stderr
    done = run("verify", str(signature), "--document", str(document), "--home", home["home"], "--json")
    assert done.returncode == 0, done.stdout
    assert checks(done)["document_hash"] == "passed"
    document.write_text("合同正文 v2\n", encoding="utf-8")
    done = run("verify", str(signature), "--document", str(document), "--home", home["home"], "--json")
    assert done.returncode == 1
    outcome = checks(done)
    assert outcome["document_hash"] == "failed"
    assert outcome["signature"] == "passed" and outcome["seal_signature"] == "passed"
    # Without the document the hash step is skipped, and the rest still verifies.
    done = run("verify", str(signature), "--home", home["home"], "--json")
    assert done.returncode == 0
    assert checks(done)["document_hash"] == "skipped"


def test_ofdrw_documents_through_the_cli(home: dict[str, Any], shared_dir: Path) -> None:
    done = run("verify", str(shared_dir / "interop" / "ofdrw" / "v4signed.ofd"), "--home", home["home"], "--json")
    assert done.returncode == 3  # INDETERMINATE: signatures verify, ofdrw's test roots are not ours
    outcome = checks(done)
    assert outcome["1:signature"] == "passed" and outcome["1:document_hash"] == "passed"
    assert outcome["1:signer_certificate"] == "indeterminate"


def test_garbage_der_is_a_clear_error(home: dict[str, Any]) -> None:
    junk = home["base"] / "junk.dat"
    junk.write_bytes(b"\x30\x03\x02\x01\x05")
    done = run("verify", str(junk), "--home", home["home"])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("yinxin: ")
