#!/usr/bin/env bash
# Runs every test of softtoken: the Cargo workspace (unit, property, CLI and end-to-end tests), the
# Kotlin bindings' JUnit tests (tests/kotlin/run.sh) and the Swift package's XCTest suite
# (tests/swift/run.sh, in a Debian trixie chroot: needs root), after the independent Aegis reader of
# softtoken's Aegis exports (tests/aegis/run.sh) and schemathesis against the live provider
# (tests/api/run.sh), the portal in headless Chromium (tests/browser/run.sh) and Web Push wake-ups
# decrypted by an independent receiver (tests/webpush/run.sh). Ends with one summary line each:
# `rust: …`, `aegis-reader: …`, `api: …`, `browser: …`, `webpush: …`, `kotlin: …`,
# `swift: N passed, M failed`.
# Usage: bash tests/run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
klog=$(mktemp)
slog=$(mktemp)
alog=$(mktemp)
plog=$(mktemp)
blog=$(mktemp)
wlog=$(mktemp)
trap 'rm -f "$log" "$klog" "$slog" "$alog" "$plog" "$blog" "$wlog"' EXIT
cargo test --workspace --all-targets 2>&1 | tee "$log"
rust_status=${PIPESTATUS[0]}
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log")
bash tests/aegis/run.sh 2>&1 | tee "$alog"
aegis_status=${PIPESTATUS[0]}
bash tests/api/run.sh 2>&1 | tee "$plog"
api_status=${PIPESTATUS[0]}
SOFTTOKEN_BIN_DIR="$PWD/target/debug" bash tests/browser/run.sh 2>&1 | tee "$blog"
browser_status=${PIPESTATUS[0]}
SOFTTOKEN_BIN_DIR="$PWD/target/debug" bash tests/webpush/run.sh 2>&1 | tee "$wlog"
webpush_status=${PIPESTATUS[0]}
bash tests/kotlin/run.sh 2>&1 | tee "$klog"
kotlin_status=${PIPESTATUS[0]}
bash tests/swift/run.sh 2>&1 | tee "$slog"
swift_status=${PIPESTATUS[0]}
swift_line=$(grep -E "Test Suite 'All tests' (passed|failed)" -A1 "$slog" | sed -n 's/.*Executed \([0-9]*\) tests\{0,1\}, with \([0-9]*\) failures\{0,1\}.*/\1 \2/p' | tail -1)
echo
echo "rust: ${passed:-0} passed, ${failed:-0} failed"
grep -E '^aegis-reader: [0-9]+ passed, [0-9]+ failed$' "$alog" | tail -1 || echo "aegis-reader: 0 passed, 1 failed"
grep -E '^api: [0-9]+ passed, [0-9]+ failed$' "$plog" | tail -1 || echo "api: 0 passed, 1 failed"
grep -E '^browser: [0-9]+ passed, [0-9]+ failed$' "$blog" | tail -1 || echo "browser: 0 passed, 1 failed"
grep -E '^webpush: [0-9]+ passed, [0-9]+ failed$' "$wlog" | tail -1 || echo "webpush: 0 passed, 1 failed"
grep -E '^kotlin: [0-9]+ passed, [0-9]+ failed$' "$klog" | tail -1 || echo "kotlin: 0 passed, 1 failed"
if [ -n "$swift_line" ]; then
  set -- $swift_line
  echo "swift: $(($1 - $2)) passed, $2 failed"
else
  echo "swift: 0 passed, 1 failed"
fi
[ "$rust_status" -eq 0 ] && [ "${passed:-0}" -gt 0 ] && [ "$aegis_status" -eq 0 ] && [ "$api_status" -eq 0 ] && [ "$browser_status" -eq 0 ] && [ "$webpush_status" -eq 0 ] && [ "$kotlin_status" -eq 0 ] && [ "$swift_status" -eq 0 ] && [ -n "$swift_line" ]
