#!/usr/bin/env bash
# Build the test initramfs (cpio newc, gzip): busybox-static for ARCH as /bin/busybox and
# lab/guest-init.sh as /init. The init installs the busybox applet links itself at boot, so
# the host never needs to run the (possibly foreign) busybox.
#
# Usage: scripts/mkinitramfs.sh ARCH OUT
#   ARCH: x86_64 | amd64 | aarch64 | arm64
#   OUT:  output file (e.g. .cache/lab/initrd-x86_64.gz)
# Env: BUSYBOX=/path/to/static/busybox overrides the busybox binary.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

usage() {
    echo "usage: $0 ARCH OUT" >&2
    echo "  ARCH: x86_64|amd64|aarch64|arm64; OUT: gzip-compressed newc cpio to write" >&2
    exit 2
}
[[ $# -eq 2 ]] || usage
arch=$1
out=$2

case $arch in
    x86_64|amd64) debarch=amd64; elf='x86-64' ;;
    aarch64|arm64) debarch=arm64; elf='aarch64' ;;
    *) echo "mkinitramfs: unknown ARCH '$arch'" >&2; usage ;;
esac

bb=${BUSYBOX:-}
if [[ -z $bb ]]; then
    if [[ $debarch == amd64 ]]; then
        bb=/bin/busybox
        [[ -x $bb ]] || { echo "mkinitramfs: $bb missing: run scripts/setup.sh (busybox-static)" >&2; exit 1; }
        # Must be the static build (Debian's busybox-static), not the dynamic 'busybox' package.
        if ldd "$bb" >/dev/null 2>&1; then
            echo "mkinitramfs: $bb is dynamically linked: install busybox-static (scripts/setup.sh)" >&2
            exit 1
        fi
    else
        bb=$REPO_ROOT/.cache/busybox/arm64/busybox
        [[ -x $bb ]] || { echo "mkinitramfs: $bb missing: run scripts/setup.sh" >&2; exit 1; }
    fi
fi
if command -v file >/dev/null 2>&1 && ! file -L "$bb" | grep -q "$elf"; then
    echo "mkinitramfs: $bb is not an $elf binary: $(file -L "$bb")" >&2
    exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp}
install -m 0755 "$bb" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$REPO_ROOT/lab/guest-init.sh" "$stage/init"
# /dev/console lets the kernel give init a console before devtmpfs is mounted (needs root;
# without it the init re-opens /dev/console itself after mounting devtmpfs).
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true

# Fixed mtimes: the same inputs give the same archive (tests may cache by hash).
find "$stage" -exec touch -h -d @0 {} +

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
    gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($debarch busybox, $(stat -c %s "$out") bytes)"
