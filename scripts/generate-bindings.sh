#!/usr/bin/env bash
# The one place the Kotlin and Swift bindings are generated (the tests and the Android/iOS builds
# call it): uniffi-bindgen in library mode, with the names of bindings/uniffi.toml.
#
#   scripts/generate-bindings.sh kotlin LIBRARY OUT_DIR
#       OUT_DIR/org/softtoken/softtoken_ffi.kt
#   scripts/generate-bindings.sh swift LIBRARY PACKAGE_DIR [--link]
#       PACKAGE_DIR/Sources/Softtoken/Generated/Softtoken.swift
#       PACKAGE_DIR/Sources/SofttokenFFI/SofttokenFFI.h and module.modulemap
#       (--link adds `link "softtoken_ffi"` to the module map: a shared library found by the linker,
#       as the Linux tests use; an XCFramework links its static library itself)
#
# LIBRARY is a built libsofttoken_ffi (.so, .dylib or .a) whose metadata describes the API.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
language=${1:?kotlin or swift}
library=${2:?the built libsofttoken_ffi}
out=${3:?output directory}
link=${4:-}
# SOFTTOKEN_BIN_DIR: a directory holding an already built uniffi-bindgen (tests/run.sh passes its
# workspace build: `cargo run -p uniffi-bindgen` alone resolves other features and builds it again).
bindgen() {
  if [ -n "${SOFTTOKEN_BIN_DIR:-}" ] && [ -x "$SOFTTOKEN_BIN_DIR/uniffi-bindgen" ]; then
    (cd "$root" && "$SOFTTOKEN_BIN_DIR/uniffi-bindgen" generate --library "$library" --language "$1" --out-dir "$2" --no-format)
  else
    (cd "$root" && cargo run -q -p uniffi-bindgen -- generate --library "$library" --language "$1" --out-dir "$2" --no-format)
  fi
}
case "$language" in
  kotlin)
    rm -rf "$out" && mkdir -p "$out"
    bindgen kotlin "$out"
    ;;
  swift)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    bindgen swift "$tmp"
    mkdir -p "$out/Sources/Softtoken/Generated" "$out/Sources/SofttokenFFI"
    cp "$tmp/Softtoken.swift" "$out/Sources/Softtoken/Generated/Softtoken.swift"
    cp "$tmp/SofttokenFFI.h" "$out/Sources/SofttokenFFI/SofttokenFFI.h"
    {
      echo 'module SofttokenFFI {'
      echo '    header "SofttokenFFI.h"'
      [ "$link" = --link ] && echo '    link "softtoken_ffi"'
      echo '    export *'
      echo '}'
    } > "$out/Sources/SofttokenFFI/module.modulemap"
    ;;
  *)
    echo "generate-bindings: unknown language $language (kotlin or swift)" >&2
    exit 2
    ;;
esac
