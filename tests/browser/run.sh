#!/usr/bin/env bash
# The portal in a real headless Chromium (Debian's `chromium`, driven by playwright-core from npm)
# with the `softtoken` CLI as the phone: see portal.mjs. Builds the two binaries, installs
# Chromium (Debian) and playwright-core (npm, from the lock file) when missing, and prints `browser: N passed, M failed`.
# Usage: bash tests/browser/run.sh   (CHROMIUM=/path/to/chromium to use another build;
#        SOFTTOKEN_BIN_DIR=DIR to use the softtoken and softtoken-provider binaries in DIR)
set -uo pipefail
cd "$(dirname "$0")"
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ] && [ -z "${CHROMIUM:-}" ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
if [ ! -x "$chromium" ]; then
  echo "browser: $chromium not found (Debian: apt-get install chromium)"
  echo "browser: 0 passed, 1 failed"
  exit 1
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  npm ci --no-audit --no-fund --loglevel=error || { echo "browser: 0 passed, 1 failed"; exit 1; }
fi
# tests/run.sh passes the binaries its `cargo test` just built (a plain build would build the
# workspace again with other features); run alone, this builds them.
bins=${SOFTTOKEN_BIN_DIR:-}
if [ -z "$bins" ]; then
  (cd ../.. && cargo build -q --workspace --bins) || { echo "browser: 0 passed, 1 failed"; exit 1; }
  bins="$(cd ../.. && pwd)/target/debug"
fi
CHROMIUM="$chromium" node portal.mjs "$bins"
