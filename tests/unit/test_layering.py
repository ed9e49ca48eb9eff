"""The core packages know nothing of the web or database layers (DESIGN.md, "Layout")."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["ca", "seal_keys", "issuance", "verification"])
def test_core_imports_neither_fastapi_nor_sqlalchemy(package: str) -> None:
    # A fresh interpreter, so modules other tests imported do not hide a leak.
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "web_or_db = ('fastapi', 'starlette', 'sqlalchemy', 'alembic')\n"
        "leaks = sorted(n for n in sys.modules if n.split('.')[0] in web_or_db)\n"
        "print(','.join(leaks))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"{package} pulled in: {done.stdout.strip()}"
