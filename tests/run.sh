#!/usr/bin/env bash
# Runs every test of softtoken: the Cargo workspace (unit, property, CLI and end-to-end tests), the
# Kotlin bindings' JUnit tests (tests/kotlin/run.sh) and the Swift package's XCTest suite
# (tests/swift/run.sh, in a Debian trixie chroot: needs root), after the independent Aegis reader of
# softtoken's Aegis exports (tests/aegis/run.sh) and schemathesis against the live provider
# (tests/api/run.sh), the portal in headless Chromium (tests/browser/run.sh) and Web Push wake-ups
# decrypted by an independent receiver (tests/webpush/run.sh). The provider's tests and the browser
# checks run a second time with the state on PostgreSQL (a throwaway server from
# tests/postgres/start.sh). The CLI against a real privacyIDEA and a real eduMFA from PyPI
# (tests/privacyidea/run.sh) runs in the background beside the stages after PostgreSQL (it mostly
# waits on its servers). Ends with one summary line each: `rust: …`, `postgres: …`,
# `aegis-reader: …`, `api: …`, `browser: …`, `browser-postgres: …`, `webpush: …`, `privacyidea: …`,
# `edumfa: …`, `radius: …` (FreeRADIUS with deploy/freeradius/ in front of the provider,
# tests/radius/run.sh), `ldap: …` (users from a real slapd, tests/ldap/run.sh), `validate: …` (the provider's validate API side by side with that privacyIDEA,
# tests/validate/compare.py), `kotlin: …`, `swift: N passed, M failed`.
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
pilog=$(mktemp)
edulog=$(mktemp)
vlog=$(mktemp)
rlog=$(mktemp)
llog=$(mktemp)
pg_dir=""
pi_pid=""
trap 'rm -f "$log" "$klog" "$slog" "$alog" "$plog" "$blog" "$wlog" "$glog" "$gblog" "$pilog" "$edulog" "$vlog" "$rlog" "$llog"; [ -z "$pi_pid" ] || kill "$pi_pid" 2>/dev/null; [ -z "$pg_dir" ] || bash tests/postgres/start.sh stop "$pg_dir"' EXIT
# One timing line per stage (seconds), to see where the run's time goes.
stage_start=$(date +%s)
stage() {
  local now
  now=$(date +%s)
  echo "tests-time: $1 $((now - stage_start)) s"
  stage_start=$now
}
# The whole workspace is built once, every target with the features of all members together; every
# later stage uses these binaries (target/debug, passed as SOFTTOKEN_BIN_DIR) instead of a
# `cargo build -p …` of its own, which resolves other features and compiles the crates again.
cargo build --workspace --all-targets 2>&1 | tail -3
export SOFTTOKEN_BIN_DIR="$PWD/target/debug"
stage build
cargo test --workspace --all-targets 2>&1 | tee "$log"
rust_status=${PIPESTATUS[0]}
stage rust
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log")
pg_status=1
if pg=$(bash tests/postgres/start.sh); then
  pg_url=${pg%% *}
  pg_dir=${pg#* }
  # The same provider tests (unit and integration), each on a database of its own on the server:
  # the test binaries the workspace run just built, run again (a `cargo test -p` would rebuild them).
  pg_status=0
  tests=$(cargo test --workspace --all-targets --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["package_id"].split("#")[0].endswith("/provider") and (t.get("kind") == ["lib"] or t.get("kind") == ["test"]):
        print(m["executable"])
')
  [ -n "$tests" ] || pg_status=1
  for t in $tests; do
    (cd provider && SOFTTOKEN_TEST_POSTGRES="$pg_url" "$t") 2>&1 | tee -a "$glog"
    [ "${PIPESTATUS[0]}" -eq 0 ] || pg_status=1
  done
fi
stage postgres
# privacyIDEA, then eduMFA, in the background from here on (after the timing-sensitive stages).
(
  bash tests/privacyidea/run.sh >"$pilog" 2>&1
  echo "status $?" >>"$pilog"
  bash tests/privacyidea/run.sh edumfa >"$edulog" 2>&1
  echo "status $?" >>"$edulog"
) &
pi_pid=$!
# And one configured privacyIDEA for the Kotlin and Swift suites, started now to be ready for them.
source tests/privacyidea/serve.sh
privacyidea_spawn
pg_passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$glog")
pg_failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$glog")
bash tests/aegis/run.sh 2>&1 | tee "$alog"
aegis_status=${PIPESTATUS[0]}
stage aegis
bash tests/api/run.sh 2>&1 | tee "$plog"
api_status=${PIPESTATUS[0]}
stage api
bash tests/browser/run.sh 2>&1 | tee "$blog"
browser_status=${PIPESTATUS[0]}
stage browser
browser_pg_status=1
if [ -n "$pg_dir" ]; then
  SOFTTOKEN_BROWSER_DATABASE="$pg_url" bash tests/browser/run.sh 2>&1 | tee "$gblog"
  browser_pg_status=${PIPESTATUS[0]}
fi
stage browser-postgres
bash tests/webpush/run.sh 2>&1 | tee "$wlog"
webpush_status=${PIPESTATUS[0]}
stage webpush
bash tests/radius/run.sh 2>&1 | tee "$rlog"
radius_status=${PIPESTATUS[0]}
stage radius
bash tests/ldap/run.sh 2>&1 | tee "$llog"
ldap_status=${PIPESTATUS[0]}
stage ldap
privacyidea_start || true
export SOFTTOKEN_PRIVACYIDEA=$privacyidea_file
# The provider's validate API side by side with that privacyIDEA (the same requests to both).
read -r pi_url pi_password <"$privacyidea_file" || true
PI_URL=$pi_url PI_ADMIN_PASSWORD=$pi_password target/privacyidea-venv/bin/python tests/validate/compare.py "$SOFTTOKEN_BIN_DIR/softtoken-provider" "$SOFTTOKEN_BIN_DIR/softtoken" 2>&1 | tee "$vlog"
validate_status=${PIPESTATUS[0]}
stage validate
bash tests/kotlin/run.sh 2>&1 | tee "$klog"
kotlin_status=${PIPESTATUS[0]}
stage kotlin
bash tests/swift/run.sh 2>&1 | tee "$slog"
swift_status=${PIPESTATUS[0]}
stage swift
unset SOFTTOKEN_PRIVACYIDEA
privacyidea_stop
wait "$pi_pid" || true
pi_pid=""
stage privacyidea-wait
cat "$pilog" "$edulog"
pi_status=1
grep -qx "status 0" "$pilog" && grep -qx "status 0" "$edulog" && pi_status=0
swift_line=$(grep -E "Test Suite 'All tests' (passed|failed)" -A1 "$slog" | sed -n 's/.*Executed \([0-9]*\) tests\{0,1\}, with \([0-9]*\) failures\{0,1\}.*/\1 \2/p' | tail -1)
echo
echo "rust: ${passed:-0} passed, ${failed:-0} failed"
if [ "$pg_status" -eq 0 ] || [ "${pg_passed:-0}" -gt 0 ]; then echo "postgres: ${pg_passed:-0} passed, ${pg_failed:-0} failed"; else echo "postgres: 0 passed, 1 failed"; fi
grep -E '^aegis-reader: [0-9]+ passed, [0-9]+ failed$' "$alog" | tail -1 || echo "aegis-reader: 0 passed, 1 failed"
grep -E '^api: [0-9]+ passed, [0-9]+ failed$' "$plog" | tail -1 || echo "api: 0 passed, 1 failed"
grep -E '^browser: [0-9]+ passed, [0-9]+ failed$' "$blog" | tail -1 || echo "browser: 0 passed, 1 failed"
grep -E '^browser-postgres: [0-9]+ passed, [0-9]+ failed$' "$gblog" | tail -1 || echo "browser-postgres: 0 passed, 1 failed"
grep -E '^webpush: [0-9]+ passed, [0-9]+ failed$' "$wlog" | tail -1 || echo "webpush: 0 passed, 1 failed"
grep -E '^privacyidea: [0-9]+ passed, [0-9]+ failed$' "$pilog" | tail -1 || echo "privacyidea: 0 passed, 1 failed"
grep -E '^edumfa: [0-9]+ passed, [0-9]+ failed$' "$edulog" | tail -1 || echo "edumfa: 0 passed, 1 failed"
grep -E '^radius: [0-9]+ passed, [0-9]+ failed$' "$rlog" | tail -1 || echo "radius: 0 passed, 1 failed"
grep -E '^ldap: [0-9]+ passed, [0-9]+ failed$' "$llog" | tail -1 || echo "ldap: 0 passed, 1 failed"
grep -E '^validate: [0-9]+ passed, [0-9]+ failed$' "$vlog" | tail -1 || echo "validate: 0 passed, 1 failed"
grep -E '^kotlin: [0-9]+ passed, [0-9]+ failed$' "$klog" | tail -1 || echo "kotlin: 0 passed, 1 failed"
if [ -n "$swift_line" ]; then
  set -- $swift_line
  echo "swift: $(($1 - $2)) passed, $2 failed"
else
  echo "swift: 0 passed, 1 failed"
fi
[ "$rust_status" -eq 0 ] && [ "${passed:-0}" -gt 0 ] && [ "$pg_status" -eq 0 ] && [ "${pg_passed:-0}" -gt 0 ] && [ "$browser_pg_status" -eq 0 ] && [ "$aegis_status" -eq 0 ] && [ "$api_status" -eq 0 ] && [ "$browser_status" -eq 0 ] && [ "$webpush_status" -eq 0 ] && [ "$pi_status" -eq 0 ] && [ "$validate_status" -eq 0 ] && [ "$radius_status" -eq 0 ] && [ "$ldap_status" -eq 0 ] && [ "$kotlin_status" -eq 0 ] && [ "$swift_status" -eq 0 ] && [ -n "$swift_line" ]
