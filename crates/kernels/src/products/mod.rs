//! The GConv layers' matrix products on the CPU, through the `gemm` crate.
//!
//! libtorch's products go to MKL, whose f64 kernels use 256-bit AVX2 on AMD CPUs even
//! where the core has AVX-512 (perf shows `mkl_blas_def_dgemm_kernel_zen` on ymm
//! registers). The `gemm` crate picks AVX-512 at run time: on the 2-core AMD EPYC
//! development machine its f64 rate for the GConv shapes is about twice MKL's (see the
//! README's speed section, `gcnet bench`). The products run on the kernels' threads
//! ([`parallel`]), each part one block of the output computed with the `gemm` crate's
//! single-threaded driver.
//!
//! The filter gradient `h^T dZ` and the input gradient `dZ W^T` of f32 layers with 8 input
//! channels have kernels of their own ([`add_transposed_mm`], [`mm_transposed`]), since
//! through the `gemm` crate they ran no faster than in f64.
//!
//! Used for CPU tensors in f64 and f32 outside autograd when the caller chooses
//! [`Products::Gemm`] (the default); anything else (CUDA, tensors that need gradients,
//! [`Products::Libtorch`]) goes to libtorch's `addmm` / `mm`.

use tch::{Device, Kind, Tensor};

use crate::parallel;

mod filter_gradient;
mod input_gradient;

/// Whether the CPU has AVX-512F, which the f32 gradient kernels need (a cached lookup).
fn avx512_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Which code computes the GConv layers' matrix products and the neighbour-gather
/// backward. The caller chooses (the network holds the choice; the `gcnet` binary sets it
/// from its options); nothing reads the environment here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Products {
    /// The `gemm` crate and our neighbour sum for f32/f64 CPU tensors outside autograd;
    /// libtorch for everything else (CUDA tensors, other kinds, tensors autograd records).
    #[default]
    Gemm,
    /// libtorch's `addmm`/`mm` and gather always: the route CUDA takes, on any device.
    Libtorch,
}

impl Products {
    /// Whether products of `kind` tensors on `device` go through the `gemm` crate.
    pub fn uses_gemm(self, kind: Kind, device: Device) -> bool {
        self == Products::Gemm && device == Device::Cpu && matches!(kind, Kind::Double | Kind::Float)
    }

    /// Whether these operands can go through the `gemm` crate: same floating kind on the
    /// CPU and none of them recorded by autograd.
    fn eligible(self, ts: &[&Tensor]) -> bool {
        let kind = ts[0].kind();
        self.uses_gemm(kind, ts[0].device())
            && ts.iter().all(|t| t.kind() == kind && t.device() == Device::Cpu && !t.requires_grad())
    }
}

/// The pre-activations `bias_row + a b` with `a (m, k)`, `b (k, n)`, `bias_row (n)`: when
/// the product goes to libtorch its `addmm` adds the bias and None comes back; through the
/// `gemm` crate the product comes back without it, with the bias still to be added (by
/// the fused activation kernel, which reads every element anyway).
pub fn affine<'b>(products: Products, a: &Tensor, b: &Tensor, bias_row: &'b Tensor) -> (Tensor, Option<&'b Tensor>) {
    if !products.eligible(&[a, b, bias_row]) {
        return (bias_row.addmm(a, b), None);
    }
    (mm(products, a, b), Some(bias_row))
}

/// `a b` with `a (m, k)`, `b (k, n)`: libtorch's `mm`.
pub fn mm(products: Products, a: &Tensor, b: &Tensor) -> Tensor {
    if !products.eligible(&[a, b]) {
        return a.mm(b);
    }
    let mut out = Tensor::empty([a.size()[0], b.size()[1]], (a.kind(), Device::Cpu));
    product(&mut out, a, b, false);
    out
}

/// `out += a b` in place: libtorch's `addmm_`. `out` must be contiguous for the fast path.
pub fn add_mm(products: Products, out: &mut Tensor, a: &Tensor, b: &Tensor) {
    if !products.eligible(&[out, a, b]) || !out.is_contiguous() {
        let _ = out.addmm_(a, b);
        return;
    }
    product(out, a, b, true);
}

