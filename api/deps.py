"""FastAPI dependencies: the service of this app and the authenticated principal (department, administrator,
verifier with a role, holder)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry.records import DepartmentRecord, PrincipalRecord

from .service import TrustService

_bearer = HTTPBearer(auto_error=False, description="an API key: a department's (`yinxin dept add`), a verifier's "
                                                   "(`yinxin verifier add`), a holder's (`yinxin holder add`) or an "
                                                   "administrator's")


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


CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _principal(service: TrustService, credentials: HTTPAuthorizationCredentials | None, kind: str,
               *, who: str) -> PrincipalRecord:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status_code=401, detail=f"{who} API key is required (Authorization: Bearer)")
    principal = service.principal_for_api_key(credentials.credentials, kind=kind)
    if principal is None:
        raise HTTPException(status_code=401, detail=f"the API key is not {who}'s")
    return principal


def get_verifier(service: ServiceDep, credentials: CredentialsDep) -> PrincipalRecord:
    """The verifier (hotel, police, window) whose API key is in ``Authorization: Bearer``; 401 otherwise."""
    return _principal(service, credentials, "verifier", who="a verifier")


VerifierDep = Annotated[PrincipalRecord, Depends(get_verifier)]


def get_optional_verifier(service: ServiceDep, credentials: CredentialsDep) -> PrincipalRecord | None:
    """The verifier whose key is given, or ``None`` without an Authorization header; a key that is not a
    verifier's is a 401 (never a silent fall-back to the anonymous answer)."""
    if credentials is None:
        return None
    return _principal(service, credentials, "verifier", who="a verifier")


OptionalVerifierDep = Annotated[PrincipalRecord | None, Depends(get_optional_verifier)]


def get_holder(service: ServiceDep, credentials: CredentialsDep) -> PrincipalRecord:
    """The holder (持证人) whose API key is in ``Authorization: Bearer``; 401 otherwise."""
    return _principal(service, credentials, "holder", who="a holder")


HolderDep = Annotated[PrincipalRecord, Depends(get_holder)]
