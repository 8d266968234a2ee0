// Links libtorch with an rpath, so binaries and tests run without LD_LIBRARY_PATH, and
// keeps libtorch_cuda linked: the linker would otherwise drop it as unneeded and CUDA
// would silently be unavailable. Shared with the `gcnet` crate's build script.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let libtorch = std::env::var_os("LIBTORCH").map(PathBuf::from).unwrap_or_default();
    let lib = libtorch.join("lib");
    if !lib.join("libtorch_cpu.so").exists() {
        panic!(
            "\n\nlibtorch not found at {}.\nRun `bash scripts/setup.sh` in the repository root first: it installs the \
             PyTorch wheel that tch needs into .venv and links it as .libtorch.\n\n",
            lib.display()
        );
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
