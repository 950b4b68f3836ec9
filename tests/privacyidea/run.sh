#!/usr/bin/env bash
# The app against a real privacyIDEA (or eduMFA, its fork): installs privacyIDEA 3.14 (eduMFA
# 2.9.5) from PyPI, pinned with its whole dependency set by tests/privacyidea/constraints.txt
# (edumfa-constraints.txt), into a virtual environment cached under target/, configures it
# (SQLite, a flat-file user realm, poll-only push policies), starts it on a free loopback port and
# drives the `softtoken` CLI through tests/privacyidea/scenarios.py. Prints
# `privacyidea: N passed, M failed` (`edumfa: …`).
# Usage: bash tests/privacyidea/run.sh [edumfa]            (after `cargo build -p softtoken-cli`)
#        bash tests/privacyidea/run.sh [edumfa] --install  (only the virtual environment: CI runs
#                                                           it early, in the background, while it compiles)
#        bash tests/privacyidea/run.sh --serve FILE        (a configured server for the Kotlin and
#                                                           Swift tests: writes "URL ADMIN-PASSWORD" to
#                                                           FILE, serves until stopped)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
flavour=privacyidea
if [ "${1:-}" = "edumfa" ]; then
  flavour=edumfa
  shift
fi
venv=$PWD/target/$flavour-venv
if [ "$flavour" = edumfa ]; then
  python_venv "$venv" "import edumfa, passlib, requests" -c tests/privacyidea/edumfa-constraints.txt edumfa==2.9.5
  prefix=EDUMFA
  manage_bin=$venv/bin/edumfa-manage
  setup=""
else
  python_venv "$venv" "import privacyidea, passlib, requests" -c tests/privacyidea/constraints.txt privacyidea==3.14
  prefix=PI
  manage_bin=$venv/bin/pi-manage
  setup=setup
fi
[ "${1:-}" = "--install" ] && exit 0
serve_file=""
if [ "${1:-}" = "--serve" ]; then
  serve_file=${2:?--serve needs a file to write the address to}
fi
[ -n "${SOFTTOKEN_BIN_DIR:-}" ] || cargo build -q -p softtoken-cli
bin=${SOFTTOKEN_BIN_DIR:-$PWD/target/debug}/softtoken

state=$(mktemp -d)
server_pid=""
trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; rm -rf "$state"' EXIT
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rand() { "$venv/bin/python" -c "import secrets; print(secrets.token_hex($1))"; }
# The same settings under each server's prefix (PI_…, EDUMFA_…).
cat >"$state/server.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = 'sqlite:///$state/server.sqlite'
${prefix}_ENCFILE = '$state/enckey'
${prefix}_AUDIT_KEY_PRIVATE = '$state/private.pem'
${prefix}_AUDIT_KEY_PUBLIC = '$state/public.pem'
SECRET_KEY = '$(rand 32)'
${prefix}_PEPPER = '$(rand 16)'
${prefix}_LOGFILE = '$state/server-own.log'
${prefix}_LOGCONFIG = '$state/no-logging.cfg'
${prefix}_LOGLEVEL = 20
${prefix}_NODE = 'localnode'
PI_NODE_UUID = '$("$venv/bin/python" -c 'import uuid; print(uuid.uuid4())')'
PI_UUID_FILE = '$state/uuid.txt'
PI_BASE_URL = 'http://127.0.0.1:$port'
CFG
export PRIVACYIDEA_CONFIGFILE=$state/server.cfg EDUMFA_CONFIGFILE=$state/server.cfg
admin_password=$(rand 12)
manage() { "$manage_bin" "$@" >>"$state/setup.log" 2>&1; }
manage $setup create_enckey
manage $setup create_audit_keys
manage $setup create_tables
manage admin add admin -p "$admin_password"
"$manage_bin" run -h 127.0.0.1 -p "$port" >"$state/server.log" 2>&1 &
server_pid=$!
# Ready when it answers HTTP at all (eduMFA has no /healthz/).
for _ in $(seq 1 60); do
  if "$venv/bin/python" -c "
import urllib.request, urllib.error
try:
    urllib.request.urlopen('http://127.0.0.1:$port/healthz/', timeout=2)
except urllib.error.HTTPError:
    pass" 2>/dev/null; then
    break
  fi
  sleep 1
done
if [ -n "$serve_file" ]; then
  FLAVOUR=$flavour PI_URL="http://127.0.0.1:$port" PI_ADMIN_PASSWORD="$admin_password" PI_STATE="$state" \
    "$venv/bin/python" tests/privacyidea/scenarios.py --configure-only
  echo "http://127.0.0.1:$port $admin_password" >"$serve_file.tmp"
  mv "$serve_file.tmp" "$serve_file"
  wait "$server_pid"
  exit 0
fi
status=0
FLAVOUR=$flavour PI_URL="http://127.0.0.1:$port" PI_ADMIN_PASSWORD="$admin_password" "$venv/bin/python" tests/privacyidea/scenarios.py "$bin" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- $flavour server log (tail) ---" >&2
  tail -40 "$state/server.log" >&2 || true
fi
exit "$status"
