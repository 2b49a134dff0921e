#!/usr/bin/env bash
# Bundle Debian's qemu-system-x86_64 for the x86 nested lab's L1 (docs/nested-lab.md): the
# binary, its shared-library closure (`ldd`, with the dynamic loader) and the firmware files a
# q35 direct-kernel boot needs, laid out so that /l1/qemu/run starts it without any system
# library in the L1:
#
#   OUT/bin/qemu-system-x86_64   OUT/lib/*.so* (+ ld-linux-x86-64.so.2)   OUT/share/*.bin
#   OUT/run  (sh: exec the loader with --library-path on the binary, -L OUT/share, "$@")
#
# Usage: scripts/mk-qemu-bundle.sh OUT [PREFIX]
#   PREFIX is where OUT will sit inside the L1 (default /l1/qemu); `run` uses it.
# Needs qemu-system-x86 and seabios (scripts/setup.sh).
set -euo pipefail

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 OUT [PREFIX]" >&2; exit 2; }
out=$1
prefix=${2:-/l1/qemu}
qemu=/usr/bin/qemu-system-x86_64
[[ -x $qemu ]] || { echo "mk-qemu-bundle: $qemu missing: run scripts/setup.sh" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"/{bin,lib,share}
cp -L "$qemu" "$out/bin/"
# The closure: every resolved library, and the loader.
ldd "$qemu" | awk '/=> \// { print $3 } $1 ~ /ld-linux/ { print $1 }' | sort -u |
    while read -r lib; do cp -L "$lib" "$out/lib/"; done
[[ -f $out/lib/ld-linux-x86-64.so.2 ]] || { echo "mk-qemu-bundle: no dynamic loader in the closure" >&2; exit 1; }
# q35 with -kernel: SeaBIOS, the option ROMs QEMU loads for a direct kernel boot, and the
# key map it opens at start.
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
         /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin \
         /usr/share/qemu/multiboot_dma.bin /usr/share/seabios/vgabios-stdvga.bin; do
    [[ -f $f ]] && cp -L "$f" "$out/share/"
done
[[ -f $out/share/bios-256k.bin ]] || { echo "mk-qemu-bundle: no bios-256k.bin (seabios)" >&2; exit 1; }
cat >"$out/run" <<EOF
#!/bin/sh
# Debian's QEMU with its own libraries (made by scripts/mk-qemu-bundle.sh).
exec $prefix/lib/ld-linux-x86-64.so.2 --library-path $prefix/lib $prefix/bin/qemu-system-x86_64 -L $prefix/share "\$@"
EOF
chmod 0755 "$out/run"
echo "mk-qemu-bundle: $out ($(du -sh "$out" | cut -f1), $(ls "$out/lib" | wc -l) libraries; $($qemu --version | head -n1))"
