//! Periodic supercells of a lattice and their site order.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::lattice::Lattice;
use crate::rotation::adjugate_det;

/// A periodic supercell: the lattice points `R` (lattice coordinates) modulo the integer
/// supercell matrix `S` (columns are the supercell vectors in lattice coordinates), each
/// carrying the lattice's basis.
///
/// Site order: cells in lexicographic order of their canonical lattice coordinates, and
/// within a cell the basis order: `site = nb * cell + b`. For `S = N * identity` the cell
/// index is `N*N*i + N*j + k` for lattice coordinates `(i, j, k)` in `[0, N)`, as in the
/// published crystal files.
#[derive(Clone, Debug)]
pub struct Supercell {
    lattice: Lattice,
    matrix: [[i64; 3]; 3],
    adjugate: [[i64; 3]; 3],
    det: i64,
    cells: Vec<[i64; 3]>,
    cell_index: HashMap<[i64; 3], usize>,
}

impl Supercell {
    /// A supercell with any non-singular integer matrix (row-major; columns are the
    /// supercell vectors in lattice coordinates).
    pub fn new(lattice: Lattice, matrix: [[i64; 3]; 3]) -> Result<Self> {
        let (adjugate, det) = adjugate_det(&matrix);
        if det == 0 {
            return Err(Error::SingularSupercell { matrix });
        }
        let mut sc = Supercell { lattice, matrix, adjugate, det, cells: Vec::new(), cell_index: HashMap::new() };
        // Every canonical representative lies in the parallelepiped spanned by the columns.
        let mut lo = [0i64; 3];
        let mut hi = [0i64; 3];
        for corner in 0..8 {
            for r in 0..3 {
                let v: i64 = (0..3).filter(|c| corner >> c & 1 == 1).map(|c| matrix[r][c]).sum();
                lo[r] = lo[r].min(v);
                hi[r] = hi[r].max(v);
            }
        }
        let mut cells = Vec::with_capacity(det.unsigned_abs() as usize);
        for i in lo[0]..=hi[0] {
            for j in lo[1]..=hi[1] {
                for k in lo[2]..=hi[2] {
                    let r = [i, j, k];
                    if sc.wrap_cell(r) == r {
                        cells.push(r);
                    }
                }
            }
        }
        debug_assert_eq!(cells.len() as i64, det.abs());
        sc.cell_index = cells.iter().enumerate().map(|(n, &r)| (r, n)).collect();
        sc.cells = cells;
        Ok(sc)
    }

