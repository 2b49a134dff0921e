#!/bin/sh
# vtopo nested lab: vtopo's VMM against QEMU with KVM, in the same L1 run (busybox ash; the L1
# init's command). scripts/bench-vmm.sh builds the image and prints the table
# (docs/benchmarks.md).
#
# Usage: bench-vmm.sh RUNS CYCLES CPU QEMU_CPU_ID
#   RUNS         boots of each VMM, interleaved (vtopo, qemu, vtopo, qemu, ...)
#   CYCLES       hot-add / remove cycles per boot
#   CPU          the guest CPU number of the slot that is added and removed
#   QEMU_CPU_ID  its QEMU device_add properties, e.g. socket-id=1,core-id=0,thread-id=0
# Files in /l1/bench/: vtopo.args (arguments of `vtopo boot` after the topology file) and
# qemu.args (arguments of QEMU), one argument per line; lab.toml; vmlinuz; l2.gz.
#
# Per boot a line when it starts, VTOPO-BENCH-START v=1;vmm=V;run=R, and one when it ends
# (times in seconds, from the L1's /proc/uptime, 10 ms resolution):
#   VTOPO-BENCH v=1;vmm=V;run=R;boot=S;add=S,S,..;remove=S,S,..;rss_kb=K;guest_kb=G;status=OK|why
# After a failed boot, the last 20 lines of the guest console and of the VMM's stderr, as
# VTOPO-BENCH-CONSOLE and VTOPO-BENCH-STDERR lines.
# why: "hang: ..." (the VMM runs, the guest stopped answering: a watchdog fired),
#      "vmm-exited: ..." (the VMM process ended), "vmm-refused: ..." (a request was refused)
# boot: VMM process start to the guest init's first line (VTOPO-INIT); add: request to the
# guest's event line for the CPU, printed once its init onlined it; remove: request to the
# guest's remove event line (the CPU was offlined and ejected); rss_kb:
# the VMM's resident memory outside guest RAM (the sum of Rss over mappings smaller than
# 64 MiB; guest RAM is mapped in 256 MiB or larger blocks), guest_kb: the rest.

[ $# -eq 4 ] || { echo "usage: $0 RUNS CYCLES CPU QEMU_CPU_ID" >&2; exit 2; }
RUNS=$1 CYCLES=$2 CPU=$3 QID=$4
B=/l1/bench
OUT=/tmp/bench.out
ERR=/tmp/bench.err   # the VMM's stderr (the last line goes into a failed boot's status)
# A VMM that dies while we write to its FIFO must not kill the script (SIGPIPE): the write
# fails instead, and the boot is reported as vmm-exited.
trap '' PIPE
now() { read -r _u _ </proc/uptime; echo "$_u"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
over() { awk -v a="$1" -v b="$(now)" -v l="$2" 'BEGIN { exit !(b - a > l) }'; }
# count PATTERN: lines of $OUT matching (grep -c prints 0 and fails when none match).
count() { _c=$(grep -c "$1" "$OUT" 2>/dev/null); echo "${_c:-0}"; }
reports() { count 'VTOPO-GUEST '; }

# events KIND: how many guest event lines say KIND (add: the init onlined CPU $CPU; remove:
# the CPU is gone). They are short lines printed before the guest's kilobyte report, whose
# printing (one exit per byte on a nested VMM's console) would otherwise be timed.
events() { count "VTOPO-EVENT .*;event=$1:cpu$CPU;"; }

# wait_event KIND N: until there are more than N KIND events (60 s watchdog), then until the
# guest's report that follows is out (so that the next step starts on a quiet console).
wait_event() {
    _t=$(now)
    _r=$(reports)
    while [ "$(events "$1")" -le "$2" ]; do
        kill -0 "$PID" 2>/dev/null || return 1
        over "$_t" 60 && return 1
        sleep 0.02
    done
    _e=$(since "$_t")
    while [ "$(reports)" -le "$_r" ] && ! over "$_t" 60; do sleep 0.02; done
    echo "$_e"
}

rss() { # PID -> "vmm_kb guest_kb"
    awk '/^Size:/ { size = $2 } /^Rss:/ { if (size >= 65536) g += $2; else v += $2 }
         END { printf "%d %d", v, g }' "/proc/$1/smaps"
}

# Both VMMs are driven over one open session each, through two FIFOs (fds 7 and 8), so that
# no request pays for a new process or connection: QMP over QEMU's -chardev pipe, and
# `vtopo hotplug SOCKET session` for vtopo (one JSON request per line, one reply line each).
qmp() {
    echo "$1" >&7 || return 1
    while read -r _l <&8; do case $_l in *'"return"'*|*'"error"'*) echo "$_l"; return ;; esac; done
    return 1
}
ctl() { echo "$1" >&7 || return 1; read -r _l <&8 || return 1; case $_l in *'"error"'*) return 1 ;; esac; }
session() { # the vtopo session, once the control socket is there
    until [ -S /tmp/ctl ]; do sleep 0.02; done
    rm -f /tmp/ctl.in /tmp/ctl.out; mkfifo /tmp/ctl.in /tmp/ctl.out
    vtopo hotplug /tmp/ctl session </tmp/ctl.in >/tmp/ctl.out 2>/dev/null &
    exec 7>/tmp/ctl.in 8</tmp/ctl.out
}

