//! The GConv layers' matrix products on the CPU, through the `gemm` crate.
//!
//! libtorch's products go to MKL, whose f64 kernels use 256-bit AVX2 on AMD CPUs even
//! where the core has AVX-512 (perf shows `mkl_blas_def_dgemm_kernel_zen` on ymm
//! registers). The `gemm` crate picks AVX-512 at run time: on the 2-core AMD EPYC
//! development machine its f64 rate for the GConv shapes is about twice MKL's (see the
//! README's speed section, `gcnet bench`). The products run on libtorch's own OpenMP team
//! ([`parallel`]), each thread computing one block of the output with the `gemm` crate's
//! single-threaded driver.
//!
//! Used for CPU tensors in f64 and f32 outside autograd; anything else (CUDA, tensors that
//! need gradients, `GCNET_GEMM=0`) goes to libtorch's `addmm` / `mm` as before.

use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use crate::parallel::{self, Shared};

/// Whether products of `kind` tensors on `device` go through the `gemm` crate: f64 or f32
/// on the CPU unless `GCNET_GEMM=0`.
pub fn gemm_enabled(kind: Kind, device: Device) -> bool {
    static OFF: OnceLock<bool> = OnceLock::new();
    let off = *OFF.get_or_init(|| std::env::var("GCNET_GEMM").is_ok_and(|v| v.trim() == "0"));
    !off && !forced_libtorch() && device == Device::Cpu && matches!(kind, Kind::Double | Kind::Float)
}

#[cfg(test)]
thread_local! {
    static FORCE_LIBTORCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn forced_libtorch() -> bool {
    FORCE_LIBTORCH.with(|f| f.get())
}

#[cfg(not(test))]
fn forced_libtorch() -> bool {
    false
}

/// Runs `f` with this thread's products on libtorch, as on CUDA (for tests of that route
/// on the CPU).
#[cfg(test)]
pub(crate) fn with_libtorch_products<R>(f: impl FnOnce() -> R) -> R {
    FORCE_LIBTORCH.with(|x| x.set(true));
    let r = f();
    FORCE_LIBTORCH.with(|x| x.set(false));
    r
}

/// Whether these operands can go through the `gemm` crate: same floating kind on the CPU
/// and none of them recorded by autograd.
fn eligible(ts: &[&Tensor]) -> bool {
    let kind = ts[0].kind();
    gemm_enabled(kind, ts[0].device())
        && ts.iter().all(|t| t.kind() == kind && t.device() == Device::Cpu && !t.requires_grad())
}

/// The pre-activations `bias_row + a b` with `a (m, k)`, `b (k, n)`, `bias_row (n)`: when
/// the product goes to libtorch its `addmm` adds the bias and None comes back; through the
/// `gemm` crate the product comes back without it, with the bias still to be added (by
/// the fused activation kernel, which reads every element anyway).
pub(crate) fn affine<'b>(a: &Tensor, b: &Tensor, bias_row: &'b Tensor) -> (Tensor, Option<&'b Tensor>) {
    if !eligible(&[a, b, bias_row]) {
        return (bias_row.addmm(a, b), None);
    }
    (mm(a, b), Some(bias_row))
}

/// `a b` with `a (m, k)`, `b (k, n)`: libtorch's `mm` (timed by `gcnet bench`).
pub fn mm(a: &Tensor, b: &Tensor) -> Tensor {
    if !eligible(&[a, b]) {
        return a.mm(b);
    }
    let out = Tensor::empty([a.size()[0], b.size()[1]], (a.kind(), Device::Cpu));
    product(&out, a, b, false);
    out
}

/// `out += a b` in place: libtorch's `addmm_`. `out` must be contiguous for the fast path.
pub(crate) fn add_mm(out: &mut Tensor, a: &Tensor, b: &Tensor) {
    if !eligible(&[out, a, b]) || !out.is_contiguous() {
        let _ = out.addmm_(a, b);
        return;
    }
    product(out, a, b, true);
}

/// `out (m, n, contiguous) = a b`, or `out += a b` with `accumulate`, on the CPU, split into blocks across libtorch's
/// threads along the longer side of `out`.
fn product(out: &Tensor, a: &Tensor, b: &Tensor, accumulate: bool) {
    match out.kind() {
        Kind::Double => product_t::<f64>(out, a, b, accumulate),
        Kind::Float => product_t::<f32>(out, a, b, accumulate),
        k => unreachable!("gemm path taken for {k:?}"),
    }
}

