//! Physics of the multi-step KMC reference (fixed seeds, so deterministic; the tolerances
//! are several error bars wide).

mod common;

use common::fcc;
use gcnet_data::kmc::{self, Duration, KmcConfig};
use gcnet_data::{Composition, LatticeGas, RateModel};

fn one_species(trajectories: usize, steps: u64, seed: u64) -> KmcConfig {
    KmcConfig {
        gas: LatticeGas::fixed(vec![1.0], Composition::Fractions(vec![1.0])),
        trajectories,
        duration: Duration::Steps(steps),
        seed,
        threads: 0,
    }
}

#[test]
fn vacancy_in_a_one_species_lattice_is_a_random_walk() {
    // L_vv = z |dx|^2 / 6 per unit rate: FCC 12 * 1/2 / 6 = 1, BCC 8 * 3/4 / 6 = 1.
    let crystal = fcc(6);
    let r = kmc::run(&crystal, &one_species(4_000, 500, 1), &|_| {}).unwrap();
    let (v, l, err) = (r.vacancy_label, r.onsager[[1, 1]], r.onsager_error[[1, 1]]);
    assert_eq!(v, 1);
    eprintln!("one species: L_vv = {l} +- {err}");
    assert!((l - 1.0).abs() < 3.0 * err && err < 0.03, "L_vv = {l} +- {err}");
    // The uncorrelated value is exact: every jump has rate 1.
    assert!((r.uncorrelated[1].value - 1.0).abs() < 1e-12);
    // One species: the atoms move opposite to the vacancy.
    assert!((r.onsager[[0, 0]] - l).abs() < 1e-9 && (r.onsager[[0, 1]] + l).abs() < 1e-9);
}

#[test]
fn fcc_tracer_correlation_factor() {
    // 10x10x10 primitive FCC (1000 sites, at least the 512 asked for). The finite cell
    // raises f by about 2/Nsites (0.7845 on 512 sites, 0.7821 on 1728); the exact
    // infinite-lattice value is 0.78145.
    let crystal = fcc(10);
    let r = kmc::run(&crystal, &one_species(512, 131_072, 7), &|_| {}).unwrap();
    let f = r.correlation[0];
    eprintln!("FCC 1000 sites: f = {} +- {}", f.value, f.error);
    assert!(f.error < 0.0025 * 0.78145, "error bar {} too wide", f.error);
    assert!((f.value - 0.78145).abs() < 0.01 * 0.78145, "f = {} +- {}", f.value, f.error);
}

#[test]
fn sr2_fast_species_is_slower_than_uncorrelated() {
    let crystal = fcc(6);
    let config = KmcConfig {
        gas: LatticeGas::sr2(0.5),
        trajectories: 256,
        duration: Duration::Time(5_000.0),
        seed: 3,
        threads: 0,
    };
    let r = kmc::run(&crystal, &config, &|_| {}).unwrap();
    let (l, err) = (r.onsager[[1, 1]], r.onsager_error[[1, 1]]);
    let l0 = r.uncorrelated[1];
    eprintln!("SR-2: L_fast = {l} +- {err}, L0_fast = {} +- {}", l0.value, l0.error);
    assert!(l + 3.0 * err < l0.value - 3.0 * l0.error, "L_fast = {l} +- {err}, L0 = {l0:?}");
    // L0_fast = c_fast (per unit rate, FCC): 107 fast atoms on 215 atom sites.
    assert!((l0.value - 107.0 / 215.0).abs() < 4.0 * l0.error, "{l0:?}");
    // Onsager matrix symmetric, and the vacancy's flux balances the atoms'.
    for a in 0..3 {
        for b in 0..3 {
            assert!((r.onsager[[a, b]] - r.onsager[[b, a]]).abs() < 1e-12);
        }
    }
    let vac_row_sum: f64 = (0..3).map(|b| r.onsager[[2, b]]).sum();
    assert!(vac_row_sum.abs() < 1e-9 * r.onsager[[2, 2]].abs().max(1.0));
}

#[test]
fn results_do_not_depend_on_threads() {
    let crystal = fcc(4);
    let mut config = KmcConfig {
        gas: LatticeGas {
            rates: RateModel::Random { mean: vec![0.0, 1.0], width: vec![0.5, 0.5], seed: 2 },
            composition: Composition::Fractions(vec![0.5, 0.5]),
            lattice_parameter: 2.0,
            continue_chain: false,
        },
        trajectories: 6,
        duration: Duration::Steps(300),
        seed: 11,
        threads: 1,
    };
    let one = kmc::run(&crystal, &config, &|_| {}).unwrap();
    config.threads = 3;
    let three = kmc::run(&crystal, &config, &|_| {}).unwrap();
    assert_eq!(one.onsager, three.onsager);
    assert_eq!(one.tracer, three.tracer);
    config.seed = 12;
    let other = kmc::run(&crystal, &config, &|_| {}).unwrap();
    assert_ne!(one.onsager, other.onsager);
}

#[test]
fn bad_configurations_are_errors() {
    let crystal = fcc(4);
    for config in [one_species(1, 10, 0), one_species(4, 0, 0)] {
        assert!(kmc::run(&crystal, &config, &|_| {}).is_err());
    }
    let mut config = one_species(4, 10, 0);
    config.duration = Duration::Time(-1.0);
    assert!(kmc::run(&crystal, &config, &|_| {}).is_err());
}

#[test]
fn random_rate_gas_uncorrelated_values_agree_with_single_steps() {
    // The KMC time average of the escape rates and the single-step L0 estimate the same
    // equilibrium average (all arrangements equally likely), on one energy landscape.
    let crystal = fcc(4);
    let gas = LatticeGas {
        rates: RateModel::Random { mean: vec![0.0, 1.0], width: vec![0.8, 0.4], seed: 9 },
        composition: Composition::Fractions(vec![0.5, 0.5]),
        lattice_parameter: 1.0,
        continue_chain: false,
    };
    let data = gas.generate(&crystal, 40_000, 1).unwrap();
    let summary = gcnet_data::describe::summary_frame(&data).unwrap();
    let l0 = summary.column("L0").unwrap().f64().unwrap();
    let l0_err = summary.column("L0_error").unwrap().f64().unwrap();
    let config = KmcConfig { gas, trajectories: 16, duration: Duration::Steps(20_000), seed: 2, threads: 0 };
    let r = kmc::run(&crystal, &config, &|_| {}).unwrap();
    for label in 0..3 {
        let (a, ea) = (l0.get(label).unwrap(), l0_err.get(label).unwrap());
        let b = r.uncorrelated[label];
        eprintln!("label {label}: single steps {a} +- {ea}, KMC {} +- {}", b.value, b.error);
        assert!((a - b.value).abs() < 4.0 * (ea * ea + b.error * b.error).sqrt(), "label {label}");
    }
}
