"""Shared helpers for the benchmarks: a throwaway PKI and a timing loop that reports medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

import ca

NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Pki:
    """Root, issuing CA and one seal key + certificate."""

    root: x509.Certificate
    issuing: x509.Certificate
    seal_signer: ca.SoftwareSigner
    seal_certificate: x509.Certificate


def make_pki(algorithm: ca.SignatureAlgorithm = ca.SignatureAlgorithm.ECDSA_P256_SHA256) -> Pki:
    root_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    root = ca.CertificateAuthority(
        certificate=ca.create_root_certificate(signer=root_signer,
                                               subject=ca.organisation_name(organization="Bench Root"), now=NOW),
        signer=root_signer)
    issuing = ca.create_issuing_ca(root=root, signer=ca.SoftwareSigner(ca.generate_private_key(algorithm)),
                                   subject=ca.organisation_name(organization="Bench Issuing"), now=NOW)
    seal_signer = ca.SoftwareSigner(ca.generate_private_key(algorithm))
    seal = issuing.issue(profile=ca.SEAL_PROFILE,
                         subject=ca.organisation_name(organization="示范市政务服务数据管理局",
                                                      uscc="11330100002500295Y"),
                         public_key=seal_signer.public_key(), now=NOW)
    return Pki(root=root.certificate, issuing=issuing.certificate, seal_signer=seal_signer, seal_certificate=seal)


def per_second(fn: Callable[[], object], *, seconds: float = 2.0, repeats: int = 5) -> float:
    """Median operations per second of ``fn`` over ``repeats`` rounds of about ``seconds / repeats`` each."""
    fn()  # warm up
    rates = []
    budget = seconds / repeats
    for _ in range(repeats):
        count = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < budget:
            fn()
            count += 1
        rates.append(count / elapsed)
    return statistics.median(rates)
