#!/usr/bin/env bash
# Boot the nested-KVM lab's L1 Linux (a Linux with its own working KVM) under QEMU software
# emulation, with an initramfs from scripts/mk-l1-initramfs.sh, and exit with the status of
# the command the L1 init ran (docs/nested-lab.md).
#
#   x86_64:  q35, -cpu max (emulated AMD SVM + nested paging), -smp 1 (reliability: guest-lab
#            section 6), 3G, Debian's 6.12 cloud bzImage; KVM modules loaded by the init.
#   aarch64: virt,gic-version=3,virtualization=on (emulated EL2), -cpu max, -smp 2, 2G,
#            Debian's 6.12 cloud Image (KVM built in); direct kernel boot (device tree, no
#            firmware) by default, --bios for UEFI.
#
# The serial console is copied to a log (CR stripped) and to stdout; the L1 init's lines
# (VTOPO-L1-*) are timed on the host as they arrive, and a summary goes to stderr:
#   run-l1: kvm after X s; command Y s; total Z s; status N
#
# Exit status: the L1 command's (from the init's VTOPO-L1-EXIT line); 124 when the hard
# timeout killed QEMU; 125 when L1 failed (no /dev/kvm, or QEMU ended without a
# VTOPO-L1-EXIT line: L1 panic or reset); 2 on bad arguments or missing files.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
QEMU_EFI=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd

usage() {
    cat >&2 <<EOF
usage: $0 ARCH INITRD [options] [-- EXTRA_QEMU_ARGS...]
  ARCH               x86_64|amd64 or aarch64|arm64
  INITRD             the L1 initramfs (scripts/mk-l1-initramfs.sh)
  --run "COMMAND"    command for the L1 init (vtopo.run="COMMAND"; no '"' inside), instead of
                     the one baked into INITRD
  --timeout SECS     hard timeout of the whole L1 run (default 300)
  --log PATH         console log (default .cache/lab/logs/l1-ARCH-TIMESTAMP-PID.log)
  --append STR       extra kernel command line (e.g. vtopo.keeplog=1 vtopo.cmdtimeout=60)
  --kernel PATH      default .cache/kernels/amd64/vmlinuz | .cache/kernels/arm64/Image
  -m, --mem SIZE     default 3G (x86_64) | 2G (aarch64)
  --smp N            default 1 (x86_64) | 2 (aarch64)
  --cpu MODEL        default max
  --accel OPTS       QEMU -accel (default tcg,thread=multi; the lab study tries tcg,thread=single)
  --bios [PATH]      aarch64: boot through UEFI (default firmware $QEMU_EFI)
  --quiet-console    do not copy the console to stdout
  --dry-run          print the QEMU command line and exit
EOF
    exit 2
}

[[ $# -ge 2 ]] || usage
arch=$1
initrd=$2
shift 2
run="" timeout_s=300 log="" append="" kernel="" mem="" smp="" cpu=max accel="tcg,thread=multi"
bios="" echo_console=1
dry=0 extra=()
need() { [[ $# -ge 2 && -n ${2-} ]] || { echo "run-l1: $1 needs a value" >&2; usage; }; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --run) need "$@"; run=$2; shift 2 ;;
        --timeout) need "$@"; timeout_s=$2; shift 2 ;;
        --log) need "$@"; log=$2; shift 2 ;;
        --append) need "$@"; append=$2; shift 2 ;;
        --kernel) need "$@"; kernel=$2; shift 2 ;;
        -m|--mem) need "$@"; mem=$2; shift 2 ;;
        --smp) need "$@"; smp=$2; shift 2 ;;
        --cpu) need "$@"; cpu=$2; shift 2 ;;
        --accel) need "$@"; accel=$2; shift 2 ;;
        --bios)
            if [[ $# -ge 2 && ${2-} != -* ]]; then bios=$2; shift 2; else bios=$QEMU_EFI; shift; fi ;;
        --quiet-console) echo_console=0; shift ;;
        --dry-run) dry=1; shift ;;
        -h|--help) usage ;;
        --) shift; extra=("$@"); break ;;
        *) echo "run-l1: unknown option '$1'" >&2; usage ;;
    esac
