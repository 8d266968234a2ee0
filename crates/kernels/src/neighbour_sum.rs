//! The backward of the neighbour gather, as one pass over the gradient of the gathered
//! rows on the CPU.
//!
//! The forward pass gathers, for every site `t`, the inputs of its neighbours `NN[k, t]`
//! into one row. Its backward sums, for every site, the gradient entries of the rows that
//! read it: `dh[t, i] = sum_k dG[NNinv[k, t], k*Cin + i]`. libtorch's route (an int64 index
//! expanded over channels, a strided `gather`, a sum over k) reads the index once per
//! element and writes a temporary of the whole gradient; here each site reads `z + 1`
//! short contiguous rows and writes its own. Where the products do not take the CPU route
//! ([`Products::uses_gemm`]: CUDA, [`Products::Libtorch`]) libtorch's route is used.

use tch::{Device, Kind, Tensor};

use crate::parallel;
use crate::products::Products;
use crate::slices::{self, Element};

/// `dh (R, cin)` from `dg (R, k*cin)` and the inverse neighbour table `inv (k, 1, R)` of
/// row numbers (any strides). Every entry of `inv` must be a row number below R: checked
/// (a panic names the first bad entry), since the table indexes memory.
pub fn neighbour_sum(products: Products, dg: &Tensor, inv: &Tensor, k: i64, cin: i64) -> Tensor {
    let rows = dg.size()[0];
    assert!(
        dg.size() == [rows, k * cin] && inv.size() == [k, 1, rows],
        "neighbour_sum: gradient rows {:?} and table {:?}, expected ({rows}, {}) and ({k}, 1, {rows})",
        dg.size(),
        inv.size(),
        k * cin
    );
    if !(products.uses_gemm(dg.kind(), dg.device()) && dg.is_contiguous()) {
        // (k, cin, R) view of dG; d h[t, i] = sum_k dG^T[k, i, NNinv[k, t]]
        let dgt = dg.reshape([rows, k, cin]).permute([1, 2, 0]);
        let idx = inv.expand([k, cin, rows], false);
        return dgt.gather(2, &idx, false).sum_dim_intlist(0, false, None).transpose(0, 1);
    }
    let inv = inv.to_kind(Kind::Int64).to_device(Device::Cpu).contiguous();
    let table = slices::row_numbers(&inv, rows, "neighbour_sum: table", "gradient rows");
    let mut out = Tensor::empty([rows, cin], (dg.kind(), Device::Cpu));
    // the published default (8 channels) with a fixed row length, which vectorises
    match (dg.kind(), cin) {
        (Kind::Double, 8) => run::<f64, 8>(dg, table, &mut out, k as usize, 8),
        (Kind::Float, 8) => run::<f32, 8>(dg, table, &mut out, k as usize, 8),
        (Kind::Double, _) => run::<f64, 0>(dg, table, &mut out, k as usize, cin as usize),
        (Kind::Float, _) => run::<f32, 0>(dg, table, &mut out, k as usize, cin as usize),
        (kind, _) => panic!("neighbour_sum: {kind:?} gradients"),
    }
    out
}

/// `C` is `cin` when it is known at compile time, else 0. `table` is the (k, R) inverse
/// table, every entry checked to be below R.
fn run<T: Element + Default + std::ops::AddAssign, const C: usize>(
    dg: &Tensor,
    table: &[i64],
    out: &mut Tensor,
    k: usize,
    cin: usize,
) {
    let rows = out.size()[0] as usize;
    let width = k * cin;
    let src: &[T] = slices::elements(dg, "gradient of the gathered rows");
    let cin = if C > 0 { C } else { cin };
    let per = rows.div_ceil(parallel::parts(rows.div_ceil(512))).max(1);
    let parts: Vec<(usize, &mut [T])> =
        slices::elements_mut::<T>(out, "site gradients").chunks_mut(per * cin).enumerate().collect();
    parallel::for_each_part(parts, |(part, out_rows)| {
        let start = part * per;
        // Blocks of sites, k outermost inside a block: the loads of one k are independent
        // (many in flight) and the block's output rows stay in L1.
        const BLOCK: usize = 64;
        for (b, block) in out_rows.chunks_mut(BLOCK * cin).enumerate() {
            let b0 = start + b * BLOCK;
            block.fill(T::default());
            for kk in 0..k {
                let idx = &table[kk * rows + b0..kk * rows + b0 + block.len() / cin];
                for (&r, acc) in idx.iter().zip(block.chunks_exact_mut(cin)) {
                    let at = r as usize * width + kk * cin;
                    for (a, &v) in acc.iter_mut().zip(&src[at..at + cin]) {
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
            let got = neighbour_sum(Products::Gemm, &dg, &inv, k, cin);
            let lib = neighbour_sum(Products::Libtorch, &dg, &inv, k, cin);
            assert!((&lib - &want).abs().max().double_value(&[]) < tol);
            let d = (&got - &want).abs().max().double_value(&[]);
            assert!(d < tol, "{kind:?}: differs by {d}");
        }
    }

    /// A table entry outside the gradient rows is refused (it would index past them).
    #[test]
    #[should_panic(expected = "outside the 6 gradient rows")]
    fn out_of_range_table_entries_are_refused() {
        let dg = Tensor::zeros([6, 2 * 3], (Kind::Double, Device::Cpu));
        let mut table: Vec<i64> = (0..12).map(|i| i % 6).collect();
        table[7] = 6;
        let inv = Tensor::from_slice(&table).view([2, 1, 6]);
        let _ = neighbour_sum(Products::Gemm, &dg, &inv, 2, 3);
    }
}
