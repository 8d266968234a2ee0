//! The elementwise part of a GConv layer, fused for the CPU: softplus, the mean over the
//! group operations and the softplus derivative, in one pass over the pre-activations.
//!
//! With libtorch ops the forward pass reads the pre-activations `(R, Cout*Ng)` for the
//! softplus (an exp and a log1p per element), again for the mean, and the backward pass
//! once more for the sigmoid: together a third of the time of the layer's three matrix
//! products. Here every element costs one exp and one division, written so that LLVM
//! vectorises them; the logarithms are taken once per group of `Ng` elements, from the
//! product of the factors `1 + e^x` split into mantissas and exponents (so the product
//! cannot overflow). The threshold of PyTorch's softplus (x > 20 gives x) is kept, so the
//! results agree with `torch.nn.functional.softplus` to rounding. Other devices (CUDA),
//! tensors that need autograd, and odd shapes use the libtorch ops.

use tch::{Device, Kind, Tensor};

use crate::{parallel, slices};

/// PyTorch's softplus threshold (beta = 1): above it softplus(x) = x and its slope is 1.
const THRESHOLD: f64 = 20.0;
/// Elements below which one thread does the whole tensor.
const PARALLEL_MIN: usize = 1 << 15;

/// `h (R, cout)`: the mean over each group of `ng` contiguous pre-activations of their
/// softplus, with `pre (R, cout*ng)` plus `bias (cout*ng)` on every row when given. With
/// `keep_slope` the pre-activations are replaced by the softplus slopes `sigmoid(pre +
/// bias)` for [`scale_slopes`].
///
/// The bias is added here rather than by the matrix product: the kernel reads every
/// pre-activation anyway, while a product that starts from the bias rows writes and reads
/// the whole output once more (profiled at about 6% of a training step).
pub fn softplus_group_mean(pre: &mut Tensor, bias: Option<&Tensor>, cout: i64, ng: i64, keep_slope: bool) -> Tensor {
    let rows = pre.size()[0];
    if let Some(kind) = fusable(pre, cout * ng) {
        let bias = bias.map(|b| b.to_kind(kind).contiguous());
        let cols = (cout * ng) as usize;
        if bias.as_ref().is_none_or(|b| b.device() == Device::Cpu && b.numel() == cols && !b.requires_grad()) {
            let mut h = Tensor::empty([rows, cout], (kind, Device::Cpu));
            let ngu = ng as usize;
            match kind {
                Kind::Double => {
                    let b: &[f64] = bias.as_ref().map_or(&[], |b| slices::elements(b, "bias"));
                    parallel_groups(
                        slices::elements_mut(pre, "pre-activations"),
                        slices::elements_mut(&mut h, "group means"),
                        ngu,
                        0,
                        |p, o, g0| f64k::forward(p, o, ngu, keep_slope, b, g0, 0),
                    )
                }
                _ => {
                    let b: &[f32] = bias.as_ref().map_or(&[], |b| slices::elements(b, "bias"));
                    parallel_groups(
                        slices::elements_mut(pre, "pre-activations"),
                        slices::elements_mut(&mut h, "group means"),
                        ngu,
                        0,
                        |p, o, g0| f32k::forward(p, o, ngu, keep_slope, b, g0, 0),
                    )
                }
            }
            return h;
        }
    }
    if let Some(b) = bias {
        let _ = pre.g_add_(b);
    }
    let h = pre.softplus().view([rows, cout, ng]).mean_dim(2, false, None);
    if keep_slope {
        let _ = pre.sigmoid_();
    }
    h
}

/// Turns the slopes `(R, cout*ng)` left by [`softplus_group_mean`] into the gradient of
/// the pre-activations, `slope * grad[r, o] / ng`, in place, and returns the column sums
/// `(cout*ng)` (the gradient of the bias row).
pub fn scale_slopes(slope: &mut Tensor, grad: &Tensor, cout: i64, ng: i64) -> Tensor {
    scale(slope, grad, cout, ng, false)
}

/// [`softplus_group_mean`] for pre-activations laid out `(R, ng, cout)` (operation major,
/// as [`crate::block_sum`] gives them), without a bias: `h[r, o]` is the mean of the
/// softplus of `pre[r, g*cout + o]` over g. With `keep_slope` the pre-activations are
/// replaced by the softplus slopes, for [`scale_slopes_interleaved`].
pub fn softplus_group_mean_interleaved(pre: &mut Tensor, cout: i64, ng: i64, keep_slope: bool) -> Tensor {
    let rows = pre.size()[0];
    if let Some(kind) = fusable(pre, cout * ng) {
        let mut h = Tensor::empty([rows, cout], (kind, Device::Cpu));
        let (ngu, c) = (ng as usize, cout as usize);
        match kind {
            Kind::Double => {
                let (p, o) =
                    (slices::elements_mut(pre, "pre-activations"), slices::elements_mut(&mut h, "group means"));
                parallel_groups(p, o, ngu, c, |p, o, g0| f64k::forward(p, o, ngu, keep_slope, &[], g0, c))
            }
            _ => {
                let (p, o) =
                    (slices::elements_mut(pre, "pre-activations"), slices::elements_mut(&mut h, "group means"));
                parallel_groups(p, o, ngu, c, |p, o, g0| f32k::forward(p, o, ngu, keep_slope, &[], g0, c))
            }
        }
        return h;
    }
    let h = pre.softplus().view([rows, ng, cout]).mean_dim(1, false, None);
    if keep_slope {
        let _ = pre.sigmoid_();
    }
    h
}

/// [`softplus_group_mean_interleaved`] of whole rows `(ng, c)` on the calling thread, for
/// the kernel that writes the pre-activations (`crate::block_sum_activate`).
pub(crate) fn group_mean_rows_f64(pre: &mut [f64], means: &mut [f64], c: usize, ng: usize, keep_slope: bool) {
    f64k::forward(pre, means, ng, keep_slope, &[], 0, c)
}

/// [`group_mean_rows_f64`] in f32.
pub(crate) fn group_mean_rows_f32(pre: &mut [f32], means: &mut [f32], c: usize, ng: usize, keep_slope: bool) {
    f32k::forward(pre, means, ng, keep_slope, &[], 0, c)
}

