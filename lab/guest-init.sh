#!/bin/sh
# vtopo guest-lab /init (busybox ash). Runs as PID 1 of the test initramfs.
#
# Prints the guest's view of its CPU/NUMA topology as machine-readable console lines:
#   VTOPO-INIT   v=1;uptime=U  the init started (once, first)
#   VTOPO-ACPI   k=v;...   firmware ACPI table headers (once, at boot)
#   VTOPO-GUEST  k=v;...   CPU sets, per-CPU ids, per-node cpus/memory/distances
#   VTOPO-DMESG  k=v;...   kernel log lines about ACPI problems and table upgrades
#   VTOPO-TABLE  k=v;...   one firmware ACPI table, base64 (vtopo.dumpacpi=1 or `tables`)
# Format: docs/lab.md ("Output lines"). Values never contain ';'; in VTOPO-DMESG and
# VTOPO-ACPI values '%' and ';' are percent-encoded (%25, %3B).
#
# Then it stays alive (unless vtopo.poweroff=1): a busybox `uevent` netlink listener onlines
# hot-added CPUs and prints a fresh report on every CPU add/remove, and the console accepts
# one-word commands (see usage below).
#
# Kernel command line options:
#   vtopo.poweroff=1   power off right after the first report (boot-only tests)
#   vtopo.keeplog=1    keep the kernel's console loglevel (default: lowered to 1 when init
#                      starts so kernel messages cannot interleave with report lines)
#   vtopo.dumpacpi=1   also print every firmware ACPI table as a VTOPO-TABLE line (base64)
#   vtopo.devmem=A:W:V[,...]  devmem writes (address, width in bits, value) before the
#                      first report, each echoed as VTOPO-DEVMEM (malicious-guest tests)
#   vtopo.bootlog=1    after the first report, print the kernel log as VTOPO-KLOG lines
#                      (boot-time studies: with initcall_debug, only initcalls that took
#                      10 ms or more are kept; every printed byte is a console exit)
#   vtopo.debug=1      set -x

export PATH=/bin:/sbin:/usr/bin:/usr/sbin

# ---------------------------------------------------------------------------------------
# Report builders
# ---------------------------------------------------------------------------------------

# Read the first line of a plain-text file into the variable named $1 ("" if unreadable),
# with the shell's read builtin (no fork). Not for the CPU-list files under topology/ and
# node*/cpulist: those are sysfs *binary* attributes in 6.x and ash's `read` gets nothing
# from them (awk's getline and cat work).
rd() {
    _v=""
    [ -r "$2" ] && read -r _v <"$2" 2>/dev/null
    eval "$1=\$_v"
}

