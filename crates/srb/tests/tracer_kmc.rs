//! The exact finite-cell tracer correlation factor against multi-step kinetic Monte Carlo:
//! this crate's tracer walk and the data crate's lattice-gas KMC (one species, every atom
//! a tracer), both within their error bars, on cells small enough that f_N differs from
//! the infinite-lattice value by many error bars.

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Composition, Duration, KmcConfig, LatticeGas, kmc};
use gcnet_srb::tracer::{TracerNetwork, exact_tracer_correlation, tracer_kmc};

fn crystal(kind: LatticeKind, n: usize) -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(kind, CellKind::Primitive, n).unwrap())
}

#[test]
fn tracer_walk_agrees_with_the_exact_value() {
    for (kind, n, seed) in [(LatticeKind::Fcc, 4, 1), (LatticeKind::Bcc, 4, 2), (LatticeKind::Sc, 4, 3)] {
        let data = crystal(kind, n);
        let exact = exact_tracer_correlation(&data).unwrap().f;
        let network = TracerNetwork::new(&data).unwrap();
        let start = std::time::Instant::now();
        let estimate = tracer_kmc(&network, 20_000, 5_000, seed);
        eprintln!(
            "{kind} {n}^3: exact f_N = {exact:.5}, walk {:.5} +- {:.5} ({} tracer jumps, {:.2} s)",
            estimate.f,
            estimate.std_error,
            estimate.tracer_jumps,
            start.elapsed().as_secs_f64()
        );
        assert!((estimate.f - exact).abs() < 3.0 * estimate.std_error, "{kind}: walk {estimate:?}, exact {exact}");
        let infinite = kind.tracer_correlation_factor();
        assert!((exact - infinite).abs() > 3.0 * estimate.std_error, "{kind}: the test cannot tell f_N from f");
    }
}

#[test]
fn lattice_gas_kmc_agrees_with_the_exact_value() {
    let data = crystal(LatticeKind::Fcc, 4);
    let exact = exact_tracer_correlation(&data).unwrap().f;
    let config = KmcConfig {
        gas: LatticeGas::fixed(vec![1.0], Composition::Counts(vec![data.num_sites() - 1])),
        trajectories: 400,
        duration: Duration::Steps(20_000),
        seed: 7,
        threads: 2,
    };
    let start = std::time::Instant::now();
    let result = kmc::run(&data, &config, &|_| {}).unwrap();
    let f = result.correlation[0];
    eprintln!(
        "fcc 4^3: exact f_N = {exact:.5}, lattice-gas KMC {:.5} +- {:.5} ({:.2} s)",
        f.value,
        f.error,
        start.elapsed().as_secs_f64()
    );
    assert!((f.value - exact).abs() < 3.0 * f.error, "KMC {f:?}, exact {exact}");
}