/// [`scale_slopes`] for the `(R, ng, cout)` layout of [`softplus_group_mean_interleaved`]:
/// `slope[r, g*cout + o] * grad[r, o] / ng` in place; returns their sums per channel o
/// `(cout)`, the gradient of the bias.
pub fn scale_slopes_interleaved(slope: &mut Tensor, grad: &Tensor, cout: i64, ng: i64) -> Tensor {
    scale(slope, grad, cout, ng, true)
}

fn scale(slope: &mut Tensor, grad: &Tensor, cout: i64, ng: i64, inter: bool) -> Tensor {
    let rows = slope.size()[0];
    let grad = grad.contiguous();
    let fused = fusable(slope, cout * ng)
        .filter(|&k| grad.kind() == k && grad.device() == Device::Cpu && grad.size() == [rows, cout]);
    if let Some(kind) = fused {
        let cols = (cout * ng) as usize;
        let mut sums = Tensor::zeros([if inter { cout } else { cout * ng }], (kind, Device::Cpu));
        let ngu = ng as usize;
        match kind {
            Kind::Double => {
                let (s, g) = (slices::elements_mut(slope, "slopes"), slices::elements(&grad, "gradient"));
                parallel_rows(s, g, slices::elements_mut(&mut sums, "sums"), cols, |s, g, o| {
                    f64k::scale(s, g, o, cols, ngu, inter)
                })
            }
            _ => {
                let (s, g) = (slices::elements_mut(slope, "slopes"), slices::elements(&grad, "gradient"));
                parallel_rows(s, g, slices::elements_mut(&mut sums, "sums"), cols, |s, g, o| {
                    f32k::scale(s, g, o, cols, ngu, inter)
                })
            }
        }
        return sums;
    }
    if inter {
        let mut d = slope.view([rows, ng, cout]);
        let _ = d.g_mul_(&(grad.unsqueeze(1) / ng as f64));
        return d.sum_dim_intlist([0, 1].as_slice(), false, None);
    }
    let mut d = slope.view([rows, cout, ng]);
    let _ = d.g_mul_(&(grad.unsqueeze(2) / ng as f64));
    slope.sum_dim_intlist(0, false, None)
}

/// The kind of `t` when the fused kernels apply: a contiguous 2-d CPU tensor of f32 or
/// f64 with `cols` columns that autograd does not track.
fn fusable(t: &Tensor, cols: i64) -> Option<Kind> {
    let ok = t.device() == Device::Cpu
        && !t.requires_grad()
        && t.is_contiguous()
        && t.dim() == 2
        && t.size()[1] == cols
        && cols > 0;
    ok.then(|| t.kind()).filter(|k| matches!(k, Kind::Double | Kind::Float))
}

/// Parts of `n` elements (parallel::parts; one for small tensors).
fn parts_for(n: usize) -> usize {
    parallel::parts(n / PARALLEL_MIN)
}

/// Runs `f(pre_chunk, out_chunk, first_group)` on whole groups (whole rows of `row_groups`
/// groups when that is not 0), split over the kernels' threads.
fn parallel_groups<T: Send>(
    pre: &mut [T],
    out: &mut [T],
    ng: usize,
    row_groups: usize,
    f: impl Fn(&mut [T], &mut [T], usize) + Sync,
) {
    assert_eq!(pre.len(), out.len() * ng, "pre-activations and group means do not match");
    let unit = row_groups.max(1);
    let per = out.len().div_ceil(parts_for(pre.len())).div_ceil(unit).max(1) * unit;
    let parts: Vec<_> = pre.chunks_mut(per * ng).zip(out.chunks_mut(per)).enumerate().collect();
    parallel::for_each_part(parts, |(i, (p, o))| f(p, o, i * per));
}

/// Runs `f(slope_rows, grad_rows, sums)` on whole rows split over the kernels' threads, each
/// part with its own sums (the length of `sums`), added into `sums` at the end.
fn parallel_rows<T: Send + Sync + Copy + Default + std::ops::AddAssign>(
    slope: &mut [T],
    grad: &[T],
    sums: &mut [T],
    cols: usize,
    f: impl Fn(&mut [T], &[T], &mut [T]) + Sync,
) {
    let parts = parts_for(slope.len());
    let rows = slope.len() / cols;
    let gcols = grad.len() / rows.max(1);
    let n = sums.len();
    assert_eq!((rows * cols, rows * gcols), (slope.len(), grad.len()), "slopes, gradient");
    if parts == 1 {
        return f(slope, grad, sums);
    }
    let per = rows.div_ceil(parts);
    let mut partial = vec![T::default(); parts * n];
    let parts: Vec<_> = slope.chunks_mut(per * cols).zip(grad.chunks(per * gcols)).zip(partial.chunks_mut(n)).collect();
    parallel::for_each_part(parts, |((s, g), p)| f(s, g, p));
    for p in partial.chunks_exact(n) {
        for (a, &b) in sums.iter_mut().zip(p) {
            *a += b;
        }
    }
}

/// Calls `$f::<true>` compiled for AVX-512 or for AVX2 with FMA when the CPU has them
/// (checked once per call, which is cheap), else `$f::<false>` for the baseline target.
macro_rules! dispatch {
    ($f:ident($($a:ident: $ty:ty),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
            fn avx512($($a: $ty),*) {
                $f::<true>($($a),*)
            }
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($a: $ty),*) {
                $f::<true>($($a),*)
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { avx512($($a),*) };
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: as above.
                return unsafe { avx2($($a),*) };
            }
        }
        $f::<false>($($a),*)
    }};
}

/// `f::<T, C, Q>(args)` with the fixed width `C` (and its number of partials `Q`) that
/// equals `c`, or the general kernel (`C` = 0): the widths with their own kernels, in one
/// place for the group products and the slope scaling.
macro_rules! by_width {
    ($c:expr, $f:ident::<$t:ty>($($a:expr),*)) => {
        match $c {
            8 => $f::<$t, 8, 4>($($a),*),
            16 => $f::<$t, 16, 4>($($a),*),
            4 => $f::<$t, 4, 4>($($a),*),
            2 => $f::<$t, 2, 8>($($a),*),
            1 => $f::<$t, 1, 16>($($a),*),
            _ => $f::<$t, 0, 1>($($a),*),
        }
    };
}

