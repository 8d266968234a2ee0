//! Scaled residual bias correction (SPEC section 7): given y for every state and every
//! exit state, expand the residual in per-label basis vectors, fit the coefficients on the
//! training samples and report `L[y]` beside `L[y + theta.B]`.
//!
//! Layers: [`SpeciesSet`] (S, v, the expanded label) -> [`basis`] vectors of a set of
//! states -> [`SrbProblem`] (basis changes and residuals of a data set) -> [`expansion`]
//! (W, b, theta, corrected L) -> [`scaled_residual_bias`], the whole computation ->
//! [`files`] (getY `.npz` inputs, the report file).
//!
//! Singular W: with y = 0 the biases of all labels sum to zero (the vacancy's displacement
//! balances the exchanged atom's), and with one fixed rate per species the atoms' biases
//! obey `sum_sp B_sp / rate_sp = 0`; a label absent from the training states has a basis
//! vector that never changes. [`SingularPolicy::Refuse`] (default) stops with a message
//! naming the labels involved; leave a label out with [`SrbConfig::basis_labels`] or use
//! [`SingularPolicy::Truncate`].
//!
//! ```
//! use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
//! use gcnet_data::{Composition, LatticeGas, RateModel};
//! use gcnet_srb::{RelaxationVectors, SingularPolicy, SrbConfig, scaled_residual_bias};
//!
//! let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
//! let mut gas = LatticeGas::fixed(vec![1.0, 1.0], Composition::Counts(vec![40, 23]));
//! gas.rates = RateModel::Random { mean: vec![0.0, 0.5], width: vec![1.0, 1.0], seed: 1 };
//! let data = gas.generate(&crystal, 200, 7).unwrap();
//! // y = 0: the residual basis is the plain bias basis; the vacancy's bias is minus the sum
//! // of the atoms', so it is left out of the basis.
//! let y = RelaxationVectors::zeros(data.len(), crystal.z());
//! let config = SrbConfig {
//!     species: vec![1],
//!     vacancy: 2,
//!     a0: 1.0,
//!     n_train: 150,
//!     basis_labels: Some(vec![0, 1]),
//!     max_condition: 1e10,
//!     singular: SingularPolicy::Refuse,
//! };
//! let report = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
//! assert!(report.train.l_srb < report.train.l_y);
//! println!("theta = {:?}, validation L: {:?}", report.coefficients.theta, report.validation);
//! ```

pub mod basis;
pub(crate) mod eigen;
pub mod expansion;
pub mod files;
mod problem;
mod report;
pub mod run;

pub use expansion::{Coefficients, Expansion, SingularPolicy};
pub use gcnet_data::SpeciesSet;
pub use problem::{DEFAULT_MAX_CONDITION, SrbConfig, SrbProblem};
pub use report::{SampleSetEstimate, SrbReport, scaled_residual_bias};
pub use run::{SrbRun, parse_species};

use ndarray::Array2;

/// The relaxation vectors getY writes (SPEC section 6), lattice-parameter units of the data.
#[derive(Clone, Debug, PartialEq)]
pub struct RelaxationVectors {
    /// `y(s1_n)` (N, 3).
    pub st1: Array2<f64>,
    /// `y(s2_n)` (N, 3).
    pub st2: Array2<f64>,
    /// `y` of the state reached from `s1_n` by jump j, row `n*z + j` (N*z, 3).
    pub st1_exits: Array2<f64>,
    /// The same for `s2_n` (N*z, 3).
    pub st2_exits: Array2<f64>,
}

impl RelaxationVectors {
    /// y = 0 everywhere: the residual basis becomes the plain bias basis.
    pub fn zeros(num_samples: usize, z: usize) -> Self {
        RelaxationVectors {
            st1: Array2::zeros((num_samples, 3)),
            st2: Array2::zeros((num_samples, 3)),
            st1_exits: Array2::zeros((num_samples * z, 3)),
            st2_exits: Array2::zeros((num_samples * z, 3)),
        }
    }
}
