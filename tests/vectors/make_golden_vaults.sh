#!/usr/bin/env bash
# Makes fixtures/vaults/v<N>/: a PIN vault, a PIN-less vault and a backup written by this build,
# with the device key directory that seals them. Run once per new format version, never to
# overwrite an existing version's files (tests open them forever).
# Usage: tests/vectors/make_golden_vaults.sh v1
set -euo pipefail
cd "$(dirname "$0")/../.."
ver=${1:?usage: make_golden_vaults.sh vN}
out=fixtures/vaults/$ver
[ -e "$out" ] && { echo "$out exists: golden files are never regenerated" >&2; exit 1; }
cargo build -q -p softtoken-cli
S=$PWD/target/debug/softtoken
mkdir -p "$out"
export SOFTTOKEN_KEY_DIR=$PWD/$out/keys
POLICY='{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}'
add_all() {
  $S add --serial 48244-13456 --activation-code 1745-7712-6942-8698 --registration-code 12211-49352 --policy "$POLICY" --name umc --provider myid.umc.edu
  $S add --serial 48244-13456 --activation-code 1745-7712-6942-8698 --registration-code 12211-49352 --digits 8 --name umc-8
  $S add --uri 'otpauth://totp/RFC%206238:sha1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC%206238&digits=8'
  $S add --uri 'otpauth://hotp/RFC%204226:counter?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC%204226&counter=0'
}
SOFTTOKEN_NEW_PIN=2580 SOFTTOKEN_PIN=2580 SOFTTOKEN_VAULT=$PWD/$out/pin.stv bash -c "$(declare -f add_all); S=$S; POLICY='$POLICY'; $S init --key-store file && add_all" >/dev/null
SOFTTOKEN_VAULT=$PWD/$out/nopin.stv bash -c "$(declare -f add_all); S=$S; POLICY='$POLICY'; $S init --no-pin --key-store file && add_all" >/dev/null 2>&1
SOFTTOKEN_PIN=2580 SOFTTOKEN_BACKUP_PASSWORD='correct horse battery' $S --vault "$out/pin.stv" export --out "$out/backup.stbk" >/dev/null
# Keep only what a fresh install has: the vaults, the backup and the key; drop counters, locks and .prev.
rm -f "$out"/*.attempts "$out"/*.prev "$out"/*.lock
rm -rf "$out/keys/records"
cat > "$out/manifest.json" <<JSON
{
  "format_version": ${ver#v},
  "key_dir": "keys",
  "vaults": {"pin.stv": {"pin": "2580"}, "nopin.stv": {"pin": null}},
  "backup": {"file": "backup.stbk", "password": "correct horse battery"},
  "identities": [
    {"name": "umc", "type": "entrust", "provider": "myid.umc.edu", "serial": "48244-13456", "digits": 6, "at": 1570434609, "code": "301448"},
    {"name": "umc-8", "type": "entrust", "provider": null, "serial": "48244-13456", "digits": 8, "at": 1570434609, "code": "74043700"},
    {"name": "RFC 6238: sha1", "type": "totp", "provider": "RFC 6238", "serial": null, "digits": 8, "at": 59, "code": "94287082"},
    {"name": "RFC 4226: counter", "type": "hotp", "provider": "RFC 4226", "serial": null, "digits": 6, "code": "755224"}
  ]
}
JSON
ls -la "$out"
