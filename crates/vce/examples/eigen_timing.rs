//! Times the eigen-decomposition of W (the solve's cost) with faer, which `linalg` uses,
//! against the hand-written Householder and implicit-QL solver it replaced (kept in
//! tests/reference): W of 1000 generated SR-2 states on the 8x8x8 FCC crystal, for growing
//! expansions. One thread. `cargo run --release -p gcnet-vce --example eigen_timing`.

#[path = "../tests/reference/mod.rs"]
mod reference;

use std::time::Instant;

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::LatticeGas;
use gcnet_vce::{BasisParams, Expansion, Samples, SiteGeometry, SpeciesChoice, fit, linalg};

/// The median of `runs` timings of `f`, in seconds.
fn median(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

fn main() {
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8).unwrap());
    let data = LatticeGas::sr2(0.5).generate(&crystal, 1000, 2026).unwrap();
    println!("{:>3} {:>5} {:>5} {:>13} {:>13} {:>8}", "-mo", "-cc", "K", "faer s", "hand-written s", "ratio");
    for (mo, cc) in [(3, 0.71), (3, 1.01), (3, 1.23), (3, 1.42), (4, 1.23)] {
        let params = BasisParams { max_order: mo, cutoff: cc, num_labels: 3, vacancy: 2 };
        let e = Expansion::build(SiteGeometry::from_crystal(&crystal).unwrap(), params, false).unwrap();
        let samples = Samples::new(&data, "sr2", &e, SpeciesChoice { species: 1, vacancy: 2 }).unwrap();
        let w = fit::expand(&e, &samples, 0..1000, false).unwrap().w;
        let k = w.nrows();
        let runs = if k > 500 { 3 } else { 11 };
        let faer = median(runs, || {
            std::hint::black_box(linalg::symmetric_eigen(&w).unwrap());
        });
        let old = median(runs, || {
            std::hint::black_box(reference::symmetric_eigen(&w));
        });
        println!("{mo:>3} {cc:>5} {k:>5} {faer:>13.6} {old:>13.6} {:>8.2}", old / faer);
    }
}
