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


class LicenseAction(BaseModel):
    """A lifecycle action's reason (recorded with who and when)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, examples=["核查中"])


class LicenseAmend(LicenseAction):
    """变更: the fields that change; the others keep their values."""

    fields: dict[str, str] = Field(min_length=1, examples=[{"address": "浙江省示范市新地址2号"}])


class LicenseChangePublic(BaseModel):
    """One lifecycle change."""

    identifier: str
    action: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    occurred_at: datetime


class SharedLicense(BaseModel):
    """A licence found by a sharing query: what another department may learn about it."""

    identifier: str
    type: str
    issuer: str
    status: str
    version: int
    holder_name: str
    valid_from: date | None
    valid_until: date | None


class ShareLinkCreate(BaseModel):
    """Ask for a time-limited link to one licence's file, with a stated purpose (用证事由)."""

    model_config = ConfigDict(extra="forbid")

    identifier: str = Field(max_length=128)
    purpose: str = Field(min_length=1, max_length=200, examples=["企业开办窗口核验营业执照"])
    ttl_seconds: int = Field(default=600, ge=30, le=86400)


class ShareLinkPublic(BaseModel):
    """The link and when it stops working."""

    url: str
    expires_at: datetime


class Statistics(BaseModel):
    """Issued licences per type and department, and verifications per day."""

    issued: list[dict[str, Any]]
    verifications_per_day: list[dict[str, Any]]


class IssuerChange(BaseModel):
    """Allow (or stop) a department issuing a catalogue type."""

    model_config = ConfigDict(extra="forbid")

    uscc: str = Field(min_length=18, max_length=18)
    allowed: bool = True
