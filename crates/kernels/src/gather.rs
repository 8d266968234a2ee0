//! The neighbour gather of the forward pass: rows of the activations picked by an index, on
//! the kernels' threads.
//!
//! libtorch's `index_select` does the same, but it runs on libtorch's OpenMP team, whose
//! regions end only when every team thread has arrived: beside other work on the cores a
//! descheduled team thread holds the whole training up at every layer. Here the rows are
//! copied in parts that the calling thread and the kernels' helpers take from one counter.
//! Where the products do not take the CPU route ([`Products::uses_gemm`]: CUDA,
//! [`Products::Libtorch`]) libtorch's `index_select` is used.

use tch::{Device, Kind, Tensor};

use crate::parallel;
use crate::products::Products;
use crate::slices::{self, Element};

/// Rows `idx` of `h (R, C)`: `(len(idx), C)`, as `h.index_select(0, idx)`. Every entry of
/// `idx` must be a row number below R: checked (a panic names the first bad entry), since
/// the index addresses memory.
pub fn gather_rows(products: Products, h: &Tensor, idx: &Tensor) -> Tensor {
    if !(products.uses_gemm(h.kind(), h.device()) && h.dim() == 2 && !h.requires_grad()) {
        return h.index_select(0, idx);
    }
    let (rows, cols) = h.size2().expect("two dimensions, checked above");
    let h = h.contiguous();
    let idx = idx.to_kind(Kind::Int64).to_device(Device::Cpu).contiguous();
    let table = slices::row_numbers(&idx, rows, "gather_rows: index", "rows");
    let mut out = Tensor::empty([table.len() as i64, cols], (h.kind(), Device::Cpu));
    match h.kind() {
        Kind::Double => run::<f64>(&h, table, &mut out, cols as usize),
        Kind::Float => run::<f32>(&h, table, &mut out, cols as usize),
        kind => unreachable!("gather_rows: {kind:?} rows on the CPU route"),
    }
    out
}

/// `table` has every entry checked to be a row of `h`.
fn run<T: Element>(h: &Tensor, table: &[i64], out: &mut Tensor, cols: usize) {
    if cols == 0 || table.is_empty() {
        return;
    }
    let src: &[T] = slices::elements(h, "rows to gather");
    let n = table.len();
    let per = n.div_ceil(parallel::parts(n.div_ceil(4096))).max(1);
    let parts: Vec<(&[i64], &mut [T])> =
        table.chunks(per).zip(slices::elements_mut::<T>(out, "gathered rows").chunks_mut(per * cols)).collect();
    parallel::for_each_part(parts, |(rows, dst)| {
        for (&r, d) in rows.iter().zip(dst.chunks_exact_mut(cols)) {
            let at = r as usize * cols;
            d.copy_from_slice(&src[at..at + cols]);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equals `index_select` for both kinds, with repeated rows, a strided input and a
    /// narrowed index, on one and several threads; libtorch's route for `Products::Libtorch`.
    #[test]
    fn equals_index_select() {
        let _serial = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let before = tch::get_num_threads();
        tch::manual_seed(3);
        for (kind, cols) in [(Kind::Double, 8), (Kind::Float, 8), (Kind::Double, 5), (Kind::Float, 3)] {
            let h = Tensor::randn([cols, 37], (kind, Device::Cpu)).transpose(0, 1); // (37, cols) strided
            let idx = Tensor::randint(37, [20000], (Kind::Int64, Device::Cpu)).narrow(0, 5, 19990);
            for threads in [1, 2, 3] {
                tch::set_num_threads(threads);
                let want = h.index_select(0, &idx);
                for p in [Products::Gemm, Products::Libtorch] {
                    assert!(gather_rows(p, &h, &idx).equal(&want), "{kind:?} x {cols}, {threads} threads, {p:?}");
                }
            }
        }
        tch::set_num_threads(before);
    }

    /// An index entry outside the rows is refused (it would read past them).
    #[test]
    #[should_panic(expected = "outside the 4 rows")]
    fn out_of_range_entries_are_refused() {
        let h = Tensor::zeros([4, 3], (Kind::Double, Device::Cpu));
        let _ = gather_rows(Products::Gemm, &h, &Tensor::from_slice(&[0i64, 3, 4]));
    }
}
