"""The scanning page for front-line staff (``GET /verify``) and its static files.

The page (api/static/verify.html, verify.js, verify.css) reads a QR credential by camera, image upload or
paste, sends its text to ``POST /api/v1/verify/qr`` and shows the verdict. It makes no request to another
origin: the QR decoder it falls back on where the browser has no ``BarcodeDetector`` (jsQR, an npm package
that ``npm ci`` installs at install time) is served by this app from ``node_modules``.

Wiring in ``api.app.create_app``::

    app.include_router(page.router)
    app.mount("/static", page.static_files(), name="static")
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

log = logging.getLogger("yinxin.api.page")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES_ENV = "YINXIN_NODE_MODULES"
_JSQR_IN_PACKAGE = Path("jsqr") / "dist" / "jsQR.js"

# W3C CSP Level 3: scripts, styles and connections from this origin only; no inline script or style, no
# plugins, no framing. Images and video come from blob: URLs made of the chosen file or camera frames.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Permissions Policy: the camera for this page only, nothing else that a scanning page has no use for.
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

router = APIRouter(include_in_schema=False)


def node_modules_dir() -> Path:
    """Where ``npm ci`` put the page's npm packages: ``$YINXIN_NODE_MODULES``, else the repository's."""
    configured = os.environ.get(NODE_MODULES_ENV)
    return Path(configured) if configured else REPOSITORY_ROOT / "node_modules"


def jsqr_path() -> Path | None:
    """The jsQR browser bundle if it is installed, else ``None`` (the page then relies on BarcodeDetector)."""
    path = node_modules_dir() / _JSQR_IN_PACKAGE
    return path if path.is_file() else None


@router.get("/verify")
def verify_page() -> Response:
    """The scanning page (zh-CN, with English), under a strict Content-Security-Policy."""
    return FileResponse(STATIC_DIR / "verify.html", media_type="text/html; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/vendor/jsQR.js")
def jsqr_bundle() -> Response:
    """jsQR (npm ``jsqr``) from ``node_modules``: the QR decoder for browsers without BarcodeDetector."""
    path = jsqr_path()
    if path is None:
        raise HTTPException(status_code=404, detail="jsQR is not installed on this server (run `npm ci`)")
    return FileResponse(path, media_type="text/javascript; charset=utf-8",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"})


class _PageStaticFiles(StaticFiles):
    """StaticFiles whose responses carry ``nosniff`` and a short cache lifetime."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "public, max-age=300")
        return response


def static_files() -> StaticFiles:
    """The page's own assets (api/static) to mount at ``/static``; warns once when jsQR is missing."""
    if jsqr_path() is None:
        log.warning("jsQR not found under %s: the /verify page will decode QR codes only in browsers with "
                    "BarcodeDetector; run `npm ci --omit=dev` in the repository or set %s",
                    node_modules_dir(), NODE_MODULES_ENV)
    return _PageStaticFiles(directory=STATIC_DIR)
