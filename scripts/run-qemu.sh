#!/usr/bin/env bash
# Run one guest-lab VM under QEMU software emulation (TCG) with a hard timeout.
#
# The serial console goes to stdout and, with host-side timestamps stripped, to a log file.
# On exit it prints (to stderr) the time from QEMU start to the first VTOPO-GUEST line.
# The Rust tests build their own QEMU command lines; this wrapper is for humans and for
# docs/lab.md's reference commands (--dry-run prints the exact command line).
#
# Exit status: QEMU's, or 124 on timeout, or 3 when --expect PATTERN is not in the log.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

usage() {
    cat >&2 <<EOF
usage: $0 --arch x86_64|aarch64 [options] [-- EXTRA_QEMU_ARGS...]
  --arch A           x86_64 (q35) or aarch64 (virt, gic-version=3, UEFI)    [required]
  --kernel PATH      default .cache/kernels/amd64/vmlinuz | .cache/kernels/arm64/Image
  --initrd PATH      default .cache/lab/initrd-ARCH.gz (scripts/mkinitramfs.sh)
  --acpi-override F  uncompressed table cpio (scripts/mk-acpi-override.sh) to put in
                     front of the initrd (ACPI table upgrade)
  --append STR       extra kernel command line (added after the defaults below)
  --cmdline STR      replace the default command line entirely
                     (defaults: x86 "console=ttyS0 panic=-1 quiet",
                                arm64 "console=ttyAMA0 panic=-1 quiet")
  --smp STR          -smp value, e.g. "6,maxcpus=8,sockets=2,cores=2,threads=2"
  -m, --mem STR      -m value (default 1G)
  --object STR       -object value (repeatable), e.g. "memory-backend-ram,id=m0,size=512M"
  --numa STR         -numa value (repeatable), e.g. "node,nodeid=0,memdev=m0", "dist,src=0,dst=1,val=20"
  --machine STR      -machine value (default q35 | virt,gic-version=3)
  --cpu STR          -cpu value (default max)
  --bios PATH        aarch64 firmware (default /usr/share/qemu-efi-aarch64/QEMU_EFI.fd)
  --no-bios          aarch64: no firmware (direct kernel boot; needs your own EFI/ACPI shim)
  --timeout SECS     hard timeout (default 120)
  --log PATH         serial log (default .cache/lab/logs/run-ARCH-TIMESTAMP.log)
  --expect PATTERN   exit 3 unless the log matches this grep -E pattern
  --quiet-console    do not echo the serial console to stdout
  --dry-run          print the QEMU command line and exit
EOF
    exit 2
}

arch="" kernel="" initrd="" append="" cmdline="" smp="" mem="1G" machine="" cpu="max"
bios="" nobios=0 timeout_s=120 log="" expect="" echo_console=1 dry=0 override=""
objects=() numas=() extra=()

need() { [[ $# -ge 2 && -n ${2-} ]] || { echo "run-qemu: $1 needs a value" >&2; usage; }; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --arch) need "$@"; arch=$2; shift 2 ;;
        --kernel) need "$@"; kernel=$2; shift 2 ;;
        --initrd) need "$@"; initrd=$2; shift 2 ;;
        --acpi-override) need "$@"; override=$2; shift 2 ;;
        --append) need "$@"; append=$2; shift 2 ;;
        --cmdline) need "$@"; cmdline=$2; shift 2 ;;
        --smp) need "$@"; smp=$2; shift 2 ;;
        -m|--mem) need "$@"; mem=$2; shift 2 ;;
        --object) need "$@"; objects+=("$2"); shift 2 ;;
        --numa) need "$@"; numas+=("$2"); shift 2 ;;
        --machine) need "$@"; machine=$2; shift 2 ;;
        --cpu) need "$@"; cpu=$2; shift 2 ;;
        --bios) need "$@"; bios=$2; shift 2 ;;
        --no-bios) nobios=1; shift ;;
        --timeout) need "$@"; timeout_s=$2; shift 2 ;;
        --log) need "$@"; log=$2; shift 2 ;;
        --expect) need "$@"; expect=$2; shift 2 ;;
        --quiet-console) echo_console=0; shift ;;
        --dry-run) dry=1; shift ;;
        -h|--help) usage ;;
        --) shift; extra=("$@"); break ;;
        *) echo "run-qemu: unknown option '$1'" >&2; usage ;;
    esac
done

