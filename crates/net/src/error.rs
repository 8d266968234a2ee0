//! Errors of the network crate: every variant that comes from a file names the file.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Torch(#[from] tch::TchError),

    #[error(transparent)]
    Crystal(#[from] gcnet_crystal::Error),

    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: not a readable PyTorch checkpoint: {reason}")]
    Checkpoint { path: PathBuf, reason: String },

    #[error("{path}: the checkpoint does not fit this network: {reason}")]
    CheckpointMismatch { path: PathBuf, reason: String },

    #[error("the data set does not match the crystal: {0}")]
    DataMismatch(String),

    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("training loss is {loss} (not finite) in epoch {epoch}, batch {batch}; training stopped")]
    NonFiniteLoss { epoch: usize, batch: usize, loss: f64 },

    #[error("the Adam step of epoch {epoch}, batch {batch} made the weights non-finite (learning rate too large?)")]
    NonFiniteWeights { epoch: usize, batch: usize },

    #[error("{source}; the last good checkpoint is {}", last_good.as_ref().map_or("none (no checkpoint was written)".to_string(), |p| p.display().to_string()))]
    TrainingStopped { source: Box<Error>, last_good: Option<PathBuf> },

    #[error("{path}: tensor `{tensor}` holds NaN or infinite values; such weights are refused")]
    NonFiniteCheckpoint { path: PathBuf, tensor: String },

    #[error("{path}: Adam state {reason}")]
    AdamState { path: PathBuf, reason: String },

    #[error("these checkpoints exist and would be replaced: {}", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    WouldReplace { files: Vec<PathBuf> },

    #[error(transparent)]
    Files(#[from] gcnet_files::Error),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, action, source }
    }
}