# The report is built by ONE awk program (each fork+exec costs about 10 ms under QEMU's
# software emulation, so no per-attribute `cat`). It prints two lines:
#   VTOPO-GUEST ...   topology
#   VTOPO-DMESG ...   kernel log lines about ACPI problems / table upgrades (percent-encoded)
# Kernel log lines counted as ACPI problems (case-insensitive): /ACPI.*(error|warn|bug)/ or
# /firmware bug/, minus the benign "PCI: Using host bridge windows from ACPI; ... report a bug".
REPORT_AWK='
function rd(f,   l, r) { l = ""; r = (getline l < f); close(f); return r > 0 ? l : "" }
function has(f,   l, r) { r = (getline l < f); close(f); return r >= 0 }
function csv(s) { gsub(/[ \t]+/, ",", s); sub(/^,/, "", s); sub(/,$/, "", s); return s }
function penc(s) { gsub(/%/, "%25", s); gsub(/;/, "%3B", s); gsub(/[\001-\037\177]/, "", s); return s }
function nsort(str, A,   n, i, j, t) {   # numeric sort of a space-separated list into A[1..n]
    n = split(str, A, " ")
    for (i = 2; i <= n; i++) { t = A[i] + 0; for (j = i - 1; j >= 1 && A[j] + 0 > t; j--) A[j + 1] = A[j]; A[j + 1] = t }
    return n
}
BEGIN {
    S = "/sys/devices/system/cpu"; N = "/sys/devices/system/node"
    split(rd("/proc/uptime"), U, " ")
    o = "v=1;seq=" SEQ ";event=" EV ";uptime=" U[1] ";init_uptime=" IUP ";arch=" ARCH ";kernel=" KREL
    o = o ";online=" rd(S "/online") ";possible=" rd(S "/possible") ";present=" rd(S "/present")
    if (has(S "/enabled")) o = o ";enabled=" rd(S "/enabled")
    if (has(S "/offline")) o = o ";offline=" rd(S "/offline")
    while ((getline l < "/proc/cpuinfo") > 0) {      # x86: APIC id of each online CPU
        if (l ~ /^processor[ \t]*:/) { sub(/^[^:]*: */, "", l); p = l }
        else if (l ~ /^apicid[ \t]*:/) { sub(/^[^:]*: */, "", l); apic[p] = l }
    }
    close("/proc/cpuinfo")
    nm = split(CPUNODE, M, " ")                     # "cpu:node ..." from the cpuN/nodeM links
    for (i = 1; i <= nm; i++) { split(M[i], kv, ":"); node[kv[1]] = kv[2] }
    n = nsort(CPUS, C)
    list = ""; for (i = 1; i <= n; i++) list = list (i > 1 ? "," : "") C[i]
    o = o ";cpus=" list
    for (i = 1; i <= n; i++) {
        c = C[i]; d = S "/cpu" c; t = d "/topology"; k = ";cpu" c "."
        o = o k "online=" (has(d "/online") ? rd(d "/online") : 1)   # cpu0 may lack "online"
        if (has(t "/core_id")) {
            o = o k "package=" rd(t "/physical_package_id")
            if (has(t "/die_id")) o = o k "die=" rd(t "/die_id")
            if (has(t "/cluster_id")) o = o k "cluster=" rd(t "/cluster_id")
            o = o k "core=" rd(t "/core_id")
            o = o k "threads=" rd(t "/thread_siblings_list")
            if (has(t "/cluster_cpus_list")) o = o k "cluster_cpus=" rd(t "/cluster_cpus_list")
            o = o k "package_cpus=" rd(t "/package_cpus_list")
        }
        cl = ""                                     # caches: level:type:size:shared_cpu_list, "|"-separated
        for (x = 0; has(d "/cache/index" x "/level"); x++) {
            ix = d "/cache/index" x
            cl = cl (x ? "|" : "") rd(ix "/level") ":" rd(ix "/type") ":" rd(ix "/size") ":" rd(ix "/shared_cpu_list")
        }
        if (cl != "") o = o k "caches=" cl
        if (c in node) o = o k "node=" node[c]
        if (c in apic) o = o k "apicid=" apic[c]
    }
    if (has(N "/online")) {
        o = o ";nodes_possible=" rd(N "/possible") ";nodes_online=" rd(N "/online")
        n = nsort(NODES, D)
        list = ""; for (i = 1; i <= n; i++) list = list (i > 1 ? "," : "") D[i]
        o = o ";nodes=" list
        for (i = 1; i <= n; i++) {
            d = N "/node" D[i]; k = ";node" D[i] "."
            o = o k "cpus=" rd(d "/cpulist")
            mt = ""
            while ((getline l < (d "/meminfo")) > 0) if (l ~ /MemTotal:/) { split(l, F, " "); mt = F[4] }
            close(d "/meminfo")
            o = o k "mem_kb=" mt k "distance=" csv(rd(d "/distance"))
        }
    }
    np = 0; nu = 0; dl = ""
    while (("dmesg" | getline l) > 0) {
        sub(/^\[[ 0-9.]*\] /, "", l); lo = tolower(l)
        if (l ~ /ACPI: Table Upgrade/) dl = dl ";upgrade." nu++ "=" penc(l)
        else if ((lo ~ /acpi.*(error|warn|bug)/ || lo ~ /firmware bug/) && lo !~ /pci=nocrs/) dl = dl ";problem." np++ "=" penc(l)
    }
    close("dmesg")
    print "VTOPO-GUEST " o ";acpi_problems=" np ";acpi_upgrades=" nu
    print "VTOPO-DMESG v=1;seq=" SEQ ";problems=" np ";upgrades=" nu dl
}'

