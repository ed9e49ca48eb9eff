"""The command line's shape: every command parses and has help (a broken parser breaks every command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cli

YINXIN = str(Path(sys.executable).parent / "yinxin")


def test_every_subcommand_has_help() -> None:
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"init", "admin", "dept", "seal", "license", "catalog", "share", "stats", "verify", "serve", "demo",
            "ca", "verifier", "holder", "present"} <= set(commands)
    done = subprocess.run([YINXIN, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "yinxin" in done.stdout


def test_unknown_command_is_a_usage_error() -> None:
    done = subprocess.run([YINXIN, "no-such-command"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
