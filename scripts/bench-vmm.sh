#!/usr/bin/env bash
# vtopo's VMM against QEMU 10 with KVM, both in the same x86 nested-lab L1 run
# (docs/benchmarks.md): L2 boot (process start to the L2 init), hot-add and remove latency,
# VMM RSS outside guest RAM. Prints a markdown table with the ratios and the targets.
#
# Usage: scripts/bench-vmm.sh [RUNS] [CYCLES]   (defaults 5 boots of each VMM, 5 cycles each)
# Needs what the tests need (scripts/setup.sh, scripts/fetch-kernels.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VTOPO_BENCH_RUNS=${1:-5} VTOPO_BENCH_CYCLES=${2:-5} \
    cargo test --locked --test integration nested::bench_x86_vtopo_against_qemu -- --ignored --nocapture
