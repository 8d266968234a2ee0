#!/usr/bin/env bash
# Every test: the workspace's unit, integration and PyTorch-interoperability tests, then
# every notebook executed headlessly on the evcxr kernel, after the lint gate (fmt, clippy,
# binary size). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --notebooks
start=$(date +%s)
bash scripts/lint.sh
# A one-node SLURM for the cluster tests (stopped again however the tests end).
bash scripts/slurm_local.sh start >/dev/null
trap 'bash scripts/slurm_local.sh stop >/dev/null' EXIT
export SLURM_CONF=${GCNET_SLURM_DIR:-/tmp/gcnet-slurm}/slurm.conf
# Every test binary runs even after a failure, so one run names every failing test.
cargo test --release --workspace --no-fail-fast
if compgen -G "notebooks/*.ipynb" >/dev/null; then
  .venv/bin/python scripts/run_notebooks.py notebooks/*.ipynb
fi
echo "[test] all tests passed in $(( $(date +%s) - start )) s (after setup)"
