#!/usr/bin/env bash
# Runs every test of softtoken: the Cargo workspace (unit, property, CLI and end-to-end tests), the
# Kotlin bindings' JUnit tests (tests/kotlin/run.sh) and the Swift package's XCTest suite
# (tests/swift/run.sh, in a Debian trixie chroot: needs root), after the independent Aegis reader of
# softtoken's Aegis exports (tests/aegis/run.sh) and schemathesis against the live provider
# (tests/api/run.sh), the portal in headless Chromium (tests/browser/run.sh) and Web Push wake-ups
# decrypted by an independent receiver (tests/webpush/run.sh). The provider's tests and the browser
# checks run a second time with the state on PostgreSQL (a throwaway server from
# tests/postgres/start.sh). Ends with one summary line each: `rust: …`, `postgres: …`,
# `aegis-reader: …`, `api: …`, `browser: …`, `browser-postgres: …`, `webpush: …`, `kotlin: …`,
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
glog=$(mktemp)
gblog=$(mktemp)
pg_dir=""
trap 'rm -f "$log" "$klog" "$slog" "$alog" "$plog" "$blog" "$wlog" "$glog" "$gblog"; [ -z "$pg_dir" ] || bash tests/postgres/start.sh stop "$pg_dir"' EXIT
cargo test --workspace --all-targets 2>&1 | tee "$log"
rust_status=${PIPESTATUS[0]}
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log")
pg_status=1
if pg=$(bash tests/postgres/start.sh); then
  pg_url=${pg%% *}
  pg_dir=${pg#* }
  # The same provider tests (unit and integration), each on a database of its own on the server.
  SOFTTOKEN_TEST_POSTGRES="$pg_url" cargo test -p softtoken-provider --lib --tests 2>&1 | tee "$glog"
  pg_status=${PIPESTATUS[0]}
fi
pg_passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$glog")
pg_failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$glog")
bash tests/aegis/run.sh 2>&1 | tee "$alog"
aegis_status=${PIPESTATUS[0]}
bash tests/api/run.sh 2>&1 | tee "$plog"
api_status=${PIPESTATUS[0]}
SOFTTOKEN_BIN_DIR="$PWD/target/debug" bash tests/browser/run.sh 2>&1 | tee "$blog"
browser_status=${PIPESTATUS[0]}
browser_pg_status=1
if [ -n "$pg_dir" ]; then
  SOFTTOKEN_BROWSER_DATABASE="$pg_url" SOFTTOKEN_BIN_DIR="$PWD/target/debug" bash tests/browser/run.sh 2>&1 | tee "$gblog"
  browser_pg_status=${PIPESTATUS[0]}
fi
SOFTTOKEN_BIN_DIR="$PWD/target/debug" bash tests/webpush/run.sh 2>&1 | tee "$wlog"
webpush_status=${PIPESTATUS[0]}
bash tests/kotlin/run.sh 2>&1 | tee "$klog"
kotlin_status=${PIPESTATUS[0]}
bash tests/swift/run.sh 2>&1 | tee "$slog"
swift_status=${PIPESTATUS[0]}
swift_line=$(grep -E "Test Suite 'All tests' (passed|failed)" -A1 "$slog" | sed -n 's/.*Executed \([0-9]*\) tests\{0,1\}, with \([0-9]*\) failures\{0,1\}.*/\1 \2/p' | tail -1)
echo
echo "rust: ${passed:-0} passed, ${failed:-0} failed"
if [ "$pg_status" -eq 0 ] || [ "${pg_passed:-0}" -gt 0 ]; then echo "postgres: ${pg_passed:-0} passed, ${pg_failed:-0} failed"; else echo "postgres: 0 passed, 1 failed"; fi
grep -E '^aegis-reader: [0-9]+ passed, [0-9]+ failed$' "$alog" | tail -1 || echo "aegis-reader: 0 passed, 1 failed"
grep -E '^api: [0-9]+ passed, [0-9]+ failed$' "$plog" | tail -1 || echo "api: 0 passed, 1 failed"
grep -E '^browser: [0-9]+ passed, [0-9]+ failed$' "$blog" | tail -1 || echo "browser: 0 passed, 1 failed"
grep -E '^browser-postgres: [0-9]+ passed, [0-9]+ failed$' "$gblog" | tail -1 || echo "browser-postgres: 0 passed, 1 failed"
grep -E '^webpush: [0-9]+ passed, [0-9]+ failed$' "$wlog" | tail -1 || echo "webpush: 0 passed, 1 failed"
grep -E '^kotlin: [0-9]+ passed, [0-9]+ failed$' "$klog" | tail -1 || echo "kotlin: 0 passed, 1 failed"
if [ -n "$swift_line" ]; then
  set -- $swift_line
  echo "swift: $(($1 - $2)) passed, $2 failed"
else
  echo "swift: 0 passed, 1 failed"
fi
[ "$rust_status" -eq 0 ] && [ "${passed:-0}" -gt 0 ] && [ "$pg_status" -eq 0 ] && [ "${pg_passed:-0}" -gt 0 ] && [ "$browser_pg_status" -eq 0 ] && [ "$aegis_status" -eq 0 ] && [ "$api_status" -eq 0 ] && [ "$browser_status" -eq 0 ] && [ "$webpush_status" -eq 0 ] && [ "$kotlin_status" -eq 0 ] && [ "$swift_status" -eq 0 ] && [ -n "$swift_line" ]
