"""Verification of QR credentials and sealed PDFs. An invalid credential is a 200 with verdict INVALID.

``POST /verify/qr`` answers by role (issue 5 §2): with a verifier's key (hotel, police, window) the
``disclosed`` fields are cut to what the role may see and the call is recorded with verifier, role and
purpose; without a key the verdict, status and checks come back but no field at all — an anonymous
caller never sees more than the least of the roles. The text may also be an online presentation URL
(``…/v/<token>``), which only a verifier may open, once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from verification.errors import InputTooLargeError, MalformedInputError

from ..deps import OptionalVerifierDep, ServiceDep
from ..presentations import verify_qr_as
from ..schemas import VerificationPublic, VerifyQR
from .presentations import RoleVerificationPublic, public_verification

router = APIRouter(prefix="/verify", tags=["verification"])


def _actor(request: Request) -> str:
    return f"api:{request.client.host if request.client else 'unknown'}"


@router.post("/qr", response_model=RoleVerificationPublic)
def verify_qr(body: VerifyQR, service: ServiceDep, verifier: OptionalVerifierDep,
              request: Request) -> RoleVerificationPublic:
    """Verify a scanned QR (``YX1:…`` credential or ``…/v/<token>`` online presentation): signature, issuer
    trust, validity, licence status. ``disclosed`` holds the fields the verifier's role may see (none
    without a verifier key); every call is recorded with verifier, role and purpose."""
    checked = verify_qr_as(service, body.qr_text.strip(), verifier=verifier, actor=_actor(request))
    return public_verification(checked.to_dict())


@router.post("/pdf", response_model=VerificationPublic)
async def verify_pdf(file: Annotated[UploadFile, File(description="the sealed PDF")], service: ServiceDep,
                     request: Request) -> VerificationPublic:
    """Verify an uploaded sealed PDF: integrity, signature, trust, licence status."""
    limit = service.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InputTooLargeError(f"file: the upload exceeds {limit} bytes")
    if not data:
        raise MalformedInputError("file: the upload is empty")
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(service.verify_pdf_bytes, data, actor=_actor(request))
    return VerificationPublic.model_validate(result.to_dict())
