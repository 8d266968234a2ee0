"""Executes Rust notebooks top to bottom on the gcnet-rust (evcxr) kernel and fails on
the first cell error. Outputs are not written back (notebooks stay stripped in git);
executed copies go to target/notebooks/ for inspection.

    .venv/bin/python scripts/run_notebooks.py notebooks/*.ipynb
"""
import hashlib
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

KERNEL = "gcnet-rust"


# Dependencies whose speed the notebooks do not need (small frames, the C++ shim over
# libtorch), built unoptimised in the test run: polars-core compiles in 28 s instead of
# 308 s (docs/DECISIONS.md). Everything else keeps the kernel's level: the notebooks
# train and run KMC.
UNOPTIMISED = ["polars-core", "polars-compute", "polars-arrow", "polars-row", "torch-sys"]


def shared_build_dir():
    """One evcxr build directory for the notebooks of this run, so that cargo sees the
    workspace crates, tch and polars (and torch-sys's C++ build) as up to date after the
    first notebook. Only safe because notebooks run one after another here; interactive
    kernels keep evcxr's private directories. It lies outside the repository (cargo would
    take the evcxr crate for a stray workspace member) and outside hidden directories
    (evcxr 0.22 fails to load its code from a path under ~/.cache). evcxr writes its own
    Cargo.toml, so the profile overrides go in a cargo config one level up, which cargo
    reads for every build below it."""
    root = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
    key = hashlib.sha256(root.encode()).hexdigest()[:12]
    user = os.environ.get("USER") or str(os.getuid())
    base = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"gcnet-evcxr-{user}-{key}")
    os.makedirs(os.path.join(base, ".cargo"), exist_ok=True)
    with open(os.path.join(base, ".cargo", "config.toml"), "w") as f:
        f.writelines(f"[profile.dev.package.{name}]\nopt-level = 0\n" for name in UNOPTIMISED)
    crate = os.path.join(base, "crate")
    os.makedirs(crate, exist_ok=True)
    return crate


def main(paths):
    os.environ["EVCXR_TMPDIR"] = shared_build_dir()
    out_dir = os.path.join(os.path.dirname(__file__), "..", "target", "notebooks")
    os.makedirs(out_dir, exist_ok=True)
    failed = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.time()
        # The first cell of the first notebook on a machine builds the workspace crates
        # for the kernel: allow it a long time.
        client = NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=2400,
            startup_timeout=120,
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        )
        try:
            client.execute()
            status = "ok"
        except CellExecutionError as err:
            status = "FAILED"
            failed.append(path)
            print(str(err)[-4000:], file=sys.stderr)
        except Exception as err:  # kernel died, timeout
            status = f"FAILED ({type(err).__name__}: {err})"
            failed.append(path)
        nbformat.write(nb, os.path.join(out_dir, os.path.basename(path)))
        print(f"[notebooks] {path}: {status} in {time.time() - start:.0f} s", flush=True)
    if failed:
        print(f"[notebooks] {len(failed)} notebook(s) failed: {' '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: run_notebooks.py NOTEBOOK.ipynb ...")
    main(sys.argv[1:])
