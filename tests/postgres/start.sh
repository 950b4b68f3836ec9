#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: Debian's postgresql (installed when missing), a new
# cluster in a temporary directory, listening on 127.0.0.1 only with trust authentication (no
# password: nothing else runs on the test machine), fsync off (a throwaway cluster: the tests kill
# servers, never PostgreSQL). Prints `URL DATADIR` on stdout.
# Usage: bash tests/postgres/start.sh        → postgres://softtoken@127.0.0.1:PORT/postgres /tmp/…
#        bash tests/postgres/start.sh stop DATADIR
set -euo pipefail
cd /  # the postgres user cannot enter the caller's (private) directory; every path here is absolute
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ]; then
  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
# initdb refuses root: as root the cluster belongs to the postgres user Debian's package made.
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "${1:-}" = stop ]; then
  as_owner "$bin/pg_ctl" -D "$2/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$2"
  exit 0
fi
dir=$(mktemp -d /tmp/softtoken-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bin/initdb" -D "$dir/data" --auth=trust -U softtoken -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
echo "postgres://softtoken@127.0.0.1:$port/postgres $dir"
