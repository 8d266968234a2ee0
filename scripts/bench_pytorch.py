"""PyTorch baseline for `gcnet bench`: trains the same GCNet (the plain PyTorch model of
crates/net/tests/fixtures/gcnet_torch.py, SPEC section 4 layout) with autograd and Adam on
the same machine, and prints samples/s.

    .venv/bin/python scripts/bench_pytorch.py [--threads N] [--samples N] [--dtype f64|f32] [--device cpu|cuda]

The network is the published default (-nl 6 -nch 8 -ncL 1, batch 128) on the committed
8x8x8 FCC crystal; states are random binary alloys with one vacancy on site 0 and a random
jump, so the cost is that of real data (the values do not matter for the timing).
"""
import argparse
import os
import sys
import time

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "crates", "net", "tests", "fixtures"))
from gcnet_torch import GCNet  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--dtype", choices=["f64", "f32"], default="f64")
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    dev = torch.device(a.device)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    if a.threads:
        torch.set_num_threads(a.threads)
    dtype = torch.float64 if a.dtype == "f64" else torch.float32
    root = os.path.join(os.path.dirname(__file__), "..")
    with h5py.File(os.path.join(root, "CrysDat_FCC", "CrystData.h5"), "r") as f:
        nn_sites = torch.from_numpy(f["NNsiteList_sitewise"][()])
        gnn = torch.from_numpy(f["GroupNNPermutation"][()])
        dx = torch.from_numpy(f["dxList_1nn"][()])
    z, s = dx.shape[0], nn_sites.shape[1]
    torch.manual_seed(1)
    model = GCNet(gnn, nn_sites, dx.T.contiguous(), 2, 6, 8, 1, 0.02, 0.2).to(dtype).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=0.001, weight_decay=0.0005)
    rng = np.random.default_rng(1)

    def states(n):
        x = np.zeros((n, 2, s))
        lab = rng.integers(0, 2, size=(n, s))
        x[np.arange(n)[:, None], lab, np.arange(s)[None, :]] = 1.0
        x[:, :, 0] = 0.0  # the vacancy
        return torch.from_numpy(x).to(dtype).to(dev)

    n = a.samples
    x1, x2 = states(n), states(n)
    disp = torch.from_numpy(dx[rng.integers(0, z, size=n)].numpy()).to(dtype).to(dev)  # (n, 3)

    def step(lo, hi):
        opt.zero_grad()
        y1 = model(x1[lo:hi])[:, 0].sum(dim=2)  # (b, 3): collective vector of the states
        y2 = model(x2[lo:hi])[:, 0].sum(dim=2)
        loss = ((disp[lo:hi] + y2 - y1) ** 2).sum() / 6.0
        loss.backward()
        opt.step()

    step(0, min(a.batch, n))  # warm-up
    sync()
    t = time.perf_counter()
    for lo in range(0, n, a.batch):
        step(lo, min(lo + a.batch, n))
    sync()
    dt = time.perf_counter() - t
    where = f"{torch.get_num_threads()} threads" if dev.type == "cpu" else str(dev)
    print(f"PyTorch {torch.__version__} autograd training, {a.dtype}, {where}, "
          f"nl 6 nch 8 ncL 1, batch {a.batch}: {n / dt:.2f} samples/s")


if __name__ == "__main__":
    main()
