//! Errors of the data-set crate: every variant that comes from a file names the file and,
//! where there is one, the dataset.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Crystal(#[from] gcnet_crystal::Error),

    #[error(transparent)]
    Files(#[from] gcnet_files::Error),

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
    Shape { path: PathBuf, dataset: String, expected: String, found: Vec<usize> },

    #[error("{path}: dataset `{dataset}`: {reason}")]
    Invalid { path: PathBuf, dataset: String, reason: String },

    #[error("data set {data} does not match crystal file {crystal}: {reason}")]
    CrystalMismatch { data: PathBuf, crystal: PathBuf, reason: String },

    #[error("{path} already exists (pass --force to overwrite)")]
    Exists { path: PathBuf },

    #[error("{0}")]
    Config(String),
}
