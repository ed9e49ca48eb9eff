#!/usr/bin/env bash
# Install Yinxin into ./.venv with the Debian packages it needs at run time, and the scanning page's npm
# packages into ./node_modules (npm ci from package-lock.json; the app serves them, never a CDN).
# Usage: bash scripts/install.sh [--test]   (--test adds what the test suite needs: among it Debian's
# chromium, which the page tests drive through pip's playwright — no browser is downloaded)
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_debs=(fonts-noto-cjk)
test_debs=(poppler-utils zbar-tools libnss3-tools softhsm2 openssl chromium)
debs=("${runtime_debs[@]}")
extra=""
if [[ "${1:-}" == "--test" ]]; then
  debs+=("${test_debs[@]}")
  extra="[test]"
fi

if [[ -f package.json ]] && ! { command -v node && command -v npm; } >/dev/null; then
  debs+=(nodejs npm)
fi

missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Yinxin needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}")
PY
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extra}"

if [[ -f package.json ]]; then
  # The QR decoder of the /verify page (jsqr), exactly as package-lock.json records it.
  npm ci --omit=dev --no-audit --no-fund --loglevel=error
fi
