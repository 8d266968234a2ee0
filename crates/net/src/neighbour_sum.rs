//! The backward of the neighbour gather, as one pass over the gradient of the gathered
//! rows on the CPU.
//!
//! The forward pass gathers, for every site `t`, the inputs of its neighbours `NN[k, t]`
//! into one row. Its backward sums, for every site, the gradient entries of the rows that
//! read it: `dh[t, i] = sum_k dG[NNinv[k, t], k*Cin + i]`. libtorch's route (an int64 index
//! expanded over channels, a strided `gather`, a sum over k) reads the index once per
//! element and writes a temporary of the whole gradient; here each site reads `z + 1`
//! short contiguous rows and writes its own. Where the products do not take the CPU route
//! ([`products::gemm_enabled`]: CUDA, `GCNET_GEMM=0`) libtorch's route is used.

use tch::{Device, Kind, Tensor};

use crate::parallel::{self, Shared};
use crate::products;

/// `dh (R, cin)` from `dg (R, k*cin)` and the inverse neighbour table `inv (k, 1, R)` of
/// global row numbers (any strides).
pub(crate) fn neighbour_sum(dg: &Tensor, inv: &Tensor, k: i64, cin: i64) -> Tensor {
    let rows = dg.size()[0];
    assert!(
        dg.size() == [rows, k * cin] && inv.size() == [k, 1, rows],
        "neighbour_sum: gradient rows {:?} and table {:?}, expected ({rows}, {}) and ({k}, 1, {rows})",
        dg.size(),
        inv.size(),
        k * cin
    );
    if !(products::gemm_enabled(dg.kind(), dg.device()) && dg.is_contiguous()) {
        // (k, cin, R) view of dG; d h[t, i] = sum_k dG^T[k, i, NNinv[k, t]]
        let dgt = dg.reshape([rows, k, cin]).permute([1, 2, 0]);
        let idx = inv.expand([k, cin, rows], false);
        return dgt.gather(2, &idx, false).sum_dim_intlist(0, false, None).transpose(0, 1);
    }
    let inv = inv.to_kind(Kind::Int64);
    let out = Tensor::empty([rows, cin], (dg.kind(), Device::Cpu));
    // the published default (8 channels) with a fixed row length, which vectorises
    match (dg.kind(), cin) {
        (Kind::Double, 8) => run::<f64, 8>(dg, &inv, &out, k as usize, 8),
        (Kind::Float, 8) => run::<f32, 8>(dg, &inv, &out, k as usize, 8),
        (Kind::Double, _) => run::<f64, 0>(dg, &inv, &out, k as usize, cin as usize),
        (Kind::Float, _) => run::<f32, 0>(dg, &inv, &out, k as usize, cin as usize),
        (kind, _) => panic!("neighbour_sum: {kind:?} gradients"),
    }
    out
}

/// `C` is `cin` when it is known at compile time, else 0.
fn run<T: Copy + Default + std::ops::AddAssign + Send + Sync, const C: usize>(
    dg: &Tensor,
    inv: &Tensor,
    out: &Tensor,
    k: usize,
    cin: usize,
) {
    let rows = out.size()[0] as usize;
    let (inv_k, inv_t) = (inv.stride()[0] as usize, inv.stride()[2] as usize);
    let width = k * cin;
    let (src, idx, dst) =
        (Shared(dg.data_ptr() as *mut T), Shared(inv.data_ptr() as *mut i64), Shared(out.data_ptr() as *mut T));
    let cin = if C > 0 { C } else { cin };
    let threads = (tch::get_num_threads().max(1) as usize).min(rows.div_ceil(512)).max(1);
    parallel::run(threads, &|part, parts| {
        let per = rows.div_ceil(parts);
        let (start, end) = ((part * per).min(rows), ((part + 1) * per).min(rows));
        // Blocks of sites, k outermost inside a block: the loads of one k are independent
        // (many in flight) and the block's output rows stay in L1.
        const BLOCK: usize = 64;
        for b0 in (start..end).step_by(BLOCK) {
            let b1 = (b0 + BLOCK).min(end);
            // SAFETY: rows b0..b1 of `out`, written by this part only.
            let out_rows = unsafe { std::slice::from_raw_parts_mut(dst.ptr().add(b0 * cin), (b1 - b0) * cin) };
            out_rows.fill(T::default());
            for kk in 0..k {
                for (t, acc) in (b0..b1).zip(out_rows.chunks_exact_mut(cin)) {
                    // SAFETY: the inverse table holds row numbers below `rows` (built from
                    // the neighbour table, a permutation of each state's sites), read
                    // through its own strides.
                    let row = unsafe {
                        let r = *idx.ptr().add(kk * inv_k + t * inv_t) as usize;
                        debug_assert!(r < rows);
                        std::slice::from_raw_parts(src.ptr().add(r * width + kk * cin), cin)
                    };
                    for (a, &v) in acc.iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equals the libtorch formulation (expanded index, gather, sum over k) on a random
    /// permutation table of two states, with a table view narrowed from a larger one.
    #[test]
    fn equals_gather_and_sum() {
        tch::manual_seed(7);
        let (k, cin, s, b) = (5i64, 3i64, 11i64, 2i64);
        let perms: Vec<Tensor> = (0..k).map(|_| Tensor::randperm(s, (Kind::Int64, Device::Cpu))).collect();
        let table = Tensor::stack(&perms, 0); // (k, s)
        let offsets = Tensor::arange(b + 1, (Kind::Int64, Device::Cpu)) * s;
        let big = (table.view([k, 1, s]) + offsets.view([1, b + 1, 1])).view([k, 1, (b + 1) * s]);
        let inv = big.narrow(2, 0, b * s);
        for (kind, tol) in [(Kind::Double, 1e-13), (Kind::Float, 1e-5)] {
            let dg = Tensor::randn([b * s, k * cin], (kind, Device::Cpu));
            let want = dg
                .view([b * s, k, cin])
                .permute([1, 2, 0])
                .gather(2, &inv.expand([k, cin, b * s], false), false)
                .sum_dim_intlist(0, false, None)
                .transpose(0, 1);
            let got = neighbour_sum(&dg, &inv, k, cin);
            let d = (&got - &want).abs().max().double_value(&[]);
            assert!(d < tol, "{kind:?}: differs by {d}");
        }
    }
}
