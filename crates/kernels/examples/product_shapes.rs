//! Times the three matrix products of one site-first GConv layer of the published default
//! network (Cin = Cout = 8, 13 neighbour blocks) at the micro-batches training picks: f64
//! two samples a pass, f32 four (two side by side in a row). Prints microseconds per call
//! and per sample, at 2 threads and at 1, to show which products gain from f32's wider
//! vectors: the calls training makes (f32's gradients with kernels of their own on AVX-512)
//! and the gradients through the `gemm` crate:
//!
//! `cargo run --release -p gcnet-kernels --example product_shapes`

use std::time::Instant;

use gcnet_kernels::{Products, products};
use tch::{Device, Kind, Tensor};

/// Median over 5 rounds of 200 calls, in microseconds per call.
fn time(mut f: impl FnMut()) -> f64 {
    (0..20).for_each(|_| f());
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            (0..200).for_each(|_| f());
            t.elapsed().as_secs_f64() / 200.0 * 1e6
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}

fn main() -> Result<(), String> {
    let g = Products::Gemm;
    let (cin, c, k) = (8i64, 8i64, 13i64);
    for threads in [2, 1] {
        gcnet_kernels::threads::configure(Some(threads))?;
        for (kind, samples, group) in [(Kind::Double, 2i64, 1i64), (Kind::Float, 4, 2)] {
            let o = (kind, Device::Cpu);
            let rows = samples * 512;
            let h = Tensor::randn([rows, cin], o);
            // the forward's filters for `group` samples side by side (zero off the diagonal)
            let wide = Tensor::randn([group * cin, k * group * c], o);
            let w = Tensor::randn([cin, k * c], o);
            let dz = Tensor::randn([rows, k * c], o);
            let mut dw = Tensor::zeros([cin, k * c], o);
            let timings = [
                ("forward Z = h A", time(|| drop(products::mm(g, &h.view([-1, group * cin]), &wide)))),
                ("filter gradient += h^T dZ", time(|| products::add_transposed_mm(g, &mut dw, &h, &dz))),
                ("  the same through gemm", time(|| products::add_mm(g, &mut dw, &h.transpose(0, 1), &dz))),
                ("input gradient dZ A^T", time(|| drop(products::mm_transposed(g, &dz, &w)))),
                ("  the same through gemm", time(|| drop(products::mm(g, &dz, &w.transpose(0, 1))))),
            ];
            for (what, us) in timings {
                let per = us / samples as f64;
                println!("{threads} threads {kind:?} {what:28} {us:7.1} us a call, {per:6.1} us a sample");
            }
        }
    }
    Ok(())
}
