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

    #[error("{path}: the checkpoint does not fit this network: {source}")]
    CheckpointMismatch {
        path: PathBuf,
        #[source]
        source: StateMismatch,
    },

    #[error("the data set does not match the crystal: {0}")]
    DataMismatch(String),

    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("N_train = {n_train} with a data set of {len} samples: {reason}")]
    Split { n_train: usize, len: usize, reason: &'static str },

    #[error(transparent)]
    Objective(#[from] ObjectiveError),

    #[error(
        "module {module} is not a group-average module of the stack: use one of {} or {stack_len} (the whole stack)",
        modules.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotARepresentationModule { module: usize, modules: Vec<usize>, stack_len: usize },

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

/// How a state dict (of a network or of Adam) fails to fit what loads it.
#[derive(Debug, thiserror::Error)]
pub enum StateMismatch {
    #[error("unexpected entries {names:?} ({expected})")]
    Unexpected { names: Vec<String>, expected: String },

    #[error("missing entry `{name}` ({expected})")]
    Missing { name: String, expected: String },

    #[error("`{name}` has shape {found:?}, {expected:?} is needed")]
    Shape { name: String, found: Vec<i64>, expected: Vec<i64> },

    #[error(
        "`{name}` differs from the crystal data of this network (another crystal file, lattice parameter or symmetry setting?)"
    )]
    Differs { name: String },
}

/// What the species set and the form of y allow (SPEC section 5).
#[derive(Debug, thiserror::Error)]
pub enum ObjectiveError {
    #[error("no species to train")]
    NoSpecies,

    #[error("species label {label} is not one of the data's labels {}", gcnet_data::label_range(*num_labels))]
    UnknownLabel { label: i8, num_labels: usize },

    #[error(
        "the {} label {label} occurs on no site of the {states} training states (the labels that occur: {})",
        if *vacancy { "vacancy" } else { "species" },
        occurring.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
    )]
    AbsentLabel { label: i8, vacancy: bool, states: usize, occurring: Vec<i8> },

    #[error("the species set mixes the vacancy label {vacancy} with atom labels")]
    MixedVacancy { vacancy: i8 },

    #[error("all-jumps sampling cannot be combined with boundary training")]
    AllJumpsWithBoundary,

    #[error(
        "boundary training needs one output channel per jump: the last layer must have z = {z} channels, not {ncl}"
    )]
    BoundaryChannels { z: usize, ncl: i64 },

    #[error("tracer training is for atoms: the species set must not contain the vacancy label {vacancy}")]
    TracerWithVacancy { vacancy: i8 },
}
