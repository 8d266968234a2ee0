//! The whole scaled residual bias computation on one data set.

use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;

use super::RelaxationVectors;
use super::expansion::{Coefficients, Expansion, solve_coefficients};
use super::problem::{SrbConfig, SrbProblem};
use crate::error::Result;

/// Transport coefficients of one sample set, in the data's units (length^2 x rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleSetEstimate {
    pub samples: usize,
    /// Uncorrelated `L[0]`.
    pub l0: f64,
    /// `L[y]` of the network.
    pub l_y: f64,
    /// `L[y + theta.B]` with the training theta.
    pub l_srb: f64,
    /// Standard errors of `l0`, `l_y` and `l_srb` as means over the samples (theta fixed).
    pub l0_error: f64,
    pub l_y_error: f64,
    pub l_srb_error: f64,
}

/// Result of [`scaled_residual_bias`].
#[derive(Clone, Debug, PartialEq)]
pub struct SrbReport {
    /// The labels with a basis vector, in the order of `theta` and the rows of `W`.
    pub basis_labels: Vec<usize>,
    /// The label e that carries the residual.
    pub expanded: usize,
    pub coefficients: Coefficients,
    /// W and b over the training samples.
    pub expansion: Expansion,
    pub train: SampleSetEstimate,
    /// `None` when every sample is a training sample.
    pub validation: Option<SampleSetEstimate>,
}

/// Builds the residual basis for s1 and s2 of every sample, fits theta on the training
/// samples and evaluates `L[0]`, `L[y]` and `L[y + theta.B]` on the training and validation
/// samples.
pub fn scaled_residual_bias(
    data: &Dataset,
    crystal: &CrystalData,
    y: &RelaxationVectors,
    config: &SrbConfig,
) -> Result<SrbReport> {
    let problem = SrbProblem::new(data, crystal, y, config)?;
    let train = 0..config.n_train;
    let expansion = problem.expand(train.clone());
    let coefficients = solve_coefficients(&expansion, &problem.basis_labels, config.max_condition, config.singular)?;
    let zero = vec![0.0; problem.basis_labels.len()];
    let estimate = |range: std::ops::Range<usize>| SampleSetEstimate {
        samples: range.len(),
        l0: problem.l0(range.clone()),
        l_y: problem.l(&zero, range.clone()),
        l_srb: problem.l(&coefficients.theta, range.clone()),
        l0_error: problem.l0_standard_error(range.clone()),
        l_y_error: problem.l_standard_error(&zero, range.clone()),
        l_srb_error: problem.l_standard_error(&coefficients.theta, range),
    };
    let n = problem.len();
    Ok(SrbReport {
        basis_labels: problem.basis_labels.clone(),
        expanded: problem.expanded,
        train: estimate(train),
        validation: (config.n_train < n).then(|| estimate(config.n_train..n)),
        coefficients,
        expansion,
    })
}
