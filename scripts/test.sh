#!/usr/bin/env bash
# The test command: everything the tests need is installed by scripts/setup.sh
# (when present), then the whole workspace's tests run. .ci/run calls this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -x scripts/setup.sh ]]; then
    scripts/setup.sh
fi
# insta never writes snapshots here: a mismatch fails the run.
export INSTA_UPDATE=no
cargo test --workspace --locked "$@"
