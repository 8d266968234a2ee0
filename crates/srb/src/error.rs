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

    #[error(transparent)]
    Data(#[from] gcnet_data::Error),

    #[error(transparent)]
    Files(#[from] gcnet_files::Error),

    #[error(transparent)]
    Net(#[from] gcnet_net::Error),

    #[error(transparent)]
    Vce(#[from] gcnet_vce::Error),

    /// A step of a workflow that failed, with what it was doing (the chain reads
    /// `{what}: {source}`, as anyhow's context).
    #[error("{what}")]
    Context {
        what: String,
        #[source]
        source: Box<Error>,
    },
}

/// [`Error::Context`] on any result whose error converts into the crate's.
pub(crate) trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::Context { what: what.into(), source: Box::new(e.into()) })
    }
}
