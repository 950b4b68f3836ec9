#!/usr/bin/env bash
# RADIUS through a real FreeRADIUS (Debian's freeradius + freeradius-rest, installed when missing):
# deploy/freeradius/ is laid over a copy of /etc/freeradius/3.0, FreeRADIUS and softtoken-provider
# run on loopback, and radclient sends Access-Requests as a VPN gateway would: a current code
# (Access-Accept), a wrong one and the same code again (Access-Reject), PIN + code for a token with
# a PIN (the code alone rejected), a user with an online app
# and an empty password (the provider waits for the push: Access-Accept after the softtoken CLI
# confirms it, Access-Reject after Suspicious and after Cancel). Prints `radius: N passed, M failed`.
# Usage: bash tests/radius/run.sh (after the workspace is built; SOFTTOKEN_BIN_DIR as tests/run.sh sets it;
#        SOFTTOKEN_RADIUS_DEBUG=1 logs FreeRADIUS' debugging output, SOFTTOKEN_KEEP=1 keeps the work directory)
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v freeradius >/dev/null || ! command -v radclient >/dev/null || [ ! -e /usr/lib/freeradius/rlm_rest.so ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends freeradius freeradius-rest freeradius-utils) >/dev/null 2>&1
  fi
fi
if ! command -v freeradius >/dev/null || [ ! -e /usr/lib/freeradius/rlm_rest.so ]; then
  echo "radius: FreeRADIUS with rlm_rest is not installed (apt-get install freeradius freeradius-rest freeradius-utils)"
  echo "radius: 0 passed, 1 failed"
  exit 1
fi
bin=${SOFTTOKEN_BIN_DIR:-$PWD/target/debug}
work=$(mktemp -d)
chmod 755 "$work"
provider_pid=""
radius_pid=""
trap '[ -z "$radius_pid" ] || kill "$radius_pid" 2>/dev/null; [ -z "$provider_pid" ] || kill "$provider_pid" 2>/dev/null; [ -n "${SOFTTOKEN_KEEP:-}" ] || rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The provider: alice has a TOTP token, bob an Entrust-style token whose app (the softtoken CLI
# below) is online. RADIUS cannot show a number, so pushes go without number matching here, and a
# check that starts a push waits up to 15 s for the answer (below serve's 20 s idle timeout).
state="$work/provider.db"
provider() { SOFTTOKEN_PROVIDER_PASSWORD=a-long-password-1 "$bin/softtoken-provider" --database "$state" "$@"; }
provider user add alice >/dev/null
provider user add bob >/dev/null
provider user add carol >/dev/null
provider validate-settings --push-wait 15 --number-matching false >/dev/null
provider serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
provider_pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
alice_uri=$(provider issue --user alice --kind totp --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["uri"])')
bob_link=$(provider issue --user bob --online --base-url "$url" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["link"])')
# carol's token has a PIN: her RADIUS password is PIN + code.
carol=$(provider issue --user carol --kind totp --json)
carol_uri=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["uri"])' "$carol")
SOFTTOKEN_TOKEN_PIN=carol-pin provider set-pin "$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["serial"])' "$carol")" >/dev/null
export SOFTTOKEN_VAULT="$work/v.stv" SOFTTOKEN_KEY_DIR="$work/keys" SOFTTOKEN_NEW_PIN=482913 SOFTTOKEN_PIN=482913
"$bin/softtoken" init --key-store file >/dev/null 2>&1
"$bin/softtoken" add --uri "$alice_uri" --name alice >/dev/null
"$bin/softtoken" add --uri "$carol_uri" --name carol >/dev/null
"$bin/softtoken" activate-link "$bob_link" --name bob >/dev/null

# FreeRADIUS: Debian's configuration with deploy/freeradius/ laid over it, on free ports.
raddb="$work/raddb"
cp -a /etc/freeradius/3.0 "$raddb"
cp -a deploy/freeradius/. "$raddb/"
port=$(free_port)
inner=$(free_port)
sed -i "0,/port = 0/s//port = $port/" "$raddb/sites-available/default"
sed -i "s/port = 18120/port = $inner/" "$raddb/sites-available/inner-tunnel"
mkdir -p "$work/run"
sed -i "s|^run_dir = .*|run_dir = $work/run|" "$raddb/radiusd.conf"
chown -R freerad:freerad "$raddb" "$work/run" 2>/dev/null
secret=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
SOFTTOKEN_PROVIDER_URL=$url SOFTTOKEN_RADIUS_SECRET=$secret freeradius -f ${SOFTTOKEN_RADIUS_DEBUG:+-xx} -d "$raddb" -l "$work/radius.log" &
radius_pid=$!
for _ in $(seq 100); do grep -q "Ready to process requests" "$work/radius.log" 2>/dev/null && break; sleep 0.1; done
if ! grep -q "Ready to process requests" "$work/radius.log" 2>/dev/null; then
  echo "radius: FreeRADIUS did not start:"; tail -20 "$work/radius.log" 2>/dev/null
  echo "radius: 0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
expect() { # NAME EXPECTED-REPLY USER PASSWORD
  local out reply
  out=$(printf 'User-Name = "%s"\nUser-Password = "%s"\n' "$3" "$4" | radclient -t 30 -r 1 "127.0.0.1:$port" auth "$secret" 2>&1)
  reply=$(grep -o 'Access-[A-Za-z]*' <<<"$out" | tail -1)
  if [ "$reply" = "$2" ]; then
    passed=$((passed + 1)); echo "ok   $1 ($reply)"
  else
    failed=$((failed + 1)); echo "FAIL $1: expected $2, got ${reply:-no reply}"; echo "$out" | head -5
  fi
}
code=$("$bin/softtoken" code alice --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["codes"][0]["code"])')
wrong=$(python3 -c "print(str((int('$code') + 1) % 1000000).zfill(6))")
expect "a wrong code is rejected" Access-Reject alice "$wrong"
expect "the current code is accepted" Access-Accept alice "$code"
expect "the same code again is rejected" Access-Reject alice "$code"
expect "an unknown user is rejected" Access-Reject mallory "$code"
carol_code=$("$bin/softtoken" code carol --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["codes"][0]["code"])')
expect "a code without its token's PIN is rejected" Access-Reject carol "$carol_code"
expect "PIN + code is accepted" Access-Accept carol "carol-pin$carol_code"

# Pushes: radclient waits while the provider waits for the app; the CLI answers.
answer() { # RESPONSE
  for _ in $(seq 60); do
    id=$("$bin/softtoken" transactions --json 2>/dev/null | python3 -c 'import json, sys; t = json.load(sys.stdin)["transactions"]; print(t[0]["id"] if t else "")')
    if [ -n "$id" ]; then "$bin/softtoken" respond "$id" "$1" --identity bob >/dev/null 2>&1; return; fi
    sleep 0.5
  done
}
for pair in "confirm Access-Accept" "suspicious Access-Reject" "cancel Access-Reject"; do
  set -- $pair
  answer "$1" &
  answerer=$!
  expect "a push answered $1" "$2" bob ""
  wait "$answerer"
done
audited=$("$bin/softtoken-provider" --database "$state" audit --jsonl | python3 -c 'import json, sys; print(sum(1 for l in sys.stdin if json.loads(l)["endpoint"] == "radiuscheck"))')
if [ "$audited" = 9 ]; then passed=$((passed + 1)); echo "ok   the audit log has every RADIUS request (9)"; else failed=$((failed + 1)); echo "FAIL the audit log has $audited RADIUS requests, not 9"; fi
echo "radius: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