/// One kernel per precision, from the same source: exp is computed in the working
/// precision (the polynomial degree differs), the logarithms of the group products always
/// in f64. Each kernel is compiled three times through [`dispatch!`].
macro_rules! kernels {
    ($name:ident, $t:ty, $bits:ty, $mant_bits:expr, $bias:expr, $lanes:expr, $floor:expr, $ln2:expr, [$($c:expr),+]) => {
        pub(super) mod $name {
            use super::{Real, THRESHOLD, estrin, group_product, log2, mul_add, scale_strided, strided_product};
            /// Below this the slope is stored as 0 (exp would be subnormal and slow the products).
            const FLOOR: $t = $floor;
            const BLOCK: usize = 1024;
            /// Groups per block at most (their logarithms are taken together, vectorised).
            const GROUPS: usize = 64;

            /// exp(x) for FLOOR <= x <= THRESHOLD: x = n ln2 + r with |r| <= ln2/2, a Taylor
            /// polynomial for exp(r) and 2^n from the exponent bits.
            #[inline(always)]
            fn exp<const FMA: bool>(x: $t) -> $t {
                // Adding 1.5 * 2^mant rounds x/ln2 to the nearest integer n (kept in the low bits).
                const SHIFT: $t = 1.5 * (1u64 << $mant_bits) as $t;
                // ln 2 = LN2_HI + LN2_LO, LN2_HI with trailing zero bits so that n * LN2_HI is exact
                const LN2_HI: $t = $ln2.0;
                const LN2_LO: $t = $ln2.1;
                let t = mul_add::<FMA, $t>(x, std::f64::consts::LOG2_E as $t, SHIFT);
                let n = t - SHIFT;
                let r = mul_add::<FMA, $t>(-n, LN2_LO, mul_add::<FMA, $t>(-n, LN2_HI, x));
                const DESCENDING: &[$t] = &[$($c),+];
                let p = estrin::<FMA, $t>(r, DESCENDING);
                let n_int = t.to_bits().wrapping_sub(SHIFT.to_bits());
                p * <$t>::from_bits(n_int.wrapping_add($bias as $bits) << $mant_bits)
            }

            /// Softplus, group mean and slope over whole groups of `ng` elements, the first
            /// of them group `first` of the tensor; `bias` (one value per column, or empty)
            /// is added to the pre-activations first. With `inter` > 0 a group's elements
            /// are `inter` apart (rows `(ng, inter)`, whole rows, no bias) instead of
            /// contiguous.
            pub fn forward(pre: &mut [$t], out: &mut [$t], ng: usize, keep_slope: bool, bias: &[$t], first: usize, inter: usize) {
                dispatch!(forward_impl(pre: &mut [$t], out: &mut [$t], ng: usize, keep_slope: bool, bias: &[$t], first: usize, inter: usize))
            }

            /// slope[r, c] *= grad[r, group of c] / ng, and the column sums into `sums`; the
            /// group of column c is c / ng, or c % (cols / ng) with `inter`.
            pub fn scale(slope: &mut [$t], grad: &[$t], sums: &mut [$t], cols: usize, ng: usize, inter: bool) {
                dispatch!(scale_impl(slope: &mut [$t], grad: &[$t], sums: &mut [$t], cols: usize, ng: usize, inter: bool))
            }

            #[inline(always)]
            fn forward_impl<const FMA: bool>(pre: &mut [$t], out: &mut [$t], ng: usize, keep_slope: bool, bias: &[$t], first: usize, inter: usize) {
                if inter > 0 {
                    return interleaved::<FMA>(pre, out, ng, keep_slope, inter);
                }
                // Per element: ln(1 + e^x) = ln(mantissa) + ln2 * (exponent), or x above the
                // threshold; the mantissas go to `mant`, the rest to `lin` (in units of ln 2).
                let mut mant = [0.0 as $t; BLOCK];
                let mut lin = [0.0 as $t; BLOCK];
                let step = (BLOCK / ng).clamp(1, GROUPS) * ng;
                let scale = std::f64::consts::LN_2 / ng as f64;
                let mut prod = [1.0f64; GROUPS];
                let mut total = [0.0f64; GROUPS];
                let groups_per_row = bias.len() / ng; // 0 without a bias
                for (i, (pb, ob)) in pre.chunks_mut(step).zip(out.chunks_mut(step / ng)).enumerate() {
                    if groups_per_row > 0 {
                        let g0 = first + i * (step / ng);
                        for (j, grp) in pb.chunks_mut(ng).enumerate() {
                            let c = (g0 + j) % groups_per_row;
                            grp.iter_mut().zip(&bias[c * ng..(c + 1) * ng]).for_each(|(x, b)| *x += *b);
                        }
                    }
                    if step > BLOCK {
                        // Groups longer than a block (not met in GCNets): plain scalar code.
                        for (g, o) in pb.chunks_mut(ng).zip(ob.iter_mut()) {
                            *o = g.iter().map(|&x| softplus_scalar(x)).sum::<$t>() / ng as $t;
                            if keep_slope {
                                g.iter_mut().for_each(|x| *x = slope_scalar(*x));
                            }
                        }
                        continue;
                    }
                    let len = pb.len();
                    elementwise_block::<FMA>(pb, &mut mant[..len], &mut lin[..len], keep_slope);
                    for ((m, l), (p, t)) in mant[..len].chunks(ng).zip(lin[..len].chunks(ng)).zip(prod.iter_mut().zip(total.iter_mut())) {
                        (*p, *t) = group_product::<$t, $lanes>(m, l);
                    }
                    for ((o, p), t) in ob.iter_mut().zip(&prod).zip(&total) {
                        *o = ((t + log2::<FMA>(*p)) * scale) as $t;
                    }
                }
            }

            /// Softplus and its slope with libm, for the scalar paths of groups too long for
            /// a block.
            fn softplus_scalar(x: $t) -> $t {
                if x > THRESHOLD as $t { x } else { x.exp().ln_1p() }
            }
            fn slope_scalar(x: $t) -> $t {
                if x > THRESHOLD as $t { 1.0 } else { 1.0 / (1.0 + (-x).exp()) }
            }

            /// [`forward_impl`] for rows `(ng, c)`: groups of elements `c` apart.
            #[inline(always)]
            fn interleaved<const FMA: bool>(pre: &mut [$t], out: &mut [$t], ng: usize, keep_slope: bool, c: usize) {
                let cols = ng * c;
                if cols > BLOCK || c > GROUPS || ng >= <$t as Real>::MAX_FACTORS {
                    // Rows longer than a block (not met in GCNets): plain scalar code.
                    for (row, o) in pre.chunks_exact_mut(cols).zip(out.chunks_exact_mut(c)) {
                        for (j, o) in o.iter_mut().enumerate() {
                            *o = row.iter().skip(j).step_by(c).map(|&x| softplus_scalar(x)).sum::<$t>() / ng as $t;
                        }
                        if keep_slope {
                            row.iter_mut().for_each(|x| *x = slope_scalar(*x));
                        }
                    }
                    return;
                }
                let mut mant = [0.0 as $t; BLOCK];
                let mut lin = [0.0 as $t; BLOCK];
                let step = (BLOCK / cols).clamp(1, GROUPS / c) * cols;
                let scale = std::f64::consts::LN_2 / ng as f64;
                let mut prod = [1.0f64; GROUPS];
                let mut total = [0.0f64; GROUPS];
                for (pb, ob) in pre.chunks_mut(step).zip(out.chunks_mut(step / ng)) {
                    let len = pb.len();
                    elementwise_block::<FMA>(pb, &mut mant[..len], &mut lin[..len], keep_slope);
                    // the products of a row's factors, one lane per group, then the
                    // logarithms of the block's groups in one vectorised loop
                    let groups = len / ng;
                    for ((m, l), (p, t)) in mant[..len]
                        .chunks(cols)
                        .zip(lin[..len].chunks(cols))
                        .zip(prod[..groups].chunks_mut(c).zip(total[..groups].chunks_mut(c)))
                    {
                        by_width!(c, strided_product::<$t>(m, l, p, t))
                    }
                    for ((o, p), t) in ob.iter_mut().zip(&prod[..groups]).zip(&total[..groups]) {
                        *o = ((t + log2::<FMA>(*p)) * scale) as $t;
                    }
                }
            }

            /// [`elementwise`] on one block; where every element lies in [FLOOR, THRESHOLD]
            /// (no NaN, nothing clamped: the usual case) without the selects the other
            /// elements need (measured: the selects cost about a fifth of the block).
            #[inline(always)]
            fn elementwise_block<const FMA: bool>(pb: &mut [$t], mant: &mut [$t], lin: &mut [$t], keep_slope: bool) {
                let plain = pb.iter().fold(true, |ok, &v| ok & (v >= FLOOR) & (v <= THRESHOLD as $t));
                match (plain, keep_slope) {
                    (true, true) => elementwise::<FMA, true, true>(pb, mant, lin),
                    (true, false) => elementwise::<FMA, false, true>(pb, mant, lin),
                    (false, true) => elementwise::<FMA, true, false>(pb, mant, lin),
                    (false, false) => elementwise::<FMA, false, false>(pb, mant, lin),
                }
            }

            /// `PLAIN`: every element is known to lie in [FLOOR, THRESHOLD].
            #[inline(always)]
            fn elementwise<const FMA: bool, const KEEP: bool, const PLAIN: bool>(pb: &mut [$t], mant: &mut [$t], lin: &mut [$t]) {
                const MANT_MASK: $bits = (1 << $mant_bits) - 1;
                const ONE_BITS: $bits = ($bias as $bits) << $mant_bits;
                // the exponent field as a float, through the bits of 2^mant_bits + field
                const MAGIC: $bits = (($bias + $mant_bits) as $bits) << $mant_bits;
                const OFFSET: $t = (1u64 << $mant_bits) as $t + $bias as $t;
                const LOG2_E: $t = std::f64::consts::LOG2_E as $t;
                for ((x, m), l) in pb.iter_mut().zip(mant.iter_mut()).zip(lin.iter_mut()) {
                    let v = *x;
                    if PLAIN {
                        let e = exp::<FMA>(v);
                        let bits = (1.0 + e).to_bits();
                        *m = <$t>::from_bits((bits & MANT_MASK) | ONE_BITS);
                        *l = <$t>::from_bits((bits >> $mant_bits) | MAGIC) - OFFSET;
                        if KEEP {
                            *x = e / (1.0 + e);
                        }
                        continue;
                    }
                    let big = v > THRESHOLD as $t;
                    let e = exp::<FMA>(v.min(THRESHOLD as $t).max(FLOOR));
                    let f = 1.0 + e;
                    let bits = f.to_bits();
                    *m = if big { 1.0 } else { <$t>::from_bits((bits & MANT_MASK) | ONE_BITS) };
                    // NaN in, NaN out (as libtorch's softplus and sigmoid): the clamp above
                    // would turn a NaN into the threshold, so it is passed on explicitly.
                    let nan = v.is_nan();
                    *l = if nan { v } else if big { v * LOG2_E } else { <$t>::from_bits((bits >> $mant_bits) | MAGIC) - OFFSET };
                    if KEEP {
                        let s = e / (1.0 + e);
                        *x = if nan { v } else if big { 1.0 } else if v < FLOOR { 0.0 } else { s };
                    }
                }
            }

            #[inline(always)]
            fn scale_impl<const _SIMD: bool>(slope: &mut [$t], grad: &[$t], sums: &mut [$t], cols: usize, ng: usize, inter: bool) {
                let inv = 1.0 / ng as $t;
                if inter {
                    // sums (c): per group, over its rows and operations
                    by_width!(sums.len(), scale_strided::<$t>(slope, grad, sums, inv));
                    return;
                }
                for (row, g) in slope.chunks_exact_mut(cols).zip(grad.chunks_exact(cols / ng)) {
                    for ((grp, &gv), acc) in row.chunks_exact_mut(ng).zip(g).zip(sums.chunks_exact_mut(ng)) {
                        let c = gv * inv;
                        for (x, a) in grp.iter_mut().zip(acc.iter_mut()) {
                            *x *= c;
                            *a += *x;
                        }
                    }
                }
            }
        }
    };
}

