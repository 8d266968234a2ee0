//! The contents of a crystal data file (SPEC section 2), validated, with the derived
//! quantities other crates need.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

use crate::crystal::Crystal;
use crate::error::{Error, Result};
use crate::permutation::Permutation;
use crate::rotation::inverse_f64;

/// Everything a crystal data file holds. Fields are private: construct it from a
/// [`Crystal`] or read it from a file, both of which validate it.
#[derive(Clone, Debug, PartialEq)]
pub struct CrystalData {
    pub(crate) path: Option<PathBuf>,
    /// `Lattice_basis_vectors` (3,3): columns are the lattice vectors, parameter 1.
    pub(crate) lattice_vectors: Array2<f64>,
    /// `SuperLatt` (3,3): columns are the supercell vectors in lattice coordinates.
    pub(crate) superlattice: Array2<i64>,
    /// `basis_sites` (nb,3): Cartesian basis of a conventional cell.
    pub(crate) basis_sites: Option<Array2<f64>>,
    /// `SiteIndToR` (Nsites,3): lattice coordinates of each site.
    pub(crate) site_lattice_coords: Option<Array2<i64>>,
    /// `RToSiteInd` (N,N,N): inverse of `SiteIndToR` for diagonal supercells.
    pub(crate) lattice_coords_to_site: Option<Array3<i64>>,
    /// `superCellSiteToCart` (Nsites,3): Cartesian position of each site.
    pub(crate) site_cartesian: Option<Array2<f64>>,
    /// `GroupOpLatticeCartRotMatrices` (Ng,3,3).
    pub(crate) group_rotations: Array3<f64>,
    /// `dxList_1nn` (z,3), Cartesian.
    pub(crate) jump_vectors: Array2<f64>,
    /// `NNsiteList_sitewise` (z+1,Nsites).
    pub(crate) nn_sites: Array2<i64>,
    /// `JumpSiteIndexPermutation` (z,Nsites).
    pub(crate) jump_site_permutation: Array2<i64>,
    /// `GroupNNPermutation` (Ng,z+1).
    pub(crate) group_nn_permutation: Array2<i64>,
}

impl CrystalData {
    /// All tables of a generated crystal.
    pub fn from_crystal(crystal: &Crystal) -> Self {
        let n = crystal.num_sites();
        let z = crystal.z();
        let lattice = crystal.lattice();
        let sc = crystal.supercell();
        let cols = lattice.cell_columns();
        let lattice_vectors = Array2::from_shape_fn((3, 3), |(r, c)| cols[r][c]);
        let m = sc.matrix();
        let superlattice = Array2::from_shape_fn((3, 3), |(r, c)| m[r][c]);
        let (basis_sites, site_lattice_coords, lattice_coords_to_site, site_cartesian) = if lattice.num_basis() == 1 {
            let coords = Array2::from_shape_fn((n, 3), |(s, i)| sc.site_cell(s)[i]);
            let inverse = sc.cube_size().map(|size| {
                let mut inv = Array3::zeros((size, size, size));
                for s in 0..n {
                    let r = sc.site_cell(s);
                    inv[[r[0] as usize, r[1] as usize, r[2] as usize]] = s as i64;
                }
                inv
            });
            (None, Some(coords), inverse, None)
        } else {
            let basis = Array2::from_shape_fn((lattice.num_basis(), 3), |(b, i)| {
                lattice.cartesian(lattice.basis_doubled()[b])[i]
            });
            let cart = Array2::from_shape_fn((n, 3), |(s, i)| sc.site_cartesian(s)[i]);
            (Some(basis), None, None, Some(cart))
        };
        let ops = crystal.group().operations();
        let group_rotations = Array3::from_shape_fn((ops.len(), 3, 3), |(g, r, c)| ops[g].cartesian(lattice)[r][c]);
        let jump_vectors = Array2::from_shape_fn((z, 3), |(k, i)| crystal.jump_cartesian(k)[i]);
        let table = crystal.nn_table();
        let nn_sites = Array2::from_shape_fn((z + 1, n), |(k, s)| table[k][s] as i64);
        let perms: Vec<Permutation> = (0..z).map(|j| crystal.jump_site_permutation(j)).collect();
        let jump_site_permutation = Array2::from_shape_fn((z, n), |(j, s)| perms[j].get(s) as i64);
        let gnn = crystal.group_nn_permutation();
        let group_nn_permutation = Array2::from_shape_fn((ops.len(), z + 1), |(g, k)| gnn[g][k] as i64);
        CrystalData {
            path: None,
            lattice_vectors,
            superlattice,
            basis_sites,
            site_lattice_coords,
            lattice_coords_to_site,
            site_cartesian,
            group_rotations,
            jump_vectors,
            nn_sites,
            jump_site_permutation,
            group_nn_permutation,
        }
    }

