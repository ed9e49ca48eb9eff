#!/usr/bin/env bash
# Quick start, second command: install the test needs and run the whole suite (also what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
bash scripts/ensure-postgres.sh
.venv/bin/ruff check .
.venv/bin/mypy .
.venv/bin/python -m pytest "$@"
