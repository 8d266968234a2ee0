//! Species clusters, their orbits under the point group and the vector basis of each orbit
//! (SPEC section 10).
//!
//! A species cluster puts a label on every site of a site cluster, with at most one vacancy
//! (the published `Nvac = 1`). Two are the same when a lattice translation maps one onto the
//! other with the same labels, so a species cluster is a site-cluster class and the labels
//! on its canonical sites. The 48 operations (about a lattice site) act on species clusters;
//! an orbit's vector basis is an orthonormal basis of the vectors left unchanged by the
//! stabiliser of its representative (the first member), and each basis vector `v` is one
//! *vector group*: the vector function `sum_T sum_{c = g c0} [c + T on] R_g v`.

use std::collections::HashMap;

use crate::clusters::{ClusterClasses, SiteCluster, site_clusters};
use crate::error::{Error, Result};
use crate::geometry::SiteGeometry;

/// Largest number of label combinations of one site cluster (`num_labels ^ order`).
pub const MAX_LABELINGS_PER_CLUSTER: u64 = 1 << 20;

/// What the cluster basis is built from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BasisParams {
    /// Largest number of sites in a cluster (`-mo`, at least 1).
    pub max_order: usize,
    /// Every pair of sites in a cluster is strictly closer than this, in lattice-parameter
    /// units (`-cc`).
    pub cutoff: f64,
    /// Number of labels, the vacancy included.
    pub num_labels: usize,
    /// The vacancy's label (`-vsp`); a species cluster holds it at most once.
    pub vacancy: usize,
}

impl BasisParams {
    /// Checks the ranges (the message names the published option).
    pub fn validate(&self) -> Result<()> {
        if self.max_order == 0 {
            return Err(Error::Parameter(format!(
                "the largest cluster order -mo must be at least 1 (got {})",
                self.max_order
            )));
        }
        if !(self.cutoff.is_finite() && self.cutoff > 0.0) {
            return Err(Error::Parameter(format!(
                "the cluster cutoff -cc must be a positive number (got {})",
                self.cutoff
            )));
        }
        if self.num_labels < 2 || self.num_labels > i8::MAX as usize {
            return Err(Error::Parameter(format!(
                "the number of labels (the vacancy included) must be 2..=127 (got {})",
                self.num_labels
            )));
        }
        if self.vacancy >= self.num_labels {
            return Err(Error::Parameter(format!(
                "the vacancy label -vsp {} is not one of the {} labels {}",
                self.vacancy,
                self.num_labels,
                gcnet_data::label_range(self.num_labels)
            )));
        }
        Ok(())
    }
}

/// Labels on the canonical sites of a site-cluster class.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpeciesCluster {
    /// Index of the site-cluster class.
    pub class: usize,
    /// Label on each canonical site of the class.
    pub labels: Vec<u8>,
}

/// One orbit of species clusters under the point group.
#[derive(Clone, Debug)]
pub struct Orbit {
    /// The distinct species clusters `g c0`, each with the first operation `g` (index into
    /// the crystal's operations) that maps the representative `c0 = members[0].0` onto it.
    pub members: Vec<(SpeciesCluster, usize)>,
    /// The operations that map the representative onto itself.
    pub stabiliser: Vec<usize>,
    /// Orthonormal basis of the vectors fixed by the stabiliser (0 to 3 vectors).
    pub basis: Vec<[f64; 3]>,
}

/// An orbit as stored: its members with their operations (the representative first) and
/// its basis vectors.
pub type StoredOrbit = (Vec<(SpeciesCluster, usize)>, Vec<[f64; 3]>);

/// Species clusters, their orbits and the vector groups of a cluster expansion.
#[derive(Clone, Debug)]
pub struct ClusterBasis {
    params: BasisParams,
    classes: ClusterClasses,
    orbits: Vec<Orbit>,
    /// For every vector group: its orbit and the index of its vector in the orbit's basis.
    groups: Vec<(usize, usize)>,
    /// Where each species cluster is: (orbit, member index).
    member_of: HashMap<SpeciesCluster, (usize, usize)>,
}

