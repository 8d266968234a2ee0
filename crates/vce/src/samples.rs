//! The samples of a single-step data set, checked the way the published tool checks them
//! before it expands: the vacancy on site 0, the jump told by the vacancy's displacement and
//! equal to `JumpSelects`, the exchanged atom displaced by the opposite vector, and the
//! expanded species' displacement consistent with the jump.

use std::path::{Path, PathBuf};

use gcnet_data::Dataset;
use ndarray::Array2;

use crate::error::{Error, Result};
use crate::expansion::Expansion;

/// Which species is expanded and which label is the vacancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpeciesChoice {
    /// The label whose transport coefficient is computed (`-sp`; the vacancy's own label
    /// gives the vacancy's).
    pub species: usize,
    /// The vacancy's label (`-vsp`).
    pub vacancy: usize,
}

/// The samples, checked, in the form the expansion needs.
#[derive(Clone, Debug)]
pub struct Samples {
    path: PathBuf,
    choice: SpeciesChoice,
    states: Array2<i8>,
    jumps: Vec<usize>,
    rates: Vec<f64>,
    displacements: Vec<[f64; 3]>,
    all_rates: Array2<f64>,
    lattice_parameter: f64,
    jump_vectors: Vec<[f64; 3]>,
    jump_sites: Vec<usize>,
}

/// `np.allclose` for one vector: `|a - b| <= 1e-8 + 1e-5 |b|` in every component.
fn allclose(a: [f64; 3], b: [f64; 3]) -> bool {
    (0..3).all(|i| (a[i] - b[i]).abs() <= 1e-8 + 1e-5 * b[i].abs())
}

/// `SpecDisps[n, label]`.
fn disp(data: &Dataset, n: usize, label: usize) -> [f64; 3] {
    [0, 1, 2].map(|c| data.spec_disps[[n, label, c]])
}

