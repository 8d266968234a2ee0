#!/usr/bin/env bash
# The checks that gate the tests: formatting, clippy with warnings as errors (the
# workspace lints are in Cargo.toml), and the size of the binary's front end.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[lint] cargo fmt --check"
cargo fmt --all --check
echo "[lint] cargo clippy (release profile, all targets, -D warnings)"
cargo clippy --release --workspace --all-targets -- -D warnings
python3 scripts/binary_lines.py