fn product_t<T: Copy + Send + Sync + 'static + From<u8>>(out: &Tensor, a: &Tensor, b: &Tensor, accumulate: bool) {
    let (m, k) = a.size2().expect("left factor is a matrix");
    let (k2, n) = b.size2().expect("right factor is a matrix");
    assert!(k == k2 && out.size() == [m, n] && out.is_contiguous(), "product shapes {m}x{k}, {k2}x{n}");
    let (m, n, k) = (m as usize, n as usize, k as usize);
    let (sa, sb) = (a.stride(), b.stride());
    let (a_p, b_p) = (Shared(a.data_ptr() as *mut T), Shared(b.data_ptr() as *mut T));
    let out_p = Shared(out.data_ptr() as *mut T);
    // Blocks of whole microkernel tiles (a multiple of 16 rows or columns); along rows
    // when the output is taller than wide.
    let along_rows = m >= n;
    let len = if along_rows { m } else { n };
    let threads = (tch::get_num_threads().max(1) as usize).min(len.div_ceil(16));
    parallel::run(threads, &|part, parts| {
        let chunk = len.div_ceil(parts).div_ceil(16) * 16;
        let start = (part * chunk).min(len);
        let end = ((part + 1) * chunk).min(len);
        if start == end {
            return;
        }
        let (r0, r1, c0, c1) = if along_rows { (start, end, 0, n) } else { (0, m, start, end) };
        // SAFETY: the blocks of the parts are disjoint; a and b are read-only views whose
        // strides come from libtorch, and every offset below stays inside their extents.
        unsafe {
            gemm_block(
                (r1 - r0, c1 - c0, k),
                out_p.ptr().add(r0 * n + c0),
                n,
                (a_p.ptr().offset(r0 as isize * sa[0] as isize), sa[0] as isize, sa[1] as isize),
                (b_p.ptr().offset(c0 as isize * sb[1] as isize), sb[0] as isize, sb[1] as isize),
                accumulate,
            )
        };
    });
}

/// `dst [+]= a b` on this thread with the `gemm` crate: `(m, n, k)`, `dst` row-major with
/// row stride `dst_rs`, `a` and `b` given as (pointer, row stride, column stride).
///
/// # Safety
/// Every element of the three matrices these describe must be valid (dst for writes, and
/// not read or written by anyone else meanwhile).
unsafe fn gemm_block<T: Copy + 'static + From<u8>>(
    (m, n, k): (usize, usize, usize),
    dst: *mut T,
    dst_rs: usize,
    a: (*const T, isize, isize),
    b: (*const T, isize, isize),
    accumulate: bool,
) {
    let one = T::from(1u8);
    // SAFETY: the caller's contract. dst := alpha dst + beta a b (alpha read only when
    // read_dst, i.e. when accumulating).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            accumulate,
            a.0,
            a.2,
            a.1,
            b.0,
            b.2,
            b.1,
            one,
            one,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &Tensor, b: &Tensor, tol: f64) {
        let d = (a - b).abs().max().double_value(&[]);
        let s = b.abs().max().double_value(&[]);
        assert!(d <= tol * s, "differs by {d} (scale {s})");
    }

    /// Every entry point equals libtorch's product, for transposed (strided) operands,
    /// shapes that do not divide into tiles, and one or several threads.
    #[test]
    fn products_equal_libtorch() {
        tch::manual_seed(4);
        let threads_before = tch::get_num_threads();
        for (kind, tol) in [(Kind::Double, 1e-14), (Kind::Float, 1e-5)] {
            let o = (kind, Device::Cpu);
            for &(m, k, n) in &[(37, 13, 29), (200, 104, 384), (104, 500, 53), (1, 7, 1)] {
                let a = Tensor::randn([m, k], o);
                let bt = Tensor::randn([n, k], o);
                let b = bt.transpose(0, 1); // strided
                let bias = Tensor::randn([n], o);
                for threads in [1, 2, 3] {
                    tch::set_num_threads(threads);
                    let (pre, rest) = affine(&a, &b, &bias);
                    close(&(pre + rest.expect("the bias is left to add")), &bias.addmm(&a, &b), tol);
                    close(&mm(&b.transpose(0, 1), &a.transpose(0, 1)), &bt.mm(&a.transpose(0, 1)), tol);
                    let mut acc = Tensor::randn([k, n], o);
                    let want = acc.addmm(&a.transpose(0, 1), &Tensor::ones([m, n], o));
                    add_mm(&mut acc, &a.transpose(0, 1), &Tensor::ones([m, n], o));
                    close(&acc, &want, tol);
                }
            }
        }
        tch::set_num_threads(threads_before);
    }

    /// Tensors that autograd records take libtorch's path, so gradients still flow.
    #[test]
    fn autograd_operands_keep_gradients() {
        let o = (Kind::Double, Device::Cpu);
        let w = Tensor::randn([3, 2], o).set_requires_grad(true);
        let bias = Tensor::zeros([2], o);
        let (y, rest) = affine(&Tensor::ones([4, 3], o), &w, &bias);
        assert!(rest.is_none(), "addmm adds the bias");
        y.sum(None).backward();
        close(&w.grad(), &Tensor::full([3, 2], 4.0, o), 1e-15);
    }
}
