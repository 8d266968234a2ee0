//! Lattice-gas generators: reproducibility, compositions, the random-rate gas.

mod common;

use common::fcc;
use gcnet_data::{CheckOptions, Composition, LatticeGas, RateModel, check};

fn random_gas(seed: u64) -> LatticeGas {
    LatticeGas {
        rates: RateModel::Random { mean: vec![0.5, 2.0, 1.0], width: vec![0.3, 1.0, 0.1], seed },
        composition: Composition::Counts(vec![21, 21, 21]),
        lattice_parameter: 1.0,
        continue_chain: false,
    }
}

#[test]
fn same_seed_same_samples() {
    let crystal = fcc(4);
    for gas in [LatticeGas::sr2(0.3), random_gas(1)] {
        let a = gas.generate(&crystal, 200, 5).unwrap();
        assert_eq!(a, gas.generate(&crystal, 200, 5).unwrap());
        assert_ne!(a, gas.generate(&crystal, 200, 6).unwrap());
        // Generating in one go or in two blocks from one sampler gives the same stream.
        let mut sampler = gas.sampler(&crystal, 5).unwrap();
        let mut first = sampler.empty_block(120);
        let mut second = sampler.empty_block(80);
        sampler.fill(&mut first);
        sampler.fill(&mut second);
        assert_eq!(first, a.slice(0, 120));
        assert_eq!(second, a.slice(120, 200));
    }
}

#[test]
fn every_sample_holds_the_composition() {
    let crystal = fcc(4);
    let gas = LatticeGas::fixed(vec![1.0, 2.0, 3.0], Composition::Fractions(vec![0.2, 0.3, 0.5]));
    let data = gas.generate(&crystal, 100, 1).unwrap();
    let want = gas.counts(64).unwrap();
    assert_eq!(want, [13, 19, 31]);
    for row in data.init_states.rows() {
        for (l, &c) in want.iter().enumerate() {
            assert_eq!(row.iter().filter(|&&x| x as usize == l).count(), c);
        }
        assert_eq!(row[0], 3);
    }
    // Fresh arrangements: consecutive states differ.
    assert_ne!(data.init_states.row(0), data.init_states.row(1));
}

#[test]
fn random_rates_obey_detailed_balance() {
    let crystal = fcc(4);
    let gas = random_gas(3);
    let data = gas.generate(&crystal, 300, 2).unwrap();
    assert!(check(&data, &crystal, &CheckOptions::default()).unwrap().is_ok());
    for n in 0..data.len() {
        let j = data.jump_selects[n] as usize;
        let back = crystal.opposite_jump(j).unwrap();
        assert_eq!(data.jump_rates_fin[[n, back]], data.jump_rates_init[[n, j]], "sample {n}");
    }
    // Another landscape seed gives other rates for the same states.
    let other = random_gas(4).generate(&crystal, 300, 2).unwrap();
    assert_eq!(other.init_states, data.init_states);
    assert_ne!(other.jump_rates_init, data.jump_rates_init);
    // ln(rate) = -E: the exchanged species' mean shows in the average log-rate.
    let mut sums = [0.0; 3];
    let mut counts = [0usize; 3];
    for n in 0..data.len() {
        for k in 0..12 {
            let sp = data.init_states[[n, crystal.neighbour(0, k)]] as usize;
            sums[sp] += -data.jump_rates_init[[n, k]].ln();
            counts[sp] += 1;
        }
    }
    for (sp, mean) in [0.5, 2.0, 1.0].iter().enumerate() {
        let m = sums[sp] / counts[sp] as f64;
        assert!((m - mean).abs() < 0.1, "species {sp}: mean E {m}, want {mean}");
    }
}

#[test]
fn bad_gases_are_errors() {
    let crystal = fcc(3);
    let bad = [
        LatticeGas::fixed(vec![1.0, -1.0], Composition::Fractions(vec![0.5, 0.5])),
        LatticeGas::fixed(vec![1.0, 1.0], Composition::Fractions(vec![1.0])),
        LatticeGas::fixed(vec![1.0], Composition::Counts(vec![3])),
        LatticeGas::fixed(vec![], Composition::Counts(vec![])),
    ];
    for gas in bad {
        assert!(gas.generate(&crystal, 1, 0).is_err(), "{gas:?}");
    }
}
