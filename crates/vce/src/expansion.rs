//! The vector cluster expansion placed on a supercell: the basis functions `lambda_k(state)`
//! and their change under a vacancy jump, computed from the clusters that contain the two
//! exchanged sites.
//!
//! Every translate of a site cluster in the supercell is an *instance*. For each site-cluster
//! class a table gives, for every labelling of its sites, the vectors that labelling adds to
//! the basis functions (empty for labellings with two vacancies or an orbit without a vector
//! basis). Then
//!
//! ```text
//! lambda(state) = sum over instances of table[class][labels of the instance's sites]
//! Delta_j       = sum over instances containing site 0 or the site of jump j of
//!                 table[class][labels after the exchange] - table[class][labels before]
//! ```
//!
//! because the exchange changes no other instance. The cost of a jump is proportional to the
//! number of instances that contain the two sites (69 for -mo 3 -cc 0.71 on FCC).

use std::collections::HashSet;

use ndarray::Array2;

use crate::clusters::SiteCluster;
use crate::error::{Error, Result};
use crate::geometry::{SiteGeometry, add};
use crate::orbits::{BasisParams, ClusterBasis, SpeciesCluster, labelings, valid_labels};

/// An instance holding one or both of two exchanged sites a and b, with their positions.
#[derive(Clone, Copy, Debug)]
struct JumpInstance {
    instance: u32,
    /// Position of site a in the instance (or `NONE`).
    at_a: u8,
    /// Position of site b in the instance (or `NONE`).
    at_b: u8,
}

const NONE: u8 = u8::MAX;

/// Counts that the published tool prints, in its terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpansionCounts {
    /// Site-cluster classes (translation classes of site sets), 1..=max_order sites.
    pub site_clusters: usize,
    /// Species clusters ("Built N clusters"): labelled clusters with at most one vacancy,
    /// up to translation, summed over all orbits.
    pub species_clusters: usize,
    /// Orbits of species clusters under the point group.
    pub orbits: usize,
    /// Interactions ("No. of interactions"): the species clusters placed on the supercell,
    /// each translate once, that contain site 0 or a jump site (all of them with `-ait`).
    pub interactions: usize,
    /// Vector groups K ("No. of vector groups", `NVclus`): one per orbit basis vector.
    pub vector_groups: usize,
}

/// A vector cluster expansion on one supercell.
#[derive(Clone, Debug)]
pub struct Expansion {
    geometry: SiteGeometry,
    basis: ClusterBasis,
    all_interactions: bool,
    /// Start of each class's table in `ranges`.
    class_table: Vec<usize>,
    /// For every (class, labelling code): the range of its entries in `contributions`.
    ranges: Vec<(u32, u32)>,
    /// (vector group, vector) entries.
    contributions: Vec<(u32, [f64; 3])>,
    /// Valid labellings (at most one vacancy) of each class.
    valid_per_class: Vec<usize>,
    /// Class of every instance.
    instance_class: Vec<u32>,
    /// Sites of every instance, in the canonical order of its class; instance `i` holds
    /// `instance_sites[instance_start[i]..instance_start[i + 1]]`.
    instance_start: Vec<u32>,
    instance_sites: Vec<u32>,
    /// Instances holding each site.
    by_site: Vec<Vec<u32>>,
    /// For every jump j, the instances holding site 0 or the site of jump j (each once).
    jump_instances: Vec<Vec<JumpInstance>>,
}

/// Change of the basis functions under one exchange: a dense (K, 3) block with the list of
/// vector groups it touched, reused from sample to sample.
#[derive(Clone, Debug)]
pub struct Delta {
    values: Vec<[f64; 3]>,
    touched: Vec<u32>,
    marked: Vec<bool>,
}

impl Delta {
    pub fn new(num_groups: usize) -> Delta {
        Delta { values: vec![[0.0; 3]; num_groups], touched: Vec::new(), marked: vec![false; num_groups] }
    }

    /// Resets to zero (cost proportional to the groups touched since the last reset).
    pub fn clear(&mut self) {
        for &k in &self.touched {
            self.values[k as usize] = [0.0; 3];
            self.marked[k as usize] = false;
        }
        self.touched.clear();
    }

    fn add(&mut self, k: u32, v: [f64; 3], sign: f64) {
        let slot = &mut self.values[k as usize];
        (0..3).for_each(|c| slot[c] += sign * v[c]);
        if !self.marked[k as usize] {
            self.marked[k as usize] = true;
            self.touched.push(k);
        }
    }

