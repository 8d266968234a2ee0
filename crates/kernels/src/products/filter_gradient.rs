//! The f32 filter gradient `h^T dZ` of a layer with 8 input channels on AVX-512: the
//! gradient's columns `c0..c0 + width` summed over the rows of `h (R, 8)` and `dZ (R, n)`,
//! held in AVX-512 registers (up to 3 vectors of 16 columns for each of the 8
//! rows of the gradient: 24 accumulators), every `dZ` row read once. The `gemm` crate takes
//! `dZ`'s columns as its vector lanes and first copies a factor whose lane count is no
//! multiple of 16 (104 columns are 6.5 f32 vectors; 40% of its time in perf at one
//! thread): in f32 this product took as long per sample as in f64 there.

/// Input channels the kernel is for (the published layers).
pub(super) const C: usize = 8;
/// Columns of one part.
pub(super) const SLICE: usize = 48;

pub(super) fn width(n: usize, c0: usize) -> usize {
    (n - c0).min(SLICE)
}

/// `g (8, width)` = the columns from `c0` of `h^T dZ`. Callers check [`super::avx512_available`].
pub(super) fn columns(dz: &[f32], h: &[f32], n: usize, c0: usize, g: &mut [f32]) {
    let w = width(n, c0);
    assert!(
        super::avx512_available()
            && c0 < n
            && dz.len() == h.len() / C * n
            && h.len().is_multiple_of(C)
            && g.len() == C * w,
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
