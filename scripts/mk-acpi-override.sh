#!/usr/bin/env bash
# Build the UNCOMPRESSED cpio that Linux's ACPI table upgrade (CONFIG_ACPI_TABLE_UPGRADE)
# reads: every table as kernel/firmware/acpi/<NAME>.aml. Put it in front of the compressed
# initramfs:   cat OUT.cpio initrd.gz > initrd.img
#
# DIR may hold binary tables (*.aml, *.dat) and ASL sources (*.asl, *.dsl), which are compiled
# with iasl first. Each binary table is checked (length, checksum) and its header printed:
# the kernel only upgrades a firmware table whose OEM ID and OEM table ID match and whose OEM
# revision is strictly greater (QEMU: "BOCHS " / "BXPC    ", OEM revision 1).
#
# Usage: scripts/mk-acpi-override.sh DIR OUT.cpio
set -euo pipefail

usage() {
    echo "usage: $0 DIR_OF_AML OUT.cpio" >&2
    echo "  DIR holds *.aml/*.dat tables and/or *.asl/*.dsl sources (compiled with iasl)" >&2
    exit 2
}
[[ $# -eq 2 ]] || usage
src=$1
out=$2
[[ -d $src ]] || { echo "mk-acpi-override: not a directory: $src" >&2; usage; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dest="$stage/kernel/firmware/acpi"
mkdir -p "$dest"

shopt -s nullglob
n=0
for f in "$src"/*.asl "$src"/*.dsl; do
    command -v iasl >/dev/null || { echo "mk-acpi-override: iasl not found: run scripts/setup.sh" >&2; exit 1; }
    base=$(basename "${f%.*}")
    if ! iasl -p "$stage/$base" "$f" >"$stage/$base.iasl.log" 2>&1; then
        cat "$stage/$base.iasl.log" >&2
        echo "mk-acpi-override: iasl failed on $f" >&2
        exit 1
    fi
    cp "$stage/$base.aml" "$dest/$base.aml"
done
for f in "$src"/*.aml "$src"/*.dat; do
    base=$(basename "${f%.*}")
    cp "$f" "$dest/$base.aml"
done

for f in "$dest"/*.aml; do
    len=$(stat -c %s "$f")
    if [[ $len -lt 36 ]]; then echo "mk-acpi-override: $f: too short for an ACPI table" >&2; exit 1; fi
    hlen=$(od -An -tu4 -j4 -N4 "$f" | tr -d ' ')
    if [[ $hlen -ne $len ]]; then
        echo "mk-acpi-override: $f: header length $hlen != file size $len" >&2; exit 1
    fi
    sum=$(od -An -v -tu1 "$f" | awk '{for(i=1;i<=NF;i++) s+=$i} END{print s%256}')
    if [[ $sum -ne 0 ]]; then echo "mk-acpi-override: $f: bad checksum (sum mod 256 = $sum)" >&2; exit 1; fi
    sig=$(head -c4 "$f")
    oem=$(dd if="$f" bs=1 skip=10 count=6 2>/dev/null)
    tid=$(dd if="$f" bs=1 skip=16 count=8 2>/dev/null)
    orev=$(od -An -tu4 -j24 -N4 "$f" | tr -d ' ')
    rev=$(od -An -tu1 -j8 -N1 "$f" | tr -d ' ')
    echo "mk-acpi-override: $(basename "$f"): $sig rev $rev len $len OEM '$oem' table '$tid' OEM rev $orev"
    n=$((n + 1))
done
[[ $n -gt 0 ]] || { echo "mk-acpi-override: no tables in $src" >&2; exit 1; }

rm -f "$stage"/*.log "$stage"/*.aml
find "$stage" -exec touch -h -d @0 {} +
mkdir -p "$(dirname "$out")"
(cd "$stage" && find kernel | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out.tmp"
mv "$out.tmp" "$out"
echo "mk-acpi-override: $out ($n table(s), $(stat -c %s "$out") bytes, uncompressed newc)"
