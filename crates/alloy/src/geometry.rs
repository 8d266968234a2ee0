//! Atom positions from the crystal data file (SPEC section 8): the site positions times
//! a0 in a periodic box of the supercell vectors times a0, rotated into LAMMPS's
//! lower-triangular (restricted triclinic) frame when the cell is not orthogonal. Every
//! occupied site holds one atom of type = label; the vacancy's site is empty; atoms are
//! numbered in site order, skipping the vacancy (as the published scripts number them), so
//! ids stay tied to sites.

use std::fmt::Write as _;
use std::path::PathBuf;

use gcnet_crystal::{CrystalData, JumpNetwork};

use crate::error::{Error, Result};

/// The supercell the user says the crystal file describes (the published -u and -pr).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellSpec {
    /// Unit cells per side.
    pub units: usize,
    /// Primitive FCC cells (else conventional cubic cells).
    pub primitive: bool,
}

/// The periodic box in LAMMPS's frame (Å): a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LammpsBox {
    pub lengths: [f64; 3],
    /// xy, xz, yz.
    pub tilts: [f64; 3],
}

impl LammpsBox {
    pub fn is_orthogonal(&self) -> bool {
        self.tilts.iter().all(|&t| t == 0.0)
    }
}

/// Site positions and jumps of one supercell, ready for LAMMPS data files.
#[derive(Clone, Debug)]
pub struct Geometry {
    crystal: PathBuf,
    a0: f64,
    /// Position of every site in LAMMPS's frame (Å), inside the box.
    positions: Vec<[f64; 3]>,
    lammps_box: LammpsBox,
    /// The shared jump network: neighbour table and jump vectors (lattice parameter 1).
    network: JumpNetwork,
    /// Jump vectors in the crystal file's Cartesian frame, Å (a0 x dxList_1nn).
    jumps: Vec<[f64; 3]>,
}

impl Geometry {
    /// The geometry of `crystal` with lattice parameter `a0` (Å), after checking that the
    /// file describes `cell`.
    pub fn new(crystal: &CrystalData, a0: f64, cell: CellSpec) -> Result<Geometry> {
        let path = crystal.path().map(PathBuf::from).unwrap_or_else(|| PathBuf::from(crystal.source_name()));
        let bad = |reason: String| Error::Geometry { crystal: path.clone(), reason };
        if !(a0.is_finite() && a0 > 0.0) {
            return Err(Error::Config(format!("the lattice parameter must be positive, got {a0}")));
        }
        let lv = crystal.lattice_vectors();
        let identity = (0..3).all(|r| (0..3).all(|c| (lv[[r, c]] - if r == c { 1.0 } else { 0.0 }).abs() < 1e-12));
        let primitive = !identity;
        if primitive != cell.primitive {
            return Err(bad(if primitive {
                "it holds a primitive-cell supercell, but conventional cubic cells were asked for (pass the primitive-cell option)".into()
            } else {
                "it holds conventional cubic cells, but primitive cells were asked for".into()
            }));
        }
        let sl = crystal.superlattice();
        let u = cell.units as i64;
        let diagonal_u = (0..3).all(|r| (0..3).all(|c| sl[[r, c]] == if r == c { u } else { 0 }));
        if !diagonal_u {
            let m: Vec<Vec<i64>> = (0..3).map(|r| (0..3).map(|c| sl[[r, c]]).collect()).collect();
            return Err(bad(format!(
                "its supercell matrix is {m:?}, not {u}x{u}x{u} cells (the number of unit cells per side given)"
            )));
        }
        // Cartesian supercell vectors (columns), Å.
        let col = |i: usize| -> [f64; 3] {
            [0, 1, 2].map(|r| (0..3).map(|k| lv[[r, k]] * sl[[k, i]] as f64).sum::<f64>() * a0)
        };
        let (va, vb, vc) = (col(0), col(1), col(2));
        let lx = norm(va);
        let e1 = scale(va, 1.0 / lx);
        let xy = dot(vb, e1);
        let b_perp = sub(vb, scale(e1, xy));
        let ly = norm(b_perp);
        let e2 = scale(b_perp, 1.0 / ly);
        let e3 = cross(e1, e2);
        let (xz, yz, lz) = (dot(vc, e1), dot(vc, e2), dot(vc, e3));
        if lz.is_nan() || lz <= 0.0 {
            return Err(bad("its supercell vectors are left-handed or degenerate".into()));
        }
        let clean = |x: f64| if x.abs() < 1e-9 * lx { 0.0 } else { x };
        let lammps_box = LammpsBox { lengths: [lx, ly, lz], tilts: [clean(xy), clean(xz), clean(yz)] };
        let sites = crystal.site_positions()?;
        let positions = (0..sites.nrows())
            .map(|s| {
                let p = [0, 1, 2].map(|i| sites[[s, i]] * a0);
                let r = [dot(p, e1), dot(p, e2), dot(p, e3)];
                wrap(r, &lammps_box)
            })
            .collect();
        let network = JumpNetwork::new(crystal);
        let jumps = network.jump_vectors().iter().map(|d| d.map(|x| x * a0)).collect();
        Ok(Geometry { crystal: path, a0, positions, lammps_box, network, jumps })
    }

