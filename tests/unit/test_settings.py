"""Home directory and settings: file, environment overrides, unknown keys, no secrets in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import SettingsError, load_settings, resolve_home


def test_home_resolution_order(tmp_path: Path) -> None:
    assert resolve_home(str(tmp_path / "a"), {"YINXIN_HOME": str(tmp_path / "b")}) == tmp_path / "a"
    assert resolve_home(None, {"YINXIN_HOME": str(tmp_path / "b")}) == tmp_path / "b"
    assert resolve_home(None, {}) == Path(".yinxin").absolute()


def test_defaults_put_the_database_in_the_home(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.database_url == f"sqlite:///{tmp_path / 'yinxin.db'}"
    assert settings.keystore_dir == tmp_path / "keystore"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    (tmp_path / "yinxin.toml").write_text('algorithm = "ed25519"\nport = 9000\n')
    settings = load_settings(tmp_path, {"YINXIN_PORT": "9100"})
    assert settings.algorithm == "ed25519"
    assert settings.port == 9100


@pytest.mark.parametrize(
    ("content", "environ", "message"),
    [
        ('algoritm = "ed25519"\n', {}, "unknown key 'algoritm'"),
        ('passphrase = "secret123"\n', {}, "must not be stored in the file"),
        ("port = 70000\n", {}, "port"),
        ('port = "x"\n', {}, "port"),
        ("", {"YINXIN_PORT": "abc"}, "YINXIN_PORT"),
        ("algorithm = [\n", {}, "TOML"),
    ],
    ids=["typo", "secret", "port-range", "port-type", "env-type", "syntax"],
)
def test_bad_settings_name_the_key(tmp_path: Path, content: str, environ: dict[str, str], message: str) -> None:
    (tmp_path / "yinxin.toml").write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_settings(tmp_path, environ)


def test_written_settings_round_trip(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {"YINXIN_ALGORITHM": "rsa"})
    (tmp_path / "yinxin.toml").write_text(settings.to_toml())
    assert load_settings(tmp_path, {}) == settings
