//! Errors of the analysis crate. Variants carry what the user has to fix: the array and its
//! expected shape, the species label, the cause of a singular expansion.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Crystal(#[from] gcnet_crystal::Error),

    #[error("{path}: cannot {action}: {reason}")]
    File { path: PathBuf, action: &'static str, reason: String },

    #[error("{what} has shape {found:?}, expected {expected}")]
    Shape { what: String, expected: String, found: Vec<usize> },

    #[error("invalid species selection: {0}")]
    Species(String),

    #[error("{0}")]
    Config(String),

    #[error("the tracer problem needs at least 2 sites (one tracer, one vacancy), the cell has {0}")]
    CellTooSmall(usize),

    #[error("conjugate gradients did not converge in {iterations} iterations (relative residual {residual:.3e})")]
    NotConverged { iterations: usize, residual: f64 },

    #[error("the scaled residual bias matrix W is singular: {0}")]
    Singular(String),
}