case $arch in
    x86_64|amd64)
        arch=x86_64; qemu="qemu-system-x86_64"
        : "${machine:=q35}"
        : "${kernel:=$REPO_ROOT/.cache/kernels/amd64/vmlinuz}"
        defcmd="console=ttyS0 panic=-1 quiet" ;;
    aarch64|arm64)
        arch=aarch64; qemu="qemu-system-aarch64"
        : "${machine:=virt,gic-version=3}"
        : "${kernel:=$REPO_ROOT/.cache/kernels/arm64/Image}"
        [[ $nobios -eq 1 ]] || : "${bios:=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}"
        defcmd="console=ttyAMA0 panic=-1 quiet" ;;
    "") echo "run-qemu: --arch is required" >&2; usage ;;
    *) echo "run-qemu: unknown --arch '$arch'" >&2; usage ;;
esac
: "${initrd:=$REPO_ROOT/.cache/lab/initrd-$arch.gz}"
[[ $timeout_s =~ ^[0-9]+$ ]] || { echo "run-qemu: --timeout must be whole seconds" >&2; usage; }
[[ -n $cmdline ]] || cmdline=$defcmd
[[ -z $append ]] || cmdline="$cmdline $append"

for f in "$kernel" "$initrd" ${bios:+"$bios"} ${override:+"$override"}; do
    [[ -f $f ]] || { echo "run-qemu: missing file $f (scripts/fetch-kernels.sh, scripts/mkinitramfs.sh)" >&2; exit 2; }
done
command -v "$qemu" >/dev/null || { echo "run-qemu: $qemu not found: run scripts/setup.sh" >&2; exit 2; }

tmpdir=""
if [[ -n $override ]]; then
    # ACPI table upgrade: the uncompressed table cpio must come first.
    tmpdir=$(mktemp -d)
    trap 'rm -rf "$tmpdir"' EXIT
    cat "$override" "$initrd" >"$tmpdir/initrd.img"
    initrd=$tmpdir/initrd.img
fi

cmd=("$qemu" -accel tcg,thread=multi -machine "$machine" -cpu "$cpu" -m "$mem")
[[ -z $smp ]] || cmd+=(-smp "$smp")
for o in ${objects[@]+"${objects[@]}"}; do cmd+=(-object "$o"); done
for n in ${numas[@]+"${numas[@]}"}; do cmd+=(-numa "$n"); done
[[ -z $bios ]] || cmd+=(-bios "$bios")
cmd+=(-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      -nodefaults -display none -serial stdio -no-reboot -nic none)
cmd+=(${extra[@]+"${extra[@]}"})

# Shell-quoted command line, readable (commas unescaped).
show_cmd() {
    local a out=""
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
    done
    echo "${out% }"
}

if [[ $dry -eq 1 ]]; then
    show_cmd "${cmd[@]}"
    exit 0
fi

if [[ -z $log ]]; then
    mkdir -p "$REPO_ROOT/.cache/lab/logs"
    log="$REPO_ROOT/.cache/lab/logs/run-$arch-$(date +%Y%m%d-%H%M%S)-$$.log"
fi
mkdir -p "$(dirname "$log")"
: >"$log"
echo "run-qemu: $(show_cmd "${cmd[@]}")" >&2
echo "run-qemu: serial log $log, timeout ${timeout_s}s" >&2

t0=$EPOCHREALTIME
first=""
set +e
timeout -k 5 "$timeout_s" "${cmd[@]}" </dev/null 2>"$log.stderr" |
while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    printf '%s\n' "$line" >>"$log"
    [[ $echo_console -eq 0 ]] || printf '%s\n' "$line"
    if [[ -z $first && $line == *VTOPO-GUEST\ * ]]; then
        first=1
        awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "run-qemu: first VTOPO-GUEST line after %.2f s\n", b-a}' >&2
    fi
done
rcs=("${PIPESTATUS[@]}")
set -e
rc=${rcs[0]}
elapsed=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
if [[ -s $log.stderr ]]; then
    sed 's/^/run-qemu: qemu stderr: /' "$log.stderr" >&2
else
    rm -f "$log.stderr"
fi
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "run-qemu: TIMEOUT: QEMU killed after ${timeout_s}s (log: $log)" >&2
    exit 124
fi
echo "run-qemu: QEMU exited with status $rc after ${elapsed} s (log: $log)" >&2
if [[ -n $expect ]] && ! grep -qE -- "$expect" "$log"; then
    echo "run-qemu: expected pattern not found in the log: $expect" >&2
    exit 3
fi
exit "$rc"
