#!/usr/bin/env bash
# The app against a real privacyIDEA: installs privacyIDEA 3.14 from PyPI (pinned with its whole
# dependency set by tests/privacyidea/constraints.txt) into a virtual environment cached under
# target/, configures it (SQLite, a flat-file user realm, poll-only push policies), starts it on a
# free loopback port and drives the `softtoken` CLI through tests/privacyidea/scenarios.py. Prints
# `privacyidea: N passed, M failed`.
# Usage: bash tests/privacyidea/run.sh            (after `cargo build -p softtoken-cli`)
#        bash tests/privacyidea/run.sh --install  (only the virtual environment: CI runs it early,
#                                                  in the background, while it compiles)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv=$PWD/target/privacyidea-venv
python_venv "$venv" "import privacyidea, passlib, requests" -c tests/privacyidea/constraints.txt privacyidea==3.14
[ "${1:-}" = "--install" ] && exit 0
[ -n "${SOFTTOKEN_BIN_DIR:-}" ] || cargo build -q -p softtoken-cli
bin=${SOFTTOKEN_BIN_DIR:-$PWD/target/debug}/softtoken

state=$(mktemp -d)
server_pid=""
trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; rm -rf "$state"' EXIT
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rand() { "$venv/bin/python" -c "import secrets; print(secrets.token_hex($1))"; }
cat >"$state/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = 'sqlite:///$state/pi.sqlite'
PI_ENCFILE = '$state/enckey'
PI_AUDIT_KEY_PRIVATE = '$state/private.pem'
PI_AUDIT_KEY_PUBLIC = '$state/public.pem'
SECRET_KEY = '$(rand 32)'
PI_PEPPER = '$(rand 16)'
PI_LOGFILE = '$state/privacyidea.log'
PI_LOGCONFIG = '$state/no-logging.cfg'
PI_LOGLEVEL = 20
PI_NODE = 'localnode'
PI_NODE_UUID = '$("$venv/bin/python" -c 'import uuid; print(uuid.uuid4())')'
PI_UUID_FILE = '$state/uuid.txt'
PI_BASE_URL = 'http://127.0.0.1:$port'
CFG
export PRIVACYIDEA_CONFIGFILE=$state/pi.cfg
admin_password=$(rand 12)
manage() { "$venv/bin/pi-manage" "$@" >>"$state/setup.log" 2>&1; }
manage setup create_enckey
manage setup create_audit_keys
manage setup create_tables
manage admin add admin -p "$admin_password"
"$venv/bin/pi-manage" run -h 127.0.0.1 -p "$port" >"$state/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz/', timeout=2)" 2>/dev/null; then
    break
  fi
  sleep 1
done
status=0
PI_URL="http://127.0.0.1:$port" PI_ADMIN_PASSWORD="$admin_password" "$venv/bin/python" tests/privacyidea/scenarios.py "$bin" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- privacyIDEA server log (tail) ---" >&2
  tail -40 "$state/server.log" >&2 || true
fi
exit "$status"
