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

    /// SIGINT/SIGTERM (a batch system's time limit or preemption) stopped training between
    /// two batches; `last_good` is the last checkpoint written (epoch, file), if any.
    #[error(
        "stopped by {signal} in epoch {epoch} before batch {batch}; no file is half-written; {}",
        match last_good {
            Some((k, p)) => format!("the last complete checkpoint is {} (epoch {k}): continue from it with -sep {k}, the rest of the command unchanged", p.display()),
            None => "no checkpoint was written by this run".to_string(),
        }
    )]
    Interrupted { signal: &'static str, epoch: usize, batch: usize, last_good: Option<(usize, PathBuf)> },

    #[error("{path}: tensor `{tensor}` holds NaN or infinite values; such weights are refused")]
    NonFiniteCheckpoint { path: PathBuf, tensor: String },

    #[error("{path}: Adam state {reason}")]
    AdamState { path: PathBuf, reason: String },

    #[error("these checkpoints exist and would be replaced: {}", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    WouldReplace { files: Vec<PathBuf> },

    #[error(transparent)]
    Files(#[from] gcnet_files::Error),

    #[error(transparent)]
    Data(#[from] gcnet_data::Error),

    #[error(transparent)]
    Species(#[from] gcnet_data::SpeciesError),

    /// A step of a workflow that failed, with what it was doing (as anyhow's context: the
    /// whole chain reads `{what}: {source}`).
    #[error("{what}")]
    Context {
        what: String,
        #[source]
        source: Box<Error>,
    },

    /// A refusal of a workflow, in the words of its configuration (the published flags).
    #[error("{0}")]
    Refused(String),
}

/// [`Error::Context`] on any result whose error converts into the crate's.
pub(crate) trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T>;
    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::Context { what: what.into(), source: Box::new(e.into()) })
    }

    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::Context { what: what().into(), source: Box::new(e.into()) })
    }
}

/// A refusal: `Err(Error::Refused(..))` with the message.
macro_rules! refuse {
    ($($arg:tt)*) => { return Err($crate::error::Error::Refused(format!($($arg)*))) };
}
pub(crate) use refuse;

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
    #[error("all-jumps sampling cannot be combined with boundary training")]
    AllJumpsWithBoundary,

    #[error(
        "boundary training needs one output channel per jump: the last layer must have z = {z} channels, not {ncl}"
    )]
    BoundaryChannels { z: usize, ncl: i64 },

    #[error("tracer training is for atoms: the species set must not contain the vacancy label {vacancy}")]
    TracerWithVacancy { vacancy: i8 },

    #[error(
        "one relaxation vector per label is for the atoms' labels: the vacancy's ({vacancy}) is minus their sum, \
         leave it out of the species set"
    )]
    LabelsWithVacancy { vacancy: i8 },

    #[error("one relaxation vector per label needs one output channel per label: {labels} labels, but ncL = {ncl}")]
    LabelChannels { labels: usize, ncl: i64 },

    #[error("the per-label L0 must be one positive finite number per label ({labels}), got {found:?}")]
    LabelScale { labels: usize, found: Vec<f64> },
}
