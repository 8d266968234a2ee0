//! The single-step KMC data set (SPEC section 3) held in memory.

use ndarray::{Array1, Array2, Array3, s};

/// The labels `0..num_labels` as every message names them: "0..2" for three labels (both
/// ends included), so that all reports of a label out of range agree.
pub fn label_range(num_labels: usize) -> String {
    match num_labels {
        0 => "(none)".into(),
        n => format!("0..{}", n - 1),
    }
}

/// One block of single-step KMC samples. Row `n` of every array is sample `n`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `InitStates` (N, Nsites): species label on every site of s1; vacancy on site 0.
    pub init_states: Array2<i8>,
    /// `FinStates` (N, Nsites): s2, translated so that the vacancy is on site 0 again.
    pub fin_states: Array2<i8>,
    /// `SpecDisps` (N, Nlabels, 3): displacement of each species label in the step, in
    /// lattice-parameter units of the data (vacancy label included).
    pub spec_disps: Array3<f64>,
    /// `rates` (N): escape rate W out of s1.
    pub rates: Array1<f64>,
    /// `AllJumpRates_Init` (N, z): rate of every jump out of s1.
    pub jump_rates_init: Array2<f64>,
    /// `AllJumpRates_Fin` (N, z): rate of every jump out of s2.
    pub jump_rates_fin: Array2<f64>,
    /// `JumpSelects` (N): the jump taken (0-based index into the crystal's jump list).
    pub jump_selects: Array1<i64>,
    /// `randNums` (N), optional: the uniform number that selected the jump.
    pub rand_nums: Option<Array1<f64>>,
}

impl Dataset {
    /// Number of samples N.
    pub fn len(&self) -> usize {
        self.init_states.nrows()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of sites per state.
    pub fn num_sites(&self) -> usize {
        self.init_states.ncols()
    }

    /// Number of species labels, vacancy included.
    pub fn num_labels(&self) -> usize {
        self.spec_disps.shape()[1]
    }

    /// Number of jumps z.
    pub fn z(&self) -> usize {
        self.jump_rates_init.ncols()
    }

    /// `len` samples of zeros (states all label 0), with or without `randNums`.
    pub fn zeros(len: usize, num_sites: usize, num_labels: usize, z: usize, rand_nums: bool) -> Dataset {
        Dataset {
            init_states: Array2::zeros((len, num_sites)),
            fin_states: Array2::zeros((len, num_sites)),
            spec_disps: Array3::zeros((len, num_labels, 3)),
            rates: Array1::zeros(len),
            jump_rates_init: Array2::zeros((len, z)),
            jump_rates_fin: Array2::zeros((len, z)),
            jump_selects: Array1::zeros(len),
            rand_nums: rand_nums.then(|| Array1::zeros(len)),
        }
    }

    /// Copies `block` into samples `start..start + block.len()`. Panics if the block does
    /// not fit (programmer error: callers size the blocks).
    pub fn assign_rows(&mut self, start: usize, block: &Dataset) {
        let r = start..start + block.len();
        self.init_states.slice_mut(s![r.clone(), ..]).assign(&block.init_states);
        self.fin_states.slice_mut(s![r.clone(), ..]).assign(&block.fin_states);
        self.spec_disps.slice_mut(s![r.clone(), .., ..]).assign(&block.spec_disps);
        self.rates.slice_mut(s![r.clone()]).assign(&block.rates);
        self.jump_rates_init.slice_mut(s![r.clone(), ..]).assign(&block.jump_rates_init);
        self.jump_rates_fin.slice_mut(s![r.clone(), ..]).assign(&block.jump_rates_fin);
        self.jump_selects.slice_mut(s![r.clone()]).assign(&block.jump_selects);
        match (&mut self.rand_nums, &block.rand_nums) {
            (Some(dst), Some(src)) => dst.slice_mut(s![r]).assign(src),
            (None, None) => {}
            _ => panic!("assign_rows: randNums present in one data set only"),
        }
    }

    /// Samples `start..end` as a new data set.
    pub fn slice(&self, start: usize, end: usize) -> Dataset {
        Dataset {
            init_states: self.init_states.slice(s![start..end, ..]).to_owned(),
            fin_states: self.fin_states.slice(s![start..end, ..]).to_owned(),
            spec_disps: self.spec_disps.slice(s![start..end, .., ..]).to_owned(),
            rates: self.rates.slice(s![start..end]).to_owned(),
            jump_rates_init: self.jump_rates_init.slice(s![start..end, ..]).to_owned(),
            jump_rates_fin: self.jump_rates_fin.slice(s![start..end, ..]).to_owned(),
            jump_selects: self.jump_selects.slice(s![start..end]).to_owned(),
            rand_nums: self.rand_nums.as_ref().map(|r| r.slice(s![start..end]).to_owned()),
        }
    }
}
