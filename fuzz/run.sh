#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 10) and prints, per target, the executions, the
# executions per second and the coverage it reached; exits 1 if any target found a crash, an
# input slower than 1 s or one that needed more than 256 MiB (libFuzzer writes it to
# fuzz/artifacts/TARGET/). The committed corpora (fuzz/corpus/TARGET, seeded from fixtures/) are
# copied to a scratch directory first, so a run never grows them.
# Needs cargo-fuzz (installed from crates.io when missing); a stable toolchain works through
# RUSTC_BOOTSTRAP=1. Sanitizers are off (-s none): the code is safe Rust, and the properties
# checked are panics, allocation and time.
# Usage: bash fuzz/run.sh [SECONDS] [TARGET...]   or   bash fuzz/run.sh --build-only
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-10}
shift || true
export RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never
# glibc keeps freed blocks of the size it last freed on its heap (its mmap threshold rises to them),
# so a target allocating 19 MiB per execution (Argon2) shows a resident size of several such blocks
# that softtoken no longer holds. A fixed threshold makes large blocks go back to the system when
# freed, so -rss_limit_mb measures what the code holds.
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072
# libFuzzer itself is C++ (built by libfuzzer-sys).
if ! command -v c++ >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ >/dev/null
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install -q --locked cargo-fuzz >/dev/null
cargo fuzz build -s none >/dev/null 2>&1 || cargo fuzz build -s none || exit 1
[ "$seconds" = --build-only ] && exit 0
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
passed=0
printf '%-16s %12s %10s %8s %8s\n' target executions "execs/s" cov features
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "artifacts/$t"
  cp -r "corpus/$t/." "$work/$t/" 2>/dev/null || true
  log="$work/$t.log"
  cargo fuzz run -s none "$t" "$work/$t" -- -max_total_time="$seconds" -rss_limit_mb=256 -timeout=1 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-16s %12s %10s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}"
  if [ "$status" -ne 0 ]; then
    failed=$((failed + 1))
    echo "fuzz: $t FAILED (exit $status):" >&2
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -5 >&2
  else
    passed=$((passed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
