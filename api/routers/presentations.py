"""Holder presentations and their online resolution by verifiers (issue 5 §1, §2, §6).

Two routers:

- :data:`router` (under ``/api/v1``): ``GET /holder/licenses`` and ``POST /presentations`` for holders,
  ``GET /verifier/me`` for verifiers;
- :data:`online_router` (at the root, no prefix): ``GET /v/{token}``, the online presentation URL a
  holder's QR carries, opened by an authenticated verifier — once.

The schemas of this area live here too; :mod:`api.routers.verify` answers with :class:`RoleVerificationPublic`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from verification.policy import default_policy

from ..deps import HolderDep, ServiceDep, VerifierDep
from ..presentations import own_licenses, present, resolve_online
from ..schemas import VerificationPublic

router = APIRouter(tags=["presentations"])
online_router = APIRouter(tags=["presentations"])

_ROLE_PATTERN = "^[A-Za-z0-9_-]{1,32}$"


class PresentationCreate(BaseModel):
    """Present one of your licences for a purpose (a verifier role: hotel, police, window)."""

    model_config = ConfigDict(extra="forbid")

    license: str = Field(max_length=128, description="the licence identifier (GB/T 36904)")
    purpose: str = Field(pattern=_ROLE_PATTERN, examples=["hotel"],
                         description="hotel 旅馆住宿登记, police 路面执勤, window 容缺受理")
    ttl_seconds: int = Field(default=300, ge=30, le=1800, description="how long both codes stay valid")


class PresentationPublic(BaseModel):
    """The offline QR text (short-lived credential) and the single-use online URL."""

    license_identifier: str
    purpose: str
    qr_text: str
    expires_at: datetime
    claims: list[str] = Field(description="names of the claims the offline QR carries")
    url: str
    url_expires_at: datetime


class OwnLicensePublic(BaseModel):
    """One of the holder's licences (enough to choose which to present)."""

    identifier: str
    type: str
    type_name: str | None
    issuer: str
    status: str
    holder_name: str
    valid_until: date | None


class VerifierPublic(BaseModel):
    """The calling verifier, its role and what the role is shown."""

    name: str
    role: str | None
    role_label: str | None
    purpose: str | None
    acceptance_record: bool


class AcceptancePublic(BaseModel):
    """The acceptance record a service window's valid verification leaves (容缺受理)."""

    id: int
    identifier: str
    purpose: str
    occurred_at: str


class RoleVerificationPublic(VerificationPublic):
    """A verification as the caller's role sees it: ``disclosed`` holds only the role's fields.

    Without a verifier key, ``disclosed`` is empty (``disclosure_note`` says why); ``withheld`` names the
    fields not shown.
    """

    channel: str = Field(description="qr (a scanned credential) or online (a /v/ presentation URL)")
    verifier: str | None
    role: str | None
    role_label: str | None
    purpose: str | None = Field(description="the purpose (用证事由) recorded with the verification")
    presented_for: str | None = Field(description="the purpose the holder presented the licence for, if any")
    withheld: list[str]
    disclosure_note: str | None
    acceptance: AcceptancePublic | None


@router.get("/holder/licenses", response_model=list[OwnLicensePublic])
def holder_licenses(holder: HolderDep, service: ServiceDep) -> list[OwnLicensePublic]:
    """Your own licences (found through your holder code's blind index), newest first."""
    names: dict[str, str] = {t.code: t.name for t in service.license_types()}
    return [OwnLicensePublic(identifier=r.identifier, type=r.type_code, type_name=names.get(r.type_code),
                             issuer=r.department_uscc, status=r.status, holder_name=r.holder_name,
                             valid_until=r.valid_until)
            for r in own_licenses(service, holder=holder)]


@router.post("/presentations", status_code=201, response_model=PresentationPublic)
def create_presentation(body: PresentationCreate, holder: HolderDep, service: ServiceDep,
                        response: Response) -> PresentationPublic:
    """Present one of your own active licences for a purpose: an offline QR carrying only the purpose's
    claims (valid 5 minutes by default) and a single-use online URL for a verifier to open."""
    issued = present(service, holder=holder, identifier=body.license, purpose=body.purpose,
                     ttl=timedelta(seconds=body.ttl_seconds))
    response.headers["Cache-Control"] = "no-store"
    return PresentationPublic(license_identifier=issued.license_identifier, purpose=issued.purpose,
                              qr_text=issued.offline.text, expires_at=issued.offline.expires_at,
                              claims=list(issued.offline.claims), url=issued.url,
                              url_expires_at=issued.url_expires_at)


@router.get("/verifier/me", response_model=VerifierPublic)
def verifier_me(verifier: VerifierDep) -> VerifierPublic:
    """The calling verifier and its role (a page shows it beside the scan button)."""
    role = default_policy().roles.get(verifier.role or "")
    return VerifierPublic(name=verifier.name, role=verifier.role, role_label=role.label if role else None,
                          purpose=role.purpose if role else None,
                          acceptance_record=bool(role and role.acceptance_record))


def public_verification(document: dict[str, Any]) -> RoleVerificationPublic:
    """The response body of a role verification (``RoleVerification.to_dict()``)."""
    return RoleVerificationPublic.model_validate(document)


@online_router.get("/v/{token}", response_model=RoleVerificationPublic, name="online_presentation")
def open_presentation(token: Annotated[str, Path(max_length=128)], verifier: VerifierDep, service: ServiceDep,
                      response: Response) -> RoleVerificationPublic:
    """Open a holder's online presentation as a verifier. The token works once: a second request (anyone's)
    is 410 Gone, as is an expired one; the answer shows what both the holder's purpose and your role allow."""
    checked = resolve_online(service, token, verifier=verifier)
    response.headers["Cache-Control"] = "no-store"
    return public_verification(checked.to_dict())
