#!/usr/bin/env bash
# Web Push wake-ups against an independent receiver (http_ece and cryptography from PyPI, in a
# virtual environment cached under target/): see check.py. Prints `webpush: N passed, M failed`.
# Usage: bash tests/webpush/run.sh   (SOFTTOKEN_BIN_DIR=DIR: use the binaries in DIR, else build them)
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv=target/webpush-venv
python_venv "$venv" "import http_ece, cryptography" "http-ece==1.2.1" "cryptography==46.0.3" || { echo "webpush: 0 passed, 1 failed"; exit 1; }
bins=${SOFTTOKEN_BIN_DIR:-}
if [ -z "$bins" ]; then
  cargo build -q --workspace --bins || { echo "webpush: 0 passed, 1 failed"; exit 1; }
  bins="$PWD/target/debug"
fi
"$venv/bin/python" tests/webpush/check.py "$bins"
