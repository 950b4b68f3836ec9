# Sourced by the Kotlin and Swift test scripts. `privacyidea_start` sets `privacyidea_file` to a file
# holding "URL ADMIN-PASSWORD" of a configured privacyIDEA on loopback: $SOFTTOKEN_PRIVACYIDEA when
# set (tests/run.sh starts one server for both suites), else one started here
# (`tests/privacyidea/run.sh --serve`), which `privacyidea_stop` stops.
privacyidea_pid=""
privacyidea_file=""
# Starts the server without waiting for it (`privacyidea_start` waits).
privacyidea_spawn() {
  [ -z "$privacyidea_file" ] || return 0
  if [ -n "${SOFTTOKEN_PRIVACYIDEA:-}" ]; then
    privacyidea_file=$SOFTTOKEN_PRIVACYIDEA
  else
    privacyidea_file=$(mktemp -u)
    bash tests/privacyidea/run.sh --serve "$privacyidea_file" >/dev/null 2>&1 &
    privacyidea_pid=$!
  fi
}
privacyidea_start() {
  privacyidea_spawn
  # Installing it (once) and starting it take a while; up to ten minutes.
  for _ in $(seq 1 600); do
    [ -s "$privacyidea_file" ] && return 0
    sleep 1
  done
  echo "privacyIDEA did not start (tests/privacyidea/run.sh --serve)" >&2
  return 1
}
privacyidea_stop() {
  [ -z "$privacyidea_pid" ] || { kill "$privacyidea_pid" 2>/dev/null; wait "$privacyidea_pid" 2>/dev/null || true; }
  [ -n "${SOFTTOKEN_PRIVACYIDEA:-}" ] || rm -f "$privacyidea_file"
  privacyidea_pid=""
  privacyidea_file=""
}
