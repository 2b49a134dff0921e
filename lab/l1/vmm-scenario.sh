#!/bin/sh
# vtopo nested lab: boot an L2 guest with vtopo's own VMM inside the L1 and drive it through
# the control socket (busybox ash; runs as the L1 init's command). docs/nested-lab.md.
#
# Usage: vmm-scenario.sh TOPOLOGY KERNEL INITRD CMDLINE [STEP...]
#   STEP: add:N          hot-add slot N; wait for the guest's next report and for status present
#         remove:N       ask the guest to give CPU N back; wait for its report and status parked
#         refuse:REQUEST a request the VMM must refuse (ok=false), e.g. refuse:add-cpu:0 or
#                        refuse:raw:<line>; the raw line is taken from /l1/requests/<line> when
#                        such a file exists (for lines with spaces or quotes)
#         status         print the VMM's status
#         shutdown       a shutdown request; the VMM must end
# Every wait has a watchdog (VTOPO_STEP_TIMEOUT, default 60 s; the boot: VTOPO_BOOT_TIMEOUT,
# default 90 s). After the last step the VM is shut down if it still runs.
#
# Output lines (key=value;...; the reply/status JSON is always the last field):
#   VTOPO-VMM-START  v=1;uptime=U                              vtopo boot started
#   VTOPO-STEP       v=1;n=I;op=OP;arg=A;uptime=U;exit=E;reply=JSON    a request and its reply
#   VTOPO-STEP-DONE  v=1;n=I;op=OP;arg=A;uptime=U;waited=S;event=E;report=R;threads=T;fds=F;status=JSON
#                    the guest's report number R reflects the step (waited S seconds; its short
#                    VTOPO-EVENT line, or for the boot VTOPO-INIT, came after E seconds); the
#                    VMM process has T threads and F open file descriptors
#   VTOPO-STEP-FAIL  v=1;n=I;op=OP;arg=A;why=TEXT              a watchdog fired or the VMM died
#   VTOPO-VMM-EXIT   v=1;status=N;uptime=U                     vtopo boot ended
# plus every line of vtopo's console and log (the L2's VTOPO-GUEST reports, `vtopo: ...`).
# Exit status: 0 when every step did what it asked and the VMM ended with 0; 1 otherwise.

