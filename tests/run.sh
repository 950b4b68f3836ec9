#!/usr/bin/env bash
# Runs every test of softtoken: the whole Cargo workspace (unit, property and CLI integration tests).
# Usage: bash tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets
