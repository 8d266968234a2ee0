//! `gcnet crystal`: write a crystal data file.
use std::ffi::OsString;
use std::process::ExitCode;

pub fn run(_args: &[OsString]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gcnet crystal` is being built in this session")
}
