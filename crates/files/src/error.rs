//! Errors of result-file handling; every variant names the file or directory.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path} already exists (nothing was written; pass --force to replace it)")]
    Exists { path: PathBuf },

    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("{dir} is in use by another run ({holder}); wait for it to finish or use another directory")]
    Locked { dir: PathBuf, holder: String },

    /// A record that is missing, unreadable or does not fit (provenance), or a result
    /// set that cannot be written as a whole.
    #[error("{path}: {reason}")]
    Record { path: PathBuf, reason: String },

    #[error("{path}: {reason}")]
    Array { path: PathBuf, reason: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, action, source }
    }
}