/// The polynomial with coefficients `desc` (highest degree first, at most 16) at `x`, by
/// Estrin's scheme: pairs of terms joined level by level with x, x^2, x^4 and x^8, so the
/// chain of dependent operations is 4 long instead of Horner's 12 (f64 training measured
/// 3% faster). Only the terms `desc` has are formed: padding to 16 with zeros kept 8 of
/// f32's 15 multiply-adds, which the compiler may not drop (`fma(0, x, 0)` is NaN for an
/// infinite x). Fixed trip counts, so the compiler unrolls it completely.
#[inline(always)]
fn estrin<const FMA: bool, T: Real>(x: T, desc: &[T]) -> T {
    let mut c = [T::ZERO; 16];
    for (i, &d) in desc.iter().rev().enumerate() {
        c[i] = d;
    }
    // Each level pairs the terms of the one before (a last unpaired term carries over);
    // `n` counts the terms left, a constant once inlined, so the branches fold away.
    let mut n = desc.len();
    let mut power = x;
    for width in [8, 4, 2, 1] {
        if n > 1 {
            for i in 0..width {
                if 2 * i + 1 < n {
                    c[i] = mul_add::<FMA, T>(c[2 * i + 1], power, c[2 * i]);
                } else if 2 * i < n {
                    c[i] = c[2 * i];
                }
            }
            n = n.div_ceil(2);
            power = power * power;
        }
    }
    c[0]
}

