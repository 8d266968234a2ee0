//! Data-set subcommands: latgas, check, kmc, describe, bench-data.
use std::ffi::OsString;
use std::process::ExitCode;

pub fn run(sub: &str, _args: &[OsString]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gcnet {sub}` is being built in this session")
}
