#!/usr/bin/env bash
# Makes fixtures/vaults/<NAME>/ (e.g. v1-online): a PIN vault and a backup holding an identity
# activated online (it carries the provider address and push token, optional fields added within
# vault format 1) beside an offline one, with the device key directory that seals them. Golden
# files are written once and opened by the tests forever; this script never overwrites them.
# Usage: tests/vectors/make_golden_online_vault.sh v1-online
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: make_golden_online_vault.sh NAME}
out=fixtures/vaults/$name
[ -e "$out" ] && { echo "$out exists: golden files are never regenerated" >&2; exit 1; }
cargo build -q -p softtoken-cli -p softtoken-provider
S=$PWD/target/debug/softtoken
P=$PWD/target/debug/softtoken-provider
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
"$P" --state "$work/p.db" serve --listen 127.0.0.1:0 > "$work/serve.out" &
server=$!
for _ in $(seq 50); do [ -s "$work/serve.out" ] && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
link=$("$P" --state "$work/p.db" --json issue --online --base-url "$base" | python3 -c 'import json,sys; print(json.load(sys.stdin)["link"])')
mkdir -p "$out"
export SOFTTOKEN_KEY_DIR=$PWD/$out/keys SOFTTOKEN_VAULT=$PWD/$out/pin.stv SOFTTOKEN_NEW_PIN=2580 SOFTTOKEN_PIN=2580
"$S" init --key-store file >/dev/null
"$S" activate-link "$link" --name bank --push-token fcm:golden >/dev/null
"$S" add --uri 'otpauth://totp/RFC%206238:sha1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC%206238&digits=8' >/dev/null
SOFTTOKEN_BACKUP_PASSWORD='correct horse battery' "$S" export --out "$out/backup.stbk" >/dev/null
list=$("$S" --json list)
code=$("$S" --json code bank --at 2000000000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["codes"][0]["code"])')
rm -f "$out"/*.attempts "$out"/*.prev
rm -rf "$out/keys/records"
LIST="$list" CODE="$code" BASE="$base" python3 - > "$out/manifest.json" <<'PY'
import json, os
rows = {r["name"]: r for r in json.loads(os.environ["LIST"])["identities"]}
bank = rows["bank"]
print(json.dumps({
    "format_version": 1,
    "key_dir": "keys",
    "vaults": {"pin.stv": {"pin": "2580"}},
    "backup": {"file": "backup.stbk", "password": "correct horse battery"},
    "identities": [
        {"name": "bank", "type": "entrust", "provider": bank["provider"], "serial": bank["serial"], "digits": 6,
         "online": True, "transaction_url": os.environ["BASE"], "at": 2000000000, "code": os.environ["CODE"]},
        {"name": "RFC 6238: sha1", "type": "totp", "provider": "RFC 6238", "serial": None, "digits": 8,
         "online": False, "at": 59, "code": "94287082"},
    ],
}, indent=2))
PY
echo "wrote $out"
