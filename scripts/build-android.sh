#!/usr/bin/env bash
# Builds what the Android library module packages, and is what its Gradle build calls
# (`./gradlew assembleRelease` runs it before merging JNI libraries):
#   1. libsofttoken_ffi.so for arm64-v8a, armeabi-v7a and x86_64 with cargo-ndk (release-mobile,
#      no image codecs, no Rust HTTP stack, 16 KB pages from .cargo/config.toml) into
#      android/src/main/jniLibs/<abi>/;
#   2. the Kotlin bindings (package org.softtoken) into android/build/generated/uniffi.
# Needs the Android NDK (ANDROID_NDK_HOME or ANDROID_NDK_ROOT) and cargo-ndk. Without the NDK it
# says so and stops; on machines without one, tests/mobile/check.sh cross-compiles the same crate
# as a staticlib for the same ABIs instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
ndk=${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}
if [ -z "$ndk" ] || [ ! -d "$ndk" ]; then
  echo "build-android: no Android NDK (set ANDROID_NDK_HOME to it; sdkmanager --install 'ndk;27.2.12479018')" >&2
  exit 3
fi
if ! cargo ndk --version >/dev/null 2>&1; then
  echo "build-android: cargo-ndk is missing (cargo install cargo-ndk --version ^3)" >&2
  exit 3
fi
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android >/dev/null
# API 26 is the module's minSdk.
cargo ndk --platform 26 -t arm64-v8a -t armeabi-v7a -t x86_64 -o android/src/main/jniLibs \
  build --profile release-mobile -p softtoken-ffi --no-default-features
# The bindings come from a library's own metadata, which stripping removes: an unstripped host
# build with the phone's features describes the same API.
cargo build -q -p softtoken-ffi --no-default-features --target-dir target/bindings-phone
scripts/generate-bindings.sh kotlin "$root/target/bindings-phone/debug/libsofttoken_ffi.so" android/build/generated/uniffi
for abi in arm64-v8a armeabi-v7a x86_64; do
  lib=android/src/main/jniLibs/$abi/libsofttoken_ffi.so
  if command -v readelf >/dev/null; then
    echo "build-android: $lib: $(stat -c %s "$lib") bytes, LOAD alignment $(readelf -lW "$lib" | awk '$1 == "LOAD" { print $NF }' | sort -u | tr '\n' ' ')"
  fi
done