    pub fn crystal_path(&self) -> &std::path::Path {
        &self.crystal
    }

    pub fn a0(&self) -> f64 {
        self.a0
    }

    pub fn num_sites(&self) -> usize {
        self.positions.len()
    }

    /// Number of jumps z.
    pub fn z(&self) -> usize {
        self.network.z()
    }

    /// The shared jump network of the crystal.
    pub fn network(&self) -> &JumpNetwork {
        &self.network
    }

    pub fn lammps_box(&self) -> LammpsBox {
        self.lammps_box
    }

    /// Position of `site` in LAMMPS's frame (Å).
    pub fn position(&self, site: usize) -> [f64; 3] {
        self.positions[site]
    }

    /// The site reached from `site` by jump `k`.
    pub fn neighbour(&self, site: usize, k: usize) -> usize {
        self.network.neighbour(site, k)
    }

    /// Jump `k` in the crystal file's Cartesian frame (Å).
    pub fn jump(&self, k: usize) -> [f64; 3] {
        self.jumps[k]
    }

    /// LAMMPS id of the atom on `site` when the vacancy is on `vacancy` (sites in order,
    /// the vacancy's skipped, ids from 1).
    pub fn atom_id(&self, vacancy: usize, site: usize) -> usize {
        debug_assert_ne!(site, vacancy);
        if site < vacancy { site + 1 } else { site }
    }

    /// A LAMMPS data file (`atom_style atomic`) of the state `labels` (label 0 = the
    /// vacancy, exactly one), with `num_types` atom types. With `moved = Some((from, to))`
    /// the atom of site `from` sits on the position of site `to` (the vacancy's).
    pub fn data_file(&self, labels: &[u8], num_types: usize, moved: Option<(usize, usize)>) -> String {
        let atoms = labels.iter().filter(|&&l| l != 0).count();
        let b = self.lammps_box;
        let mut s = String::with_capacity(64 * atoms + 256);
        let _ = write!(
            s,
            "gcnet state ({} sites)\n\n{atoms} atoms\n{num_types} atom types\n\n0 {} xlo xhi\n0 {} ylo yhi\n0 {} zlo zhi\n",
            labels.len(),
            b.lengths[0],
            b.lengths[1],
            b.lengths[2]
        );
        if !b.is_orthogonal() {
            let _ = writeln!(s, "{} {} {} xy xz yz", b.tilts[0], b.tilts[1], b.tilts[2]);
        }
        s.push_str("\nAtoms # atomic\n\n");
        let mut id = 0;
        for (site, &label) in labels.iter().enumerate() {
            if label == 0 {
                continue;
            }
            id += 1;
            let p = match moved {
                Some((from, to)) if from == site => self.positions[to],
                _ => self.positions[site],
            };
            let _ = writeln!(s, "{id} {label} {} {} {}", p[0], p[1], p[2]);
        }
        s
    }

