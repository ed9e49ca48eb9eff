"""``yinxin demo``: a fresh home showing one real path through the whole service.

Initialises the CA, registers a department, makes its official seal, issues one licence of each
built-in type, writes the sealed PDFs and QR PNGs, and verifies each of them. The department's
USCC and the holders' ID numbers are fictitious, made with valid check characters (GB 32100,
GB 11643) so that they pass validation; they name no real organisation or person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from issuance.catalog import lookup
from issuance.qrimage import render_qr_png

from .service import TrustService

DEMO_DEPARTMENT = {"uscc": "11330100002500295Y", "name": "示范市政务服务数据管理局"}

DEMO_LICENSES: tuple[tuple[str, dict[str, str]], ...] = (
    ("resident-id", {
        "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
        "address": "浙江省示范市西湖区文三路1号", "holder_id_number": "330106199003071236",
        "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
    }),
    ("driving-licence", {
        "name": "王芳", "sex": "女", "nationality": "中国", "address": "浙江省示范市上城区解放路8号",
        "birth_date": "1985-11-11", "first_issue_date": "2008-06-20", "vehicle_class": "C1",
        "holder_id_number": "330102198511110027", "valid_from": "2024-06-20", "valid_until": "2030-06-20",
    }),
    ("business-licence", {
        "uscc": "91330100MA2CDE019E", "name": "示范科技有限公司", "entity_type": "有限责任公司（自然人投资或控股）",
        "legal_representative": "李明", "registered_capital": "100", "established": "2019-08-01",
        "business_term": "长期", "address": "浙江省示范市滨江区网商路699号",
        "business_scope": "软件开发；信息技术咨询服务；数据处理和存储支持服务。",
    }),
)


def run_demo(service: TrustService, *, out_dir: Path, algorithm: str | None = None) -> dict[str, Any]:
    """Run the demo in ``service``'s (fresh) home and return the JSON document ``yinxin demo`` prints.

    ``algorithm`` (e.g. ``sm2``) chooses the CA hierarchy and the department's seal algorithm.
    """
    info = service.initialise(algorithm=algorithm)
    dept, _api_key = service.add_department(**DEMO_DEPARTMENT, algorithm=algorithm)
    for slug, _fields in DEMO_LICENSES:  # fail closed: a department issues only the types it is allowed
        service.set_issuer(license_type=slug, uscc=dept.uscc, allowed=True, actor="demo")
    seal = service.create_seal(uscc=dept.uscc)
    out_dir.mkdir(parents=True, exist_ok=True)
    seal_png = out_dir / "seal.png"
    seal_png.write_bytes(seal.image_png)
    licenses = []
    for slug, fields in DEMO_LICENSES:
        record = service.issue_license(department_uscc=dept.uscc, license_type=slug, fields=fields,
                                       actor="demo")
        pdf = out_dir / f"{slug}.pdf"
        png = out_dir / f"{slug}.qr.png"
        pdf.write_bytes(record.pdf)
        png.write_bytes(render_qr_png(record.qr_text))
        qr_result = service.verify_qr_text(record.qr_text, actor="demo")
        pdf_result = service.verify_pdf_bytes(record.pdf, actor="demo")
        licenses.append({
            "identifier": record.identifier,
            "type": slug,
            "type_code": record.type_code,
            "type_name": lookup(slug).name,
            "pdf": str(pdf),
            "qr_png": str(png),
            "qr_text": record.qr_text,
            "verification": {"qr": qr_result.verdict.value, "pdf": pdf_result.verdict.value},
        })
    return {
        "home": str(service.settings.home),
        "algorithm": info["algorithm"],
        "root_certificate": info["root_certificate"],
        "issuing_certificate": info["issuing_certificate"],
        "department": {"uscc": dept.uscc, "name": dept.name},
        "seal": {"seal_id": seal.seal_id, "name": seal.name, "image": str(seal_png)},
        "licenses": licenses,
    }