    /// The vector groups touched, in the order first touched (some may hold zero).
    pub fn touched(&self) -> &[u32] {
        &self.touched
    }

    /// The change of vector group `k`.
    pub fn get(&self, k: usize) -> [f64; 3] {
        self.values[k]
    }

    /// As a dense (K, 3) array.
    pub fn to_array(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.values.len(), 3), |(k, c)| self.values[k][c])
    }
}

impl Expansion {
    /// Builds the cluster basis on the crystal and places it on the supercell.
    /// `all_interactions` (`-ait`) only changes which interactions are counted and saved:
    /// the change under a jump always comes from the instances holding the two sites.
    pub fn build(geometry: SiteGeometry, params: BasisParams, all_interactions: bool) -> Result<Expansion> {
        let basis = ClusterBasis::build(&geometry, params)?;
        Expansion::from_basis(geometry, basis, all_interactions)
    }

    /// Places a cluster basis on the supercell of `geometry`.
    pub fn from_basis(geometry: SiteGeometry, basis: ClusterBasis, all_interactions: bool) -> Result<Expansion> {
        let params = basis.params();
        let nl = params.num_labels;
        let classes = basis.classes();
        let mut class_table = Vec::with_capacity(classes.len());
        let mut ranges = Vec::new();
        let mut contributions = Vec::new();
        let mut valid_per_class = Vec::with_capacity(classes.len());
        for c in 0..classes.len() {
            class_table.push(ranges.len());
            let mut valid = 0;
            for labels in labelings(classes.get(c).order(), nl) {
                let start = contributions.len() as u32;
                if valid_labels(&labels, params.vacancy) {
                    valid += 1;
                    let cluster = SpeciesCluster { class: c, labels };
                    for (k, v) in basis.contributions(&geometry, &cluster) {
                        contributions.push((k as u32, v));
                    }
                }
                ranges.push((start, contributions.len() as u32));
            }
            valid_per_class.push(valid);
        }
        let (instance_class, instance_start, instance_sites) = place_instances(&geometry, &basis)?;
        let mut by_site = vec![Vec::new(); geometry.num_sites()];
        for i in 0..instance_class.len() {
            for &s in &instance_sites[instance_start[i] as usize..instance_start[i + 1] as usize] {
                by_site[s as usize].push(i as u32);
            }
        }
        let mut expansion = Expansion {
            geometry,
            basis,
            all_interactions,
            class_table,
            ranges,
            contributions,
            valid_per_class,
            instance_class,
            instance_start,
            instance_sites,
            by_site,
            jump_instances: Vec::new(),
        };
        expansion.jump_instances = (0..expansion.geometry.jump_sites().len())
            .map(|j| expansion.pair_instances(0, expansion.geometry.jump_sites()[j]))
            .collect();
        Ok(expansion)
    }

    /// The instances holding site `a` or site `b`, each once, with the positions of both.
    fn pair_instances(&self, a: usize, b: usize) -> Vec<JumpInstance> {
        let mut out = Vec::with_capacity(self.by_site[a].len() + self.by_site[b].len());
        let position = |i: u32, s: usize| self.sites(i as usize).iter().position(|&x| x as usize == s);
        for &i in &self.by_site[a] {
            let pa = position(i, a).expect("listed by site") as u8;
            let pb = position(i, b).map_or(NONE, |p| p as u8);
            out.push(JumpInstance { instance: i, at_a: pa, at_b: pb });
        }
        for &i in &self.by_site[b] {
            if position(i, a).is_none() {
                let pb = position(i, b).expect("listed by site") as u8;
                out.push(JumpInstance { instance: i, at_a: NONE, at_b: pb });
            }
        }
        out
    }

    pub fn geometry(&self) -> &SiteGeometry {
        &self.geometry
    }

    pub fn basis(&self) -> &ClusterBasis {
        &self.basis
    }

    pub fn params(&self) -> BasisParams {
        self.basis.params()
    }

    /// Whether every interaction of the supercell is counted and saved (`-ait`).
    pub fn all_interactions(&self) -> bool {
        self.all_interactions
    }

    /// Number of basis functions K.
    pub fn num_vector_groups(&self) -> usize {
        self.basis.num_vector_groups()
    }