    /// The NEB `final` file of jump `k` out of a state with the vacancy on `vacancy`: the
    /// neighbour's atom on the vacancy's position.
    pub fn neb_final_file(&self, vacancy: usize, k: usize) -> String {
        let t = self.neighbour(vacancy, k);
        let p = self.positions[vacancy];
        format!("1\n{} {} {} {}\n", self.atom_id(vacancy, t), p[0], p[1], p[2])
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

fn scale(a: [f64; 3], f: f64) -> [f64; 3] {
    a.map(|x| x * f)
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// Wraps a point into the box: [0,1)^3 in the box's fractional coordinates (points within
/// 1e-9 of the upper face go to the lower one). A point inside is returned unchanged, to
/// the bit.
fn wrap(r: [f64; 3], b: &LammpsBox) -> [f64; 3] {
    let [lx, ly, lz] = b.lengths;
    let [xy, xz, yz] = b.tilts;
    // Fractional coordinates of the lower-triangular box.
    let fz = r[2] / lz;
    let fy = (r[1] - yz * fz) / ly;
    let fx = (r[0] - xy * fy - xz * fz) / lx;
    let inside = |f: f64| (0.0..1.0 - 1e-9).contains(&f);
    if inside(fx) && inside(fy) && inside(fz) {
        return r;
    }
    let w = |f: f64| {
        let g = f - f.floor();
        if (1.0 - g).abs() < 1e-9 || g.abs() < 1e-12 { 0.0 } else { g }
    };
    let (fx, fy, fz) = (w(fx), w(fy), w(fz));
    [fx * lx + fy * xy + fz * xz, fy * ly + fz * yz, fz * lz]
}

#[cfg(test)]
mod tests {
    use super::*;
    use gcnet_crystal::{CellKind, Crystal, LatticeKind};

    fn dist(g: &Geometry, a: usize, b: usize) -> f64 {
        // Minimum image in fractional coordinates of the box.
        let bx = g.lammps_box();
        let [pa, pb] = [g.position(a), g.position(b)];
        let mut best = f64::INFINITY;
        for i in -1..=1 {
            for j in -1..=1 {
                for k in -1..=1 {
                    let (i, j, k) = (i as f64, j as f64, k as f64);
                    let shift = [
                        i * bx.lengths[0] + j * bx.tilts[0] + k * bx.tilts[1],
                        j * bx.lengths[1] + k * bx.tilts[2],
                        k * bx.lengths[2],
                    ];
                    best = best.min(norm(sub(add(pb, shift), pa)));
                }
            }
        }
        best
    }

    fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
        [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
    }

    #[test]
    fn neighbours_sit_at_the_fcc_distance_in_both_cells() {
        for (cell, primitive, u) in [(CellKind::Cubic, false, 3), (CellKind::Primitive, true, 4)] {
            let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, cell, u).unwrap());
            let g = Geometry::new(&crystal, 3.595, CellSpec { units: u, primitive }).unwrap();
            assert_eq!(g.lammps_box().is_orthogonal(), !primitive);
            let want = 3.595 / 2f64.sqrt();
            for s in [0, 5, g.num_sites() - 1] {
                for k in 0..g.z() {
                    let d = dist(&g, s, g.neighbour(s, k));
                    assert!((d - want).abs() < 1e-9, "{cell:?} site {s} jump {k}: {d}");
                    assert!((norm(g.jump(k)) - want).abs() < 1e-12);
                }
            }
            // Every site inside the box.
            let b = g.lammps_box();
            for s in 0..g.num_sites() {
                let p = g.position(s);
                assert!(p[2] >= 0.0 && p[2] < b.lengths[2] + 1e-9, "{p:?}");
            }
        }
    }

    #[test]
    fn the_cell_must_match_the_file() {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 3).unwrap());
        let e = Geometry::new(&crystal, 3.595, CellSpec { units: 5, primitive: false }).unwrap_err().to_string();
        assert!(e.contains("not 5x5x5"), "{e}");
        let e = Geometry::new(&crystal, 3.595, CellSpec { units: 3, primitive: true }).unwrap_err().to_string();
        assert!(e.contains("conventional cubic"), "{e}");
    }

    #[test]
    fn data_files_number_atoms_in_site_order() {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 3).unwrap());
        let g = Geometry::new(&crystal, 3.595, CellSpec { units: 3, primitive: false }).unwrap();
        let mut labels = vec![2u8; g.num_sites()];
        labels[4] = 0;
        let text = g.data_file(&labels, 5, None);
        assert!(text.contains("107 atoms\n5 atom types\n"));
        let atoms: Vec<&str> = text.lines().skip_while(|l| !l.starts_with("Atoms")).skip(2).collect();
        assert_eq!(atoms.len(), 107);
        assert!(atoms[4].starts_with("5 2 "), "site 5 is atom 5: {}", atoms[4]);
        assert_eq!(g.atom_id(4, 3), 4);
        assert_eq!(g.atom_id(4, 5), 5);
        let t = g.neighbour(4, 0);
        let fin = g.neb_final_file(4, 0);
        let p = g.position(4);
        assert_eq!(fin, format!("1\n{} {} {} {}\n", g.atom_id(4, t), p[0], p[1], p[2]));
    }
}
