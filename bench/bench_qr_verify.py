"""Verifying one QR credential with Yinxin beside one raw cryptography ECDSA P-256 verify.

``verify_qr`` decodes Base45 + zlib + CBOR, checks the COSE_Sign1 signature, validates the signer's
chain to the root and the validity window; raw is a single ``public_key.verify`` of a signature over
the same size of data. Run:
    .venv/bin/python bench/bench_qr_verify.py
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NOW, make_pki, per_second
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from issuance.credential import CredentialClaims, issue_credential
from verification.qr import verify_qr
from verification.result import Verdict
from verification.trust import TrustStore


def main() -> None:
    pki = make_pki()
    text = issue_credential(
        CredentialClaims(
            issuer="11330100002500295Y",
            license_identifier="1.2.156.3005.2.11100000000013338W001.11330100002500295Y.ABCDEF0123456789ABCD.001."
            + __import__("issuance.identifier", fromlist=["x"]).mod37_36_check_character(
                "11100000000013338W00111330100002500295YABCDEF0123456789ABCD001"),
            type_code="11100000000013338W001",
            issued_at=NOW,
            expires_at=NOW + timedelta(days=365),
            claims={"name": "李明", "holder_code": "330106********1236", "valid_until": "2040-05-01"},
        ),
        signer=pki.seal_signer,
        certificate=pki.seal_certificate,
    )
    trust = TrustStore(anchors=(pki.root,), certificates=(pki.issuing, pki.seal_certificate))
    assert verify_qr(text, trust=trust, now=NOW).verdict is Verdict.VALID

    public = pki.seal_signer.private_key.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    message = b"x" * 200
    signature = pki.seal_signer.sign(message)

    raw_rate = per_second(lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256())))
    our_rate = per_second(lambda: verify_qr(text, trust=trust, now=NOW))
    print(f"QR text length: {len(text)} characters")
    print(f"raw cryptography ECDSA P-256 verify: {raw_rate:9.0f} /s")
    print(f"yinxin verify_qr (offline, ES256):   {our_rate:9.0f} /s")
    print(f"ratio yinxin / raw: {our_rate / raw_rate:.3f} (one signature per credential once the seal's chain is "
          "validated and cached)")


if __name__ == "__main__":
    main()
