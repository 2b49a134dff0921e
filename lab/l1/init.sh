#!/bin/sh
# vtopo nested-lab L1 /init (busybox ash), PID 1 of the L1 initramfs built by
# scripts/mk-l1-initramfs.sh. docs/nested-lab.md describes the lab.
#
# 1. mounts proc, sysfs, devtmpfs, a tmpfs on /run and /tmp;
# 2. loads the kernel modules listed in /l1/modules (x86: irqbypass, kvm, kvm-amd; the arm64
#    kernel has KVM built in, so its list is empty) and waits for /dev/kvm;
# 3. runs the command: `vtopo.run=` on the kernel command line if given, else the script
#    /l1/run baked into the initramfs (mk-l1-initramfs.sh --run), else nothing;
#    its stdout and stderr are printed on the console, each line prefixed with "L1| ";
# 4. prints VTOPO-L1-EXIT with the command's status and powers off.
#
# Console lines (key=value;... like the guest lab's; find the marker anywhere in a line):
#   VTOPO-L1-BOOT  v=1;uptime=U;arch=A;kernel=R            init started
#   VTOPO-L1-KLOG  <kernel log line>                       each kvm line of the kernel log
#   VTOPO-L1-KVM   v=1;uptime=U;wait=S;modules=a,b         /dev/kvm is there
#   VTOPO-L1-ERROR <text>                                  e.g. no /dev/kvm in time
#   L1| <line>                                             the command's output
#   VTOPO-L1-EXIT  v=1;status=N;uptime=U;run=S             then power-off
# status: the command's exit status (0 with no command); 124 when vtopo.cmdtimeout killed it;
# 125 when a module did not load or /dev/kvm did not appear (the command was not run).
#
# Kernel command-line options:
#   vtopo.run=CMD        command for `sh -c` (quote it on the kernel command line:
#                        vtopo.run="/l1/bin/kvm_probe --x"; it cannot contain '"')
#   vtopo.kvmwait=SECS   how long to wait for /dev/kvm (default 60)
#   vtopo.cmdtimeout=S   kill the command after S seconds (default: no limit; the host-side
#                        watchdog of scripts/run-l1.sh always applies)
#   vtopo.keeplog=1      keep the kernel's console loglevel (default: lowered to 1 so that
#                        kernel messages cannot split the command's lines)
#   vtopo.shell=1        after the command, a shell on the console instead of power-off
#   vtopo.debug=1        set -x

export PATH=/l1/bin:/bin:/sbin:/usr/bin:/usr/sbin

/bin/busybox mkdir -p /proc /sys /dev /run /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mount -t tmpfs tmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
# UEFI leaves escape sequences on the serial line without a newline: start a fresh line.
echo

now() { read -r _u _ </proc/uptime; echo "$_u"; }
# Wait until the console's output has been transmitted (busybox stty sets with TCSADRAIN).
drain() { stty -F /dev/console -tostop 2>/dev/null || true; }

# Value of vtopo.$1 on the kernel command line ("" if absent); a double-quoted value may
# contain spaces.
opt() {
    _q=$(sed -n "s/.*vtopo\\.$1=\"\\([^\"]*\\)\".*/\\1/p" /proc/cmdline)
    if [ -n "$_q" ]; then echo "$_q"; return; fi
    # shellcheck disable=SC2013 # words, not lines
    for _w in $(cat /proc/cmdline); do
        case "$_w" in "vtopo.$1="*) echo "${_w#*=}"; return ;; esac
    done
}

finish() { # status
    echo "VTOPO-L1-EXIT v=1;status=$1;uptime=$(now);run=${RUN_S:-0}"
    if [ "$(opt shell)" = 1 ]; then
        echo "VTOPO-L1 shell (exit to power off)"
        setsid sh -c 'exec sh </dev/console >/dev/console 2>&1'
    fi
    drain
    poweroff -f
    sleep 30
}

[ "$(opt debug)" = 1 ] && set -x
[ "$(opt keeplog)" = 1 ] || dmesg -n 1
echo "VTOPO-L1-BOOT v=1;uptime=$(now);arch=$(uname -m);kernel=$(uname -r)"

# Modules, in order (one file name under /lib/modules/l1 per line).
loaded=""
if [ -r /l1/modules ]; then
    while read -r m; do
        [ -n "$m" ] || continue
        if ! insmod "/lib/modules/l1/$m"; then
            echo "VTOPO-L1-ERROR insmod $m failed"
            dmesg | tail -n 20 | sed 's/^/VTOPO-L1-KLOG /'
            finish 125
        fi
        loaded="$loaded${loaded:+,}${m%.ko}"
    done </l1/modules
fi

wait_s=$(opt kvmwait)
wait_s=${wait_s:-60}
t0=$(now)
limit=$(awk -v t="$t0" -v w="$wait_s" 'BEGIN { print t + w }')
until [ -c /dev/kvm ]; do
    if awk -v n="$(now)" -v l="$limit" 'BEGIN { exit !(n > l) }'; then
        echo "VTOPO-L1-ERROR no /dev/kvm after ${wait_s}s"
        dmesg | grep -i -E 'kvm|svm|hyp' | sed 's/^/VTOPO-L1-KLOG /'
        finish 125
    fi
    sleep 0.05
done
t1=$(now)
dmesg | grep -i -E 'kvm' | sed 's/^/VTOPO-L1-KLOG /'
echo "VTOPO-L1-KVM v=1;uptime=$t1;wait=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }');modules=$loaded"

cmd=$(opt run)
if [ -z "$cmd" ] && [ -x /l1/run ]; then cmd=/l1/run; fi
status=0
if [ -n "$cmd" ]; then
    cd /l1 2>/dev/null || cd /
    limit=$(opt cmdtimeout)
    mkfifo /tmp/l1-out
    sed 's/^/L1| /' </tmp/l1-out &
    prefixer=$!
    r0=$(now)
    if [ -n "$limit" ]; then
        timeout -s KILL "$limit" sh -c "$cmd" >/tmp/l1-out 2>&1 </dev/null
        status=$?
        # busybox timeout: 128+9 when it killed the command. Its children may still hold
        # the output pipe: kill every process but PID 1.
        if [ "$status" -eq 137 ]; then
            kill -KILL -1 2>/dev/null
            echo "VTOPO-L1-ERROR command killed after ${limit}s"
            status=124
        fi
    else
        sh -c "$cmd" >/tmp/l1-out 2>&1 </dev/null
        status=$?
    fi
    r1=$(now)
    wait "$prefixer"
    RUN_S=$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.2f", b - a }')
fi
finish "$status"
