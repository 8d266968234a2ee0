//! The stop on SIGINT/SIGTERM (gcnet-interrupt) in this crate's errors: a run stops with
//! [`Error::Interrupted`] once every LAMMPS process it started has ended.

use std::process::{Child, Command};

pub(crate) use gcnet_interrupt::{Group, requested};

use crate::error::{Error, Result};

/// How a stopped NEB run continues.
pub(crate) const RERUN: &str = "Rerun the same command in the same directory to continue from there";

/// Catches SIGINT and SIGTERM for the rest of the process ([`gcnet_interrupt::install`]).
pub(crate) fn install() -> Result<()> {
    gcnet_interrupt::install().map_err(|e| Error::Config(e.to_string()))
}

/// Fails with [`Error::Interrupted`] once a stop was asked for; `place` says where the
/// run stopped.
pub(crate) fn check(place: impl FnOnce() -> String) -> Result<()> {
    match requested() {
        Some(signal) => Err(Error::Interrupted { signal, place: place(), resume: RERUN }),
        None => Ok(()),
    }
}

/// Starts a LAMMPS process in a group of its own ([`gcnet_interrupt::spawn`]); refused
/// once a stop was asked for.
pub(crate) fn spawn(cmd: &mut Command, on_error: impl FnOnce(std::io::Error) -> Error) -> Result<(Child, Group)> {
    gcnet_interrupt::spawn(cmd).map_err(|e| match e {
        gcnet_interrupt::SpawnError::Stopping(signal) => {
            Error::Interrupted { signal, place: "before starting LAMMPS".into(), resume: RERUN }
        }
        gcnet_interrupt::SpawnError::Io(e) => on_error(e),
    })
}
