//! Site clusters: sets of 1..=max_order distinct lattice sites whose pairwise distances are
//! all strictly below the cutoff, taken up to lattice translation (SPEC section 10; the
//! published tool's `cluster.makeclusters` of the onsager package, whose test is
//! `0 < |dx|^2 < cutoff^2` for every pair).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::error::{Error, Result};
use crate::geometry::{Point, SiteGeometry, add, apply, norm2, sub};

/// A site cluster in canonical form: its points (doubled Cartesian, infinite lattice)
/// sorted lexicographically and translated so that the first is the origin. Two clusters
/// are translations of each other exactly when their canonical forms are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteCluster {
    points: Vec<Point>,
}

impl SiteCluster {
    /// The canonical form of any set of distinct points, and where each input point went:
    /// `placed[i]` is the index in the canonical order of input point `i`.
    pub fn canonical(points: &[Point]) -> (SiteCluster, Vec<usize>) {
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by_key(|&i| points[i]);
        let origin = points[order[0]];
        let mut placed = vec![0; points.len()];
        for (new, &old) in order.iter().enumerate() {
            placed[old] = new;
        }
        (SiteCluster { points: order.iter().map(|&i| sub(points[i], origin)).collect() }, placed)
    }

    /// Number of sites.
    pub fn order(&self) -> usize {
        self.points.len()
    }

    /// The points, canonical order (the first is the origin).
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Largest squared pairwise distance in doubled units (4 x lattice-parameter units).
    pub fn max_norm2(&self) -> i64 {
        let p = &self.points;
        (0..p.len()).flat_map(|i| (0..i).map(move |j| norm2(sub(p[i], p[j])))).max().unwrap_or(0)
    }

    /// From stored points (a saved expansion): they must be in canonical form.
    pub fn from_canonical_points(points: Vec<Point>) -> Option<SiteCluster> {
        let (c, _) = SiteCluster::canonical(&points);
        (c.points == points && !points.is_empty()).then_some(c)
    }
}

/// Whether two sites at squared doubled distance `n2` are within the cutoff (strictly), as
/// the published test `0 < dx.dx < cutoff^2` in lattice-parameter units.
pub fn within(n2: i64, cutoff: f64) -> bool {
    n2 > 0 && (n2 as f64) / 4.0 < cutoff * cutoff
}

