//! The jump network of a crystal data file, built once in the flat forms the hot loops of
//! every crate need: the neighbour table, the jump vectors and their opposites, the jump
//! site permutations, and the group's action on jumps and sites.

use crate::crystal_data::CrystalData;
use crate::permutation::Permutation;

/// Sites, nearest-neighbour jumps and point group of one supercell (SPEC section 2), from a
/// validated [`CrystalData`] (read or generated, both checked, so every table here is
/// consistent: site + dx_k is the neighbour k, the permutations are bijections, the
/// operations map jumps onto jumps and sites onto sites).
///
/// Site and jump indices are 0-based; site tables are `u32` rows, row-major.
///
/// ```
/// use gcnet_crystal::{CellKind, Crystal, CrystalData, JumpNetwork, LatticeKind};
///
/// let data = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8).unwrap());
/// let network = JumpNetwork::new(&data);
/// assert_eq!((network.num_sites(), network.z(), network.num_group_ops()), (512, 12, 48));
/// assert_eq!(network.neighbour(0, 0), 15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct JumpNetwork {
    num_sites: usize,
    z: usize,
    /// `neighbours[s * z + k]`: the site reached from site `s` by jump `k`.
    neighbours: Vec<u32>,
    /// Cartesian jump vectors `dxList_1nn`, lattice parameter 1.
    jump_vectors: Vec<[f64; 3]>,
    /// The jump with vector `-dx_k`, if the crystal has one.
    opposite: Vec<Option<usize>>,
    /// Row `j` (length `num_sites`): `JumpSiteIndexPermutation[j]`, `s2[s] = s1[perm[s]]`.
    jump_permutations: Vec<u32>,
    /// `GroupOpLatticeCartRotMatrices`, row-major, acting on column vectors.
    group_rotations: Vec<[[f64; 3]; 3]>,
    /// `GroupNNPermutation` (Ng, z+1), row-major.
    group_jumps: Vec<usize>,
    /// Row `g` (length `num_sites`): the site at `R_g x_s` for every site `s`.
    group_sites: Vec<u32>,
}

impl JumpNetwork {
    /// The tables of `crystal`. Infallible: [`CrystalData`] is validated when it is read or
    /// generated, which is what every table here relies on.
    pub fn new(crystal: &CrystalData) -> JumpNetwork {
        let (n, z) = (crystal.num_sites(), crystal.z());
        let neighbours = (0..n).flat_map(|s| (0..z).map(move |k| crystal.neighbour(s, k) as u32)).collect();
        let jump_vectors: Vec<[f64; 3]> = (0..z).map(|k| crystal.jump_vector(k)).collect();
        let opposite = (0..z).map(|k| crystal.opposite_jump(k)).collect();
        let jump_permutations = crystal.jump_site_permutation().iter().map(|&x| x as u32).collect();
        let ng = crystal.num_group_ops();
        let group_rotations = (0..ng).map(|g| crystal.group_rotation(g)).collect();
        let group_jumps = crystal.group_nn_permutation().iter().map(|&x| x as usize).collect();
        let group_sites = crystal
            .group_site_permutations()
            .expect("validated when the crystal data was built or read")
            .iter()
            .flat_map(|p| p.as_slice().iter().map(|&s| s as u32).collect::<Vec<_>>())
            .collect();
        JumpNetwork {
            num_sites: n,
            z,
            neighbours,
            jump_vectors,
            opposite,
            jump_permutations,
            group_rotations,
            group_jumps,
            group_sites,
        }
    }

    pub fn num_sites(&self) -> usize {
        self.num_sites
    }

    /// Number of nearest-neighbour jumps z.
    pub fn z(&self) -> usize {
        self.z
    }

    /// The site reached from `site` by jump `k`.
    #[inline]
    pub fn neighbour(&self, site: usize, k: usize) -> usize {
        self.neighbours[site * self.z + k] as usize
    }

    /// The z sites reached from `site`, in jump order.
    #[inline]
    pub fn neighbours_of(&self, site: usize) -> &[u32] {
        &self.neighbours[site * self.z..(site + 1) * self.z]
    }

    /// The whole neighbour table, site-major: entry `s * z + k` is [`neighbour(s, k)`](Self::neighbour).
    pub fn neighbour_table(&self) -> &[u32] {
        &self.neighbours
    }

    /// Jump `k` as a Cartesian vector (lattice parameter 1).
    #[inline]
    pub fn jump_vector(&self, k: usize) -> [f64; 3] {
        self.jump_vectors[k]
    }

    /// All jump vectors, in jump order (`dxList_1nn`).
    pub fn jump_vectors(&self) -> &[[f64; 3]] {
        &self.jump_vectors
    }

    /// The jump with vector `-dx_k`, if the crystal has one (every centrosymmetric jump
    /// set, so every cubic lattice, has).
    #[inline]
    pub fn opposite(&self, k: usize) -> Option<usize> {
        self.opposite[k]
    }

