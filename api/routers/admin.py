"""Administration of the licence catalogue (GB/T 36902) by administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from issuance.catalog import license_type_from_dict, license_type_to_dict
from issuance.errors import FieldValidationError

from ..deps import AdminDep, ServiceDep
from ..schemas import IssuerChange

router = APIRouter(prefix="/admin", tags=["administration"])


@router.get("/license-types", response_model=list[dict[str, Any]])
def list_types(admin: AdminDep, service: ServiceDep) -> list[dict[str, Any]]:
    """Every catalogue type's definition (yinxin-license-type/1) and its issuing departments."""
    return [license_type_to_dict(t) | {"issuers": service.registry.issuers_of(t.code)} for t in service.license_types()]


@router.put("/license-types/{code}", response_model=dict[str, Any])
def save_type(code: str, admin: AdminDep, service: ServiceDep,
              definition: Annotated[dict[str, Any], Body(description="a yinxin-license-type/1 definition")],
              ) -> dict[str, Any]:
    """Add or replace a catalogue type. The definition is validated; a bad key is named (422)."""
    license_type = license_type_from_dict(definition)
    if license_type.code != code:
        raise FieldValidationError("code", f"the definition is for {license_type.code}, not {code}")
    service.save_license_types([license_type], actor=f"admin:{admin.name}")
    return license_type_to_dict(license_type)


@router.post("/license-types/{code}/issuers", response_model=list[str])
def change_issuer(code: str, body: IssuerChange, admin: AdminDep, service: ServiceDep) -> list[str]:
    """Allow or stop a department issuing this type; returns the type's issuers afterwards."""
    return service.set_issuer(license_type=code, uscc=body.uscc, allowed=body.allowed, actor=f"admin:{admin.name}")
