//! Training and validation samples drawn from a data set: the recorded KMC steps, or with
//! all-jumps sampling (`-aj`) every exit of every state (SPEC section 5).

use gcnet_data::Dataset;

use crate::error::{Error, Result};
use crate::geometry::Geometry;

/// One sample: state `state` of the data set, and either the recorded step
/// (`exit == None`) or the exit by jump `j` (`exit == Some(j)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleRef {
    pub state: usize,
    pub exit: Option<usize>,
}

/// A list of states of a data set and how each gives samples.
#[derive(Clone, Debug)]
pub struct SampleSet<'a> {
    pub data: &'a Dataset,
    /// Indices of the states, in order.
    pub states: Vec<usize>,
    pub all_jumps: bool,
    z: usize,
    /// `a = |SpecDisps[0,v]| / |dx_0|`: the jump length of the data in crystal units.
    pub jump_scale: f64,
}

impl<'a> SampleSet<'a> {
    pub fn new(data: &'a Dataset, states: Vec<usize>, all_jumps: bool, geometry: &Geometry, vacancy: i8) -> Self {
        let jump_scale = if data.is_empty() {
            1.0
        } else {
            let v = vacancy as usize;
            let d = (0..3).map(|x| data.spec_disps[[0, v, x]].powi(2)).sum::<f64>().sqrt();
            let j = geometry.jumps[0].iter().map(|x| x * x).sum::<f64>().sqrt();
            d / j
        };
        SampleSet { data, states, all_jumps, z: geometry.z, jump_scale }
    }

    /// Number of states.
    pub fn num_states(&self) -> usize {
        self.states.len()
    }

    /// Number of samples (z per state with all-jumps sampling).
    pub fn len(&self) -> usize {
        self.states.len() * if self.all_jumps { self.z } else { 1 }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn sample(&self, i: usize) -> SampleRef {
        if self.all_jumps {
            SampleRef { state: self.states[i / self.z], exit: Some(i % self.z) }
        } else {
            SampleRef { state: self.states[i], exit: None }
        }
    }
}

/// The number of training states when `len` samples are split at `n_train` (the first
/// `n_train` states train, the rest validate): at least one and at most `len`, and with
/// `validation` (evaluation reports L on both sides) fewer than `len`, so that L_val is a
/// mean over at least one state rather than 0/0.
pub fn training_size(n_train: usize, len: usize, validation: bool) -> Result<usize> {
    let refuse = |reason| Err(Error::Split { n_train, len, reason });
    if n_train == 0 {
        return refuse("at least one training state is needed");
    }
    if n_train > len {
        return refuse("there are fewer samples than training states");
    }
    if validation && n_train == len {
        return refuse("every sample is a training state, and evaluation needs at least one validation state");
    }
    Ok(n_train)
}
