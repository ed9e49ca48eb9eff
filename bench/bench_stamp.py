"""Stamping one licence PDF with Yinxin (seal image, KeySigner adapter) beside raw pyhanko signing.

Both sign the same rendered licence face with the same ECDSA P-256 key in the same process; the ratio
shows what our stamping adds over pyhanko's own SimpleSigner with no appearance. Run:
    .venv/bin/python bench/bench_stamp.py
"""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from common import NOW, make_pki, per_second
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuance.qrimage import render_qr_png
from issuance.render import LicenseFace, render_license_face
from issuance.stamp import stamp_pdf
from seal_keys.image import draw_round_seal


def main() -> None:
    pki = make_pki()
    face = LicenseFace(
        title="中华人民共和国居民身份证（电子证照）",
        fields=(("姓名", "李明"), ("性别", "男"), ("公民身份号码", "330106199003071236"), ("住址", "浙江省示范市")),
        identifier="1.2.156.3005.2.11100000000013338W001.11330100002500295Y.ABCDEF0123456789ABCD.001.X",
        issuer_name="示范市政务服务数据管理局",
        issue_date=date(2026, 11, 26),
        qr_png=render_qr_png("YX1:" + "A" * 400),
    )
    pdf = render_license_face(face)
    seal_png = draw_round_seal(organization="示范市政务服务数据管理局").png

    def ours() -> None:
        stamp_pdf(pdf, signer=pki.seal_signer, certificate=pki.seal_certificate, chain=[pki.issuing],
                  seal_png=seal_png, signing_time=NOW)

    key_der = pki.seal_signer.private_key.private_bytes(serialization.Encoding.DER,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption())
    raw_signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(pki.seal_certificate.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(pki.issuing.public_bytes(serialization.Encoding.DER))]),
    )

    def raw() -> None:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(field_name="Seal", subfilter=fields.SigSeedSubFilter.PADES)
        asyncio.run(signers.PdfSigner(meta, signer=raw_signer).async_sign_pdf(writer, bytes_reserved=8192))

    raw_rate = per_second(raw, seconds=4)
    our_rate = per_second(ours, seconds=4)
    print(f"raw pyhanko sign (no appearance):   {raw_rate:8.1f} PDFs/s  ({1000 / raw_rate:6.1f} ms each)")
    print(f"yinxin stamp_pdf (visible seal):    {our_rate:8.1f} PDFs/s  ({1000 / our_rate:6.1f} ms each)")
    print(f"ratio yinxin / raw: {our_rate / raw_rate:.2f}")


if __name__ == "__main__":
    main()
