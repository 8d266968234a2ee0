//! A supercell with its point group and jump network: everything the crystal data file
//! holds, derived exactly from integer coordinates.

use crate::error::{Error, Result};
use crate::lattice::{CellKind, Lattice, LatticeKind};
use crate::neighbours::{nearest_jumps, neighbour_shells};
use crate::permutation::Permutation;
use crate::point_group::PointGroup;
use crate::supercell::Supercell;

/// A periodic supercell of a cubic lattice with a vacancy site at index 0, its cubic
/// point group (operations about site 0) and its nearest-neighbour jumps.
#[derive(Clone, Debug)]
pub struct Crystal {
    supercell: Supercell,
    group: PointGroup,
    jumps: Vec<[i64; 3]>,
}

impl Crystal {
    /// `n x n x n` cells of the lattice `kind` described by `cell`, lattice parameter 1.
    pub fn cube(kind: LatticeKind, cell: CellKind, n: usize) -> Result<Self> {
        Self::from_supercell(Supercell::cube(Lattice::new(kind, cell, 1.0), n)?)
    }

    /// Any supercell; it must be large enough that the jumps out of a site reach
    /// distinct sites. Its group is the cubic operations that map the supercell onto
    /// itself (all 48 for N x N x N cells, fewer for other shapes): only those permute the
    /// sites of the periodic cell.
    pub fn from_supercell(supercell: Supercell) -> Result<Self> {
        let m = supercell.matrix();
        let columns: [[i64; 3]; 3] = [0, 1, 2].map(|c| [m[0][c], m[1][c], m[2][c]]);
        let group = PointGroup::cubic(supercell.lattice())
            .restricted(|g| columns.iter().all(|&col| supercell.wrap_cell(g.apply(col)) == [0, 0, 0]));
        let jumps = nearest_jumps(supercell.lattice());
        let crystal = Crystal { supercell, group, jumps };
        let mut reached: Vec<usize> = (0..crystal.z()).map(|k| crystal.neighbour(0, k)).collect();
        reached.push(0);
        reached.sort_unstable();
        reached.dedup();
        if reached.len() != crystal.z() + 1 {
            return Err(Error::NotAPermutation {
                what: "the nearest-neighbour table".into(),
                reason: format!(
                    "the supercell {:?} is too small: the {} jumps out of site 0 do not reach {} distinct other sites",
                    crystal.supercell.matrix(),
                    crystal.z(),
                    crystal.z()
                ),
            });
        }
        Ok(crystal)
    }

    pub fn supercell(&self) -> &Supercell {
        &self.supercell
    }

    pub fn lattice(&self) -> &Lattice {
        self.supercell.lattice()
    }

    pub fn group(&self) -> &PointGroup {
        &self.group
    }

    pub fn num_sites(&self) -> usize {
        self.supercell.num_sites()
    }

    /// Number of nearest-neighbour jumps z.
    pub fn z(&self) -> usize {
        self.jumps.len()
    }

    /// Jump `k` (0-based) in doubled lattice coordinates.
    pub fn jump_doubled(&self, k: usize) -> [i64; 3] {
        self.jumps[k]
    }

    /// Jump `k` (0-based) in Cartesian coordinates (units of the lattice parameter).
    pub fn jump_cartesian(&self, k: usize) -> [f64; 3] {
        self.lattice().cartesian(self.jumps[k])
    }

    /// The site reached from `site` by jump `k` (0-based).
    pub fn neighbour(&self, site: usize, k: usize) -> usize {
        let d = self.supercell.site_doubled(site);
        let j = self.jumps[k];
        self.supercell
            .site_at([d[0] + j[0], d[1] + j[1], d[2] + j[2]])
            .expect("a jump of a Bravais lattice lands on a site")
    }

    /// The jump opposite to jump `k`.
    pub fn opposite_jump(&self, k: usize) -> usize {
        let j = self.jumps[k].map(|x| -x);
        self.jumps.iter().position(|&v| v == j).expect("the jump set is centrosymmetric")
    }

    /// `NNsiteList_sitewise`: `table[0][s] = s`, `table[k][s]` = the site at `s + dx[k-1]`.
    pub fn nn_table(&self) -> Vec<Vec<usize>> {
        let n = self.num_sites();
        let mut table = vec![(0..n).collect::<Vec<_>>()];
        for k in 0..self.z() {
            table.push((0..n).map(|s| self.neighbour(s, k)).collect());
        }
        table
    }

    /// `JumpSiteIndexPermutation[j]`: after the vacancy at site 0 takes jump `j`, the state
    /// is translated by `-dx_j` so that the vacancy is back at site 0; then
    /// `s2 = perm.apply(s1)`, i.e. `s2[s] = s1[perm[s]]`.
    pub fn jump_site_permutation(&self, j: usize) -> Permutation {
        let target = self.neighbour(0, j);
        let images = (0..self.num_sites())
            .map(|s| {
                // The occupant that ends at s came from s + dx_j before the translation,
                // where the exchange swapped sites 0 and `target`.
                let t = self.neighbour(s, j);
                if t == target {
                    0
                } else if t == 0 {
                    target
                } else {
                    t
                }
            })
            .collect();
        Permutation::new(images).expect("a jump followed by a translation is a bijection")
    }

    /// `GroupNNPermutation`: row `g` has 0 first, then for each jump `k` (1-based) the
    /// 1-based index `k'` with `dx[k'-1] = g^-1 dx[k-1]`.
    pub fn group_nn_permutation(&self) -> Vec<Vec<usize>> {
        self.group
            .operations()
            .iter()
            .map(|g| {
                let ginv = g.inverse();
                let mut row = vec![0];
                row.extend(self.jumps.iter().map(|&dx| {
                    let r = ginv.apply(dx);
                    1 + self.jumps.iter().position(|&v| v == r).expect("the group maps jumps onto jumps")
                }));
                row
            })
            .collect()
    }

    /// For each group operation `g`, the permutation of supercell sites it induces about
    /// site 0: `perm[s]` is the site at `g x_s`. A state rotated by `g` is
    /// `rotated[perm[s]] = state[s]`, i.e. `perm.inverse().apply(state)`.
    pub fn group_site_permutations(&self) -> Vec<Permutation> {
        self.group
            .operations()
            .iter()
            .map(|g| {
                let images = (0..self.num_sites())
                    .map(|s| {
                        self.supercell
                            .site_at(g.apply(self.supercell.site_doubled(s)))
                            .expect("a point-group operation maps sites onto sites")
                    })
                    .collect();
                Permutation::new(images).expect("a point-group operation permutes the sites")
            })
            .collect()
    }

    /// The first `count` neighbour shells (doubled lattice coordinates).
    pub fn neighbour_shells(&self, count: usize) -> Vec<Vec<[i64; 3]>> {
        neighbour_shells(self.lattice(), count)
    }
}