[ $# -ge 4 ] || { echo "usage: $0 TOPOLOGY KERNEL INITRD CMDLINE [STEP...]" >&2; exit 2; }
topo=$1 kernel=$2 initrd=$3 cmdline=$4
shift 4
CTL=/tmp/vtopo.ctl
OUT=/tmp/vtopo.out
STEP_TIMEOUT=${VTOPO_STEP_TIMEOUT:-60}
BOOT_TIMEOUT=${VTOPO_BOOT_TIMEOUT:-90}

now() { read -r _u _ </proc/uptime; echo "$_u"; }
# Every line of ours goes through $OUT too (one append each), so that it never splits a line
# of the VMM's; `tail -f` copies $OUT to our stdout.
say() { echo "$*" >>"$OUT"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
over() { awk -v a="$1" -v b="$(now)" -v l="$2" 'BEGIN { exit !(b - a > l) }'; }
# count PATTERN: lines of $OUT matching (grep -c prints 0 and fails when none match).
count() { _c=$(grep -c "$1" "$OUT" 2>/dev/null); echo "${_c:-0}"; }
reports() { count 'VTOPO-GUEST '; }
alive() { kill -0 "$vmm" 2>/dev/null; }
fail=0

: >"$OUT"
say "VTOPO-VMM-START v=1;uptime=$(now)"
# The console and the VMM's log both go to $OUT and to our stdout (the L1 console).
( vtopo boot "$topo" --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline" \
    --control "$CTL" 2>&1; echo "VTOPO-VMM-EXIT v=1;status=$?;uptime=$(now)" ) >>"$OUT" &
vmm=$!
# Copies the complete lines of $OUT to stdout as they come; after `touch $STOP`, the rest.
STOP=/tmp/vtopo.stop
rm -f "$STOP"
pump() {
    n=0
    while :; do
        [ -f "$STOP" ] && last=1 || last=0
        m=$(wc -l <"$OUT")
        if [ "$m" -gt "$n" ]; then sed -n "$((n + 1)),${m}p" "$OUT"; n=$m; fi
        [ "$last" = 1 ] && break
        sleep 0.1
    done
}
pump &
pumper=$!

finish() {
    if alive; then
        vtopo hotplug "$CTL" shutdown >/dev/null 2>&1
        t=$(now)
        while alive && ! over "$t" 20; do sleep 0.1; done
        alive && { say "VTOPO-STEP-FAIL v=1;n=end;op=shutdown;arg=;why=VMM still running 20 s after shutdown"; kill -9 "$vmm"; fail=1; }
    fi
    wait "$vmm" 2>/dev/null
    touch "$STOP"
    wait "$pumper"
    st=$(sed -n 's/.*VTOPO-VMM-EXIT v=1;status=\([0-9]*\);.*/\1/p' "$OUT" | tail -n 1)
    [ "$st" = 0 ] || fail=1
    exit "$fail"
}

# Boot: the guest init's first line, then its first report.
t0=$(now)
init=""
until [ "$(reports)" -ge 1 ]; do
    [ -z "$init" ] && grep -q 'VTOPO-INIT ' "$OUT" && init=$(elapsed "$t0")
    if ! alive; then say "VTOPO-STEP-FAIL v=1;n=0;op=boot;arg=;why=VMM ended before the guest's report"; fail=1; finish; fi
    if over "$t0" "$BOOT_TIMEOUT"; then say "VTOPO-STEP-FAIL v=1;n=0;op=boot;arg=;why=no guest report after ${BOOT_TIMEOUT}s (hang)"; fail=1; finish; fi
    sleep 0.05
done
# The guest's uevent listener (which onlines hot-added CPUs) runs once it says VTOPO-READY.
until grep -q 'VTOPO-READY' "$OUT" && [ -S "$CTL" ]; do
    if ! alive || over "$t0" "$BOOT_TIMEOUT"; then say "VTOPO-STEP-FAIL v=1;n=0;op=boot;arg=;why=no VTOPO-READY or control socket"; fail=1; finish; fi
    sleep 0.05
done
boot_done="VTOPO-STEP-DONE v=1;n=0;op=boot;arg=;uptime=$(now);waited=$(elapsed "$t0");event=${init:-?};report=1"

# The vtopo boot process (the subshell's child) and its thread and fd counts.
vmm_pid() {
    for p in /proc/[0-9]*; do
        case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in "vtopo boot "*) echo "${p#/proc/}"; return ;; esac
    done
}
VPID=$(vmm_pid)
counts() { echo "threads=$(ls "/proc/$VPID/task" 2>/dev/null | wc -l);fds=$(ls "/proc/$VPID/fd" 2>/dev/null | wc -l)"; }

# state CPU: the VMM's state of CPU N from `status` ("present", "parked", ...).
state() {
    vtopo hotplug "$CTL" status 2>/dev/null | tr '{' '\n' | sed -n "s/.*\"cpu\":$1,.*\"state\":\"\\([a-z]*\\)\".*/\\1/p"
}

say "$boot_done;$(counts);status=$(vtopo hotplug "$CTL" status 2>/dev/null)"
i=0
for step in "$@"; do
    i=$((i + 1))
    op=${step%%:*}
    arg=${step#*:}
    [ "$arg" = "$step" ] && arg=""
    # add:P@G / remove:P@G: plan CPU P (the VMM's index) is CPU G in the guest (x86 Linux
    # numbers hotpluggable CPUs after the boot CPUs); without @G, G = P.
    gcpu=${arg#*@}
    arg=${arg%@*}
    r0=$(reports)
    t0=$(now)
    want=""
    case $op in
        add) reply=$(vtopo hotplug "$CTL" add --cpu "$arg" 2>/dev/null); ex=$?; want=present ;;
        remove) reply=$(vtopo hotplug "$CTL" remove --cpu "$arg" 2>/dev/null); ex=$?; want=parked ;;
        status) reply=$(vtopo hotplug "$CTL" status 2>/dev/null); ex=$? ;;
        shutdown) reply=$(vtopo hotplug "$CTL" shutdown 2>/dev/null); ex=$? ;;
        refuse)
            case $arg in
                add-cpu:*) reply=$(vtopo hotplug "$CTL" add --cpu "${arg#add-cpu:}" 2>/dev/null); ex=$? ;;
                add-count:*) reply=$(vtopo hotplug "$CTL" add --count "${arg#add-count:}" 2>/dev/null); ex=$? ;;
                remove-cpu:*) reply=$(vtopo hotplug "$CTL" remove --cpu "${arg#remove-cpu:}" 2>/dev/null); ex=$? ;;
                raw:*)
                    line=${arg#raw:}
                    [ -f "/l1/requests/$line" ] && line=$(cat "/l1/requests/$line")
                    reply=$(vtopo hotplug "$CTL" raw "$line" 2>/dev/null); ex=$? ;;
                *) reply="unknown refuse step"; ex=2 ;;
            esac ;;
        *) say "VTOPO-STEP-FAIL v=1;n=$i;op=$op;arg=$arg;why=unknown step"; fail=1; continue ;;
    esac
    reply=$(echo "$reply" | tr '\n' ' ')
    say "VTOPO-STEP v=1;n=$i;op=$op;arg=$arg;uptime=$t0;exit=$ex;reply=$reply"
    case $op in
        shutdown)
            t=$(now)
            while alive && ! over "$t" 20; do sleep 0.1; done
            alive && { say "VTOPO-STEP-FAIL v=1;n=$i;op=$op;arg=;why=VMM still running 20 s after shutdown"; fail=1; }
            finish ;;
        refuse)
            # Refused, and the VM still answers.
            if [ "$ex" -eq 0 ]; then say "VTOPO-STEP-FAIL v=1;n=$i;op=$op;arg=$arg;why=the VMM accepted it"; fail=1; fi
            if ! alive; then say "VTOPO-STEP-FAIL v=1;n=$i;op=$op;arg=$arg;why=the VMM died"; fail=1; finish; fi
            say "VTOPO-STEP-DONE v=1;n=$i;op=$op;arg=$arg;uptime=$(now);waited=0;report=$(reports);$(counts);status=$(vtopo hotplug "$CTL" status 2>/dev/null)"
            continue ;;
        status) say "VTOPO-STEP-DONE v=1;n=$i;op=$op;arg=;uptime=$(now);waited=0;report=$(reports);$(counts);status=$reply"; continue ;;
    esac
    if [ "$ex" -ne 0 ]; then
        say "VTOPO-STEP-FAIL v=1;n=$i;op=$op;arg=$arg;why=the VMM refused: $reply"; fail=1; continue
    fi
    # Wait for the guest's next report and for the VMM's state; note when the guest's short
    # event line came (add:cpuN, printed once the init onlined it; remove:cpuN): the report after it
    # is kilobytes, and each byte of it is a nested exit.
    ok=0 evt=""
    case $op in add) ev=add ;; *) ev=remove ;; esac
    e0=$(count "VTOPO-EVENT .*;event=$ev:cpu$gcpu;")
    while :; do
        if [ -z "$evt" ] && [ "$(count "VTOPO-EVENT .*;event=$ev:cpu$gcpu;")" -gt "$e0" ]; then evt=$(elapsed "$t0"); fi
        if [ "$(reports)" -gt "$r0" ] && [ "$(state "$arg")" = "$want" ]; then
            # The guest's latest report shows the CPU online (add) or gone (remove).
            case "$(grep 'VTOPO-GUEST ' "$OUT" | tail -n 1);" in
                *";cpu$gcpu.online=1;"*) [ "$op" = add ] && { ok=1; break; } ;;
                *) [ "$op" = remove ] && { ok=1; break; } ;;
            esac
        fi
        alive || break
        over "$t0" "$STEP_TIMEOUT" && break
        sleep 0.02
    done
    if [ "$ok" = 1 ]; then
        say "VTOPO-STEP-DONE v=1;n=$i;op=$op;arg=$arg;uptime=$(now);waited=$(elapsed "$t0");event=${evt:-?};report=$(reports);$(counts);status=$(vtopo hotplug "$CTL" status 2>/dev/null)"
    else
        st=$(state "$arg")
        why="no guest report with CPU $arg $want after ${STEP_TIMEOUT}s (reports $(reports), state $st)"
        # The VMM did its part and the guest went silent: a hang, as the lab shows them.
        [ "$st" = "$want" ] && why="$why (hang)"
        alive || why="the VMM ended"
        say "VTOPO-STEP-FAIL v=1;n=$i;op=$op;arg=$arg;why=$why"
        fail=1
        alive || finish
    fi
done
finish
