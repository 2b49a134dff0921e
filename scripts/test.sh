#!/usr/bin/env bash
# The test command: everything the tests need is installed by scripts/setup.sh
# and scripts/fetch-kernels.sh (when present), then the whole workspace's tests
# run. .ci/run calls this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -x scripts/setup.sh ]]; then
    scripts/setup.sh
fi
# The guest tests (tests/guest.rs) boot Debian's 6.12 kernels: downloaded once
# into .cache/kernels/, then reused without any apt access (a cached run takes
# a few milliseconds).
if [[ -x scripts/fetch-kernels.sh ]]; then
    scripts/fetch-kernels.sh
fi
# insta never writes snapshots here: a mismatch fails the run.
export INSTA_UPDATE=no
cargo test --workspace --locked "$@"
