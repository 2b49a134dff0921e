#!/usr/bin/env bash
# Build the initramfs of the nested-KVM lab's L1 Linux (docs/nested-lab.md): static busybox of
# ARCH, lab/l1/init.sh as /init, on x86 the KVM modules of the L1 kernel's own Debian package
# (irqbypass, kvm, kvm-amd; decompressed: busybox insmod cannot read .ko.xz), and any extra
# files (the static VMM, the L2 kernel and initramfs, ...).
#
# Usage: scripts/mk-l1-initramfs.sh ARCH OUT [options]
#   ARCH                x86_64 | amd64 | aarch64 | arm64
#   OUT                 output file (newc cpio; gzip-compressed unless --no-compress)
#   --add SRC:DEST      copy SRC (file or directory) to DEST in the image (repeatable). DEST is
#                       absolute; a DEST ending in '/' keeps SRC's name. /l1/bin is on the
#                       init's PATH, and the command runs in /l1.
#   --run "COMMAND"     bake COMMAND into the image as /l1/run (sh); the init runs it unless the
#                       kernel command line has vtopo.run=...
#   --strip             strip the debug info of added ELF files of ARCH (copies only)
#   --no-compress       write an uncompressed cpio (the kernel unpacks it faster; larger file)
# Env: BUSYBOX=PATH (static busybox of ARCH), VTOPO_L1_MODULES=DIR (directory with
#      irqbypass.ko.xz kvm.ko.xz kvm-amd.ko.xz; default .cache/kernels/amd64/modules, made by
#      scripts/fetch-kernels.sh).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

usage() {
    cat >&2 <<EOF
usage: $0 ARCH OUT [--add SRC:DEST]... [--run "COMMAND"] [--strip] [--no-compress]
  ARCH: x86_64|amd64|aarch64|arm64; OUT: the L1 initramfs to write
  --add SRC:DEST   extra file or directory (DEST absolute; trailing '/' keeps the name)
  --run "COMMAND"  default command of the L1 init (/l1/run); vtopo.run= on the kernel
                   command line overrides it
  --strip          strip debug info from added ELF files of ARCH
  --no-compress    uncompressed cpio (default: gzip)
EOF
    exit 2
}
die() { echo "mk-l1-initramfs: $*" >&2; exit 1; }

[[ $# -ge 2 ]] || usage
arch=$1
out=$2
shift 2
adds=() run="" strip=0 compress=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --add) [[ $# -ge 2 && $2 == *:* ]] || { echo "mk-l1-initramfs: --add needs SRC:DEST" >&2; usage; }
               adds+=("$2"); shift 2 ;;
        --run) [[ $# -ge 2 && -n $2 ]] || { echo "mk-l1-initramfs: --run needs a command" >&2; usage; }
               run=$2; shift 2 ;;
        --strip) strip=1; shift ;;
        --no-compress) compress=0; shift ;;
        -h|--help) usage ;;
        *) echo "mk-l1-initramfs: unknown option '$1'" >&2; usage ;;
    esac
done

case $arch in
    x86_64|amd64) debarch=amd64; elf='x86-64'; strip_tool='strip' ;;
    aarch64|arm64) debarch=arm64; elf='aarch64'; strip_tool=aarch64-linux-gnu-strip ;;
    *) echo "mk-l1-initramfs: unknown ARCH '$arch'" >&2; usage ;;
esac
for tool in cpio gzip xz file; do
    command -v "$tool" >/dev/null || die "$tool missing: run scripts/setup.sh"
done

bb=${BUSYBOX:-}
if [[ -z $bb ]]; then
    if [[ $debarch == amd64 ]]; then bb=/bin/busybox; else bb=$REPO_ROOT/.cache/busybox/arm64/busybox; fi
fi
[[ -x $bb ]] || die "$bb missing: run scripts/setup.sh (busybox-static, busybox-static:arm64)"
file -L "$bb" | grep -q "$elf" || die "$bb is not an $elf binary: $(file -L "$bb")"
file -L "$bb" | grep -q 'statically linked' || die "$bb is not statically linked (busybox-static)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,l1/bin,lib/modules/l1}
install -m 0755 "$bb" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$REPO_ROOT/lab/l1/init.sh" "$stage/init"
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true

# KVM modules, in load order (the x86 cloud kernel builds KVM as modules).
: >"$stage/l1/modules"
if [[ $debarch == amd64 ]]; then
    mdir=${VTOPO_L1_MODULES:-$REPO_ROOT/.cache/kernels/amd64/modules}
    for m in irqbypass kvm kvm-amd; do
        [[ -f $mdir/$m.ko.xz ]] || die "$mdir/$m.ko.xz missing: run scripts/fetch-kernels.sh"
        xz -dc "$mdir/$m.ko.xz" >"$stage/lib/modules/l1/$m.ko"
        echo "$m.ko" >>"$stage/l1/modules"
    done
fi

added=()
for spec in ${adds[@]+"${adds[@]}"}; do
    src=${spec%%:*}
    dest=${spec#*:}
    [[ $dest == /* ]] || die "--add $spec: DEST must be absolute"
    [[ -e $src ]] || die "--add $spec: $src does not exist"
    [[ $dest == */ ]] && dest=$dest$(basename "$src")
    mkdir -p "$stage$(dirname "$dest")"
    cp -a --dereference "$src" "$stage$dest"
    added+=("$stage$dest")
done

if [[ -n $run ]]; then
    printf '#!/bin/sh\n%s\n' "$run" >"$stage/l1/run"
    chmod 0755 "$stage/l1/run"
fi

if [[ $strip -eq 1 && ${#added[@]} -gt 0 ]]; then
    command -v "$strip_tool" >/dev/null || die "$strip_tool missing (binutils for $elf)"
    while IFS= read -r -d '' f; do
        if file "$f" | grep -q "ELF.*$elf"; then "$strip_tool" --strip-debug "$f"; fi
    done < <(find "${added[@]}" -type f -print0)
fi

# Fixed mtimes: the same inputs give the same archive.
find "$stage" -exec touch -h -d @0 {} +

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
    if [[ $compress -eq 1 ]]; then gzip -6n; else cat; fi >"$out.tmp"
mv "$out.tmp" "$out"
echo "mk-l1-initramfs: $out ($debarch, $(stat -c %s "$out") bytes$([[ $compress -eq 1 ]] && echo ", gzip"))"
