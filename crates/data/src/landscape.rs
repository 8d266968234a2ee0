//! The random-rate lattice gas: every jump has the rate exp(-E) with E normal, its mean
//! and width set by the species that exchanges with the vacancy, and E fixed for the
//! transition by a symmetric function of both states, so that a jump and its reverse have
//! the same rate (detailed balance with a uniform equilibrium distribution).
//!
//! A state is identified by a Zobrist hash of its canonical form (vacancy on site 0, which
//! fixes the translation), so the energy of a jump is a pure function of the seed, the
//! unordered pair of state hashes and the jump axis {j, opposite(j)}.

use gcnet_crystal::JumpNetwork;

use crate::rng::splitmix64;

/// Energies (units of kT) of the random-rate lattice gas for one crystal.
#[derive(Clone, Debug)]
pub(crate) struct Landscape {
    /// Random key per (site, label), row-major by site.
    zobrist: Vec<u64>,
    num_labels: usize,
    seed: u64,
    /// Mean and width of E for each exchanged species label.
    mean: Vec<f64>,
    width: Vec<f64>,
}

impl Landscape {
    pub fn new(num_sites: usize, num_labels: usize, mean: Vec<f64>, width: Vec<f64>, seed: u64) -> Landscape {
        let mut key = splitmix64(seed ^ 0x5a0b_21c3_9e37_79b9);
        let zobrist = (0..num_sites * num_labels)
            .map(|_| {
                key = splitmix64(key);
                key
            })
            .collect();
        Landscape { zobrist, num_labels, seed, mean, width }
    }

    /// Zobrist hash of a canonical state.
    pub fn hash(&self, state: &[i8]) -> u64 {
        let nl = self.num_labels;
        state.iter().enumerate().fold(0, |h, (s, &l)| h ^ self.zobrist[s * nl + l as usize])
    }

    /// Hash of the state after jump with permutation `perm`, without building it.
    fn hash_permuted(&self, state: &[i8], perm: &[u32]) -> u64 {
        let nl = self.num_labels;
        perm.iter().enumerate().fold(0, |h, (s, &p)| h ^ self.zobrist[s * nl + state[p as usize] as usize])
    }

    /// Energy of jump `j` between states with hashes `from` and `to`, exchanging `species`.
    pub fn energy(&self, from: u64, to: u64, axis: usize, species: usize) -> f64 {
        let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
        let k1 = splitmix64(splitmix64(splitmix64(lo ^ self.seed) ^ hi) ^ axis as u64);
        let k2 = splitmix64(k1);
        // Box-Muller on two uniforms in (0, 1].
        let u1 = ((k1 >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
        let u2 = (k2 >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let g = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        self.mean[species] + self.width[species] * g
    }

    /// Rate of every jump out of the canonical `state` into `out` (length z).
    pub fn rates(&self, network: &JumpNetwork, state: &[i8], out: &mut [f64]) {
        let h = self.hash(state);
        for (j, r) in out.iter_mut().enumerate() {
            let to = self.hash_permuted(state, network.jump_permutation(j));
            let axis = j.min(network.opposite(j).unwrap_or(j));
            let species = state[network.neighbour(0, j)] as usize;
            *r = (-self.energy(h, to, axis, species)).exp();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};

    #[test]
    fn reverse_jump_has_the_same_rate() {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
        let t = JumpNetwork::new(&crystal);
        let land = Landscape::new(t.num_sites(), 3, vec![0.5, 1.0], vec![0.3, 0.8], 7);
        let mut state: Vec<i8> = (0..t.num_sites()).map(|s| (s % 2) as i8).collect();
        state[0] = 2;
        let (mut r1, mut r2) = (vec![0.0; t.z()], vec![0.0; t.z()]);
        land.rates(&t, &state, &mut r1);
        let mut after = vec![0; t.num_sites()];
        for j in 0..t.z() {
            t.apply_jump(j, &state, &mut after);
            land.rates(&t, &after, &mut r2);
            assert_eq!(r1[j], r2[t.opposite(j).unwrap()], "jump {j}");
        }
        // Not all jumps alike: the energies are random.
        assert!(r1.iter().any(|&r| (r - r1[0]).abs() > 1e-6));
    }

    #[test]
    fn energies_follow_the_normal_distribution() {
        let land = Landscape::new(1, 2, vec![1.5], vec![0.5], 3);
        let e: Vec<f64> = (0..20_000u64).map(|i| land.energy(i, i + 1, 0, 0)).collect();
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        let var = e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / e.len() as f64;
        assert!((mean - 1.5).abs() < 0.02, "mean {mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.02, "width {}", var.sqrt());
    }
}