start() { # VMM -> PID
    : >"$OUT"; : >"$ERR"
    case $1 in
        vtopo)
            rm -f /tmp/ctl
            # shellcheck disable=SC2046 # one argument per line
            ( IFS='
'; exec vtopo boot "$B/lab.toml" $(cat "$B/vtopo.args") --control /tmp/ctl ) >>"$OUT" 2>>"$ERR" &
            PID=$! ;;
        qemu)
            rm -f /tmp/qmp.in /tmp/qmp.out; mkfifo /tmp/qmp.in /tmp/qmp.out
            ( IFS='
'; exec /l1/qemu/run $(cat "$B/qemu.args") -chardev pipe,id=qmp,path=/tmp/qmp -mon chardev=qmp,mode=control ) >>"$OUT" 2>>"$ERR" &
            PID=$!
            exec 7>/tmp/qmp.in 8</tmp/qmp.out
            qmp '{"execute":"qmp_capabilities"}' >/dev/null ;;
    esac
}

add() {
    case $1 in
        vtopo) ctl "{\"cmd\":\"add\",\"cpu\":$CPU}" ;;
        qemu) qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"host-x86_64-cpu\",\"id\":\"hp\",$(echo "$QID" | sed 's/\([a-z-]*\)=\([0-9]*\)/"\1":\2/g')}}" | grep -q '"return"' ;;
    esac
}

remove() {
    case $1 in
        vtopo) ctl "{\"cmd\":\"remove\",\"cpu\":$CPU}" ;;
        qemu) qmp '{"execute":"device_del","arguments":{"id":"hp"}}' | grep -q '"return"' ;;
    esac
}

stop() {
    case $1 in
        vtopo) [ -n "${SESSION:-}" ] && ctl '{"cmd":"shutdown"}'; exec 7>&- 8<&- ;;
        qemu) qmp '{"execute":"quit"}' >/dev/null; exec 7>&- 8<&- ;;
    esac
    _t=$(now)
    while kill -0 "$PID" 2>/dev/null && ! over "$_t" 20; do sleep 0.05; done
    kill -9 "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
}

# lost TEXT: the status of a step that timed out: the VMM died, or the guest hangs.
lost() { if kill -0 "$PID" 2>/dev/null; then echo "hang: $1"; else echo "vmm-exited: $1$(last_err)"; fi; }
# last_err: the VMM's last stderr line, for a status (no ';': it separates the fields).
last_err() { _e=$(tail -n 1 "$ERR" 2>/dev/null | tr ';' ','); [ -n "$_e" ] && echo " ($_e)"; }

one() { # VMM RUN
    # Attributes an L1 death or hang to the boot in progress (the study, tests/nested.rs).
    echo "VTOPO-BENCH-START v=1;vmm=$1;run=$2"
    t0=$(now)
    start "$1"
    status=OK boot="" adds="" removes="" SESSION=""
    while ! grep -q VTOPO-INIT "$OUT"; do
        if ! kill -0 "$PID" 2>/dev/null; then status="vmm-exited: before the guest init$(last_err)"; break; fi
        if over "$t0" 120; then status="hang: no guest init after 120 s"; break; fi
        sleep 0.02
    done
    [ "$status" = OK ] && boot=$(since "$t0")
    while [ "$status" = OK ] && { [ "$(reports)" -lt 1 ] || ! grep -q VTOPO-READY "$OUT"; }; do
        if ! kill -0 "$PID" 2>/dev/null; then status="vmm-exited: before the guest's report$(last_err)"; break; fi
        if over "$t0" 120; then status="hang: no guest report after 120 s"; break; fi
        sleep 0.02
    done
    if [ "$status" = OK ]; then
        [ "$1" = vtopo ] && session && SESSION=1
        c=0
        while [ "$c" -lt "$CYCLES" ]; do
            c=$((c + 1))
            e=$(events add)
            add "$1" || { status="vmm-refused: add (cycle $c)"; break; }
            w=$(wait_event add "$e") || { status=$(lost "add (cycle $c): the guest never onlined CPU $CPU"); break; }
            adds="$adds${adds:+,}$w"
            [ "$c" -eq 1 ] && set -- "$1" "$2" "$(rss "$PID")"
            e=$(events remove)
            remove "$1" || { status="vmm-refused: remove (cycle $c)"; break; }
            w=$(wait_event remove "$e") || { status=$(lost "remove (cycle $c): CPU $CPU never went"); break; }
            removes="$removes${removes:+,}$w"
        done
    fi
    m=${3:-$(rss "$PID" 2>/dev/null)}
    stop "$1"
    echo "VTOPO-BENCH v=1;vmm=$1;run=$2;boot=$boot;add=$adds;remove=$removes;rss_kb=${m%% *};guest_kb=${m##* };status=$status"
    if [ "$status" != OK ]; then # what the guest and the VMM said last, for the lab's log
        tail -n 20 "$OUT" | sed 's/^/VTOPO-BENCH-CONSOLE /'
        tail -n 20 "$ERR" | sed 's/^/VTOPO-BENCH-STDERR /'
    fi
}

i=0
while [ "$i" -lt "$RUNS" ]; do
    i=$((i + 1))
    one vtopo "$i"
    one qemu "$i"
done
