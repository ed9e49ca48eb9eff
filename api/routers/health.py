"""Health endpoint."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from ..deps import ServiceDep
from ..schemas import Health

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("yinxin")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health", response_model=Health)
def health(service: ServiceDep) -> Health:
    """Is the service up, and does its home have a CA?"""
    return Health(status="ok", initialised=service.is_initialised(), version=_version())
