//! Transport-coefficient analysis: the scaled residual bias correction of a trained
//! network's relaxation vectors, and exact tracer correlation factors of finite cells as
//! references.
//!
//! Modules:
//! - [`tracer`]: one vacancy and one tracer on a periodic supercell; the exact
//!   finite-cell correlation factor `f_N` from the variational principle (conjugate
//!   gradients on the jump network), a multi-step KMC estimate to check it, the table of
//!   `gcnet tracer exact` ([`tracer::ExactTable`]) and the network tracer training of
//!   `gcnet tracer train` ([`tracer::TracerTraining`], through `gcnet-net`).
//! - [`srb`]: scaled residual bias (SPEC section 7): per-label basis vectors built from
//!   y of the states and of their exit states, the coefficients that minimise `L` on the
//!   training samples, and `L[y]` beside the corrected `L` on training and validation
//!   samples; [`srb::SrbRun`] is the whole `gcnet srb` (files read and checked, report
//!   written).
//!
//! Both take the crystal as [`gcnet_crystal::CrystalData`]; the scaled residual bias takes
//! the data set as an in-memory [`gcnet_data::Dataset`] and y as arrays.
//!
//! ```
//! use gcnet_crystal::{CellKind, LatticeKind};
//! use gcnet_srb::tracer::exact_tracer_correlation_cube;
//!
//! let fcc = exact_tracer_correlation_cube(LatticeKind::Fcc, CellKind::Primitive, 6).unwrap();
//! assert_eq!(fcc.num_sites, 216);
//! assert!((fcc.f - LatticeKind::Fcc.tracer_correlation_factor()).abs() < 0.01);
//! ```

// `deny`, not `forbid`: ndarray's `s!` macro expands to an `#[allow(unsafe_code)]` of its own.
#![deny(unsafe_code)]

mod error;
pub mod onsager;
pub mod srb;
pub mod tracer;

pub use error::{Error, Result};
pub use srb::{
    RelaxationVectors, SampleSetEstimate, SingularPolicy, SrbConfig, SrbProblem, SrbReport, scaled_residual_bias,
};
pub use tracer::{TracerCorrelation, exact_tracer_correlation, exact_tracer_correlation_cube};
