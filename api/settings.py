"""Settings: the home directory, ``yinxin.toml`` in it, and ``YINXIN_*`` environment overrides.

Only the edges (``cli.py`` and ``api/``) read settings; the core takes plain arguments.
Resolution order for each key: environment variable ``YINXIN_<KEY>`` > ``yinxin.toml`` > default.
Unknown keys in the file are errors (a typo in a security setting must not pass silently), and the
passphrase may never be written in the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

CONFIG_FILE = "yinxin.toml"
DEFAULT_HOME = ".yinxin"


class SettingsError(Exception):
    """The configuration cannot be used; the message names the key or file."""

    code = "invalid_settings"

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


@dataclass(frozen=True)
class Settings:
    """Resolved configuration of one Yinxin home."""

    home: Path
    database_url: str = ""
    algorithm: str = "ecdsa-p256"
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 20 * 2**20
    # How long a verification result may rely on a registry answer (seconds of HTTP cache on status).
    root_name: str = "印信根证书颁发机构"
    issuing_name: str = "印信电子印章签发机构"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.home / 'yinxin.db'}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"port: {self.port} is not a TCP port")
        if self.max_upload_bytes <= 0:
            raise SettingsError("max_upload_bytes: must be positive")

    @property
    def keystore_dir(self) -> Path:
        """Where the encrypted software key store lives."""
        return self.home / "keystore"

    @property
    def config_path(self) -> Path:
        """The ``yinxin.toml`` of this home."""
        return self.home / CONFIG_FILE

    def to_toml(self) -> str:
        """The settings as a ``yinxin.toml`` document (the home itself is implied by the file's place)."""
        lines = ["# Yinxin settings. Environment variables YINXIN_<KEY> override these.",
                 "# The key store passphrase is never stored here: use YINXIN_PASSPHRASE or the prompt."]
        for f in fields(self):
            if f.name == "home":
                continue
            value = getattr(self, f.name)
            lines.append(f"{f.name} = {value}" if isinstance(value, int) else f'{f.name} = "{_toml_escape(value)}"')
        return "\n".join(lines) + "\n"


def _toml_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


_KEYS = {f.name: f for f in fields(Settings) if f.name != "home"}
_SECRET_KEYS = {"passphrase", "password", "pin"}


def _coerce(key: str, value: Any, source: str) -> Any:
    expected = _KEYS[key].type
    if expected in ("int", int):
        if isinstance(value, bool):
            raise SettingsError(f"{key} ({source}): expected an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key} ({source}): expected an integer, got {value!r}") from None
    if not isinstance(value, str):
        raise SettingsError(f"{key} ({source}): expected a string")
    return value


def resolve_home(home: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Path:
    """``--home`` if given, else ``$YINXIN_HOME``, else ``./.yinxin``."""
    environ = os.environ if environ is None else environ
    chosen = home or environ.get("YINXIN_HOME") or DEFAULT_HOME
    return Path(chosen).expanduser().absolute()


def load_settings(home: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``home/yinxin.toml`` (if present) and apply ``YINXIN_*`` overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = home / CONFIG_FILE
    if path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{path}: cannot be read as TOML ({exc})") from None
        for key, value in document.items():
            if key.lower() in _SECRET_KEYS:
                raise SettingsError(f"{path}: {key!r} must not be stored in the file; use YINXIN_PASSPHRASE")
            if key not in _KEYS:
                known = ", ".join(sorted(_KEYS))
                raise SettingsError(f"{path}: unknown key {key!r} (known keys: {known})")
            values[key] = _coerce(key, value, str(path))
    for key in _KEYS:
        env_name = f"YINXIN_{key.upper()}"
        if env_name in environ:
            values[key] = _coerce(key, environ[env_name], f"environment {env_name}")
    return Settings(home=home, **values)


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with some keys changed (used by tests and ``yinxin init``)."""
    return replace(settings, **changes)