    /// The published counts (see [`ExpansionCounts`]).
    pub fn counts(&self) -> ExpansionCounts {
        let interactions =
            self.counted_instances().map(|i| self.valid_per_class[self.instance_class[i] as usize]).sum();
        ExpansionCounts {
            site_clusters: self.basis.classes().len(),
            species_clusters: self.basis.num_species_clusters(),
            orbits: self.basis.orbits().len(),
            interactions,
            vector_groups: self.basis.num_vector_groups(),
        }
    }

    /// Instances that hold a required site (site 0 or a jump site), or all with `-ait`.
    pub fn counted_instances(&self) -> impl Iterator<Item = usize> + '_ {
        let mut required = vec![false; self.geometry.num_sites()];
        required[0] = true;
        self.geometry.jump_sites().iter().for_each(|&s| required[s] = true);
        (0..self.instance_class.len())
            .filter(move |&i| self.all_interactions || self.sites(i).iter().any(|&s| required[s as usize]))
    }

    /// Number of instances (translates of site clusters) in the supercell.
    pub fn num_instances(&self) -> usize {
        self.instance_class.len()
    }

    /// Class and sites of instance `i`.
    pub fn instance(&self, i: usize) -> (usize, &[u32]) {
        (self.instance_class[i] as usize, self.sites(i))
    }

    fn sites(&self, i: usize) -> &[u32] {
        &self.instance_sites[self.instance_start[i] as usize..self.instance_start[i + 1] as usize]
    }

    /// Instances holding site 0 or the site of jump `j` (the work of one jump).
    pub fn instances_per_jump(&self, j: usize) -> usize {
        self.jump_instances[j].len()
    }

    /// The (vector group, vector) entries of a labelling of class `c`.
    pub fn entries(&self, class: usize, code: usize) -> &[(u32, [f64; 3])] {
        let (a, b) = self.ranges[self.class_table[class] + code];
        &self.contributions[a as usize..b as usize]
    }

    /// Checks that a state has one label per site, each below the number of labels.
    pub fn check_state(&self, state: &[i8]) -> Result<()> {
        let nl = self.params().num_labels;
        if state.len() != self.geometry.num_sites() {
            return Err(Error::Parameter(format!(
                "a state has {} sites, the crystal {}",
                state.len(),
                self.geometry.num_sites()
            )));
        }
        if let Some(s) = state.iter().position(|&l| l < 0 || l as usize >= nl) {
            return Err(Error::Parameter(format!(
                "site {s} holds label {}, not one of the labels {}",
                state[s],
                gcnet_data::label_range(nl)
            )));
        }
        Ok(())
    }

    /// The basis functions from scratch: `lambda` (K, 3), summed over every instance.
    pub fn lambda(&self, state: &[i8]) -> Result<Array2<f64>> {
        self.check_state(state)?;
        let nl = self.params().num_labels;
        let mut out = Array2::zeros((self.num_vector_groups(), 3));
        for i in 0..self.instance_class.len() {
            let code = self.sites(i).iter().fold(0usize, |c, &s| c * nl + state[s as usize] as usize);
            for &(k, v) in self.entries(self.instance_class[i] as usize, code) {
                (0..3).for_each(|c| out[[k as usize, c]] += v[c]);
            }
        }
        Ok(out)
    }

    /// The relaxation vector `y(state) = sum_k eta_k lambda_k(state)`.
    pub fn relaxation(&self, state: &[i8], eta: &[f64]) -> Result<[f64; 3]> {
        if eta.len() != self.num_vector_groups() {
            return Err(Error::Parameter(format!(
                "{} coefficients for {} vector groups",
                eta.len(),
                self.num_vector_groups()
            )));
        }
        let lambda = self.lambda(state)?;
        Ok([0, 1, 2].map(|c| (0..eta.len()).map(|k| eta[k] * lambda[[k, c]]).sum()))
    }

    /// `lambda(after) - lambda(before)` for the exchange of the labels on sites `a` and `b`,
    /// from the instances that hold either site.
    pub fn delta_swap(&self, state: &[i8], a: usize, b: usize) -> Result<Array2<f64>> {
        self.check_state(state)?;
        if a >= state.len() || b >= state.len() || a == b {
            return Err(Error::Parameter(format!("cannot exchange sites {a} and {b}")));
        }
        let mut delta = Delta::new(self.num_vector_groups());
        let list = self.pair_instances(a, b);
        self.accumulate(state, a, b, &list, &mut delta);
        Ok(delta.to_array())
    }

    /// `lambda` after jump `j` (the vacancy on site 0 exchanging with the site of jump `j`)
    /// minus `lambda` before, as a dense (K, 3) array.
    pub fn delta_jump(&self, state: &[i8], j: usize) -> Result<Array2<f64>> {
        self.check_state(state)?;
        if j >= self.jump_instances.len() {
            return Err(Error::Parameter(format!("no jump {j} (z = {})", self.jump_instances.len())));
        }
        let mut delta = Delta::new(self.num_vector_groups());
        self.add_jump_delta(state, j, &mut delta);
        Ok(delta.to_array())
    }

    /// Adds the change under jump `j` to `delta`. The state's labels must be below the number
    /// of labels ([`Expansion::check_state`]); the samples of a fit are checked once.
    pub(crate) fn add_jump_delta(&self, state: &[i8], j: usize, delta: &mut Delta) {
        self.accumulate(state, 0, self.geometry.jump_sites()[j], &self.jump_instances[j], delta)
    }

    /// Adds `lambda(after) - lambda(before)` for the exchange of sites `a` and `b`, over the
    /// instances `list` that hold either of them.
    fn accumulate(&self, state: &[i8], a: usize, b: usize, list: &[JumpInstance], delta: &mut Delta) {
        let nl = self.params().num_labels;
        let (la, lb) = (state[a] as usize, state[b] as usize);
        if la == lb {
            return;
        }
        for ji in list {
            let i = ji.instance as usize;
            let sites = self.sites(i);
            let mut before = 0usize;
            let mut after = 0usize;
            for (p, &s) in sites.iter().enumerate() {
                let l = state[s as usize] as usize;
                before = before * nl + l;
                let l2 = if p == ji.at_a as usize {
                    lb
                } else if p == ji.at_b as usize {
                    la
                } else {
                    l
                };
                after = after * nl + l2;
            }
            let class = self.instance_class[i] as usize;
            for &(g, v) in self.entries(class, before) {
                delta.add(g, v, -1.0);
            }
            for &(g, v) in self.entries(class, after) {
                delta.add(g, v, 1.0);
            }
        }
    }

    /// The species cluster an instance holds in a state (labels in canonical order).
    pub fn species_cluster_at(&self, instance: usize, state: &[i8]) -> SpeciesCluster {
        SpeciesCluster {
            class: self.instance_class[instance] as usize,
            labels: self.sites(instance).iter().map(|&s| state[s as usize] as u8).collect(),
        }
    }
}

