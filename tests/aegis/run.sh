#!/usr/bin/env bash
# Checks that softtoken's Aegis exports read as Aegis's published format says, with an
# independent reader (tests/aegis/check_export.py, Python `cryptography` from PyPI, in a virtual
# environment cached under target/). Prints `aegis-reader: N passed, M failed`.
# Usage: bash tests/aegis/run.sh (after `cargo build -p softtoken-cli`)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/aegis-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import cryptography' 2>/dev/null; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check cryptography
fi
cargo build -q -p softtoken-cli
"$venv/bin/python" tests/aegis/check_export.py target/debug/softtoken
