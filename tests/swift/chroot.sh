#!/usr/bin/env bash
# Prepares (once, cached outside the clone) a Debian trixie chroot with Swift 6 (`swiftlang`):
# bookworm has no Swift. Prints the chroot's path. Needs root, debootstrap and the Debian mirror.
# Usage: tests/swift/chroot.sh
set -euo pipefail
root=${SOFTTOKEN_CACHE:-$HOME/.cache/softtoken}/swift-trixie
if [ -x "$root/usr/bin/swift" ] && [ -f "$root/.softtoken-ready" ]; then
  echo "$root"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
mkdir -p "$root"
if [ ! -x "$root/usr/bin/apt-get" ]; then
  debootstrap --variant=minbase trixie "$root" "$mirror" >&2
fi
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends swiftlang libc6-dev >&2
touch "$root/.softtoken-ready"
echo "$root"