impl Samples {
    /// Checks every sample of `data` (read from `path`) against the expansion's crystal and
    /// labels. The lattice parameter of the displacements is `|SpecDisps[0, vacancy]| /
    /// |dx_0|`, as published.
    pub fn new(
        data: &Dataset,
        path: impl AsRef<Path>,
        expansion: &Expansion,
        choice: SpeciesChoice,
    ) -> Result<Samples> {
        let path = path.as_ref().to_path_buf();
        let whole = |reason: String| Error::Dataset { path: path.clone(), reason };
        let geometry = expansion.geometry();
        let nl = data.num_labels();
        let params = expansion.params();
        if data.num_sites() != geometry.num_sites() || data.z() != geometry.jumps().len() {
            return Err(whole(format!(
                "{} sites and {} jumps per state, but the crystal {} has {} sites and {} jumps",
                data.num_sites(),
                data.z(),
                geometry.source(),
                geometry.num_sites(),
                geometry.jumps().len()
            )));
        }
        if choice.species >= nl {
            return Err(whole(format!(
                "species -sp {} is not one of the data's labels {} (SpecDisps has {nl} labels)",
                choice.species,
                gcnet_data::label_range(nl)
            )));
        }
        if choice.vacancy >= nl {
            return Err(whole(format!(
                "vacancy -vsp {} is not one of the data's labels {} (SpecDisps has {nl} labels)",
                choice.vacancy,
                gcnet_data::label_range(nl)
            )));
        }
        if params.num_labels != nl || params.vacancy != choice.vacancy {
            return Err(whole(format!(
                "the expansion is for {} labels with vacancy {}, the data have {nl} labels and -vsp {}",
                params.num_labels, params.vacancy, choice.vacancy
            )));
        }
        if data.is_empty() {
            return Err(whole("the data set has no samples".into()));
        }
        let v = choice.vacancy;
        let dx0 = geometry.jumps()[0].map(|x| x as f64 / 2.0);
        let vac0 = disp(data, 0, v);
        let a0 = (vac0.iter().map(|x| x * x).sum::<f64>() / dx0.iter().map(|x| x * x).sum::<f64>()).sqrt();
        if !(a0.is_finite() && a0 > 0.0) {
            return Err(Error::Sample {
                path: path.clone(),
                sample: 0,
                reason: format!(
                    "the vacancy (label {v}) does not move (SpecDisps[0, {v}] = {vac0:?}), so the lattice parameter \
                     of the data cannot be told"
                ),
            });
        }
        let jump_vectors: Vec<[f64; 3]> = geometry.jumps().iter().map(|d| d.map(|x| a0 * x as f64 / 2.0)).collect();
        let jump_sites = geometry.jump_sites().to_vec();
        let mut jumps = Vec::with_capacity(data.len());
        let mut displacements = Vec::with_capacity(data.len());
        for n in 0..data.len() {
            let bad = |reason: String| Error::Sample { path: path.clone(), sample: n, reason };
            let state = data.init_states.row(n);
            if let Some(s) = state.iter().position(|&l| l < 0 || l as usize >= nl) {
                return Err(bad(format!(
                    "InitStates: site {s} holds label {}, not one of the labels {}",
                    state[s],
                    gcnet_data::label_range(nl)
                )));
            }
            if state[0] as usize != v {
                return Err(bad(format!("InitStates: site 0 holds label {}, not the vacancy {v}", state[0])));
            }
            let dx_vac = disp(data, n, v);
            let matches: Vec<usize> = (0..jump_vectors.len()).filter(|&j| allclose(jump_vectors[j], dx_vac)).collect();
            let [j] = matches[..] else {
                return Err(bad(format!(
                    "SpecDisps: the vacancy's displacement {dx_vac:?} matches {} jumps a0 dx_j (a0 = {a0}), not one",
                    matches.len()
                )));
            };
            if data.jump_selects[n] != j as i64 {
                return Err(bad(format!(
                    "JumpSelects is {} but the vacancy's displacement is jump {j}",
                    data.jump_selects[n]
                )));
            }
            let exchanged = state[jump_sites[j]] as usize;
            if exchanged == v {
                return Err(bad(format!("InitStates: the site of jump {j} holds a second vacancy")));
            }
            let minus = dx_vac.map(|x| -x);
            if !allclose(disp(data, n, exchanged), minus) {
                return Err(bad(format!(
                    "SpecDisps: the exchanged atom (label {exchanged}) is not displaced by the opposite of the vacancy's jump"
                )));
            }
            let moved = disp(data, n, choice.species);
            let expected = if choice.species == v {
                dx_vac
            } else if exchanged == choice.species {
                minus
            } else {
                [0.0; 3]
            };
            if !allclose(moved, expected) {
                return Err(bad(format!(
                    "SpecDisps: species {} is displaced by {moved:?}, but the jump gives {expected:?}",
                    choice.species
                )));
            }
            let rate = data.rates[n];
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(bad(format!("rates: the escape rate {rate} is not a non-negative number")));
            }
            jumps.push(j);
            displacements.push(moved);
        }
        Ok(Samples {
            path,
            choice,
            states: data.init_states.clone(),
            jumps,
            rates: data.rates.to_vec(),
            displacements,
            all_rates: data.jump_rates_init.clone(),
            lattice_parameter: a0,
            jump_vectors,
            jump_sites,
        })
    }

    /// Checks that `AllJumpRates_Init` of the first `n` states are usable (for `-aj`).
    pub fn check_all_jump_rates(&self, n: usize) -> Result<()> {
        for s in 0..n.min(self.len()) {
            if let Some(j) = self.all_rates.row(s).iter().position(|r| !(r.is_finite() && *r >= 0.0)) {
                return Err(Error::Sample {
                    path: self.path.clone(),
                    sample: s,
                    reason: format!(
                        "AllJumpRates_Init: the rate {} of jump {j} is not a non-negative number",
                        self.all_rates[[s, j]]
                    ),
                });
            }
        }
        Ok(())
    }

    /// The data file (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn choice(&self) -> SpeciesChoice {
        self.choice
    }

    pub fn len(&self) -> usize {
        self.jumps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jumps.is_empty()
    }

    /// The lattice parameter of the displacements, `|SpecDisps[0, vacancy]| / |dx_0|`.
    pub fn lattice_parameter(&self) -> f64 {
        self.lattice_parameter
    }

    /// s1 of sample `n` (the vacancy on site 0).
    pub fn state(&self, n: usize) -> &[i8] {
        self.states.row(n).to_slice().expect("rows of an owned standard array are contiguous")
    }

    /// The jump taken in sample `n`.
    pub fn jump(&self, n: usize) -> usize {
        self.jumps[n]
    }

    /// The escape rate W of sample `n`.
    pub fn rate(&self, n: usize) -> f64 {
        self.rates[n]
    }

    /// The rate of jump `j` out of state `n` (`AllJumpRates_Init`).
    pub fn jump_rate(&self, n: usize, j: usize) -> f64 {
        self.all_rates[[n, j]]
    }

    /// The expanded species' displacement in sample `n` (`SpecDisps[n, species]`).
    pub fn displacement(&self, n: usize) -> [f64; 3] {
        self.displacements[n]
    }

    /// The expanded species' displacement if state `n` took jump `j`: `a0 dx_j` for the
    /// vacancy, `-a0 dx_j` if the species is the exchanged atom, else zero.
    pub fn jump_displacement(&self, n: usize, j: usize) -> [f64; 3] {
        let (e, v) = (self.choice.species, self.choice.vacancy);
        if e == v {
            self.jump_vectors[j]
        } else if self.states[[n, self.jump_sites[j]]] as usize == e {
            self.jump_vectors[j].map(|x| -x)
        } else {
            [0.0; 3]
        }
    }

    /// Number of jumps z.
    pub fn z(&self) -> usize {
        self.jump_vectors.len()
    }
}
