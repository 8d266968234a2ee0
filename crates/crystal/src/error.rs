//! Errors of the crystal crate: every variant that comes from a file names the file and,
//! where there is one, the dataset.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("supercell matrix {matrix:?} is singular (determinant 0)")]
    SingularSupercell { matrix: [[i64; 3]; 3] },

    #[error("supercell size must be at least 1, got {0}")]
    EmptySupercell(usize),

    #[error("{what} is not a permutation: {reason}")]
    NotAPermutation { what: String, reason: String },

    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: HDF5 error while {action}: {source}")]
    Hdf5 {
        path: PathBuf,
        action: String,
        #[source]
        source: hdf5::Error,
    },

    #[error("{path}: missing dataset `{dataset}`")]
    MissingDataset { path: PathBuf, dataset: &'static str },

    #[error("{path}: dataset `{dataset}` has shape {found:?}, expected {expected}")]
    Shape { path: PathBuf, dataset: &'static str, expected: String, found: Vec<usize> },

    #[error("{path}: dataset `{dataset}`: {reason}")]
    Invalid { path: PathBuf, dataset: &'static str, reason: String },

    #[error("{path} already exists (pass --force to overwrite)")]
    Exists { path: PathBuf },

    #[error(transparent)]
    Files(#[from] gcnet_files::Error),

    #[error("unknown {what} `{name}` (expected {expected})")]
    UnknownName { what: &'static str, name: String, expected: &'static str },
}
