//! The f32 input gradient `dZ W^T` of a layer with 8 input channels on AVX-512: `dZ (R, k)`
//! times the transpose of the site filters `W (8, k)`, one output row of 8 per `dZ` row.
//!
//! The `gemm` crate takes the output's 8 columns as its vector lanes: half an f32 vector,
//! so this product took as long per sample in f32 as in f64 (in `gcnet bench`'s paired
//! passes 1.2x). Here a row's 8 outputs are dot products over k: `dZ`'s row is read 8
//! values at a time into both halves of a vector (a broadcast load, no shuffle), against
//! the filters of two channels side by side, so every multiply-add fills the vector; 4 rows
//! share each filter load, and each row's sums are reduced across lanes once at its end.
//! Every output element is one sum in a fixed order, whatever the thread count.

/// Output columns (input channels of the layer) the kernel is for.
pub(super) const C: usize = 8;
/// Rows of `dZ` that share the filter loads.
const ROWS: usize = 4;

/// The filters `w (8, k)` rearranged for the kernel: for each chunk of 8 along k and each
/// pair of channels (2p, 2p+1), their 8 values side by side (16), a short last chunk padded
/// with zeros.
pub(super) fn pairs(w: &[f32], k: usize) -> Vec<f32> {
    assert_eq!(w.len(), C * k, "input gradient: filter shape");
    let chunks = k.div_ceil(8);
    let mut out = vec![0f32; chunks * (C / 2) * 16];
    for j in 0..chunks {
        for p in 0..C / 2 {
            for half in 0..2 {
                let row = &w[(2 * p + half) * k..(2 * p + half + 1) * k];
                for i in 0..8.min(k - 8 * j) {
                    out[(j * (C / 2) + p) * 16 + 8 * half + i] = row[8 * j + i];
                }
            }
        }
    }
    out
}

/// `out (rows, 8) = dz (rows, k) W^T` with `pairs` from [`pairs`] of `W`. Callers check
/// [`super::avx512_available`].
pub(super) fn rows(dz: &[f32], pairs: &[f32], k: usize, out: &mut [f32]) {
    let rows = out.len() / C;
    assert!(
        super::avx512_available()
            && k > 0
            && out.len() == rows * C
            && dz.len() == rows * k
            && pairs.len() == k.div_ceil(8) * 64,
        "input gradient: shapes"
    );
    let (full, _) = dz.split_at(rows / ROWS * ROWS * k);
    let (out_full, out_rest) = out.split_at_mut(rows / ROWS * ROWS * C);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has AVX-512F (checked above); the shapes were checked.
    unsafe {
        for (d, o) in full.chunks_exact(ROWS * k).zip(out_full.chunks_exact_mut(ROWS * C)) {
            avx512::<ROWS>(d, pairs, k, o);
        }
        for (d, o) in dz[full.len()..].chunks_exact(k).zip(out_rest.chunks_exact_mut(C)) {
            avx512::<1>(d, pairs, k, o);
        }
    }
}

/// `N` rows: `dz (N, k)`, `out (N, 8)`, `pairs` of `k.div_ceil(8) * 64` floats.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn avx512<const N: usize>(dz: &[f32], pairs: &[f32], k: usize, out: &mut [f32]) {
    use std::arch::x86_64::*;
    // the unchecked loads below rely on these (a few compares per N rows)
    assert!(dz.len() == N * k && pairs.len() == k.div_ceil(8) * 64 && out.len() == N * C, "input gradient: shapes");
    // acc[r][p]: lanes 0..8 partial sums of channel 2p of row r, lanes 8..16 of channel 2p+1
    let mut acc = [[_mm512_setzero_ps(); C / 2]; N];
    let whole = k / 8;
    // a short last chunk of each row, padded with zeros
    let mut tail = [[0f32; 8]; N];
    for (r, t) in tail.iter_mut().enumerate() {
        let rest = &dz[r * k + 8 * whole..(r + 1) * k];
        t[..rest.len()].copy_from_slice(rest);
    }
    let (rows, filters) = (dz.as_ptr(), pairs.as_ptr());
    for j in 0..k.div_ceil(8) {
        let mut d = [_mm512_setzero_ps(); N];
        for (r, dv) in d.iter_mut().enumerate() {
            // SAFETY: 8 floats from row r's chunk j (j < whole: inside the row) or from its
            // tail; loaded as 4 doubles' bits and repeated in both halves (AVX-512F's
            // broadcast; the values are only moved).
            *dv = unsafe {
                let src = if j < whole { rows.add(r * k + 8 * j) } else { tail[r].as_ptr() };
                _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd(src.cast())))
            };
        }
        for p in 0..C / 2 {
            // SAFETY: `pairs` holds 64 floats for each of the k.div_ceil(8) chunks (checked
            // by the caller).
            let wv = unsafe { _mm512_loadu_ps(filters.add((j * (C / 2) + p) * 16)) };
            for (a, dv) in acc.iter_mut().zip(&d) {
                a[p] = _mm512_fmadd_ps(*dv, wv, a[p]);
            }
        }
    }
    // Per row: the 4 accumulators' 8-lane halves summed to the 8 outputs, in a fixed order.
    // 128-bit quarters q: of acc[p], q0 q1 hold channel 2p, q2 q3 channel 2p+1.
    let gather = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    for (a, o) in acc.iter().zip(out.chunks_exact_mut(C)) {
        // quarters (c0 c1 c2 c3) and (c4 c5 c6 c7), 4 partial sums each
        let low = _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b10_00_10_00>(a[0], a[1]),
            _mm512_shuffle_f32x4::<0b11_01_11_01>(a[0], a[1]),
        );
        let high = _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b10_00_10_00>(a[2], a[3]),
            _mm512_shuffle_f32x4::<0b11_01_11_01>(a[2], a[3]),
        );
        // in quarter q: (x0 y0 x1 y1) + (x2 y2 x3 y3), x of channel q, y of channel q + 4
        let t = _mm512_add_ps(_mm512_unpacklo_ps(low, high), _mm512_unpackhi_ps(low, high));
        // lane 0 of quarter q: channel q, lane 1: channel q + 4
        let t = _mm512_add_ps(t, _mm512_shuffle_ps::<0b01_00_11_10>(t, t));
        let v = _mm512_permutexvar_ps(gather, t);
        // SAFETY: `o` holds 8 floats; the store writes lanes 0..8 only.
        unsafe { _mm512_mask_storeu_ps(o.as_mut_ptr(), 0xFF, v) };
    }
}
