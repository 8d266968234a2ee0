//! What is trained: the species set S, the form of y(state) and the loss (SPEC section 5).

use ndarray::ArrayView2;

use crate::error::{ObjectiveError, Result};

/// The species set S whose transport coefficient is learned, and the vacancy label v.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Species {
    /// Vacancy label v (`-vSp`).
    pub vacancy: i8,
    /// Labels of S, sorted, without repeats (`-sp`).
    pub train: Vec<i8>,
    /// Number of labels in the data, vacancy included.
    pub num_labels: usize,
}

impl Species {
    /// Checks that every label exists in the data.
    pub fn new(train: &[i8], vacancy: i8, num_labels: usize) -> Result<Self> {
        let mut t = train.to_vec();
        t.sort_unstable();
        t.dedup();
        if t.is_empty() {
            return Err(ObjectiveError::NoSpecies.into());
        }
        if let Some(bad) = t.iter().chain([&vacancy]).find(|&&l| l < 0 || l as usize >= num_labels) {
            return Err(ObjectiveError::UnknownLabel { label: *bad, num_labels }.into());
        }
        if t.contains(&vacancy) && t.len() > 1 {
            return Err(ObjectiveError::MixedVacancy { vacancy }.into());
        }
        Ok(Species { vacancy, train: t, num_labels })
    }

    /// Refuses a label of S, or the vacancy, that occurs on no site of the states `rows`
    /// of `states`: training on it gives loss 0 and L = 0, which would read as a result.
    /// The error names the labels that do occur.
    pub fn check_present(&self, states: ArrayView2<'_, i8>, rows: &[usize]) -> Result<()> {
        let needed: Vec<i8> = self.train.iter().copied().chain([self.vacancy]).collect();
        let mut seen = [false; 256];
        for &r in rows {
            states.row(r).iter().for_each(|&l| seen[l as u8 as usize] = true);
            if needed.iter().all(|&l| seen[l as u8 as usize]) {
                return Ok(());
            }
        }
        let label = *needed.iter().find(|&&l| !seen[l as u8 as usize]).expect("one label is missing");
        let occurring = (0..=255u8).filter(|&l| seen[l as usize]).map(|l| l as i8).collect();
        Err(ObjectiveError::AbsentLabel { label, vacancy: label == self.vacancy, states: rows.len(), occurring }.into())
    }

    /// `S = {v}`.
    pub fn is_vacancy(&self) -> bool {
        self.train == [self.vacancy]
    }

    pub fn contains(&self, label: i8) -> bool {
        self.train.contains(&label)
    }

    /// "vac", or the sorted labels joined (file and directory names, SPEC section 6).
    pub fn name(&self) -> String {
        if self.is_vacancy() { "vac".into() } else { self.train.iter().map(|l| l.to_string()).collect() }
    }

    /// Number of input channels of the network (non-vacancy labels).
    pub fn num_channels(&self) -> usize {
        self.num_labels - 1
    }
}

/// How y(state) is formed from the network's per-site vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// One output channel, summed over the sites of S (or minus the sum over s >= 1 for
    /// the vacancy).
    Collective,
    /// `-bt`: one channel per jump, weighted by the jump probabilities of the state, sorted
    /// ascending unless `jump_sort` is off (`-nojsr`); `-aos` adds the sites of S.
    Boundary { jump_sort: bool, add_on_sites: bool },
    /// `-trc`: one relaxation vector per atom of S (channel 0 on its site).
    Tracer,
}

/// Everything the loss needs besides the data: S, the form of y, all-jumps sampling
/// (`-aj`) and the normalisation L0 (1, or the uncorrelated value with `-l0`).
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    pub species: Species,
    pub form: Form,
    pub all_jumps: bool,
    pub l0: f64,
}

impl Objective {
    /// Checks the published rules: `-bt` needs ncL = z and excludes `-aj` and `-trc`;
    /// `-trc` needs S without the vacancy.
    pub fn new(species: Species, form: Form, all_jumps: bool, ncl: i64, z: usize) -> Result<Self> {
        match form {
            Form::Boundary { .. } => {
                if all_jumps {
                    return Err(ObjectiveError::AllJumpsWithBoundary.into());
                }
                if ncl != z as i64 {
                    return Err(ObjectiveError::BoundaryChannels { z, ncl }.into());
                }
            }
            Form::Tracer => {
                if species.contains(species.vacancy) {
                    return Err(ObjectiveError::TracerWithVacancy { vacancy: species.vacancy }.into());
                }
            }
            Form::Collective => {}
        }
        Ok(Objective { species, form, all_jumps, l0: 1.0 })
    }

    /// Weights `w (ncL, S)` with `y(state) = sum_{c,s} w[c,s] y[c,:,s]` for the collective
    /// and boundary forms (SPEC section 5); `jump_rates` are the state's z jump rates
    /// (boundary form only). Row-major, appended to `out`.
    pub fn state_weights(&self, state: &[i8], jump_rates: Option<&[f64]>, ncl: usize, out: &mut Vec<f64>) {
        let s = state.len();
        let start = out.len();
        out.resize(start + ncl * s, 0.0);
        let w = &mut out[start..];
        let sp = &self.species;
        match self.form {
            Form::Collective | Form::Tracer => {
                for (site, &l) in state.iter().enumerate() {
                    w[site] = if sp.is_vacancy() {
                        if site >= 1 { -1.0 } else { 0.0 }
                    } else if sp.contains(l) {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
            Form::Boundary { jump_sort, add_on_sites } => {
                let rates = jump_rates.expect("boundary training needs the state's jump rates");
                let total: f64 = rates.iter().sum();
                let mut p: Vec<f64> = rates.iter().map(|r| r / total).collect();
                if jump_sort {
                    p.sort_by(f64::total_cmp);
                }
                for (c, &pc) in p.iter().enumerate().take(ncl) {
                    let row = &mut w[c * s..(c + 1) * s];
                    if sp.is_vacancy() {
                        row[1..].iter_mut().for_each(|x| *x = -pc);
                    } else {
                        row[0] = -pc;
                        if add_on_sites {
                            for (site, &l) in state.iter().enumerate() {
                                if sp.contains(l) {
                                    row[site] += pc;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