done
[[ $timeout_s =~ ^[0-9]+$ ]] || { echo "run-l1: --timeout must be whole seconds" >&2; usage; }
[[ $run != *\"* ]] || { echo "run-l1: --run cannot contain '\"'" >&2; usage; }

case $arch in
    x86_64|amd64)
        arch=x86_64; qemu="qemu-system-x86_64"
        : "${kernel:=$REPO_ROOT/.cache/kernels/amd64/vmlinuz}" "${mem:=3G}" "${smp:=1}"
        [[ -z $bios ]] || { echo "run-l1: --bios is for aarch64" >&2; usage; }
        machine=(-machine q35); console=ttyS0 ;;
    aarch64|arm64)
        arch=aarch64; qemu="qemu-system-aarch64"
        : "${kernel:=$REPO_ROOT/.cache/kernels/arm64/Image}" "${mem:=2G}" "${smp:=2}"
        machine=(-machine "virt,gic-version=3,virtualization=on"); console=ttyAMA0 ;;
    *) echo "run-l1: unknown ARCH '$arch'" >&2; usage ;;
esac
for f in "$kernel" "$initrd" ${bios:+"$bios"}; do
    [[ -f $f ]] || { echo "run-l1: missing file $f (scripts/fetch-kernels.sh, scripts/mk-l1-initramfs.sh, scripts/setup.sh)" >&2; exit 2; }
done
command -v "$qemu" >/dev/null || { echo "run-l1: $qemu not found: run scripts/setup.sh" >&2; exit 2; }

cmdline="console=$console panic=-1 quiet"
[[ -z $run ]] || cmdline+=" vtopo.run=\"$run\""
[[ -z $append ]] || cmdline+=" $append"

cmd=("$qemu" -accel "$accel" "${machine[@]}" -cpu "$cpu" -smp "$smp" -m "$mem")
[[ -z $bios ]] || cmd+=(-bios "$bios")
cmd+=(-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      -nodefaults -display none -serial stdio -no-reboot -nic none)
cmd+=(${extra[@]+"${extra[@]}"})

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
    log="$REPO_ROOT/.cache/lab/logs/l1-$arch-$(date +%Y%m%d-%H%M%S)-$$.log"
fi
mkdir -p "$(dirname "$log")"
: >"$log"
echo "run-l1: $(show_cmd "${cmd[@]}")" >&2
echo "run-l1: console log $log, timeout ${timeout_s}s" >&2

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
summary_file=$(mktemp)
trap 'rm -f "$summary_file"' EXIT
t0=$EPOCHREALTIME
set +e
# The reader times the init's lines and leaves "kvm=S;command=S;exit=S;status=N" in
# $summary_file.
timeout -k 5 "$timeout_s" "${cmd[@]}" </dev/null 2>"$log.stderr" | {
    kvm="" ready="" done_at="" status=""
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >>"$log"
        [[ $echo_console -eq 0 ]] || printf '%s\n' "$line"
        case $line in
            *VTOPO-L1-KVM\ *) kvm=$(since "$t0"); ready=$EPOCHREALTIME ;;
            *VTOPO-L1-EXIT\ *)
                done_at=$(since "$t0")
                status=$(sed -n 's/.*VTOPO-L1-EXIT .*status=\([0-9]*\).*/\1/p' <<<"$line") ;;
        esac
    done
    cmd_s=""
    [[ -z $ready || -z $done_at ]] ||
        cmd_s=$(awk -v a="$ready" -v t="$t0" -v d="$done_at" 'BEGIN { printf "%.2f", t + d - a }')
    echo "kvm=$kvm;command=$cmd_s;exit=$done_at;status=$status" >"$summary_file"
}
rcs=("${PIPESTATUS[@]}")
set -e
qemu_rc=${rcs[0]}
total=$(since "$t0")
summary=$(cat "$summary_file")
if [[ -s $log.stderr ]]; then
    sed 's/^/run-l1: qemu stderr: /' "$log.stderr" >&2
else
    rm -f "$log.stderr"
fi
get() { sed -n "s/.*$1=\\([^;]*\\).*/\\1/p" <<<"$summary"; }
kvm=$(get kvm) cmd_s=$(get command) status=$(get status)
echo "run-l1: kvm after ${kvm:--} s; command ${cmd_s:--} s; total $total s; QEMU status $qemu_rc; L1 command status ${status:--} (log: $log)" >&2
if [[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]]; then
    echo "run-l1: TIMEOUT: QEMU killed after ${timeout_s}s (log: $log)" >&2
    exit 124
fi
if [[ -z $status ]]; then
    echo "run-l1: L1 FAILURE: QEMU ended (status $qemu_rc) without VTOPO-L1-EXIT (L1 panic or reset?)" >&2
    exit 125
fi
exit "$status"
