#!/usr/bin/env bash
# Makes fixtures/vaults/<NAME>/ (e.g. v2-imports): a PIN vault and a backup holding what came in
# within vault format 2 — a Steam Guard identity (kind "steam") imported from a .maFile and the
# automatic-backup settings in the encrypted payload — beside a TOTP identity, with the device key
# directory that seals them. Golden files are written once and opened by the tests forever; this
# script never overwrites them.
# Usage: tests/vectors/make_golden_import_vault.sh v2-imports
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: make_golden_import_vault.sh NAME}
out=fixtures/vaults/$name
[ -e "$out" ] && { echo "$out exists: golden files are never regenerated" >&2; exit 1; }
cargo build -q -p softtoken-cli
S=$PWD/target/debug/softtoken
backups=$(mktemp -d /tmp/softtoken-golden-backups.XXXXXX)
trap 'rm -rf "$backups"' EXIT
mkdir -p "$out"
export SOFTTOKEN_KEY_DIR=$PWD/$out/keys SOFTTOKEN_VAULT=$PWD/$out/pin.stv SOFTTOKEN_NEW_PIN=2580 SOFTTOKEN_PIN=2580
"$S" init --key-store file >/dev/null
"$S" import fixtures/imports/steam.maFile >/dev/null
"$S" add --uri 'otpauth://totp/RFC%206238:sha1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC%206238&digits=8' >/dev/null
SOFTTOKEN_BACKUP_PASSWORD='correct horse battery' "$S" auto-backup "$backups" --keep 3 >/dev/null
cp "$(ls "$backups"/softtoken-backup-*.stbackup | tail -1)" "$out/backup.stbk"
code=$("$S" --json code 'Steam: gaben' --at 2000000000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["codes"][0]["code"])')
rm -f "$out"/*.attempts "$out"/*.prev "$out"/*.lock
rm -rf "$out/keys/records"
CODE="$code" python3 - > "$out/manifest.json" <<'PY'
import json, os
print(json.dumps({
    "format_version": 2,
    "key_dir": "keys",
    "vaults": {"pin.stv": {"pin": "2580"}},
    "backup": {"file": "backup.stbk", "password": "correct horse battery"},
    "auto_backup": {"keep": 3},
    "identities": [
        {"name": "Steam: gaben", "type": "steam", "provider": "Steam", "serial": None, "digits": 5, "at": 2000000000, "code": os.environ["CODE"]},
        {"name": "RFC 6238: sha1", "type": "totp", "provider": "RFC 6238", "serial": None, "digits": 8, "at": 59, "code": "94287082"},
    ],
}, indent=2))
PY
echo "wrote $out"
