//! Shared fixtures: a small generated lattice-gas data set and relaxation vectors that are a
//! fixed, local function of the state (so exit states are consistent with the samples).

#![allow(dead_code)]

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Composition, Dataset, LatticeGas, RateModel};
use gcnet_srb::RelaxationVectors;
use ndarray::Array2;

pub fn fcc(n: usize) -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, n).unwrap())
}

/// Binary gas on `crystal`: species 0 (rate 0.2), species 1 (rate 1.0) in the given
/// counts, vacancy label 2, lattice parameter `a0`.
pub fn binary_gas(crystal: &CrystalData, counts: [usize; 2], a0: f64, samples: usize, seed: u64) -> Dataset {
    let mut gas = LatticeGas::fixed(vec![0.2, 1.0], Composition::Counts(counts.to_vec()));
    gas.lattice_parameter = a0;
    gas.generate(crystal, samples, seed).unwrap()
}

/// Gas with random, state-dependent rates (energies normal, mean 0.5 a kT for species a,
/// width 1 kT), vacancy label `counts.len()`: the per-label biases are then linearly
/// independent.
pub fn random_gas(crystal: &CrystalData, counts: &[usize], samples: usize, seed: u64) -> Dataset {
    let ns = counts.len();
    let mut gas = LatticeGas::fixed(vec![1.0; ns], Composition::Counts(counts.to_vec()));
    let mean = (0..ns).map(|a| 0.5 * a as f64).collect();
    gas.rates = RateModel::Random { mean, width: vec![1.0; ns], seed: 5 };
    gas.generate(crystal, samples, seed).unwrap()
}

/// A relaxation vector that depends on the state: the fast atoms (label 1) next to the
/// vacancy pull along their jump vectors, the slow ones (label 0) push a little.
pub fn model_y(crystal: &CrystalData, state: &[i8], a0: f64, strength: f64) -> [f64; 3] {
    let mut y = [0.0; 3];
    for k in 0..crystal.z() {
        let weight = match state[crystal.neighbour(0, k)] {
            1 => 0.3,
            0 => -0.1,
            _ => 0.0,
        };
        let dx = crystal.jump_vector(k);
        (0..3).for_each(|c| y[c] += strength * weight * a0 * dx[c]);
    }
    y
}

/// y of every state and exit state of `data` from [`model_y`].
pub fn model_relaxation(crystal: &CrystalData, data: &Dataset, a0: f64, strength: f64) -> RelaxationVectors {
    let (n, z) = (data.len(), crystal.z());
    let perms: Vec<_> = (0..z).map(|j| crystal.jump_permutation(j)).collect();
    let mut y = RelaxationVectors::zeros(n, z);
    for i in 0..n {
        let s1 = data.init_states.row(i).to_vec();
        let s2 = data.fin_states.row(i).to_vec();
        assert_eq!(perms[data.jump_selects[i] as usize].apply(&s1), s2, "sample {i}: s2 is s1 after the jump");
        let rows = [(&s1, &mut y.st1, &mut y.st1_exits), (&s2, &mut y.st2, &mut y.st2_exits)];
        for (state, ys, exits) in rows {
            set_row(ys, i, model_y(crystal, state, a0, strength));
            for (j, perm) in perms.iter().enumerate() {
                set_row(exits, i * z + j, model_y(crystal, &perm.apply(state), a0, strength));
            }
        }
    }
    y
}

fn set_row(a: &mut Array2<f64>, row: usize, v: [f64; 3]) {
    (0..3).for_each(|c| a[[row, c]] = v[c]);
}
