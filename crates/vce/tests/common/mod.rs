//! Shared fixtures: small crystals, random states, lattice-gas data sets.
#![allow(dead_code)]

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Composition, Dataset, LatticeGas, RateModel};
use gcnet_vce::{BasisParams, Expansion, SiteGeometry};

/// The committed 8x8x8 primitive FCC crystal file.
pub fn committed_fcc() -> CrystalData {
    CrystalData::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../CrysDat_FCC/CrystData.h5")).unwrap()
}

pub fn crystal(kind: LatticeKind, cell: CellKind, n: usize) -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(kind, cell, n).unwrap())
}

pub fn expansion(crystal: &CrystalData, max_order: usize, cutoff: f64, num_labels: usize, all: bool) -> Expansion {
    let params = BasisParams { max_order, cutoff, num_labels, vacancy: num_labels - 1 };
    Expansion::build(SiteGeometry::from_crystal(crystal).unwrap(), params, all).unwrap()
}

/// xorshift64*: reproducible random numbers without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random state: the vacancy (the largest label) on site 0, atoms of the other labels
/// anywhere else.
pub fn random_state(num_sites: usize, num_labels: usize, rng: &mut Rng) -> Vec<i8> {
    let mut s: Vec<i8> = (0..num_sites).map(|_| rng.below(num_labels - 1) as i8).collect();
    s[0] = (num_labels - 1) as i8;
    s
}

/// `rotated[perm[s]] = state[s]`.
pub fn permute(state: &[i8], perm: &[usize]) -> Vec<i8> {
    let mut out = vec![0; state.len()];
    for (s, &p) in perm.iter().enumerate() {
        out[p] = state[s];
    }
    out
}

/// SR-2 at half fast atoms: slow 0 (rate 0.001), fast 1 (rate 1), vacancy 2.
pub fn sr2(crystal: &CrystalData, n: usize, seed: u64) -> Dataset {
    LatticeGas::sr2(0.5).generate(crystal, n, seed).unwrap()
}

/// A random-rate binary gas (every jump its own rate): W is of full rank.
pub fn random_rates(crystal: &CrystalData, n: usize, seed: u64) -> Dataset {
    let gas = LatticeGas {
        rates: RateModel::Random { mean: vec![0.0, 1.0], width: vec![1.0, 1.0], seed: 3 },
        composition: Composition::Fractions(vec![0.5, 0.5]),
        lattice_parameter: 1.0,
        continue_chain: false,
    };
    gas.generate(crystal, n, seed).unwrap()
}
