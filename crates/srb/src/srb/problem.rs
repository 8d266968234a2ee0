//! One data set, its relaxation vectors and the basis changes: everything the expansion
//! and the corrected L need, kept for evaluating any coefficients.

use std::ops::Range;

use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2};

use super::RelaxationVectors;
use super::basis::{exchanged_labels, jump_probabilities, residual_bias_basis};
use super::expansion::SingularPolicy;
use super::expansion::{Expansion, corrected_l, expand, sample_terms};
use crate::error::{Error, Result};
use gcnet_data::SpeciesSet;

/// What to compute. No `Default`: S, v and the training size always come from the user.
#[derive(Clone, Debug, PartialEq)]
pub struct SrbConfig {
    /// S: the labels whose transport coefficient is computed (SPEC section 5).
    pub species: Vec<usize>,
    /// The vacancy label v.
    pub vacancy: usize,
    /// Lattice parameter of the data: jump j displaces the vacancy by `a0 * dx_j`.
    pub a0: f64,
    /// Samples `0..n_train` fit theta; the rest are the validation samples.
    pub n_train: usize,
    /// Labels that get a basis vector; `None`: every label, vacancy included.
    pub basis_labels: Option<Vec<usize>>,
    /// Largest condition number of the unit-diagonal-scaled W that is still solved
    /// ([`DEFAULT_MAX_CONDITION`]).
    pub max_condition: f64,
    /// Refuse a singular W (default) or solve in its well-conditioned subspace.
    pub singular: SingularPolicy,
}

/// A scaled condition number above this leaves fewer than about 6 significant digits in
/// theta.
pub const DEFAULT_MAX_CONDITION: f64 = 1e10;

/// The samples in the form the expansion needs.
#[derive(Clone, Debug)]
pub struct SrbProblem {
    /// The labels with a basis vector, ascending (first axis of `delta_basis`).
    pub basis_labels: Vec<usize>,
    /// The label e whose basis vector carries the residual.
    pub expanded: usize,
    /// `dB_a,n = B_a(s2_n) - B_a(s1_n)` (Nb, N, 3).
    pub delta_basis: Array3<f64>,
    /// `dx_n` of the species set (N, 3).
    pub displacement: Array2<f64>,
    /// `D_n = dx_n + y(s2_n) - y(s1_n)` (N, 3).
    pub residual: Array2<f64>,
    /// Escape rates `W_n` (N).
    pub rates: Array1<f64>,
}

