"""The HTTP API: ``create_app(settings)`` builds a FastAPI app over one Yinxin home."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from .errors import install_error_handlers
from .routers import admin, health, licenses, page, presentations, sharing, status, verify
from .service import ServiceError, TrustService, utc_now
from .settings import Settings, load_settings, resolve_home


class KeyStoreLockedError(ServiceError):
    """The server was started without the key store passphrase: signing and personal data are unavailable."""

    code = "key_store_locked"
    status = 503


def _env_passphrase() -> str:
    value = os.environ.get("YINXIN_PASSPHRASE")
    if not value:
        raise KeyStoreLockedError("the key store is locked: start the server with YINXIN_PASSPHRASE set")
    return value


def create_app(
    settings: Settings,
    *,
    passphrase: Callable[[], str] = _env_passphrase,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """A FastAPI app serving the home described by ``settings``."""
    app = FastAPI(
        title="Yinxin (印信) API",
        version="0.1.0",
        description="Electronic licences (电子证照) and electronic seals (电子印章): issuance and verification.",
    )
    app.state.service = TrustService.open(settings, passphrase=passphrase, clock=clock)
    install_error_handlers(app)
    routers = (health.router, licenses.router, sharing.router, verify.router, admin.router, presentations.router,
               status.router)
    for router in routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(presentations.online_router)  # GET /v/{token}: the online presentation URL
    app.include_router(page.router)  # the scanning page /verify and /vendor/jsQR.js
    app.mount("/static", page.static_files(), name="static")
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory``: the home from ``$YINXIN_HOME``."""
    return create_app(load_settings(resolve_home(None)))