guest_line() { # $1 = seq, $2 = event
    cpus="" cpunode="" nodes=""
    for d in /sys/devices/system/cpu/cpu[0-9]*; do
        [ -d "$d" ] || continue
        c=${d##*/cpu}
        cpus="$cpus $c"
        for l in $d/node[0-9]*; do [ -e "$l" ] && cpunode="$cpunode $c:${l##*/node}"; done
    done
    for d in /sys/devices/system/node/node[0-9]*; do [ -d "$d" ] && nodes="$nodes ${d##*/node}"; done
    awk -v SEQ="$1" -v EV="$2" -v IUP="$INIT_UPTIME" -v ARCH="$ARCH" -v KREL="$KREL" \
        -v CPUS="$cpus" -v CPUNODE="$cpunode" -v NODES="$nodes" "$REPORT_AWK" </dev/null
}

# Short line printed as soon as a CPU event is handled (before the full report).
event_line() { # $1 = seq, $2 = event
    rd up /proc/uptime; rd on /sys/devices/system/cpu/online; rd pr /sys/devices/system/cpu/present
    echo "VTOPO-EVENT v=1;seq=$1;event=$2;uptime=${up%% *};online=$on;present=$pr"
}

# Firmware ACPI table headers: signature, length, revision, OEM ID, OEM table ID, OEM revision.
# One head + od + awk for all tables (the first 36 bytes of each are its header).
acpi_line() {
    T=/sys/firmware/acpi/tables
    names="" files=""
    for f in $T/*; do
        [ -f "$f" ] || continue
        names="$names ${f##*/}"
        files="$files $f"
    done
    if [ -z "$files" ]; then echo "VTOPO-ACPI v=1;tables="; return; fi
    head -q -c 36 $files | od -An -v -tu1 -w36 | awk -v NAMES="$names" '
        function u32(i) { return $i + 256 * $(i + 1) + 65536 * $(i + 2) + 16777216 * $(i + 3) }
        function str(a, b,   s, i) { s = ""; for (i = a; i <= b; i++) if ($i >= 32 && $i != 37 && $i != 59 && $i < 127) s = s sprintf("%c", $i); else s = s sprintf("%%%02X", $i); return s }
        BEGIN { n = split(NAMES, N, " "); o = "v=1" }
        {
            t = N[NR]; o = o ";" t ".len=" u32(5)
            if (t != "FACS")   # FACS has no standard header past the length
                o = o ";" t ".rev=" $9 ";" t ".oem_id=" str(11, 16) ";" t ".oem_table_id=" str(17, 24) ";" t ".oem_rev=" u32(25)
        }
        END { l = ""; for (i = 1; i <= n; i++) l = l (i > 1 ? "," : "") N[i]; print "VTOPO-ACPI " o ";tables=" l }'
}

# Every firmware table, base64, one line each: VTOPO-TABLE name=SIG;len=N;b64=...
# (name as in /sys/firmware/acpi/tables, e.g. SSDT1; dynamic/ tables are not included).
tables_dump() {
    for f in /sys/firmware/acpi/tables/*; do
        [ -f "$f" ] || continue
        echo "VTOPO-TABLE name=${f##*/};len=$(wc -c <"$f");b64=$(base64 -w0 "$f")"
    done
}

# Wait until the console's output has been transmitted (busybox stty sets with TCSADRAIN).
drain() { stty -F /dev/console -tostop 2>/dev/null || true; }

seq_next() { # sets SEQ (no command substitution: a fork costs tens of ms in a nested guest)
    # A counter shared by PID 1 and the uevent handlers (they run one at a time).
    SEQ=0
    [ -r /run/vtopo.seq ] && read -r SEQ </run/vtopo.seq
    SEQ=$((SEQ + 1))
    echo $SEQ >/run/vtopo.seq
}

report() { # event
    seq_next
    case "$1" in add:*|remove:*|online:*|offline:*) event_line "$SEQ" "$1" ;; esac
    guest_line "$SEQ" "$1"
}

# ---------------------------------------------------------------------------------------
# uevent handler mode: busybox `uevent /init --uevent` runs us once per netlink message with
# ACTION, DEVPATH, SUBSYSTEM in the environment.
# ---------------------------------------------------------------------------------------
if [ "${1:-}" = "--uevent" ]; then
    [ "${SUBSYSTEM:-}" = cpu ] || exit 0
    cpu=${DEVPATH##*/}
    case "$cpu" in cpu[0-9]*) ;; *) exit 0 ;; esac
    case "${ACTION:-}" in
        add)
            f=/sys$DEVPATH/online
            if [ -e "$f" ]; then
                rd st "$f"
                [ "$st" = 1 ] || echo 1 >"$f" 2>/dev/null || echo "VTOPO-WARN online $cpu failed"
            fi
            report "add:$cpu" >/dev/console 2>&1
            ;;
        remove)
            report "remove:$cpu" >/dev/console 2>&1
            ;;
    esac
    exit 0
