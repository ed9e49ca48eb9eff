"""Offline QR verification per second per core (ES256 and SM2), beside one raw signature verify in the same run.

A verifier holds a trust list checked with the root and a status list checked with the trust list
(:class:`verification.qr.OfflineVerifier`, loaded once); each verification then decodes the QR text
(Base45, zlib, CBOR, COSE), verifies the credential's signature, finds the signer's chain in the cache,
checks the validity window and reads the licence's entry in the status list. The baselines are one raw
signature verify over a message of the same size: cryptography's ECDSA P-256 for ES256 and ``ca.sm2``'s
default backend (OpenSSL libcrypto) for SM2. ``verify_offline`` (which also checks both lists on every
call) is measured for reference. One process, one thread: per core. Run:
    .venv/bin/python bench/bench_verify_offline.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NOW, per_second
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

import ca
from ca.sm2 import SM2PrivateKey, SM2Signer, backend_name
from issuance.credential import CredentialClaims, issue_credential
from issuance.identifier import LicenseIdentifier
from issuance.statuslist import STATUS_INVALID, StatusListClaims, issue_status_list
from issuance.trustlist import TrustListClaims, issue_trust_list
from verification.qr import OfflineVerifier, verify_offline
from verification.result import Verdict

USCC = "11330100002500295Y"
URL = f"https://yinxin.example/api/v1/status-lists/{USCC}/0"
AT = NOW + timedelta(minutes=1)
# 1 % of a full list's entries revoked, at random places (as random index assignment leaves them).
NOT_VALID = random.Random(1).sample(range(1 << 20), (1 << 20) // 100)


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    trust_list: bytes
    status_list: bytes
    root: ca.CertificateAuthority
    raw: object  # a zero-argument callable: one raw signature verify


def _signer(algorithm: ca.SignatureAlgorithm) -> ca.KeySigner:
    if algorithm is ca.SignatureAlgorithm.SM2_SM3:
        return SM2Signer(SM2PrivateKey.generate())
    return ca.SoftwareSigner(ca.generate_private_key(algorithm))


def make_case(algorithm: ca.SignatureAlgorithm) -> Case:
    root_signer = _signer(algorithm)
    root_name = ca.organisation_name(organization="Bench Root")
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=root_signer, subject=root_name, now=NOW), signer=root_signer)
    issuing = ca.create_issuing_ca(root=root, signer=_signer(algorithm),
                                   subject=ca.organisation_name(organization="Bench Issuing"), now=NOW)
    seal_signer = _signer(algorithm)
    seal = issuing.issue(profile=ca.SEAL_PROFILE,
                         subject=ca.organisation_name(organization="示范市政务服务数据管理局", uscc=USCC),
                         public_key=seal_signer.public_key(), now=NOW)
    list_signer = _signer(algorithm)
    list_certificate = issuing.issue(profile=ca.SEAL_MAKER_PROFILE,
                                     subject=ca.organisation_name(organization="Bench", common_name="trust list"),
                                     public_key=list_signer.public_key(), now=NOW)
    identifier = LicenseIdentifier.compose(type_code=USCC + "001", issuer_code=USCC, serial="BENCH000000000000001")
    text = issue_credential(
        CredentialClaims(issuer=USCC, license_identifier=str(identifier), type_code=USCC + "001", issued_at=NOW,
                         expires_at=NOW + timedelta(days=365),
                         claims={"name": "李明", "holder_code": "330106********1236", "valid_until": "2040-05-01"},
                         status_url=URL, status_index=next(i for i in range(1 << 20) if i not in set(NOT_VALID))),
        signer=seal_signer, certificate=seal)
    trust_list = issue_trust_list(
        TrustListClaims(version=1, issued_at=NOW, expires_at=NOW + timedelta(days=7),
                        certificates=[issuing.certificate, seal]),
        signer=list_signer, certificate=list_certificate, chain=[issuing.certificate])
    status_list = issue_status_list(
        StatusListClaims(issuer=USCC, uri=URL, issued_at=NOW, expires_at=NOW + timedelta(hours=12),
                         ttl=timedelta(hours=12), statuses=dict.fromkeys(NOT_VALID, STATUS_INVALID)),
        signer=seal_signer, certificate=seal)

    message = b"x" * 300  # about the size of a credential's Sig_structure
    signature = seal_signer.sign(message)
    public = seal_signer.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        algorithm_ = ec.ECDSA(hashes.SHA256())

        def raw() -> None:
            public.verify(signature, message, algorithm_)
        name = "ES256"
    else:
        # ca.sm2's verify takes r‖s; the signer returns DER.
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(signature)
        raw_signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")

        def raw() -> None:
            assert public.verify(raw_signature, message)  # type: ignore[union-attr]
        name = "SM2"
    return Case(name, text, trust_list, status_list, root, raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure")
    args = parser.parse_args()
    print(f"SM2 backend: {backend_name()}")
    rows = []
    for algorithm in (ca.SignatureAlgorithm.ECDSA_P256_SHA256, ca.SignatureAlgorithm.SM2_SM3):
        case = make_case(algorithm)
        anchors = [case.root.certificate]
        verifier = OfflineVerifier.load(trust_list=case.trust_list, anchors=anchors, status_lists=[case.status_list],
                                        now=AT)
        result = verifier.verify(case.text, now=AT)
        assert result.verdict is Verdict.VALID, result.reasons
        raw = case.raw
        assert callable(raw)
        raw_rate = per_second(raw, seconds=args.seconds)
        prepared = per_second(lambda c=case, v=verifier: v.verify(c.text, now=AT), seconds=args.seconds)
        one_shot = per_second(lambda c=case, a=anchors: verify_offline(c.text, trust_list=c.trust_list, anchors=a,
                                                                       status_lists=[c.status_list], now=AT),
                              seconds=args.seconds)
        rows.append((case.name, len(case.text), len(case.trust_list), len(case.status_list), raw_rate, prepared,
                     one_shot))
    print(f"{'alg':6} {'QR chars':>8} {'trust list B':>12} {'status list B':>13} {'raw verify/s':>12} "
          f"{'OfflineVerifier/s':>17} {'ratio':>6} {'verify_offline/s':>16}")
    for name, qr, tl, sl, raw_rate, prepared, one_shot in rows:
        print(f"{name:6} {qr:8d} {tl:12d} {sl:13d} {raw_rate:12.0f} {prepared:17.0f} {prepared / raw_rate:6.3f} "
              f"{one_shot:16.0f}")
    print("OfflineVerifier: lists checked once, then per credential: decode, 1 signature, cached chain, window, "
          "status entry. verify_offline: also checks the trust list and the status list (1 MiB entries) each call.")


if __name__ == "__main__":
    main()