    /// `n x n x n` cells of the lattice.
    pub fn cube(lattice: Lattice, n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::EmptySupercell(n));
        }
        let n = n as i64;
        Self::new(lattice, [[n, 0, 0], [0, n, 0], [0, 0, n]])
    }

    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// Row-major supercell matrix; its columns are the supercell vectors.
    pub fn matrix(&self) -> [[i64; 3]; 3] {
        self.matrix
    }

    /// `Some(n)` if the matrix is `diag(n, n, n)`.
    pub fn cube_size(&self) -> Option<usize> {
        let m = self.matrix;
        let n = m[0][0];
        let diag = (0..3).all(|i| (0..3).all(|j| m[i][j] == if i == j { n } else { 0 }));
        (diag && n > 0).then_some(n as usize)
    }

    pub fn num_cells(&self) -> usize {
        self.cells.len()
    }

    pub fn num_sites(&self) -> usize {
        self.cells.len() * self.lattice.num_basis()
    }

    /// Canonical lattice coordinates of the cell holding `site`.
    pub fn site_cell(&self, site: usize) -> [i64; 3] {
        self.cells[site / self.lattice.num_basis()]
    }

    /// Basis index of `site` within its cell.
    pub fn site_basis(&self, site: usize) -> usize {
        site % self.lattice.num_basis()
    }

    /// Position of `site` in doubled lattice coordinates (`2 R + basis`).
    pub fn site_doubled(&self, site: usize) -> [i64; 3] {
        let r = self.site_cell(site);
        let b = self.lattice.basis_doubled()[self.site_basis(site)];
        [0, 1, 2].map(|i| 2 * r[i] + b[i])
    }

    /// Cartesian position of `site` (units of the lattice parameter).
    pub fn site_cartesian(&self, site: usize) -> [f64; 3] {
        self.lattice.cartesian(self.site_doubled(site))
    }

    /// The site at a point given in doubled lattice coordinates, wrapped periodically;
    /// `None` if no site of the lattice is there.
    pub fn site_at(&self, doubled: [i64; 3]) -> Option<usize> {
        let nb = self.lattice.num_basis();
        self.lattice.basis_doubled().iter().enumerate().find_map(|(b, basis)| {
            let d = [0, 1, 2].map(|i| doubled[i] - basis[i]);
            if d.iter().any(|x| x.rem_euclid(2) != 0) {
                return None;
            }
            let cell = self.wrap_cell(d.map(|x| x / 2));
            self.cell_index.get(&cell).map(|&c| nb * c + b)
        })
    }

    /// The canonical representative of lattice point `r` modulo the supercell: `S f` with
    /// `f = S^-1 r` wrapped into `[0, 1)`, computed exactly in integers.
    pub fn wrap_cell(&self, r: [i64; 3]) -> [i64; 3] {
        let (sign, d) = (self.det.signum(), self.det.abs());
        let q = [0, 1, 2].map(|i| (0..3).map(|k| self.adjugate[i][k] * r[k]).sum::<i64>() * sign);
        let f = q.map(|x| x.rem_euclid(d));
        [0, 1, 2].map(|i| (0..3).map(|k| self.matrix[i][k] * f[k]).sum::<i64>() / d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lattice::{CellKind, LatticeKind};

    #[test]
    fn cube_order_matches_published_index() {
        let sc = Supercell::cube(Lattice::new(LatticeKind::Fcc, CellKind::Primitive, 1.0), 8).unwrap();
        assert_eq!(sc.num_sites(), 512);
        for (s, expect) in [(0usize, [0, 0, 0]), (1, [0, 0, 1]), (8, [0, 1, 0]), (64, [1, 0, 0]), (511, [7, 7, 7])] {
            assert_eq!(sc.site_cell(s), expect);
        }
        assert_eq!(sc.site_at([2 * 8, -2, 2 * 9]), Some(8 * 7 + 1));
    }

    #[test]
    fn general_matrix_has_det_sites_and_wraps_consistently() {
        let lat = Lattice::new(LatticeKind::Sc, CellKind::Primitive, 1.0);
        let sc = Supercell::new(lat, [[2, 1, 0], [-1, 2, 0], [0, 1, 3]]).unwrap();
        assert_eq!(sc.num_sites(), 15);
        for s in 0..sc.num_sites() {
            let d = sc.site_doubled(s);
            assert_eq!(sc.site_at(d), Some(s));
            // Adding a supercell vector lands on the same site.
            let m = sc.matrix();
            for column in [0, 1, 2] {
                let shifted = [0, 1, 2].map(|i| d[i] + 2 * m[i][column]);
                assert_eq!(sc.site_at(shifted), Some(s));
            }
        }
    }

    #[test]
    fn cubic_cell_sites_and_basis() {
        let sc = Supercell::cube(Lattice::new(LatticeKind::Fcc, CellKind::Cubic, 1.0), 5).unwrap();
        assert_eq!(sc.num_sites(), 500);
        assert_eq!(sc.site_cartesian(1), [0.0, 0.5, 0.5]);
        assert_eq!(sc.site_at([1, 0, 0]), None, "(1/2,0,0) is not an FCC site");
        assert_eq!(sc.site_at([1, 1, 0]), Some(3));
    }

    #[test]
    fn singular_and_empty_are_errors() {
        let lat = Lattice::new(LatticeKind::Sc, CellKind::Primitive, 1.0);
        assert!(Supercell::new(lat.clone(), [[1, 1, 0], [1, 1, 0], [0, 0, 1]]).is_err());
        assert!(Supercell::cube(lat, 0).is_err());
    }
}