fi

# ---------------------------------------------------------------------------------------
# PID 1
# ---------------------------------------------------------------------------------------
# The first line, before anything else forks (each fork+exec costs tens of milliseconds
# under emulation, more in a nested guest): "boot to init" timings end at this line. It is
# short (a report line is kilobytes, and on a nested VMM's console every byte is an exit).
# /proc is in the image (scripts/mkinitramfs.sh). The kernel opened /dev/console for init
# if the node exists in the initramfs; otherwise the line follows the re-open below.
/bin/busybox mount -t proc proc /proc
read -r INIT_UPTIME _ </proc/uptime
init_line() {
    # UEFI leaves clear-screen escape sequences on the serial line without a newline: start
    # on a fresh line so that report lines begin with their marker.
    echo
    echo "VTOPO-INIT v=1;uptime=$INIT_UPTIME"
}
if [ -t 1 ]; then init_line; INIT_LINE=1; fi
/bin/busybox mkdir -p /sys /dev /run /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s 2>/dev/null
ARCH=$(uname -m)
KREL=$(uname -r)
export INIT_UPTIME ARCH KREL   # also seen by the uevent handlers
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mount -t tmpfs tmpfs /dev
mount -t tmpfs tmpfs /run
exec </dev/console >/dev/console 2>&1
[ "${INIT_LINE:-}" = 1 ] || init_line
# Machine-driven console: do not echo commands back (responses are VTOPO-* lines).
stty -F /dev/console -echo 2>/dev/null

opt() { # value of vtopo.$1= on the kernel command line, "" if absent
    for w in $(cat /proc/cmdline); do
        case "$w" in "vtopo.$1="*) echo "${w#*=}"; return ;; esac
    done
}
[ "$(opt debug)" = 1 ] && set -x
# Keep kernel messages off the console so they cannot split report lines (dmesg keeps them).
[ "$(opt keeplog)" = 1 ] || dmesg -n 1

# vtopo.devmem=ADDR:WIDTH:VALUE[,...]: writes the guest makes with busybox devmem before its
# first report (the nested lab's "nonsense in the hotplug registers" scenario). One
# VTOPO-DEVMEM line per write: the VMM must shrug them off.
for w in $(opt devmem | tr ',' ' '); do
    a=${w%%:*}; r=${w#*:}; wd=${r%%:*}; v=${r#*:}
    if devmem "$a" "$wd" "$v" 2>/dev/null; then st=0; else st=$?; fi
    echo "VTOPO-DEVMEM v=1;addr=$a;width=$wd;value=$v;status=$st"
done
report boot
acpi_line
[ "$(opt dumpacpi)" = 1 ] && tables_dump
if [ "$(opt bootlog)" = 1 ]; then
    dmesg | awk '/ calling  / { next }
        / initcall .* returned .* after [0-9]+ usecs/ { u = $0; sub(/ usecs.*/, "", u); sub(/.* after /, "", u); if (u + 0 < 10000) next }
        { print "VTOPO-KLOG " $0 }'
fi
if [ "$(opt poweroff)" = 1 ]; then
    drain
    poweroff -f
    sleep 10
fi
# CPU add/remove listener (CONFIG_UEVENT_HELPER is unset: netlink).
uevent /init --uevent &

echo "VTOPO-READY commands: report | online N | offline N | acpi | tables | dmesg | poweroff"
# Blocking console reader (busybox `read -t` drops bytes on timeout: no timeout here).
while :; do
    if ! read -r cmd arg; then sleep 1; continue; fi
    case "$cmd" in
        "") ;;
        report) report cmd ;;
        acpi) acpi_line ;;
        tables) tables_dump ;;
        online|offline)
            case "$arg" in ''|*[!0-9]*) echo "VTOPO-ERROR usage: $cmd CPU_NUMBER"; continue ;; esac
            v=1; [ "$cmd" = offline ] && v=0
            if echo $v >/sys/devices/system/cpu/cpu$arg/online 2>/dev/null; then
                report "$cmd:cpu$arg"
            else
                echo "VTOPO-ERROR $cmd cpu$arg failed"
            fi
            ;;
        dmesg) dmesg | tail -n 40 ;;
        poweroff) drain; poweroff -f ;;
        *) echo "VTOPO-ERROR unknown command: $cmd" ;;
    esac
done
