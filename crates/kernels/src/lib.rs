//! The CPU kernels of the GCNet layers, behind a small safe API that checks shapes, kinds,
//! devices and index bounds. This is the workspace's one crate with `unsafe` code (every
//! other crate has `#![forbid(unsafe_code)]`): raw views of tensor storage, the `gemm`
//! crate's pointer interface, CPU-feature dispatch, and the kernels' thread pool.
//!
//! - [`activation`]: softplus, the mean over the group operations and the softplus slope,
//!   fused in one pass (AVX-512 / AVX2 / baseline chosen at run time), for pre-activations
//!   laid out `(R, Cout, Ng)` or `(R, Ng, Cout)`;
//! - [`block_sum`]: sums of blocks picked from neighbour rows, the group convolution
//!   without its dense product (a layer's forward and backward on the site-first route);
//! - [`products`]: the layers' matrix products, through the `gemm` crate or libtorch as
//!   the caller chooses ([`Products`]);
//! - [`gather`]: the neighbour gather of the forward pass; [`neighbour_sum`]: its backward;
//! - [`allocator`]: glibc allocator tuning for large activations, an explicit call for
//!   programs that want it;
//! - [`threads`]: the thread count from what the process may use (affinity, cgroup quota,
//!   SLURM_CPUS_PER_TASK, OMP_NUM_THREADS) or `--threads`, for the kernels and libtorch.
//!
//! Work is split by one helper (`parallel::for_each_part`) into disjoint pieces made with
//! safe slice splitting, taken from one counter by the calling thread and a small pool of
//! helper threads (as many as libtorch's intra-op threads, less one), so that a helper
//! descheduled by other work on its core never holds the caller up.
//!
//! ```
//! use tch::{Device, Kind, Tensor};
//! // 2 rows of 3 groups of 48 pre-activations -> the mean softplus of each group
//! let mut pre = Tensor::randn([2, 3 * 48], (Kind::Double, Device::Cpu));
//! let want = pre.softplus().view([2, 3, 48]).mean_dim(2, false, None);
//! let h = gcnet_kernels::activation::softplus_group_mean(&mut pre, None, 3, 48, false);
//! assert!((h - want).abs().max().double_value(&[]) < 1e-14);
//! ```

// The workspace denies unsafe code; this crate is the one place it is allowed.
#![allow(unsafe_code)]

pub mod activation;
pub mod allocator;
pub mod block_sum;
pub mod gather;
pub mod neighbour_sum;
mod parallel;
pub mod products;
mod slices;
pub mod threads;

pub use block_sum::{BlockTerms, block_sum, block_sum_activate, block_sum_split};
pub use gather::gather_rows;
pub use neighbour_sum::neighbour_sum;
pub use products::Products;

/// Tests that change libtorch's process-wide thread count hold this, so that they do not
/// run at the same time as each other.
#[cfg(test)]
pub(crate) static THREADS: std::sync::Mutex<()> = std::sync::Mutex::new(());
