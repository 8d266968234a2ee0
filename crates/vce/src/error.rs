//! Errors of the vector cluster expansion: every variant that comes from a file names the
//! file and, where there is one, the dataset or the sample.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Crystal(#[from] gcnet_crystal::Error),

    #[error(transparent)]
    Data(#[from] gcnet_data::Error),

    #[error(transparent)]
    Files(#[from] gcnet_files::Error),

    /// The crystal cannot carry a cluster expansion (not one cubic Bravais lattice, a
    /// rotation that is not a lattice symmetry, ...).
    #[error("crystal {crystal}: {reason}")]
    Geometry { crystal: String, reason: String },

    /// The supercell is too small for the clusters: a cluster wraps onto itself or two
    /// clusters land on the same sites.
    #[error(
        "crystal {crystal}: the supercell is too small for clusters of up to {max_order} sites within {cutoff}: {reason}"
    )]
    SupercellTooSmall { crystal: String, max_order: usize, cutoff: f64, reason: String },

    /// A parameter of the expansion or of the solve is out of range.
    #[error("{0}")]
    Parameter(String),

    /// A sample of a data set does not fit the expansion or the crystal.
    #[error("{path}: sample {sample}: {reason}")]
    Sample { path: PathBuf, sample: usize, reason: String },

    /// A data set as a whole does not fit (labels, sizes, sample counts).
    #[error("{path}: {reason}")]
    Dataset { path: PathBuf, reason: String },

    #[error("{path}: HDF5 error while {action}: {source}")]
    Hdf5 {
        path: PathBuf,
        action: String,
        #[source]
        source: hdf5::Error,
    },

    #[error("{path}: missing dataset `{dataset}`")]
    MissingDataset { path: PathBuf, dataset: String },

    /// A saved expansion that is not one, or that belongs to another crystal or labels.
    #[error("{path}: {reason}")]
    ExpansionFile { path: PathBuf, reason: String },

    /// An error of one step of a run, with the flag and the file that step was about (the
    /// chain prints as `context: source`, as the command line always printed it).
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },
}

/// Adds the step a failure happened in ([`Error::Context`]).
pub(crate) trait Context<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Context { context: context(), source: Box::new(e.into()) })
    }
}
