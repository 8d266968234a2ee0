#!/usr/bin/env bash
# Installs the "gcnet-rust" Jupyter kernel (evcxr) into the project's .venv (or the
# environment of $GCNET_PYTHON), so that
# `.venv/bin/jupyter lab` and the notebook tests find it. Idempotent; run by
# `bash scripts/setup.sh --notebooks`.
#
# What the kernel gets that a plain evcxr kernel lacks:
# - LIBTORCH / LD_LIBRARY_PATH for the PyTorch wheel that tch links against;
# - GOMP_SPINCOUNT=3000, as the gcnet binary runs (fast on shared cores);
# - the release profile's settings for what evcxr compiles (opt-level 3 in
#   kernel/evcxr.toml; debug assertions and overflow checks off here, through cargo's
#   CARGO_PROFILE_DEV_* variables, which override the profile evcxr writes): evcxr's
#   defaults made notebook training 5.5x slower than the binary (docs/DECISIONS.md);
# - an evcxr config (kernel/evcxr.toml, kernel/init.evcxr) that turns on evcxr's build
#   cache (~/.cache/evcxr, 8 GB), so every notebook session reuses the compiled workspace
#   crates, tch and polars instead of rebuilding them (the first notebook ever run on a
#   machine pays once).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVCXR=$(command -v evcxr_jupyter || true)
[ -n "$EVCXR" ] || EVCXR="$HOME/.cargo/bin/evcxr_jupyter"
[ -x "$EVCXR" ] || { echo "kernel/install.sh: evcxr_jupyter not found; run bash scripts/setup.sh --notebooks" >&2; exit 1; }
LIBTORCH="$ROOT/.libtorch"
[ -e "$LIBTORCH/lib/libtorch_cpu.so" ] || { echo "kernel/install.sh: $LIBTORCH missing; run bash scripts/setup.sh" >&2; exit 1; }

# The Python environment that runs Jupyter: the project's .venv, or (conda users) any
# other named by GCNET_PYTHON.
PY="${GCNET_PYTHON:-$ROOT/.venv/bin/python}"
PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
CONFIG_DIR="$PREFIX/share/gcnet/evcxr"
KERNEL_DIR="$PREFIX/share/jupyter/kernels/gcnet-rust"
mkdir -p "$CONFIG_DIR" "$KERNEL_DIR"
cp kernel/evcxr.toml kernel/init.evcxr "$CONFIG_DIR/"

LD="$LIBTORCH/lib"
export ROOT EVCXR LIBTORCH LD CONFIG_DIR KERNEL_DIR
"$PY" - <<'PY'
import json, os
e = os.environ
spec = {
    "argv": [e["EVCXR"], "--control_file", "{connection_file}"],
    "display_name": "Rust (gcnet)",
    "language": "rust",
    "interrupt_mode": "message",
    "env": {
        "LIBTORCH": e["LIBTORCH"],
        "LIBTORCH_CXX11_ABI": "1",
        "LD_LIBRARY_PATH": e["LD"],
        "EVCXR_CONFIG_DIR": e["CONFIG_DIR"],
        "GCNET_ROOT": e["ROOT"],
        # The short OpenMP spin that the gcnet binary sets by restarting itself
        # (gcnet_kernels::threads::SPIN_COUNT): libgomp reads it when the kernel loads
        # libtorch, so a notebook sharing its cores is not slowed by its own idle threads.
        "GOMP_SPINCOUNT": "3000",
        "CARGO_PROFILE_DEV_DEBUG_ASSERTIONS": "false",
        "CARGO_PROFILE_DEV_OVERFLOW_CHECKS": "false",
    },
}
path = os.path.join(e["KERNEL_DIR"], "kernel.json")
text = json.dumps(spec, indent=2) + "\n"
if not os.path.exists(path) or open(path).read() != text:
    open(path, "w").write(text)
    print(f"[setup] installed Jupyter kernel gcnet-rust ({path})")
PY