impl SrbProblem {
    /// Checks the inputs against each other and builds the residual basis of s1 and s2.
    pub fn new(data: &Dataset, crystal: &CrystalData, y: &RelaxationVectors, config: &SrbConfig) -> Result<Self> {
        let n = data.len();
        let num_labels = data.num_labels();
        check_inputs(data, crystal, y, config)?;
        let species =
            SpeciesSet::new(&config.species, config.vacancy, num_labels).map_err(|e| Error::Species(e.to_string()))?;
        let basis_labels = match &config.basis_labels {
            None => (0..num_labels).collect::<Vec<_>>(),
            Some(labels) => {
                let mut labels = labels.clone();
                labels.sort_unstable();
                labels.dedup();
                if let Some(bad) = labels.iter().find(|&&l| l >= num_labels) {
                    return Err(Error::Species(format!(
                        "basis label {bad} is not one of the data's labels {}",
                        gcnet_data::label_range(num_labels)
                    )));
                }
                labels
            }
        };
        let (v, e) = (config.vacancy, species.expanded());
        let basis_of = |what: &str, states, rates, y_states: ArrayView2<'_, f64>, y_exits: ArrayView2<'_, f64>| {
            let exchanged = exchanged_labels(what, states, crystal, v, num_labels)?;
            let p = jump_probabilities(what, rates)?;
            Ok::<_, Error>(residual_bias_basis(&exchanged, &p, y_states, y_exits, crystal, config.a0, num_labels, v, e))
        };
        let b1 = basis_of(
            "InitStates",
            data.init_states.view(),
            data.jump_rates_init.view(),
            y.st1.view(),
            y.st1_exits.view(),
        )?;
        let b2 = basis_of(
            "FinStates",
            data.fin_states.view(),
            data.jump_rates_fin.view(),
            y.st2.view(),
            y.st2_exits.view(),
        )?;
        let delta_basis = Array3::from_shape_fn((basis_labels.len(), n, 3), |(a, i, c)| {
            b2[[basis_labels[a], i, c]] - b1[[basis_labels[a], i, c]]
        });
        let displacement = species.displacements(data.spec_disps.view());
        let residual = &displacement + &y.st2 - &y.st1;
        Ok(SrbProblem { basis_labels, expanded: e, delta_basis, displacement, residual, rates: data.rates.clone() })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// `W` and `b` over `samples`.
    pub fn expand(&self, samples: Range<usize>) -> Expansion {
        expand(self.delta_basis.view(), self.residual.view(), self.rates.view(), samples)
    }

    /// The standard error of `L[y + theta.B]` over `samples` as a sample mean: the standard
    /// deviation of the per-sample terms `W_n |D_n + theta.dB_n|^2 / 6` over sqrt(N).
    /// Theta is taken as fixed (it comes from other samples).
    pub fn l_standard_error(&self, theta: &[f64], samples: Range<usize>) -> f64 {
        assert_eq!(theta.len(), self.basis_labels.len(), "one coefficient per basis label");
        self.standard_error(self.residual.view(), theta, samples)
    }

    /// The standard error of the uncorrelated `L[0]` over `samples` (terms `W_n |dx_n|^2 / 6`).
    pub fn l0_standard_error(&self, samples: Range<usize>) -> f64 {
        self.standard_error(self.displacement.view(), &[], samples)
    }

    fn standard_error(&self, residual: ArrayView2<'_, f64>, theta: &[f64], samples: Range<usize>) -> f64 {
        let terms: Vec<f64> =
            sample_terms(self.delta_basis.view(), residual, self.rates.view(), theta, samples).collect();
        let m = terms.len() as f64;
        if m < 2.0 {
            return f64::NAN;
        }
        let mean = terms.iter().sum::<f64>() / m;
        (terms.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (m - 1.0) / m).sqrt()
    }

    /// `L[y + theta.B]` over `samples` (theta of zeros: `L[y]`).
    pub fn l(&self, theta: &[f64], samples: Range<usize>) -> f64 {
        assert_eq!(theta.len(), self.basis_labels.len(), "one coefficient per basis label");
        corrected_l(self.delta_basis.view(), self.residual.view(), self.rates.view(), theta, samples)
    }

    /// `D_n + theta.dB_n` of every sample (N, 3): the relaxed displacement with the
    /// corrected y (theta of zeros: the residual itself).
    pub fn corrected_residuals(&self, theta: &[f64]) -> Array2<f64> {
        assert_eq!(theta.len(), self.basis_labels.len(), "one coefficient per basis label");
        let mut d = self.residual.clone();
        for (k, t) in theta.iter().enumerate() {
            d.scaled_add(*t, &self.delta_basis.index_axis(ndarray::Axis(0), k));
        }
        d
    }

    /// The uncorrelated `L[0]` over `samples`.
    pub fn l0(&self, samples: Range<usize>) -> f64 {
        corrected_l(self.delta_basis.view(), self.displacement.view(), self.rates.view(), &[], samples)
    }
}

/// Shapes, ranges and finiteness of everything the computation reads.
fn check_inputs(data: &Dataset, crystal: &CrystalData, y: &RelaxationVectors, config: &SrbConfig) -> Result<()> {
    let n = data.len();
    let z = crystal.z();
    if data.z() != z || data.jump_rates_fin.ncols() != z {
        return Err(Error::Shape {
            what: "AllJumpRates_Init / AllJumpRates_Fin".into(),
            expected: format!("(N, {z}) for crystal {}", crystal.source_name()),
            found: vec![data.jump_rates_init.nrows(), data.z()],
        });
    }
    let shape = |what: &str, a: &Array2<f64>, rows: usize| {
        if a.dim() == (rows, 3) {
            Ok(())
        } else {
            Err(Error::Shape { what: what.into(), expected: format!("({rows}, 3)"), found: a.shape().to_vec() })
        }
    };
    shape("y_st1", &y.st1, n)?;
    shape("y_st2", &y.st2, n)?;
    shape("y_st1_exits", &y.st1_exits, n * z)?;
    shape("y_st2_exits", &y.st2_exits, n * z)?;
    for (what, a) in
        [("y_st1", &y.st1), ("y_st2", &y.st2), ("y_st1_exits", &y.st1_exits), ("y_st2_exits", &y.st2_exits)]
    {
        if let Some(row) = a.rows().into_iter().position(|r| r.iter().any(|x| !x.is_finite())) {
            return Err(Error::Config(format!("{what} row {row} is not finite")));
        }
    }
    check_exit_identity(data, crystal, y)?;
    if config.n_train == 0 || config.n_train > n {
        return Err(Error::Config(format!(
            "the training size must be in 1..={n} (the samples in the data), got {}",
            config.n_train
        )));
    }
    if config.vacancy >= data.num_labels() {
        return Err(Error::Species(format!(
            "vacancy label {} is not one of the data's labels {}",
            config.vacancy,
            gcnet_data::label_range(data.num_labels())
        )));
    }
    // The vacancy displacement of sample 0 fixes the length scale of the data (the same
    // check as training's -a0).
    gcnet_data::check_lattice_parameter(data, crystal, config.vacancy, config.a0)
        .map_err(|e| Error::Config(e.to_string()))?;
    Ok(())
}

/// The rows of the four getY outputs must describe the data's states: s2_n is the exit of
/// s1_n by its jump J_n, and s1_n the exit of s2_n by the reverse jump, so
/// `y_st2[n] = y_st1_exits[n z + J_n]` and `y_st1[n] = y_st2_exits[n z + J'_n]` (the same
/// network on the same state; the tolerance only covers another batching of the same
/// sums). Swapped files, files of another data set or of another sample order, and sets
/// mixed from two networks all fail this; files from the published code are checked too.
fn check_exit_identity(data: &Dataset, crystal: &CrystalData, y: &RelaxationVectors) -> Result<()> {
    let z = crystal.z();
    let reverse: Vec<Option<usize>> = (0..z)
        .map(|j| {
            let dx = crystal.jump_vector(j);
            (0..z).find(|&k| crystal.jump_vector(k).iter().zip(dx.iter()).all(|(a, b)| (a + b).abs() < 1e-8))
        })
        .collect();
    let scale = [&y.st1, &y.st2].iter().flat_map(|a| a.iter()).fold(0.0f64, |m, x| m.max(x.abs()));
    let tol = 1e-8 * (1.0 + scale);
    let differ =
        |a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>| a.iter().zip(b.iter()).any(|(p, q)| (p - q).abs() > tol);
    for n in 0..data.len() {
        let j = data.jump_selects[n];
        if j < 0 || j as usize >= z {
            return Err(Error::Config(format!("JumpSelects[{n}] = {j} is not a jump of the crystal (0..{z})")));
        }
        let j = j as usize;
        let bad = if differ(y.st2.row(n), y.st1_exits.row(n * z + j)) {
            Some(format!("y_st2 row {n} differs from y_st1_exits row {} (the exit of s1 by its jump {j})", n * z + j))
        } else if let Some(r) = reverse[j]
            && differ(y.st1.row(n), y.st2_exits.row(n * z + r))
        {
            Some(format!("y_st1 row {n} differs from y_st2_exits row {} (the exit of s2 by the jump back)", n * z + r))
        } else {
            None
        };
        if let Some(what) = bad {
            return Err(Error::Config(format!(
                "the relaxation vectors do not belong together or to this data set: {what}; they must be the four \
                 outputs of one getY -aj run on this data set, in file order (no -prm), passed each as itself"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2, Array3};

    use super::SrbProblem;

    #[test]
    fn standard_error_of_the_per_sample_terms() {
        // Three samples along x; one basis vector that adds theta * 1 to the second.
        let residual = Array2::from_shape_vec((3, 3), vec![1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 0.0]).unwrap();
        let mut delta_basis = Array3::zeros((1, 3, 3));
        delta_basis[[0, 1, 0]] = 1.0;
        let p = SrbProblem {
            basis_labels: vec![0],
            expanded: 0,
            delta_basis,
            displacement: residual.clone(),
            residual,
            rates: Array1::from_elem(3, 6.0),
        };
        // Terms W |D|^2 / 6 = 1, 4, 9: mean 14/3, sample variance 49/3, s.e. 7/3.
        assert!((p.l(&[0.0], 0..3) - 14.0 / 3.0).abs() < 1e-12);
        assert!((p.l_standard_error(&[0.0], 0..3) - 7.0 / 3.0).abs() < 1e-12);
        // theta = -2 makes the second term 0: terms 1, 0, 9.
        let mean = 10.0 / 3.0;
        let var = [1.0f64, 0.0, 9.0].iter().map(|t| (t - mean).powi(2)).sum::<f64>() / 2.0;
        assert!((p.l_standard_error(&[-2.0], 0..3) - (var / 3.0).sqrt()).abs() < 1e-12);
        // A single sample has no spread to estimate.
        assert!(p.l_standard_error(&[0.0], 1..2).is_nan());
    }
}
