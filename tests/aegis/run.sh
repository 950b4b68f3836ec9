#!/usr/bin/env bash
# Checks that softtoken's Aegis exports read as Aegis's published format says, with an
# independent reader (tests/aegis/check_export.py, Python `cryptography` from PyPI, in a virtual
# environment cached under target/). Prints `aegis-reader: N passed, M failed`.
# Usage: bash tests/aegis/run.sh (after `cargo build -p softtoken-cli`)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv=target/aegis-venv
python_venv "$venv" "import cryptography" "cryptography==46.0.3"
# tests/run.sh sets SOFTTOKEN_BIN_DIR after building the whole workspace into target/debug once.
[ -n "${SOFTTOKEN_BIN_DIR:-}" ] || cargo build -q -p softtoken-cli
"$venv/bin/python" tests/aegis/check_export.py target/debug/softtoken
