"""Shared test configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The team's ``shared/`` folder (beside the checkout, as on CI), or ``$YINXIN_SHARED``."""
    path = Path(os.environ.get("YINXIN_SHARED", ROOT.parent / "shared"))
    if not (path / "interop").is_dir():
        pytest.fail(f"shared/ with interop vectors not found at {path}; set YINXIN_SHARED")
    return path