/// Every translate of every site-cluster class on the supercell. Two translates that land on
/// the same sites, or a translate that wraps onto itself, mean that the supercell is too
/// small for the clusters (the published tool stops with "Interaction encountered twice").
fn place_instances(geometry: &SiteGeometry, basis: &ClusterBasis) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let params = basis.params();
    let too_small = |reason: String| Error::SupercellTooSmall {
        crystal: geometry.source().to_string(),
        max_order: params.max_order,
        cutoff: params.cutoff,
        reason,
    };
    let classes = basis.classes();
    let n = geometry.num_sites();
    let mut class_of = Vec::with_capacity(classes.len() * n);
    let mut start = vec![0u32];
    let mut sites = Vec::new();
    let mut seen: HashSet<Vec<u32>> = HashSet::with_capacity(classes.len() * n);
    for c in 0..classes.len() {
        let cluster: &SiteCluster = classes.get(c);
        for t in 0..n {
            let origin = geometry.position(t);
            let placed: Vec<u32> = cluster
                .points()
                .iter()
                .map(|&p| geometry.site_at(add(origin, p)).expect("lattice points are sites") as u32)
                .collect();
            let mut key = placed.clone();
            key.sort_unstable();
            if key.windows(2).any(|w| w[0] == w[1]) {
                return Err(too_small(format!("a cluster of {} sites covers site {} twice", placed.len(), key[0])));
            }
            if !seen.insert(key) {
                return Err(too_small(format!(
                    "two different clusters cover the same sites {placed:?} (interaction encountered twice)"
                )));
            }
            class_of.push(c as u32);
            sites.extend_from_slice(&placed);
            start.push(sites.len() as u32);
        }
    }
    Ok((class_of, start, sites))
}
