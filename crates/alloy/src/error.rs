//! Errors of the alloy crate. Every variant that comes from a file names the file; every
//! variant that comes from a state or a jump names the state (its index in the initial-state
//! file) and the jump.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The command that installs the project's LAMMPS (named in every LAMMPS-not-usable error).
pub const SETUP_COMMAND: &str = "bash scripts/setup.sh";

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
    MissingDataset { path: PathBuf, dataset: String },

    #[error("{path}: dataset `{dataset}`: {reason}")]
    Dataset { path: PathBuf, dataset: String, reason: String },

    #[error(
        "LAMMPS not found (looked for {searched}); install the project's LAMMPS with `{SETUP_COMMAND}`, or name an `lmp` built with the MEAM and REPLICA packages in GCNET_LMP"
    )]
    LammpsNotFound { searched: String },

    #[error("LAMMPS at {exe} does not run ({reason}); reinstall the project's LAMMPS with `{SETUP_COMMAND}`")]
    LammpsBroken { exe: PathBuf, reason: String },

    #[error(
        "LAMMPS at {exe} lacks the {missing} package(s) (Debian's lammps has no MEAM); use the project's LAMMPS: `{SETUP_COMMAND}`"
    )]
    LammpsPackages { exe: PathBuf, missing: String },

    #[error("MPI launcher `{launcher}` not found{hint}; install the project's LAMMPS and MPICH with `{SETUP_COMMAND}`")]
    LauncherNotFound { launcher: String, hint: String },

    #[error("LAMMPS failed on {what}: {message} (files kept in {dir})")]
    Lammps { what: String, message: String, dir: PathBuf },

    #[error("{path}: {reason}")]
    Potential { path: PathBuf, reason: String },

    #[error("{path}: state {state}: {reason}")]
    State { path: PathBuf, state: usize, reason: String },

    #[error("{path}: {reason}")]
    States { path: PathBuf, reason: String },

    #[error("crystal file {crystal}: {reason}")]
    Geometry { crystal: PathBuf, reason: String },

    #[error("state {state} at step {step}: {reason}")]
    Kmc { state: usize, step: usize, reason: String },

    #[error("{path}: {reason}")]
    Resume { path: PathBuf, reason: String },

    #[error("{path}: {reason}")]
    Merge { path: PathBuf, reason: String },

    /// SIGINT/SIGTERM (a time limit, a preemption, Ctrl-C) stopped the run; `resume`
    /// says how to continue it.
    #[error(
        "stopped by {signal} {place}; every LAMMPS process it started has ended and no file is half-written. {resume}"
    )]
    Interrupted { signal: &'static str, place: String, resume: &'static str },

    #[error("{0}")]
    Config(String),

    /// An error of one input or stage of a workflow, named as the published command line
    /// names it (`-cr FILE`, `-T 1000`, `gcnet neb`): the cause follows as the source, so
    /// a front end printing the chain shows "what: cause".
    #[error("{what}")]
    In {
        what: String,
        #[source]
        source: Box<Error>,
    },
}

/// Names the input or stage an error comes from ([`Error::In`]).
pub(crate) trait Within<T> {
    fn within(self, what: impl Into<String>) -> Result<T>;
    fn within_lazy(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> Within<T> for std::result::Result<T, E> {
    fn within(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::In { what: what.into(), source: Box::new(e.into()) })
    }

    fn within_lazy(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::In { what: what(), source: Box::new(e.into()) })
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, action, source }
    }

    pub(crate) fn hdf5(path: impl Into<PathBuf>, action: impl Into<String>) -> impl Fn(hdf5::Error) -> Error {
        let path = path.into();
        let action = action.into();
        move |source| Error::Hdf5 { path: path.clone(), action: action.clone(), source }
    }
}
