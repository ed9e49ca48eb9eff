"""A home with an SM2 hierarchy (GB/T 39786): `yinxin demo --algorithm sm2`, a second hierarchy, `ca export`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

YINXIN = str(Path(sys.executable).parent / "yinxin")
ENV = {**os.environ, "YINXIN_PASSPHRASE": "sm2 home passphrase"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([YINXIN, *args], capture_output=True, text=True, env=ENV, check=False, timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("sm2") / "home"
    done = run("demo", "--home", str(home), "--algorithm", "sm2", "--json")
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    document["_home"] = str(home)
    return document


def _signature_oid(pem_or_der: bytes) -> str:
    cert = x509.load_pem_x509_certificate(pem_or_der)
    return cert.signature_algorithm_oid.dotted_string


def test_sm2_demo_verifies(demo: dict[str, Any]) -> None:
    assert demo["algorithm"] == "sm2-sm3"
    assert _signature_oid(Path(demo["root_certificate"]).read_bytes()) == "1.2.156.10197.1.501"
    for lic in demo["licenses"]:
        assert lic["verification"] == {"qr": "VALID", "pdf": "VALID"}
        done = run("verify", lic["pdf"], "--home", demo["_home"], "--json")
        result = json.loads(done.stdout)
        assert result["verdict"] == "VALID"
        assert "SM2" in next(c["detail"] for c in result["checks"] if c["name"] == "signature")


def test_sm2_seal_certificate_profile(demo: dict[str, Any], tmp_path: Path) -> None:
    seals = json.loads(run("seal", "list", "--home", demo["_home"], "--json").stdout)
    pem = tmp_path / "seal.pem"
    shown = run("seal", "show", seals[0]["seal_id"], "--home", demo["_home"], "--certificate-out", str(pem))
    assert shown.returncode == 0
    cert = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(Encoding.DER))
    spki = cert.public_key["algorithm"]
    assert spki["algorithm"].dotted == "1.2.840.10045.2.1"  # id-ecPublicKey
    assert spki["parameters"].chosen.dotted == "1.2.156.10197.1.301"  # SM2 curve (GB/T 20518)
    assert cert["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
    assert cert["signature_algorithm"].native["parameters"] is None  # absent, not NULL
    assert b"\x05\x00" not in cert["signature_algorithm"].dump()


def test_second_hierarchy_and_export(demo: dict[str, Any], tmp_path: Path) -> None:
    home = demo["_home"]
    again = run("init", "--home", home, "--algorithm", "sm2")
    assert again.returncode == 2 and "already has a sm2-sm3 CA" in again.stderr
    assert run("init", "--home", home, "--algorithm", "p256").returncode == 0
    done = run("ca", "export", "--home", home, "--out", str(tmp_path / "ca"), "--json")
    paths = json.loads(done.stdout)
    assert {"root", "issuing", "root-sm2-sm3", "root-ecdsa-p256-sha256"} <= set(paths)
    assert Path(paths["root"]).read_bytes().count(b"BEGIN CERTIFICATE") == 2
    assert _signature_oid(Path(paths["root-sm2-sm3"]).read_bytes()) == "1.2.156.10197.1.501"
    # A P-256 department in the same home gets a P-256 seal from the P-256 issuing CA.
    assert run("dept", "add", "--home", home, "--uscc", "113301000025002874", "--name", "示范市另一局",
               "--algorithm", "p256").returncode == 0
    seal = json.loads(run("seal", "create", "--home", home, "--dept", "113301000025002874", "--json").stdout)
    pem = tmp_path / "p256.pem"
    run("seal", "show", seal["seal_id"], "--home", home, "--certificate-out", str(pem))
    assert _signature_oid(pem.read_bytes()) == "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256


def test_algorithm_without_a_ca_is_refused(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert run("init", "--home", home).returncode == 0
    done = run("dept", "add", "--home", home, "--uscc", "113301000025002874", "--name", "某局", "--algorithm", "sm2")
    assert done.returncode == 4 and "yinxin init --algorithm sm2-sm3" in done.stderr
    assert "Traceback" not in done.stderr
