"""Map the packages' root errors to HTTP: RFC 9457 ``application/problem+json`` bodies.

This is the only place that knows HTTP status codes for domain errors. Bodies carry the error's
safe ``public_message`` and stable ``code``; internal causes stay in the server log.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ca.errors import CAError
from issuance.errors import FieldValidationError, IssuanceError, LifecycleError, UnknownLicenseTypeError
from registry.errors import (
    DatabaseUnavailableError,
    DataKeyError,
    DataKeyRequiredError,
    DuplicateError,
    NotFoundError,
    RegistryError,
    StatusConflictError,
)
from seal_keys.errors import SealKeyError, WrongPassphraseError
from verification.errors import InputTooLargeError, MalformedInputError, TrustConfigurationError, VerificationError

from .service import ServiceError
from .settings import SettingsError

log = logging.getLogger("yinxin.api")
PROBLEM = "application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
          500: "Internal Server Error", 503: "Service Unavailable"}


def problem(status: int, detail: str, *, code: str, request: Request, **extra: object) -> JSONResponse:
    """An RFC 9457 problem details response."""
    body: dict[str, object] = {
        "type": f"https://yinxin.example/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _status_for(exc: Exception) -> int:
    table: list[tuple[type[Exception], int]] = [
        (FieldValidationError, 422),
        (LifecycleError, 409),
        (StatusConflictError, 409),
        (DataKeyRequiredError, 503),
        (DataKeyError, 503),
        (UnknownLicenseTypeError, 422),
        (InputTooLargeError, 413),
        (MalformedInputError, 422),
        (TrustConfigurationError, 503),
        (NotFoundError, 404),
        (DuplicateError, 409),
        (DatabaseUnavailableError, 503),
        (WrongPassphraseError, 503),
        (SettingsError, 503),
    ]
    for kind, status in table:
        if isinstance(exc, kind):
            return status
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, IssuanceError | VerificationError):
        return 422
    return 503 if isinstance(exc, SealKeyError | CAError | RegistryError) else 500


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        status = _status_for(exc)
        if status >= 500:
            log.error("request failed: %s %s: %s", request.method, request.url.path, type(exc).__name__,
                      exc_info=exc)
        extra: dict[str, object] = {}
        if isinstance(exc, FieldValidationError):
            extra["field"] = exc.field
        message = getattr(exc, "public_message", "the request could not be processed")
        return problem(status, message, code=getattr(exc, "code", "error"), request=request, **extra)

    for root in (CAError, IssuanceError, VerificationError, RegistryError, SealKeyError, ServiceError, SettingsError):
        app.add_exception_handler(root, domain_error)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        return problem(422, f"{field or 'request'}: {first['msg']}", code="invalid_request", request=request,
                       field=field or None, errors=errors)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem(exc.status_code, str(exc.detail), code=f"http_{exc.status_code}", request=request)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, "internal error; the incident was logged", code="internal_error", request=request)

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
