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
//! The filter gradient `h^T dZ` of f32 layers with 8 input channels has a kernel of its own
//! ([`add_transposed_mm`]), since through the `gemm` crate it ran no faster than in f64.
//!
//! Used for CPU tensors in f64 and f32 outside autograd when the caller chooses
//! [`Products::Gemm`] (the default); anything else (CUDA, tensors that need gradients,
//! [`Products::Libtorch`]) goes to libtorch's `addmm` / `mm`.

use tch::{Device, Kind, Tensor};

use crate::parallel;

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
        && filter_gradient::available();
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

/// The filter gradient's columns `c0..c0 + width` summed over the rows of `h (R, 8)` and
/// `dZ (R, n)`, held in AVX-512 registers (up to 3 vectors of 16 columns for each of the 8
/// rows of the gradient: 24 accumulators), every `dZ` row read once. The `gemm` crate takes
/// `dZ`'s columns as its vector lanes and first copies a factor whose lane count is no
/// multiple of 16 (104 columns are 6.5 f32 vectors; 40% of its time in perf at one
/// thread): in f32 this product took as long per sample as in f64 there.
mod filter_gradient {
    /// Input channels the kernel is for (the published layers).
    pub(super) const C: usize = 8;
    /// Columns of one part.
    pub(super) const SLICE: usize = 48;

    pub(super) fn width(n: usize, c0: usize) -> usize {
        (n - c0).min(SLICE)
    }

    pub(super) fn available() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// `g (8, width)` = the columns from `c0` of `h^T dZ`. Callers check [`available`].
    pub(super) fn columns(dz: &[f32], h: &[f32], n: usize, c0: usize, g: &mut [f32]) {
        let w = width(n, c0);
        assert!(
            available() && c0 < n && dz.len() == h.len() / C * n && h.len().is_multiple_of(C) && g.len() == C * w,
            "filter gradient: shapes"
        );
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F (checked above).
        unsafe {
            match w.div_ceil(16) {
                1 => avx512::<1>(dz, h, n, c0, g),
                2 => avx512::<2>(dz, h, n, c0, g),
                _ => avx512::<3>(dz, h, n, c0, g),
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn avx512<const V: usize>(dz: &[f32], h: &[f32], n: usize, c0: usize, g: &mut [f32]) {
        use std::arch::x86_64::*;
        let w = width(n, c0);
        // lanes of the last vector inside the row
        let last = w - 16 * (V - 1);
        let mask: __mmask16 = if last == 16 { 0xFFFF } else { (1u16 << last) - 1 };
        let mut acc = [[_mm512_setzero_ps(); V]; C];
        for (row, hr) in dz.chunks_exact(n).zip(h.chunks_exact(C)) {
            let mut d = [_mm512_setzero_ps(); V];
            for (v, dv) in d.iter_mut().enumerate() {
                // SAFETY: lanes c0 + 16 v .. c0 + w of the row (the masked load reads no
                // lane past it; `columns` checked c0 < n and w <= n - c0).
                *dv = unsafe {
                    let p = row.as_ptr().add(c0 + 16 * v);
                    if v + 1 == V { _mm512_maskz_loadu_ps(mask, p) } else { _mm512_loadu_ps(p) }
                };
            }
            for (a, &hv) in acc.iter_mut().zip(hr) {
                let hi = _mm512_set1_ps(hv);
                for (av, dv) in a.iter_mut().zip(&d) {
                    *av = _mm512_fmadd_ps(hi, *dv, *av);
                }
            }
        }
        for (a, grow) in acc.iter().zip(g.chunks_exact_mut(w)) {
            for (v, av) in a.iter().enumerate() {
                let mut t = [0f32; 16];
                // SAFETY: t holds 16 floats.
                unsafe { _mm512_storeu_ps(t.as_mut_ptr(), *av) };
                let take = (w - 16 * v).min(16);
                grow[16 * v..16 * v + take].copy_from_slice(&t[..take]);
            }
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
        let threads_before = tch::get_num_threads();
        for (kind, tol) in [(Kind::Float, 2e-6), (Kind::Double, 1e-14)] {
            let o = (kind, Device::Cpu);
            for &(rows, m, n) in &[(2048, 8, 104), (37, 8, 13), (600, 8, 1), (300, 8, 50), (513, 8, 200), (64, 4, 104)]
            {
                let h = Tensor::randn([rows, m], o);
                let dz = Tensor::randn([rows, n], o);
                let start = Tensor::randn([m, n], o);
                let want = start.addmm(&h.transpose(0, 1), &dz);
                let mut first: Option<Tensor> = None;
                for threads in [1, 2, 3] {
                    tch::set_num_threads(threads);
                    let mut got = start.copy();
                    add_transposed_mm(Products::Gemm, &mut got, &h, &dz);
                    close(&got, &want, tol);
                    // the gemm crate may block the sums otherwise for other column counts
                    if kind == Kind::Float && m == 8 {
                        let one = first.get_or_insert_with(|| got.copy());
                        assert!(got.equal(one), "{rows}x{m}x{n}: {threads} threads change the bits");
                    }
                }
            }
        }
        tch::set_num_threads(threads_before);
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
