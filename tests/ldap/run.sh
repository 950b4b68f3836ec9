#!/usr/bin/env bash
# Users from a real OpenLDAP directory (tests/ldap/start.sh: Debian's slapd on loopback, a
# throwaway database): softtoken-provider's `directory set` over ldap://, StartTLS and ldaps:// with
# the directory's CA, refusals of a wrong service password and an untrusted certificate, lookups,
# a token given to a directory user never added locally, /validate/check for them over HTTP, the
# portal's sign-in with the directory password (never with an empty one, never with another
# entry's), filter injection, and one user per directory entry whatever the case typed.
# Prints `ldap: N passed, M failed`.
# Usage: bash tests/ldap/run.sh (after the workspace is built; SOFTTOKEN_BIN_DIR as tests/run.sh sets it)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${SOFTTOKEN_BIN_DIR:-$PWD/target/debug}
if ! started=$(bash tests/ldap/start.sh); then
  echo "ldap: the directory did not start"; echo "ldap: 0 passed, 1 failed"; exit 1
fi
eval "$started"
trap 'kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
python3 tests/ldap/scenarios.py "$bin" "$dir" "$ldap_port" "$ldaps_port"
