#!/usr/bin/env bash
# Runs softtoken's benchmarks against their peers (oathtool, the argon2 CLI, Python hashlib, zxing-cpp, wrk). Installs the
# peers when missing. The provider's load-and-kill run fails the script when a transaction is lost or doubled.
# Usage: bench/run.sh [--check] [--quick]
#   (the provider's /validate/check under load on SQLite and PostgreSQL: provider/examples/validate_load.rs)
#   --check: exit non-zero when a threshold is missed
#   --quick: the load-and-kill run for 15 s with 2 kills (CI; the full run is 60 s with 5 kills), and
#            every program taken from the test build in target/debug (already built in CI: its
#            cryptography, scanning, image and key-derivation crates are optimised as in release;
#            the glue around them and the provider's HTTP stack are not, so the provider's
#            requests per second are lower there: the load run checks that nothing is lost or
#            doubled, its throughput figures come from full runs). Nothing is built for release,
#            which cost four of CI's minutes. The figures in docs/ come from full runs.
set -euo pipefail
cd "$(dirname "$0")/.."
load_args=(--seconds 60 --connections 64 --kills 5 --wrk)
args=()
quick=false
for a in "$@"; do
  if [ "$a" = --quick ]; then load_args=(--seconds 15 --connections 64 --kills 2 --wrk); quick=true; else args+=("$a"); fi
done
set -- "${args[@]+"${args[@]}"}"
missing=""
command -v oathtool >/dev/null || missing="$missing oathtool"
command -v argon2 >/dev/null || missing="$missing argon2"
command -v wrk >/dev/null || missing="$missing wrk"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else echo "bench: missing peers:$missing (apt-get install$missing)" >&2; exit 1; fi
fi
if $quick; then
  # The whole workspace, as tests/run.sh builds it (a no-op after CI's build stage, which runs this
  # script with the same variables; a `-p` selection would resolve other features and rebuild).
  cargo build -q --workspace --all-targets
  export SOFTTOKEN_BENCH_BIN=$PWD/target/debug SOFTTOKEN_BENCH_UNTIMED=1
else
  cargo build --release -q -p softtoken-cli -p softtoken-bench -p softtoken-scan -p softtoken-provider --examples --bins
  export SOFTTOKEN_BENCH_BIN=$PWD/target/release
fi
echo "bench: the CLI and benchmark programs from $SOFTTOKEN_BENCH_BIN"
python3 bench/run.py "$@"

# QR scanning against zxing-cpp (PyPI) on the vendored photo corpus (fixtures/qr-photos) and a synthetic set (seed 1).
python3 -c "import zxingcpp, PIL" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "zxing-cpp==3.1.1" "pillow==13.0.0"
synth=target/bench/synth
rm -rf "$synth" && "$SOFTTOKEN_BENCH_BIN/examples/synth" "$synth" --count 60 --seed 1 >/dev/null
python3 bench/scan.py "$SOFTTOKEN_BENCH_BIN/softtoken" fixtures/qr-photos "$synth" "$@"

# The provider under load and SIGKILLs (loopback only, bounded: wrk 2 x 10 s, then 60 s with 5 kills,
# or 15 s with 2 kills under --quick).
load_bin=target/release
$quick && load_bin=target/debug
"$load_bin/examples/load" "$load_bin/softtoken-provider" "${load_args[@]}"

# /validate/check with correct codes under 64 connections, on SQLite and on PostgreSQL (a throwaway
# server, tests/postgres/start.sh), next to wrk on /v1/time on the same server; every decision is
# checked (30 s each, 5 s under --quick).
validate_seconds=30
$quick && validate_seconds=5
"$load_bin/examples/validate_load" "$load_bin/softtoken-provider" --seconds "$validate_seconds" --connections 64
if pg=$(bash tests/postgres/start.sh); then
  status=0
  "$load_bin/examples/validate_load" "$load_bin/softtoken-provider" --seconds "$validate_seconds" --connections 64 --postgres "${pg%% *}" || status=$?
  bash tests/postgres/start.sh stop "${pg#* }"
  [ "$status" -eq 0 ]
else
  echo "bench: PostgreSQL did not start: the validate load on PostgreSQL was not run" >&2
  exit 1
fi
