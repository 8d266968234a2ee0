#!/usr/bin/env bash
# The main job on its built-in default: installs what is missing, builds, runs the demo.
# Extra arguments go to `gcnet demo` (see `gcnet demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The build shows cargo's progress (a first build takes several minutes).
cargo build --release -p gcnet
exec target/release/gcnet demo "$@"
