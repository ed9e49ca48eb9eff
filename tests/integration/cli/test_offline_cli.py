"""`yinxin verify QR --offline`: files only (trust list, status list, root), no database and no server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

YINXIN = str(Path(sys.executable).parent / "yinxin")
ENV = {**os.environ, "YINXIN_PASSPHRASE": "offline cli passphrase"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([YINXIN, *args], capture_output=True, text=True, env=env or ENV, check=False, timeout=300)


def test_offline_verification_follows_the_status_list(tmp_path: Path) -> None:
    home = tmp_path / "home"
    demo = json.loads(run("demo", "--home", str(home), "--json").stdout)
    licence = demo["licenses"][0]
    files = tmp_path / "files"
    files.mkdir()
    assert run("trust-list", "export", "--home", str(home), "--out", str(files / "trust.cose")).returncode == 0
    assert run("status-list", "export", "--home", str(home), "--dept", demo["department"]["uscc"],
               "--out", str(files / "status-before")).returncode == 0
    shutil.copy(demo["root_certificate"], files / "root.pem")
    assert run("license", "revoke", licence["identifier"], "--reason", "测试吊销", "--home", str(home)).returncode == 0
    assert run("status-list", "export", "--home", str(home), "--dept", demo["department"]["uscc"],
               "--out", str(files / "status-after")).returncode == 0
    shutil.rmtree(home)  # nothing of the home is left: no database, no key store

    no_passphrase = {k: v for k, v in ENV.items() if k != "YINXIN_PASSPHRASE"}

    def offline(status: str) -> dict[str, object]:
        done = run("verify", licence["qr_text"], "--offline", "--trust-list", str(files / "trust.cose"),
                   "--status-list", str(files / status), "--root", str(files / "root.pem"), "--json",
                   env=no_passphrase)
        result: dict[str, object] = json.loads(done.stdout)
        return result

    assert offline("status-before")["verdict"] == "VALID"
    after = offline("status-after")
    assert after["verdict"] == "INVALID"
    assert any(c["name"] == "license_status" and c["result"] == "failed" for c in after["checks"])  # type: ignore[union-attr]
    assert not home.exists()
