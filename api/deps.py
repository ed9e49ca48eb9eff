"""FastAPI dependencies: the service of this app and the authenticated department."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry.records import DepartmentRecord, PrincipalRecord

from .service import TrustService

_bearer = HTTPBearer(auto_error=False, description="the department's API key from `yinxin dept add`")


def get_service(request: Request) -> TrustService:
    """The :class:`TrustService` this app was created with."""
    service: TrustService = request.app.state.service
    return service


ServiceDep = Annotated[TrustService, Depends(get_service)]


def get_department(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> DepartmentRecord:
    """The department whose API key is in ``Authorization: Bearer``; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status_code=401, detail="a department API key is required (Authorization: Bearer)")
    department = service.department_for_api_key(credentials.credentials)
    if department is None:
        raise HTTPException(status_code=401, detail="the API key is not valid")
    return department


DepartmentDep = Annotated[DepartmentRecord, Depends(get_department)]


def get_admin(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PrincipalRecord:
    """The administrator whose API key is in ``Authorization: Bearer``; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status_code=401, detail="an administrator API key is required (Authorization: Bearer)")
    admin = service.principal_for_api_key(credentials.credentials, kind="admin")
    if admin is None:
        raise HTTPException(status_code=401, detail="the API key is not an administrator's")
    return admin


AdminDep = Annotated[PrincipalRecord, Depends(get_admin)]
