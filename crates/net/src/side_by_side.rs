//! Samples side by side on the site-first route.
//!
//! A block sum (`gcnet_kernels::block_sum`) reads one block of `Cout` values per term and
//! its speed is bound by those reads, one vector load per block however narrow the block.
//! With 8 channels a block is 64 bytes in f64 (a whole AVX-512 vector) but 32 in f32, so
//! f32 summed no faster than f64. Rows that hold the same site of `group` samples side by
//! side (row `(p, s)`, block k = `Z[k]` of samples `group*p .. group*p + group` in turn)
//! make every block `group` times wider under the same neighbour tables: one load then
//! serves two samples. The small product makes those rows directly (`filters_together`),
//! and the backward's block sums write one row per sample again
//! (`gcnet_kernels::block_sum_split`). The layer is unchanged per sample and so is the
//! order of every block sum.
//!
//! Activations stay rows `(R, C)`, in the order (sample group, site, sample in group); a
//! batch whose size is not a multiple of the group gets zero samples appended, whose
//! outputs are dropped and whose gradients are zero.

use tch::{Kind, Tensor};

/// How many samples share a row on the site-first route of a network, for its widest
/// layer and element kind: two where that layer's block is at most half a 64-byte vector.
pub(crate) fn group_for(widest_cout: i64, kind: Kind) -> i64 {
    let size = if kind == Kind::Float { 4 } else { 8 };
    if widest_cout * size <= 32 { 2 } else { 1 }
}

/// Number of row groups for `batch` samples.
pub(crate) fn groups(batch: i64, group: i64) -> i64 {
    (batch + group - 1) / group
}

/// Rows `(B*S, C)` in sample order to the side-by-side order `(groups*group*S, C)`,
/// appending zero samples up to a multiple of `group`.
pub(crate) fn rows_in(x: &Tensor, sites: i64, group: i64) -> Tensor {
    if group == 1 {
        return x.shallow_clone();
    }
    let (rows, c) = x.size2().expect("activations are (rows, channels)");
    let batch = rows / sites;
    let pad = groups(batch, group) * group - batch;
    let x = x.view([batch, sites, c]);
    let x = if pad > 0 {
        let zeros = Tensor::zeros([pad, sites, c], (x.kind(), x.device()));
        Tensor::cat(&[x, zeros], 0)
    } else {
        x
    };
    x.view([-1, group, sites, c]).transpose(1, 2).contiguous().view([-1, c])
}

/// The inverse of [`rows_in`] for `batch` samples: rows back in sample order, the
/// appended samples dropped.
pub(crate) fn rows_out(h: &Tensor, sites: i64, group: i64, batch: i64) -> Tensor {
    if group == 1 {
        return h.shallow_clone();
    }
    let c = h.size2().expect("activations are (rows, channels)").1;
    h.view([-1, sites, group, c]).transpose(1, 2).contiguous().view([-1, c]).narrow(0, 0, batch * sites)
}

/// The site filters `a (Cin, K*C)` for rows of `group` samples side by side:
/// `(group*Cin, K*group*C)`, zero but for `a` from input j to block part j. The product of
/// a side-by-side row with them is every sample's `Z` row, block by block side by side, as
/// the block sums read it; the zeros double the small product's work (a few per cent of
/// a layer) where rearranging `Z` would cost a pass over it.
pub(crate) fn filters_together(a: &Tensor, group: i64, k: i64, c: i64) -> Tensor {
    if group == 1 {
        return a.shallow_clone();
    }
    let cin = a.size()[0];
    let wide = Tensor::zeros([group, cin, k, group, c], (a.kind(), a.device()));
    for j in 0..group {
        wide.select(0, j).select(2, j).copy_(&a.view([cin, k, c]));
    }
    wide.view([group * cin, k * group * c])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_with_padding() {
        let _rng = crate::global_rng();
        let (sites, c) = (5, 3);
        for batch in [1, 2, 3, 4] {
            let x = Tensor::randn([batch * sites, c], (Kind::Double, tch::Device::Cpu));
            let y = rows_in(&x, sites, 2);
            assert_eq!(y.size(), [groups(batch, 2) * 2 * sites, c]);
            // row (p, s, j) is site s of sample 2p + j
            for (b, s) in [(0, 0), (batch - 1, sites - 1), (batch - 1, 2)] {
                let row = ((b / 2) * sites + s) * 2 + b % 2;
                assert!(y.get(row).equal(&x.get(b * sites + s)));
            }
            if batch % 2 == 1 {
                let last = (groups(batch, 2) - 1) * sites * 2;
                assert_eq!(
                    y.narrow(0, last, sites * 2).view([sites, 2, c]).select(1, 1).abs().sum(None).double_value(&[]),
                    0.0
                );
            }
            assert!(rows_out(&y, sites, 2, batch).equal(&x));
        }
    }

    #[test]
    fn wide_filters_give_every_sample_its_blocks() {
        let _rng = crate::global_rng();
        let (cin, k, c) = (3, 13, 4);
        let h = Tensor::randn([6, cin], (Kind::Double, tch::Device::Cpu));
        let a = Tensor::randn([cin, k * c], (Kind::Double, tch::Device::Cpu));
        let z = h.mm(&a); // (6, K*C), rows in side-by-side order
        let t = h.view([3, 2 * cin]).mm(&filters_together(&a, 2, k, c));
        assert_eq!(t.size(), [3, k * 2 * c]);
        // block k of pair row p: row 2p's block k, then row 2p+1's
        for (p, kk) in [(0, 0), (1, 7), (2, 12)] {
            let want = Tensor::cat(&[z.get(2 * p).narrow(0, kk * c, c), z.get(2 * p + 1).narrow(0, kk * c, c)], 0);
            let d = (t.get(p).narrow(0, kk * 2 * c, 2 * c) - want).abs().max().double_value(&[]);
            assert!(d < 1e-14, "pair row {p}, block {kk}: {d}");
        }
        assert!(filters_together(&a, 1, k, c).equal(&a));
        assert_eq!(group_for(8, Kind::Float), 2);
        assert_eq!(group_for(8, Kind::Double), 1);
        assert_eq!(group_for(4, Kind::Double), 2);
        assert_eq!(group_for(16, Kind::Float), 1);
    }
}