/// The lattice points `p != 0` with `|p| < cutoff`, found by walking nearest-neighbour jumps
/// in the infinite lattice (every lattice point of a cubic lattice has a neighbour closer
/// to the origin, so the walk inside the ball reaches all of them).
fn neighbours_within(geometry: &SiteGeometry, cutoff: f64) -> Vec<Point> {
    let dmax = geometry.jumps().iter().map(|&d| (norm2(d) as f64).sqrt() / 2.0).fold(0.0, f64::max);
    let reach = cutoff + dmax;
    let mut seen = HashSet::from([[0i64; 3]]);
    let mut queue = VecDeque::from([[0i64; 3]]);
    let mut out = Vec::new();
    while let Some(p) = queue.pop_front() {
        for &d in geometry.jumps() {
            let q = add(p, d);
            if (norm2(q) as f64) / 4.0 < reach * reach && seen.insert(q) {
                if within(norm2(q), cutoff) {
                    out.push(q);
                }
                queue.push_back(q);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Every site cluster of 1..=max_order sites with all pairwise distances below `cutoff`,
/// once per translation class, ordered by number of sites, then by size (largest pairwise
/// distance), then by points.
pub fn site_clusters(geometry: &SiteGeometry, max_order: usize, cutoff: f64) -> Vec<SiteCluster> {
    let mut out = vec![SiteCluster { points: vec![[0, 0, 0]] }];
    if max_order >= 2 {
        // The origin is the lexicographically smallest point of the canonical form, so the
        // other points are lexicographically positive neighbours of the origin.
        let candidates: Vec<Point> =
            neighbours_within(geometry, cutoff).into_iter().filter(|&p| p > [0, 0, 0]).collect();
        let mut chosen = vec![[0i64; 3]];
        extend(&candidates, 0, &mut chosen, max_order, cutoff, &mut out);
    }
    out.sort_by(|a, b| (a.order(), a.max_norm2(), &a.points).cmp(&(b.order(), b.max_norm2(), &b.points)));
    out
}

fn extend(
    candidates: &[Point],
    from: usize,
    chosen: &mut Vec<Point>,
    max_order: usize,
    cutoff: f64,
    out: &mut Vec<SiteCluster>,
) {
    if chosen.len() == max_order {
        return;
    }
    for (i, &p) in candidates.iter().enumerate().skip(from) {
        if chosen.iter().all(|&c| within(norm2(sub(p, c)), cutoff)) {
            chosen.push(p);
            out.push(SiteCluster { points: chosen.clone() });
            extend(candidates, i + 1, chosen, max_order, cutoff, out);
            chosen.pop();
        }
    }
}

/// The site clusters of an expansion with the action of every point-group operation on
/// them: operation `g` maps class `c` onto class `action[c][g].0`, and the site at
/// canonical position `i` of `c` onto position `action[c][g].1[i]` of the image.
#[derive(Clone, Debug)]
pub struct ClusterClasses {
    clusters: Vec<SiteCluster>,
    index: HashMap<SiteCluster, usize>,
    action: Vec<Vec<(usize, Vec<usize>)>>,
}

impl ClusterClasses {
    /// Indexes the classes and computes the action of the geometry's operations; every
    /// image must be one of the classes (the set is closed under the point group).
    pub fn new(geometry: &SiteGeometry, clusters: Vec<SiteCluster>) -> Result<ClusterClasses> {
        let index: HashMap<SiteCluster, usize> = clusters.iter().cloned().enumerate().map(|(i, c)| (c, i)).collect();
        if index.len() != clusters.len() {
            return Err(Error::Parameter("two site clusters of the expansion are translations of each other".into()));
        }
        let mut action = Vec::with_capacity(clusters.len());
        for (c, cluster) in clusters.iter().enumerate() {
            let mut row = Vec::with_capacity(geometry.rotations().len());
            for (g, r) in geometry.rotations().iter().enumerate() {
                let moved: Vec<Point> = cluster.points.iter().map(|&p| apply(r, p)).collect();
                let (image, placed) = SiteCluster::canonical(&moved);
                let target = *index.get(&image).ok_or_else(|| {
                    Error::Parameter(format!(
                        "operation {g} maps site cluster {c} onto a cluster that is not in the expansion \
                         (the clusters are not closed under the point group)"
                    ))
                })?;
                row.push((target, placed));
            }
            action.push(row);
        }
        Ok(ClusterClasses { clusters, index, action })
    }

    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    pub fn get(&self, c: usize) -> &SiteCluster {
        &self.clusters[c]
    }

    pub fn clusters(&self) -> &[SiteCluster] {
        &self.clusters
    }

    /// The class of a cluster in canonical form.
    pub fn find(&self, cluster: &SiteCluster) -> Option<usize> {
        self.index.get(cluster).copied()
    }

    /// Where operation `g` sends class `c`: the image class and the position of each site.
    pub fn act(&self, c: usize, g: usize) -> (usize, &[usize]) {
        let (t, p) = &self.action[c][g];
        (*t, p)
    }

    /// Largest number of sites of a cluster.
    pub fn max_order(&self) -> usize {
        self.clusters.iter().map(SiteCluster::order).max().unwrap_or(0)
    }
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
    fn fcc_nearest_neighbour_clusters() {
        let g = fcc();
        let by_order = |mo, cc| {
            let cl = site_clusters(&g, mo, cc);
            (1..=mo).map(|k| cl.iter().filter(|c| c.order() == k).count()).collect::<Vec<_>>()
        };
        // One site; 6 pairs (12 bonds per site, each shared by two sites); 8 triangles (24
        // per site, three sites each); 2 tetrahedra.
        assert_eq!(by_order(4, 0.71), [1, 6, 8, 2]);
        // Up to the second shell at distance 1: 6 + 3 pairs.
        assert_eq!(by_order(2, 1.01), [1, 9]);
        // A cutoff of exactly the nearest-neighbour distance excludes it (strictly below).
        assert_eq!(by_order(2, 0.5f64.sqrt() * (1.0 - 1e-12)), [1, 0]);
    }

    #[test]
    fn canonical_form_is_translation_invariant() {
        let pts = [[0, 1, 1], [1, 0, 1], [0, 0, 0]];
        let (a, placed) = SiteCluster::canonical(&pts);
        let shifted: Vec<Point> = pts.iter().map(|&p| add(p, [4, -2, 6])).collect();
        let (b, placed_b) = SiteCluster::canonical(&shifted);
        assert_eq!(a, b);
        assert_eq!(placed, placed_b);
        assert_eq!(a.points()[0], [0, 0, 0]);
        assert_eq!(a.points()[placed[2]], [0, 0, 0]);
    }

    #[test]
    fn classes_are_closed_under_the_group() {
        let g = fcc();
        let classes = ClusterClasses::new(&g, site_clusters(&g, 3, 0.71)).unwrap();
        for c in 0..classes.len() {
            for op in 0..48 {
                let (t, placed) = classes.act(c, op);
                assert_eq!(classes.get(t).order(), classes.get(c).order());
                let mut p = placed.to_vec();
                p.sort_unstable();
                assert_eq!(p, (0..classes.get(c).order()).collect::<Vec<_>>());
            }
        }
    }
}
