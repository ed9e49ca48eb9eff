#!/usr/bin/env bash
# Quick start, first command: install Yinxin and run the demo in a fresh home (./demo-home).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
home=${YINXIN_DEMO_HOME:-./demo-home-$(date +%Y%m%d-%H%M%S)}
.venv/bin/yinxin demo --home "$home" "$@"
