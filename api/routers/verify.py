"""Verification of QR credentials and sealed PDFs. An invalid credential is a 200 with verdict INVALID."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from verification.errors import InputTooLargeError, MalformedInputError

from ..deps import ServiceDep
from ..schemas import VerificationPublic, VerifyQR

router = APIRouter(prefix="/verify", tags=["verification"])


def _actor(request: Request) -> str:
    return f"api:{request.client.host if request.client else 'unknown'}"


@router.post("/qr", response_model=VerificationPublic)
def verify_qr(body: VerifyQR, service: ServiceDep, request: Request) -> VerificationPublic:
    """Verify a scanned QR credential (``YX1:…``): signature, issuer trust, validity, licence status."""
    result = service.verify_qr_text(body.qr_text.strip(), actor=_actor(request))
    return VerificationPublic.model_validate(result.to_dict())


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
