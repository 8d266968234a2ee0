//! What is trained: the species set S, the form of y(state) and the loss (SPEC section 5).

use crate::error::{ObjectiveError, Result};

/// The species set S and the vacancy label v: the data crate's one species type.
pub use gcnet_data::SpeciesSet as Species;

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
    /// One relaxation vector per label of S, all from one network: channel c, summed over
    /// the sites that hold label `S[c]`, is y of that label (ncL = |S|; S without the
    /// vacancy, whose y is minus the sum of the others'). The loss is the sum over the
    /// labels of `L_aa / L0_a` ([`Objective::label_l0`]), so every label's y is
    /// variational at once (the whole Onsager matrix, `gcnet onsager`).
    Labels,
}

/// Everything the loss needs besides the data: S, the form of y, all-jumps sampling
/// (`-aj`) and the normalisation L0 (1, or the uncorrelated value with `-l0`).
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    pub species: Species,
    pub form: Form,
    pub all_jumps: bool,
    pub l0: f64,
    /// [`Form::Labels`]: each label's term of the loss is divided by its entry (the
    /// label's uncorrelated L0 on the training samples, so that a slow species counts as
    /// much as a fast one); empty: 1 for every label.
    pub label_l0: Vec<f64>,
}

impl Objective {
    /// The collective relaxation vector of S from the recorded steps (the default form).
    pub fn collective(species: Species) -> Objective {
        Objective { species, form: Form::Collective, all_jumps: false, l0: 1.0, label_l0: Vec::new() }
    }

    /// One relaxation vector per atom of S (`-trc`); S must not hold the vacancy.
    pub fn tracer(species: Species) -> Result<Objective> {
        Objective::with_form(species, Form::Tracer)
    }

    /// y of `form`; a tracer form refuses the vacancy in S.
    pub fn with_form(species: Species, form: Form) -> Result<Objective> {
        if species.contains(species.vacancy()) {
            let vacancy = species.vacancy_label();
            match form {
                Form::Tracer => return Err(ObjectiveError::TracerWithVacancy { vacancy }.into()),
                Form::Labels => return Err(ObjectiveError::LabelsWithVacancy { vacancy }.into()),
                _ => {}
            }
        }
        Ok(Objective { form, ..Objective::collective(species) })
    }

    /// Samples every exit of every state (`-aj`) instead of the recorded steps; boundary
    /// training cannot.
    pub fn over_all_jumps(self) -> Result<Objective> {
        if matches!(self.form, Form::Boundary { .. }) {
            return Err(ObjectiveError::AllJumpsWithBoundary.into());
        }
        Ok(Objective { all_jumps: true, ..self })
    }

    /// Boundary training needs one output channel per jump: `ncl` (the last layer's
    /// channels) must be z.
    pub fn check_channels(&self, ncl: i64, z: usize) -> Result<()> {
        if matches!(self.form, Form::Boundary { .. }) && ncl != z as i64 {
            return Err(ObjectiveError::BoundaryChannels { z, ncl }.into());
        }
        let labels = self.species.labels().len();
        if self.form == Form::Labels && ncl != labels as i64 {
            return Err(ObjectiveError::LabelChannels { labels, ncl }.into());
        }
        Ok(())
    }

    /// One relaxation vector per label of `species` from one network ([`Form::Labels`]),
    /// each label's loss term divided by its `label_l0` entry (empty: by 1).
    pub fn labels(species: Species, label_l0: Vec<f64>) -> Result<Objective> {
        let obj = Objective::with_form(species, Form::Labels)?;
        let n = obj.species.labels().len();
        if !label_l0.is_empty() && (label_l0.len() != n || label_l0.iter().any(|x| !(x.is_finite() && *x > 0.0))) {
            return Err(ObjectiveError::LabelScale { labels: n, found: label_l0 }.into());
        }
        Ok(Objective { label_l0, ..obj })
    }

    /// Every published rule at once, in the order of the command line's flags: `-bt`
    /// needs ncL = z and excludes `-aj`; `-trc` needs S without the vacancy. The readable
    /// forms are [`Objective::collective`], [`Objective::tracer`], [`Objective::with_form`]
    /// and [`Objective::over_all_jumps`].
    pub fn new(species: Species, form: Form, all_jumps: bool, ncl: i64, z: usize) -> Result<Self> {
        let mut obj = Objective::with_form(species, form)?;
        if all_jumps {
            obj = obj.over_all_jumps()?;
        }
        obj.check_channels(ncl, z)?;
        Ok(obj)
    }

    /// The name of the form in records and messages.
    pub fn form_name(&self) -> &'static str {
        match self.form {
            Form::Collective => "collective",
            Form::Tracer => "tracer",
            Form::Boundary { .. } => "boundary",
            Form::Labels => "labels",
        }
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
            Form::Labels => {
                for (c, &label) in sp.labels().iter().enumerate().take(ncl) {
                    for (site, &l) in state.iter().enumerate() {
                        w[c * s + site] = if l as usize == label { 1.0 } else { 0.0 };
                    }
                }
            }
            Form::Collective | Form::Tracer => {
                for (site, &l) in state.iter().enumerate() {
                    w[site] = if sp.is_vacancy() {
                        if site >= 1 { -1.0 } else { 0.0 }
                    } else if sp.holds(l) {
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
                                if sp.holds(l) {
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