/// `a b^T` with `a (R, k)`, `b (m, k)`: a layer's input gradient `dZ W^T`. For f32 with `m`
/// = 8 (the published layers) on a CPU with AVX-512 a kernel of its own
/// ([`input_gradient`]); anything else as [`mm`] of `b`'s transpose.
pub fn mm_transposed(products: Products, a: &Tensor, b: &Tensor) -> Tensor {
    let fits = products.eligible(&[a, b])
        && a.kind() == Kind::Float
        && a.size2().is_ok_and(|(_, k)| k > 0 && b.size() == [input_gradient::C as i64, k])
        && avx512_available();
    if !fits {
        return mm(products, a, &b.transpose(0, 1));
    }
    let (a, b) = (a.contiguous(), b.contiguous());
    let (rows, k) = (a.size()[0] as usize, a.size()[1] as usize);
    let mut out = Tensor::empty([rows as i64, input_gradient::C as i64], (Kind::Float, Device::Cpu));
    let pairs = input_gradient::pairs(crate::slices::elements(&b, "input gradient: W"), k);
    let dz: &[f32] = crate::slices::elements(&a, "input gradient: dZ");
    let o: &mut [f32] = crate::slices::elements_mut(&mut out, "input gradient: out");
    // Parts of whole rows (each row's outputs are its own sums: any split gives the same bits).
    let chunk = rows.div_ceil(parallel::parts(rows.div_ceil(64))).max(1);
    let parts: Vec<(&[f32], &mut [f32])> = dz.chunks(chunk * k).zip(o.chunks_mut(chunk * input_gradient::C)).collect();
    parallel::for_each_part(parts, |(d, o)| input_gradient::rows(d, &pairs, k, o));
    out
}

/// `out += a^T b` in place with `a (R, m)`, `b (R, n)`: a layer's filter gradient `h^T dZ`.
/// For f32 with `m` = 8 (the published layers) on a CPU with AVX-512 a kernel of its own
/// ([`filter_gradient`]); anything else as [`add_mm`] of `a`'s transpose.
pub fn add_transposed_mm(products: Products, out: &mut Tensor, a: &Tensor, b: &Tensor) {
    let fits = products.eligible(&[out, a, b])
        && out.kind() == Kind::Float
        && a.size2().is_ok_and(|(r, m)| {
            m == filter_gradient::C as i64 && b.size2().is_ok_and(|(rb, n)| rb == r && out.size() == [m, n])
        })
        && out.is_contiguous()
        && avx512_available();
    if !fits {
        return add_mm(products, out, &a.transpose(0, 1), b);
    }
    let (a, b) = (a.contiguous(), b.contiguous());
    let n = b.size()[1] as usize;
    let h: &[f32] = crate::slices::elements(&a, "filter gradient: h");
    let dz: &[f32] = crate::slices::elements(&b, "filter gradient: dZ");
    if n == 0 || h.is_empty() {
        return;
    }
    // Parts of 48 columns (the last fewer), each summed over all rows in row order: every
    // element is the same sum whatever the thread count.
    let mut parts: Vec<(usize, Vec<f32>)> = (0..n)
        .step_by(filter_gradient::SLICE)
        .map(|c0| (c0, vec![0f32; filter_gradient::C * filter_gradient::width(n, c0)]))
        .collect();
    parallel::for_each_part(parts.iter_mut().collect(), |(c0, g)| filter_gradient::columns(dz, h, n, *c0, g));
    let o: &mut [f32] = crate::slices::elements_mut(out, "filter gradient: out");
    for (c0, g) in &parts {
        let w = filter_gradient::width(n, *c0);
        for (orow, grow) in o.chunks_exact_mut(n).zip(g.chunks_exact(w)) {
            orow[*c0..*c0 + w].iter_mut().zip(grow).for_each(|(x, y)| *x += *y);
        }
    }
}

/// `out (m, n, contiguous) = a b`, or `out += a b` with `accumulate`, on the CPU, split into
/// blocks across the kernels' threads along the longer side of `out`.
fn product(out: &mut Tensor, a: &Tensor, b: &Tensor, accumulate: bool) {
    match out.kind() {
        Kind::Double => product_t::<f64>(out, a, b, accumulate),
        Kind::Float => product_t::<f32>(out, a, b, accumulate),
        k => unreachable!("gemm path taken for {k:?}"),
    }
}

