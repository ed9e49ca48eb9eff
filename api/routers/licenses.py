"""Licence issuance and retrieval for authenticated departments."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from issuance.qrimage import render_qr_png
from registry.records import LicenseRecord

from ..deps import DepartmentDep, ServiceDep
from ..schemas import LicenseAction, LicenseAmend, LicenseChangePublic, LicenseCreate, LicenseLinks, LicensePublic
from ..service import ForbiddenError, TrustService

router = APIRouter(prefix="/licenses", tags=["licenses"])


def _public(record: LicenseRecord, request: Request) -> LicensePublic:
    base = str(request.url_for("get_license", identifier=record.identifier))
    return LicensePublic(
        identifier=record.identifier, type=record.type_code, department=record.department_uscc,
        holder_name=record.holder_name, status=record.status, version=record.version,
        issued_at=record.issued_at, valid_from=record.valid_from, valid_until=record.valid_until,
        fields=dict(record.fields), qr_text=record.qr_text,
        links=LicenseLinks(self=base, pdf=f"{base}/pdf", qr=f"{base}/qr.png"),
    )


def _own(service: TrustService, identifier: str, department_uscc: str) -> LicenseRecord:
    record = service.get_license(identifier)
    if record.department_uscc != department_uscc:
        raise ForbiddenError("this licence was issued by another department")
    return record


@router.post("", status_code=201, response_model=LicensePublic)
def issue_license(body: LicenseCreate, department: DepartmentDep, service: ServiceDep, request: Request,
                  response: Response) -> LicensePublic:
    """Issue a licence of ``type``: validate the fields, assign the GB/T 36904 identifier, sign its QR
    credential, render and seal its PDF. Invalid fields → 422 naming the field; nothing is written."""
    record = service.issue_license(department_uscc=department.uscc, license_type=body.type, fields=body.fields,
                                   actor=f"department:{department.uscc}")
    public = _public(record, request)
    response.headers["Location"] = public.links.self
    return public


@router.get("/{identifier}", response_model=LicensePublic, name="get_license")
def get_license(identifier: str, department: DepartmentDep, service: ServiceDep, request: Request) -> LicensePublic:
    """A licence issued by the calling department, as JSON."""
    return _public(_own(service, identifier, department.uscc), request)


@router.get("/{identifier}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def get_license_pdf(identifier: str, department: DepartmentDep, service: ServiceDep) -> Response:
    """The sealed licence PDF."""
    record = _own(service, identifier, department.uscc)
    filename = record.identifier.replace(".", "_") + ".pdf"
    return Response(record.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/{identifier}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def get_license_qr(identifier: str, department: DepartmentDep, service: ServiceDep) -> Response:
    """The licence's QR credential as a PNG image."""
    record = _own(service, identifier, department.uscc)
    return Response(render_qr_png(record.qr_text), media_type="image/png")


@router.post("/{identifier}/amend", status_code=201, response_model=LicensePublic)
def amend_license(identifier: str, body: LicenseAmend, department: DepartmentDep, service: ServiceDep,
                  request: Request) -> LicensePublic:
    """变更: a new version with the changed fields; this version becomes ``superseded``."""
    record = service.new_version(identifier, action="amend", department_uscc=department.uscc,
                                 actor=f"department:{department.uscc}", reason=body.reason, changes=body.fields)
    return _public(record, request)


@router.post("/{identifier}/reissue", status_code=201, response_model=LicensePublic)
def reissue_license(identifier: str, body: LicenseAction, department: DepartmentDep, service: ServiceDep,
                    request: Request) -> LicensePublic:
    """补发: a new version with the same fields (e.g. the holder lost the old one)."""
    record = service.new_version(identifier, action="reissue", department_uscc=department.uscc,
                                 actor=f"department:{department.uscc}", reason=body.reason)
    return _public(record, request)


def _status_change(action: str):  # type: ignore[no-untyped-def]
    def change(identifier: str, body: LicenseAction, department: DepartmentDep, service: ServiceDep) -> dict[str, str]:
        record = service.change_status(identifier, action=action, department_uscc=department.uscc,
                                       actor=f"department:{department.uscc}", reason=body.reason)
        return {"identifier": record.identifier, "status": record.status}

    change.__name__ = f"{action}_license"
    change.__doc__ = f"{action.capitalize()} the licence; the reason is recorded with who and when."
    return change


for _action in ("suspend", "resume", "revoke", "cancel"):
    router.post(f"/{{identifier}}/{_action}", response_model=dict[str, str])(_status_change(_action))


@router.get("/{identifier}/history", response_model=list[LicenseChangePublic])
def license_history(identifier: str, department: DepartmentDep, service: ServiceDep) -> list[LicenseChangePublic]:
    """Every lifecycle change of every version of the licence."""
    _own_status(service, identifier, department.uscc)
    return [LicenseChangePublic(identifier=c.identifier, action=c.action, from_status=c.from_status,
                                to_status=c.to_status, actor=c.actor, reason=c.reason, occurred_at=c.occurred_at)
            for c in service.license_history(identifier)]


def _own_status(service: TrustService, identifier: str, department_uscc: str) -> None:
    record = service.registry.get_license(identifier)
    if record.department_uscc != department_uscc:
        raise ForbiddenError("this licence was issued by another department")
