#!/usr/bin/env bash
# Compile-time benchmark, both sides in one run (issue: ACPI table compiler):
#  - vtopo: the whole `vtopo compile` process for the 4096-CPU / 64-node arm64
#    topology (plan + every table + manifest + files), median of N runs;
#  - iasl: compiling an equivalent DSDT from ASL (our DSDT disassembled by
#    `iasl -d`), median of M runs.
# Targets: vtopo <= 10 ms; vtopo >= 100x faster than iasl on the DSDT alone.
# Usage: scripts/bench-compile.sh [TOPOLOGY] [N] [M]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
topology="${1:-topologies/arm64-4096.toml}"
runs="${2:-30}"
iasl_runs="${3:-5}"
command -v iasl >/dev/null || { echo "bench-compile: iasl missing (scripts/setup.sh installs acpica-tools)" >&2; exit 2; }
cargo build --release --locked -q
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
./target/release/vtopo compile "$topology" -o "$work/ref" >/dev/null
(cd "$work/ref" && iasl -d DSDT.aml >/dev/null 2>&1)
python3 - "$topology" "$runs" "$iasl_runs" "$work" <<'PY'
import os, shutil, statistics, subprocess, sys, time
topology, runs, iasl_runs, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def timed(cmd, cwd=None):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t
vt = []
for i in range(runs):
    out = os.path.join(work, f"o{i}")
    vt.append(timed(["./target/release/vtopo", "compile", topology, "-o", out]))
    shutil.rmtree(out)
ia = [timed(["iasl", "-p", os.path.join(work, "recompiled"), "DSDT.dsl"], cwd=os.path.join(work, "ref")) for _ in range(iasl_runs)]
dsdt = os.path.getsize(os.path.join(work, "ref", "DSDT.aml"))
total = sum(os.path.getsize(os.path.join(work, "ref", f)) for f in os.listdir(os.path.join(work, "ref")) if f.endswith(".aml"))
m_vt, m_ia = statistics.median(vt), statistics.median(ia)
print(f"| measurement ({topology}) | median | min | max | n |")
print("| --- | --- | --- | --- | --- |")
print(f"| vtopo compile, whole process, all tables ({total} bytes) | {m_vt*1e3:.2f} ms | {min(vt)*1e3:.2f} ms | {max(vt)*1e3:.2f} ms | {runs} |")
print(f"| iasl compiling the equivalent DSDT ASL ({dsdt} bytes of AML) | {m_ia*1e3:.0f} ms | {min(ia)*1e3:.0f} ms | {max(ia)*1e3:.0f} ms | {iasl_runs} |")
print(f"| ratio iasl DSDT / vtopo all tables | {m_ia/m_vt:.0f}x | | | |")
ok = m_vt <= 0.010 and m_ia / m_vt >= 100
print(f"targets (<= 10 ms, >= 100x): {'met' if ok else 'NOT met'}")
PY