/// A block of the output and where its factors start: the one raw-pointer record of the
/// crate, because the `gemm` crate takes pointers and strides (a column block of a
/// row-major matrix is no Rust slice).
struct Block<T> {
    dst: *mut T,
    a: *const T,
    b: *const T,
    shape: (usize, usize, usize),
}
// SAFETY: the blocks of one product cover disjoint parts of the output, and the factors
// are only read; each block goes to exactly one thread (`parallel::for_each_part`).
unsafe impl<T: Send> Send for Block<T> {}

fn product_t<T: Copy + Send + Sync + 'static + From<u8>>(out: &mut Tensor, a: &Tensor, b: &Tensor, accumulate: bool) {
    let (m, k) = a.size2().expect("left factor is a matrix");
    let (k2, n) = b.size2().expect("right factor is a matrix");
    assert!(
        k == k2 && out.size() == [m, n] && out.is_contiguous(),
        "product shapes {m}x{k} times {k2}x{n} into {:?}",
        out.size()
    );
    let (m, n, k) = (m as usize, n as usize, k as usize);
    if m * n == 0 {
        return;
    }
    let (sa, sb) = (a.stride(), b.stride());
    let (a_p, b_p, out_p) = (a.data_ptr() as *const T, b.data_ptr() as *const T, out.data_ptr() as *mut T);
    // Blocks of whole microkernel tiles (a multiple of 16 rows or columns); along rows
    // when the output is taller than wide.
    let along_rows = m >= n;
    let len = if along_rows { m } else { n };
    let chunk = len.div_ceil(parallel::parts(len.div_ceil(16))).div_ceil(16) * 16;
    let blocks: Vec<Block<T>> = (0..len.div_ceil(chunk))
        .map(|part| {
            let (start, end) = (part * chunk, ((part + 1) * chunk).min(len));
            let (r0, r1, c0, c1) = if along_rows { (start, end, 0, n) } else { (0, m, start, end) };
            // Offsets inside the three matrices (their strides come from libtorch).
            Block {
                dst: out_p.wrapping_add(r0 * n + c0),
                a: a_p.wrapping_offset(r0 as isize * sa[0] as isize),
                b: b_p.wrapping_offset(c0 as isize * sb[1] as isize),
                shape: (r1 - r0, c1 - c0, k),
            }
        })
        .collect();
    parallel::for_each_part(blocks, |blk| {
        // SAFETY: each block lies inside `out` (rows r0..r1, columns c0..c1 of an m x n
        // contiguous matrix) and no other block overlaps it; `a` and `b` are read through
        // libtorch's own strides within their extents; all three outlive the call.
        unsafe {
            gemm_block(
                blk.shape,
                blk.dst,
                n,
                (blk.a, sa[0] as isize, sa[1] as isize),
                (blk.b, sb[0] as isize, sb[1] as isize),
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
        let _serial = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(4);
        let threads_before = tch::get_num_threads();
        let g = Products::Gemm;
        for (kind, tol) in [(Kind::Double, 1e-14), (Kind::Float, 1e-5)] {
            let o = (kind, Device::Cpu);
            for &(m, k, n) in &[(37, 13, 29), (200, 104, 384), (104, 500, 53), (1, 7, 1)] {
                let a = Tensor::randn([m, k], o);
                let bt = Tensor::randn([n, k], o);
                let b = bt.transpose(0, 1); // strided
                let bias = Tensor::randn([n], o);
                for threads in [1, 2, 3] {
                    tch::set_num_threads(threads);
                    let (pre, rest) = affine(g, &a, &b, &bias);
                    close(&(pre + rest.expect("the bias is left to add")), &bias.addmm(&a, &b), tol);
                    close(&mm(g, &b.transpose(0, 1), &a.transpose(0, 1)), &bt.mm(&a.transpose(0, 1)), tol);
                    let mut acc = Tensor::randn([k, n], o);
                    let want = acc.addmm(&a.transpose(0, 1), &Tensor::ones([m, n], o));
                    add_mm(g, &mut acc, &a.transpose(0, 1), &Tensor::ones([m, n], o));
                    close(&acc, &want, tol);
                }
            }
        }
        tch::set_num_threads(threads_before);
    }

    /// The filter gradient `out += h^T dZ` (the f32 kernel of its own where `h` has 8
    /// columns, the gemm product otherwise) equals libtorch's, for column counts in every
    /// slice case (one to three vectors, a partial last one, several parts) and one to three
    /// threads, the kernel with the same bits for every thread count.
    #[test]
    fn filter_gradient_equals_libtorch() {
        let _serial = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(5);
        for (kind, tol) in [(Kind::Float, 2e-6), (Kind::Double, 1e-14)] {
            let o = (kind, Device::Cpu);
            for &(rows, m, n) in &[(2048, 8, 104), (37, 8, 13), (600, 8, 1), (300, 8, 50), (513, 8, 200), (64, 4, 104)]
            {
                let h = Tensor::randn([rows, m], o);
                let dz = Tensor::randn([rows, n], o);
                let start = Tensor::randn([m, n], o);
                let want = start.addmm(&h.transpose(0, 1), &dz);
                at_thread_counts(&format!("{rows}x{m}x{n}"), &want, tol, kind == Kind::Float && m == 8, || {
                    let mut got = start.copy();
                    add_transposed_mm(Products::Gemm, &mut got, &h, &dz);
                    got
                });
            }
        }
    }

    /// `got()` at 1, 2 and 3 threads is close to `want`, and with `same_bits` (the kernels of
    /// our own; the gemm crate may block its sums otherwise at other thread counts) the same
    /// bits at every count.
    fn at_thread_counts(what: &str, want: &Tensor, tol: f64, same_bits: bool, got: impl Fn() -> Tensor) {
        let threads_before = tch::get_num_threads();
        let mut first: Option<Tensor> = None;
        for threads in [1, 2, 3] {
            tch::set_num_threads(threads);
            let got = got();
            close(&got, want, tol);
            if same_bits {
                let one = first.get_or_insert_with(|| got.copy());
                assert!(got.equal(one), "{what}: {threads} threads change the bits");
            }
        }
        tch::set_num_threads(threads_before);
    }

    /// The input gradient `dZ W^T` (the f32 kernel of its own where `W` has 8 rows, the gemm
    /// product otherwise) equals libtorch's, for lengths k with and without a short last
    /// chunk of 8, row counts with and without a short last group of 4, and one to three
    /// threads, the kernel with the same bits for every thread count.
    #[test]
    fn input_gradient_equals_libtorch() {
        let _serial = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(6);
        for (kind, tol) in [(Kind::Float, 2e-6), (Kind::Double, 1e-14)] {
            let o = (kind, Device::Cpu);
            for &(rows, k, m) in
                &[(2048, 104, 8), (37, 13, 8), (5, 8, 8), (3, 1, 8), (600, 17, 8), (513, 200, 8), (64, 104, 4)]
            {
                let dz = Tensor::randn([rows, k], o);
                let w = Tensor::randn([m, k], o);
                let want = dz.mm(&w.transpose(0, 1));
                at_thread_counts(&format!("{rows}x{k}x{m}"), &want, tol, kind == Kind::Float && m == 8, || {
                    mm_transposed(Products::Gemm, &dz, &w)
                });
            }
        }
    }

    /// Tensors that autograd records take libtorch's path, so gradients still flow; so
    /// does everything with `Products::Libtorch`.
    #[test]
    fn autograd_operands_and_the_libtorch_choice_use_libtorch() {
        let o = (Kind::Double, Device::Cpu);
        let w = Tensor::randn([3, 2], o).set_requires_grad(true);
        let bias = Tensor::zeros([2], o);
        let (y, rest) = affine(Products::Gemm, &Tensor::ones([4, 3], o), &w, &bias);
        assert!(rest.is_none(), "addmm adds the bias");
        y.sum(None).backward();
        close(&w.grad(), &Tensor::full([3, 2], 4.0, o), 1e-15);
        let (_, rest) = affine(Products::Libtorch, &Tensor::ones([4, 3], o), &Tensor::ones([3, 2], o), &bias);
        assert!(rest.is_none() && !Products::Libtorch.uses_gemm(Kind::Double, Device::Cpu));
    }
}
