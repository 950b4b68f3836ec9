#!/usr/bin/env bash
# Writes a golden provider state database: one completed token (its seed known) and one issued but
# not completed, in the format of the softtoken-provider binary given, plus expected.json.
# Usage: tests/vectors/make_golden_provider_db.sh PROVIDER_BINARY SOFTTOKEN_BINARY OUT_DIR
#   v0-plain:   made with the provider of commit d9fb940 (seeds stored as they are)
#   v1-sealed:  made with the current provider (seeds and activation codes sealed; key in state.db.kek)
set -euo pipefail
provider=$1 softtoken=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
state="$out/state.db"
issued=$("$provider" --state "$state" --json issue --no-policy)
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
serial=$(field "$issued" serial)
code=$(field "$issued" activation_code)
app=$("$softtoken" entrust activate --serial "$serial" --activation-code "$code" --json)
"$provider" --state "$state" --json complete --serial "$serial" --registration-code "$(field "$app" registration_code)" >/dev/null
pending=$("$provider" --state "$state" --json issue --no-policy --lifetime 4000000000 --online --base-url http://127.0.0.1:8443)
python3 - "$state" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
PY
rm -f "$state-wal" "$state-shm"
python3 - "$out/expected.json" "$serial" "$(field "$app" seed_hex)" "$(field "$pending" serial)" "$(field "$pending" activation_code)" "$(field "$pending" link)" <<'PY'
import json, sys
out, serial, seed, pending_serial, pending_code, link = sys.argv[1:]
json.dump({"completed": {"serial": serial, "seed_hex": seed}, "pending": {"serial": pending_serial, "activation_code": pending_code, "link": link}}, open(out, "w"), indent=2)
PY
echo "wrote $out"
