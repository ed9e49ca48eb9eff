"""Request and response schemas of the HTTP API (pydantic models live only at this edge)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LicenseCreate(BaseModel):
    """Issue a licence of a catalogue type with these field values."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="resident-id, driving-licence, business-licence, or a 21-character type code",
                      max_length=64, examples=["resident-id"])
    fields: dict[str, str] = Field(description="field name → value, as the type's schema names them",
                                   examples=[{"name": "李明", "holder_id_number": "330106199003071236"}])


class LicenseLinks(BaseModel):
    """Where the licence's renditions are."""

    self: str
    pdf: str
    qr: str


class LicensePublic(BaseModel):
    """A licence as its issuing department sees it."""

    identifier: str
    type: str
    department: str
    holder_name: str
    status: str
    version: int
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None
    fields: dict[str, str]
    qr_text: str
    links: LicenseLinks


class VerifyQR(BaseModel):
    """A QR credential's text, as scanned."""

    model_config = ConfigDict(extra="forbid")

    qr_text: str = Field(min_length=1, max_length=4096, examples=["YX1:..."])


class CheckPublic(BaseModel):
    """One check of a verification."""

    name: str
    result: str
    detail: str


class VerificationPublic(BaseModel):
    """A verification result: verdict, status, checks and disclosed fields."""

    verdict: str
    kind: str
    license_identifier: str | None
    status: str | None
    signing_time: str | None
    signing_time_source: str | None
    signer: str | None
    checks: list[CheckPublic]
    reasons: list[str]
    disclosed: dict[str, Any]


class Health(BaseModel):
    """Liveness and readiness."""

    status: str
    initialised: bool
    version: str
