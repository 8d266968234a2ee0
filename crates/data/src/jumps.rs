//! The jump network of a crystal data file in the flat form the generators need: the
//! neighbours of the vacancy site, the jump permutations as `u32` rows, the jump vectors.

use gcnet_crystal::CrystalData;

/// Jump tables of one crystal, about the vacancy on site 0.
#[derive(Clone, Debug)]
pub(crate) struct JumpTables {
    /// Number of jumps z.
    pub z: usize,
    pub num_sites: usize,
    /// `nb0[k]`: the site reached from site 0 by jump k.
    pub nb0: Vec<usize>,
    /// Row j (length `num_sites`): `JumpSiteIndexPermutation[j]`, s2[s] = s1[perm[s]].
    perm: Vec<u32>,
    /// Cartesian jump vectors, lattice parameter 1.
    pub dx: Vec<[f64; 3]>,
    /// `opposite[j]`: the jump with vector -dx_j (j itself if the crystal has none).
    pub opposite: Vec<usize>,
}

impl JumpTables {
    pub fn new(crystal: &CrystalData) -> JumpTables {
        let z = crystal.z();
        let n = crystal.num_sites();
        let table = crystal.jump_site_permutation();
        JumpTables {
            z,
            num_sites: n,
            nb0: (0..z).map(|k| crystal.neighbour(0, k)).collect(),
            perm: table.iter().map(|&x| x as u32).collect(),
            dx: (0..z).map(|k| crystal.jump_vector(k)).collect(),
            opposite: (0..z).map(|k| crystal.opposite_jump(k).unwrap_or(k)).collect(),
        }
    }

    /// `JumpSiteIndexPermutation[j]`.
    #[inline]
    pub fn perm(&self, j: usize) -> &[u32] {
        &self.perm[j * self.num_sites..(j + 1) * self.num_sites]
    }

    /// `out[s] = state[perm_j[s]]`: the state after jump j, vacancy back on site 0.
    #[inline]
    pub fn apply<T: Copy>(&self, j: usize, state: &[T], out: &mut [T]) {
        for (o, &p) in out.iter_mut().zip(self.perm(j)) {
            *o = state[p as usize];
        }
    }
}

/// The jump that `target` (in `[0, sum of rates)`) falls on: the first k whose cumulative
/// rate, summed in jump order, exceeds `target`. Rounding past the end picks the last
/// jump with a non-zero rate.
#[inline]
pub(crate) fn select_jump(rates: &[f64], target: f64) -> usize {
    let mut cumulative = 0.0;
    let mut last_open = 0;
    for (k, &r) in rates.iter().enumerate() {
        cumulative += r;
        if r > 0.0 {
            last_open = k;
        }
        if cumulative > target {
            return k;
        }
    }
    last_open
}

#[cfg(test)]
mod tests {
    use super::*;
    use gcnet_crystal::{CellKind, Crystal, LatticeKind};

    #[test]
    fn selection_follows_cumulative_rates() {
        let rates = [1.0, 0.0, 2.0, 1.0];
        let cases = [(0.0, 0), (0.999, 0), (1.0, 2), (2.5, 2), (3.0, 3), (3.999, 3), (4.0, 3), (9.0, 3)];
        for (target, want) in cases {
            assert_eq!(select_jump(&rates, target), want, "target {target}");
        }
    }

    #[test]
    fn tables_match_the_crystal() {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8).unwrap());
        let t = JumpTables::new(&crystal);
        assert_eq!(t.nb0, [15, 57, 449, 71, 448, 64, 7, 1, 8, 56, 456, 120]);
        for j in 0..t.z {
            let state: Vec<usize> = (0..t.num_sites).collect();
            let mut out = vec![0; t.num_sites];
            t.apply(j, &state, &mut out);
            assert_eq!(out, crystal.jump_permutation(j).apply(&state));
            assert_eq!(t.dx[t.opposite[j]].map(|x| -x), t.dx[j]);
        }
    }
}
