"""The whole path from a new user's point of view: `yinxin demo`, then tools we did not write.

Each sealed PDF must validate with poppler's pdfsig (trusted once the root is in its NSS database) and with
pyHanko's validator; each QR PNG must decode with zbarimg and zxing-cpp to exactly the QR text; the COSE_Sign1
inside must verify with pycose. Tampering must be caught by all of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
import zxingcpp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

YINXIN = str(Path(sys.executable).parent / "yinxin")
PASSPHRASE = "test passphrase for the demo"


def run(*args: str, env: dict[str, str] | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "YINXIN_PASSPHRASE": PASSPHRASE, **(env or {})}
    done = subprocess.run([YINXIN, *args], capture_output=True, text=True, env=full_env, check=False, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("demo") / "home"
    done = run("demo", "--home", str(home), "--json", check=True)
    document: dict[str, Any] = json.loads(done.stdout)
    document["_home"] = str(home)
    return document


@pytest.fixture(scope="module")
def nss_db(demo: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("nss")
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "yinxin-root", "-t", ",C,",
                    "-i", demo["root_certificate"]], check=True, capture_output=True)
    return db


def tampered_copy(pdf: Path, target: Path) -> Path:
    """Change one byte inside the first signed range (in the page content, not the signature)."""
    data = bytearray(pdf.read_bytes())
    start = data.index(b"/ByteRange")
    numbers = data[start:start + 80].split(b"[")[1].split(b"]")[0].split()
    first_len = int(numbers[1])
    position = data.index(b"stream", 0, first_len) + 20  # inside the first stream's bytes
    assert position < first_len
    data[position] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def test_demo_prints_the_promised_document(demo: dict[str, Any]) -> None:
    assert Path(demo["root_certificate"]).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert [lic["type"] for lic in demo["licenses"]] == ["resident-id", "driving-licence", "business-licence"]
    for lic in demo["licenses"]:
        assert lic["identifier"].startswith("1.2.156.3005.2.")
        assert Path(lic["pdf"]).read_bytes().startswith(b"%PDF-")
        assert Path(lic["qr_png"]).read_bytes().startswith(b"\x89PNG")
        assert lic["qr_text"].startswith("YX1:")
        assert lic["verification"] == {"qr": "VALID", "pdf": "VALID"}


def test_demo_refuses_a_home_that_is_not_empty(demo: dict[str, Any]) -> None:
    done = run("demo", "--home", demo["_home"])
    assert done.returncode != 0
    assert "not empty" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("index", [0, 1, 2], ids=["resident-id", "driving-licence", "business-licence"])
def test_pdfsig_validates_and_trusts_the_seal(demo: dict[str, Any], nss_db: Path, index: int) -> None:
    pdf = demo["licenses"][index]["pdf"]
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss_db}", pdf], capture_output=True, text=True, check=False)
    assert "Signature Validation: Signature is Valid." in done.stdout, done.stdout + done.stderr
    assert "Certificate Validation: Certificate is Trusted." in done.stdout, done.stdout


def test_pdfsig_does_not_trust_without_the_root(demo: dict[str, Any], tmp_path: Path) -> None:
    subprocess.run(["certutil", "-N", "-d", f"sql:{tmp_path}", "--empty-password"], check=True, capture_output=True)
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{tmp_path}", demo["licenses"][0]["pdf"]],
                          capture_output=True, text=True, check=False)
    assert "Signature Validation: Signature is Valid." in done.stdout
    assert "Certificate is Trusted" not in done.stdout


def _pyhanko_status(pdf: Path, root_pem: str):  # type: ignore[no-untyped-def]
    root = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(Path(root_pem).read_bytes()).public_bytes(
            __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER))
    with pdf.open("rb") as handle:
        reader = PdfFileReader(handle)
        signature = reader.embedded_signatures[0]
        return validate_pdf_signature(signature, ValidationContext(trust_roots=[root], allow_fetching=False))


def test_pyhanko_validates_the_seal(demo: dict[str, Any]) -> None:
    for lic in demo["licenses"]:
        status = _pyhanko_status(Path(lic["pdf"]), demo["root_certificate"])
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def test_one_changed_byte_is_caught_by_pdfsig_pyhanko_and_yinxin(demo: dict[str, Any], nss_db: Path,
                                                                  tmp_path: Path) -> None:
    bad = tampered_copy(Path(demo["licenses"][0]["pdf"]), tmp_path / "tampered.pdf")
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss_db}", str(bad)], capture_output=True, text=True,
                          check=False)
    assert "Signature Validation: Signature is Valid." not in done.stdout
    assert "Signature Validation: Digest Mismatch." in done.stdout, done.stdout
    status = _pyhanko_status(bad, demo["root_certificate"])
    assert not status.intact
    verified = run("verify", str(bad), "--home", demo["_home"], "--json")
    assert verified.returncode == 1
    result = json.loads(verified.stdout)
    assert result["verdict"] == "INVALID"
    assert any(c["name"] == "integrity" and c["result"] == "failed" for c in result["checks"])


def test_yinxin_verify_accepts_the_sealed_pdf(demo: dict[str, Any]) -> None:
    done = run("verify", demo["licenses"][2]["pdf"], "--home", demo["_home"], "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "VALID"
    assert result["status"] == "active"
    assert result["license_identifier"] == demo["licenses"][2]["identifier"]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["resident-id", "driving-licence", "business-licence"])
def test_qr_png_decodes_with_zbar_and_zxing(demo: dict[str, Any], index: int) -> None:
    lic = demo["licenses"][index]
    done = subprocess.run(["zbarimg", "--raw", "-q", lic["qr_png"]], capture_output=True, text=True, check=True)
    assert done.stdout.rstrip("\n") == lic["qr_text"]
    decoded = zxingcpp.read_barcodes(Image.open(lic["qr_png"]))
    assert [d.text for d in decoded] == [lic["qr_text"]]
    assert len(lic["qr_text"]) < 600


def test_qr_text_verifies_and_one_changed_character_does_not(demo: dict[str, Any]) -> None:
    lic = demo["licenses"][0]
    done = run("verify", lic["qr_text"], "--home", demo["_home"], "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "VALID"

    text = lic["qr_text"]
    position = len(text) // 2
    changed = text[:position] + ("A" if text[position] != "A" else "B") + text[position + 1:]
    done = run("verify", changed, "--home", demo["_home"], "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["verdict"] == "INVALID"
    failed = [c["name"] for c in result["checks"] if c["result"] == "failed"]
    assert failed and set(failed) <= {"format", "signature"}
    assert result["reasons"]


def test_random_text_is_a_clear_error(demo: dict[str, Any]) -> None:
    done = run("verify", "hello, this is not a licence", "--home", demo["_home"])
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "YX1:" in done.stderr


def test_cose_sign1_verifies_with_pycose_and_the_seal_certificate(demo: dict[str, Any], tmp_path: Path) -> None:
    listed = json.loads(run("seal", "list", "--home", demo["_home"], "--json", check=True).stdout)
    cert_file = tmp_path / "seal.pem"
    run("seal", "show", listed[0]["seal_id"], "--home", demo["_home"], "--certificate-out", str(cert_file),
        check=True)
    public = x509.load_pem_x509_certificate(cert_file.read_bytes()).public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    numbers = public.public_numbers()
    for lic in demo["licenses"]:
        cose = cbor2.loads(zlib.decompress(base45.b45decode(lic["qr_text"].removeprefix("YX1:"))))
        assert isinstance(cose, cbor2.CBORTag) and cose.tag == 18  # COSE_Sign1_Tagged
        # pycose 1.1's Sign1Message.decode rejects cbor2 6's frozen containers (pycose issue #141), so hand it
        # the decoded array; pycose still parses the protected header and checks the signature itself.
        protected, unprotected, payload, signature = cose.value
        message = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
        message.key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
        assert message.verify_signature()
        claims = cbor2.loads(message.payload)
        assert claims[1] == demo["department"]["uscc"]  # iss
        # A changed payload no longer verifies.
        message.payload = message.payload[:-1] + bytes([message.payload[-1] ^ 1])
        assert not message.verify_signature()


@pytest.mark.parametrize(
    ("field", "value"),
    [("holder_id_number", "330106199003071235"), ("birth_date", "1990-02-30")],
    ids=["bad-id-check-digit", "bad-date"],
)
def test_bad_field_is_named_and_nothing_written(demo: dict[str, Any], tmp_path: Path, field: str, value: str) -> None:
    fields = {
        "name": "赵六", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07", "address": "示范市",
        "holder_id_number": "330106199003071236", "issuing_authority": "示范市公安局",
        "valid_from": "2020-05-01", "valid_until": "2040-05-01",
    }
    fields[field] = value
    path = tmp_path / "fields.json"
    path.write_text(json.dumps(fields, ensure_ascii=False))
    before = json.loads(run("license", "list", "--home", demo["_home"], "--json", check=True).stdout)
    done = run("license", "issue", "--home", demo["_home"], "--dept", demo["department"]["uscc"],
               "--type", "resident-id", "--fields-json", str(path))
    assert done.returncode == 2
    assert field in done.stderr
    assert "Traceback" not in done.stderr
    after = json.loads(run("license", "list", "--home", demo["_home"], "--json", check=True).stdout)
    assert after == before


def test_missing_required_field_and_bad_uscc(demo: dict[str, Any]) -> None:
    done = run("license", "issue", "--home", demo["_home"], "--dept", demo["department"]["uscc"],
               "--type", "business-licence", "--field", "name=某公司")
    assert done.returncode == 2
    assert "uscc" in done.stderr
    done = run("dept", "add", "--home", demo["_home"], "--uscc", "91330100MA2CDE0190", "--name", "某局")
    assert done.returncode == 2
    assert "uscc" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_private_key_in_clear_under_the_home(demo: dict[str, Any]) -> None:
    for path in Path(demo["_home"]).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data, path
            assert PASSPHRASE.encode() not in data, path


def test_commands_that_need_no_key_do_not_ask_for_the_passphrase(demo: dict[str, Any]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "YINXIN_PASSPHRASE"}
    done = subprocess.run([YINXIN, "verify", demo["licenses"][1]["pdf"], "--home", demo["_home"]],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr
    assert "有效" in done.stdout


def test_tools_are_present() -> None:
    for tool in ("pdfsig", "zbarimg", "certutil", "openssl"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/install.sh --test"