impl ClusterBasis {
    /// Enumerates the site clusters, the species clusters with at most one vacancy, their
    /// orbits and vector bases.
    pub fn build(geometry: &SiteGeometry, params: BasisParams) -> Result<ClusterBasis> {
        params.validate()?;
        let classes = ClusterClasses::new(geometry, site_clusters(geometry, params.max_order, params.cutoff))?;
        check_labelings(&classes, params.num_labels)?;
        let mut seen: HashMap<SpeciesCluster, (usize, usize)> = HashMap::new();
        let mut orbits = Vec::new();
        for class in 0..classes.len() {
            let order = classes.get(class).order();
            for labels in labelings(order, params.num_labels) {
                if !valid_labels(&labels, params.vacancy) {
                    continue;
                }
                let rep = SpeciesCluster { class, labels };
                if seen.contains_key(&rep) {
                    continue;
                }
                let orbit = orbit_of(geometry, &classes, rep);
                for (m, (member, _)) in orbit.members.iter().enumerate() {
                    seen.insert(member.clone(), (orbits.len(), m));
                }
                orbits.push(orbit);
            }
        }
        let groups = vector_groups(&orbits);
        Ok(ClusterBasis { params, classes, orbits, groups, member_of: seen })
    }

    /// Re-assembles a basis from stored parts (a saved expansion) and checks them: every
    /// member is its operation applied to the representative, each orbit is closed under
    /// the group, no species cluster is in two orbits, and every basis is orthonormal and
    /// fixed by the stabiliser.
    pub fn from_parts(
        geometry: &SiteGeometry,
        params: BasisParams,
        clusters: Vec<SiteCluster>,
        orbits: Vec<StoredOrbit>,
    ) -> Result<ClusterBasis> {
        params.validate()?;
        let classes = ClusterClasses::new(geometry, clusters)?;
        check_labelings(&classes, params.num_labels)?;
        let bad = |reason: String| Error::Parameter(format!("the stored cluster expansion is inconsistent: {reason}"));
        let ng = geometry.rotations().len();
        let mut member_of = HashMap::new();
        let mut built = Vec::with_capacity(orbits.len());
        for (o, (members, basis)) in orbits.into_iter().enumerate() {
            let Some((rep, _)) = members.first().cloned() else { return Err(bad(format!("orbit {o} has no members"))) };
            for (m, (member, g)) in members.iter().enumerate() {
                if member.class >= classes.len()
                    || member.labels.len() != classes.get(member.class).order()
                    || !valid_labels(&member.labels, params.vacancy)
                    || member.labels.iter().any(|&l| l as usize >= params.num_labels)
                {
                    return Err(bad(format!("orbit {o}, member {m}: not a species cluster of the expansion")));
                }
                if *g >= ng || act(&classes, &rep, *g) != *member {
                    return Err(bad(format!(
                        "orbit {o}, member {m}: its operation does not map the representative onto it"
                    )));
                }
                if member_of.insert(member.clone(), (o, m)).is_some() {
                    return Err(bad(format!("orbit {o}, member {m}: the species cluster appears twice")));
                }
            }
            let fresh = orbit_of(geometry, &classes, rep);
            if fresh.members.len() != members.len() {
                return Err(bad(format!(
                    "orbit {o} has {} members, the group gives {}",
                    members.len(),
                    fresh.members.len()
                )));
            }
            for v in &basis {
                if v.iter().any(|x| !x.is_finite()) {
                    return Err(bad(format!("orbit {o}: a basis vector is not finite")));
                }
                for &h in &fresh.stabiliser {
                    let r = geometry.rotation_f64(h);
                    let rv = rotate(&r, *v);
                    if (0..3).any(|i| (rv[i] - v[i]).abs() > 1e-9) {
                        return Err(bad(format!(
                            "orbit {o}: a basis vector is not fixed by operation {h} of the stabiliser"
                        )));
                    }
                }
            }
            for (i, a) in basis.iter().enumerate() {
                for (j, b) in basis.iter().enumerate() {
                    if (dot(*a, *b) - f64::from(u8::from(i == j))).abs() > 1e-9 {
                        return Err(bad(format!("orbit {o}: the basis vectors are not orthonormal")));
                    }
                }
            }
            if basis.len() != fresh.basis.len() {
                return Err(bad(format!(
                    "orbit {o}: {} basis vectors, the fixed space of the stabiliser has dimension {}",
                    basis.len(),
                    fresh.basis.len()
                )));
            }
            built.push(Orbit { members, stabiliser: fresh.stabiliser, basis });
        }
        let total: usize = (0..classes.len())
            .map(|c| {
                labelings(classes.get(c).order(), params.num_labels).filter(|l| valid_labels(l, params.vacancy)).count()
            })
            .sum();
        if member_of.len() != total {
            return Err(bad(format!("{} species clusters stored, the clusters give {total}", member_of.len())));
        }
        let groups = vector_groups(&built);
        Ok(ClusterBasis { params, classes, orbits: built, groups, member_of })
    }