    /// The same crystal with its group operations listed in another order: operation i of
    /// the result is operation `order[i]` of this one (rows of
    /// `GroupOpLatticeCartRotMatrices` and `GroupNNPermutation` move together). `order` must
    /// be a permutation that keeps the identity first. Files written by other codes list
    /// the operations in their own order; nothing computed depends on it.
    pub fn with_group_order(&self, order: &[usize]) -> Result<CrystalData> {
        let ng = self.num_group_ops();
        let bad = |reason: String| Error::Invalid {
            path: self.path.clone().unwrap_or_default(),
            dataset: "GroupNNPermutation",
            reason,
        };
        Permutation::new(order.to_vec()).map_err(|e| bad(format!("a new order of the operations: {e}")))?;
        if order.len() != ng || order.first() != Some(&0) {
            return Err(bad(format!("a new order must list all {ng} operations with the identity (0) first")));
        }
        let mut out = self.clone();
        out.group_rotations = self.group_rotations.select(ndarray::Axis(0), order);
        out.group_nn_permutation = self.group_nn_permutation.select(ndarray::Axis(0), order);
        out.validate()?;
        Ok(out)
    }

    /// One line on the crystal: "512 sites, z = 12, 48 group operations; neighbours of
    /// site 0: 15 57 ...".
    pub fn summary(&self) -> String {
        let neighbours: Vec<String> = (0..self.z()).map(|k| self.neighbour(0, k).to_string()).collect();
        format!(
            "{} sites, z = {}, {} group operations; neighbours of site 0: {}",
            self.num_sites(),
            self.z(),
            self.num_group_ops(),
            neighbours.join(" ")
        )
    }

    /// The file this was read from, if any (used in error messages).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A name for messages: the file, or "generated crystal".
    pub fn source_name(&self) -> String {
        self.path.as_ref().map_or_else(|| "generated crystal".to_string(), |p| p.display().to_string())
    }

    pub fn num_sites(&self) -> usize {
        self.nn_sites.ncols()
    }

    /// Number of nearest-neighbour jumps z.
    pub fn z(&self) -> usize {
        self.jump_vectors.nrows()
    }

    /// Number of point-group operations.
    pub fn num_group_ops(&self) -> usize {
        self.group_nn_permutation.nrows()
    }

