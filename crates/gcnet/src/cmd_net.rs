//! The published GCNetRun interface (train, eval, getY, getRep) and `gcnet bench`.
use std::ffi::OsString;
use std::process::ExitCode;

pub fn published(_args: &[OsString]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the GCNetRun interface is being built in this session")
}

pub fn bench(_args: &[OsString]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gcnet bench` is being built in this session")
}
