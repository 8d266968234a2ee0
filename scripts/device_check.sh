#!/usr/bin/env bash
# The GPU check, in one command on a machine with an NVIDIA GPU (under 8 minutes there):
# the network tests on CUDA (equivariance, losses, hand-written gradients against
# autograd, checkpoints; a CUDA network keeps the dense route, the site-first block sums
# being CPU code), `gcnet bench --device cuda` in f64 and f32, the PyTorch
# baseline on the same GPU, and `gcnet onsager` on CUDA against the CPU; then one table.
#
#   bash scripts/device_check.sh            # writes device_check.txt too
#
# It needs the PyTorch wheel (CUDA build) as libtorch: `bash scripts/setup.sh` installs it
# where the package registries can be reached; elsewhere LIBTORCH may point at an installed
# torch (its package folder, e.g. $(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')).
set -euo pipefail
cd "$(dirname "$0")/.."
out=device_check.txt
log() { printf '[device] %s\n' "$*" >&2; }
if [ -z "${LIBTORCH:-}" ] && [ ! -e .libtorch ]; then
  log "no .libtorch: running scripts/setup.sh"
  bash scripts/setup.sh
fi
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2
$PY -c 'import torch,sys; ok=torch.cuda.is_available(); print("torch", torch.__version__, "CUDA", torch.version.cuda, "available:", ok, file=sys.stderr); sys.exit(0 if ok else 1)' ||
  { log "PyTorch sees no CUDA device: nothing to check"; exit 1; }

log "building (release)"
cargo build --release -p gcnet 2>&1 | tail -n 3 >&2

log "network tests on CUDA"
t0=$(date +%s)
tests_ok=passed
GCNET_TEST_DEVICE=cuda cargo test --release -p gcnet-net --lib --test network --test losses --test checkpoint \
  2>&1 | tee /tmp/device_tests.log | grep -E '^test |test result' >&2 || tests_ok=FAILED
grep -q "FAILED\|panicked" /tmp/device_tests.log && tests_ok=FAILED
t_tests=$(( $(date +%s) - t0 ))

log "gcnet bench on CUDA (f64 and f32)"
bench=$(target/release/gcnet bench --device cuda --samples 1024 2>&1 | tee /dev/stderr)
# The CPU thread count (gcnet_kernels::threads: affinity, cgroup, SLURM_CPUS_PER_TASK,
# OMP_NUM_THREADS, --threads) is for CPU work: on CUDA the bench header names no count.
cuda_threads=ok
grep "^gcnet bench:" <<<"$bench" | grep -q " thread" && cuda_threads="FAILED (the CPU thread logic ran on CUDA)"
log "PyTorch baseline on the same GPU"
py64=$($PY scripts/bench_pytorch.py --device cuda --samples 1024 --dtype f64 | tee /dev/stderr)
py32=$($PY scripts/bench_pytorch.py --device cuda --samples 1024 --dtype f32 | tee /dev/stderr)

log "gcnet onsager on CUDA against the CPU (64-site three-species gas, 2 epochs)"
od=$(mktemp -d)
G=$PWD/target/release/gcnet
onsager="FAILED"
if (cd "$od" && "$G" crystal --size 4 -o c.h5 >/dev/null && "$G" latgas --crystal c.h5 -o g.h5 -n 300 --rates 1,0.1,0.01 \
      --counts 21,21,21 --seed 1 >/dev/null && mkdir cpu cuda &&
    for dev in cpu cuda; do (cd "$dev" && "$G" onsager -DP ../g.h5 -cr ../c.h5 -td 1 -vSp 3 -nt 200 -eep 2 --device "$dev" \
      >/dev/null 2>&1) || exit 1; done); then
  onsager=$($PY -c "import numpy as np; a=np.load('$od/cpu/onsager_val_1.npy'); b=np.load('$od/cuda/onsager_val_1.npy'); r=abs(a-b).max()/abs(a).max(); print(('ok' if r < 1e-6 else 'FAILED') + f', largest difference {r:.1e} (relative)')")
fi
rm -rf "$od"

rate() { grep -oE "$1[^:]*: [0-9.]+ samples/s" <<<"$2" | head -n 1 | grep -oE '[0-9.]+ samples/s' | cut -d' ' -f1; }
g64=$(rate "train f64" "$bench"); g32=$(rate "train f32" "$bench"); e64=$(rate "eval f64 after f64" "$bench")
p64=$(grep -oE '[0-9.]+ samples/s' <<<"$py64" | cut -d' ' -f1); p32=$(grep -oE '[0-9.]+ samples/s' <<<"$py32" | cut -d' ' -f1)
{
  echo "GPU check ($(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1))"
  echo "| check | result |"
  echo "|---|---|"
  echo "| network tests on CUDA (equivariance, losses, gradients vs autograd, checkpoints) | $tests_ok in ${t_tests} s |"
  echo "| CPU thread logic kept off the CUDA path | $cuda_threads |"
  echo "| gcnet onsager on CUDA equals the CPU's validation matrix | $onsager |"
  echo "| gcnet train f64 (-nl 6 -nch 8, batch 128) | $g64 samples/s |"
  echo "| gcnet train f32 | $g32 samples/s |"
  echo "| gcnet eval f64 | $e64 samples/s |"
  echo "| PyTorch autograd train f64 / f32 (same network) | $p64 / $p32 samples/s |"
  awk -v a="$g64" -v b="$p64" -v c="$g32" -v d="$p32" 'BEGIN { if (b > 0 && d > 0) printf "| gcnet / PyTorch | %.2fx f64, %.2fx f32 |\n", a / b, c / d }'
} | tee "$out"
[ "$tests_ok" = passed ] && [ "$cuda_threads" = ok ] && [ "${onsager%%,*}" = ok ]