    pub fn lattice_vectors(&self) -> ArrayView2<'_, f64> {
        self.lattice_vectors.view()
    }

    pub fn superlattice(&self) -> ArrayView2<'_, i64> {
        self.superlattice.view()
    }

    /// `dxList_1nn` (z,3): Cartesian jump vectors (lattice parameter 1).
    pub fn jump_vectors(&self) -> ArrayView2<'_, f64> {
        self.jump_vectors.view()
    }

    /// Jump `k` (0-based) as a Cartesian vector.
    pub fn jump_vector(&self, k: usize) -> [f64; 3] {
        [0, 1, 2].map(|i| self.jump_vectors[[k, i]])
    }

    /// `NNsiteList_sitewise` (z+1,Nsites).
    pub fn nn_sites(&self) -> ArrayView2<'_, i64> {
        self.nn_sites.view()
    }

    /// The site reached from `site` by jump `k` (0-based).
    pub fn neighbour(&self, site: usize, k: usize) -> usize {
        self.nn_sites[[k + 1, site]] as usize
    }

    /// `JumpSiteIndexPermutation` (z,Nsites).
    pub fn jump_site_permutation(&self) -> ArrayView2<'_, i64> {
        self.jump_site_permutation.view()
    }

    /// Jump `j`'s site permutation: `s2 = perm.apply(s1)`.
    pub fn jump_permutation(&self, j: usize) -> Permutation {
        Permutation::new(self.jump_site_permutation.row(j).iter().map(|&x| x as usize).collect())
            .expect("validated when the crystal data was built or read")
    }

    /// `GroupNNPermutation` (Ng,z+1).
    pub fn group_nn_permutation(&self) -> ArrayView2<'_, i64> {
        self.group_nn_permutation.view()
    }

    /// `GroupOpLatticeCartRotMatrices` (Ng,3,3).
    pub fn group_rotations(&self) -> ArrayView3<'_, f64> {
        self.group_rotations.view()
    }

    /// Cartesian rotation of operation `g`, row-major.
    pub fn group_rotation(&self, g: usize) -> [[f64; 3]; 3] {
        [0, 1, 2].map(|r| [0, 1, 2].map(|c| self.group_rotations[[g, r, c]]))
    }

    /// The jump opposite to jump `k`, if there is one.
    pub fn opposite_jump(&self, k: usize) -> Option<usize> {
        let v = self.jump_vector(k);
        (0..self.z()).find(|&j| (0..3).all(|i| (self.jump_vectors[[j, i]] + v[i]).abs() < 1e-9))
    }

    /// Cartesian position of every site (Nsites,3), from `superCellSiteToCart` or from
    /// `SiteIndToR` and the lattice vectors.
    pub fn site_positions(&self) -> Result<Array2<f64>> {
        if let Some(cart) = &self.site_cartesian {
            return Ok(cart.clone());
        }
        let Some(coords) = &self.site_lattice_coords else {
            return Err(Error::Invalid {
                path: self.path.clone().unwrap_or_default(),
                dataset: "SiteIndToR",
                reason: "neither SiteIndToR nor superCellSiteToCart is present, so site positions are unknown".into(),
            });
        };
        let m = &self.lattice_vectors;
        Ok(Array2::from_shape_fn((coords.nrows(), 3), |(s, r)| (0..3).map(|c| m[[r, c]] * coords[[s, c]] as f64).sum()))
    }

    /// For every group operation `g`, the site permutation it induces about site 0:
    /// `perm[s]` is the site at `R_g x_s` (wrapped into the supercell). Works for any
    /// order of operations in the file.
    pub fn group_site_permutations(&self) -> Result<Vec<Permutation>> {
        let sites = SiteIndex::new(self)?;
        let invalid = |reason: String| Error::Invalid {
            path: self.path.clone().unwrap_or_default(),
            dataset: "GroupOpLatticeCartRotMatrices",
            reason,
        };
        (0..self.num_group_ops())
            .map(|g| {
                let rot = self.group_rotation(g);
                let images = (0..sites.len())
                    .map(|s| {
                        let p = sites.position(s);
                        let x = [0, 1, 2].map(|r| (0..3).map(|k| rot[r][k] * p[k]).sum::<f64>());
                        sites.site_at(x).ok_or_else(|| invalid(format!("operation {g} maps site {s} off the lattice")))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Permutation::new(images).map_err(|e| invalid(format!("operation {g}: {e}")))
            })
            .collect()
    }

    /// The geometric invariants the network and the data checks rely on, from the site
    /// positions in the file: every neighbour row lists each site once; site + dx_k is
    /// `NNsiteList_sitewise[k+1, site]`; the rotations map the lattice onto itself and
    /// `GroupNNPermutation` row g maps the jumps by g^-1; `JumpSiteIndexPermutation` is the
    /// jump (exchange of the vacancy on site 0 with neighbour j, then the translation by
    /// -dx_j) that the neighbour table gives. Errors name the dataset and the first
    /// offending entry.
    fn validate_geometry(&self) -> Result<()> {
        let path = self.path.clone().unwrap_or_default();
        let invalid = |dataset: &'static str, reason: String| Error::Invalid { path: path.clone(), dataset, reason };
        let (n, z) = (self.num_sites(), self.z());
        for k in 0..=z {
            let mut seen = vec![false; n];
            for s in 0..n {
                let v = self.nn_sites[[k, s]] as usize;
                if std::mem::replace(&mut seen[v], true) {
                    return Err(invalid(
                        "NNsiteList_sitewise",
                        format!(
                            "row {k} lists site {v} twice (again at entry [{k},{s}]): not a permutation of the sites"
                        ),
                    ));
                }
            }
        }
        let sites = SiteIndex::new(self)?;
        for k in 0..z {
            let dx = self.jump_vector(k);
            for s in 0..n {
                let p = sites.position(s);
                let want = sites.site_at([0, 1, 2].map(|i| p[i] + dx[i]));
                if want != Some(self.nn_sites[[k + 1, s]] as usize) {
                    let at = want.map_or("no site".to_string(), |t| format!("site {t}"));
                    return Err(invalid(
                        "NNsiteList_sitewise",
                        format!(
                            "entry [{},{s}] is {}, but site {s} + dx_{k} (dxList_1nn row {k}) is {at}",
                            k + 1,
                            self.nn_sites[[k + 1, s]]
                        ),
                    ));
                }
            }
        }
        for g in 0..self.num_group_ops() {
            let rot = self.group_rotation(g);
            for k in 1..=z {
                // g^-1 = R_g^T for the orthogonal rotations of a point group
                let dx = self.jump_vector(k - 1);
                let back = [0, 1, 2].map(|r| (0..3).map(|c| rot[c][r] * dx[c]).sum::<f64>());
                let kp = self.group_nn_permutation[[g, k]] as usize;
                let mapped = self.jump_vector(kp - 1);
                if (0..3).any(|i| (back[i] - mapped[i]).abs() > 1e-8) {
                    return Err(invalid(
                        "GroupNNPermutation",
                        format!(
                            "entry [{g},{k}] is {kp}, but operation {g} (GroupOpLatticeCartRotMatrices) maps jump {k} back onto {back:?}, not dx_{} = {mapped:?}",
                            kp - 1
                        ),
                    ));
                }
            }
        }
        self.group_site_permutations()?;
        for j in 0..z {
            let t = self.neighbour(0, j);
            for s in 0..n {
                let from = self.neighbour(s, j);
                let want = if from == t {
                    0
                } else if from == 0 {
                    t
                } else {
                    from
                };
                if self.jump_site_permutation[[j, s]] as usize != want {
                    return Err(invalid(
                        "JumpSiteIndexPermutation",
                        format!(
                            "entry [{j},{s}] is {}, but the neighbour table gives {want} (the vacancy on site 0 exchanges with site {t}, then the state moves by -dx_{j})",
                            self.jump_site_permutation[[j, s]]
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks shapes, index ranges and the invariants other crates rely on.
    pub(crate) fn validate(&self) -> Result<()> {
        let path = self.path.clone().unwrap_or_default();
        let shape = |dataset: &'static str, found: &[usize], expected: &[usize]| -> Result<()> {
            if found == expected {
                Ok(())
            } else {
                Err(Error::Shape {
                    path: path.clone(),
                    dataset,
                    expected: format!("{expected:?}"),
                    found: found.to_vec(),
                })
            }
        };
        let invalid = |dataset: &'static str, reason: String| Error::Invalid { path: path.clone(), dataset, reason };
        let z = self.jump_vectors.nrows();
        // The site count follows from the supercell matrix and the basis, so a table with
        // a wrong width is the one blamed.
        shape("SuperLatt", self.superlattice.shape(), &[3, 3])?;
        let m = [0, 1, 2].map(|r| [0, 1, 2].map(|c| self.superlattice[[r, c]]));
        let det = crate::rotation::adjugate_det(&m).1.unsigned_abs() as usize;
        let nb = self.basis_sites.as_ref().map_or(1, |b| b.nrows());
        let n = det * nb;
        if n == 0 {
            return Err(invalid("SuperLatt", "the supercell matrix is singular".into()));
        }
        let ng = self.group_nn_permutation.nrows();
        shape("Lattice_basis_vectors", self.lattice_vectors.shape(), &[3, 3])?;
        shape("SuperLatt", self.superlattice.shape(), &[3, 3])?;
        shape("dxList_1nn", self.jump_vectors.shape(), &[z, 3])?;
        if z == 0 {
            return Err(invalid("dxList_1nn", "no jump vectors".into()));
        }
        shape("NNsiteList_sitewise", self.nn_sites.shape(), &[z + 1, n])?;
        shape("JumpSiteIndexPermutation", self.jump_site_permutation.shape(), &[z, n])?;
        shape("GroupNNPermutation", self.group_nn_permutation.shape(), &[ng, z + 1])?;
        shape("GroupOpLatticeCartRotMatrices", self.group_rotations.shape(), &[ng, 3, 3])?;
        if ng == 0 {
            return Err(invalid("GroupNNPermutation", "no group operations".into()));
        }
        if let Some(c) = &self.site_lattice_coords {
            shape("SiteIndToR", c.shape(), &[n, 3])?;
        }
        if let Some(c) = &self.site_cartesian {
            shape("superCellSiteToCart", c.shape(), &[n, 3])?;
        }
        if let Some(b) = &self.basis_sites {
            shape("basis_sites", b.shape(), &[b.nrows(), 3])?;
        }
        for s in 0..n {
            if self.nn_sites[[0, s]] != s as i64 {
                return Err(invalid(
                    "NNsiteList_sitewise",
                    format!("row 0 must list each site itself; entry {s} is {}", self.nn_sites[[0, s]]),
                ));
            }
        }
        if let Some(bad) = self.nn_sites.iter().find(|&&v| v < 0 || v >= n as i64) {
            return Err(invalid("NNsiteList_sitewise", format!("site index {bad} out of range 0..{n}")));
        }
        for j in 0..z {
            let row: Vec<usize> = self.jump_site_permutation.row(j).iter().map(|&x| x.max(0) as usize).collect();
            if self.jump_site_permutation.row(j).iter().any(|&x| x < 0) {
                return Err(invalid("JumpSiteIndexPermutation", format!("row {j} has a negative entry")));
            }
            Permutation::new(row).map_err(|e| invalid("JumpSiteIndexPermutation", format!("row {j}: {e}")))?;
            if self.jump_site_permutation[[j, 0]] != 0 {
                return Err(invalid(
                    "JumpSiteIndexPermutation",
                    format!("entry [{j},0] must be 0 (the vacancy returns to site 0)"),
                ));
            }
        }
        for g in 0..ng {
            let row: Vec<usize> = self.group_nn_permutation.row(g).iter().map(|&x| x.max(0) as usize).collect();
            if self.group_nn_permutation.row(g).iter().any(|&x| x < 0) || row[0] != 0 {
                return Err(invalid(
                    "GroupNNPermutation",
                    format!("row {g} must start with 0 and have no negative entries"),
                ));
            }
            Permutation::new(row).map_err(|e| invalid("GroupNNPermutation", format!("row {g}: {e}")))?;
        }
        if self.group_nn_permutation.row(0).iter().enumerate().any(|(k, &v)| v != k as i64) {
            return Err(invalid(
                "GroupNNPermutation",
                "row 0 must be the identity (operation 0 is the identity)".into(),
            ));
        }
        self.validate_geometry()
    }
}

/// Site positions and the site at any position, wrapped into the supercell.
struct SiteIndex {
    positions: Array2<f64>,
    /// Inverse of the Cartesian supercell vectors (columns), for fractional coordinates.
    cinv: [[f64; 3]; 3],
    index: HashMap<[i64; 3], usize>,
}

impl SiteIndex {
    fn new(data: &CrystalData) -> Result<SiteIndex> {
        let positions = data.site_positions()?;
        let cols = &data.lattice_vectors;
        // Cartesian supercell vectors C = M S and their inverse, for periodic wrapping.
        let mut c = [[0.0; 3]; 3];
        for (r, row) in c.iter_mut().enumerate() {
            for (k, x) in row.iter_mut().enumerate() {
                *x = (0..3).map(|i| cols[[r, i]] * data.superlattice[[i, k]] as f64).sum();
            }
        }
        let mut si = SiteIndex { positions, cinv: inverse_f64(&c), index: HashMap::new() };
        let n = si.positions.nrows();
        let index: HashMap<[i64; 3], usize> = (0..n).map(|s| (si.key(si.position(s)), s)).collect();
        if index.len() != n {
            let dataset = if data.site_cartesian.is_some() { "superCellSiteToCart" } else { "SiteIndToR" };
            return Err(Error::Invalid {
                path: data.path.clone().unwrap_or_default(),
                dataset,
                reason: "two sites share a position".into(),
            });
        }
        si.index = index;
        Ok(si)
    }

    fn len(&self) -> usize {
        self.positions.nrows()
    }

    fn position(&self, s: usize) -> [f64; 3] {
        [0, 1, 2].map(|i| self.positions[[s, i]])
    }

    /// Wrapped fractional supercell coordinates on a fine integer grid.
    fn key(&self, x: [f64; 3]) -> [i64; 3] {
        const GRID: f64 = 1e6;
        [0, 1, 2].map(|i| {
            let f: f64 = (0..3).map(|k| self.cinv[i][k] * x[k]).sum();
            ((f * GRID).round() as i64).rem_euclid(GRID as i64)
        })
    }

    fn site_at(&self, x: [f64; 3]) -> Option<usize> {
        self.index.get(&self.key(x)).copied()
    }
}
