#!/usr/bin/env bash
# The provider's HTTP API attacked from outside: schemathesis (PyPI, in a virtual environment cached
# under target/) generates valid and malformed requests from docs/openapi.yaml and sends them to a
# live `softtoken-provider serve` on loopback. Checked: no 5xx, every status and body as the
# description says, malformed requests answered with a 4xx, unsupported methods with a 405 and its
# Allow header. The state holds one issued activation (random ids mostly meet 401 and 404). Prints
# `api: N passed, M failed` (one per operation).
# Usage: bash tests/api/run.sh (after `cargo build -p softtoken-provider`)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv=target/api-venv
python_venv "$venv" "import schemathesis" "schemathesis==4.32.5"
# tests/run.sh sets SOFTTOKEN_BIN_DIR after building the whole workspace into target/debug once.
[ -n "${SOFTTOKEN_BIN_DIR:-}" ] || cargo build -q -p softtoken-provider
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
provider=target/debug/softtoken-provider
state="$work/provider.db"
# An identity waiting for activation and an activation link, so some requests find something.
"$provider" --state "$state" issue >/dev/null
# The rate limits are raised: schemathesis sends hundreds of answers from one address.
"$provider" --state "$state" serve --listen 127.0.0.1:0 --answers-per-address 1000000 --answers-per-identity 1000000 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$url" ] || { echo "api: the provider did not start: $(cat "$work/serve.err")"; echo "api: 0 passed, 1 failed"; exit 1; }
set +e
"$venv/bin/schemathesis" run docs/openapi.yaml --url "$url" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,unsupported_method,allow_header_conformance,missing_required_header,ignored_auth \
  --max-examples 60 --seed 1 --no-color --generation-database none \
  --report junit --report-junit-path "$work/junit.xml" >"$work/schemathesis.log" 2>&1
status=$?
set -e
cp "$work/schemathesis.log" target/api-schemathesis.log
tail -40 "$work/schemathesis.log"
if [ -f "$work/junit.xml" ]; then
  python3 - "$work/junit.xml" "$status" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.iter("testcase")
passed = failed = 0
for case in cases:
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    else:
        passed += 1
if passed + failed == 0 or (failed == 0 and sys.argv[2] != "0"):
    failed += 1
print(f"api: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
else
  echo "api: 0 passed, 1 failed"
  exit 1
fi
