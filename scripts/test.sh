#!/usr/bin/env bash
# `make test`: starts a real single-node Slurm for the cluster tests (when it
# can), then runs the whole workspace test suite on the release build.
set -euo pipefail
cd "$(dirname "$0")/.."

if scripts/slurm-up.sh; then
  trap 'scripts/slurm-down.sh' EXIT
else
  echo "test: Slurm is not available; the Slurm tests will skip (they fail under CI=true)" >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --release --locked --workspace --no-fail-fast
else
  cargo test --release --locked --workspace --no-fail-fast
fi