    /// `JumpSiteIndexPermutation[j]`: after the vacancy on site 0 takes jump `j` and the
    /// state is translated back (vacancy on site 0 again), `s2[s] = s1[perm[s]]`.
    #[inline]
    pub fn jump_permutation(&self, j: usize) -> &[u32] {
        &self.jump_permutations[j * self.num_sites..(j + 1) * self.num_sites]
    }

    /// [`jump_permutation`](Self::jump_permutation) as a [`Permutation`].
    pub fn jump_site_permutation(&self, j: usize) -> Permutation {
        Permutation::new(self.jump_permutation(j).iter().map(|&p| p as usize).collect())
            .expect("validated when the crystal data was built or read")
    }

    /// `out[s] = state[perm_j[s]]`: the canonical state after jump `j` (vacancy on site 0).
    #[inline]
    pub fn apply_jump<T: Copy>(&self, j: usize, state: &[T], out: &mut [T]) {
        for (o, &p) in out.iter_mut().zip(self.jump_permutation(j)) {
            *o = state[p as usize];
        }
    }

    /// Number of point-group operations Ng (operation 0 is the identity).
    pub fn num_group_ops(&self) -> usize {
        self.group_rotations.len()
    }

    /// Cartesian rotation of operation `g`, row-major, acting on column vectors.
    pub fn group_rotation(&self, g: usize) -> [[f64; 3]; 3] {
        self.group_rotations[g]
    }

    /// `GroupNNPermutation[g]` (length z+1): 0 first, then for each jump `k` (1-based) the
    /// 1-based `k'` with `dx[k'-1] = g^-1 dx[k-1]`.
    pub fn group_jump_permutation(&self, g: usize) -> &[usize] {
        &self.group_jumps[g * (self.z + 1)..(g + 1) * (self.z + 1)]
    }

    /// The site permutation of operation `g` about site 0: entry `s` is the site at
    /// `R_g x_s`. A state rotated by `g` is `rotated[perm[s]] = state[s]`.
    pub fn group_site_permutation(&self, g: usize) -> &[u32] {
        &self.group_sites[g * self.num_sites..(g + 1) * self.num_sites]
    }
}

impl From<&CrystalData> for JumpNetwork {
    fn from(crystal: &CrystalData) -> JumpNetwork {
        JumpNetwork::new(crystal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CellKind, Crystal, LatticeKind};

    #[test]
    fn tables_match_the_crystal() {
        for (kind, cell, n) in [
            (LatticeKind::Fcc, CellKind::Primitive, 8),
            (LatticeKind::Fcc, CellKind::Cubic, 3),
            (LatticeKind::Bcc, CellKind::Primitive, 4),
        ] {
            let crystal = Crystal::cube(kind, cell, n).unwrap();
            let data = CrystalData::from_crystal(&crystal);
            let t = JumpNetwork::new(&data);
            assert_eq!((t.num_sites(), t.z(), t.num_group_ops()), (crystal.num_sites(), crystal.z(), 48));
            let state: Vec<usize> = (0..t.num_sites()).collect();
            let mut out = vec![0; t.num_sites()];
            let perms = crystal.group_site_permutations();
            for j in 0..t.z() {
                assert_eq!(t.neighbours_of(0)[j] as usize, crystal.neighbour(0, j));
                t.apply_jump(j, &state, &mut out);
                assert_eq!(out, crystal.jump_site_permutation(j).apply(&state));
                assert_eq!(t.jump_site_permutation(j), crystal.jump_site_permutation(j));
                assert_eq!(t.jump_vector(t.opposite(j).unwrap()).map(|x| -x), t.jump_vector(j));
                for s in [0, 1, t.num_sites() - 1] {
                    assert_eq!(t.neighbour(s, j), crystal.neighbour(s, j));
                }
            }
            for (g, p) in perms.iter().enumerate() {
                let row: Vec<usize> = t.group_site_permutation(g).iter().map(|&s| s as usize).collect();
                assert_eq!(row, p.as_slice(), "{kind} operation {g}");
                let gnn: Vec<usize> = data.group_nn_permutation().row(g).iter().map(|&x| x as usize).collect();
                assert_eq!(t.group_jump_permutation(g), gnn);
            }
        }
    }

    #[test]
    fn the_group_maps_neighbours_onto_neighbours() {
        let t = JumpNetwork::new(&CrystalData::from_crystal(
            &Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap(),
        ));
        for g in 0..t.num_group_ops() {
            let p = t.group_site_permutation(g);
            for k in 0..t.z() {
                // GroupNNPermutation row g lists, at jump k, the jump k' = g^-1 k: g maps k' onto k.
                let kp = t.group_jump_permutation(g)[k + 1] - 1;
                for s in 0..t.num_sites() {
                    assert_eq!(p[t.neighbour(s, kp)] as usize, t.neighbour(p[s] as usize, k));
                }
            }
        }
    }
}
