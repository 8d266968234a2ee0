#!/usr/bin/env bash
# One setup path for both README commands. Idempotent: every step checks first and
# does nothing when what it installs is already there.
#   bash scripts/setup.sh              # system packages, .venv with torch, .libtorch link
#   bash scripts/setup.sh --notebooks  # ... plus what the tests need: rustfmt, clippy, SLURM, the evcxr kernel
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVCXR_VERSION=0.22.0
NOTEBOOKS=0
for arg in "$@"; do
  case $arg in
    --notebooks) NOTEBOOKS=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. Debian packages: HDF5 (library + headers) for hdf5-metno, pkg-config to find it,
#    a TrueType font for plot labels.
need_pkgs=()
for p in libhdf5-dev pkg-config fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  step "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# 2. Project-local Python environment; the torch wheel is our libtorch (CPU and CUDA).
if [ ! -x .venv/bin/python ]; then
  step "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "installing Python packages (torch 2.13.0 is ~4.8 GB, about 2 minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r scripts/requirements.txt
  echo "$want" >"$stamp"
fi
torch_dir=$(.venv/bin/python -c 'import importlib.util as u; print(u.find_spec("torch").submodule_search_locations[0])')
if [ "$(readlink .libtorch 2>/dev/null)" != "$torch_dir" ]; then
  ln -sfn "$torch_dir" .libtorch
fi

# 3. For the tests (with --notebooks): rustfmt and clippy, which gate them (a minimal
#    rustup profile lacks both), and the evcxr Jupyter kernel: pinned, built once per machine.
if ((NOTEBOOKS)); then
  export PATH="$HOME/.cargo/bin:$PATH"
  # Debian's SLURM and munge for the cluster tests (scripts/slurm_local.sh runs them).
  bash scripts/slurm_local.sh install
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    step "adding the rustfmt and clippy components"
    rustup component add rustfmt clippy
  fi
  # evcxr_jupyter has no --version; cargo's install record tells which one is there.
  if ! command -v evcxr_jupyter >/dev/null ||
    ! grep -q "\"evcxr_jupyter $EVCXR_VERSION " "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" 2>/dev/null; then
    step "building evcxr_jupyter $EVCXR_VERSION (about 9 minutes on 2 cores, once per machine)"
    cargo install evcxr_jupyter --version "$EVCXR_VERSION" --locked --quiet
  fi
  if [ -x kernel/install.sh ] || [ -f kernel/install.sh ]; then
    bash kernel/install.sh
  fi
fi
step "ready (libtorch: $torch_dir)"