    pub fn params(&self) -> BasisParams {
        self.params
    }

    pub fn classes(&self) -> &ClusterClasses {
        &self.classes
    }

    pub fn orbits(&self) -> &[Orbit] {
        &self.orbits
    }

    /// Number of species clusters (the published "Built N clusters"): distinct labelled
    /// clusters up to translation, over all orbits.
    pub fn num_species_clusters(&self) -> usize {
        self.member_of.len()
    }

    /// Number of vector groups K (the published `NVclus`, "No. of vector groups"): the
    /// number of basis functions, one per orbit basis vector.
    pub fn num_vector_groups(&self) -> usize {
        self.groups.len()
    }

    /// Orbit and basis index of vector group `k`.
    pub fn vector_group(&self, k: usize) -> (usize, usize) {
        self.groups[k]
    }

    /// Index of the first vector group of each orbit (orbits without a basis included).
    pub fn first_group(&self) -> Vec<usize> {
        let mut first = Vec::with_capacity(self.orbits.len());
        let mut k = 0;
        for o in &self.orbits {
            first.push(k);
            k += o.basis.len();
        }
        first
    }

    /// Orbit and member index of a species cluster, if it is one of the expansion's.
    pub fn locate(&self, cluster: &SpeciesCluster) -> Option<(usize, usize)> {
        self.member_of.get(cluster).copied()
    }

    /// The vectors a species cluster contributes: `(vector group, R_g v)` for each basis
    /// vector `v` of its orbit, `g` the operation mapping the representative onto it.
    pub fn contributions(&self, geometry: &SiteGeometry, cluster: &SpeciesCluster) -> Vec<(usize, [f64; 3])> {
        let Some((o, m)) = self.locate(cluster) else { return Vec::new() };
        let orbit = &self.orbits[o];
        let r = geometry.rotation_f64(orbit.members[m].1);
        let first = self.first_group()[o];
        orbit.basis.iter().enumerate().map(|(i, &v)| (first + i, rotate(&r, v))).collect()
    }
}

fn check_labelings(classes: &ClusterClasses, num_labels: usize) -> Result<()> {
    for c in 0..classes.len() {
        let order = classes.get(c).order() as u32;
        let count = (num_labels as u64).checked_pow(order);
        if count.is_none_or(|n| n > MAX_LABELINGS_PER_CLUSTER) {
            return Err(Error::Parameter(format!(
                "clusters of {order} sites with {num_labels} labels have more than {MAX_LABELINGS_PER_CLUSTER} \
                 label combinations; use a smaller -mo"
            )));
        }
    }
    Ok(())
}

/// Every assignment of `num_labels` labels to `order` sites, the first site varying slowest.
pub fn labelings(order: usize, num_labels: usize) -> impl Iterator<Item = Vec<u8>> {
    let count = (num_labels as u64).pow(order as u32);
    (0..count).map(move |mut code| {
        let mut labels = vec![0u8; order];
        for l in labels.iter_mut().rev() {
            *l = (code % num_labels as u64) as u8;
            code /= num_labels as u64;
        }
        labels
    })
}

/// At most one vacancy (the published `Nvac = 1`).
pub fn valid_labels(labels: &[u8], vacancy: usize) -> bool {
    labels.iter().filter(|&&l| l as usize == vacancy).count() <= 1
}

/// Operation `g` applied to a species cluster.
pub fn act(classes: &ClusterClasses, cluster: &SpeciesCluster, g: usize) -> SpeciesCluster {
    let (class, placed) = classes.act(cluster.class, g);
    let mut labels = vec![0u8; cluster.labels.len()];
    for (i, &l) in cluster.labels.iter().enumerate() {
        labels[placed[i]] = l;
    }
    SpeciesCluster { class, labels }
}

fn orbit_of(geometry: &SiteGeometry, classes: &ClusterClasses, rep: SpeciesCluster) -> Orbit {
    let mut members: Vec<(SpeciesCluster, usize)> = vec![(rep.clone(), 0)];
    let mut stabiliser = Vec::new();
    for g in 0..geometry.rotations().len() {
        let image = act(classes, &rep, g);
        if image == rep {
            stabiliser.push(g);
        } else if !members.iter().any(|(m, _)| *m == image) {
            members.push((image, g));
        }
    }
    let basis = fixed_basis(geometry, &stabiliser);
    Orbit { members, stabiliser, basis }
}

