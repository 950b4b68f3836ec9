#!/usr/bin/env bash
# Runs softtoken's benchmarks against their peers (oathtool, Python hashlib). Installs the peers
# when missing. Usage: bench/run.sh [--check]   (--check: exit non-zero when a threshold is missed)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v oathtool >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq oathtool >/dev/null
  else echo "bench: oathtool missing (apt-get install oathtool)" >&2; exit 1; fi
fi
cargo build --release -q -p softtoken-cli -p softtoken-core --examples --bins
python3 bench/run.py "$@"
