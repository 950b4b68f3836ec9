#!/usr/bin/env bash
# Runs every test of softtoken: the Cargo workspace (unit, property, CLI and end-to-end tests), then
# the Kotlin bindings' JUnit tests (tests/kotlin/run.sh). Ends with one summary line per language,
# `rust: N passed, M failed` and `kotlin: N passed, M failed`.
# Usage: bash tests/run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
klog=$(mktemp)
trap 'rm -f "$log" "$klog"' EXIT
cargo test --workspace --all-targets 2>&1 | tee "$log"
rust_status=${PIPESTATUS[0]}
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log")
bash tests/kotlin/run.sh 2>&1 | tee "$klog"
kotlin_status=${PIPESTATUS[0]}
echo
echo "rust: ${passed:-0} passed, ${failed:-0} failed"
grep -E '^kotlin: [0-9]+ passed, [0-9]+ failed$' "$klog" | tail -1 || echo "kotlin: 0 passed, 1 failed"
[ "$rust_status" -eq 0 ] && [ "${passed:-0}" -gt 0 ] && [ "$kotlin_status" -eq 0 ]