/// Orthonormal basis of the vectors fixed by every operation of `ops`: Gram-Schmidt on the
/// columns of the projector `P = (1/|H|) sum_h R_h` (its range is the fixed space).
fn fixed_basis(geometry: &SiteGeometry, ops: &[usize]) -> Vec<[f64; 3]> {
    let mut p = [[0.0; 3]; 3];
    for &h in ops {
        let r = geometry.rotations()[h];
        for i in 0..3 {
            for j in 0..3 {
                p[i][j] += r[i][j] as f64 / ops.len() as f64;
            }
        }
    }
    let rank = (p[0][0] + p[1][1] + p[2][2]).round() as usize;
    let mut basis: Vec<[f64; 3]> = Vec::new();
    let columns = [0, 1, 2].map(|j| [p[0][j], p[1][j], p[2][j]]);
    for mut v in columns {
        for b in &basis {
            let d = dot(v, *b);
            (0..3).for_each(|i| v[i] -= d * b[i]);
        }
        let n = dot(v, v).sqrt();
        if n > 1e-8 {
            basis.push(v.map(|x| x / n));
        }
    }
    debug_assert_eq!(basis.len(), rank, "the projector's trace is its rank");
    basis
}

fn vector_groups(orbits: &[Orbit]) -> Vec<(usize, usize)> {
    orbits.iter().enumerate().flat_map(|(o, orbit)| (0..orbit.basis.len()).map(move |i| (o, i))).collect()
}

pub(crate) fn rotate(r: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| r[i][0] * v[0] + r[i][1] * v[1] + r[i][2] * v[2])
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::test_geometry;
    use gcnet_crystal::{CellKind, LatticeKind};

    fn fcc() -> SiteGeometry {
        test_geometry(LatticeKind::Fcc, CellKind::Primitive, 8)
    }

    #[test]
    fn labelings_cover_every_combination_once() {
        let all: Vec<Vec<u8>> = labelings(2, 3).collect();
        assert_eq!(all.len(), 9);
        assert_eq!(all[0], [0, 0]);
        assert_eq!(all[1], [0, 1]);
        assert_eq!(all[8], [2, 2]);
        assert_eq!(labelings(3, 3).filter(|l| valid_labels(l, 2)).count(), 20);
    }

    #[test]
    fn published_counts_on_fcc() {
        let g = fcc();
        for (mo, species, groups) in [(2, 51, 3), (3, 211, 16)] {
            let b = ClusterBasis::build(&g, BasisParams { max_order: mo, cutoff: 0.71, num_labels: 3, vacancy: 2 })
                .unwrap();
            assert_eq!((b.num_species_clusters(), b.num_vector_groups()), (species, groups), "-mo {mo}");
        }
    }

    #[test]
    fn vectors_are_well_defined_on_the_orbit() {
        // Any operation mapping the representative onto a member gives the same R_g v.
        let g = fcc();
        let b = ClusterBasis::build(&g, BasisParams { max_order: 3, cutoff: 0.71, num_labels: 3, vacancy: 2 }).unwrap();
        for orbit in b.orbits() {
            let rep = &orbit.members[0].0;
            for op in 0..48 {
                let image = act(b.classes(), rep, op);
                let (_, m) = b.locate(&image).unwrap();
                let r = g.rotation_f64(op);
                let r0 = g.rotation_f64(orbit.members[m].1);
                for v in &orbit.basis {
                    let (a, c) = (rotate(&r, *v), rotate(&r0, *v));
                    assert!((0..3).all(|i| (a[i] - c[i]).abs() < 1e-12));
                }
            }
        }
    }

    #[test]
    fn parameters_are_checked() {
        let g = fcc();
        let p = BasisParams { max_order: 0, cutoff: 0.71, num_labels: 3, vacancy: 2 };
        assert!(ClusterBasis::build(&g, p).unwrap_err().to_string().contains("-mo"));
        let p = BasisParams { max_order: 2, cutoff: -1.0, num_labels: 3, vacancy: 2 };
        assert!(ClusterBasis::build(&g, p).unwrap_err().to_string().contains("-cc"));
        let p = BasisParams { max_order: 2, cutoff: 0.71, num_labels: 3, vacancy: 3 };
        assert!(ClusterBasis::build(&g, p).unwrap_err().to_string().contains("-vsp"));
    }
}