/// `a * b + c`, fused where the CPU has FMA (a call to libm's fma otherwise would be slow).
#[inline(always)]
fn mul_add<const FMA: bool, T: Real>(a: T, b: T, c: T) -> T {
    if FMA { a.fma(b, c) } else { a * b + c }
}

/// The kernels' element types: fused multiply-add and what the group products need.
trait Real: Copy + std::ops::Mul<Output = Self> + std::ops::Add<Output = Self> {
    /// Products of fewer mantissas (each below 2) than this cannot overflow.
    const MAX_FACTORS: usize;
    const ONE: Self;
    const ZERO: Self;
    fn fma(self, b: Self, c: Self) -> Self;
    fn to_f64(self) -> f64;
}
impl Real for f64 {
    const MAX_FACTORS: usize = 1000;
    const ONE: f64 = 1.0;
    const ZERO: f64 = 0.0;
    #[inline(always)]
    fn fma(self, b: f64, c: f64) -> f64 {
        self.mul_add(b, c)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}
impl Real for f32 {
    const MAX_FACTORS: usize = 120;
    const ONE: f32 = 1.0;
    const ZERO: f32 = 0.0;
    #[inline(always)]
    fn fma(self, b: f32, c: f32) -> f32 {
        self.mul_add(b, c)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// The product of the mantissas `m` (each in [1, 2)) and the sum of `l`, as `(p, t)` with
/// `log2 p + t` their log2 total; `LANES` partial products and sums in the working
/// precision (vector lanes).
#[inline(always)]
fn group_product<T: Real, const LANES: usize>(m: &[T], l: &[T]) -> (f64, f64) {
    let mut prod = [T::ONE; LANES];
    let mut sum = [T::ZERO; LANES];
    let mut mc = m.chunks_exact(LANES);
    let mut lc = l.chunks_exact(LANES);
    for (a, b) in (&mut mc).zip(&mut lc) {
        for j in 0..LANES {
            prod[j] = prod[j] * a[j];
            sum[j] = sum[j] + b[j];
        }
    }
    for (j, (a, b)) in mc.remainder().iter().zip(lc.remainder()).enumerate() {
        prod[j] = prod[j] * *a;
        sum[j] = sum[j] + *b;
    }
    let total = sum.iter().fold(T::ZERO, |acc, &x| acc + x).to_f64();
    if m.len() < T::MAX_FACTORS {
        // the whole product is below 2^MAX_FACTORS: one product in the working precision
        return (prod.iter().fold(T::ONE, |acc, &x| acc * x).to_f64(), total);
    }
    // Longer groups (not met in GCNets): lanes joined in f64, their logarithm taken before
    // it could overflow. A lane holds at most BLOCK/LANES mantissas.
    let (mut p, mut total) = (1.0f64, total);
    for q in &prod {
        let q = q.to_f64();
        if p > 1e150 || q > 1e150 {
            total += p.log2() + q.log2();
            p = 1.0;
        } else {
            p *= q;
        }
    }
    (p, total)
}

/// For a row `(ng, c)` of mantissas `m` and sums `l`: per column j the product of `m[g*c + j]`
/// over g into `p[j]` and the sum of `l[g*c + j]` into `t[j]`, in the working precision
/// (the caller keeps `ng` below `T::MAX_FACTORS`). `C` is `c` when fixed at compile time,
/// else 0; `Q` partial products and sums per column (a power of two), so that `Q*C` lanes
/// fill a vector or more: one chain would wait on each operation's latency, and narrow
/// rows (the one-channel last layer: c = 1 in f64, 2 with f32's two samples side by side)
/// would otherwise run one element at a time.
#[inline(always)]
fn strided_product<T: Real, const C: usize, const Q: usize>(m: &[T], l: &[T], p: &mut [f64], t: &mut [f64]) {
    let c = p.len();
    if C > 0 {
        let mut pc = [[T::ONE; C]; Q];
        let mut tc = [[T::ZERO; C]; Q];
        let (mut mq, mut lq) = (m.chunks_exact(Q * C), l.chunks_exact(Q * C));
        for (aq, bq) in (&mut mq).zip(&mut lq) {
            for (q, (a, b)) in aq.chunks_exact(C).zip(bq.chunks_exact(C)).enumerate() {
                for j in 0..C {
                    pc[q][j] = pc[q][j] * a[j];
                    tc[q][j] = tc[q][j] + b[j];
                }
            }
        }
        for (a, b) in mq.remainder().chunks_exact(C).zip(lq.remainder().chunks_exact(C)) {
            for j in 0..C {
                pc[0][j] = pc[0][j] * a[j];
                tc[0][j] = tc[0][j] + b[j];
            }
        }
        let (pc, tc) = (join_pairs(pc, |a, b| a * b), join_pairs(tc, |a, b| a + b));
        for j in 0..C {
            p[j] = pc[j].to_f64();
            t[j] = tc[j].to_f64();
        }
        return;
    }
    let mut pc = vec![T::ONE; c];
    let mut tc = vec![T::ZERO; c];
    for (a, b) in m.chunks_exact(c).zip(l.chunks_exact(c)) {
        for j in 0..c {
            pc[j] = pc[j] * a[j];
            tc[j] = tc[j] + b[j];
        }
    }
    for j in 0..c {
        p[j] = pc[j].to_f64();
        t[j] = tc[j].to_f64();
    }
}

/// The `Q` partials (a power of two) of every column joined by `op`, neighbours first and
/// level by level: ((0 1)(2 3)) ((4 5)(6 7)) ..., a fixed order, so fixed bits.
#[inline(always)]
fn join_pairs<T: Copy, const C: usize, const Q: usize>(mut parts: [[T; C]; Q], op: impl Fn(T, T) -> T) -> [T; C] {
    let mut n = Q;
    while n > 1 {
        for i in 0..n / 2 {
            let (a, b) = (parts[2 * i], parts[2 * i + 1]);
            for (x, (a, b)) in parts[i].iter_mut().zip(a.into_iter().zip(b)) {
                *x = op(a, b);
            }
        }
        n /= 2;
    }
    parts[0]
}

/// Rows `(ng, c)` of slopes times `grad[r, j] * inv` in place (j the column within a chunk
/// of c), their sums per j added into `sums (c)`; `C` is c when fixed at compile time, else 0.
#[inline(always)]
fn scale_strided<T: Real + std::ops::MulAssign + std::ops::AddAssign, const C: usize, const Q: usize>(
    slope: &mut [T],
    grad: &[T],
    sums: &mut [T],
    inv: T,
) {
    let c = sums.len();
    let cols = slope.len() / (grad.len() / c).max(1);
    if C > 0 {
        // Q partial sums per column (a power of two), as in `strided_product`
        let mut acc = [[T::ZERO; C]; Q];
        for (row, g) in slope.chunks_exact_mut(cols).zip(grad.chunks_exact(C)) {
            let mut f = [T::ZERO; C];
            for j in 0..C {
                f[j] = g[j] * inv;
            }
            let mut quads = row.chunks_exact_mut(Q * C);
            for quad in &mut quads {
                for (grp, a) in quad.chunks_exact_mut(C).zip(acc.iter_mut()) {
                    for j in 0..C {
                        grp[j] *= f[j];
                        a[j] += grp[j];
                    }
                }
            }
            for grp in quads.into_remainder().chunks_exact_mut(C) {
                for j in 0..C {
                    grp[j] *= f[j];
                    acc[0][j] += grp[j];
                }
            }
        }
        for (s, a) in sums.iter_mut().zip(join_pairs(acc, |a, b| a + b)) {
            *s += a;
        }
        return;
    }
    for (row, g) in slope.chunks_exact_mut(cols).zip(grad.chunks_exact(c)) {
        for grp in row.chunks_exact_mut(c) {
            for ((x, a), &gv) in grp.iter_mut().zip(sums.iter_mut()).zip(g) {
                *x *= gv * inv;
                *a += *x;
            }
        }
    }
}

/// log2 of a positive normal `x`, branch-free so that the loop over a block's groups
/// vectorises (libm's log2 is a call per group): `x = 2^e m` with `m` in [sqrt(1/2),
/// sqrt(2)), `ln m = 2 atanh(s)`, `s = (m - 1)/(m + 1)`, `|s| <= 0.1716`, summed to `s^19`
/// (the next term is below 2^-55 relative).
#[inline(always)]
fn log2<const FMA: bool>(x: f64) -> f64 {
    const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;
    // 1, 1/3, 1/5, ..., 1/19, highest degree first
    const C: [f64; 10] =
        [1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 0.2, 1.0 / 3.0, 1.0];
    let bits = x.to_bits();
    let e = (bits.wrapping_sub(SQRT_HALF_BITS) as i64) >> 52;
    let m = f64::from_bits(bits.wrapping_sub((e as u64) << 52));
    let s = (m - 1.0) / (m + 1.0);
    let q = estrin::<FMA, f64>(s * s, &C);
    e as f64 + 2.0 * s * q * std::f64::consts::LOG2_E
}

// Taylor coefficients 1/12! .. 1/0! (|r| <= ln2/2: truncation below 2e-16 relative).
kernels!(
    f64k,
    f64,
    u64,
    52,
    1023,
    8,
    -700.0,
    (6.931_471_803_691_238e-1, 1.908_214_929_270_587_7e-10),
    [
        2.087_675_698_786_81e-9,
        2.505_210_838_544_172e-8,
        2.755_731_922_398_589e-7,
        2.755_731_922_398_589e-6,
        2.480_158_730_158_73e-5,
        1.984_126_984_126_984e-4,
        1.388_888_888_888_889e-3,
        8.333_333_333_333_333e-3,
        4.166_666_666_666_666_4e-2,
        1.666_666_666_666_666_6e-1,
        0.5,
        1.0,
        1.0
    ]
);
// 1/7! .. 1/0! for f32 (truncation below 1e-8 relative).
kernels!(
    f32k,
    f32,
    u32,
    23,
    127,
    16,
    -80.0,
    (0.693_359_4, -2.121_944_4e-4),
    [1.984_127e-4, 1.388_888_9e-3, 8.333_334e-3, 4.166_666_8e-2, 1.666_666_7e-1, 0.5, 1.0, 1.0]
);

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows` rows of `cout` groups of 48, with values across every branch: far below the
    /// floor, small, around and above the threshold.
    fn sample(kind: Kind, rows: i64, cout: i64) -> (Tensor, Tensor) {
        let v: Vec<f64> = (0..rows * cout * 48)
            .map(|i| match i % 7 {
                0 => -800.0 + (i % 50) as f64,
                1 => 25.0 + (i % 50) as f64 * 0.01,
                2 => 20.0 - 1e-3 * (i % 50) as f64,
                _ => ((i * 37 % 101) as f64 - 50.0) * 0.31,
            })
            .collect();
        let bias: Vec<f64> = (0..cout * 48).map(|c| ((c * 13 % 17) as f64 - 8.0) * 0.05).collect();
        (Tensor::from_slice(&v).view([rows, cout * 48]).to_kind(kind), Tensor::from_slice(&bias).to_kind(kind))
    }

    /// The fused kernels against libtorch's softplus, its derivative, the broadcast
    /// product and the column sums; a large case runs on several threads, whose parts
    /// start inside rows.
    #[test]
    fn matches_libtorch_softplus_and_sigmoid() {
        let _serial = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let threads_before = tch::get_num_threads();
        tch::set_num_threads(2);
        for (kind, tol) in [(Kind::Double, 1e-14), (Kind::Float, 2e-6)] {
            for (rows, cout) in [(6, 3), (401, 7)] {
                let (pre, bias) = sample(kind, rows, cout);
                let x = &pre + &bias;
                let want = x.softplus().view([rows, cout, 48]).mean_dim(2, false, None);
                let want_slope = x.softplus_backward(&x.ones_like(), 1, 20);
                let mut fused = pre.copy();
                let h = softplus_group_mean(&mut fused, Some(&bias), cout, 48, true);
                let rel = (&h - &want).abs().max().double_value(&[]) / want.abs().max().double_value(&[]);
                assert!(rel < tol, "{kind:?} {rows}x{cout}: mean softplus off by {rel}");
                let ds = (&fused - &want_slope).abs().max().double_value(&[]);
                assert!(ds < tol, "{kind:?} {rows}x{cout}: slope off by {ds}");
                let grad = Tensor::randn([rows, cout], (kind, Device::Cpu));
                let want_d = (&want_slope.view([rows, cout, 48]) * (grad.unsqueeze(2) / 48.0)).view([rows, cout * 48]);
                let sums = scale_slopes(&mut fused, &grad, cout, 48);
                let dd = (&fused - &want_d).abs().max().double_value(&[]);
                assert!(dd < tol, "{kind:?} {rows}x{cout}: scaled slope off by {dd}");
                let want_sums = want_d.sum_dim_intlist(0, false, None);
                let dsum = (&sums - &want_sums).abs().max().double_value(&[]) / want_sums.abs().max().double_value(&[]);
                assert!(dsum < 10.0 * tol, "{kind:?} {rows}x{cout}: column sums off by {dsum}");
            }
        }
        tch::set_num_threads(threads_before);
    }

    /// Blocks whose elements all lie in [FLOOR, THRESHOLD] take the path without selects:
    /// against libtorch in both layouts, beside blocks that hold one element above the
    /// threshold, one NaN or one below the floor (the other path).
    #[test]
    fn in_range_blocks_match_libtorch() {
        for (kind, tol) in [(Kind::Double, 1e-14), (Kind::Float, 2e-6)] {
            let (rows, cout) = (64i64, 8i64);
            let pre = (Tensor::rand([rows, cout * 48], (Kind::Double, Device::Cpu)) * 30.0 - 15.0).to_kind(kind);
            for (idx, v) in [(5000, 25.0), (9000, f64::NAN), (14000, -900.0)] {
                let _ = pre.view([-1]).get(idx).fill_(v);
            }
            let want = pre.softplus().view([rows, cout, 48]).mean_dim(2, false, None);
            let want_slope = pre.softplus_backward(&pre.ones_like(), 1, 20);
            let mut fused = pre.copy();
            let h = softplus_group_mean(&mut fused, None, cout, 48, true);
            let inter = pre.view([rows, cout, 48]).transpose(1, 2).contiguous().view([rows, 48 * cout]);
            let mut fused_i = inter.copy();
            let hi = softplus_group_mean_interleaved(&mut fused_i, cout, 48, true);
            let slope_i = fused_i.view([rows, 48, cout]).transpose(1, 2).contiguous().view([rows, cout * 48]);
            for (what, got, want) in [
                ("means", &h, &want),
                ("means, interleaved", &hi, &want),
                ("slopes", &fused, &want_slope),
                ("slopes, interleaved", &slope_i, &want_slope),
            ] {
                let ok = got.isnan().eq_tensor(&want.isnan()).all().int64_value(&[]) == 1;
                let d =
                    (got.nan_to_num(0.0, None, None) - want.nan_to_num(0.0, None, None)).abs().max().double_value(&[]);
                assert!(
                    ok && d < tol * want.nan_to_num(0.0, None, None).abs().max().double_value(&[]).max(1.0),
                    "{kind:?} {what}: off by {d} (NaNs in the same places: {ok})"
                );
            }
        }
    }

    /// The `(R, ng, cout)` layout equals the contiguous one on the transposed rows, bit for
    /// bit (the same element operations and group products), for the means, the slopes,
    /// the scaled slopes and the column sums; widths with and without a fixed kernel.
    #[test]
    fn interleaved_layout_equals_contiguous() {
        let _serial = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let threads_before = tch::get_num_threads();
        tch::set_num_threads(2);
        for (kind, tol) in [(Kind::Double, 1e-14), (Kind::Float, 2e-6)] {
            // every width with its own kernel (1, 2, 4, 8, 16) and two without (3, 5)
            for (rows, cout) in [(6, 3), (401, 8), (37, 1), (53, 2), (23, 4), (19, 16), (9, 5)] {
                let (pre, _) = sample(kind, rows, cout);
                let inter = pre.view([rows, cout, 48]).transpose(1, 2).contiguous().view([rows, 48 * cout]);
                let (mut a, mut b) = (pre.copy(), inter.copy());
                let ha = softplus_group_mean(&mut a, None, cout, 48, true);
                let hb = softplus_group_mean_interleaved(&mut b, cout, 48, true);
                let d = (&ha - &hb).abs().max().double_value(&[]) / ha.abs().max().double_value(&[]);
                assert!(d < tol, "{kind:?} {rows}x{cout}: means differ by {d}");
                let back = |t: &Tensor| t.view([rows, 48, cout]).transpose(1, 2).contiguous().view([rows, cout * 48]);
                assert!(back(&b).equal(&a), "{kind:?} {rows}x{cout}: slopes differ");
                let grad = Tensor::randn([rows, cout], (kind, Device::Cpu));
                let sa = scale_slopes(&mut a, &grad, cout, 48);
                let sb = scale_slopes_interleaved(&mut b, &grad, cout, 48);
                assert!(back(&b).equal(&a), "{kind:?} {rows}x{cout}: scaled slopes differ");
                let sa = sa.view([cout, 48]).sum_dim_intlist(1, false, None);
                // relative to the sum of the terms' sizes (slopes are in [0, 1]): with random
                // signs a column sum may cancel to far below its rounding error
                let size = grad.abs().sum_dim_intlist(0, false, None).max().double_value(&[]);
                let ds = (&sa - &sb).abs().max().double_value(&[]) / size;
                assert!(ds < 10.0 * tol, "{kind:?} {rows}x{cout}: column sums differ by {ds}");
            }
        }
        tch::set_num_threads(threads_before);
    }

    /// The vectorisable log2 against libm's, from 1 to 2^1000 and near the powers of two
    /// and sqrt(2) where the reduction switches, with and without FMA.
    #[test]
    fn log2_matches_libm() {
        let mut xs: Vec<f64> = (0..20000).map(|i| 1.0 + i as f64 * 0.000_173).collect();
        for e in 0..1000 {
            let p = 2f64.powi(e);
            xs.extend([p, p * std::f64::consts::SQRT_2, p * (1.0 + 1e-15), p * (2.0 - 1e-15), p * 1.234_567]);
        }
        for x in xs {
            let want = x.log2();
            let tol = 2.0 * f64::EPSILON * want.abs().max(1.0);
            for got in [log2::<true>(x), log2::<false>(x)] {
                assert!((got - want).abs() <= tol, "log2({x:e}) = {got}, libm {want}");
            }
        }
    }

    /// NaN in, NaN out, as libtorch's softplus and sigmoid: a NaN pre-activation makes its
    /// group's mean and its own slope NaN and leaves every other group exact; infinities
    /// give softplus(+inf) = inf and softplus(-inf) = 0 with slopes 1 and 0.
    #[test]
    fn nan_and_infinities_pass_through_as_in_libtorch() {
        for kind in [Kind::Double, Kind::Float] {
            let (pre, bias) = sample(kind, 5, 3);
            let pre = pre.copy();
            for (idx, v) in [(7, f64::NAN), (48 * 4 + 1, f64::INFINITY), (48 * 7 + 2, f64::NEG_INFINITY)] {
                let _ = pre.view([-1]).get(idx).fill_(v);
            }
            let x = &pre + &bias;
            let want = x.softplus().view([5, 3, 48]).mean_dim(2, false, None);
            let want_slope = x.softplus_backward(&x.ones_like(), 1, 20);
            let mut fused = pre.copy();
            let h = softplus_group_mean(&mut fused, Some(&bias), 3, 48, true);
            let (h, want) = (h.to_kind(Kind::Double).view([-1]), want.to_kind(Kind::Double).view([-1]));
            for g in 0..15 {
                let (a, b) = (h.double_value(&[g]), want.double_value(&[g]));
                let same = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 2e-6 * b.abs().max(1.0);
                assert!(same, "{kind:?} group {g}: fused {a}, libtorch {b}");
            }
            assert!(h.double_value(&[0]).is_nan() && h.double_value(&[4]).is_infinite());
            let (fs, ws) = (fused.to_kind(Kind::Double).view([-1]), want_slope.to_kind(Kind::Double).view([-1]));
            for i in [7, 48 * 4 + 1, 48 * 7 + 2] {
                let (a, b) = (fs.double_value(&[i]), ws.double_value(&[i]));
                assert!((a.is_nan() && b.is_nan()) || a == b, "{kind:?} slope {i}: fused {a}, libtorch {b}");
            }
        }
    }

    /// Many large arguments in one group: the product of the factors must not overflow.
    #[test]
    fn no_overflow_with_large_arguments() {
        let pre = Tensor::full([2, 48], 19.9, (Kind::Double, Device::Cpu));
        let h = softplus_group_mean(&mut pre.copy(), None, 1, 48, false);
        let want = pre.softplus().mean_dim(1, false, None);
        assert!((&h - &want).abs().max().double_value(&[]) < 1e-13);
    }

    /// Groups too long for one product in the working precision (f32 groups of 200, f64
    /// groups of 1024) take the lane-by-lane path and still match libtorch.
    #[test]
    fn long_groups_match_libtorch() {
        for (kind, ng, tol) in [(Kind::Float, 200, 1e-6), (Kind::Double, 1024, 1e-14)] {
            let pre = Tensor::full([3, ng], 19.9, (Kind::Double, Device::Cpu)).to_kind(kind);
            let h = softplus_group_mean(&mut pre.copy(), None, 1, ng, false);
            let want = pre.softplus().mean_dim(1, false, None);
            let d = (&h - &want).abs().max().double_value(&[]) / want.abs().max().double_value(&[]);
            assert!(d < tol, "{kind:?} groups of {ng}: off by {d}");
        }
    }

    /// Autograd-tracked tensors take the libtorch path and keep their graph.
    #[test]
    fn autograd_tensors_use_libtorch() {
        let pre = sample(Kind::Double, 6, 3).0.set_requires_grad(true);
        let mut p = &pre * 1.0;
        let h = softplus_group_mean(&mut p, None, 3, 48, false);
        h.sum(Kind::Double).backward();
        assert!(pre.grad().defined());
    }
}
