#!/usr/bin/env bash
# Builds SofttokenFFI.xcframework, the binary the Swift package in ios/ depends on:
#   - static libraries for the device (aarch64-apple-ios) and the simulator (aarch64 and x86_64,
#     joined with lipo), release-mobile profile, no image codecs, no Rust HTTP stack;
#   - the C header and module map of the generated bindings, staged by
#     scripts/generate-bindings.sh — the same files tests/swift/run.sh compiles against on Linux;
#   - ios/SofttokenFFI.xcframework, a zip of it and its SwiftPM checksum (for a release's
#     `.binaryTarget(url:checksum:)`).
# The Apple slices need Xcode (its SDK headers and xcodebuild). Elsewhere the script builds the
# host slice, stages the headers and module map, and stops with a message saying so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=target/xcframework
rm -rf "$out" && mkdir -p "$out"
export IPHONEOS_DEPLOYMENT_TARGET=16.0  # Package.swift: iOS 16 (Duration, Task.sleep(for:))

# Headers and module map from an unstripped build with the phone's features (stripping removes the
# metadata the generator reads).
cargo build -q -p softtoken-ffi --no-default-features --target-dir target/bindings-phone
scripts/generate-bindings.sh swift "$root/target/bindings-phone/debug/libsofttoken_ffi.$( [ "$(uname)" = Darwin ] && echo dylib || echo so)" "$out/package"
mkdir -p "$out/headers"
cp "$out/package/Sources/SofttokenFFI/SofttokenFFI.h" "$out/package/Sources/SofttokenFFI/module.modulemap" "$out/headers/"
echo "build-xcframework: headers and module map staged in $out/headers (Swift sources in $out/package/Sources/Softtoken/Generated)"

if [ "$(uname)" != Darwin ] || ! command -v xcodebuild >/dev/null; then
  echo "build-xcframework: no Xcode here: the iOS slices and the XCFramework need macOS with Xcode; stopping after the headers" >&2
  exit 3
fi
targets="aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios"
rustup target add $targets >/dev/null
for t in $targets; do
  cargo build -q --profile release-mobile -p softtoken-ffi --no-default-features --target "$t"
done
mkdir -p "$out/sim"
lipo -create target/aarch64-apple-ios-sim/release-mobile/libsofttoken_ffi.a target/x86_64-apple-ios/release-mobile/libsofttoken_ffi.a \
  -output "$out/sim/libsofttoken_ffi.a"
rm -rf ios/SofttokenFFI.xcframework
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release-mobile/libsofttoken_ffi.a -headers "$out/headers" \
  -library "$out/sim/libsofttoken_ffi.a" -headers "$out/headers" \
  -output ios/SofttokenFFI.xcframework
(cd ios && rm -f SofttokenFFI.xcframework.zip && zip -qry SofttokenFFI.xcframework.zip SofttokenFFI.xcframework)
checksum=$(cd ios && swift package compute-checksum SofttokenFFI.xcframework.zip)
echo "build-xcframework: ios/SofttokenFFI.xcframework and ios/SofttokenFFI.xcframework.zip (checksum $checksum)"
# The generated Swift the package compiles with the XCFramework (never committed).
mkdir -p ios/Sources/Softtoken/Generated
cp "$out/package/Sources/Softtoken/Generated/Softtoken.swift" ios/Sources/Softtoken/Generated/
