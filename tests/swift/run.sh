#!/usr/bin/env bash
# Builds the Swift package in ios/ (generated bindings + facade) and runs its XCTest suite with
# `swift test` inside a Debian trixie chroot (Swift 6; bookworm has none), against the host-built
# libsofttoken_ffi.so. Exits non-zero on any failure. Needs root (chroot, mount).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(bash tests/swift/chroot.sh)
# tests/run.sh sets SOFTTOKEN_BIN_DIR after building the whole workspace into target/debug once.
[ -n "${SOFTTOKEN_BIN_DIR:-}" ] || cargo build -q -p softtoken-ffi -p uniffi-bindgen -p softtoken-provider
# LocalAuthentication and Security are stand-ins generated from Apple's published declarations
# (ios/api/apple.txt); a hand edit or a stale file fails here.
python3 tests/swift/stubs.py --check
work=$root/softtoken
rm -rf "$work" && mkdir -p "$work/lib" "$work/bin"
cp target/debug/softtoken-provider "$work/bin/"  # the transaction tests run the real provider
cp -r ios "$work/pkg"
cp -r fixtures "$work/fixtures"  # the tests read fixtures/ relative to their own path
# The generated Swift, header and module map, staged by the same script the iOS build uses.
bash scripts/generate-bindings.sh swift "$PWD/target/debug/libsofttoken_ffi.so" "$work/pkg" --link
cp target/debug/libsofttoken_ffi.so "$work/lib/"
# A configured privacyIDEA on loopback (the chroot shares the network) for the privacyIDEA tests.
source tests/privacyidea/serve.sh
privacyidea_start
read -r pi_url pi_password <"$privacyidea_file"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true; privacyidea_stop' EXIT
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LD_LIBRARY_PATH=/softtoken/lib \
  SOFTTOKEN_PRIVACYIDEA_URL="$pi_url" SOFTTOKEN_PRIVACYIDEA_PASSWORD="$pi_password" \
  SOFTTOKEN_FFI_SYSTEM_LIBRARY=1 sh -c 'cd /softtoken/pkg && swift test --disable-swift-testing -Xlinker -L/softtoken/lib 2>&1'
# The stand-ins refuse what the SDK refuses: UIKit touched off the main actor (the defect Swift 6
# mode and @MainActor fixed) does not compile against them.
cat >"$work/refused.swift" <<'SWIFT'
import UIKit
public func coverOffTheMainActor(_ window: UIWindow) { window.addSubview(UIVisualEffectView(effect: UIBlurEffect(style: .systemMaterial))) }
SWIFT
if chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root sh -c \
  'swiftc -typecheck -swift-version 6 -I /softtoken/pkg/.build/debug/Modules /softtoken/refused.swift' >"$work/refused.log" 2>&1; then
  echo "swift: the UIKit stand-ins accepted UIKit off the main actor, which Swift 6 refuses" >&2
  exit 1
fi
grep -q "main actor-isolated" "$work/refused.log" && echo "swift: the stand-ins refuse UIKit off the main actor, as the SDK does"
