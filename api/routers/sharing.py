"""Sharing (GB/T 36906 practice): other departments query a holder's licences with a stated purpose."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..deps import DepartmentDep, ServiceDep
from ..schemas import SharedLicense, ShareLinkCreate, ShareLinkPublic, Statistics

router = APIRouter(tags=["sharing"])


@router.get("/share/licenses", response_model=list[SharedLicense])
def query_licenses(  # noqa: PLR0917 - FastAPI passes query parameters by name
    department: DepartmentDep,
    service: ServiceDep,
    holder_code: Annotated[str, Query(max_length=32, description="持证主体代码: ID number or USCC")],
    holder_code_type: Annotated[
        str, Query(pattern="^(111|001)$", description="111 公民身份号码, 001 统一社会信用代码")
    ],
    type_code: Annotated[str, Query(max_length=64, description="证照类型代码 (or short name)")],
    purpose: Annotated[str, Query(min_length=1, max_length=200, description="用证事由 (recorded)")],
) -> list[SharedLicense]:
    """A holder's licences of one type. The call is recorded with the calling department and purpose."""
    found = service.share_query(caller=f"department:{department.uscc}", holder_code=holder_code,
                                holder_code_type=holder_code_type, type_code=type_code, purpose=purpose)
    return [SharedLicense(identifier=r.identifier, type=r.type_code, issuer=r.department_uscc, status=r.status,
                          version=r.version, holder_name=r.holder_name, valid_from=r.valid_from,
                          valid_until=r.valid_until) for r in found]


@router.post("/share/links", status_code=201, response_model=ShareLinkPublic)
def create_link(body: ShareLinkCreate, department: DepartmentDep, service: ServiceDep,
                request: Request) -> ShareLinkPublic:
    """A time-limited link to one licence's sealed PDF (default 10 minutes, at most 24 hours)."""
    token, expires = service.share_link(caller=f"department:{department.uscc}", identifier=body.identifier,
                                        purpose=body.purpose, ttl=timedelta(seconds=body.ttl_seconds))
    return ShareLinkPublic(url=str(request.url_for("shared_file", token=token)), expires_at=expires)


@router.get("/share/files/{token}", response_class=Response, name="shared_file",
            responses={200: {"content": {"application/pdf": {}}}})
def shared_file(token: str, service: ServiceDep) -> Response:
    """The sealed PDF a share link names; 403 once the link has expired. Each fetch is recorded."""
    record = service.share_file(token)
    filename = record.identifier.replace(".", "_") + ".pdf"
    return Response(record.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@router.get("/stats", response_model=Statistics)
def statistics(department: DepartmentDep, service: ServiceDep,
               days: Annotated[int, Query(ge=1, le=366)] = 30) -> Statistics:
    """Licences issued per type and department, and verifications per day."""
    return Statistics.model_validate(service.statistics(days=days))
