# Sourced by the test scripts: `python_venv DIR CHECK PACKAGE...` makes (or reuses) the virtual
# environment DIR under target/, where the Python statement CHECK must run, installing the pinned
# PACKAGEs from PyPI. Debian's python3-venv is installed first when the machine lacks it.
python_venv() {
  local venv=$1 check=$2
  shift 2
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
    return 0
  fi
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python3 -m venv "$venv" || return 1
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check "$@"
}
